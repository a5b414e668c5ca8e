using System.Net.Sockets;
using PollChat.Common.Framing;

namespace PollChat.Server.Loop;

/// <summary>
/// One client's transport: its socket, TLS both ways, the bytes it sent that are not yet a frame,
/// the bytes waiting to go to it, its byte and message budgets, and how it closes. Only the loop
/// thread touches it. It knows nothing of names, rooms or commands: the chat keeps those in its
/// own object for the connection (<see cref="Session"/>), which the loop never looks into.
/// </summary>
internal sealed class ClientConnection
{
    public ClientConnection(Socket socket, long id, long now, long nameDeadline, OutputMemory outputMemory)
    {
        Socket = socket;
        Outbound = new OutboundBuffer(outputMemory);
        Id = id;
        Endpoint = socket.RemoteEndPoint?.ToString() ?? "unknown";
        Address = (socket.RemoteEndPoint as System.Net.IPEndPoint)?.Address.ToString() ?? "unknown";
        NameDeadline = nameDeadline;
        AcceptedAt = now;
    }

    /// <summary>The chat's own state for this connection (who it is, where it is), set by the chat when it is accepted; the loop only carries it.</summary>
    public object? Session { get; set; }

    /// <summary>Who the connection says it is, for log lines only; set by the chat once a name is accepted.</summary>
    public string? Name { get; set; }

    /// <summary>When, in loop milliseconds, the connection was accepted.</summary>
    public long AcceptedAt { get; }

    /// <summary>Whether its first frame (the name) has been handed to the chat: until then the name deadline runs, the frame limit is a name's, and the message rate does not apply.</summary>
    public bool NameReceived { get; set; }

    /// <summary>Marked for close: flushing a last notice, then waiting briefly for the peer's FIN. Nothing more it sends is handled.</summary>
    public bool IsClosing => CloseReason is not null;

    /// <summary>Non-blocking; disposed only by the loop's close phase.</summary>
    public Socket Socket { get; }

    /// <summary>Connection number since start, for logs: endpoints are reused, ids are not.</summary>
    public long Id { get; }

    /// <summary>The peer's address and port, captured once: after a reset the socket can no longer tell.</summary>
    public string Endpoint { get; }

    /// <summary>The peer's address without the port: what bans match and logs show.</summary>
    public string Address { get; }

    /// <summary>The address as the per-address limits and the login throttle count it: the IPv4 address, or the IPv6 /64 (see <see cref="AddressLimits.KeyOf(System.Net.IPAddress)"/>).</summary>
    public string AddressKey { get; init; } = "unknown";

    /// <summary>Whether the connection is counted in its address's connections, to be released once when it is removed.</summary>
    public bool CountedAtAddress { get; set; }

    /// <summary>The part of a frame that arrived without its end; whole frames never pass through it.</summary>
    public FrameReader Inbound { get; } = new();

    /// <summary>Bytes queued for this client and not yet accepted by its socket (plaintext, for a TLS client: encrypted as the socket takes them).</summary>
    public OutboundBuffer Outbound { get; }

    /// <summary>The TLS session of a client that came in on the TLS listener; null for a plain one.</summary>
    public PollChat.Common.Net.TlsChannel? Tls { get; init; }

    /// <summary>Whether anything waits to be sent: queued plaintext, or ciphertext (handshake messages, records).</summary>
    public bool HasPendingOutput => Outbound.HasPending || (Tls is not null && !Tls.CipherPending.IsEmpty);

    /// <summary>The message rate limit's state; a field, not a property, because it is a mutable struct.</summary>
    public RateLimiter Rate;

    /// <summary>The byte rate limit's state, a mutable struct field like <see cref="Rate"/>.</summary>
    public ByteBudget Bytes;

    /// <summary>While later than now (loop milliseconds), the socket is left out of the read list: the client sent faster than the byte rate or the message rate. Not 0 exactly while a resume is due in the loop's timers.</summary>
    public long ReadsPausedUntil { get; set; }

    /// <summary>Whether reads were ever paused, so the log says it once per connection, not once per pause.</summary>
    public bool WasEverPaused { get; set; }

    /// <summary>
    /// Whole frames wait unread in <see cref="Inbound"/> because the message rate ran out (fakelag).
    /// While set, the socket is not read at all (TCP holds the rest); the loop's timer hands the
    /// waiting frames on as the rate allows, and clears this once none is left.
    /// </summary>
    public bool HeldBack { get; set; }

    /// <summary>Whether it was ever held back, so the log says it once per connection.</summary>
    public bool WasEverHeldBack { get; set; }

    /// <summary>When, in loop milliseconds, the current hold began; a sender held back continuously past the flood timeout is dropped.</summary>
    public long HeldBackSince { get; set; }

    /// <summary>When, in loop milliseconds, the frame still unfinished began arriving; 0 while no frame is half-read.</summary>
    public long UnfinishedFrameSince { get; set; }

