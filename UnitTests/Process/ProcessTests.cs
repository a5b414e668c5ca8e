using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Process;

/// <summary>The real programs as processes: signals, exit codes, standard input and output.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ProcessTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    [TestCase(RunningProcess.SigTerm)]
    [TestCase(RunningProcess.SigInt)]
    public void A_signalled_server_tells_its_clients_exits_0_and_can_restart_on_the_same_port_at_once(string signal)
    {
        int port;
        using (RunningProcess server = RunningProcess.Server("--port", "0", "--host", "127.0.0.1"))
        {
            port = server.WaitForListeningPort();
            using RawClient alice = RawClient.Join(Loopback(port), "alice");
            alice.Send("a message leaves the server in TIME_WAIT after it closes first");

            server.Signal(signal);

            Assert.That(alice.ReadPair(), Is.EqualTo((ServerSender.Name, ServerSender.ShuttingDownNotice)));
            Assert.That(alice.WaitForEndOfStream(), Is.True);
            Assert.That(server.WaitForExit(ExitTimeout), Is.Zero, server.Transcript);
        }

        using RunningProcess restarted = RunningProcess.Server("--port", port.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1");
        Assert.That(restarted.WaitForListeningPort(), Is.EqualTo(port));
        restarted.Signal(RunningProcess.SigTerm);
        Assert.That(restarted.WaitForExit(ExitTimeout), Is.Zero, restarted.Transcript);
    }

    [Test]
    public void SIGTERM_with_a_queue_of_password_work_exits_0_without_waiting_for_the_queue()
    {
        // Sixty registrations from sixty addresses queue far more hashing than the shutdown may take
        // (each is 600,000 PBKDF2 rounds, a fifth of a second or more, on one worker on two cores).
        const int Registrations = 60;
        using RunningProcess server = RunningProcess.Server("--port", "0", "--host", "127.0.0.1");
        int port = server.WaitForListeningPort();
        var clients = new List<RawClient>();
        try
        {
            for (int i = 0; i < Registrations; i++)
            {
                RawClient client = RawClient.Connect(Loopback(port), from: IPAddress.Parse($"127.0.0.{2 + i}"));
                client.Send($"reg{i}");
                client.Send("/register correct horse battery");
                clients.Add(client);
            }

            server.WaitForLine("registered the name"); // The workers are busy: the first job is done and the rest wait (in whichever order the loop read them).
            var watch = System.Diagnostics.Stopwatch.StartNew();
            server.Signal(RunningProcess.SigTerm);

            Assert.That(server.WaitForExit(ExitTimeout), Is.Zero, server.Transcript);
            // The stated bound: the 2 s goodbye flush, plus the one hash a worker may be in the middle of.
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(6)), server.Transcript);
            Assert.That(server.Transcript, Does.Not.Contain("A password job failed"));
        }
        finally
        {
            foreach (RawClient client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Test]
    public void A_server_on_a_port_in_use_says_so_in_one_line_and_exits_2()
    {
        using var occupant = TestServer.Start();

        using RunningProcess server = RunningProcess.Server("--port", occupant.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1");

        Assert.That(server.WaitForExit(ExitTimeout), Is.EqualTo(2));
        Assert.That(server.Transcript, Does.Contain("the address is already in use"));
        Assert.That(server.Transcript, Does.Not.Contain("Exception"));
    }

    [Test]
    public void Server_help_lists_every_option()
    {
        using RunningProcess server = RunningProcess.Server("--help");

        Assert.That(server.WaitForExit(ExitTimeout), Is.Zero);
        foreach (string option in new[] { "--port", "--host", "--max-clients", "--max-message-bytes", "--max-username-bytes", "--max-pending-bytes", "--max-output-memory", "--name-timeout", "--announce-limit", "--message-rate", "--message-burst", "--flood-timeout", "--byte-rate", "--history", "--history-days", "--history-max-bytes", "--max-file-bytes", "--max-transfers", "--file-offer-timeout", "--max-per-address", "--connects-per-minute", "--tls-handshakes-per-iteration", "--log-level" })
        {
            Assert.That(server.Transcript, Does.Contain(option));
        }
    }

    [Test]
    public void A_server_given_an_out_of_range_option_refuses_to_start()
    {
        using RunningProcess server = RunningProcess.Server("--port", "70000");

        Assert.That(server.WaitForExit(ExitTimeout), Is.Not.Zero);
        Assert.That(server.Transcript, Does.Contain("--port must be between 0 and 65535"));
    }

    [Test]
    public void The_per_address_options_reach_the_server_and_are_range_checked()
    {
        using RunningProcess server = RunningProcess.Server("--port", "0", "--host", "127.0.0.1", "--max-per-address", "1", "--connects-per-minute", "0");
        IPEndPoint endPoint = Loopback(server.WaitForListeningPort());
        using RawClient first = RawClient.Join(endPoint, "first", IPAddress.Parse("127.0.0.51"));
        using RawClient second = RawClient.Connect(endPoint, from: IPAddress.Parse("127.0.0.51"));
        Assert.That(second.ReadPair().Text, Is.EqualTo("Too many connections from your address (1 at once); close one and try again"));
        using RawClient other = RawClient.Join(endPoint, "other", IPAddress.Parse("127.0.0.52"));

        using RunningProcess invalid = RunningProcess.Server("--port", "0", "--max-per-address", "-1");
        Assert.That(invalid.WaitForExit(ExitTimeout), Is.Not.Zero);
        Assert.That(invalid.Transcript, Does.Contain("--max-per-address must be between 0 and 1000000"));
    }

    [Test]
    public void The_tls_handshake_bound_is_range_checked()
    {
        using RunningProcess invalid = RunningProcess.Server("--port", "0", "--tls-handshakes-per-iteration", "65");

        Assert.That(invalid.WaitForExit(ExitTimeout), Is.Not.Zero);
        Assert.That(invalid.Transcript, Does.Contain("--tls-handshakes-per-iteration must be between 0 and 64"));
    }

    [Test]
    public void A_server_refuses_more_transfers_per_user_than_the_output_limit_can_hold()
    {
        using RunningProcess server = RunningProcess.Server("--port", "0", "--max-transfers", "6");

        Assert.That(server.WaitForExit(ExitTimeout), Is.Not.Zero);
        Assert.That(server.Transcript, Does.Contain($"--max-transfers 6 needs --max-pending-bytes above {6 * ServerOptions.FileWindowOnTheWireBytes}: each transfer may hold {ServerOptions.FileWindowOnTheWireBytes} bytes of a receiver's output (or turn file transfer off with --max-file-bytes 0)."));
    }

    [Test]
    public void The_client_chats_both_ways_through_its_standard_streams()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using RunningProcess alice = StartClient(server.EndPoint, "alice");
        alice.WaitForLine("Connected to");
        bob.ReadNotice("alice joined");

        alice.Input.WriteLine("hello bob, ça va?");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("hello bob, ça va?"));
        bob.Send("hi alice");
        Assert.That(alice.WaitForLine("bob >"), Does.Match(@"^\[\d\d:\d\d\] bob > hi alice$"));
        alice.Input.WriteLine("SEND exit");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("exit"));

        alice.Input.Close();
        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero, alice.Transcript);
        Assert.That(bob.ReadNotice("alice left").Text, Is.EqualTo("alice left (disconnected; 1 online)"));
    }

    [TestCase("/quit")]
    [TestCase("exit")]
    [TestCase("QUIT")]
    public void The_client_leaves_cleanly_on_a_quit_word(string word)
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using RunningProcess alice = StartClient(server.EndPoint, "alice");
        alice.WaitForLine("Connected to");

        alice.Input.WriteLine(word);

        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero, alice.Transcript);
        bob.ReadNotice("alice joined");
        Assert.That(bob.ReadPair(), Is.EqualTo((ServerSender.Name, "alice left (disconnected; 1 online)")));
    }

    [Test]
    public void Ctrl_C_disconnects_the_client_cleanly_with_exit_0()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using RunningProcess alice = StartClient(server.EndPoint, "alice");
        alice.WaitForLine("Connected to");
        bob.ReadNotice("alice joined");

        alice.Signal(RunningProcess.SigInt);

        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero, alice.Transcript);
        Assert.That(bob.ReadNotice("alice left").Text, Does.StartWith("alice left (disconnected"));
    }

    [Test]
    public void Quit_with_a_reason_exits_0_and_the_room_hears_why()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using RunningProcess alice = StartClient(server.EndPoint, "alice");
        alice.WaitForLine("Connected to");
        bob.ReadNotice("alice joined");

        alice.Input.WriteLine("/quit off to lunch");

        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero, alice.Transcript);
        Assert.That(bob.ReadNotice("alice left").Text, Is.EqualTo("alice left (quit: off to lunch; 1 online)"));
    }

    [Test]
    public void The_client_logs_under_the_users_state_directory_one_file_per_user()
    {
        using var state = new TempDirectory();
        var server = TestServer.Start();
        var environment = new Dictionary<string, string> { ["POLLCHAT_LOG_DIR"] = "", ["XDG_STATE_HOME"] = state.Path };
        using RunningProcess alice = RunningProcess.Client(environment, "--host", "127.0.0.1", "--port", Port(server.EndPoint), "--user", "alice");
        using RunningProcess bob = RunningProcess.Client(environment, "--host", "127.0.0.1", "--port", Port(server.EndPoint), "--user", "bob");
        alice.WaitForLine("Connected to");
        bob.WaitForLine("Connected to");

        server.Dispose(); // A lost connection is logged (at Warn).
        alice.WaitForLine("Connection lost");
        bob.WaitForLine("Connection lost");
        alice.Input.Close();
        bob.Input.Close();
        alice.WaitForExit(ExitTimeout);
        bob.WaitForExit(ExitTimeout);

        string logs = Path.Combine(state.Path, "pollchat");
        Assert.That(Directory.GetFiles(logs).Select(Path.GetFileName).Order(), Is.EqualTo((string[])["pollclient-alice.log", "pollclient-bob.log"]));
        Assert.That(File.ReadAllText(Path.Combine(logs, "pollclient-alice.log")), Does.Contain("Connection lost"));
    }

    [Test]
    public void A_refused_connection_is_one_clear_line_and_exit_2()
    {
        int closedPort = FreePort();

        using RunningProcess client = StartClient(Loopback(closedPort), "alice");

        Assert.That(client.WaitForExit(ExitTimeout), Is.EqualTo(2));
        Assert.That(client.Transcript, Is.EqualTo($"[err] PollClient: connection refused by 127.0.0.1:{closedPort} (is the server running?)."));
    }

    [Test]
    public void An_unknown_host_is_one_clear_line_and_exit_2()
    {
        using RunningProcess client = RunningProcess.Client("--host", "no-such-host.invalid", "--port", "9000", "--user", "alice");

        Assert.That(client.WaitForExit(ExitTimeout), Is.EqualTo(2));
        Assert.That(client.Transcript, Is.EqualTo("[err] PollClient: unknown host 'no-such-host.invalid'."));
    }

    [Test]
    public void A_rejected_name_is_shown_and_exits_4()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");

        using RunningProcess impostor = StartClient(server.EndPoint, "BOB");

        Assert.That(impostor.WaitForExit(ExitTimeout), Is.EqualTo(4));
        Assert.That(impostor.Transcript, Does.Contain("*** Name rejected: the name 'BOB' is already taken"));
        Assert.That(impostor.Transcript, Does.Not.Contain("Exception"));
    }

    [Test]
    public void An_invalid_name_given_on_the_command_line_is_refused_before_connecting()
    {
        using RunningProcess client = RunningProcess.Client("--port", "9", "--user", "two words");

        Assert.That(client.WaitForExit(ExitTimeout), Is.EqualTo(1));
        Assert.That(client.Transcript, Does.Contain("invalid username: the name contains a space"));
    }

    [Test]
    public void A_bot_skips_the_history_replayed_on_entering_a_room_but_gets_the_history_it_asks_for()
    {
        using var server = TestServer.Start();
        using (var early = RawClient.Join(server.EndPoint, "early"))
        {
            early.Send("said before the bot came");
            early.Send("/join #dev");
            early.Send("said in dev before the bot came");
            early.Send("/quit");
            early.WaitForEndOfStream();
        }

        using var bob = RawClient.Join(server.EndPoint, "bob");
        using RunningProcess bot = RunningProcess.Client("--host", "127.0.0.1", "--port", Port(server.EndPoint), "--user", "bot", "--bot");
        bob.ReadNotice("bot joined");
        bob.Send("live one");
        bot.WaitForLine("bob > live one");
        bot.Input.WriteLine("/join #dev");
        bot.WaitForLine("You are now in #dev");
        bot.Input.WriteLine("/history");
        bot.WaitForLine("Last 1 message in #dev:");
        bot.WaitForLine("early > said in dev before the bot came");
        bot.Input.WriteLine("/quit");

        Assert.That(bot.WaitForExit(ExitTimeout), Is.EqualTo(0));
        Assert.That(bot.Transcript, Does.Not.Contain("said before the bot came").And.Not.Contain("Last 2 messages"), "the replay on arriving is left out");
        Assert.That(bot.Transcript.Split('\n').Count(line => line.Contains("said in dev", StringComparison.Ordinal)), Is.EqualTo(1), "the replay on /join is left out; the /history asked for shows");
        Assert.That(bot.Transcript, Does.Not.Contain("\u001b"), "plain mode: no escape codes");
    }

    [Test]
    public void Without_user_the_client_asks_for_a_name_on_standard_input()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using RunningProcess client = RunningProcess.Client("--host", "127.0.0.1", "--port", Port(server.EndPoint));

        client.Input.WriteLine("carol");

        Assert.That(client.WaitForLine("Connected to"), Does.Contain("as carol."));
        Assert.That(bob.ReadNotice("carol joined").Text, Is.EqualTo("carol joined (2 online)"));
    }

    [Test]
    public void When_the_server_goes_the_client_says_so_and_exits_3_if_not_reconnected()
    {
        var server = TestServer.Start();
        using RunningProcess alice = StartClient(server.EndPoint, "alice");
        alice.WaitForLine("Connected to");

        server.Dispose();

        Assert.That(alice.WaitForLine("Connection lost"), Is.EqualTo("-!- Connection lost: the server shut down. Reconnecting in 1 s; type CONNECT to retry now, or /quit to leave."));
        Assert.That(alice.WaitForLine("Cannot connect"), Does.Match(@"^-!- Cannot connect: connection refused by 127\.0\.0\.1:\d+ \(is the server running\?\)\. Retrying in \d+ s; type CONNECT to retry now, or /quit to leave\.$"));
        alice.Input.Close();
        Assert.That(alice.WaitForExit(ExitTimeout), Is.EqualTo(3));
    }

    [Test]
    public void CONNECT_rejoins_a_restarted_server()
    {
        var first = TestServer.Start();
        int port = first.EndPoint.Port;
        using RunningProcess alice = StartClient(first.EndPoint, "alice");
        alice.WaitForLine("Connected to");
        first.Dispose();
        alice.WaitForLine("Connection lost");
        alice.Input.WriteLine("lost words");
        Assert.That(alice.WaitForLine("Not connected"), Is.EqualTo("-!- Not connected: sent when the connection is back (1 waiting). Type CONNECT to retry now, or /quit to leave."));

        using var second = TestServer.Start(port: port);
        using var bob = RawClient.Join(second.EndPoint, "bob");
        alice.Input.WriteLine("CONNECT"); // At once, without waiting for the next automatic try.

        alice.WaitForLine("Connected as alice.");
        bob.ReadNotice("alice joined");
        alice.Input.WriteLine("back again");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("lost words"), "what was typed while disconnected goes first, once the connection is back");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("back again"));
        alice.Input.WriteLine("/quit");
        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero);
    }

    [Test]
    public void A_lost_connection_comes_back_by_itself_in_the_same_room_without_repeating_history()
    {
        string data = TestServer.NewDataDirectory();
        var first = TestServer.Start(new ServerOptions { DataDirectory = data });
        int port = first.EndPoint.Port;
        using RunningProcess alice = StartClient(first.EndPoint, "alice");
        alice.WaitForLine("Connected to");
        alice.Input.WriteLine("/join #dev");
        alice.WaitForLine("You are now in #dev");
        using (RawClient bob = RawClient.Join(first.EndPoint, "bob"))
        {
            bob.Send("/join #dev");
            bob.Send("said before");
            alice.WaitForLine("bob > said before");
        }

        first.Dispose();
        alice.WaitForLine("Connection lost");
        alice.Input.WriteLine("typed while away");

        using var second = TestServer.Start(new ServerOptions { DataDirectory = data }, port: port);
        using var carol = RawClient.Join(second.EndPoint, "carol");
        carol.Send("/join #dev");
        carol.ReadNotice("You are now in #dev");
        Assert.That(carol.ReadNotice("alice joined #dev", TimeSpan.FromSeconds(30)).Text, Does.StartWith("alice joined #dev"), "alice came back by herself, and into the room she was in");
        Assert.That(carol.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("typed while away"));

        alice.Input.WriteLine("/quit");
        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero);
        int shown = alice.Transcript.Split('\n').Count(l => l.Contains("bob > said before", StringComparison.Ordinal));
        Assert.That(shown, Is.EqualTo(1), "the history replayed on coming back skips what was already shown: " + alice.Transcript);
        Assert.That(alice.Transcript, Does.Contain("Connected as alice."));
        second.Dispose();
        Directory.Delete(data, recursive: true);
    }

    [Test]
    public void A_classic_python_client_and_PollClient_chat_through_PollServer()
    {
        using var server = TestServer.Start();
        using RunningProcess python = RunningProcess.Python("classic_client.py", "--host", "127.0.0.1", "--port", Port(server.EndPoint), "--user", "pybob");
        python.WaitForLine("*server* > Welcome, pybob!");
        using RunningProcess alice = StartClient(server.EndPoint, "alice");
        alice.WaitForLine("Connected to");
        python.WaitForLine("*server* > alice joined (2 online)");

        alice.Input.WriteLine("héllo from C# 👋");
        Assert.That(python.WaitForLine("alice >"), Is.EqualTo("alice > héllo from C# 👋"));
        python.Input.WriteLine("hi from python");
        Assert.That(alice.WaitForLine("pybob >"), Does.Match(@"^\[\d\d:\d\d\] pybob > hi from python$"));

        alice.Input.WriteLine("/quit");
        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero);
        Assert.That(python.WaitForLine("alice left"), Is.EqualTo("*server* > alice left (disconnected; 1 online)"));
        python.Input.Close();
        Assert.That(python.WaitForExit(ExitTimeout), Is.Zero);
    }

    [TestCase("classic")]
    [TestCase("PollClient")]
    public void A_pasted_30_lines_all_arrive_in_order_at_the_default_rate(string client)
    {
        const int Lines = 30; // Three times the default burst: before fakelag, 20 of these were dropped.
        using var server = TestServer.Start();
        using RawClient bob = RawClient.Join(server.EndPoint, "bob");
        using RunningProcess paster = client == "classic"
            ? RunningProcess.Python("classic_client.py", "--host", "127.0.0.1", "--port", Port(server.EndPoint), "--user", "paster")
            : StartClient(server.EndPoint, "paster");
        bob.ReadNotice("paster joined");

        // One write, as a terminal delivers a paste; standard input stays open, as it does for a person.
        paster.Input.Write(string.Concat(Enumerable.Range(1, Lines).Select(i => $"pasted line {i}\n")));
        paster.Input.Flush();

        for (int i = 1; i <= Lines; i++)
        {
            Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("paster", $"pasted line {i}")));
        }

        Assert.That(paster.WaitForLine("Slow down"), Does.Contain("Slow down: at most 5 messages a second (bursts of 10)"));
    }

    [Test]
    public void Two_PollClients_chat_through_a_classic_python_server()
    {
        using RunningProcess classic = RunningProcess.Python("classic_server.py", "--host", "127.0.0.1", "--port", "0");
        int port = classic.WaitForListeningPort();
        using RawClient carol = RawClient.Connect(Loopback(port)); // First, so she is relayed every frame the PollClients send.
        carol.Send("carol");
        classic.WaitForLine("username: carol");
        using RunningProcess alice = StartClient(Loopback(port), "alice");
        classic.WaitForLine("username: alice");
        using RunningProcess bob = StartClient(Loopback(port), "bob");
        classic.WaitForLine("username: bob");

        alice.Input.WriteLine("hello through a classic server");
        Assert.That(bob.WaitForLine("alice >"), Does.Match(@"^\[\d\d:\d\d\] alice > hello through a classic server$"));
        bob.Input.WriteLine("/users");
        Assert.That(bob.WaitForLine("Not sent"), Does.Contain("a classic one, without commands; everyone would have read /users as chat. Type //users to send it as text."));
        bob.Input.WriteLine("//quit is local, this is not"); // As to a PollServer, "//" sends a leading "/".
        Assert.That(alice.WaitForLine("bob >"), Does.EndWith("bob > /quit is local, this is not"));
        // A classic server relays every frame: carol sees exactly what was meant, nothing PollClient added (no rich-mode request) and no command.
        Assert.That(carol.ReadPair(), Is.EqualTo(("alice", "hello through a classic server")));
        Assert.That(carol.ReadPair(), Is.EqualTo(("bob", "/quit is local, this is not")));
        Assert.That(alice.Transcript + bob.Transcript, Does.Not.Contain("Rich mode"));

        bob.Input.WriteLine("/quit");
        alice.Input.WriteLine("exit");
        Assert.That(bob.WaitForExit(ExitTimeout), Is.Zero);
        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero);
        classic.Signal(RunningProcess.SigTerm);
        Assert.That(classic.WaitForExit(ExitTimeout), Is.Zero);
    }

    private static RunningProcess StartClient(IPEndPoint server, string user) =>
        RunningProcess.Client("--host", "127.0.0.1", "--port", Port(server), "--user", user);

    private static string Port(IPEndPoint endPoint) => endPoint.Port.ToString(CultureInfo.InvariantCulture);

    private static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
