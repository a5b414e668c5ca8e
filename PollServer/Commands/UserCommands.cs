using System.Text;
using NLog;
using PollChat.Common.Framing;
using PollChat.Common.Protocol;
using PollChat.Server.Accounts;
using PollChat.Server.Chat;
using PollChat.Server.Loop;
using PollChat.Server.Moderation;

namespace PollChat.Server.Commands;

/// <summary>
/// The commands about people: who is here, private messages, actions, names, away, ignoring,
/// /whois, /quit and rich mode. Everything they say travels as ordinary pairs, so classic
/// clients read it like chat: notices from the server's name, private messages from
/// <c>"alice (private)"</c>, actions from <c>"* alice"</c>. Those senders contain a space or
/// start with '*', so no username can imitate them.
/// </summary>
internal sealed class UserCommands(ServerOptions options, Users users, Outbox outbox, Presence presence, Logins logins, ModerationState moderation, ChatHistory history, IConnections connections)
{
    /// <summary>A list of users longer than this would scroll the screen away; the rest is counted.</summary>
    public const int MaxNamesListed = 100;

    /// <summary>A quit's reason is a line in everyone's room: a sentence, not a message's worth.</summary>
    private const int MaxQuitReasonChars = 200;

    /// <summary>Enough for any real annoyance; a bound so one client cannot grow the server's memory without end.</summary>
    private const int MaxIgnoredPerUser = 100;

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    public void ShowUsers(CommandContext context)
    {
        ChatUser user = context.Sender;
        if (user.Rich)
        {
            outbox.Event(user, presence.UsersSnapshot(user), context.Now);
            return;
        }

        Room room = user.Room!;
        context.Reply(Notices.NameList(Notices.InRoom(room.Name), Rooms.MemberNames(room), MaxNamesListed));
        context.Reply(Notices.NameList(Notices.Online, users.SortedNames(), MaxNamesListed));
    }

    public void SendPrivate(CommandContext context, string args)
    {
        int space = args.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || args[(space + 1)..].Trim().Length == 0)
        {
            context.Error(Notices.MsgUsage);
            return;
        }

