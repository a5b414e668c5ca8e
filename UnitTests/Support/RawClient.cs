using System.Net;
using System.Net.Sockets;
using System.Text;
using PollChat.Common.Framing;
using PollChat.Common.Protocol;

namespace PollChat.Tests.Support;

/// <summary>
/// A test peer speaking raw frames over a real loopback socket. Reads wait with a timeout on
/// what the server actually sends; nothing here sleeps.
/// </summary>
internal sealed class RawClient : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly FrameReader _reader = new();
    private readonly List<string> _transcript = [];

    private RawClient(Socket socket) => _socket = socket;

    public IReadOnlyList<string> Transcript => _transcript;

    public static RawClient Connect(IPEndPoint server, int? receiveBufferSize = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBufferSize is { } size)
        {
            socket.ReceiveBufferSize = size; // Before connecting, so the advertised window is small too.
        }

        socket.Connect(server);
        return new RawClient(socket);
    }

    /// <summary>Connects, sends the name and waits for the server's welcome.</summary>
    public static RawClient Join(IPEndPoint server, string name)
    {
        RawClient client = Connect(server);
        client.Send(name);
        client.ReadUntil(p => p.Sender == ServerSender.Name && p.Text.StartsWith("Welcome", StringComparison.Ordinal));
        return client;
    }

    public void Send(string payload) => SendBytes(Frame.Encode(payload));

    public void SendBytes(ReadOnlySpan<byte> bytes) => _socket.Send(bytes);

    /// <summary>Reads the next [sender][message] pair; throws on timeout or end of stream.</summary>
    public (string Sender, string Text) ReadPair(TimeSpan? timeout = null)
    {
        string sender = ReadFrame(timeout ?? DefaultTimeout) ?? throw EndOfStream();
        string text = ReadFrame(timeout ?? DefaultTimeout) ?? throw EndOfStream();
        _transcript.Add($"{sender} > {text}");
        return (sender, text);
    }

    /// <summary>Reads pairs until one matches; the ones before it are kept in the transcript.</summary>
    public (string Sender, string Text) ReadUntil(Func<(string Sender, string Text), bool> match, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException("No matching pair. Received:\n" + string.Join("\n", _transcript));
            }

            (string, string) pair = ReadPair(left);
            if (match(pair))
            {
                return pair;
            }
        }
    }

    public (string Sender, string Text) ReadNotice(string startsWith, TimeSpan? timeout = null) =>
        ReadUntil(p => p.Sender == ServerSender.Name && p.Text.StartsWith(startsWith, StringComparison.Ordinal), timeout);

    /// <summary>Reads (and keeps) pairs until the server ends the stream; false if it did not within the timeout.</summary>
    public bool WaitForEndOfStream(TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        try
        {
            while (DateTime.UtcNow < deadline)
            {
                ReadPair(deadline - DateTime.UtcNow);
            }
        }
        catch (EndOfStreamException)
        {
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }

        return false;
    }

    /// <summary>Closes with a TCP reset, as a crashed peer or a pulled cable looks to the server.</summary>
    public void Abort()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public void Dispose() => _socket.Dispose();

    private string? ReadFrame(TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_reader.TryRead(ProtocolLimits.MaxFrameFromServerBytes, out ReadOnlySpan<byte> payload, out FrameError error, out _) == FrameReadStatus.Frame)
            {
                return Encoding.UTF8.GetString(payload);
            }

            if (error != FrameError.None)
            {
                throw new InvalidDataException($"The server sent an invalid frame: {error}");
            }

            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !_socket.Poll(left, SelectMode.SelectRead))
            {
                throw new TimeoutException("Nothing received in time. Received:\n" + string.Join("\n", _transcript));
            }

            int received;
            try
            {
                received = _socket.Receive(_reader.GetReceiveSpan());
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                return null;
            }

            if (received == 0)
            {
                return null;
            }

            _reader.CommitReceived(received);
        }
    }

    private EndOfStreamException EndOfStream() =>
        new("The server closed the connection. Received:\n" + string.Join("\n", _transcript));
}
