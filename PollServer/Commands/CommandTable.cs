using PollChat.Server.Chat;

namespace PollChat.Server.Commands;

/// <summary>Who may run a command.</summary>
internal enum CommandAccess
{
    /// <summary>Any user who is chatting.</summary>
    Chat,

    /// <summary>Any user, also one that has not yet logged in to its registered name.</summary>
    BeforeLogin,

    /// <summary>Admins in the chat, and the operator at the console.</summary>
    Admin,

    /// <summary>The operator at the server's console only.</summary>
    Console,
}

/// <summary>
/// One command: its name and aliases, how to use it, one line for /help, who may run it, and
/// what it does. Every handler has the same signature, whoever runs it.
/// </summary>
internal sealed record CommandSpec(string Name, string[] Aliases, string Usage, string Summary, CommandAccess Access, Action<CommandContext, string> Run);

/// <summary>
/// Who runs a command, and where its answers go: a user's notices and errors, or the console's
/// lines. Moderation names the doer to its target (an admin's name, or "the operator").
/// </summary>
internal sealed class CommandContext(ChatUser? user, string by, long now, Action<string> reply, Action<string> error)
{
    /// <summary>The user who typed it; null at the operator console.</summary>
    public ChatUser? User { get; } = user;

    /// <summary>The user, for commands only users run.</summary>
    public ChatUser Sender => User ?? throw new InvalidOperationException("a user's command run without a user");

    /// <summary>Who does it, as told to others.</summary>
    public string By { get; } = by;

    /// <summary>Loop milliseconds when the command arrived.</summary>
    public long Now { get; } = now;

    /// <summary>A line of the answer.</summary>
    public void Reply(string line) => reply(line);

    /// <summary>The command failed: a user in rich mode gets an error event, anyone else the same line.</summary>
    public void Error(string line) => error(line);
}

/// <summary>
/// The one command table: every slash command of the chat, of admins and of the operator console,
/// in the order /help lists them, with one parser for all. It knows who may run what and
/// generates /help from the entries; what a command does is its topic's class
/// (<see cref="RoomCommands"/>, <see cref="UserCommands"/>, ...), which the table only calls.
/// </summary>
internal sealed class CommandTable
{
    /// <summary>How the console's operator is named to users (kicks, bans, mutes).</summary>
    public const string OperatorName = Notices.TheOperator;

    private readonly CommandSpec[] _commands;
    private readonly Dictionary<string, CommandSpec> _forUsers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, CommandSpec> _forConsole = new(StringComparer.OrdinalIgnoreCase);
    private readonly Outbox _outbox;
    private readonly Func<ChatUser, bool> _isAdmin;
    private readonly Loop.LoopClock _clock;

    public CommandTable(IEnumerable<CommandSpec> commands, Outbox outbox, Func<ChatUser, bool> isAdmin, Loop.LoopClock clock)
    {
        _clock = clock;
        _commands = [.. commands];
        _outbox = outbox;
        _isAdmin = isAdmin;
        foreach (CommandSpec command in _commands)
        {
            Dictionary<string, CommandSpec> index = command.Access == CommandAccess.Console ? _forConsole : _forUsers;
            index.Add(command.Name, command);
            foreach (string alias in command.Aliases)
            {
                index.Add(alias, command);
            }

            if (command.Access == CommandAccess.Admin)
            {
                _forConsole.Add(command.Name, command);
            }
        }
    }

    /// <summary>Every command, in /help's order.</summary>
    public IReadOnlyList<CommandSpec> All => _commands;

    /// <summary>Runs a user's line that starts with '/' (and not "//").</summary>
    public void RunForUser(ChatUser user, string line, long now)
    {
        (string word, string args) = Split(line[1..]);
        _forUsers.TryGetValue(word, out CommandSpec? command);
        if (user.State == UserState.AwaitingLogin && command?.Access != CommandAccess.BeforeLogin)
        {
            _outbox.Error(user, Notices.LogInFirst, now);
        }
        else if (command is { Access: CommandAccess.Admin })
        {
            if (_isAdmin(user))
            {
                // An admin's answers are notices, as the operator's are lines: moderation answers are reports, not errors.
                command.Run(new CommandContext(user, user.Name!, now, text => _outbox.Notice(user, text, now), text => _outbox.Notice(user, text, now)), args);
            }
            else
            {
                _outbox.Error(user, Notices.ForAdmins(command.Name), now);
            }
        }
        else if (command is not null)
        {
            command.Run(new CommandContext(user, user.Name!, now, text => _outbox.Notice(user, text, now), text => _outbox.Error(user, text, now)), args);
        }
        else
        {
            _outbox.Error(user, Notices.UnknownCommand("/" + word), now);
        }
    }

    /// <summary>Runs a line typed at the operator console; the leading '/' may be left out.</summary>
    public void RunForConsole(string line, Action<string> reply)
    {
        string trimmed = line.Trim();
        if (trimmed.Length == 0)
        {
            return;
        }

        (string word, string args) = Split(trimmed.StartsWith('/') ? trimmed[1..] : trimmed);
        if (_forConsole.TryGetValue(word, out CommandSpec? command) && command.Name.Equals(word, StringComparison.OrdinalIgnoreCase))
        {
            command.Run(new CommandContext(null, OperatorName, _clock.Now, reply, reply), args);
        }
        else
        {
            reply(Notices.UnknownOperatorCommand(word));
        }
    }

    /// <summary>/help for a user: the commands anyone may use, and the admin ones for an admin.</summary>
    public void HelpForUser(CommandContext context)
    {
        context.Reply(Notices.HelpHeading);
        foreach (CommandSpec command in _commands.Where(c => c.Access is CommandAccess.Chat or CommandAccess.BeforeLogin))
        {
            context.Reply(Notices.HelpLine(command.Usage, command.Summary, command.Aliases));
        }

        if (_isAdmin(context.Sender))
        {
            context.Reply(Notices.AdminHelpHeading);
            foreach (CommandSpec command in _commands.Where(c => c.Access == CommandAccess.Admin))
            {
                context.Reply(Notices.HelpLine(command.Usage, command.Summary, []));
            }
        }
    }

    /// <summary>/help at the console: its own commands, then the admin ones.</summary>
    public void HelpForConsole(CommandContext context)
    {
        context.Reply(Notices.OperatorHelpHeading);
        foreach (CommandSpec command in _commands.Where(c => c.Access == CommandAccess.Console).Concat(_commands.Where(c => c.Access == CommandAccess.Admin)))
        {
            context.Reply(Notices.OperatorHelpLine(command.Usage, command.Summary));
        }
    }

    /// <summary>The one parser: "word rest", the rest trimmed.</summary>
    private static (string Word, string Args) Split(string command)
    {
        int space = command.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? (command, "") : (command[..space], command[(space + 1)..].Trim());
    }
}
