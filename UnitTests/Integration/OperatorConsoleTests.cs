using System.Net;
using PollChat.Common.Protocol;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>The server's own command line: its commands in the loop, and the console switched on only by a terminal.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class OperatorConsoleTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    private static readonly string[] OperatorUsages = ["/help", "/users", "/rooms", "/say <text>", "/kick <user> [reason]", "/stats", "/quit"];

    [Test]
    public void Users_and_rooms_show_who_is_where()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var bob = RawClient.Join(server.EndPoint, "bob");
        bob.Send("/join #dev");
        bob.ReadNotice("You are now in #dev");
        using var unnamed = RawClient.Connect(server.EndPoint);

        string users = server.Operator("/users").Single(l => l.StartsWith("Online", StringComparison.Ordinal));
        Assert.That(users, Does.Match(@"^Online \(2\): alice \(#lobby, 127\.0\.0\.1:\d+\), bob \(#dev, 127\.0\.0\.1:\d+\)$"));
        Assert.That(WaitForOperatorLine(server, "users", "Also"), Is.EqualTo("Also 1 connected without a name yet."));
        Assert.That(server.Operator("rooms").Single(), Is.EqualTo("Rooms (2): #dev (1 member), #lobby (1 member)"));
    }

    [Test]
    public void Say_is_a_notice_to_everyone_in_every_room()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var bob = RawClient.Join(server.EndPoint, "bob");
        bob.Send("/join #dev");
        bob.ReadNotice("You are now in #dev");

        Assert.That(server.Operator("/say restart at five").Single(), Is.EqualTo("Said to 2 online: restart at five"));
        Assert.That(alice.ReadNotice("Operator").Text, Is.EqualTo("Operator: restart at five"));
        Assert.That(bob.ReadNotice("Operator").Text, Is.EqualTo("Operator: restart at five"));
        Assert.That(server.Operator("/say").Single(), Is.EqualTo("Usage: /say <text>"));
    }

    [Test]
    public void Kick_drops_a_user_telling_them_and_their_room_why_and_the_others_keep_chatting()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using var mallory = RawClient.Join(server.EndPoint, "mallory");

        Assert.That(server.Operator("/kick MALLORY spamming links").Single(), Is.EqualTo("Kicked mallory: spamming links"));

        Assert.That(mallory.ReadNotice("You were kicked").Text, Is.EqualTo("You were kicked by the operator: spamming links"));
        Assert.That(mallory.WaitForEndOfStream(), Is.True);
        Assert.That(alice.ReadNotice("mallory left").Text, Is.EqualTo("mallory left (kicked by the operator: spamming links; 2 online)"));
        bob.Send("peace");
        Assert.That(alice.ReadUntil(p => p.Sender == "bob").Text, Is.EqualTo("peace"));

        Assert.That(server.Operator("/kick mallory").Single(), Is.EqualTo("No user named 'mallory' is online"));
        Assert.That(server.Operator("/kick").Single(), Is.EqualTo("Usage: /kick <user> [reason]"));
        Assert.That(server.Operator("/kick bob").Single(), Is.EqualTo("Kicked bob"));
        Assert.That(bob.ReadNotice("You were kicked").Text, Is.EqualTo("You were kicked by the operator"));
        Assert.That(alice.ReadNotice("bob left").Text, Is.EqualTo("bob left (kicked by the operator; 1 online)"));
    }

    [Test]
    public void Help_lists_the_commands_and_an_unknown_one_is_named()
    {
        using var server = TestServer.Start();

        IReadOnlyList<string> help = server.Operator("/help");
        Assert.That(help[0], Is.EqualTo("Operator commands:"));
        foreach (string command in OperatorUsages)
        {
            Assert.That(help, Has.One.StartsWith("  " + command + ": "));
        }

        Assert.That(server.Operator("/shout hi").Single(), Is.EqualTo("Unknown command /shout; type /help for the operator commands."));
        Assert.That(server.Operator("/stats").Single(), Does.StartWith("Stats: connections=0 "));
    }

    [Test]
    public void Quit_tells_everyone_and_stops_the_loop()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");

        Assert.That(server.Operator("/quit").Single(), Is.EqualTo("Shutting down."));

        Assert.That(alice.ReadPair(), Is.EqualTo((ServerSender.Name, ServerSender.ShuttingDownNotice)));
        Assert.That(alice.WaitForEndOfStream(), Is.True);
        Assert.That(server.WaitUntilStopped(ExitTimeout), Is.True);
    }

    [Test]
    public void In_a_terminal_the_console_answers_and_quit_exits_0()
    {
        using RunningProcess server = RunningProcess.InTerminal("PollServer", "--port", "0", "--host", "127.0.0.1");
        int port = server.WaitForListeningPort();
        server.WaitForLine("Operator console: type /help for commands.");
        using RawClient alice = RawClient.Join(new IPEndPoint(IPAddress.Loopback, port), "alice");

        server.Input.WriteLine("/users");
        server.Input.Flush();
        Assert.That(server.WaitForLine(l => l.StartsWith("Online (1): alice (#lobby", StringComparison.Ordinal)), Does.Contain("127.0.0.1"));

        server.Input.WriteLine("/quit");
        server.Input.Flush();
        Assert.That(alice.ReadPair(), Is.EqualTo((ServerSender.Name, ServerSender.ShuttingDownNotice)));
        Assert.That(server.WaitForExit(ExitTimeout), Is.Zero, server.Transcript);
    }

    [Test]
    public void Without_a_terminal_the_console_is_off_and_input_runs_nothing()
    {
        using RunningProcess server = RunningProcess.Server("--port", "0", "--host", "127.0.0.1");
        int port = server.WaitForListeningPort();

        server.Input.WriteLine("/quit");
        server.Input.Flush();
        server.Input.Close();

        // Had the console run /quit, the join would get the shutdown notice or a refused connection instead.
        using RawClient alice = RawClient.Join(new IPEndPoint(IPAddress.Loopback, port), "alice");
        using RawClient bob = RawClient.Join(new IPEndPoint(IPAddress.Loopback, port), "bob");
        alice.Send("still up");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("still up"));
        Assert.That(server.Transcript, Does.Not.Contain("Operator console"));
        server.Signal(RunningProcess.SigTerm);
        Assert.That(server.WaitForExit(ExitTimeout), Is.Zero, server.Transcript);
    }

    /// <summary>Lines of a multi-line answer come one by one: asks again until the line is there (the unnamed connection may still be in the backlog).</summary>
    private static string WaitForOperatorLine(TestServer server, string command, string startsWith)
    {
        DateTime deadline = DateTime.UtcNow + RawClient.DefaultTimeout;
        while (true)
        {
            string? line = server.Operator(command).FirstOrDefault(l => l.StartsWith(startsWith, StringComparison.Ordinal));
            if (line is not null || DateTime.UtcNow > deadline)
            {
                return line ?? throw new TimeoutException($"No line starting '{startsWith}' from {command}.");
            }

            Thread.Sleep(20); // Polling: the accept happens on the loop's next turn, and nothing else tells when.
        }
    }

}
