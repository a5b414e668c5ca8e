using System.Collections.Concurrent;
using NLog;
using Microsoft.Data.Sqlite;

namespace PollChat.Server.Storage;

/// <summary>
/// Persistent room history, kept off the loop thread. The loop hands each public message to a
/// <see cref="PersistRing"/> without allocating or waiting; a writer thread commits what has
/// accumulated every <see cref="BatchMilliseconds"/> in one transaction (WAL), and runs searches,
/// whose results it posts back to the loop. A crash loses at most the messages not yet committed:
/// about one batch interval's worth. This class does not decide what is stored or shown: the
/// server does.
/// </summary>
internal sealed class HistoryStore : IDisposable
{
    /// <summary>Messages wait at most this long for their commit; it bounds what kill -9 can lose, and makes one sync per batch, not per message.</summary>
    public const int BatchMilliseconds = 100;

    /// <summary>Room for minutes of a busy server's messages should the disk stall; past it messages are not stored (counted and logged), never waited for.</summary>
    private const int RingBytes = 8 * 1024 * 1024;

    /// <summary>At most this many messages go into one transaction, so a long backlog still commits in steps.</summary>
    private const int MaxBatch = 5000;

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    private readonly ChatDatabase _database;
    private readonly PersistRing _ring = new(RingBytes);
    private readonly ConcurrentQueue<Action<ChatDatabase>> _queries = new();
    private readonly ManualResetEventSlim _wake = new();
    private readonly List<StoredMessage> _batch = [];
    private Thread? _writer;
    private volatile bool _stopping;
    private bool _droppingLogged;

    private HistoryStore(ChatDatabase database) => _database = database;

    /// <summary>Messages the loop could not hand over because the writer was behind (loop thread only).</summary>
    public long NotStored { get; private set; }

    /// <inheritdoc cref="ChatDatabase.Open"/>
    public static HistoryStore Open(string directory) => new(ChatDatabase.Open(directory));

    /// <summary>Before the loop starts, on the caller's thread: what the in-memory histories start with.</summary>
    public List<StoredMessage> LoadRecent(int rooms, int perRoom) => _database.LoadRecent(rooms, perRoom);

    /// <summary>Before the loop starts, on the caller's thread: every account.</summary>
    public List<Account> LoadAccounts() => _database.LoadAccounts();

    /// <summary>Before the loop starts, on the caller's thread: every ban, and the message of the day.</summary>
    public (List<Ban> Bans, string? MessageOfTheDay) LoadModeration() => (_database.LoadBans(), _database.GetSetting(ChatDatabase.MessageOfTheDayKey));

    /// <summary>Loop thread: a write other than a message (an account), done in order with the rest on the writer thread.</summary>
    public void Execute(Action<ChatDatabase> write)
    {
        _queries.Enqueue(write);
        _wake.Set();
    }

    /// <summary>Starts the writer thread.</summary>
    public void Start()
    {
        _writer = new Thread(WriteUntilStopped) { IsBackground = true, Name = "history writer" };
        _writer.Start();
    }

    /// <summary>Loop thread: queues one public message for storage. Never blocks or allocates; a full ring drops it, logged once per run of drops.</summary>
    public void Append(DateTime utcTime, string room, string sender, ReadOnlySpan<byte> text)
    {
        if (_ring.TryWrite(new DateTimeOffset(utcTime).ToUnixTimeMilliseconds(), room, sender, text))
        {
            _droppingLogged = false;
            return;
        }

        NotStored++;
        if (!_droppingLogged)
        {
            _droppingLogged = true;
            Log.Warn("The history writer is behind (disk slow or stalled): messages are relayed but not stored until it catches up");
        }
    }

    /// <summary>Loop thread: runs a query on the writer thread; <paramref name="deliver"/> gets its result, and the caller arranges for it to run on the loop.</summary>
    public void Query<T>(Func<ChatDatabase, T> query, Action<T> deliver)
    {
        _queries.Enqueue(database => deliver(query(database)));
        _wake.Set();
    }

    /// <summary>Stops the writer after a last commit of everything handed over.</summary>
    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        _writer?.Join();
        _database.Dispose();
        _wake.Dispose();
    }

    private void WriteUntilStopped()
    {
        while (true)
        {
            bool last = _stopping;
            _wake.Wait(BatchMilliseconds);
            _wake.Reset();
            CommitPending();
            while (_queries.TryDequeue(out Action<ChatDatabase>? query))
            {
                RunSafely(() => query(_database), "A history search failed");
            }

            if (last)
            {
                return;
            }
        }
    }

    private void CommitPending()
    {
        do
        {
            _batch.Clear();
            while (_batch.Count < MaxBatch && _ring.TryRead(out StoredMessage message))
            {
                _batch.Add(message);
            }

            if (_batch.Count > 0)
            {
                RunSafely(() => _database.Insert(_batch), $"Storing {_batch.Count} messages failed; they are relayed but not in the stored history");
            }
        }
        while (_batch.Count == MaxBatch);
    }

    /// <summary>A disk error, or any failure, costs the stored history, never the chat or the writer: it is logged and the writer carries on.</summary>
    private static void RunSafely(Action action, string what)
    {
        try
        {
            action();
        }
        catch (SqliteException e)
        {
            Log.Error("{What}: SQLite error {Code}: {Message}", what, e.SqliteErrorCode, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Error(e, "{What}", what);
        }
    }
}
