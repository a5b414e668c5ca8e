using System.Collections.Concurrent;
using NLog;
using Microsoft.Data.Sqlite;

namespace PollChat.Server.Storage;

/// <summary>
/// Persistent room history, kept off the loop thread. The loop hands each public message to a
/// <see cref="PersistRing"/> without allocating or waiting, and reads a client only when what
/// that read could carry is sure to fit in the ring (<see cref="StorableReadBytes"/>): when the
/// writer falls behind, senders wait (TCP holds their bytes) instead of messages being dropped.
/// A writer thread commits what has
/// accumulated every <see cref="BatchMilliseconds"/> in one transaction (WAL), and the other
/// writes (accounts, bans) in order with them. Searches never run on that thread: they have their
/// own, with their own connection (<see cref="HistorySearches"/>), so no search delays a commit.
/// A crash loses at most the messages not yet committed: about one batch interval's worth. This
/// class does not decide what is stored or shown: the server does.
/// </summary>
internal sealed class HistoryStore : IDisposable, Loop.IInputGate
{
    /// <summary>Messages wait at most this long for their commit; it bounds what kill -9 can lose, and makes one sync per batch, not per message.</summary>
    public const int BatchMilliseconds = 100;

    /// <summary>Room for minutes of a busy server's messages should the disk stall; past it clients are not read until the writer catches up.</summary>
    private const int DefaultRingBytes = 8 * 1024 * 1024;

    /// <summary>A read that the ring's room would cut below this is not worth a system call: the reads stop until the writer catches up instead.</summary>
    private const int MinUsefulReadBytes = 4096;

    /// <summary>
    /// Reads held back less than this apart are one stall, logged once: under a load the disk
    /// cannot keep up with, reads stop and resume with every batch the writer takes.
    /// </summary>
    private const long StallQuietMilliseconds = 5_000;

    /// <summary>At most this many messages go into one transaction, so a long backlog still commits in steps.</summary>
    private const int MaxBatch = 5000;

    /// <summary>
    /// When the history is over its byte limit, an author whose messages take more than this
    /// share of it loses their oldest first: one user, or one flood, cannot push everyone
    /// else's history out alone. A tenth leaves room for a handful of the most active people.
    /// </summary>
    public const int MaxAuthorSharePercent = 10;

    /// <summary>Messages past --history-days are looked for this often when nothing is being stored (and after every commit otherwise): an expiry a minute late is still on the right day.</summary>
    private const long AgeCheckMilliseconds = 60_000;

    /// <summary>Deletions are summed into one log line at most this often, however many small batches they took.</summary>
    private const long RetentionLogMilliseconds = 60_000;

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    private readonly ChatDatabase _database;
    private readonly RetentionPolicy _retention;
    private readonly ReadBound _bound;
    private readonly PersistRing _ring;
    private readonly HistorySearches _searches;
    private readonly ConcurrentQueue<Action<ChatDatabase>> _writes = new();
    private readonly ManualResetEventSlim _wake = new();
    private readonly List<StoredMessage> _batch = [];
    private Thread? _writer;
    private Action? _roomFreed;

    // Writer thread only: what the stored messages count for (see ChatDatabase.SizeOf), and the retention's bookkeeping.
    private long _storedBytes;
    private long _nextAgeCheck;
    private long _nextRetentionLog;
    private long _expiredSinceLog;
    private long _evictedSinceLog;
    private long _evictedOverShareSinceLog;
    private volatile bool _stopping;

    // Set by the loop while its reads are held back, so the writer wakes it once half the ring is free.
    private volatile bool _loopWaiting;

    // Loop thread only: the hold on reads and the stall it belongs to, for the log.
    private long _heldSince;
    private long _stallSince;
    private long _lastHeldAt;
    private int _holds;
    private long _heldMilliseconds;
    private long _messagesDuringStall;
    private bool _droppingLogged;

    private HistoryStore(ChatDatabase database, HistorySearches searches, RetentionPolicy retention, ReadBound bound, int ringBytes)
    {
        _database = database;
        _retention = retention;
        _searches = searches;
        _bound = bound;
        _ring = new PersistRing(ringBytes);
    }

    /// <summary>Messages the loop could not hand over because the writer was behind (loop thread only).</summary>
    public long NotStored { get; private set; }

    /// <summary>Whether clients' reads are held back now because the writer is behind (loop thread).</summary>
    public bool ReadsHeld => _heldSince != 0;

