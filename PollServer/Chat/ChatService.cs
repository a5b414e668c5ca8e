using PollChat.Server.Accounts;
using PollChat.Server.Commands;
using PollChat.Server.Files;
using PollChat.Server.Loop;
using PollChat.Server.Moderation;

namespace PollChat.Server.Chat;

/// <summary>
/// The chat behind the loop: it builds the chat's parts, each with its collaborators passed in,
/// and is the one <see cref="IConnectionHandler"/> the loop talks to. Frames go to the
/// <see cref="MessageHandler"/>, arrivals and departures to the <see cref="Lobby"/>; the logins and
/// file transfers register their own deadlines with the loop's <see cref="Timers"/>. It holds no
/// chat state of its own.
/// </summary>
internal sealed class ChatService : IConnectionHandler, IDisposable
{
    /// <summary>The most the loop reads from a client at once: the history hand-off must be able to take it.</summary>
    private const int MaxReadBytes = 64 * 1024;

    private readonly ServerOptions _options;
    private readonly Users _users = new();
    private readonly ChatHistory _history;
    private readonly ModerationState _moderation;
    private readonly FileTransfers _transfers;
    private readonly Lobby _lobby;
    private readonly Logins _logins;
    private readonly Presence _presence;
    private readonly CommandTable _commands;
    private readonly MessageHandler _messages;

    public ChatService(ServerOptions options, IConnections connections, ILoop loop, LoopClock clock, Timers timers, ServerCounters counters, AddressLimits addressLimits)
    {
        _options = options;
        var rooms = new Rooms();
        var outbox = new Outbox(connections, _users);
        _presence = new Presence(options, _users, outbox);
        _history = new ChatHistory(options, rooms, outbox, loop, clock);
        _moderation = new ModerationState(_history, outbox);
        _transfers = new FileTransfers(options, _users, outbox, _moderation, connections, counters, timers);
        _lobby = new Lobby(options, _users, rooms, outbox, _presence, _history, _moderation, _transfers, loop);
        _logins = new Logins(options, _users, outbox, _lobby, _history, addressLimits, connections, loop, clock, timers);
        _commands = CommandList.Build(
            new UserCommands(options, _users, outbox, _presence, _logins, _moderation, _history, connections),
            new RoomCommands(options, rooms, outbox, _history),
            new ModerationCommands(_moderation, _users, outbox, connections),
            new OperatorCommands(_users, rooms, outbox, loop),
            _logins, _transfers, outbox, clock);
        _messages = new MessageHandler(options, _users, _lobby, _logins, _moderation, _transfers, _history, outbox, _commands, connections, counters);
    }

    /// <summary>The one command table: for tests that compare /help with it.</summary>
    public CommandTable Commands => _commands;

    public long NotStored => _history.Store?.NotStored ?? 0;

    public IInputGate? Open()
    {
        if (_options.DataDirectory is null)
        {
            return null;
        }

        Storage.HistoryStore store = _history.Open(_options.DataDirectory, MaxReadBytes);
        _logins.Load(store.LoadAccounts());
        (List<Storage.Ban> bans, string? messageOfTheDay) = store.LoadModeration();
        _moderation.Load(bans, messageOfTheDay);
        return store;
    }

    public void Started(Action wake) => _history.Store?.Start(wake);

    public void Stopped(long now) => _history.Store?.LogStallIfAny(now);

    public void Close()
    {
        _logins.Dispose();
        _history.Close();
    }

    public void Dispose() => Close();

    public void Accepted(ClientConnection connection, long now)
    {
        var user = new ChatUser(connection, now);
        connection.Session = user;
        _users.Add(user);
        if (_moderation.BanOn(connection.Address) is { } ban)
        {
            _messages.Refuse(user, CloseReason.Banned, Notices.Banned(ban.UtcUntil), now, "address banned");
        }
    }

    public void NameArrived(ClientConnection connection, ReadOnlySpan<byte> name, long now) => _messages.NameArrived(UserOf(connection), name, now);

    public void FrameArrived(ClientConnection connection, ReadOnlySpan<byte> payload, long now) => _messages.FrameArrived(UserOf(connection), payload, now);

    public bool PassesRate(ClientConnection connection, ReadOnlySpan<byte> payloadStart, int declaredLength) =>
        FileTransfers.IsFileStream(UserOf(connection), payloadStart, declaredLength);

    public string? Closing(ClientConnection connection, CloseReason reason, long now)
    {
        if (connection.Session is not ChatUser user)
        {
            return null; // Refused before the chat saw it (the server was full).
        }

        _logins.RemoveClaimant(user);
        _lobby.Leaving(user, reason);
        return user.InvalidUtf8.Unlogged == 0 ? null : $"{user.InvalidUtf8.Unlogged} more messages refused as invalid UTF-8 since the last line";
    }

    public void EndOfIteration(long now)
    {
        _lobby.TellDepartures(now);
        _logins.ArriveAfterGhosts(now); // A login that took a ghost's name arrives once the ghost has left.
    }

    public void Sweep(long now)
    {
        _presence.Summarise(now);
        _logins.Forget(now);
    }

    public void RunOperatorCommand(string line, Action<string> reply) => _commands.RunForConsole(line, reply);

    public void FailNextMessageOf(string name) => _messages.FailNextMessageOf(name);

    /// <summary>The chat's user for a connection: set when it was accepted, so never missing for one that sends frames.</summary>
    private static ChatUser UserOf(ClientConnection connection) => (ChatUser)connection.Session!;
}
