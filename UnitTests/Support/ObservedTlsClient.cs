using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using PollChat.Common.Framing;
using PollChat.Common.Net;

namespace PollChat.Tests.Support;

/// <summary>
/// A TLS client that can tell how the server ended the session. It is .NET's SslStream inside a
/// <see cref="TlsChannel"/>, fed by hand from a blocking socket: the socket's end is never passed
/// to it, so the session reports the peer closed only for a close_notify, and a bare FIN shows
/// as the socket ending while the session is still open.
/// </summary>
internal sealed class ObservedTlsClient : IDisposable
{
    private readonly Socket _socket;
    private readonly TlsChannel _tls;
    private readonly FrameReader _frames = new();
    private readonly byte[] _received = new byte[16 * 1024];

    private ObservedTlsClient(Socket socket, TlsChannel tls)
    {
        _socket = socket;
        _tls = tls;
    }

    public enum Ending
    {
        /// <summary>The server's close_notify ended the session.</summary>
        CloseNotify,

        /// <summary>The socket ended (FIN or reset) without a close_notify.</summary>
        EndOfStream,
    }

    /// <summary>Connects, completes the handshake, sends the name and reads until the welcome.</summary>
    public static ObservedTlsClient Join(IPEndPoint server, string name)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = (int)RawClient.DefaultTimeout.TotalMilliseconds };
        socket.Connect(server);
        var client = new ObservedTlsClient(socket, TlsChannel.ForClient(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null, // The test server's own, self-signed.
        }));
        DateTime deadline = DateTime.UtcNow + RawClient.DefaultTimeout;
        while (!client._tls.IsOpen)
        {
            client.SendPending();
            if (DateTime.UtcNow > deadline || client._tls.Failure is not null)
            {
                throw new IOException($"the handshake did not finish ({client._tls.Failure?.Message ?? "timed out"}; {client._tls.CallsOffOwnerThread} calls off this thread)");
            }

            if (socket.Poll(TimeSpan.FromMilliseconds(50), SelectMode.SelectRead) && !client.ReceiveOnce())
            {
                throw new EndOfStreamException("closed during the handshake");
            }
        }

        client.Send(Frame.Encode(name));
        while (!client.NextFrames().Any(text => text.StartsWith("Welcome", StringComparison.Ordinal)))
        {
            if (!client.ReceiveOnce())
            {
                throw new EndOfStreamException("closed before the welcome");
            }
        }

        return client;
    }

    public void Send(ReadOnlySpan<byte> plaintext)
    {
        _tls.Write(plaintext);
        SendPending();
    }

    /// <summary>Sends this side's close_notify.</summary>
    public void SendCloseNotify()
    {
        _tls.Shutdown();
        SendPending();
    }

    /// <summary>
    /// Reads and drops whatever comes until the socket ends, then says whether the session saw a
    /// close_notify in what came. Off the server's loop, SslStream's continuations may run on the
    /// thread pool, so the session is given a moment to finish with the last bytes fed to it.
    /// </summary>
    public Ending ReadToEnd()
    {
        while (ReceiveOnce())
        {
            _ = NextFrames(); // Read to make the session look at every record; the text is not wanted.
        }

        bool closeNotify = SpinWait.SpinUntil(() => NextFrames() is not null && _tls.PeerClosed, RawClient.DefaultTimeout);
        return closeNotify ? Ending.CloseNotify : Ending.EndOfStream;
    }

    public void Dispose()
    {
        _tls.Dispose();
        _socket.Dispose();
    }

    private void SendPending()
    {
        _socket.Send(_tls.CipherPending);
        _tls.ConsumeCipher(_tls.CipherPending.Length);
    }

    /// <summary>One receive from the socket into the session; false at the socket's end (FIN or reset).</summary>
    private bool ReceiveOnce()
    {
        int read;
        try
        {
            read = _socket.Receive(_received);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return false;
        }

        if (read == 0)
        {
            return false;
        }

        _tls.Feed(_received.AsSpan(0, read));
        SendPending(); // Anything the session answers (a key update, its own close_notify).
        return true;
    }

    /// <summary>The frames decrypted so far, as text.</summary>
    private List<string> NextFrames()
    {
        var texts = new List<string>();
        while (_tls.TryReadPlaintext(out ReadOnlySpan<byte> plaintext))
        {
            _frames.Append(plaintext);
            while (_frames.TryRead(int.MaxValue, out ReadOnlySpan<byte> payload, out _, out _) == FrameReadStatus.Frame)
            {
                texts.Add(System.Text.Encoding.UTF8.GetString(payload));
            }
        }

        return texts;
    }
}
