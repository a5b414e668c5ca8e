using System.Text;
using PollChat.Common.Framing;
using PollChat.Common.Protocol;

namespace PollChat.Server;

/// <summary>
/// The slash commands: one table, one handler each. Everything a command says travels as
/// ordinary pairs, so classic clients read it like chat: notices from the server's name,
/// private messages from <c>"alice (private)"</c>, actions from <c>"* alice"</c>. Those senders
/// contain a space or start with '*', so no username can imitate them.
/// </summary>
public sealed partial class ChatServer
{
    /// <summary>A list of users longer than this would scroll the screen away; the rest is counted.</summary>
    private const int MaxNamesListed = 100;

    /// <summary>Enough for any real annoyance; a bound so one client cannot grow the server's memory without end.</summary>
    private const int MaxIgnoredPerUser = 100;

    private static readonly CommandSpec[] CommandTable =
    [
        new("help", [], "/help", "list the commands", (s, c, _, now) => s.ShowHelp(c, now)),
        new("users", ["who", "names"], "/users", "who is in your room and who is online", (s, c, _, now) => s.ShowUsers(c, now)),
        new("join", [], "/join <#room>", "move to a room, creating it if needed; you are in one room at a time", (s, c, args, now) => s.Join(c, args, now)),
        new("leave", [], "/leave", "go back to #lobby", (s, c, _, now) => s.Join(c, Room.LobbyName, now)),
        new("rooms", [], "/rooms", "the rooms, with members and topics", (s, c, _, now) => s.ShowRooms(c, now)),
        new("topic", [], "/topic [text]", "show or set your room's topic", (s, c, args, now) => s.Topic(c, args, now)),
        new("history", [], "/history [n]", $"your room's last n messages (default 20, at most {RoomHistory.Capacity})", (s, c, args, now) => s.ShowHistory(c, args, now)),
        new("search", [], "/search <words>", "find your room's past messages with all these words, newest first", (s, c, args, now) => s.Search(c, args, now)),
        new("msg", [], "/msg <user> <text>", "send a private message", (s, c, args, now) => s.SendPrivate(c, args, now)),
        new("reply", [], "/reply <text>", "answer the last private message", (s, c, args, now) => s.Reply(c, args, now)),
        new("me", [], "/me <action>", "say what you are doing, as '* alice waves'", (s, c, args, now) => s.Act(c, args, now)),
        new("nick", [], "/nick <newname>", "change your name", (s, c, args, now) => s.ChangeName(c, args, now)),
        new("away", [], "/away [text]", "mark yourself away; private messages get your text as an answer", (s, c, args, now) => s.SetAway(c, args, now)),
        new("back", [], "/back", "you are back", (s, c, _, now) => s.SetBack(c, now)),
        new("ignore", [], "/ignore [user]", "stop seeing someone's messages, actions and private messages; alone, list whom you ignore", (s, c, args, now) => s.Ignore(c, args, now)),
        new("unignore", [], "/unignore <user>", "see someone again", (s, c, args, now) => s.Unignore(c, args, now)),
        new("file", [], "/file ...", "file transfer between PollClients: their /send, /accept, /decline and /cancel use it", (s, c, args, now) => s.RunFileCommand(c, args, now)),
        new("whois", [], "/whois <user>", "how long someone has been online and idle, and whether away", (s, c, args, now) => s.ShowWhois(c, args, now)),
        new("quit", [], "/quit", "leave the chat", (s, c, _, now) => s.Quit(c, now)),
        new("register", [], "/register <password>", "claim your current name: from then on it needs the password", (s, c, args, now) => s.Register(c, args, now)),
        new("login", [], "/login <password>", "prove a registered name is yours", (s, c, args, now) => s.Login(c, args, now)),
        new("passwd", [], "/passwd <old> <new>", "change your password (the old one without spaces)", (s, c, args, now) => s.ChangePassword(c, args, now)),
        new("unregister", [], "/unregister <password>", "give up your registered name", (s, c, args, now) => s.Unregister(c, args, now)),
        new("rich", [], "/rich 1", "for client programs: switch this connection to rich mode (PROTOCOL.md)", (s, c, args, now) => s.EnableRichMode(c, args, now)),
    ];

    private static readonly Dictionary<string, CommandSpec> CommandsByName = BuildCommandIndex();

