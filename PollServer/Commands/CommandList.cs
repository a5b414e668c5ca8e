using PollChat.Common.Protocol;
using PollChat.Server.Accounts;
using PollChat.Server.Chat;
using PollChat.Server.Files;

namespace PollChat.Server.Commands;

/// <summary>
/// The entries of the one <see cref="CommandTable"/>, in the order /help lists them: each name,
/// aliases, usage, summary and who may run it, and which topic's handler runs it. The only place
/// a command is added.
/// </summary>
internal static class CommandList
{
    public static CommandTable Build(UserCommands user, RoomCommands rooms, ModerationCommands moderation, OperatorCommands console, Logins logins, FileTransfers files, Outbox outbox, Loop.LoopClock clock)
    {
        CommandTable? table = null;
        CommandSpec[] commands =
        [
            new("help", [], "/help", "list the commands", CommandAccess.BeforeLogin, (c, _) => table!.HelpForUser(c)),
            new("users", ["who", "names"], "/users", "who is in your room and who is online", CommandAccess.Chat, (c, _) => user.ShowUsers(c)),
            new("join", [], "/join <#room>", "move to a room, creating it if needed; you are in one room at a time", CommandAccess.Chat, rooms.Join),
            new("leave", [], "/leave", "go back to #lobby", CommandAccess.Chat, (c, _) => rooms.Join(c, Room.LobbyName)),
            new("rooms", [], "/rooms", "the rooms, with members and topics", CommandAccess.Chat, (c, _) => rooms.ShowRooms(c)),
            new("topic", [], "/topic [text]", "show or set your room's topic", CommandAccess.Chat, rooms.Topic),
            new("history", [], "/history [n]", $"your room's last n messages (default 20, at most {RoomHistory.Capacity})", CommandAccess.Chat, rooms.ShowHistory),
            new("search", [], "/search <words>", "find your room's past messages with all these words, newest first", CommandAccess.Chat, rooms.Search),
            new("msg", [], "/msg <user> <text>", "send a private message", CommandAccess.Chat, user.SendPrivate),
            new("reply", [], "/reply <text>", "answer the last private message", CommandAccess.Chat, user.Reply),
            new("me", [], "/me <action>", "say what you are doing, as '* alice waves'", CommandAccess.Chat, user.Act),
            new("nick", [], "/nick <newname>", "change your name", CommandAccess.Chat, user.ChangeName),
            new("away", [], "/away [text]", "mark yourself away; private messages get your text as an answer", CommandAccess.Chat, user.SetAway),
            new("back", [], "/back", "you are back", CommandAccess.Chat, (c, _) => user.SetBack(c)),
            new("ignore", [], "/ignore [user]", "stop seeing someone's messages, actions and private messages; alone, list whom you ignore", CommandAccess.Chat, UserCommands.Ignore),
            new("unignore", [], "/unignore <user>", "see someone again", CommandAccess.Chat, UserCommands.Unignore),
            new("file", [], "/file ...", "file transfer between PollClients: their /send, /accept, /decline and /cancel use it", CommandAccess.Chat, (c, args) => files.RunFileCommand(c.Sender, args, c.Now)),
            new("whois", [], "/whois <user>", "how long someone has been online and idle, and whether away", CommandAccess.Chat, user.ShowWhois),
            new("quit", [], "/quit [reason]", "leave the chat, telling your room why if you like", CommandAccess.BeforeLogin, user.Quit),
            new("register", [], "/register <password>", "claim your current name: from then on it needs the password", CommandAccess.Chat, (c, args) => logins.Register(c.Sender, args, c.Now)),
            new("login", [], "/login <password>", "prove a registered name is yours", CommandAccess.BeforeLogin, (c, args) => logins.Login(c.Sender, args, c.Now)),
            new("passwd", [], "/passwd <old> <new>", "change your password (the old one without spaces)", CommandAccess.Chat, (c, args) => logins.ChangePassword(c.Sender, args, c.Now)),
            new("unregister", [], "/unregister <password>", "give up your registered name", CommandAccess.Chat, (c, args) => logins.Unregister(c.Sender, args, c.Now)),
            new("rich", [], "/rich 1", "for client programs: switch this connection to rich mode (PROTOCOL.md)", CommandAccess.BeforeLogin, user.EnableRichMode),

            new("kick", [], "/kick <user> [reason]", "disconnect someone, telling them and their room why", CommandAccess.Admin, moderation.Kick),
            new("ban", [], "/ban <user|address> [duration]", "disconnect and keep out a name or an IP address, for a time (30m, 12h, 7d) or for good", CommandAccess.Admin, moderation.Ban),
            new("unban", [], "/unban <user|address>", "lift a ban", CommandAccess.Admin, moderation.Unban),
            new("mute", [], "/mute <user> [duration]", "keep someone's messages from reaching anyone, for a time or until /unmute", CommandAccess.Admin, moderation.Mute),
            new("unmute", [], "/unmute <user>", "let someone speak again", CommandAccess.Admin, moderation.Unmute),
            new("motd", [], "/motd [text|off]", "show, set or clear the message everyone gets on arriving", CommandAccess.Admin, moderation.SetMessageOfTheDay),

            new("help", [], "/help", "list the operator commands", CommandAccess.Console, (c, _) => table!.HelpForConsole(c)),
            new("users", [], "/users", "who is online, and in which room", CommandAccess.Console, (c, _) => console.ShowUsers(c)),
            new("rooms", [], "/rooms", "the rooms, with members and topics", CommandAccess.Console, (c, _) => console.ShowRooms(c)),
            new("say", [], "/say <text>", "a notice to everyone online", CommandAccess.Console, console.SayToEveryone),
            new("stats", [], "/stats", "the counters line, as SIGUSR1 logs it", CommandAccess.Console, (c, _) => console.ShowStats(c)),
            new("quit", [], "/quit", "shut the server down cleanly, telling everyone", CommandAccess.Console, (c, _) => console.Quit(c)),
        ];
        table = new CommandTable(commands, outbox, logins.IsAdmin, clock);
        return table;
    }
}
