using System.Globalization;

namespace PollChat.Server;

/// <summary>
/// The operator's commands, typed at the server's own terminal (see <see cref="OperatorConsole"/>).
/// They run on the loop thread like everything else: the console thread only posts the line.
/// Answers go back through a callback, one line each, never to a client.
/// </summary>
public sealed partial class ChatServer
{
    /// <summary>How the console's operator is named to users (kicks, bans, mutes).</summary>
    private const string OperatorName = "the operator";

    private static readonly OperatorCommandSpec[] OperatorCommands =
    [
        new("help", "/help", "list the operator commands", (_, _, reply) => ShowOperatorHelp(reply)),
        new("users", "/users", "who is online, and in which room", (s, _, reply) => s.ShowUsersToOperator(reply)),
        new("rooms", "/rooms", "the rooms, with members and topics", (s, _, reply) => reply(s.RoomsLine())),
        new("say", "/say <text>", "a notice to everyone online", (s, args, reply) => s.SayToEveryone(args, reply)),
        new("stats", "/stats", "the counters line, as SIGUSR1 logs it", (s, _, reply) => reply(s.StatsLine())),
        new("quit", "/quit", "shut the server down cleanly, telling everyone", (s, _, reply) => s.QuitFromConsole(reply)),
    ];

    /// <summary>
    /// Runs one operator command line on the loop thread; <paramref name="reply"/> is called
    /// there with each line of the answer. The leading '/' may be left out. Safe from any thread.
    /// </summary>
    public void RunOperatorCommand(string line, Action<string> reply) => Post(() =>
    {
        string trimmed = line.Trim();
        if (trimmed.Length == 0)
        {
            return;
        }

        string command = trimmed.StartsWith('/') ? trimmed[1..] : trimmed;
        int space = command.IndexOf(' ', StringComparison.Ordinal);
        string word = space < 0 ? command : command[..space];
        string args = space < 0 ? "" : command[(space + 1)..].Trim();
        OperatorCommandSpec? spec = Array.Find(OperatorCommands, c => c.Name.Equals(word, StringComparison.OrdinalIgnoreCase));
        ModerationSpec? moderation = Array.Find(ModerationCommands, c => c.Name.Equals(word, StringComparison.OrdinalIgnoreCase));
        if (spec is not null)
        {
            spec.Run(this, args, reply);
        }
        else if (moderation is not null)
        {
            moderation.Run(this, args, reply, OperatorName);
        }
        else
        {
            reply($"Unknown command /{word}; type /help for the operator commands.");
        }
    });

    private static void ShowOperatorHelp(Action<string> reply)
    {
        reply("Operator commands:");
        foreach (OperatorCommandSpec command in OperatorCommands)
        {
            reply($"  {command.Usage}: {command.Summary}");
        }

        foreach (ModerationSpec command in ModerationCommands)
        {
            reply($"  {command.Usage}: {command.Summary}");
        }
    }

    private void ShowUsersToOperator(Action<string> reply)
    {
        IEnumerable<string> entries = _byName.Values.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase)
            .Select(c => $"{c.Name} ({c.Room!.Name}, {c.Endpoint}{(c.AwayText is null ? "" : ", away")})");
        reply(Notices.NameList("Online", [.. entries], MaxNamesListed));
        int unnamed = _connections.Count(c => c.State == ClientState.AwaitingName);
        if (unnamed > 0)
        {
            reply(string.Create(CultureInfo.InvariantCulture, $"Also {unnamed} connected without a name yet."));
        }
    }

    private void SayToEveryone(string text, Action<string> reply)
    {
        if (text.Length == 0)
        {
            reply("Usage: /say <text>");
            return;
        }

        text = PollChat.Common.Protocol.ControlCharacters.Strip(text);
        AnnounceToEveryone(Notices.FromOperator(text), richEvent: null, Environment.TickCount64);
        reply(string.Create(CultureInfo.InvariantCulture, $"Said to {_byName.Count} online: {text}"));
    }

    private void QuitFromConsole(Action<string> reply)
    {
        reply("Shutting down.");
        BeginShutdown();
    }

    /// <summary>One operator command: its name, how to use it, one line for /help, and what it does with its arguments.</summary>
    private sealed record OperatorCommandSpec(string Name, string Usage, string Summary, Action<ChatServer, string, Action<string>> Run);
}
