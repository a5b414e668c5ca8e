using System.Diagnostics;
using System.Text;
using PollChat.Common.Framing;
using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>Peers that send too fast or never finish a frame: held back or dropped, and nobody else notices.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class AbuseTests
{
    [Test]
    public void A_sender_over_the_byte_rate_is_read_only_that_fast_loses_nothing_and_others_keep_chatting()
    {
        const int BytesPerSecond = 32 * 1024;
        var options = new ServerOptions { BytesPerSecond = BytesPerSecond, MessagesPerSecond = 0, MaxMessageBytes = 4096 };
        using var chat = ChatRoom.Start(["streamer", "carol", "bob"], options);
        var (streamer, carol, bob) = chat;

        // Half a burst more than the burst: the last part can arrive no faster than the rate allows.
        int messages = (int)(options.ByteBurst * 1.5 / 4096) + 1;
        string line = new('x', 4000);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < messages; i++)
        {
            streamer.Send($"{i:D4}{line}");
        }

        carol.Send("still here");
        var seenFromStreamer = new List<int>();
        bool carolSeenBeforeTheEnd = false;
        while (seenFromStreamer.Count < messages)
        {
            (string sender, string text) = bob.ReadUntil(p => p.Sender is "streamer" or "carol");
            if (sender == "carol")
            {
                carolSeenBeforeTheEnd = true;
                Assert.That(text, Is.EqualTo("still here"));
            }
            else
            {
                seenFromStreamer.Add(int.Parse(text.AsSpan(0, 4), provider: System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        double excessBytes = (messages * Frame.EncodedLength(4004)) - options.ByteBurst;
        Assert.Multiple(() =>
        {
            Assert.That(seenFromStreamer, Is.EqualTo(Enumerable.Range(0, messages)), "every message, in order");
            Assert.That(carolSeenBeforeTheEnd, Is.True, "carol's message was not held behind the streamer's");
            // A lower bound only: a slow machine can take longer, but no machine can read faster than the rate.
            Assert.That(watch.Elapsed.TotalSeconds, Is.GreaterThanOrEqualTo(excessBytes / BytesPerSecond * 0.8), "server counters: " + chat.Server.Operator("/stats").Single());
            Assert.That(LogCapture.Lines.Count(l => l.Contains("streamer from", StringComparison.Ordinal) && l.Contains("bytes/s; reading it only as fast as that", StringComparison.Ordinal)), Is.EqualTo(1), "logged once");
        });
    }

    [Test]
    public void A_frame_left_unfinished_past_the_timeout_drops_its_sender_with_a_reason()
    {
        using var chat = ChatRoom.Start(["alice", "bob", "slowloris"], new ServerOptions { UnfinishedFrameTimeout = TimeSpan.FromSeconds(1) });
        var (alice, bob, slowloris) = chat;

        slowloris.SendBytes(Encoding.ASCII.GetBytes("100       only part of it"));

        Assert.That(slowloris.ReadNotice("Protocol error").Text, Is.EqualTo("Protocol error: a frame was started and not finished within 1 s; closing the connection"));
        Assert.That(slowloris.WaitForEndOfStream(), Is.True);
        Assert.That(alice.ReadNotice("slowloris left").Text, Is.EqualTo("slowloris left (dropped: protocol error; 2 online)"));
        bob.Send("unbothered");
        Assert.That(alice.ReadUntil(p => p.Sender == "bob").Text, Is.EqualTo("unbothered"));
    }

    [Test]
    public void Frames_that_keep_straddling_receives_are_not_taken_for_a_stuck_one()
    {
        using var chat = ChatRoom.Start(["bob", "talker"], new ServerOptions { UnfinishedFrameTimeout = TimeSpan.FromSeconds(1), MessagesPerSecond = 0 });
        var (bob, talker) = chat;

        // Each send ends half-way into the next frame, so the server always holds part of one, but never the same one for long.
        byte[] first = Frame.Encode("message 0");
        talker.SendBytes(first.AsSpan(0, 12));
        byte[] previous = first;
        for (int i = 1; i <= 8; i++)
        {
            Thread.Sleep(400); // Pacing the peer, not waiting for the server: 8 x 0.4 s spans the timeout three times.
            byte[] next = Frame.Encode($"message {i}");
            talker.SendBytes([.. previous.AsSpan(12), .. next.AsSpan(0, 12)]);
            previous = next;
        }

        talker.SendBytes(previous.AsSpan(12));
        for (int i = 0; i <= 8; i++)
        {
            Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("talker", $"message {i}")));
        }
    }

    [Test]
    public void Over_the_message_rate_messages_wait_and_all_arrive_in_order_with_one_notice()
    {
        const int Lines = 25;
        var options = new ServerOptions { MessagesPerSecond = 10, MessageBurst = 3 };
        using var chat = ChatRoom.Start(["alice", "bob", "paster"], options);
        var (alice, bob, paster) = chat;

        var watch = Stopwatch.StartNew();
        paster.SendBytes([.. Enumerable.Range(1, Lines).SelectMany(i => Frame.Encode($"line {i}"))]);
        Assert.That(paster.ReadNotice("Slow down").Text,
            Is.EqualTo("Slow down: at most 10 messages a second (bursts of 3); what you send meanwhile waits and goes out at that rate, nothing is lost."));
        alice.Send("not stuck behind the paste");

        var seen = new List<string>();
        bool aliceBeforeTheEnd = false;
        while (seen.Count < Lines)
        {
            (string sender, string text) = bob.ReadUntil(p => p.Sender is "paster" or "alice");
            if (sender == "alice")
            {
                aliceBeforeTheEnd = true;
            }
            else
            {
                seen.Add(text);
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(seen, Is.EqualTo(Enumerable.Range(1, Lines).Select(i => $"line {i}")), "every line, in order");
            Assert.That(aliceBeforeTheEnd, Is.True, "others' messages are not held behind the paste");
            // A lower bound only: no machine may pass the lines faster than the rate.
            Assert.That(watch.Elapsed.TotalSeconds, Is.GreaterThanOrEqualTo((Lines - 3) / 10.0 * 0.8));
            Assert.That(paster.Transcript.Count(l => l.Contains("Slow down", StringComparison.Ordinal)), Is.EqualTo(1), "told once");
            Assert.That(chat.Server.Operator("/stats").Single(), Does.Contain(" held_back=1 "));
        });

        paster.Send("after the paste");
        Assert.That(bob.ReadUntil(p => p.Sender == "paster").Text, Is.EqualTo("after the paste"));
    }

    [Test]
    public void A_sender_held_back_without_a_break_past_the_flood_timeout_is_dropped_with_one_line()
    {
        var options = new ServerOptions { MessagesPerSecond = 2, MessageBurst = 1, FloodTimeout = TimeSpan.FromSeconds(1) };
        using var chat = ChatRoom.Start(["alice", "bob", "flooder"], options);
        var (alice, bob, flooder) = chat;

        // Ten lines at two a second take 4.5 s to pass: more than a second held back without a break.
        flooder.SendBytes([.. Enumerable.Range(1, 10).SelectMany(i => Frame.Encode($"flood {i}"))]);

        Assert.That(flooder.ReadNotice("Disconnected for flooding").Text,
            Is.EqualTo("Disconnected for flooding: your messages kept waiting for 1 s without a break at 2 a second; what had not gone out is lost"));
        Assert.That(flooder.WaitForEndOfStream(), Is.True);
        Assert.That(bob.ReadNotice("flooder left").Text, Is.EqualTo("flooder left (dropped: flooding; 2 online)"));
        alice.Send("calm again");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("calm again"));
    }

    [Test]
    public void Frames_refused_as_invalid_UTF8_cost_the_rate_and_are_logged_once_with_a_count()
    {
        const int Frames = 2000;
        using var chat = ChatRoom.Start(["alice", "bob", "fuzzer"], new ServerOptions { MessagesPerSecond = 5, MessageBurst = 10 });
        var (alice, bob, fuzzer) = chat;

        byte[] invalid = [.. Encoding.ASCII.GetBytes("1         "), 0xFF];
        fuzzer.SendBytes([.. Enumerable.Repeat(invalid, Frames).SelectMany(f => f)]);
        fuzzer.ReadNotice("Message refused");
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 5; i++)
        {
            alice.Send($"witness {i}");
            Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo($"witness {i}"));
        }

        string stats = chat.Server.Operator("/stats").Single();
        long framesIn = long.Parse(System.Text.RegularExpressions.Regex.Match(stats, @" frames_in=(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Multiple(() =>
        {
            // Names, the witnesses' lines, and no more of the fuzzer's than its burst and rate let through.
            Assert.That(framesIn, Is.LessThan(3 + 5 + 10 + (5 * (watch.Elapsed.TotalSeconds + 2))), stats);
            Assert.That(LogCapture.Lines.Count(l => l.Contains("fuzzer", StringComparison.Ordinal) && l.Contains("not valid UTF-8", StringComparison.Ordinal)), Is.EqualTo(1), "the first is logged; the rest are counted");
        });

        fuzzer.Dispose();
        Assert.That(alice.ReadNotice("fuzzer left").Text, Does.StartWith("fuzzer left"));
        Assert.That(LogCapture.Lines.Count(l => l.Contains("fuzzer from", StringComparison.Ordinal) && l.Contains("more messages refused as invalid UTF-8", StringComparison.Ordinal)), Is.EqualTo(1), "the count is logged when it closes");
    }

    [Test]
    public void A_reader_dropped_for_not_reading_is_reset_at_once_not_fed_megabytes()
    {
        var options = new ServerOptions { MessagesPerSecond = 0, BytesPerSecond = 0, MaxPendingOutputBytes = 64 * 1024 };
        using var server = TestServer.Start(options);
        using var sender = RawClient.Join(server.EndPoint, "sender"); // The one other member: it gets none of its own lines, so it keeps up.
        using RawClient stuck = RawClient.Connect(server.EndPoint, receiveBufferSize: 4096);
        stuck.Send("stuck");
        stuck.ReadNotice("Welcome");

        string line = new('x', 4000);
        int sent = 0;
        while (!LogCapture.Lines.Any(l => l.Contains("stuck from", StringComparison.Ordinal) && l.Contains("closed: OutputOverflow", StringComparison.Ordinal)))
        {
            Assert.That(sent, Is.LessThan(5000), "the reader that does not read was never dropped");
            sender.Send($"{sent++} {line}");
        }

        Assert.That(sender.ReadNotice("stuck left").Text, Does.StartWith("stuck left (dropped: not reading;"));
        Assert.That(stuck.WaitForEndOfStream(), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(stuck.EndedWithReset, Is.True, "a reset, not a FIN after the kernel's buffer drained");
            // Its own 4 KiB window and the server's 512 KiB socket buffer at most; left to autotuning that buffer reaches 4 MiB.
            Assert.That(stuck.BytesReceived, Is.LessThan(1024 * 1024));
        });
    }

    [Test]
    public void Past_the_output_budget_the_client_holding_the_most_is_dropped_and_readers_lose_nothing()
    {
        const int Messages = 600;
        var options = new ServerOptions { MessagesPerSecond = 0, BytesPerSecond = 0, MaxPendingOutputBytes = 1024 * 1024, MaxOutputMemory = 1536 * 1024 };
        using var chat = ChatRoom.Start(["bob", "sender"], options);
        var (bob, sender) = chat;
        using RawClient stuckA = RawClient.Connect(chat.EndPoint, receiveBufferSize: 4096);
        stuckA.Send("stuckA");
        stuckA.ReadNotice("Welcome");
        using RawClient stuckB = RawClient.Connect(chat.EndPoint, receiveBufferSize: 4096);
        stuckB.Send("stuckB");
        stuckB.ReadNotice("Welcome");

        // 2.4 MB to each: two readers that do not read would hold 2 MiB between them, over the 1.5 MiB budget, before either reaches its own 1 MiB limit.
        string line = new('y', 4000);
        var received = new List<int>();
        for (int i = 0; i < Messages; i++)
        {
            sender.Send($"{i} {line}");
            while (received.Count <= i - 100)
            {
                received.Add(int.Parse(bob.ReadUntil(p => p.Sender == "sender").Text.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        while (received.Count < Messages)
        {
            received.Add(int.Parse(bob.ReadUntil(p => p.Sender == "sender").Text.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        }

        string stats = chat.Server.Operator("/stats").Single();
        Assert.Multiple(() =>
        {
            Assert.That(received, Is.EqualTo(Enumerable.Range(0, Messages)), "a reader loses nothing");
            Assert.That(stats, Does.Match(@" output_budget_drops=[12]( |$)"), stats);
            Assert.That(LogCapture.Lines.Count(l => l.Contains("reached --max-output-memory (1572864 bytes) and this client held the most", StringComparison.Ordinal) && l.Contains("stuck", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(1));
        });
    }

    [Test]
    public void A_join_and_leave_storm_is_told_as_counts_not_one_line_per_bot_and_then_calms_down()
    {
        const int Bots = 300; // 600 changes: six times the burst announced one by one.
        using var chat = ChatRoom.Start(["bob", "rich"]);
        var (bob, rich) = chat;
        rich.Send("/rich 1");
        rich.ReadUntil(p => p.Sender == "*event*" && p.Text.Contains("\"users\"", StringComparison.Ordinal));

        for (int i = 0; i < Bots; i++)
        {
            // Five per source address, so a per-address connection limit does not turn this into a different test.
            using RawClient bot = RawClient.Connect(chat.EndPoint, from: System.Net.IPAddress.Parse($"127.0.0.{100 + (i / 5)}"));
            bot.Send($"bot{i}");
            bot.ReadNotice("Welcome");
        }

        int oneByOne = 0;
        int counted = 0;
        var summary = new System.Text.RegularExpressions.Regex(@"^Busy: (\d+) joined and (\d+) left in the last 5 s, too many to announce one by one \(\d+ online\)$");
        while (oneByOne + counted < 2 * Bots)
        {
            (string sender, string text) = bob.ReadUntil(p => p.Sender == ServerSender.Name && (p.Text.StartsWith("bot", StringComparison.Ordinal) || p.Text.StartsWith("Busy", StringComparison.Ordinal)), TimeSpan.FromSeconds(15));
            System.Text.RegularExpressions.Match match = summary.Match(text);
            if (match.Success)
            {
                counted += int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                Assert.That(text, Does.Match(@"^bot\d+ (joined|left)"), sender);
                oneByOne++;
            }
        }

        Assert.That(oneByOne, Is.LessThanOrEqualTo(150), "the burst, and what the rate allows while it is spent");
        // Rich clients are told that the list is not followed, and then get no change they could misapply.
        rich.ReadUntil(p => p.Sender == "*event*" && p.Text.Contains("\"type\":\"tracking\"", StringComparison.Ordinal));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!LogCapture.Lines.Any(l => l.Contains("Joins and leaves are announced one by one again", StringComparison.Ordinal)))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the busy spell never ended");
            Thread.Sleep(50); // Polling the log, which signals nothing.
        }

        using RawClient carol = RawClient.Join(chat.EndPoint, "carol");
        Assert.That(bob.ReadNotice("carol").Text, Does.StartWith("carol joined"));
        Assert.That(rich.ReadUntil(p => p.Sender == "*event*" && p.Text.Contains("carol", StringComparison.Ordinal)).Text, Does.Contain("\"type\":\"online\""));
        Assert.That(rich.Transcript.Count(l => l.Contains("\"type\":\"tracking\"", StringComparison.Ordinal)), Is.EqualTo(1), "told once");
    }
}
