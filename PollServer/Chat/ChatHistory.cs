using NLog;
using PollChat.Server.Loop;
using PollChat.Server.Storage;

namespace PollChat.Server.Chat;

/// <summary>
/// Room history as users see it: the replay on entering and /history (from each room's
/// <see cref="RoomHistory"/> in memory), /search, and every public message handed to the history
/// file. It owns the <see cref="HistoryStore"/>: the loop only paces reads by it
/// (<see cref="IInputGate"/>), and accounts and bans are saved through <see cref="Save"/>, in
/// order with the messages. The disk is the store's thread's; nothing here waits for it.
/// </summary>
internal sealed class ChatHistory(ServerOptions options, Rooms rooms, Outbox outbox, ILoop loop, LoopClock clock)
{
    /// <summary>A page of results: enough to find the message meant, few enough to read.</summary>
    private const int MaxSearchResults = 20;

    /// <summary>A search reads at most this many of the room's latest messages: about a tenth of a second for an ordinary search, on the search thread.</summary>
    private const int MaxSearchScanned = 100_000;

    /// <summary>A person narrows a search with a handful of words; every word is tested against every message read, so the count bounds the work.</summary>
    private const int MaxSearchWords = 10;

    /// <summary>Longer than any word or address one looks for; a substring test costs up to the word's length per character of the message, so this bounds one test (to milliseconds).</summary>
    private const int MaxSearchWordChars = 100;

    /// <summary>How an action's sender is stored and shown: "* alice".</summary>
    public const string ActionPrefix = "* ";

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    /// <summary>Users with a search running or waiting: one each, so one user cannot fill the search queue.</summary>
    private readonly HashSet<ChatUser> _searching = [];

    /// <summary>The history file; null when the server keeps none (no data directory).</summary>
    public HistoryStore? Store { get; private set; }

    /// <summary>Before the loop: opens the file (made on first run) and fills the rooms' recent histories from it.</summary>
    /// <param name="directory">The data directory.</param>
    /// <param name="maxReadBytes">The most the loop reads from a client at once, which the hand-off must be able to take.</param>
    public HistoryStore Open(string directory, int maxReadBytes)
    {
        var retention = new RetentionPolicy(options.HistoryDays > 0 ? TimeSpan.FromDays(options.HistoryDays) : null, options.HistoryMaxBytes);
        Store = HistoryStore.Open(directory, retention, maxReadBytes, options.MaxMessageBytes, ActionPrefix.Length + options.MaxUsernameBytes, Room.MaxNameBytes);
        int loaded = 0;
        foreach (StoredMessage message in Store.LoadRecent(Rooms.MaxHistoriesKept, RoomHistory.Capacity))
        {
            rooms.HistoryOf(message.Room).Add(message.UtcTime, message.Sender, System.Text.Encoding.UTF8.GetBytes(message.Text));
            loaded++;
        }

        Log.Info("History file {Path}: {Messages} recent messages of {Rooms} rooms loaded",
            Path.GetFullPath(Path.Combine(directory, ChatDatabase.FileName)), loaded, rooms.HistoriesKept);
        return Store;
    }

    /// <summary>Lets the writer commit what it was handed and closes the file.</summary>
    public void Close()
    {
        Store?.Dispose();
        Store = null;
    }

    /// <summary>A write other than a message (an account, a ban, a setting), in order with the messages; nothing when there is no file.</summary>
    public void Save(Action<ChatDatabase> write) => Store?.Execute(write);

    /// <summary>A public message (or action) joins the room's history in memory and is handed to the file; neither allocates.</summary>
    public void Remember(Room room, string sender, ReadOnlySpan<byte> text)
    {
        DateTime utcNow = DateTime.UtcNow;
        room.History.Add(utcNow, sender, text);
        Store?.Append(utcNow, room.Name, sender, text);
    }

    /// <summary>Sends a room's last messages as <see cref="PollChat.Common.Protocol.HistoryReplay"/> describes. Returns false if there were none.</summary>
    public bool Replay(ChatUser user, Room room, int count, long now)
    {
        List<RoomHistory.Entry> entries = [.. room.History.Last(count)];
        if (entries.Count == 0)
        {
            return false;
        }

        outbox.Notice(user, PollChat.Common.Protocol.HistoryReplay.Heading(entries.Count, room.Name), now);
        foreach (RoomHistory.Entry entry in entries)
        {
            string sender = PollChat.Common.Protocol.HistoryReplay.Sender(entry.UtcTime.ToLocalTime(), entry.Sender);
            outbox.Send(user, [.. PollChat.Common.Framing.Frame.Encode(sender), .. PollChat.Common.Framing.Frame.Encode((ReadOnlySpan<byte>)entry.Text.AsSpan(0, entry.Length))], now);
        }

        return true;
    }

    /// <summary>/search: checked here, run on the search thread, answered on the loop when it is done.</summary>
    public void Search(ChatUser user, string args, long now)
    {
        string[] words = args.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0)
        {
            outbox.Error(user, Notices.SearchUsage, now);
            return;
        }

        if (Store is null)
        {
            outbox.Error(user, Notices.NoHistoryFile, now);
            return;
        }

        if (words.Length > MaxSearchWords || words.Any(word => word.Length > MaxSearchWordChars))
        {
            outbox.Error(user, Notices.SearchTooBig(MaxSearchWords, MaxSearchWordChars), now);
            return;
        }

        if (_searching.Contains(user))
        {
            outbox.Error(user, Notices.SearchStillRunning, now);
            return;
        }

        string room = user.Room!.Name;
        string query = string.Join(' ', words);
        // The answer comes back through the loop; by then the user may have left, which ShowResults checks.
        if (!Store.TrySearch(room, words, MaxSearchResults, MaxSearchScanned, result => loop.Post(() => ShowResults(user, room, query, result))))
        {
            outbox.Error(user, Notices.SearchesBusy, now);
            return;
        }

        _searching.Add(user);
    }

    private void ShowResults(ChatUser user, string room, string query, SearchResult result)
    {
        _searching.Remove(user);
        if (user.State != UserState.Chatting)
        {
            return;
        }

        long now = clock.Now;
        if (result.Failed)
        {
            outbox.Error(user, Notices.SearchFailed, now);
            return;
        }

        List<StoredMessage> found = result.Found;
        if (found.Count == 0)
        {
            outbox.Notice(user, Notices.NoSearchHits(room, query), now);
            TellIfStopped(user, room, result, now);
            return;
        }

        outbox.Notice(user, Notices.SearchHits(found.Count, room, query, MaxSearchResults), now);
        foreach (StoredMessage message in found)
        {
            bool action = message.Sender.StartsWith(ActionPrefix, StringComparison.Ordinal);
            outbox.Notice(user, Notices.SearchHit(message.UtcTime.ToLocalTime(), message.Sender, message.Text, action), now);
        }

        TellIfStopped(user, room, result, now);
    }

    private void TellIfStopped(ChatUser user, string room, SearchResult result, long now)
    {
        if (result.Stopped)
        {
            outbox.Notice(user, Notices.SearchStopped(HistorySearches.MaxSearchTime, result.Read, room), now);
        }
    }
}
