using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using PollChat.Common.Protocol;
using PollChat.Server.Storage;

namespace PollChat.Server;

/// <summary>
/// Keeping order: kicks, bans (of a name or an address, saved in the history file), mutes (in
/// memory) and the message of the day. The same commands serve the operator at the server's
/// console and admins in the chat; only who is named as doing it differs.
/// </summary>
public sealed partial class ChatServer
{
    private static readonly ModerationSpec[] ModerationCommands =
    [
        new("kick", "/kick <user> [reason]", "disconnect someone, telling them and their room why", (s, args, reply, by) => s.Kick(args, reply, by)),
        new("ban", "/ban <user|address> [duration]", "disconnect and keep out a name or an IP address, for a time (30m, 12h, 7d) or for good", (s, args, reply, by) => s.BanTarget(args, reply, by)),
        new("unban", "/unban <user|address>", "lift a ban", (s, args, reply, _) => s.Unban(args, reply)),
        new("mute", "/mute <user> [duration]", "keep someone's messages from reaching anyone, for a time or until /unmute", (s, args, reply, by) => s.Mute(args, reply, by)),
        new("unmute", "/unmute <user>", "let someone speak again", (s, args, reply, _) => s.Unmute(args, reply)),
        new("motd", "/motd [text|off]", "show, set or clear the message everyone gets on arriving", (s, args, reply, by) => s.SetMessageOfTheDay(args, reply, by)),
    ];

    private readonly Dictionary<string, Ban> _bans = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, DateTime?> _mutes = new(StringComparer.OrdinalIgnoreCase);
    private string? _messageOfTheDay;

    /// <summary>Whether a chatting client may use the moderation commands: logged in to an account marked admin.</summary>
    private bool IsAdmin(ClientConnection client) => client.LoggedIn && _accounts.TryGetValue(client.Name!, out Account? account) && account.Admin;

