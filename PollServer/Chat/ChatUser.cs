using PollChat.Common.Framing;
using PollChat.Server.Loop;

namespace PollChat.Server.Chat;

/// <summary>Where a connection is in the chat's eyes.</summary>
internal enum UserState
{
    /// <summary>Connected; its name has not arrived yet.</summary>
    AwaitingName,

    /// <summary>Named with a registered name, not yet logged in: may only /login, /quit, /help and /rich, and is in no room.</summary>
    AwaitingLogin,

    /// <summary>Named (and logged in, if registered): in a room, receiving what is said there.</summary>
    Chatting,

    /// <summary>Its connection is closing: it is no longer listed, and nothing more is sent to it but what was queued.</summary>
    Left,
}

/// <summary>
/// One connection as the chat sees it: who it is (name, login, away, ignores, rich mode), where it
/// is (its room, its file transfers) and what it did last. It is split from the transport on
/// purpose: it holds its <see cref="Connection"/> only to name it to the loop (to send to it, to
/// close it), never to read its socket or buffers. Only the loop thread touches it.
/// </summary>
internal sealed class ChatUser(ClientConnection connection, long now)
{
    /// <summary>The connection, as a handle for <see cref="IConnections"/>; the chat never reaches into it.</summary>
    public ClientConnection Connection { get; } = connection;

    /// <summary>Connection number since start, for logs.</summary>
    public long Id { get; } = connection.Id;

    /// <summary>The peer's address and port, for logs and /users at the console.</summary>
    public string Endpoint { get; } = connection.Endpoint;

    /// <summary>The peer's address: what address bans match.</summary>
    public string Address { get; } = connection.Address;

    /// <summary>The address as the limits and the login throttle count it (an IPv6 /64).</summary>
    public string AddressKey { get; } = connection.AddressKey;

    public UserState State { get; set; } = UserState.AwaitingName;

    /// <summary>The name; null until its name frame is accepted.</summary>
    public string? Name { get; private set; }

    /// <summary>The name already framed, so a relay copies bytes instead of encoding the name again.</summary>
    public byte[] NameFrame { get; private set; } = [];

    /// <summary>Whether this connection proved the password of its current name; a /nick to another name ends it.</summary>
    public bool LoggedIn { get; set; }

    /// <summary>A password check or hash for this user is running on a worker; one at a time.</summary>
    public bool PasswordWorkPending { get; set; }

    /// <summary>When, in loop milliseconds, a connection with a registered name is dropped if still not logged in.</summary>
    public long LoginDeadline { get; set; }

    /// <summary>When, in loop milliseconds, the connection was accepted (for /whois).</summary>
    public long ConnectedAt { get; } = now;

    /// <summary>When, in loop milliseconds, the user last said something to others: a message, an action or a private message. Commands do not count (idle time in /whois).</summary>
    public long LastMessageAt { get; set; } = now;

    /// <summary>Messages refused for invalid UTF-8: logged first, then counted.</summary>
    public RepeatedEvent InvalidUtf8;

    /// <summary>The room the user is in while chatting; null before and after.</summary>
    public Room? Room { get; set; }

    /// <summary>Names this user /ignore-s; null until it ignores someone, so the relay's check is one null test for everyone else.</summary>
    public HashSet<string>? Ignored { get; set; }

    /// <summary>Whether the client asked for rich mode (/rich 1): it gets events instead of some notices.</summary>
    public bool Rich { get; set; }

    /// <summary>File transfers this user sends or receives; null until its first.</summary>
    public List<Files.FileTransfer>? Transfers { get; set; }

    /// <summary>The /away text; null while present.</summary>
    public string? AwayText { get; set; }

    /// <summary>Who kicked this user ("the operator" or an admin's name), told to its room when it leaves.</summary>
    public string? KickedBy { get; set; }

    /// <summary>Why it left, if it was said: a kick's reason, or the user's own with /quit; told to its room.</summary>
    public string? LeaveReason { get; set; }

    /// <summary>Who sent this user the last private message, for /reply.</summary>
    public string? LastPrivateFrom { get; set; }

    /// <summary>Position in <see cref="Users"/>' list, for removal without a search.</summary>
    public int Index { get; set; }

    /// <summary>Takes <paramref name="name"/>, first or as a /nick change, and starts chatting, or waits for a login first.</summary>
    public void AcceptName(string name, bool loginFirst = false)
    {
        Name = name;
        NameFrame = Frame.Encode(name);
        Connection.Name = name;
        State = loginFirst ? UserState.AwaitingLogin : UserState.Chatting;
    }
}
