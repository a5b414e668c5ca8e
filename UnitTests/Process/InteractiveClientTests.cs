using System.Globalization;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Process;

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
        terminal.Type("/bell");
        terminal.Press("Enter"); // Alone, it says what the bell does now.
        terminal.WaitFor(screen => screen.Count(row => row.StartsWith("-!- The bell rings for private messages.", StringComparison.Ordinal)) == 2);

        terminal.Resize(60, 10);
        terminal.WaitFor(screen => screen.Length == 10 && !screen.Any(row => row.Contains('│', StringComparison.Ordinal)));

        terminal.Press("C-c");
        terminal.WaitFor(screen => screen.Any(row => row.StartsWith("exit code ", StringComparison.Ordinal)));
        Assert.That(terminal.Screen(), Has.Some.EqualTo("exit code 0"));
        Assert.That(terminal.Query("alternate_on"), Is.EqualTo("0"), "the terminal is back on its normal screen");
        Assert.That(bob.ReadNotice("alice left").Text, Does.StartWith("alice left"));
    }

    [Test]
    public void The_status_line_shows_tls_away_and_unread_private_messages_tab_completes_rooms_and_page_up_scrolls_back()
    {
        using var server = TestServer.Start(new ServerOptions { TlsPort = 0, MessageBurst = 20 }); // carol fills the screen at once.
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using var carol = RawClient.Join(server.EndPoint, "carol");
        carol.Send("/join #dev");
        carol.ReadNotice("You are now in #dev");
        string fingerprint;
        using (RawClient probe = RawClient.ConnectTls(server.TlsEndPoint!))
        {
            fingerprint = probe.ServerFingerprint!;
        }

        string configDirectory = TestServer.NewDataDirectory();
        try
        {
            using var terminal = new TmuxSession(
                100, 12, "env", $"POLLCHAT_CONFIG_DIR={configDirectory}", "sh", "-c", "trap true INT; \"$0\" \"$@\"; echo \"exit code $?\"; sleep 60",
                RunningProcess.ProgramPath("PollClient"), "--tls", "--host", "127.0.0.1", "--port", server.TlsEndPoint!.Port.ToString(CultureInfo.InvariantCulture), "--user", "alice");
            // The lock and the certificate's short fingerprint, then the rest once the user list has come.
            terminal.WaitFor(screen => StatusRow(screen).Contains($"\U0001F512 {fingerprint[..11]} | alice | #lobby | 3 online", StringComparison.Ordinal));

            terminal.Type("/away lunch");
            terminal.Press("Enter");
            terminal.WaitFor(screen => StatusRow(screen).Contains("| alice (away) |", StringComparison.Ordinal));
            bob.Send("/msg alice psst");
            string[] unread = terminal.WaitFor(screen => StatusRow(screen).EndsWith("| 1 unread private message", StringComparison.Ordinal));
            Assert.That(unread, Has.Some.Contains("[private] bob > psst"));
            Assert.That(bob.ReadNotice("alice is away").Text, Is.EqualTo("alice is away: lunch"));
            terminal.Type("/back");
            terminal.WaitFor(screen => !StatusRow(screen).Contains("unread", StringComparison.Ordinal)); // A key pressed at the bottom of the chat: the message has been seen.
            terminal.Press("Enter");
            terminal.WaitFor(screen => StatusRow(screen).Contains("| alice | #lobby |", StringComparison.Ordinal));

            terminal.Type("/join #d");
            terminal.Press("Tab");
            terminal.WaitFor(screen => screen[^1] == "> /join #dev");
            terminal.Press("Enter");
            terminal.WaitFor(screen => StatusRow(screen).Contains("| alice | #dev |", StringComparison.Ordinal));

            for (int line = 1; line <= 10; line++)
            {
                carol.Send($"line {line:D2}");
            }

            terminal.WaitFor(screen => screen.Any(row => row.Contains("carol > line 10", StringComparison.Ordinal)));
            terminal.Press("PageUp");
            string[] back = terminal.WaitFor(screen => StatusRow(screen).EndsWith("| scrolled back: PgDn", StringComparison.Ordinal));
            Assert.That(back, Has.None.Contains("line 10").And.Some.Contains("carol > line 01"), "nine rows up: a screenful less the row read last");
            carol.Send("line 11");
            string[] still = terminal.WaitFor(screen => StatusRow(screen).EndsWith("| scrolled back, 1 new: PgDn", StringComparison.Ordinal));
            Assert.That(still.Count(row => row.Contains("carol > line", StringComparison.Ordinal)), Is.EqualTo(back.Count(row => row.Contains("carol > line", StringComparison.Ordinal))));
            Assert.That(still, Has.None.Contains("line 11").And.Some.Contains("carol > line 01"), "the view keeps its place while new lines arrive");
            terminal.Press("PageDown");
            terminal.WaitFor(screen => StatusRow(screen).EndsWith("| scrolled back, 1 new: PgDn", StringComparison.Ordinal) && screen.Any(row => row.Contains("carol > line 10", StringComparison.Ordinal)));
            terminal.Press("C-End");
            string[] newest = terminal.WaitFor(screen => screen.Any(row => row.Contains("carol > line 11", StringComparison.Ordinal)));
            Assert.That(StatusRow(newest), Does.Not.Contain("scrolled back"));

            terminal.Press("C-c");
            terminal.WaitFor(screen => screen.Any(row => row == "exit code 0"));
        }
        finally
        {
            if (Directory.Exists(configDirectory))
            {
                Directory.Delete(configDirectory, recursive: true);
            }
        }
    }

    [Test]
    public void A_registered_name_with_a_password_logs_in_before_anything_else_is_shown()
    {
        using var server = TestServer.Start();
        using (RawClient owner = RawClient.Join(server.EndPoint, "alice"))
        {
            owner.Send("/register correct horse");
            owner.ReadNotice("Registered");
        }

        using var files = new TempDirectory();
        string passwordFile = files.File("password.txt");
        File.WriteAllText(passwordFile, "correct horse\n");
        using var terminal = new TmuxSession(100, 12, "sh", "-c", "\"$0\" \"$@\"; echo \"exit code $?\"; sleep 60", RunningProcess.ProgramPath("PollClient"), "--host", "127.0.0.1", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--user", "alice", "--password-file", passwordFile);

        string[] shown = terminal.WaitFor(screen => screen.Any(row => row.Contains("Logged in as alice", StringComparison.Ordinal)));
        using var bob = RawClient.Join(server.EndPoint, "bob"); // Something else happens after the login, so a late error would be on screen too.
        shown = terminal.WaitFor(screen => screen.Any(row => row.Contains("bob joined", StringComparison.Ordinal)));
        Assert.That(shown, Has.None.Contains("Log in first"), string.Join("\n", shown));
        terminal.Press("C-c");
        terminal.WaitFor(screen => screen.Any(row => row == "exit code 0"));
    }

    [Test]
    public void Readline_keys_move_by_words_and_cut_the_line()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using var terminal = new TmuxSession(100, 12, "sh", "-c", "\"$0\" \"$@\"; echo \"exit code $?\"; sleep 60", RunningProcess.ProgramPath("PollClient"), "--host", "127.0.0.1", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--user", "alice");
        terminal.WaitFor(screen => screen.Any(row => row.Contains("Connected to", StringComparison.Ordinal)));

        terminal.Type("first second third");
        terminal.Press("M-b", "M-b", "C-k"); // Alt+B twice: before "second"; Ctrl+K cuts from there on.
        terminal.WaitFor(screen => screen[^1] == "> first");
        terminal.Type("kept");
        terminal.Press("M-b", "C-u"); // Before "kept"; Ctrl+U cuts what is before it.
        terminal.WaitFor(screen => screen[^1] == "> kept");
        terminal.Press("M-f", "Enter");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("kept"));
        terminal.Press("C-l");
        terminal.WaitFor(screen => screen.Any(row => row.Contains("alice > kept", StringComparison.Ordinal)) && screen[^1] == ">");
        terminal.Press("C-c");
        terminal.WaitFor(screen => screen.Any(row => row == "exit code 0"));
    }

    [Test]
    public void A_rejected_name_is_said_on_the_normal_screen_after_the_client_leaves()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var terminal = new TmuxSession(100, 12, "sh", "-c", "\"$0\" \"$@\"; echo \"exit code $?\"; sleep 60", RunningProcess.ProgramPath("PollClient"), "--host", "127.0.0.1", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--user", "ALICE");

        string[] after = terminal.WaitFor(screen => screen.Any(row => row.StartsWith("exit code ", StringComparison.Ordinal)));
        Assert.That(after, Has.Some.EqualTo("exit code 4"));
        Assert.That(after, Has.Some.StartsWith("PollClient: Name rejected: ").And.Contains("'ALICE'"), string.Join("\n", after));
    }

    [Test]
    public void A_crash_gives_the_terminal_back()
    {
        using var server = TestServer.Start();
        string pidFile = Path.Combine(Path.GetTempPath(), $"pollchat-crash-{Guid.NewGuid():N}.pid");
        try
        {
            // After the client: the exit code, then whether the terminal echoes and reads whole lines again (stty prints "-echo" when it does not).
            using var terminal = new TmuxSession(
                80, 12, "env", $"DOTNET_STARTUP_HOOKS={typeof(StartupHook).Assembly.Location}", $"{StartupHook.PidFileVariable}={pidFile}",
                "sh", "-c", "\"$0\" \"$@\"; echo \"exit code $?\"; stty -a | tr ' ' '\\n' | grep -x -e echo -e -echo -e icanon -e -icanon | tr '\\n' ' '; echo; sleep 60",
                RunningProcess.ProgramPath("PollClient"), "--host", "127.0.0.1", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--user", "alice");
            terminal.WaitFor(screen => screen.Any(row => row.Contains("Rich mode 1 on", StringComparison.Ordinal)));
            Assert.That(terminal.Query("alternate_on"), Is.EqualTo("1"));
            terminal.Type("half typed");
            terminal.WaitFor(screen => screen[^1] == "> half typed");

            using RunningProcess crash = RunningProcess.Command("kill", "-USR2", WaitForPid(pidFile));

            string[] after = terminal.WaitFor(screen => screen.Any(row => row.StartsWith("exit code ", StringComparison.Ordinal)));
            Assert.That(after, Has.None.EqualTo("exit code 0"), "it did crash");
            Assert.That(after, Has.Some.StartsWith("Unhandled exception. System.InvalidOperationException: A crash asked"), "the runtime's report of the crash is on the normal screen, readable");
            Assert.That(terminal.Query("alternate_on"), Is.EqualTo("0"), "the terminal is back on its normal screen");
            Assert.That(terminal.WaitFor(screen => screen.Any(row => row.Contains("icanon", StringComparison.Ordinal))),
                Has.Some.EqualTo("icanon echo"), "line mode and echo are back, so the shell is usable");
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    /// <summary>The hook writes the client's process id once it is armed; nothing signals that, so the file is polled.</summary>
    private static string WaitForPid(string pidFile)
    {
        DateTime deadline = DateTime.UtcNow + RawClient.DefaultTimeout;
        while (!File.Exists(pidFile) || new FileInfo(pidFile).Length == 0)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the crash hook never armed");
            Thread.Sleep(50);
        }

        return File.ReadAllText(pidFile).Trim();
    }

    /// <summary>The row above the input row; a screen not drawn yet has none.</summary>
    private static string StatusRow(string[] screen) => screen.Length >= 2 ? screen[^2] : "";
}
