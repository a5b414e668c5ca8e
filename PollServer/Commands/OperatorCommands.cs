using System.Globalization;
using PollChat.Server.Chat;
using PollChat.Server.Loop;

namespace PollChat.Server.Commands;

/// <summary>
/// The operator's own commands, typed at the server's terminal (see <c>Cli/OperatorConsole</c>):
/// who is online and from where, the rooms, a notice to everyone, the counters and a clean
/// shutdown. They run on the loop thread like everything else; answers go back as lines, never
/// to a client.
/// </summary>
internal sealed class OperatorCommands(Users users, Rooms rooms, Outbox outbox, ILoop loop)
{
    public void ShowUsers(CommandContext context)
    {
        IEnumerable<string> entries = users.Online.OrderBy(u => u.Name, StringComparer.OrdinalIgnoreCase)
            .Select(u => $"{u.Name} ({u.Room!.Name}, {u.Endpoint}{(u.AwayText is null ? "" : ", away")})");
        context.Reply(Notices.NameList("Online", [.. entries], UserCommands.MaxNamesListed));
        int unnamed = users.All.Count(u => u.State == UserState.AwaitingName);
        if (unnamed > 0)
        {
            context.Reply(string.Create(CultureInfo.InvariantCulture, $"Also {unnamed} connected without a name yet."));
        }
    }

    public void ShowRooms(CommandContext context) => context.Reply(rooms.Line(UserCommands.MaxNamesListed));

    public void SayToEveryone(CommandContext context, string text)
    {
        if (text.Length == 0)
        {
            context.Reply("Usage: /say <text>");
            return;
        }

        text = PollChat.Common.Protocol.ControlCharacters.Strip(text);
        outbox.AnnounceToEveryone(Notices.FromOperator(text), richEvent: null, context.Now);
        context.Reply(string.Create(CultureInfo.InvariantCulture, $"Said to {users.OnlineCount} online: {text}"));
    }

    public void ShowStats(CommandContext context) => context.Reply(loop.StatsLine());

    public void Quit(CommandContext context)
    {
        context.Reply("Shutting down.");
        loop.Shutdown();
    }
}
