using System.Globalization;
using NLog;
using PollChat.Server.Storage;

namespace PollChat.Server;

/// <summary>
/// Room history: each room's last messages in memory (for the replay on entering and /history),
/// and every public message in the history file (for /search and for the next start). The loop
/// only hands messages over and posts queries; <see cref="HistoryStore"/>'s thread does the disk.
/// </summary>
public sealed partial class ChatServer
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
    private const string ActionPrefix = "* ";

    /// <summary>Clients with a search running or waiting (loop thread only): one each, so one user cannot fill the search queue.</summary>
    private readonly HashSet<ClientConnection> _searching = [];

    /// <summary>Before the loop: opens the file and fills the in-memory histories from it.</summary>
    private void OpenHistoryFile(string directory)
    {
        var retention = new RetentionPolicy(_options.HistoryDays > 0 ? TimeSpan.FromDays(_options.HistoryDays) : null, _options.HistoryMaxBytes);
        _store = HistoryStore.Open(directory, retention, ReceiveBufferBytes, _options.MaxMessageBytes, ActionPrefix.Length + _options.MaxUsernameBytes, Room.MaxNameBytes);
        foreach (Account account in _store.LoadAccounts())
        {
            if (!_accounts.TryAdd(account.Name, account))
            {
                // Registered before names were compared by look-alike skeleton; the first keeps the name.
                LogManager.GetCurrentClassLogger().Warn("Account {Name} looks like account {Other} and is not loaded; remove one with 'PollServer account remove'", account.Name, _accounts[account.Name].Name);
            }
        }

        (List<Ban> bans, _messageOfTheDay) = _store.LoadModeration();
        foreach (Ban ban in bans.Where(b => !b.IsOver(DateTime.UtcNow)))
        {
            _bans.Add(ban.Target, ban);
        }

        int loaded = 0;
        foreach (StoredMessage message in _store.LoadRecent(MaxHistoriesKept, RoomHistory.Capacity))
        {
            HistoryOf(message.Room).Add(message.UtcTime, message.Sender, System.Text.Encoding.UTF8.GetBytes(message.Text));
            loaded++;
        }

        LogManager.GetCurrentClassLogger().Info("History file {Path}: {Messages} recent messages of {Rooms} rooms loaded",
            Path.GetFullPath(Path.Combine(directory, ChatDatabase.FileName)), loaded, _histories.Count);
    }

    /// <summary>A room's history, created empty the first time; past <see cref="MaxHistoriesKept"/>, the quietest one not in use is let go.</summary>
    private RoomHistory HistoryOf(string roomName)
    {
        if (_histories.TryGetValue(roomName, out RoomHistory? history))
        {
            return history;
        }

        if (_histories.Count >= MaxHistoriesKept)
        {
            // Only a room nobody is in can lose its history; when every kept one is in use (1,000 rooms
            // at once) nothing is let go, and the rooms in use bound the count instead (one per client at most).
            string? quietest = null;
            DateTime quietestTime = DateTime.MaxValue;
            foreach ((string room, RoomHistory kept) in _histories)
            {
                if (kept.LastUtcTime < quietestTime && !_rooms.ContainsKey(room))
                {
                    (quietest, quietestTime) = (room, kept.LastUtcTime);
                }
            }

            if (quietest is not null)
            {
                _histories.Remove(quietest);
            }
        }

        history = new RoomHistory();
        _histories.Add(roomName, history);
        return history;
    }

    /// <summary>
    /// Loop thread: how much of <paramref name="wanted"/> may be received from a client so that
    /// every message it could complete is sure to be stored; 0 while the history writer is
    /// behind. A closing client's bytes are only read to be dropped, so it is always read.
    /// </summary>
    private int StorableReadBytes(ClientConnection client, int wanted, long now) =>
        _store is null || client.State == ClientState.Closing
            ? wanted
            : _store.StorableReadBytes(client.Inbound.BufferedCount, client.Tls is not null, wanted, now);

    /// <summary>Whether the frames a client has waiting (held back for the message rate) may be handed on now: all of them must fit in the history hand-off, as for a read.</summary>
    private bool BufferedFramesStorable(ClientConnection client, long now) =>
        _store is null || client.State == ClientState.Closing || _store.CanStoreBuffered(client.Inbound.BufferedCount, now);

    /// <summary>Whether a client is left out of the read list because the history writer is behind (see <see cref="StorableReadBytes"/>).</summary>
    private bool HeldForStorage(ClientConnection client) => _store is { ReadsHeld: true } && client.State != ClientState.Closing;

    /// <summary>
    /// Once per iteration: reads resume when the writer has caught up. Time spent not being read
    /// does not count against a client's unfinished frame (nor is that check made meanwhile).
    /// </summary>
    private void ResumeReadsIfStorageCaughtUp(long now)
    {
        long held = _store?.ResumeReadsIfCaughtUp(now) ?? 0;
        if (held == 0)
        {
            return;
        }

        foreach (ClientConnection client in _connections)
        {
            if (client.UnfinishedFrameSince != 0)
            {
                client.UnfinishedFrameSince += held;
            }
        }
    }

    /// <summary>A public message (or action) joins the room's history in memory and is handed to the file; neither allocates.</summary>
    private void Remember(Room room, string sender, ReadOnlySpan<byte> text)
    {
        DateTime utcNow = DateTime.UtcNow;
        room.History.Add(utcNow, sender, text);
        _store?.Append(utcNow, room.Name, sender, text);
    }

    private void Search(ClientConnection client, string args, long now)
    {
        string[] words = args.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0)
        {
            SendError(client, "Usage: /search <words>", now);
            return;
        }

        if (_store is null)
        {
            SendError(client, "This server keeps no history file, so there is nothing to search", now);
            return;
        }

        if (words.Length > MaxSearchWords || words.Any(word => word.Length > MaxSearchWordChars))
        {
            SendError(client, Notices.SearchTooBig(MaxSearchWords, MaxSearchWordChars), now);
            return;
        }

        if (_searching.Contains(client))
        {
            SendError(client, Notices.SearchStillRunning, now);
            return;
        }

        string room = client.Room!.Name;
        string query = string.Join(' ', words);
        // The answer comes back through the loop; by then the client may have left, which ShowSearchResults checks.
        if (!_store.TrySearch(room, words, MaxSearchResults, MaxSearchScanned, result => Post(() => ShowSearchResults(client, room, query, result))))
        {
            SendError(client, Notices.SearchesBusy, now);
            return;
        }

        _searching.Add(client);
    }

    private void ShowSearchResults(ClientConnection client, string room, string query, SearchResult result)
    {
        _searching.Remove(client);
        if (client.State != ClientState.Chatting)
        {
            return;
        }

        long now = Environment.TickCount64;
        if (result.Failed)
        {
            SendError(client, Notices.SearchFailed, now);
            return;
        }

        List<StoredMessage> found = result.Found;
        if (found.Count == 0)
        {
            SendNotice(client, $"No messages in {room} match '{query}'", now);
            TellIfStopped(client, room, result, now);
            return;
        }

        SendNotice(client, $"{found.Count} {(found.Count == 1 ? "message" : "messages")} in {room} match '{query}', newest first{(found.Count == MaxSearchResults ? $" (the first {MaxSearchResults})" : "")}:", now);
        foreach (StoredMessage message in found)
        {
            string stamp = message.UtcTime.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
            string said = message.Sender.StartsWith(ActionPrefix, StringComparison.Ordinal) ? $"{message.Sender} {message.Text}" : $"{message.Sender}: {message.Text}";
            SendNotice(client, $"[{stamp}] {said}", now);
        }

        TellIfStopped(client, room, result, now);
    }

    private void TellIfStopped(ClientConnection client, string room, SearchResult result, long now)
    {
        if (result.Stopped)
        {
            SendNotice(client, Notices.SearchStopped(HistorySearches.MaxSearchTime, result.Read, room), now);
        }
    }
}
