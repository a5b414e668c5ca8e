using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using NLog;
using PollChat.Common.Protocol;
using PollChat.Server.Chat;
using PollChat.Server.Loop;
using PollChat.Server.Moderation;
using PollChat.Server.Storage;

namespace PollChat.Server.Commands;

/// <summary>
/// Kicks, bans (of a name or an address), mutes and the message of the day. The same commands
/// serve admins in the chat and the operator at the console; only who is named as doing it, and
/// where the answers go, differ (<see cref="CommandContext"/>). The state is
/// <see cref="ModerationState"/>'s; disconnecting is the loop's.
/// </summary>
internal sealed partial class ModerationCommands(ModerationState moderation, Users users, Outbox outbox, IConnections connections)
{
    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    public void Kick(CommandContext context, string args)
    {
        (string name, string? reason) = SplitFirstWord(args);
        if (name.Length == 0)
        {
            context.Reply(Notices.KickUsage);
            return;
        }

        if (!users.TryGet(name, out ChatUser? user))
        {
            context.Reply(Notices.NoSuchUser(name));
            return;
        }

        user.KickedBy = context.By;
        user.LeaveReason = reason is null ? null : ControlCharacters.Strip(reason);
        connections.Close(user.Connection, CloseReason.Kicked, Notices.Kicked(context.By, user.LeaveReason), context.Now, detail: $"by {context.By}{(user.LeaveReason is null ? "" : ": " + user.LeaveReason)}");
        context.Reply(Notices.KickedUser(user.Name!, user.LeaveReason));
    }

    public void Ban(CommandContext context, string args)
    {
        (string target, string? durationText) = SplitFirstWord(args);
        TimeSpan? duration = null;
        if (target.Length == 0 || (durationText is not null && (duration = ParseDuration(durationText)) is null))
        {
            context.Reply(Notices.BanUsage);
            return;
        }

        bool isAddress = IPAddress.TryParse(target, out IPAddress? address);
        if (isAddress)
        {
            target = address!.ToString();
        }
        else if (Username.Validate(target, ProtocolLimits.MaxUsernameBytesAnyServer) is { } problem)
        {
            context.Reply(Notices.BanRefused(problem));
            return;
        }

        var ban = new Ban(target, duration is { } d ? DateTime.UtcNow + d : null, context.By);
        moderation.Ban(ban);
        int dropped = 0;
        long now = context.Now;
        foreach (ChatUser user in users.All)
        {
            bool hit = isAddress ? user.Address == target : string.Equals(user.Name, target, StringComparison.OrdinalIgnoreCase);
            if (hit && user.State != UserState.Left)
            {
                connections.Close(user.Connection, CloseReason.Banned, Notices.Banned(ban.UtcUntil), now, detail: $"by {context.By}");
                dropped++;
            }
        }

        Log.Info("{Target} banned by {By}{Until}", target, context.By, ban.UtcUntil is null ? "" : " until " + Notices.UtcTime(ban.UtcUntil.Value));
        context.Reply(Notices.BannedTarget(target, ban.UtcUntil, dropped));
    }

    public void Unban(CommandContext context, string target)
    {
        if (target.Length == 0)
        {
            context.Reply(Notices.UnbanUsage);
            return;
        }

        if (IPAddress.TryParse(target, out IPAddress? address))
        {
            target = address.ToString();
        }

        context.Reply(moderation.Unban(target) ? Notices.Unbanned(target) : Notices.WasNotBanned(target));
    }

    public void Mute(CommandContext context, string args)
    {
        (string name, string? durationText) = SplitFirstWord(args);
        TimeSpan? duration = null;
        if (name.Length == 0 || (durationText is not null && (duration = ParseDuration(durationText)) is null))
        {
            context.Reply(Notices.MuteUsage);
            return;
        }

        if (!users.TryGet(name, out ChatUser? user))
        {
            context.Reply(Notices.NoSuchUser(name));
            return;
        }

        moderation.Mute(user.Name!, duration is { } d ? DateTime.UtcNow + d : null);
        outbox.Notice(user, Notices.YouWereMuted(context.By, duration), context.Now);
        context.Reply(Notices.MutedUser(user.Name!, duration));
    }

    public void Unmute(CommandContext context, string name)
    {
        if (name.Length == 0)
        {
            context.Reply(Notices.UnmuteUsage);
        }
        else if (moderation.Unmute(name))
        {
            if (users.TryGet(name, out ChatUser? user))
            {
                outbox.Notice(user, Notices.YouCanSpeakAgain, context.Now);
            }

            context.Reply(Notices.CanSpeakAgain(name));
        }
        else
        {
            context.Reply(Notices.WasNotMuted(name));
        }
    }

    public void SetMessageOfTheDay(CommandContext context, string text)
    {
        if (text.Length == 0)
        {
            context.Reply(moderation.MessageOfTheDay is null ? Notices.NoMessageOfTheDay : Notices.MessageOfTheDay(moderation.MessageOfTheDay));
            return;
        }

        string? saved = text.Equals("off", StringComparison.OrdinalIgnoreCase) ? null : ControlCharacters.Strip(text);
        moderation.SetMessageOfTheDay(saved);
        Log.Info("Message of the day {What} by {By}", saved is null ? "cleared" : "set", context.By);
        context.Reply(saved is null ? Notices.MessageOfTheDayCleared : Notices.MessageOfTheDaySet(saved));
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
}