    /// <summary>A ban in force on <paramref name="target"/> (a name or an address); an expired one is dropped on the way.</summary>
    private Ban? BanOn(string target)
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
        _store?.Execute(database => database.DeleteBan(target));
        return null;
    }

    /// <summary>Muted clients' messages, actions and private messages are refused with a notice; costs nothing while nobody is muted.</summary>
    private bool RefusedAsMuted(ClientConnection client, long now)
    {
        if (_mutes.Count == 0 || !_mutes.TryGetValue(client.Name!, out DateTime? until))
        {
            return false;
        }

        if (until is { } end && end <= DateTime.UtcNow)
        {
            _mutes.Remove(client.Name!);
            return false;
        }

        SendError(client, until is { } time ? $"You are muted for {Math.Ceiling((time - DateTime.UtcNow).TotalMinutes):0} more min; nothing you say reaches anyone" : "You are muted; nothing you say reaches anyone", now);
        return true;
    }

    private void Kick(string args, Action<string> reply, string by)
    {
        (string name, string? reason) = SplitFirstWord(args);
        if (name.Length == 0)
        {
            reply("Usage: /kick <user> [reason]");
            return;
        }

        if (!_byName.TryGetValue(name, out ClientConnection? client))
        {
            reply(Notices.NoSuchUser(name));
            return;
        }

        client.KickedBy = by;
        client.KickReason = reason is null ? null : ControlCharacters.Strip(reason);
        Disconnect(client, CloseReason.Kicked, Notices.Kicked(by, client.KickReason), Environment.TickCount64, detail: $"by {by}{(client.KickReason is null ? "" : ": " + client.KickReason)}");
        reply($"Kicked {client.Name}{(client.KickReason is null ? "" : $": {client.KickReason}")}");
    }

    private void BanTarget(string args, Action<string> reply, string by)
    {
        (string target, string? durationText) = SplitFirstWord(args);
        TimeSpan? duration = null;
        if (target.Length == 0 || (durationText is not null && (duration = ParseDuration(durationText)) is null))
        {
            reply("Usage: /ban <user|address> [duration], a duration like 30s, 15m, 12h or 7d; none bans for good");
            return;
        }

        bool isAddress = IPAddress.TryParse(target, out IPAddress? address);
        if (isAddress)
        {
            target = address!.ToString();
        }
        else if (Username.Validate(target, ProtocolLimits.MaxUsernameBytesAnyServer) is { } problem)
        {
            reply($"Not banned: {problem}");
            return;
        }

        var ban = new Ban(target, duration is { } d ? DateTime.UtcNow + d : null, by);
        _bans[target] = ban;
        _store?.Execute(database => database.SaveBan(ban));
        int dropped = 0;
        long now = Environment.TickCount64;
        foreach (ClientConnection client in _connections)
        {
            bool hit = isAddress ? client.Address == target : string.Equals(client.Name, target, StringComparison.OrdinalIgnoreCase);
            if (hit && client.State != ClientState.Closing)
            {
                Disconnect(client, CloseReason.Banned, Notices.Banned(ban.UtcUntil), now, detail: $"by {by}");
                dropped++;
            }
        }

        Log.Info("{Target} banned by {By}{Until}", target, by, ban.UtcUntil is null ? "" : " until " + Notices.UtcTime(ban.UtcUntil.Value));
        reply($"Banned {target} {(ban.UtcUntil is { } until ? "until " + Notices.UtcTime(until) : "for good")}{(dropped > 0 ? $"; {dropped} disconnected" : "")}");
    }

    private void Unban(string target, Action<string> reply)
    {
        if (target.Length == 0)
        {
            reply("Usage: /unban <user|address>");
            return;
        }

        if (IPAddress.TryParse(target, out IPAddress? address))
        {
            target = address.ToString();
        }

        if (!_bans.Remove(target))
        {
            reply($"{target} is not banned");
            return;
        }

        _store?.Execute(database => database.DeleteBan(target));
        reply($"{target} is no longer banned");
    }

    private void Mute(string args, Action<string> reply, string by)
    {
        (string name, string? durationText) = SplitFirstWord(args);
        TimeSpan? duration = null;
        if (name.Length == 0 || (durationText is not null && (duration = ParseDuration(durationText)) is null))
        {
            reply("Usage: /mute <user> [duration], a duration like 30s, 15m, 12h or 7d; none mutes until /unmute");
            return;
        }

        if (!_byName.TryGetValue(name, out ClientConnection? client))
        {
            reply(Notices.NoSuchUser(name));
            return;
        }

        _mutes[client.Name!] = duration is { } d ? DateTime.UtcNow + d : null;
        string howLong = duration is { } length ? $" for {Notices.Duration((long)length.TotalMilliseconds)}" : "";
        SendNotice(client, $"You were muted by {by}{howLong}: nothing you say reaches anyone", Environment.TickCount64);
        reply($"Muted {client.Name}{howLong}");
    }

    private void Unmute(string name, Action<string> reply)
    {
        if (name.Length == 0)
        {
            reply("Usage: /unmute <user>");
        }
        else if (_mutes.Remove(name))
        {
            if (_byName.TryGetValue(name, out ClientConnection? client))
            {
                SendNotice(client, "You can speak again", Environment.TickCount64);
            }

            reply($"{name} can speak again");
        }
        else
        {
            reply($"{name} is not muted");
        }
    }

    private void SetMessageOfTheDay(string text, Action<string> reply, string by)
    {
        if (text.Length == 0)
        {
            reply(_messageOfTheDay is null ? "No message of the day; set one with /motd <text>" : Notices.MessageOfTheDay(_messageOfTheDay));
            return;
        }

        _messageOfTheDay = text.Equals("off", StringComparison.OrdinalIgnoreCase) ? null : ControlCharacters.Strip(text);
        string? saved = _messageOfTheDay;
        _store?.Execute(database => database.SetSetting(ChatDatabase.MessageOfTheDayKey, saved));
        Log.Info("Message of the day {What} by {By}", saved is null ? "cleared" : "set", by);
        reply(saved is null ? "Message of the day cleared" : $"Message of the day set: {saved}");
    }

    /// <summary>"30s", "15m", "12h", "7d": a positive count and a unit; null for anything else.</summary>
    private static TimeSpan? ParseDuration(string text)
    {
        Match match = DurationPattern().Match(text);
        if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count == 0)
        {
            return null;
        }

        return match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(count),
            "m" => TimeSpan.FromMinutes(count),
            "h" => TimeSpan.FromHours(count),
            _ => TimeSpan.FromDays(count),
        };
    }

    private static (string First, string? Remainder) SplitFirstWord(string args)
    {
        int space = args.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? (args, null) : (args[..space], args[(space + 1)..].Trim() is { Length: > 0 } rest ? rest : null);
    }

    [GeneratedRegex(@"^(\d{1,6})([smhd])$")]
    private static partial Regex DurationPattern();

    /// <summary>One moderation command: its name, how to use it, one line for help, and what it does given its arguments, where to answer and who does it.</summary>
    private sealed record ModerationSpec(string Name, string Usage, string Summary, Action<ChatServer, string, Action<string>, string> Run);
}
