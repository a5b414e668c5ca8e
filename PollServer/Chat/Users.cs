using PollChat.Common.Protocol;

namespace PollChat.Server.Chat;

/// <summary>
/// Who is here: every connection's <see cref="ChatUser"/> (named or not, until it is gone) and
/// the index of chatting users by name. Names are compared as PROTOCOL.md's "Text and names"
/// says: look-alikes are one name. It does not decide who may take a name; the handler and
/// the logins do, and tell it.
/// </summary>
internal sealed class Users
{
    private readonly Dictionary<string, ChatUser> _byName = new(Confusables.NameComparer);

    /// <summary>Every user until its connection is gone; announcements go through this list, which no close changes in the middle of a turn.</summary>
    public List<ChatUser> All { get; } = [];

    /// <summary>How many are chatting (named and in a room).</summary>
    public int OnlineCount => _byName.Count;

    /// <summary>The chatting users' names, in no order.</summary>
    public IReadOnlyCollection<string> OnlineNames => _byName.Keys;

    /// <summary>The chatting users, in no order.</summary>
    public IEnumerable<ChatUser> Online => _byName.Values;

    public void Add(ChatUser user)
    {
        user.Index = All.Count;
        All.Add(user);
    }

    /// <summary>Its connection is gone: the last one takes its place, so removal costs no search.</summary>
    public void Remove(ChatUser user)
    {
        int last = All.Count - 1;
        ChatUser moved = All[last];
        All[user.Index] = moved;
        moved.Index = user.Index;
        All.RemoveAt(last);
    }

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ChatUser? user) => _byName.TryGetValue(name, out user);

    public void List(ChatUser user) => _byName.Add(user.Name!, user);

    public void Unlist(string name) => _byName.Remove(name);

    /// <summary>The chatting users' names, sorted as people read them.</summary>
    public List<string> SortedNames() => [.. _byName.Keys.Order(StringComparer.OrdinalIgnoreCase)];
}
