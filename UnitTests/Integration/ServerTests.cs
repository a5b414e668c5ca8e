using System.Text;
using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Tests;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>The server over real loopback sockets, driven by raw-frame peers.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ServerTests
{
    [Test]
    public void A_message_reaches_every_other_user_and_not_its_sender()
    {
        using var chat = ChatRoom.Start(3);
        var (alice, bob, carol) = chat;

        alice.Send("hello all");
        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice", "hello all")));
        Assert.That(carol.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice", "hello all")));

        // Had alice received her own line, it would arrive before bob's reply.
        bob.Send("sentinel");
        Assert.That(alice.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("bob", "sentinel")));
    }

    [Test]
    public void Joins_and_leaves_are_announced_to_the_others_with_the_count()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using (RawClient bob = RawClient.Join(server.EndPoint, "bob"))
        {
            Assert.That(alice.ReadPair(), Is.EqualTo((ServerSender.Name, "bob joined (2 online)")));
        }

        Assert.That(alice.ReadPair(), Is.EqualTo((ServerSender.Name, "bob left (disconnected; 1 online)")));
    }

    [Test]
    public void The_welcome_names_who_is_online()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var bob = RawClient.Connect(server.EndPoint);
        bob.Send("bob");

        Assert.That(bob.ReadPair(), Is.EqualTo((ServerSender.Name, "Welcome, bob! Online (1): alice. Type /quit to leave. [rich mode 1: /rich 1]")));
    }

    [Test]
    public void A_taken_name_in_any_case_is_refused_and_the_owner_keeps_chatting()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;
        using var impostor = RawClient.Connect(chat.EndPoint);

        impostor.Send("ALICE");

        Assert.That(impostor.ReadPair(), Is.EqualTo((ServerSender.Name, "Name rejected: the name 'ALICE' is already taken")));
        Assert.That(impostor.WaitForEndOfStream(), Is.True);
        alice.Send("still here");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice"), Is.EqualTo(("alice", "still here")));
    }

    [TestCase("", "the name is empty")]
    [TestCase("two words", "the name contains a space, a control character or an invisible character")]
    [TestCase("bell\u0007", "the name contains a space, a control character or an invisible character")]
    [TestCase("*server*", "names starting with '*' are reserved for the server")]
    [TestCase("abcdefghijklmnopqrstuvwxyz0123456", "the name is longer than 32 bytes")]
    public void An_invalid_name_is_refused_with_the_reason(string name, string reason)
    {
        using var server = TestServer.Start();
        using var client = RawClient.Connect(server.EndPoint);

        client.Send(name);

        Assert.That(client.ReadPair(), Is.EqualTo((ServerSender.Name, ServerSender.NameRejectedPrefix + reason)));
        Assert.That(client.WaitForEndOfStream(), Is.True);
    }

    [Test]
    public void A_name_that_is_not_UTF8_is_refused()
    {
        using var server = TestServer.Start();
        using var client = RawClient.Connect(server.EndPoint);

        client.SendBytes([.. "2         "u8, 0xC3, 0x28]);

        Assert.That(client.ReadPair(), Is.EqualTo((ServerSender.Name, "Name rejected: the name is not valid UTF-8")));
        Assert.That(client.WaitForEndOfStream(), Is.True);
    }

    [TestCase("abc       ", TestName = "Letters in the header")]
    [TestCase("5\0        ", TestName = "An embedded NUL")]
    [TestCase("-5        ", TestName = "A sign")]
    [TestCase("         5", TestName = "A right-justified length")]
    [TestCase("05        ", TestName = "A leading zero")]
    [TestCase("5 5       ", TestName = "Digits after the padding")]
    [TestCase("          ", TestName = "No digits at all")]
    [TestCase("65537     ", TestName = "A length over the message limit")]
    [TestCase("9999999999", TestName = "The largest length ten digits can say")]
    public void A_malformed_header_drops_only_its_sender(string header)
    {
        using var chat = ChatRoom.Start(["alice", "bob", "mallory"]);
        var (alice, bob, mallory) = chat;

        mallory.SendBytes(Encoding.ASCII.GetBytes(header + "payload"));

        (string sender, string text) = mallory.ReadNotice("Protocol error: ");
        Assert.That(text, Does.EndWith("; closing the connection"));
        Assert.That(mallory.WaitForEndOfStream(), Is.True);
        Assert.That(alice.ReadNotice("mallory left").Text, Is.EqualTo("mallory left (dropped: protocol error; 2 online)"));
        alice.Send("we carry on");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice"), Is.EqualTo(("alice", "we carry on")));
        bob.Send("indeed");
        Assert.That(alice.ReadUntil(p => p.Sender == "bob"), Is.EqualTo(("bob", "indeed")));
        Assert.That(sender, Is.EqualTo(ServerSender.Name));
    }

    [Test]
    public void A_dropped_connection_is_logged_exactly_once()
    {
        using var server = TestServer.Start();
        string name = "logonce" + Guid.NewGuid().ToString("N")[..8];
        using var client = RawClient.Join(server.EndPoint, name);

        client.SendBytes("xx        "u8);
        Assert.That(client.WaitForEndOfStream(), Is.True);
        using var witness = RawClient.Join(server.EndPoint, "witness"); // Its welcome proves the close phase ran.

        Assert.That(LogCapture.Lines.Count(l => l.Contains($"{name} from", StringComparison.Ordinal) && l.Contains("closed:", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public void A_message_that_is_not_UTF8_is_refused_and_the_sender_stays()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.SendBytes([.. "3         "u8, 0x61, 0xFF, 0x62]);
        Assert.That(alice.ReadNotice("Message refused").Text, Is.EqualTo("Message refused: it is not valid UTF-8"));

        alice.Send("valid now");
        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice", "valid now")));
    }

    [Test]
    public void Frames_split_into_single_bytes_and_frames_batched_in_one_send_both_relay()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using var slow = RawClient.Connect(server.EndPoint);

        foreach (byte b in "4         slow6         héllo"u8.ToArray())
        {
            slow.SendBytes([b]);
        }

        slow.SendBytes("3         one3         two5         three"u8);

        string[] expected = ["héllo", "one", "two", "three"];
        foreach (string text in expected)
        {
            Assert.That(bob.ReadUntil(p => p.Sender == "slow"), Is.EqualTo(("slow", text)));
        }
    }

    [Test]
    [NonParallelizable] // Its reader must keep up with a sender at full speed, so nothing else runs beside it on the 2 cores.
    public void A_client_that_never_reads_is_dropped_and_the_others_get_every_message()
    {
        // 8 MB in all: more than the server's limit and the kernel buffers between the server and the sleeper can hold.
        const int messages = 4000;
        // The sender floods on purpose, so the per-connection message limit is off here. The reader
        // keeps the default limit: the kernel's send buffer is capped now (it was 4 MiB of slack), and
        // a reader on a loaded machine must not be taken for one that stopped reading.
        using var server = TestServer.Start(new ServerOptions { MessagesPerSecond = 0, BytesPerSecond = 0 });
        using var sleeper = RawClient.Connect(server.EndPoint, receiveBufferSize: 4096);
        sleeper.Send("sleeper");
        // A reader that keeps up on average, given the slack a real one has: its own 4 MiB receive buffer.
        // Under the whole suite's load its thread can go unscheduled for long enough that the server's
        // 1 MiB and capped kernel buffer alone would take it for a reader that stopped.
        using var reader = RawClient.Connect(server.EndPoint, receiveBufferSize: 4 * 1024 * 1024);
        reader.Send("reader");
        reader.ReadNotice("Welcome");
        using var sender = RawClient.Join(server.EndPoint, "sender");

        string filler = new('x', 2000);
        var relayed = new List<string>();
        bool sleeperDropped = false;
        // On a thread of its own, not the pool's: with the suite's blocking reads on pool threads, a pooled reader could start
        // late enough for the flood to fill its buffers, and it would be dropped as one that stopped reading.
        var readAll = Task.Factory.StartNew(() =>
        {
            while (relayed.Count < messages || !sleeperDropped)
            {
                (string from, string text) = reader.ReadPair();
                if (from == "sender")
                {
                    relayed.Add(text[..5]);
                }
                else if (text.StartsWith("sleeper left", StringComparison.Ordinal))
                {
                    sleeperDropped = true;
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        for (int i = 0; i < messages; i++)
        {
            sender.Send($"{i:D5} {filler}");
        }

        Assert.That(readAll.Wait(TimeSpan.FromSeconds(60)), Is.True, "the reader did not get every message and the drop notice");
        Assert.That(relayed, Is.EqualTo(Enumerable.Range(0, messages).Select(i => $"{i:D5}")));
        Assert.That(sleeper.WaitForEndOfStream(), Is.True);
    }

    [Test]
    public void A_connection_that_sends_no_name_in_time_is_closed_with_a_notice()
    {
        using var server = TestServer.Start(new ServerOptions { NameTimeout = TimeSpan.FromMilliseconds(300) });
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var silent = RawClient.Connect(server.EndPoint);

        Assert.That(silent.ReadPair(), Is.EqualTo((ServerSender.Name, "No username received within 0.3 s; closing the connection")));
        Assert.That(silent.WaitForEndOfStream(), Is.True);
        using var bob = RawClient.Join(server.EndPoint, "bob");
        alice.Send("after the timeout");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("after the timeout"));
    }

    [Test]
    public void Connections_over_the_limit_are_told_the_server_is_full()
    {
        using var chat = ChatRoom.Start(2, new ServerOptions { MaxClients = 2 });
        var (alice, bob) = chat;
        using var carol = RawClient.Connect(chat.EndPoint);

        Assert.That(carol.ReadPair(), Is.EqualTo((ServerSender.Name, "Server full (2 clients); try again later")));
        Assert.That(carol.WaitForEndOfStream(), Is.True);
    }

    [Test]
    public void Quit_says_goodbye_closes_and_is_announced()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        bob.Send("/quit");

        Assert.That(bob.ReadPair(), Is.EqualTo((ServerSender.Name, "Goodbye, bob!")));
        Assert.That(bob.WaitForEndOfStream(), Is.True);
        Assert.That(alice.ReadNotice("bob left").Text, Is.EqualTo("bob left (quit; 1 online)"));
    }

    [Test]
    public void Quit_with_a_reason_tells_the_room_why()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        bob.Send("/quit off to lunch \u001b[31m");

        Assert.That(bob.ReadPair(), Is.EqualTo((ServerSender.Name, "Goodbye, bob!")));
        Assert.That(alice.ReadNotice("bob left").Text, Is.EqualTo("bob left (quit: off to lunch [31m; 1 online)"), "the reason, without its control characters");
    }

    [Test]
    public void An_unknown_command_gets_a_notice_and_is_not_relayed()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.Send("/frobnicate now");
        Assert.That(alice.ReadNotice("Unknown").Text, Does.StartWith("Unknown command /frobnicate."));

        alice.Send("sentinel");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice"), Is.EqualTo(("alice", "sentinel")));
    }

    [Test]
    public void A_double_slash_sends_a_literal_slash()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.Send("//shrug");

        Assert.That(bob.ReadUntil(p => p.Sender == "alice"), Is.EqualTo(("alice", "/shrug")));
    }

    [Test]
    public void An_abrupt_reset_is_announced_and_the_others_keep_chatting()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;
        RawClient crasher = RawClient.Join(chat.EndPoint, "crasher");

        crasher.Abort();

        Assert.That(alice.ReadNotice("crasher left").Text, Is.EqualTo("crasher left (connection lost; 2 online)"));
        bob.Send("still up");
        Assert.That(alice.ReadUntil(p => p.Sender == "bob").Text, Is.EqualTo("still up"));
    }

    [Test]
    public void Shutdown_tells_everyone_closes_every_connection_and_stops_the_loop()
    {
        var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var unnamed = RawClient.Connect(server.EndPoint);

        bool stopped = server.Stop(TimeSpan.FromSeconds(10));

        Assert.That(stopped, Is.True);
        Assert.That(alice.ReadPair(), Is.EqualTo((ServerSender.Name, ServerSender.ShuttingDownNotice)));
        Assert.That(alice.WaitForEndOfStream(), Is.True);
        Assert.That(unnamed.ReadPair(), Is.EqualTo((ServerSender.Name, ServerSender.ShuttingDownNotice)));
        server.Dispose();
    }

    [Test]
    public void A_message_at_the_configured_limit_passes_and_one_byte_more_drops_the_sender()
    {
        using var chat = ChatRoom.Start(2, new ServerOptions { MaxMessageBytes = 100 });
        var (alice, bob) = chat;

        alice.Send(new string('a', 100));
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Has.Length.EqualTo(100));

        alice.Send(new string('a', 101));
        Assert.That(alice.ReadNotice("Protocol error").Text, Is.EqualTo("Protocol error: the frame declares 101 bytes, over the limit of 100; closing the connection"));
    }

    [Test]
    public void Joins_and_leaves_are_not_announced_above_the_announce_limit()
    {
        using var server = TestServer.Start(new ServerOptions { AnnounceLimit = 2 });
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var bob = RawClient.Join(server.EndPoint, "bob");
        Assert.That(alice.ReadPair(), Is.EqualTo((ServerSender.Name, "bob joined (2 online)")));

        using (RawClient.Join(server.EndPoint, "carol"))
        {
            bob.Send("carol's join was not announced");
            Assert.That(alice.ReadPair(), Is.EqualTo(("bob", "carol's join was not announced")));
        }

        bob.Send("nor her leaving");
        Assert.That(alice.ReadPair(), Is.EqualTo(("bob", "nor her leaving")));
        bob.Dispose();
        Assert.That(alice.ReadPair(), Is.EqualTo((ServerSender.Name, "bob left (disconnected; 1 online)")));
    }
}
