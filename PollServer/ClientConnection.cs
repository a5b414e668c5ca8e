using System.Net.Sockets;
using PollChat.Common.Framing;

namespace PollChat.Server;

internal enum ClientState
{
    /// <summary>Connected; the first frame (the username) has not arrived yet.</summary>
    AwaitingName,

    /// <summary>Named with a registered name, not yet logged in: may only /login or /quit, and is in no room.</summary>
    AwaitingLogin,

    /// <summary>Named and registered: receives relayed messages.</summary>
    Chatting,

    /// <summary>Marked for close: flushing a last notice, then waiting briefly for the peer's FIN.</summary>
    Closing,
}

/// <summary>
/// One client's whole state: its socket, the bytes it sent that are not yet a frame, the bytes
/// waiting to go to it, and where it is in its life. Only the loop thread touches it. It does
/// socket I/O for itself but never decides what a frame means; that is <see cref="ChatServer"/>'s job.
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
        ConnectedAt = LastMessageAt = now;
    }

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

    /// <summary>Whether this connection proved the password of its current name; a /nick to another name ends it.</summary>
    public bool LoggedIn { get; set; }

    /// <summary>A password check or hash for this client is running on a worker; one at a time.</summary>
    public bool PasswordWorkPending { get; set; }

    /// <summary>When, in loop milliseconds, a connection with a registered name is dropped if still not logged in.</summary>
    public long LoginDeadline { get; set; }

    public ClientState State { get; set; } = ClientState.AwaitingName;

    /// <summary>The registered username; null until the name frame is accepted.</summary>
    public string? Name { get; private set; }

    /// <summary>The username already framed, so a relay copies bytes instead of encoding the name again.</summary>
    public byte[] NameFrame { get; private set; } = [];

    /// <summary>The part of a frame that arrived without its end; whole frames never pass through it.</summary>
    public FrameReader Inbound { get; } = new();

    /// <summary>Bytes queued for this client and not yet accepted by its socket (plaintext, for a TLS client: encrypted as the socket takes them).</summary>
    public OutboundBuffer Outbound { get; }

    /// <summary>The TLS session of a client that came in on the TLS listener; null for a plain one.</summary>
    public PollChat.Common.Net.TlsChannel? Tls { get; init; }

    /// <summary>Whether anything waits to be sent: queued plaintext, or ciphertext (handshake messages, records).</summary>
    public bool HasPendingOutput => Outbound.HasPending || (Tls is not null && !Tls.CipherPending.IsEmpty);

    /// <summary>When, in loop milliseconds, the connection was accepted (for /whois).</summary>
    public long ConnectedAt { get; }

    /// <summary>When, in loop milliseconds, the client last said something to others: a message, an action or a private message. Commands do not count (idle time in /whois).</summary>
    public long LastMessageAt { get; set; }

    /// <summary>The message rate limit's state; a field, not a property, because it is a mutable struct.</summary>
    public RateLimiter Rate;

    /// <summary>The byte rate limit's state, a mutable struct field like <see cref="Rate"/>.</summary>
    public ByteBudget Bytes;

    /// <summary>While later than now (loop milliseconds), the socket is left out of the read list: the client sent faster than the byte rate. Not 0 exactly while the client is in the server's paused list.</summary>
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

    /// <summary>Messages refused for invalid UTF-8: logged first, then counted.</summary>
    public RepeatedEvent InvalidUtf8;

    /// <summary>When, in loop milliseconds, the frame still unfinished began arriving; 0 while no frame is half-read.</summary>
    public long UnfinishedFrameSince { get; set; }

    /// <summary>The room the client is in while chatting; null before its name is accepted and after it leaves.</summary>
    public Room? Room { get; set; }

    /// <summary>Names this client /ignore-s; null until it ignores someone, so the relay's check is one null test for everyone else.</summary>
    public HashSet<string>? Ignored { get; set; }

    /// <summary>Whether the client asked for rich mode (/rich 1): it gets events instead of some notices.</summary>
    public bool Rich { get; set; }

    /// <summary>File transfers this client sends or receives; null until its first.</summary>
    public List<FileTransfer>? Transfers { get; set; }

    /// <summary>The /away text; null while present.</summary>
    public string? AwayText { get; set; }

    /// <summary>Who kicked this client ("the operator" or an admin's name), told to its room when it leaves.</summary>
    public string? KickedBy { get; set; }

    /// <summary>Why it was kicked, if they said; told to its room when it leaves.</summary>
    public string? KickReason { get; set; }

    /// <summary>Who sent this client the last private message, for /reply.</summary>
    public string? LastPrivateFrom { get; set; }

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

    /// <summary>Whether <see cref="ChatServer"/> currently lists this client as having pending output.</summary>
    public bool InPendingList { get; set; }

    /// <summary>Position in the server's connection list, for removal without a search.</summary>
    public int Index { get; set; }

    public bool IsDisposed { get; private set; }

    /// <summary>Takes <paramref name="name"/>, first or as a /nick change, and starts chatting, or waits for a login first.</summary>
    public void AcceptName(string name, bool loginFirst = false)
    {
        Name = name;
        NameFrame = Frame.Encode(name);
        State = loginFirst ? ClientState.AwaitingLogin : ClientState.Chatting;
    }

    /// <summary>Enters <see cref="ClientState.Closing"/>; returns false if already closing, so the caller logs and announces only once.</summary>
    public bool MarkClosing(CloseReason reason, long closeDeadline)
    {
        if (State == ClientState.Closing)
        {
            return false;
        }

        State = ClientState.Closing;
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
