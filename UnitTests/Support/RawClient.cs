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
    private readonly System.Net.Security.SslStream? _tls;
    private readonly FrameReader _reader = new();
    private readonly List<string> _transcript = [];

    private RawClient(Socket socket, System.Net.Security.SslStream? tls = null)
    {
        _socket = socket;
        _tls = tls;
    }

    /// <summary>For a TLS client: the server certificate's SHA-256 fingerprint, as PollServer logs it.</summary>
    public string? ServerFingerprint { get; private init; }

    /// <summary>Connects with TLS (.NET's own client, blocking), accepting whatever certificate the server shows; the test checks its fingerprint.</summary>
    public static RawClient ConnectTls(IPEndPoint server, IPAddress? source = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (source is not null)
        {
            socket.Bind(new IPEndPoint(source, 0)); // Another 127.0.0.x: another address to the server's per-address limits.
        }

        socket.Connect(server);
        var tls = new System.Net.Security.SslStream(new NetworkStream(socket, ownsSocket: false));
        string? fingerprint = null;
        tls.AuthenticateAsClient(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                fingerprint = certificate is null ? null : PollChat.Common.Net.CertificateFingerprint.Of(certificate);
                return certificate is not null;
            },
        });
        return new RawClient(socket, tls) { ServerFingerprint = fingerprint };
    }

    public IReadOnlyList<string> Transcript => _transcript;

    /// <summary>Bytes received so far (plaintext for TLS).</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Whether the stream ended with a TCP reset rather than the server's FIN.</summary>
    public bool EndedWithReset { get; private set; }

    /// <summary>Connects, from <paramref name="from"/> when given (another 127.0.0.x, for per-address behaviour).</summary>
    public static RawClient Connect(IPEndPoint server, int? receiveBufferSize = null, IPAddress? from = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBufferSize is { } size)
        {
            socket.ReceiveBufferSize = size; // Before connecting, so the advertised window is small too.
        }

        if (from is not null)
        {
            socket.Bind(new IPEndPoint(from, 0));
        }

        socket.Connect(server);
        return new RawClient(socket);
    }

    /// <summary>Connects (from <paramref name="from"/> if given), sends the name and waits for the server's welcome.</summary>
    public static RawClient Join(IPEndPoint server, string name, IPAddress? from = null)
    {
        RawClient client = Connect(server, from: from);
        client.Send(name);
        client.ReadUntil(p => p.Sender == ServerSender.Name && p.Text.StartsWith("Welcome", StringComparison.Ordinal));
        return client;
    }

    public void Send(string payload) => SendBytes(Frame.Encode(payload));

    public void SendBytes(ReadOnlySpan<byte> bytes)
    {
        if (_tls is not null)
        {
            _tls.Write(bytes);
        }
        else
        {
            _socket.Send(bytes);
        }
    }

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

    public void Dispose()
    {
        _tls?.Dispose();
        _socket.Dispose();
    }

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
            if (left <= TimeSpan.Zero || (_tls is null && !_socket.Poll(left, SelectMode.SelectRead)))
            {
                throw new TimeoutException("Nothing received in time. Received:\n" + string.Join("\n", _transcript));
            }

            int received;
            try
            {
                received = _tls is null ? _socket.Receive(_reader.GetReceiveSpan()) : ReadTls(left);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                EndedWithReset = true;
                return null;
            }

            if (received == 0)
            {
                return null;
            }

            BytesReceived += received;
            _reader.CommitReceived(received);
        }
    }

    private int ReadTls(TimeSpan timeout)
    {
        _tls!.ReadTimeout = Math.Max(1, (int)timeout.TotalMilliseconds);
        try
        {
            return _tls.Read(_reader.GetReceiveSpan());
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
        {
            throw new TimeoutException("Nothing received in time. Received:\n" + string.Join("\n", _transcript), e);
        }
        catch (IOException)
        {
            return 0; // Reset or TLS torn down: the end of the stream, for the test.
        }
    }

    private EndOfStreamException EndOfStream() =>
        new("The server closed the connection. Received:\n" + string.Join("\n", _transcript));
}
