using System.Net.Sockets;
using System.Text;
using PollChat.Common.Framing;
using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Server.Commands;

namespace PollChat.Tests.Support;

/// <summary>
/// The chat without the loop: a <see cref="ChatService"/> built as the server builds it, but on a
/// recording <see cref="IConnections"/>, a fake <see cref="ILoop"/>, a <see cref="LoopClock"/> on a
/// time the test sets, and a <see cref="Timers"/> the test runs. Users are added and speak through
/// <see cref="IConnectionHandler"/>, exactly as the loop calls it; what each is sent is decoded with
/// Common's framing into (sender, text) pairs. No socket reaches the network (each connection wraps
/// an unconnected one, whose endpoint reads "unknown") and nothing sleeps. Loop thread only, like the chat.
/// </summary>
internal sealed class ChatHarness : IDisposable
{
    private long _time = 1_000_000; // Any origin: the chat only ever subtracts loop times.
    private long _nextId = 1;
    private readonly OutputMemory _outputMemory = new();

    public ChatHarness(ServerOptions? options = null)
    {
        Options = options ?? new ServerOptions { DataDirectory = null };
        Clock = new LoopClock(() => _time);
        Connections = new RecordingConnections();
        Chat = new ChatService(Options, Connections, Loop, Clock, Timers, new ServerCounters(), new AddressLimits(maxAtOnce: 0, connectsPerMinute: 0));
        Connections.Handler = Chat;
        Handler.Open(); // No data directory: opens nothing, as a server started with --no-history does.
    }

    public ServerOptions Options { get; }

    public LoopClock Clock { get; }

    public Timers Timers { get; } = new();

    public RecordingConnections Connections { get; }

    public FakeLoop Loop { get; } = new();

    public ChatService Chat { get; }

    /// <summary>The chat as the loop sees it: every call the harness makes goes through here.</summary>
    public IConnectionHandler Handler => Chat;

    /// <summary>The loop's time now, in milliseconds.</summary>
    public long Now => Clock.Now;

    /// <summary>The chat's one command table, for tests that compare /help with it.</summary>
    public CommandTable Commands => Chat.Commands;

    /// <summary>A connection accepted and admitted, whose name has not arrived yet.</summary>
    public TestUser Connect()
    {
        var connection = new ClientConnection(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), _nextId++, Now,
            Now + (long)Options.NameTimeout.TotalMilliseconds, _outputMemory);
        var user = new TestUser(this, connection);
        Connections.Track(user);
        Handler.Accepted(connection, Now);
        return user;
    }

    /// <summary>Connects, sends <paramref name="name"/> as the first frame and ends the iteration; what the user and others were told stays unread.</summary>
    public TestUser Join(string name)
    {
        TestUser user = Connect();
        Handler.NameArrived(user.Connection, Encoding.UTF8.GetBytes(name), Now);
        EndOfIteration();
        return user;
    }

    /// <summary>Joins each name in order, then forgets what everyone was told so far.</summary>
    public TestUser[] JoinAll(params string[] names)
    {
        TestUser[] users = [.. names.Select(Join)];
        Quiet();
        return users;
    }

    /// <summary>Forgets what every user has been sent so far.</summary>
    public void Quiet()
    {
        foreach (TestUser user in Connections.Users)
        {
            user.Received();
        }
    }

    /// <summary>Moves the loop's time forward, starts an iteration at it (as Select returning does) and runs the deadlines now due.</summary>
    public void Advance(TimeSpan by)
    {
        _time += (long)by.TotalMilliseconds;
        Clock.Tick();
        Timers.RunDue(Now, readsHeld: () => false);
    }

    /// <summary>The close phase of an iteration: departures are told.</summary>
    public void EndOfIteration() => Handler.EndOfIteration(Now);

    /// <summary>A line typed at the operator console; returns the lines it answered.</summary>
    public List<string> Console(string line)
    {
        List<string> lines = [];
        Handler.RunOperatorCommand(line, lines.Add);
        return lines;
    }

    public void Dispose()
    {
        Chat.Dispose();
        foreach (TestUser user in Connections.Users)
        {
            user.Connection.Socket.Dispose();
        }
    }
}

/// <summary>A connection in the harness, seen from the client's side: what it sends, what it was sent.</summary>
internal sealed class TestUser(ChatHarness harness, ClientConnection connection)
{
    private readonly FrameReader _reader = new();
    private readonly List<(string Sender, string Text)> _unread = [];
    private string? _sender;

