using System.Net;
using PollChat.Common.Framing;
using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>The loop outlives whatever one connection sends it: found crashes stay fixed, and an unknown one costs only its sender.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class LoopSurvivalTests
{
    /// <summary>How many rooms the server keeps histories for before letting the quietest go (ChatServer.MaxHistoriesKept).</summary>
    private const int HistoriesKept = 1000;

    [Test]
    public void A_thousand_rooms_in_use_at_once_crash_nothing_and_every_joiner_gets_its_room()
    {
        using var server = TestServer.Start(new ServerOptions { MaxClients = HistoriesKept + 50 });
        using var lobby = RawClient.Join(server.EndPoint, "witness");
        var joiners = new List<RawClient>();
        try
        {
            for (int i = 1; i <= HistoriesKept; i++)
            {
                // Twenty per source address, so a per-address connection limit does not turn this into a different test.
                RawClient joiner = RawClient.Connect(server.EndPoint, from: IPAddress.Parse($"127.0.1.{2 + (i / 20)}")); // Its own range: other tests filter logs by the 127.0.0.x address they use.
                joiner.SendBytes([.. Frame.Encode($"r{i}"), .. Frame.Encode($"/join #room{i}")]);
                joiners.Add(joiner);
            }

            for (int i = 0; i < joiners.Count; i++)
            {
                (_, string text) = joiners[i].ReadNotice("You are now in");
                Assert.That(text, Does.StartWith($"You are now in #room{i + 1} "), $"joiner r{i + 1}");
            }

            // Every one of those rooms is in use, so each kept history belongs to a room; one more room must still work.
            using RawClient late = RawClient.Join(server.EndPoint, "late");
            late.Send("/join #one-more");
            late.ReadNotice("You are now in #one-more");
            late.Send("/join #lobby");
            late.ReadNotice("You are now in #lobby");
            late.Send("still alive");
            Assert.That(lobby.ReadUntil(p => p.Sender == "late"), Is.EqualTo(("late", "still alive")));
            Assert.That(server.Operator("/stats").Single(), Does.Contain(" handler_failures=0"));
        }
        finally
        {
            foreach (RawClient joiner in joiners)
            {
                joiner.Dispose();
            }
        }
    }

    [Test]
    public void A_failing_handler_drops_only_its_connection_and_logs_its_stack_once()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        // No input is known to make a handler throw (that is the point), so the test makes one throw:
        // a posted result that fails, as a worker's might, and then a connection whose handling fails.
        chat.Server.Post(() => throw new InvalidOperationException("posted failure for the test"));
        using RawClient victim = RawClient.Join(chat.EndPoint, "victim");
        chat.Server.FailNextHandlingOf("victim");
        victim.Send("this makes the handler throw");
        (_, string notice) = victim.ReadNotice("The server failed");
        Assert.That(notice, Is.EqualTo(Notices.ServerError));
        Assert.That(victim.WaitForEndOfStream(), Is.True, "the failed connection is closed");

        using RawClient second = RawClient.Join(chat.EndPoint, "second");
        chat.Server.FailNextHandlingOf("second");
        second.Send("and again");
        Assert.That(second.WaitForEndOfStream(), Is.True);

        alice.Send("the chat goes on");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice"), Is.EqualTo(("alice", "the chat goes on")));
        Assert.Multiple(() =>
        {
            Assert.That(chat.Server.Operator("/stats").Single(), Does.Contain(" handler_failures=3"));
            Assert.That(LogCapture.Lines.Count(l => l.Contains("handling its input failed", StringComparison.Ordinal) && l.Contains("victim", StringComparison.Ordinal)), Is.EqualTo(1), "the first failure of its kind, with its stack");
            Assert.That(LogCapture.Lines.Count(l => l.Contains("handling its input failed", StringComparison.Ordinal) && l.Contains("second", StringComparison.Ordinal)), Is.EqualTo(0), "a repeat only counts");
            Assert.That(LogCapture.Lines.Count(l => l.Contains("second from", StringComparison.Ordinal) && l.Contains("closed: ServerError", StringComparison.Ordinal)), Is.EqualTo(1), "its close line says why");
        });
    }
}
