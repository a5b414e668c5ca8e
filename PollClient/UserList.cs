using PollChat.Common.Protocol;

namespace PollChat.Client;

/// <summary>
/// Who is online and who shares our room, kept from the server's rich-mode events. Pure state
/// with no I/O, so it can be tested on its own; the network thread owns it. Empty and untracked
/// until rich mode starts, and against a classic server forever.
/// </summary>
public sealed class UserList
{
    private readonly SortedSet<string> _online = new(StringComparer.OrdinalIgnoreCase);
    private readonly SortedSet<string> _members = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Our own name as the server knows it; changes with /nick.</summary>
    public string? MyName { get; private set; }

    /// <summary>The room we are in.</summary>
    public string? Room { get; private set; }

    /// <summary>Whether the lists are known to be current: a snapshot arrived and the server still sends every change.</summary>
    public bool Tracked { get; private set; }

    public IReadOnlyCollection<string> Online => _online;

    /// <summary>Whether <paramref name="name"/> is online, when the list is current; null when it is not known.</summary>
    public bool? IsOnline(string name) => Tracked ? _online.Contains(name) : null;

    public IReadOnlyCollection<string> Members => _members;

    /// <summary>Forgets everything, as after a lost connection.</summary>
    public void Clear()
    {
        _online.Clear();
        _members.Clear();
        MyName = Room = null;
        Tracked = false;
    }

    /// <summary>Takes in one event; events that say nothing about users or rooms change nothing.</summary>
    public void Apply(RichEvent e)
    {
        switch (e.Type)
        {
            case RichEventTypes.Hello:
                MyName = e.Name;
                Room = e.Room;
                break;
            case RichEventTypes.Users:
                Room = e.Room;
                Replace(_members, e.Members);
                Replace(_online, e.Online);
                Tracked = e.Tracked == true;
                break;
            case RichEventTypes.Tracking:
                Tracked = e.Tracked == true && Tracked;
                break;
            case RichEventTypes.Room:
                Room = e.Room;
                Replace(_members, e.Members);
                break;
            case RichEventTypes.Online when e.Name is not null:
                _online.Add(e.Name);
                break;
            case RichEventTypes.Offline when e.Name is not null:
                _online.Remove(e.Name);
                _members.Remove(e.Name);
                break;
            case RichEventTypes.Entered when e.Name is not null && IsOurRoom(e.Room):
                _members.Add(e.Name);
                _online.Add(e.Name);
                break;
            case RichEventTypes.Left when e.Name is not null && IsOurRoom(e.Room):
                _members.Remove(e.Name);
                break;
            case RichEventTypes.Renamed when e.Old is not null && e.Name is not null:
                Rename(_online, e.Old, e.Name);
                Rename(_members, e.Old, e.Name);
                if (string.Equals(MyName, e.Old, StringComparison.OrdinalIgnoreCase))
                {
                    MyName = e.Name;
                }

                break;
        }
    }

    private bool IsOurRoom(string? room) => string.Equals(room, Room, StringComparison.OrdinalIgnoreCase);

    private static void Replace(SortedSet<string> set, IReadOnlyList<string>? names)
    {
        set.Clear();
        set.UnionWith(names ?? []);
    }

    private static void Rename(SortedSet<string> set, string oldName, string newName)
    {
        if (set.Remove(oldName))
        {
            set.Add(newName);
        }
    }
}
