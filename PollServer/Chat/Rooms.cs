using PollChat.Common.Protocol;

namespace PollChat.Server.Chat;

/// <summary>
/// The rooms that have members, and the recent history of rooms that had them. Entering creates a
/// room, the last one leaving removes it; its <see cref="RoomHistory"/> stays, so the room finds
/// its messages again. It does not announce anything: whoever moves a user does.
/// </summary>
internal sealed class Rooms
{
    /// <summary>Each kept history holds up to 100 messages in memory; past this many rooms the quietest are let go (the file keeps them for /search).</summary>
    public const int MaxHistoriesKept = 1000;

    private readonly Dictionary<string, Room> _rooms = new(Confusables.NameComparer);

    /// <summary>Rooms' last messages, kept when a room empties so it finds them again; bounded by <see cref="MaxHistoriesKept"/>.</summary>
    private readonly Dictionary<string, RoomHistory> _histories = new(StringComparer.OrdinalIgnoreCase);

    public int Count => _rooms.Count;

    /// <summary>How many rooms' histories are kept in memory.</summary>
    public int HistoriesKept => _histories.Count;

    /// <summary>Puts a chatting user into the named room, creating it if needed; returns the room.</summary>
    public Room Enter(ChatUser user, string roomName)
    {
        if (!_rooms.TryGetValue(roomName, out Room? room))
        {
            room = new Room(roomName, HistoryOf(roomName));
            _rooms.Add(roomName, room);
        }

        room.Members.Add(user);
        user.Room = room;
        return room;
    }

    /// <summary>Takes a user out of its room, which disappears once empty; returns the room it left.</summary>
    public Room Leave(ChatUser user)
    {
        Room room = user.Room!;
        room.Members.Remove(user);
        user.Room = null;
        if (room.Members.Count == 0)
        {
            _rooms.Remove(room.Name);
        }

        return room;
    }

    public IEnumerable<Room> Sorted() => _rooms.Values.OrderBy(r => r.Name, StringComparer.OrdinalIgnoreCase);

    public static List<string> MemberNames(Room room) =>
        [.. room.Members.Where(m => m.State == UserState.Chatting).Select(m => m.Name!).Order(StringComparer.OrdinalIgnoreCase)];

    /// <summary>"Rooms (2): #dev (1 member: ship it), #lobby (3 members)": for /rooms and the operator's /rooms alike.</summary>
    public string Line(int maxListed)
    {
        IEnumerable<string> rooms = Sorted().Select(r => Notices.RoomInList(r.Name, r.Members.Count, r.Topic));
        return Notices.RoomList(_rooms.Count, rooms.Take(maxListed));
    }

    /// <summary>A room's history, created empty the first time; past <see cref="MaxHistoriesKept"/>, the quietest one not in use is let go.</summary>
    public RoomHistory HistoryOf(string roomName)
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
}
