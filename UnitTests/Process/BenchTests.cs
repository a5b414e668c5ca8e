using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PollChat.Common.Framing;
using PollChat.Tests.Support;

namespace PollChat.Tests.Process;

/// <summary>PollBench as CI runs it: a small fan-out that must deliver everything in order, and proof that its checks catch disorder.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class BenchTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    [Test]
    public void A_small_fan_out_through_PollServer_loses_and_reorders_nothing()
    {
        using var server = TestServer.Start(new PollChat.Server.ServerOptions { MessagesPerSecond = 0, BytesPerSecond = 0 }); // A benchmark floods by design.

        using RunningProcess bench = RunningProcess.Bench("--port", Port(server.EndPoint), "--clients", "20", "--senders", "5", "--count", "1000");

        Assert.That(bench.WaitForExit(RunTimeout), Is.Zero, bench.Transcript);
        Assert.That(bench.Transcript, Does.Contain("deliveries=95000 "));
        Assert.That(bench.Transcript, Does.Contain("lost=0 duplicated=0 out_of_order=0 ok=1"));
    }

    [Test]
    public void PollBench_fails_a_server_that_swaps_two_messages()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        Task relay = Task.Run(() => SwappingServer(listener));

        using RunningProcess bench = RunningProcess.Bench("--port", Port((IPEndPoint)listener.LocalEndPoint!), "--clients", "2", "--senders", "1", "--count", "3", "--window", "3");

        Assert.That(bench.WaitForExit(RunTimeout), Is.EqualTo(1), bench.Transcript);
        Assert.That(bench.Transcript, Does.Contain("out_of_order=2 ok=0"));
        Assert.That(relay.Wait(RunTimeout), Is.True);
    }

    /// <summary>A classic server that welcomes two members, then relays member 0's three messages to member 1 as 1, 0, 2.</summary>
    private static void SwappingServer(Socket listener)
    {
        using Socket first = listener.Accept();
        using Socket second = listener.Accept();
        var members = new Dictionary<string, Socket>();
        foreach (Socket member in new[] { first, second })
        {
            string name = System.Text.Encoding.UTF8.GetString(ReadFrame(member));
            members[name] = member;
            member.Send(Frame.EncodePair("*server*", $"Welcome, {name}!"));
        }

        byte[][] messages = [ReadFrame(members["b0"]), ReadFrame(members["b0"]), ReadFrame(members["b0"])];
        foreach (int i in new[] { 1, 0, 2 })
        {
            members["b1"].Send([.. Frame.Encode("b0"), .. Frame.Encode((ReadOnlySpan<byte>)messages[i])]);
        }

        // Wait for PollBench to hang up, so the test ends on its verdict rather than on a reset.
        members["b1"].ReceiveTimeout = 30_000;
        while (members["b1"].Receive(new byte[256]) > 0)
        {
        }
    }

    private static byte[] ReadFrame(Socket socket)
    {
        var reader = new FrameReader();
        var one = new byte[1];
        while (true)
        {
            if (reader.TryRead(1 << 20, out ReadOnlySpan<byte> payload, out _, out _) == FrameReadStatus.Frame)
            {
                return payload.ToArray();
            }

            // One byte at a time, so nothing after this frame is taken from the socket.
            if (socket.Receive(one) == 0)
            {
                throw new EndOfStreamException();
            }

            reader.Append(one);
        }
    }

    private static string Port(IPEndPoint endPoint) => endPoint.Port.ToString(CultureInfo.InvariantCulture);
}
