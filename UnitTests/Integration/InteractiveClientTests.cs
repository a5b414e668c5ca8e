using System.Globalization;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>The interactive client in a real terminal (tmux): typing while messages arrive, resizing, and leaving the terminal as it was.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class InteractiveClientTests
{
    [Test]
    public void A_half_typed_line_survives_incoming_messages_and_the_terminal_is_restored_on_ctrl_c()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        // Through a shell that prints the exit code once the client is gone, on the screen the client gave back, and stays so it can be read (the tmux server is killed at the end).
        using var terminal = new TmuxSession(100, 12, "sh", "-c", "trap true INT; \"$0\" \"$@\"; echo \"exit code $?\"; sleep 60", RunningProcess.ProgramPath("PollClient"), "--host", "127.0.0.1", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--user", "alice");
        terminal.WaitFor(screen => screen.Any(row => row.Contains("Rich mode 1 on", StringComparison.Ordinal)));
        Assert.That(terminal.Query("alternate_on"), Is.EqualTo("1"), "the client draws on the alternate screen");

        terminal.Type("half a li");
        terminal.WaitFor(screen => screen[^1] == "> half a li");
        bob.Send("hello there alice");

        string[] shown = terminal.WaitFor(screen => screen.Any(row => row.Contains("bob > hello there alice", StringComparison.Ordinal)));
        Assert.That(shown[^1], Is.EqualTo("> half a li"), "the incoming line went above; the input row is untouched");
        Assert.That(shown[^2], Does.Contain("#lobby").And.Contain("2 online"));
        Assert.That(shown.Count(row => row.TrimEnd().EndsWith("│ alice", StringComparison.Ordinal) || row.TrimEnd().EndsWith("│ bob", StringComparison.Ordinal)), Is.EqualTo(2), "the user list beside the chat");
        Assert.That(terminal.Query("cursor_y"), Is.EqualTo("11"));

        terminal.Type("ne");
        terminal.Press("Enter");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("half a line"));
        terminal.WaitFor(screen => screen.Any(row => row.Contains("alice > half a line", StringComparison.Ordinal)) && screen[^1] == ">");

        terminal.Type("/timestamp off");
        terminal.Press("Enter");
        string[] plain = terminal.WaitFor(screen => screen.Any(row => row.StartsWith("-!- Times are hidden.", StringComparison.Ordinal)));
        Assert.That(plain, Has.Some.StartsWith("bob > hello there alice"), "the times are hidden");
        terminal.Type("/bell pm");
        terminal.Press("Enter");
        terminal.WaitFor(screen => screen.Any(row => row.StartsWith("-!- The bell rings for private messages.", StringComparison.Ordinal)));

        terminal.Resize(60, 10);
        terminal.WaitFor(screen => screen.Length == 10 && !screen.Any(row => row.Contains('│', StringComparison.Ordinal)));

        terminal.Press("C-c");
        terminal.WaitFor(screen => screen.Any(row => row.StartsWith("exit code ", StringComparison.Ordinal)));
        Assert.That(terminal.Screen(), Has.Some.EqualTo("exit code 0"));
        Assert.That(terminal.Query("alternate_on"), Is.EqualTo("0"), "the terminal is back on its normal screen");
        Assert.That(bob.ReadNotice("alice left").Text, Does.StartWith("alice left"));
    }
}
