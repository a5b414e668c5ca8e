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
            .Select(u => Notices.UserAtConsole(u.Name!, u.Room!.Name, u.Endpoint, away: u.AwayText is not null));
        context.Reply(Notices.NameList(Notices.Online, [.. entries], UserCommands.MaxNamesListed));
        int unnamed = users.All.Count(u => u.State == UserState.AwaitingName);
        if (unnamed > 0)
        {
            context.Reply(Notices.ConnectedUnnamed(unnamed));
        }
    }

    public void ShowRooms(CommandContext context) => context.Reply(rooms.Line(UserCommands.MaxNamesListed));

    public void SayToEveryone(CommandContext context, string text)
    {
        if (text.Length == 0)
        {
            context.Reply(Notices.SayUsage);
            return;
        }

        text = PollChat.Common.Protocol.ControlCharacters.Strip(text);
        outbox.AnnounceToEveryone(Notices.FromOperator(text), richEvent: null, context.Now);
        context.Reply(Notices.SaidToEveryone(users.OnlineCount, text));
    }

    public void ShowStats(CommandContext context) => context.Reply(loop.StatsLine());

    public void Quit(CommandContext context)
    {
        context.Reply(Notices.ShuttingDown);
        loop.Shutdown();
    }
}
