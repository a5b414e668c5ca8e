using System.Collections.Concurrent;
using NLog;
using Microsoft.Data.Sqlite;

namespace PollChat.Server.Storage;

/// <summary>
/// Persistent room history, kept off the loop thread. The loop hands each public message to a
/// <see cref="PersistRing"/> without allocating or waiting; a writer thread commits what has
/// accumulated every <see cref="BatchMilliseconds"/> in one transaction (WAL), and the other
/// writes (accounts, bans) in order with them. Searches never run on that thread: they have their
/// own, with their own connection (<see cref="HistorySearches"/>), so no search delays a commit.
/// A crash loses at most the messages not yet committed: about one batch interval's worth. This
/// class does not decide what is stored or shown: the server does.
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
    private readonly HistorySearches _searches;
    private readonly ConcurrentQueue<Action<ChatDatabase>> _writes = new();
    private readonly ManualResetEventSlim _wake = new();
    private readonly List<StoredMessage> _batch = [];
    private Thread? _writer;
    private volatile bool _stopping;
    private bool _droppingLogged;

    private HistoryStore(ChatDatabase database, HistorySearches searches)
    {
        _database = database;
        _searches = searches;
    }

    /// <summary>Messages the loop could not hand over because the writer was behind (loop thread only).</summary>
    public long NotStored { get; private set; }

    /// <inheritdoc cref="ChatDatabase.Open"/>
    public static HistoryStore Open(string directory)
    {
        ChatDatabase database = ChatDatabase.Open(directory);
        try
        {
            return new(database, new HistorySearches(ChatDatabase.OpenForReading(directory)));
        }
        catch (SqliteException e)
        {
            database.Dispose();
            throw new DataDirectoryException(directory, $"{ChatDatabase.FileName} cannot be opened a second time for searches (SQLite error {e.SqliteErrorCode}: {e.Message})");
        }
    }

    /// <summary>Before the loop starts, on the caller's thread: what the in-memory histories start with.</summary>
    public List<StoredMessage> LoadRecent(int rooms, int perRoom) => _database.LoadRecent(rooms, perRoom);

    /// <summary>Before the loop starts, on the caller's thread: every account.</summary>
    public List<Account> LoadAccounts() => _database.LoadAccounts();

    /// <summary>Before the loop starts, on the caller's thread: every ban, and the message of the day.</summary>
    public (List<Ban> Bans, string? MessageOfTheDay) LoadModeration() => (_database.LoadBans(), _database.GetSetting(ChatDatabase.MessageOfTheDayKey));

    /// <summary>Loop thread: a write other than a message (an account), done in order with the rest on the writer thread.</summary>
    public void Execute(Action<ChatDatabase> write)
    {
        _writes.Enqueue(write);
        _wake.Set();
    }

    /// <summary>Starts the writer and search threads.</summary>
    public void Start()
    {
        _writer = new Thread(WriteUntilStopped) { IsBackground = true, Name = "history writer" };
        _writer.Start();
        _searches.Start();
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

    /// <inheritdoc cref="HistorySearches.TryQueue"/>
    public bool TrySearch(string room, string[] words, int limit, int scanned, Action<SearchResult> deliver) =>
        _searches.TryQueue(room, words, limit, scanned, deliver);

    /// <summary>Cancels searches, then stops the writer after a last commit of everything handed over.</summary>
    public void Dispose()
    {
        _searches.Dispose();
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
            while (_writes.TryDequeue(out Action<ChatDatabase>? write))
            {
                RunSafely(() => write(_database), "A write to the history file failed");
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