    public ClientConnection Connection { get; } = connection;

    /// <summary>The chat's own view of this user (name, room, away...).</summary>
    public ChatUser ChatUser => (ChatUser)Connection.Session!;

    /// <summary>Every Close the chat asked for this connection, in order.</summary>
    public List<CloseCall> Closes { get; } = [];

    /// <summary>How many times a frame of this connection was charged to its message rate.</summary>
    public int Charges { get; set; }

    /// <summary>Sends one frame after the name: the line's UTF-8 bytes.</summary>
    public void Say(string line) => Send(Encoding.UTF8.GetBytes(line));

    /// <summary>Sends one frame of any bytes (invalid UTF-8, empty).</summary>
    public void Send(byte[] payload) => harness.Handler.FrameArrived(Connection, payload, harness.Now);

    /// <summary>The pairs sent to this user since the last call, in order.</summary>
    public List<(string Sender, string Text)> Received()
    {
        List<(string Sender, string Text)> pairs = [.. _unread];
        _unread.Clear();
        return pairs;
    }

    /// <summary>The texts of the server's notices among <see cref="Received"/>, which it also empties.</summary>
    public List<string> Notices() => [.. Received().Where(p => p.Sender == ServerSender.Name).Select(p => p.Text)];

    /// <summary>Bytes the chat queued for this connection: decoded into frames and paired, as a client reads them.</summary>
    public void Deliver(ReadOnlySpan<byte> bytes)
    {
        _reader.Append(bytes);
        while (_reader.TryRead(int.MaxValue, out ReadOnlySpan<byte> payload, out FrameError error, out _) is var status && status != FrameReadStatus.NeedMoreData)
        {
            if (status == FrameReadStatus.Invalid)
            {
                throw new InvalidOperationException($"the chat sent a bad frame: {error}");
            }

            string text = Encoding.UTF8.GetString(payload);
            if (_sender is null)
            {
                _sender = text;
            }
            else
            {
                _unread.Add((_sender, text));
                _sender = null;
            }
        }
    }
}

/// <summary>One call to <see cref="IConnections.Close"/>.</summary>
internal sealed record CloseCall(CloseReason Reason, string? Notice, string? Detail);

/// <summary>
/// <see cref="IConnections"/> that records instead of queueing: bytes sent, closes (and, on the
/// first, the chat is told the connection is closing, as the loop's Connections does), and
/// message-rate charges. The close's last notice is recorded with it, not delivered.
/// </summary>
internal sealed class RecordingConnections : IConnections
{
    private readonly Dictionary<ClientConnection, TestUser> _users = [];

    public IConnectionHandler? Handler { get; set; }

    public IEnumerable<TestUser> Users => _users.Values;

    public void Track(TestUser user) => _users.Add(user.Connection, user);

    public void Send(ClientConnection connection, ReadOnlySpan<byte> bytes, long now) => _users[connection].Deliver(bytes);

    public void Close(ClientConnection connection, CloseReason reason, string? notice, long now, string? detail = null)
    {
        _users[connection].Closes.Add(new CloseCall(reason, notice, detail));
        if (connection.MarkClosing(reason, now))
        {
            Handler?.Closing(connection, reason, now);
        }
    }

    public void ChargeMessage(ClientConnection connection) => _users[connection].Charges++;

    public void RefundBytes(ClientConnection connection, int bytes)
    {
    }
}

/// <summary><see cref="ILoop"/> for tests: posted actions wait until <see cref="RunPosted"/>; the counters line is fixed; a shutdown is only recorded.</summary>
internal sealed class FakeLoop : ILoop
{
    public const string Stats = "stats: a fixed line from the fake loop";

    private readonly Queue<Action> _posted = new();

    public bool ShuttingDown { get; private set; }

    public int Shutdowns { get; private set; }

    public int Pending => _posted.Count;

    public void Post(Action action) => _posted.Enqueue(action);

    /// <summary>Runs what was posted so far, as the loop's next turn would.</summary>
    public void RunPosted()
    {
        while (_posted.TryDequeue(out Action? action))
        {
            action();
        }
    }

    public string StatsLine() => Stats;

    public void Shutdown()
    {
        Shutdowns++;
        ShuttingDown = true;
    }
}
