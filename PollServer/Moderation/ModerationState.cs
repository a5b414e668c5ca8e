using PollChat.Server.Chat;
using PollChat.Server.Storage;

namespace PollChat.Server.Moderation;

/// <summary>
/// Keeping order, as state: bans (of a name or an address, saved in the history file), mutes (in
/// memory) and the message of the day. It answers "is this banned", "is this muted" and keeps
/// what the moderation commands decide; it does not disconnect anyone (the commands ask the loop).
/// </summary>
internal sealed class ModerationState(ChatHistory history, Outbox outbox)
{
    private readonly Dictionary<string, Ban> _bans = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, DateTime?> _mutes = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Told to everyone arriving; null when there is none.</summary>
    public string? MessageOfTheDay { get; private set; }

    /// <summary>At start, from the history file: bans still in force and the message of the day.</summary>
    public void Load(List<Ban> bans, string? messageOfTheDay)
    {
        foreach (Ban ban in bans.Where(b => !b.IsOver(DateTime.UtcNow)))
        {
            _bans.Add(ban.Target, ban);
        }

        MessageOfTheDay = messageOfTheDay;
    }

    /// <summary>A ban in force on <paramref name="target"/> (a name or an address); an expired one is dropped on the way.</summary>
    public Ban? BanOn(string target)
    {
        if (_bans.Count == 0 || !_bans.TryGetValue(target, out Ban? ban))
        {
            return null;
        }

        if (!ban.IsOver(DateTime.UtcNow))
        {
            return ban;
        }

        _bans.Remove(target);
        history.Save(database => database.DeleteBan(target));
        return null;
    }

    public void Ban(Ban ban)
    {
        _bans[ban.Target] = ban;
        history.Save(database => database.SaveBan(ban));
    }

    /// <summary>Lifts a ban; false if there was none.</summary>
    public bool Unban(string target)
    {
        if (!_bans.Remove(target))
        {
            return false;
        }

        history.Save(database => database.DeleteBan(target));
        return true;
    }

    public void Mute(string name, DateTime? until) => _mutes[name] = until;

    /// <summary>Lets someone speak again; false if they were not muted.</summary>
    public bool Unmute(string name) => _mutes.Remove(name);

    /// <summary>Sets or clears (null) the message of the day, and saves it.</summary>
    public void SetMessageOfTheDay(string? text)
    {
        MessageOfTheDay = text;
        history.Save(database => database.SetSetting(ChatDatabase.MessageOfTheDayKey, text));
    }

    /// <summary>Muted users' messages, actions and private messages are refused with a notice; costs nothing while nobody is muted.</summary>
    public bool RefusedAsMuted(ChatUser user, long now)
    {
        if (_mutes.Count == 0 || !_mutes.TryGetValue(user.Name!, out DateTime? until))
        {
            return false;
        }

        if (until is { } end && end <= DateTime.UtcNow)
        {
            _mutes.Remove(user.Name!);
            return false;
        }

        outbox.Error(user, Notices.StillMuted(until - DateTime.UtcNow), now);
        return true;
    }
}