    /// <summary>When, in loop milliseconds, an unnamed connection is given up on.</summary>
    public long NameDeadline { get; }

    /// <summary>When, in loop milliseconds, a closing connection is closed whether or not its goodbye got out.</summary>
    public long CloseDeadline { get; private set; }

    public CloseReason? CloseReason { get; private set; }

    /// <summary>Set once the socket says the peer closed or failed: nothing more can be sent.</summary>
    public bool PeerGone { get; set; }

    /// <summary>
    /// Dropped for not reading: its output was thrown away, nothing more is queued or sent (a frame
    /// cut short is never followed by another), and the close is a reset, so the kernel does not
    /// go on feeding its send buffer to a peer that does not read.
    /// </summary>
    public bool Aborted { get; private set; }

    /// <summary>Our FIN was sent after the last queued byte; from then on only the peer's FIN is awaited.</summary>
    public bool SentFin { get; private set; }

    /// <summary>Whether <see cref="Connections"/> currently lists this client as having pending output.</summary>
    public bool InPendingList { get; set; }

    /// <summary>Position in <see cref="Connections.All"/>, for removal without a search.</summary>
    public int Index { get; set; }

    public bool IsDisposed { get; private set; }

    /// <summary>Starts closing; returns false if already closing, so the caller logs and announces only once.</summary>
    public bool MarkClosing(CloseReason reason, long closeDeadline)
    {
        if (IsClosing)
        {
            return false;
        }

        CloseReason = reason;
        CloseDeadline = closeDeadline;
        return true;
    }

    /// <summary>Receives once into the loop's shared buffer. Returns the byte count; 0 with <paramref name="error"/> set when nothing was read.</summary>
    public int Receive(Span<byte> sharedBuffer, out SocketError error)
    {
        int received = Socket.Receive(sharedBuffer, SocketFlags.None, out error);
        return error == SocketError.Success ? received : 0;
    }

    /// <summary>
    /// Hands ciphertext from the socket to the TLS session; its plaintext is then read with the
    /// session's <c>TryReadPlaintext</c>. Returns the Stopwatch ticks spent if the session was
    /// still handshaking (what a handshake costs the loop), else 0, and whether it finished it.
    /// </summary>
    public long Decrypt(ReadOnlySpan<byte> cipher, out bool handshakeDone)
    {
        handshakeDone = false;
        if (!Tls!.IsHandshaking)
        {
            Tls.Feed(cipher);
            return 0;
        }

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        Tls.Feed(cipher);
        handshakeDone = Tls.IsOpen;
        return System.Diagnostics.Stopwatch.GetTimestamp() - started;
    }

    /// <summary>Sends pending output until the socket would block. Returns <see cref="SocketError.Success"/> or the error that stopped it, and the bytes that went out.</summary>
    public SocketError Flush(out int bytesSent)
    {
        bytesSent = 0;
        if (Tls is null)
        {
            while (Outbound.HasPending)
            {
                int sent = Socket.Send(Outbound.Pending, SocketFlags.None, out SocketError error);
                if (error != SocketError.Success)
                {
                    return error;
                }

                bytesSent += sent;
                Outbound.Consume(sent);
            }

            return SocketError.Success;
        }

        while (true)
        {
            // Encrypt only once the last ciphertext is out: the plaintext queue, with its limit, is where a slow reader's backlog waits.
            if (Tls.CipherPending.IsEmpty && Tls.IsOpen && Outbound.HasPending)
            {
                Tls.Write(Outbound.Pending);
                Outbound.Consume(Outbound.Pending.Length);
            }

            if (Tls.CipherPending.IsEmpty)
            {
                return SocketError.Success;
            }

            int sent = Socket.Send(Tls.CipherPending, SocketFlags.None, out SocketError error);
            if (error != SocketError.Success)
            {
                return error;
            }

            bytesSent += sent;
            Tls.ConsumeCipher(sent);
        }
    }

    /// <summary>Half-closes after the last queued byte, so the peer reads the goodbye and then end of stream; a TLS session's close_notify goes just before.</summary>
    public void SendFin()
    {
        SentFin = true;
        try
        {
            if (Tls is { IsOpen: true })
            {
                Tls.Shutdown();
                Socket.Send(Tls.CipherPending, SocketFlags.None, out _); // A few dozen bytes into an empty send buffer; if it would block, the FIN alone ends it.
            }

            Socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            PeerGone = true;
        }
    }

    /// <summary>Throws away what waits to be sent and makes the close a reset; see <see cref="Aborted"/>.</summary>
    public void Abort()
    {
        Aborted = true;
        Outbound.Clear();
    }

    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }

        IsDisposed = true;
        if (Aborted)
        {
            try
            {
                Socket.LingerState = new LingerOption(true, 0); // Close with RST: the unsent kernel buffer is discarded.
            }
            catch (SocketException)
            {
                // Already reset by the peer: nothing left to discard.
            }
        }

        Outbound.Clear();
        Tls?.Dispose();
        Socket.Dispose();
    }
}
