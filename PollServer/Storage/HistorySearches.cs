using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using NLog;

namespace PollChat.Server.Storage;

/// <summary>
/// /search, kept off the loop and off the history writer: one thread with its own read-only
/// connection to the file (WAL lets it read while the writer commits), one search at a time,
/// each stopped after <see cref="MaxSearchTime"/>, a short queue, and every search cancelled at
/// shutdown. It does not decide who may search or what the answer says: the server does.
/// </summary>
internal sealed class HistorySearches : IDisposable
{
    /// <summary>
    /// About twenty times what an ordinary search of a room's 100,000 latest messages takes; a
    /// search still running by then costs the server more than it is likely to find.
    /// </summary>
    public static readonly TimeSpan MaxSearchTime = TimeSpan.FromSeconds(2);

    /// <summary>Searches waiting beyond this are refused at once: each may take <see cref="MaxSearchTime"/>, so a longer queue would answer its last in more than half a minute.</summary>
    public const int MaxWaiting = 16;

    /// <summary>Shutdown waits this long for the cancelled search to notice: one substring test, with room to spare.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(2);

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    private readonly ChatDatabase _database;
    private readonly BlockingCollection<Request> _waiting = new(MaxWaiting);
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    public HistorySearches(ChatDatabase readOnlyDatabase) => _database = readOnlyDatabase;

    public void Start()
    {
        _thread = new Thread(SearchUntilStopped) { IsBackground = true, Name = "history searches" };
        _thread.Start();
    }

    /// <summary>
    /// Any thread: queues a search; <paramref name="deliver"/> gets its result on the search
    /// thread (the caller arranges for it to reach the loop), unless the server stops first.
    /// False, with nothing queued, when <see cref="MaxWaiting"/> searches already wait.
    /// </summary>
    public bool TryQueue(string room, string[] words, int limit, int scanned, Action<SearchResult> deliver) =>
        !_stop.IsCancellationRequested && _waiting.TryAdd(new Request(room, words, limit, scanned, deliver));

    /// <summary>Cancels the running search (interrupting SQLite if it is inside a step) and those waiting, and closes the connection.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        if (_thread is not null && !_thread.Join(StopTimeout))
        {
            Log.Warn("A history search did not stop within {Seconds} s of shutdown; leaving it", StopTimeout.TotalSeconds);
            return; // Its connection stays open under it: closing it would crash the thread, and the process is ending.
        }

        _database.Dispose();
        _waiting.Dispose();
        _stop.Dispose();
    }

    private void SearchUntilStopped()
    {
        try
        {
            foreach (Request request in _waiting.GetConsumingEnumerable(_stop.Token))
            {
                if (Run(request) is { } result)
                {
                    request.Deliver(result);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutdown: what still waits is dropped with its askers.
        }
    }

    /// <summary>One search; null when shutdown cancelled it, a result with nothing found when it failed (logged), so the asker always hears back.</summary>
    private SearchResult? Run(Request request)
    {
        using CancellationTokenRegistration interrupt = _stop.Token.Register(_database.Interrupt);
        try
        {
            long deadline = Environment.TickCount64 + (long)MaxSearchTime.TotalMilliseconds;
            SearchResult result = _database.Search(request.Room, request.Words, request.Limit, request.Scanned, deadline, _stop.Token);
            return _stop.IsCancellationRequested ? null : result;
        }
        catch (SqliteException) when (_stop.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Error(e, "A history search in {Room} failed", request.Room);
            return new SearchResult([], 0, Stopped: false, Failed: true);
        }
    }

    private sealed record Request(string Room, string[] Words, int Limit, int Scanned, Action<SearchResult> Deliver);
}