    /// <summary>
    /// Opens the file (see <see cref="ChatDatabase.Open"/>) with a ring sized so that one whole
    /// read, <paramref name="maxReadBytes"/> plus a partly buffered frame plus what TLS may hold,
    /// fits in half of it: reads resume at half full, so any client can then be read.
    /// </summary>
    /// <exception cref="DataDirectoryException">The directory or file cannot be used, with a sentence saying why.</exception>
    public static HistoryStore Open(string directory, RetentionPolicy retention, int maxReadBytes, int maxMessageBytes, int maxSenderBytes, int maxRoomBytes)
    {
        var bound = new ReadBound(maxMessageBytes, maxSenderBytes, maxRoomBytes);
        long wholeRead = bound.RingBytesFor(maxReadBytes + (long)Common.Framing.FrameHeader.Length + maxMessageBytes + ReadBound.TlsCarryBytes);
        int ringBytes = (int)Math.Min(Array.MaxLength, Math.Max(DefaultRingBytes, 2 * wholeRead));
        ChatDatabase database = ChatDatabase.Open(directory);
        try
        {
            return new(database, new HistorySearches(ChatDatabase.OpenForReading(directory)), retention, bound, ringBytes);
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

    /// <summary>Starts the writer and search threads; <paramref name="roomFreed"/> (called on the writer thread) wakes the loop when reads held back may resume.</summary>
    public void Start(Action roomFreed)
    {
        _roomFreed = roomFreed;
        _writer = new Thread(WriteUntilStopped) { IsBackground = true, Name = "history writer" };
        _writer.Start();
        _searches.Start();
    }

    /// <summary>
    /// Loop thread: queues one public message for storage. Never blocks or allocates. It always
    /// fits when the client was read within <see cref="StorableReadBytes"/>; should it not, it is
    /// counted in <see cref="NotStored"/>, and logged once.
    /// </summary>
    public void Append(DateTime utcTime, string room, string sender, ReadOnlySpan<byte> text)
    {
        if (_ring.TryWrite(new DateTimeOffset(utcTime).ToUnixTimeMilliseconds(), room, sender, text))
        {
            _messagesDuringStall++;
            return;
        }

        NotStored++;
        if (!_droppingLogged)
        {
            _droppingLogged = true;
            Log.Error("A relayed message did not fit in the history hand-off and is not stored; history_not_stored counts such messages");
        }
    }

    /// <summary>
    /// Loop thread: how many of <paramref name="wanted"/> bytes may be received from a client
    /// that holds <paramref name="bufferedBytes"/> of an unfinished frame, so that every message
    /// they could complete fits in the ring. 0 while reads are held back: once a read does not
    /// fit, no client is read until the writer has emptied half the ring.
    /// </summary>
    public int StorableReadBytes(int bufferedBytes, bool tls, int wanted, long now)
    {
        if (_heldSince != 0)
        {
            return 0;
        }

        long allowed = _bound.InputFitting(_ring.FreeBytes) - bufferedBytes - (tls ? ReadBound.TlsCarryBytes : 0);
        if (allowed >= wanted)
        {
            return wanted;
        }

        if (allowed >= MinUsefulReadBytes)
        {
            return (int)allowed;
        }

        HoldReads(now);
        return 0;
    }

    /// <summary>
    /// Loop thread: whether every message in <paramref name="bufferedBytes"/> already received
    /// (frames held back for the message rate, handed on without a read) fits in the ring now;
    /// if not, reads are held as for a read that does not fit.
    /// </summary>
    public bool CanStoreBuffered(int bufferedBytes, long now)
    {
        if (_heldSince != 0)
        {
            return false;
        }

        if (_bound.InputFitting(_ring.FreeBytes) >= bufferedBytes)
        {
            return true;
        }

        HoldReads(now);
        return false;
    }

    /// <summary>
    /// Loop thread, once per iteration: ends a hold once the writer has emptied half the ring,
    /// returning how long it lasted (0 if there was none to end), and logs the end of a stall
    /// once no read has been held back for <see cref="StallQuietMilliseconds"/>.
    /// </summary>
    public long ResumeReadsIfCaughtUp(long now)
    {
        long held = 0;
        if (_heldSince != 0 && _ring.UsedBytes <= _ring.Capacity / 2)
        {
            held = Math.Max(1, now - _heldSince);
            _heldMilliseconds += held;
            _heldSince = 0;
            _lastHeldAt = now;
            _loopWaiting = false;
        }

        if (_stallSince != 0 && _heldSince == 0 && now - _lastHeldAt >= StallQuietMilliseconds)
        {
            LogStallEnd();
        }

        return held;
    }

    /// <summary>Loop thread, as it stops: a stall still open is logged now, so its figures are not lost.</summary>
    public void LogStallIfAny(long now)
    {
        if (_stallSince != 0)
        {
            _lastHeldAt = _heldSince != 0 ? now : _lastHeldAt;
            LogStallEnd();
        }
    }

    private void HoldReads(long now)
    {
        _heldSince = now;
        _holds++;
        _loopWaiting = true;
        _wake.Set(); // The writer commits at once instead of at its next interval.
        if (_stallSince == 0)
        {
            _stallSince = now;
            _holds = 1;
            _heldMilliseconds = 0;
            _messagesDuringStall = 0;
            Log.Warn("The history writer is behind (disk slow or stalled): clients are not read until it catches up, so what they send waits and nothing is lost");
        }
    }

    private void LogStallEnd()
    {
        Log.Info("The history writer caught up: over {Seconds:0.0} s, reads were held back {Holds} times, {HeldSeconds:0.0} s in all, while {Messages} messages were handed to it",
            (_lastHeldAt - _stallSince) / 1000.0, _holds, _heldMilliseconds / 1000.0, _messagesDuringStall);
        _stallSince = 0;
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
        RunSafely(() => _storedBytes = _database.TotalBytes(), "Reading the history's size failed");
        while (true)
        {
            bool last = _stopping;
            if (!_loopWaiting || _ring.UsedBytes == 0)
            {
                _wake.Wait(BatchMilliseconds); // While the loop waits for room, no pause between batches.
            }

            _wake.Reset();
            bool stored = CommitPending();
            RunWrites();
            if (last)
            {
                LogRetention(force: true);
                return;
            }

            ApplyRetention(stored);
        }
    }

    private void RunWrites()
    {
        while (_writes.TryDequeue(out Action<ChatDatabase>? write))
        {
            RunSafely(() => write(_database), "A write to the history file failed");
        }
    }

    /// <summary>
    /// Deletes what is past --history-days, then, while the history is over --history-max-bytes,
    /// the oldest messages of whoever holds more than <see cref="MaxAuthorSharePercent"/> of it,
    /// or else the oldest of all. One small batch at a time, with the messages that came in
    /// meanwhile committed between batches, so a deletion never holds a commit for long.
    /// </summary>
    private void ApplyRetention(bool stored)
    {
        long now = Environment.TickCount64;
        bool checkAge = _retention.MaxAge is not null && (stored || now >= _nextAgeCheck);
        if (checkAge)
        {
            _nextAgeCheck = now + AgeCheckMilliseconds;
        }

        while (!_stopping && (checkAge || OverMaxBytes()))
        {
            int deleted = 0;
            RunSafely(() => deleted = DeleteOneBatch(ref checkAge), "Deleting old history failed");
            if (deleted == 0)
            {
                break;
            }

            CommitPending();
            RunWrites();
        }

        LogRetention(force: false);
    }

    private bool OverMaxBytes() => _retention.MaxBytes > 0 && _storedBytes > _retention.MaxBytes;

    private int DeleteOneBatch(ref bool checkAge)
    {
        if (checkAge)
        {
            long before = DateTimeOffset.UtcNow.Subtract(_retention.MaxAge!.Value).ToUnixTimeMilliseconds();
            (int rows, long bytes) = _database.DeleteOldest(long.MaxValue, sentBeforeUnixMs: before);
            _storedBytes -= bytes;
            _expiredSinceLog += rows;
            if (rows > 0)
            {
                return rows;
            }

            checkAge = false;
        }

        if (!OverMaxBytes())
        {
            return 0;
        }

        long excess = _storedBytes - _retention.MaxBytes;
        if (_database.LargestAuthor() is { } largest && largest.Bytes * 100 > _storedBytes * MaxAuthorSharePercent)
        {
            (int rows, long bytes) = _database.DeleteOldest(excess, author: largest.Name);
            _storedBytes -= bytes;
            _evictedOverShareSinceLog += rows;
            if (rows > 0)
            {
                return rows;
            }
        }

        (int oldestRows, long oldestBytes) = _database.DeleteOldest(excess);
        _storedBytes -= oldestBytes;
        _evictedSinceLog += oldestRows;
        return oldestRows;
    }

    private void LogRetention(bool force)
    {
        long now = Environment.TickCount64;
        if (_expiredSinceLog + _evictedSinceLog + _evictedOverShareSinceLog == 0 || (!force && now < _nextRetentionLog))
        {
            return;
        }

        Log.Info("History retention deleted {Expired} messages older than {Days} days, {OverShare} of authors over {Share}% of the history and {Oldest} more of the oldest to stay within {MaxBytes} bytes; it now holds {Bytes} bytes",
            _expiredSinceLog, _retention.MaxAge?.TotalDays ?? 0, _evictedOverShareSinceLog, MaxAuthorSharePercent, _evictedSinceLog, _retention.MaxBytes, _storedBytes);
        _expiredSinceLog = _evictedSinceLog = _evictedOverShareSinceLog = 0;
        _nextRetentionLog = now + RetentionLogMilliseconds;
    }

    /// <summary>Commits everything in the ring, in batches; returns whether anything was stored.</summary>
    private bool CommitPending()
    {
        bool stored = false;
        do
        {
            _batch.Clear();
            while (_batch.Count < MaxBatch && _ring.TryRead(out StoredMessage message))
            {
                _batch.Add(message);
            }

            if (_loopWaiting && _ring.UsedBytes <= _ring.Capacity / 2)
            {
                _roomFreed?.Invoke(); // The loop resumes reading while this batch commits.
            }

            if (_batch.Count > 0)
            {
                stored = true;
                RunSafely(() => _storedBytes += _database.Insert(_batch), $"Storing {_batch.Count} messages failed; they are relayed but not in the stored history");
            }
        }
        while (_batch.Count == MaxBatch);
        return stored;
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

/// <summary>How long and how much history the file keeps: messages older than <see cref="MaxAge"/> (null: any age), and at most <see cref="MaxBytes"/> of messages as <see cref="ChatDatabase.SizeOf"/> counts them (0: no limit).</summary>
internal sealed record RetentionPolicy(TimeSpan? MaxAge, long MaxBytes);