    private void RunCommand(ClientConnection client, string line, long now)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        string word = space < 0 ? line[1..] : line[1..space];
        string args = space < 0 ? "" : line[(space + 1)..].Trim();
        if (client.State == ClientState.AwaitingLogin && !AllowedBeforeLogin.Contains(word))
        {
            SendError(client, Notices.LogInFirst, now);
        }
        else if (Array.Find(ModerationCommands, m => m.Name.Equals(word, StringComparison.OrdinalIgnoreCase)) is { } moderation)
        {
            if (IsAdmin(client))
            {
                moderation.Run(this, args, line => SendNotice(client, line, Environment.TickCount64), client.Name!);
            }
            else
            {
                SendError(client, $"/{moderation.Name} is for admins", now);
            }
        }
        else if (CommandsByName.TryGetValue(word, out CommandSpec? command))
        {
            command.Run(this, client, args, now);
        }
        else
        {
            SendError(client, Notices.UnknownCommand("/" + word), now);
        }
    }

    private void ShowHelp(ClientConnection client, long now)
    {
        SendNotice(client, "Commands (start a message with // to send a leading /):", now);
        foreach (CommandSpec command in CommandTable)
        {
            string aliases = command.Aliases.Length == 0 ? "" : $" (also /{string.Join(", /", command.Aliases)})";
            SendNotice(client, $"{command.Usage}: {command.Summary}{aliases}", now);
        }

        if (IsAdmin(client))
        {
            SendNotice(client, "Admin commands:", now);
            foreach (ModerationSpec command in ModerationCommands)
            {
                SendNotice(client, $"{command.Usage}: {command.Summary}", now);
            }
        }
    }

    private void ShowUsers(ClientConnection client, long now)
    {
        if (client.Rich)
        {
            SendEvent(client, UsersSnapshot(client), now);
            return;
        }

        Room room = client.Room!;
        List<string> here = MemberNames(room);
        SendNotice(client, Notices.NameList($"In {room.Name}", here, MaxNamesListed), now);
        SendNotice(client, Notices.NameList("Online", [.. _byName.Keys.Order(StringComparer.OrdinalIgnoreCase)], MaxNamesListed), now);
    }

    private void Join(ClientConnection client, string roomName, long now)
    {
        string? problem = roomName.Length == 0 ? "usage: /join <#room>" : Room.ValidateName(roomName);
        if (problem is not null)
        {
            SendError(client, $"Cannot join: {problem}", now);
            return;
        }

        Room old = client.Room!;
        if (Confusables.NameComparer.Equals(old.Name, roomName))
        {
            SendError(client, $"You are already in {old.Name}", now);
            return;
        }

        LeaveRoom(client);
        if (old.Members.Count < _options.AnnounceLimit)
        {
            AnnounceToRoom(old, $"{client.Name} left for {roomName} ({Notices.Members(old.Members.Count)})",
                new RichEvent { Type = RichEventTypes.Left, Name = client.Name, Room = old.Name, Reason = $"moved to {roomName}", Count = old.Members.Count }, except: null, now);
        }

        Room room = EnterRoom(client, roomName);
        if (room.Members.Count <= _options.AnnounceLimit)
        {
            AnnounceToRoom(room, $"{client.Name} joined {room.Name} ({Notices.Members(room.Members.Count)})",
                new RichEvent { Type = RichEventTypes.Entered, Name = client.Name, Room = room.Name, Count = room.Members.Count }, except: client, now);
        }

        if (client.Rich)
        {
            SendEvent(client, new RichEvent { Type = RichEventTypes.Room, Room = room.Name, Topic = room.Topic, Members = MemberNames(room) }, now);
        }
        else
        {
            SendNotice(client, $"You are now in {room.Name} ({Notices.Members(room.Members.Count)}){(room.Topic is null ? "" : $". Topic: {room.Topic}")}", now);
        }

        ReplayHistory(client, room, _options.HistoryOnJoin, now);
    }

    private void ShowHistory(ClientConnection client, string args, long now)
    {
        int count = ServerOptions.DefaultHistoryOnJoin;
        if (args.Length > 0 && (!int.TryParse(args, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count) || count is < 1 or > RoomHistory.Capacity))
        {
            SendError(client, $"Usage: /history [n], n from 1 to {RoomHistory.Capacity}", now);
            return;
        }

        if (!ReplayHistory(client, client.Room!, count, now))
        {
            SendNotice(client, HistoryReplay.NoneYet(client.Room!.Name), now);
        }
    }

    /// <summary>Sends a room's last messages as <see cref="HistoryReplay"/> describes. Returns false if there were none.</summary>
    private bool ReplayHistory(ClientConnection client, Room room, int count, long now)
    {
        List<RoomHistory.Entry> entries = [.. room.History.Last(count)];
        if (entries.Count == 0)
        {
            return false;
        }

        SendNotice(client, HistoryReplay.Heading(entries.Count, room.Name), now);
        foreach (RoomHistory.Entry entry in entries)
        {
            string sender = HistoryReplay.Sender(entry.UtcTime.ToLocalTime(), entry.Sender);
            Enqueue(client, [.. Frame.Encode(sender), .. Frame.Encode((ReadOnlySpan<byte>)entry.Text.AsSpan(0, entry.Length))], now);
        }

        return true;
    }

    private void ShowRooms(ClientConnection client, long now)
    {
        if (!client.Rich)
        {
            SendNotice(client, RoomsLine(), now);
            return;
        }

        List<RoomSummary> rooms = [.. SortedRooms().Take(MaxNamesListed).Select(r => new RoomSummary(r.Name, r.Members.Count, r.Topic))];
        SendEvent(client, new RichEvent { Type = RichEventTypes.Rooms, Rooms = rooms, Count = _rooms.Count }, now);
    }

    private IEnumerable<Room> SortedRooms() => _rooms.Values.OrderBy(r => r.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>"Rooms (2): #dev (1 member: ship it), #lobby (3 members)": for /rooms and the operator's /rooms alike.</summary>
    private string RoomsLine()
    {
        IEnumerable<string> rooms = SortedRooms().Select(r => $"{r.Name} ({Notices.Members(r.Members.Count)}{(r.Topic is null ? "" : $": {r.Topic}")})");
        return $"Rooms ({_rooms.Count}): {string.Join(", ", rooms.Take(MaxNamesListed))}";
    }

    private void Topic(ClientConnection client, string topic, long now)
    {
        Room room = client.Room!;
        if (topic.Length == 0)
        {
            SendNotice(client, room.Topic is null ? $"{room.Name} has no topic; set one with /topic <text>" : $"Topic of {room.Name}: {room.Topic}", now);
        }
        else if (Encoding.UTF8.GetByteCount(topic) > Room.MaxTopicBytes)
        {
            SendError(client, $"Topic not changed: at most {Room.MaxTopicBytes} bytes", now);
        }
        else
        {
            room.Topic = topic;
            AnnounceToRoom(room, $"{client.Name} set the topic of {room.Name}: {topic}",
                new RichEvent { Type = RichEventTypes.Topic, Room = room.Name, Text = topic, By = client.Name }, except: null, now);
        }
    }

    private void SendPrivate(ClientConnection sender, string args, long now)
    {
        int space = args.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || args[(space + 1)..].Trim().Length == 0)
        {
            SendError(sender, "Usage: /msg <user> <text>", now);
            return;
        }

        DeliverPrivate(sender, args[..space], args[(space + 1)..].Trim(), now);
    }

    private void Reply(ClientConnection sender, string text, long now)
    {
        if (sender.LastPrivateFrom is null)
        {
            SendError(sender, "Nobody has sent you a private message yet", now);
        }
        else if (text.Length == 0)
        {
            SendError(sender, "Usage: /reply <text>", now);
        }
        else
        {
            DeliverPrivate(sender, sender.LastPrivateFrom, text, now);
        }
    }

    private void DeliverPrivate(ClientConnection sender, string recipientName, string text, long now)
    {
        if (RefusedAsMuted(sender, now))
        {
            return;
        }

        if (!_byName.TryGetValue(recipientName, out ClientConnection? recipient))
        {
            SendError(sender, Notices.NoSuchUser(recipientName), now);
            return;
        }

        sender.LastMessageAt = now;
        if (recipient.Ignored?.Contains(sender.Name!) != true)
        {
            // Dropped silently when ignored, as IRC does: telling the sender would invite working around it.
            recipient.LastPrivateFrom = sender.Name;
            SendPrivate(recipient, sender.Name!, recipient.Name!, $"{sender.Name} (private)", text, now);
        }

        SendPrivate(sender, sender.Name!, recipient.Name!, $"to {recipient.Name} (private)", text, now);
        if (recipient.AwayText is not null)
        {
            SendNotice(sender, $"{recipient.Name} is away: {recipient.AwayText}", now);
        }
    }

    /// <summary>A private message as the client reads it: an event in rich mode, otherwise a pair from a sender no user can take.</summary>
    private void SendPrivate(ClientConnection client, string from, string to, string classicSender, string text, long now)
    {
        if (client.Rich)
        {
            SendEvent(client, new RichEvent { Type = RichEventTypes.Private, From = from, To = to, Text = text }, now);
        }
        else
        {
            SendPair(client, classicSender, text, now);
        }
    }

    private void Act(ClientConnection client, string action, long now)
    {
        if (action.Length == 0)
        {
            SendError(client, "Usage: /me <action>", now);
            return;
        }

        client.LastMessageAt = now;
        if (RefusedAsMuted(client, now))
        {
            return;
        }

        string actor = "* " + client.Name;
        byte[] text = Encoding.UTF8.GetBytes(action);
        SendToRoom(client.Room!, Frame.Encode(actor), text, except: client, now, from: client.Name);
        Remember(client.Room!, actor, text);
    }

    private void ChangeName(ClientConnection client, string newName, long now)
    {
        string oldName = client.Name!;
        string? problem = newName.Length == 0 ? "usage: /nick <newname>" : Username.Validate(newName, _options.MaxUsernameBytes);
        if (problem is null && NameInUse(newName, except: client))
        {
            problem = Notices.NameTakenReason(newName, HeldName(newName));
        }

        bool sameAccount = newName.Equals(oldName, StringComparison.OrdinalIgnoreCase);
        if (problem is null && !sameAccount && _accounts.ContainsKey(newName))
        {
            problem = $"'{newName}' is a registered name; connect as {newName} and /login to use it";
        }

        if (problem is not null)
        {
            SendError(client, $"Name not changed: {problem}", now);
            return;
        }

        _byName.Remove(oldName);
        client.AcceptName(newName);
        client.LoggedIn &= sameAccount; // A login belongs to the name it proved.
        _byName.Add(newName, client);
        Log.Info("#{Id} {User} is now {NewName}", client.Id, oldName, newName);
        AnnounceToEveryone($"{oldName} is now known as {newName}", new RichEvent { Type = RichEventTypes.Renamed, Old = oldName, Name = newName }, now);
    }

    private void SetAway(ClientConnection client, string text, long now)
    {
        client.AwayText = text.Length == 0 ? "away" : text;
        TellAway(client, $"You are marked as away: {client.AwayText}. Type /back when you return.", now);
    }

    private void SetBack(ClientConnection client, long now)
    {
        string notice = client.AwayText is null ? "You were not marked as away" : "Welcome back; you are no longer marked as away";
        client.AwayText = null;
        TellAway(client, notice, now);
    }

    /// <summary>A rich client shows its away state in its status line, so it is told as an event it can read without matching text.</summary>
    private void TellAway(ClientConnection client, string notice, long now)
    {
        if (client.Rich)
        {
            SendEvent(client, new RichEvent { Type = RichEventTypes.Away, Text = client.AwayText }, now);
        }
        else
        {
            SendNotice(client, notice, now);
        }
    }

    private void ShowWhois(ClientConnection client, string name, long now)
    {
        if (name.Length == 0)
        {
            SendError(client, "Usage: /whois <user>", now);
        }
        else if (!_byName.TryGetValue(name, out ClientConnection? subject))
        {
            SendError(client, Notices.NoSuchUser(name), now);
        }
        else
        {
            SendNotice(client, Notices.Whois(subject.Name!, now - subject.ConnectedAt, now - subject.LastMessageAt, subject.AwayText), now);
        }
    }

    private void Ignore(ClientConnection client, string name, long now)
    {
        if (name.Length == 0)
        {
            SendNotice(client, client.Ignored is { Count: > 0 } ignored
                ? $"You are ignoring ({ignored.Count}): {string.Join(", ", ignored.Order(StringComparer.OrdinalIgnoreCase))}"
                : "You are not ignoring anyone", now);
            return;
        }

        string? problem = name.Equals(client.Name, StringComparison.OrdinalIgnoreCase) ? "you cannot ignore yourself"
            : Username.Validate(name, ProtocolLimits.MaxUsernameBytesAnyServer) is { } invalid ? invalid
            : client.Ignored?.Count >= MaxIgnoredPerUser ? $"you already ignore {MaxIgnoredPerUser} people" : null;
        if (problem is not null)
        {
            SendError(client, $"Not ignored: {problem}", now);
            return;
        }

        (client.Ignored ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(name);
        SendNotice(client, $"You are ignoring {name}: you will not see their messages, actions or private messages. /unignore {name} undoes it.", now);
    }

    private void Unignore(ClientConnection client, string name, long now)
    {
        if (name.Length == 0)
        {
            SendError(client, "Usage: /unignore <user>", now);
        }
        else if (client.Ignored?.Remove(name) == true)
        {
            SendNotice(client, $"You are no longer ignoring {name}", now);
        }
        else
        {
            SendNotice(client, $"You were not ignoring {name}", now);
        }
    }

    private void Quit(ClientConnection client, long now)
    {
        SendNotice(client, Notices.Goodbye(client.Name!), now);
        Disconnect(client, CloseReason.Quit, notice: null, now);
    }

    private void SendPair(ClientConnection client, string sender, string text, long now) =>
        Enqueue(client, Frame.EncodePair(sender, text), now);

    private static Dictionary<string, CommandSpec> BuildCommandIndex()
    {
        var index = new Dictionary<string, CommandSpec>(StringComparer.OrdinalIgnoreCase);
        foreach (CommandSpec command in CommandTable)
        {
            index.Add(command.Name, command);
            foreach (string alias in command.Aliases)
            {
                index.Add(alias, command);
            }
        }

        return index;
    }

    /// <summary>One slash command: its name and aliases, how to use it, one line for /help, and what it does.</summary>
    private sealed record CommandSpec(string Name, string[] Aliases, string Usage, string Summary, Action<ChatServer, ClientConnection, string, long> Run);
}