        DeliverPrivate(context.Sender, args[..space], args[(space + 1)..].Trim(), context.Now);
    }

    public void Reply(CommandContext context, string text)
    {
        ChatUser sender = context.Sender;
        if (sender.LastPrivateFrom is null)
        {
            context.Error(Notices.NoPrivateMessageYet);
        }
        else if (text.Length == 0)
        {
            context.Error(Notices.ReplyUsage);
        }
        else
        {
            DeliverPrivate(sender, sender.LastPrivateFrom, text, context.Now);
        }
    }

    private void DeliverPrivate(ChatUser sender, string recipientName, string text, long now)
    {
        if (moderation.RefusedAsMuted(sender, now))
        {
            return;
        }

        if (!users.TryGet(recipientName, out ChatUser? recipient))
        {
            outbox.Error(sender, Notices.NoSuchUser(recipientName), now);
            return;
        }

        sender.LastMessageAt = now;
        if (recipient.Ignored?.Contains(sender.Name!) != true)
        {
            // Dropped silently when ignored, as IRC does: telling the sender would invite working around it.
            recipient.LastPrivateFrom = sender.Name;
            SendPrivate(recipient, sender.Name!, recipient.Name!, Notices.PrivateFrom(sender.Name!), text, now);
        }

        SendPrivate(sender, sender.Name!, recipient.Name!, Notices.PrivateTo(recipient.Name!), text, now);
        if (recipient.AwayText is not null)
        {
            outbox.Notice(sender, Notices.IsAway(recipient.Name!, recipient.AwayText), now);
        }
    }

    /// <summary>A private message as the client reads it: an event in rich mode, otherwise a pair from a sender no user can take.</summary>
    private void SendPrivate(ChatUser user, string from, string to, string classicSender, string text, long now)
    {
        if (user.Rich)
        {
            outbox.Event(user, new RichEvent { Type = RichEventTypes.Private, From = from, To = to, Text = text }, now);
        }
        else
        {
            outbox.Pair(user, classicSender, text, now);
        }
    }

    public void Act(CommandContext context, string action)
    {
        ChatUser user = context.Sender;
        if (action.Length == 0)
        {
            context.Error(Notices.MeUsage);
            return;
        }

        user.LastMessageAt = context.Now;
        if (moderation.RefusedAsMuted(user, context.Now))
        {
            return;
        }

        string actor = ChatHistory.ActionPrefix + user.Name;
        byte[] text = Encoding.UTF8.GetBytes(action);
        outbox.ToRoom(user.Room!, Frame.Encode(actor), text, except: user, context.Now, from: user.Name);
        history.Remember(user.Room!, actor, text);
    }

    public void ChangeName(CommandContext context, string newName)
    {
        ChatUser user = context.Sender;
        string oldName = user.Name!;
        string? problem = newName.Length == 0 ? Notices.NickUsage : Username.Validate(newName, options.MaxUsernameBytes);
        if (problem is null && logins.NameInUse(newName, except: user))
        {
            problem = Notices.NameTakenReason(newName, logins.HeldName(newName));
        }

        bool sameAccount = newName.Equals(oldName, StringComparison.OrdinalIgnoreCase);
        if (problem is null && !sameAccount && logins.IsRegistered(newName))
        {
            problem = Notices.NameNeedsLogin(newName);
        }

        if (problem is not null)
        {
            context.Error(Notices.NameNotChanged(problem));
            return;
        }

        users.Unlist(oldName);
        user.AcceptName(newName);
        user.LoggedIn &= sameAccount; // A login belongs to the name it proved.
        users.List(user);
        Log.Info("#{Id} {User} is now {NewName}", user.Id, oldName, newName);
        outbox.AnnounceToEveryone(Notices.Renamed(oldName, newName), new RichEvent { Type = RichEventTypes.Renamed, Old = oldName, Name = newName }, context.Now);
    }

    public void SetAway(CommandContext context, string text)
    {
        context.Sender.AwayText = text.Length == 0 ? Notices.DefaultAwayText : text;
        TellAway(context, Notices.MarkedAway(context.Sender.AwayText));
    }

    public void SetBack(CommandContext context)
    {
        string notice = context.Sender.AwayText is null ? Notices.WasNotAway : Notices.WelcomeBack;
        context.Sender.AwayText = null;
        TellAway(context, notice);
    }

    /// <summary>A rich client shows its away state in its status line, so it is told as an event it can read without matching text.</summary>
    private void TellAway(CommandContext context, string notice)
    {
        ChatUser user = context.Sender;
        if (user.Rich)
        {
            outbox.Event(user, new RichEvent { Type = RichEventTypes.Away, Text = user.AwayText }, context.Now);
        }
        else
        {
            context.Reply(notice);
        }
    }

    public void ShowWhois(CommandContext context, string name)
    {
        if (name.Length == 0)
        {
            context.Error(Notices.WhoisUsage);
        }
        else if (!users.TryGet(name, out ChatUser? subject))
        {
            context.Error(Notices.NoSuchUser(name));
        }
        else
        {
            context.Reply(Notices.Whois(subject.Name!, context.Now - subject.ConnectedAt, context.Now - subject.LastMessageAt, subject.AwayText));
        }
    }

    public static void Ignore(CommandContext context, string name)
    {
        ChatUser user = context.Sender;
        if (name.Length == 0)
        {
            context.Reply(user.Ignored is { Count: > 0 } ignored
                ? Notices.Ignoring(ignored)
                : Notices.IgnoringNobody);
            return;
        }

        string? problem = name.Equals(user.Name, StringComparison.OrdinalIgnoreCase) ? Notices.CannotIgnoreYourself
            : Username.Validate(name, ProtocolLimits.MaxUsernameBytesAnyServer) is { } invalid ? invalid
            : user.Ignored?.Count >= MaxIgnoredPerUser ? Notices.IgnoringTooMany(MaxIgnoredPerUser) : null;
        if (problem is not null)
        {
            context.Error(Notices.NotIgnored(problem));
            return;
        }

        (user.Ignored ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(name);
        context.Reply(Notices.NowIgnoring(name));
    }

    public static void Unignore(CommandContext context, string name)
    {
        if (name.Length == 0)
        {
            context.Error(Notices.UnignoreUsage);
        }
        else if (context.Sender.Ignored?.Remove(name) == true)
        {
            context.Reply(Notices.NoLongerIgnoring(name));
        }
        else
        {
            context.Reply(Notices.WasNotIgnoring(name));
        }
    }

    /// <summary>/quit [reason]: the reason, if given, is told to the room with the leave notice.</summary>
    public void Quit(CommandContext context, string reason)
    {
        if (ControlCharacters.Strip(reason).Trim() is { Length: > 0 } said)
        {
            context.Sender.LeaveReason = said.Length <= MaxQuitReasonChars ? said : said[..MaxQuitReasonChars] + "…";
        }

        context.Reply(Notices.Goodbye(context.Sender.Name!));
        connections.Close(context.Sender.Connection, CloseReason.Quit, notice: null, context.Now);
    }

    public void EnableRichMode(CommandContext context, string version)
    {
        ChatUser user = context.Sender;
        if (version != RichMode.Version.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            context.Error(Notices.RichVersionUnknown(version, RichMode.Version));
            return;
        }

        user.Rich = true;
        outbox.Event(user, new RichEvent { Type = RichEventTypes.Hello, Version = RichMode.Version, Name = user.Name, Room = user.Room?.Name }, context.Now);
        if (user.State == UserState.Chatting)
        {
            outbox.Event(user, presence.UsersSnapshot(user), context.Now); // Before a login there is no room yet: the snapshot comes on arriving.
        }
    }
}
