using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>
/// File transfer through the server: real PollClients sending and receiving real files, and raw
/// rich-mode clients where a test needs a peer that misbehaves on purpose (never acknowledges,
/// drops mid-file, offers a hostile name).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed partial class FileTransferTests
{
    private static readonly TimeSpan TransferTimeout = TimeSpan.FromMinutes(3);

    [Test]
    public void Fifty_megabytes_arrive_intact_while_two_others_chat_without_delay()
    {
        using var server = TestServer.Start(new ServerOptions { MessagesPerSecond = 0 }); // carol and dave chat as fast as the server lets them.
        using var files = new TempDirectory();
        using var downloads = new TempDirectory();
        string original = files.File("big.bin");
        WriteRandomFile(original, 50 * 1024 * 1024, seed: 50);
        using RunningProcess alice = Client(server.EndPoint, "alice");
        using RunningProcess bob = Client(server.EndPoint, "bob", "--downloads", downloads.Path);
        using var carol = RawClient.Join(server.EndPoint, "carol");
        using var dave = RawClient.Join(server.EndPoint, "dave");
        alice.WaitForLine("Rich mode 1 on");
        bob.WaitForLine("Rich mode 1 on");
        // The same chat with no transfer going, in the same run, for the figures printed at the end.
        var quiet = new List<double>();
        for (int i = 0; i < 500; i++)
        {
            quiet.Add(TimeOneMessage(carol, dave, $"quiet {i}"));
        }

        long loopAllocatedBefore = LoopAllocatedBytes(server);
        alice.Input.WriteLine($"/send bob {original}");
        Assert.That(bob.WaitForLine("alice offers"), Does.Contain("alice offers big.bin (50.0 MiB, SHA-256 "));
        bob.Input.WriteLine("/accept");
        bob.WaitForLine("Receiving big.bin from alice");

        // carol and dave chat while it goes: each message's trip from carol to dave is timed.
        var trips = new List<double>();
        var clock = Stopwatch.StartNew();
        while (!bob.Transcript.Contains("saved as", StringComparison.Ordinal) && clock.Elapsed < TransferTimeout)
        {
            trips.Add(TimeOneMessage(carol, dave, $"ping {trips.Count}"));
        }

        string saved = bob.WaitForLine("saved as", TransferTimeout);
        Assert.That(saved, Does.Contain($"saved as {downloads.File("big.bin")} (SHA-256 checked)"));
        Assert.That(alice.WaitForLine("sent to bob"), Does.Contain("big.bin sent to bob, and its SHA-256 checked there"));
        Assert.That(Sha256Of(downloads.File("big.bin")), Is.EqualTo(Sha256Of(original)));
        double transferSeconds = clock.Elapsed.TotalSeconds;
        long firstAllocated = LoopAllocatedBytes(server) - loopAllocatedBefore;

        // Again, now that every buffer has grown to its working size: what the loop allocates per chunk, and a second copy saved beside the first.
        loopAllocatedBefore = LoopAllocatedBytes(server);
        alice.Input.WriteLine($"/send bob {original}");
        bob.WaitForLine("alice offers big.bin");
        bob.Input.WriteLine("/accept");
        Assert.That(bob.WaitForLine("saved as", TransferTimeout), Does.Contain($"saved as {downloads.File("big (1).bin")} (SHA-256 checked)"), "never over the first");
        long loopAllocated = LoopAllocatedBytes(server) - loopAllocatedBefore;
        Assert.That(Sha256Of(downloads.File("big (1).bin")), Is.EqualTo(Sha256Of(original)));
        Assert.That(downloads.FileNames(), Is.EqualTo(BigBinTwice), "the partial files became the files");
        trips.Sort();
        quiet.Sort();
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"50 MiB in about {transferSeconds:0.0} s; chat round trip carol to dave, median {trips[trips.Count / 2]:0.00} ms during the transfer ({trips.Count} messages) " +
            $"against {quiet[quiet.Count / 2]:0.00} ms before it, ratio {trips[trips.Count / 2] / quiet[quiet.Count / 2]:0.00}; worst {trips[^1]:0.00} ms against {quiet[^1]:0.00} ms; " +
            $"the loop allocated {firstAllocated} bytes during the first transfer (buffers growing included) and {loopAllocated} during the second ({loopAllocated / (50.0 * 1024 * 1024 / FileTransferProtocol.ChunkBytes):0.0} per 32 KiB chunk, offer and events included)"));
        Assert.That(trips, Has.Count.GreaterThanOrEqualTo(20), "enough messages to say something about their delay");
        Assert.That(trips[^1], Is.LessThan(500), "no chat message waited behind the file");
    }

    [Test]
    public void Cancelling_stops_a_transfer_on_both_sides_and_the_server_held_no_more_than_the_window()
    {
        using var server = TestServer.Start();
        using var files = new TempDirectory();
        string original = files.File("slow.bin");
        WriteRandomFile(original, 1024 * 1024, seed: 7);
        using RunningProcess alice = Client(server.EndPoint, "alice");
        using RawClient bob = RichClient(server.EndPoint, "bob");
        alice.WaitForLine("Rich mode 1 on");

        alice.Input.WriteLine($"/send bob {original}");
        int id = OfferId(bob);
        bob.Send($"/file accept {id} 0");
        long received = 0;
        while (received < FileTransferProtocol.WindowBytes)
        {
            (string sender, string text) = bob.ReadUntil(pair => pair.Sender == FileTransferProtocol.Sender);
            Assert.That(sender, Is.EqualTo(FileTransferProtocol.Sender));
            received += FileTransferProtocol.DecodedLength(System.Text.Encoding.ASCII.GetBytes(text.Split(' ')[3]));
        }

        alice.WaitForLine("bob accepted slow.bin; sending.");
        alice.Input.WriteLine("/transfers");
        Assert.That(alice.WaitForLine("Transfer 1: slow.bin"), Does.Contain("to bob, 0% of 1.0 MiB"), "a whole window sent, nothing acknowledged: it waits");
        alice.Input.WriteLine("/cancel");

        Assert.That(NextEvent(bob, RichEventTypes.FileEnd), Does.Contain("\"reason\":\"cancelled by alice\""));
        Assert.That(alice.WaitForLine("cancelled by alice"), Does.Contain("Transfer 1 (slow.bin to bob): cancelled by alice."));
        Assert.That(received, Is.EqualTo(FileTransferProtocol.WindowBytes), "without acknowledgements, no more than the window was sent");
    }

    [Test]
    public void An_interrupted_transfer_resumes_from_where_it_stopped()
    {
        using var server = TestServer.Start();
        using var files = new TempDirectory();
        using var downloads = new TempDirectory();
        string original = files.File("notes.txt");
        WriteRandomFile(original, 300 * 1024, seed: 3);
        byte[] content = File.ReadAllBytes(original);
        string sha256 = Sha256Of(original);
        using RunningProcess bob = Client(server.EndPoint, "bob", "--downloads", downloads.Path);
        bob.WaitForLine("Rich mode 1 on");

        // A first sender that sends three chunks and then drops its connection.
        const int ChunksBeforeTheDrop = 3;
        using (RawClient first = RichClient(server.EndPoint, "alice"))
        {
            first.Send($"/file offer bob {content.Length} {sha256} notes.txt");
            int id = OfferId(first);
            bob.WaitForLine("alice offers notes.txt");
            bob.Input.WriteLine("/accept");
            NextEvent(first, RichEventTypes.FileAccept);
            for (int chunk = 0; chunk < ChunksBeforeTheDrop; chunk++)
            {
                int offset = chunk * FileTransferProtocol.ChunkBytes;
                first.Send($"/file data {id} {offset} {Convert.ToBase64String(content, offset, FileTransferProtocol.ChunkBytes)}");
            }

            first.ReadUntil(pair => pair.Sender == FileTransferProtocol.Sender && pair.Text == $"ack {id} {ChunksBeforeTheDrop * FileTransferProtocol.ChunkBytes}");
            first.Abort();
        }

        Assert.That(bob.WaitForLine("interrupted"), Does.Contain("interrupted: alice left. The 96.0 KiB received are kept; accepting the same file again resumes from there."));
        using RunningProcess alice = Client(server.EndPoint, "alice");
        alice.WaitForLine("Rich mode 1 on");
        alice.Input.WriteLine($"/send bob {original}");
        Assert.That(bob.WaitForLine("alice offers notes.txt"), Does.Contain("(resuming from 96.0 KiB)"));
        bob.Input.WriteLine("/accept");

        Assert.That(alice.WaitForLine("accepted notes.txt"), Does.Contain("bob accepted notes.txt, resuming from 96.0 KiB; sending."));
        Assert.That(bob.WaitForLine("saved as", TransferTimeout), Does.Contain("(SHA-256 checked)"));
        Assert.That(File.ReadAllBytes(downloads.File("notes.txt")), Is.EqualTo(content));
        Assert.That(downloads.FileNames(), Is.EqualTo(NotesOnly));
    }

    [Test]
    public void A_partial_file_that_is_already_whole_is_only_checked()
    {
        using var server = TestServer.Start();
        using var downloads = new TempDirectory();
        byte[] content = "every byte arrived, then the connection broke\n"u8.ToArray();
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        File.WriteAllBytes(PollChat.Client.Files.DownloadPath.PartFile(downloads.Path, sha256), content);
        using RunningProcess bob = Client(server.EndPoint, "bob", "--downloads", downloads.Path);
        bob.WaitForLine("Rich mode 1 on");
        using RawClient alice = RichClient(server.EndPoint, "alice");

        alice.Send($"/file offer bob {content.Length} {sha256} whole.txt");
        OfferId(alice);
        Assert.That(bob.WaitForLine("alice offers whole.txt"), Does.Contain($"(resuming from {content.Length} B)"));
        bob.Input.WriteLine("/accept");

        Assert.That(RichMode.Parse(NextEvent(alice, RichEventTypes.FileAccept))!.Offset, Is.EqualTo(content.Length), "nothing left to send");
        Assert.That(RichMode.Parse(NextEvent(alice, RichEventTypes.FileEnd))!.Reason, Is.EqualTo("completed"));
        Assert.That(File.ReadAllBytes(downloads.File("whole.txt")), Is.EqualTo(content));
    }

    [TestCase("../../escaped.txt", "escaped.txt")]
    [TestCase("/etc/passwd", "passwd")]
    [TestCase("..\\..\\windows.ini", "windows.ini")]
    [TestCase("..", DownloadFallback)]
    [TestCase(".bashrc", "bashrc")]
    public void An_offered_name_cannot_put_the_file_outside_the_downloads_directory(string offered, string savedAs)
    {
        using var server = TestServer.Start();
        using var downloads = new TempDirectory();
        byte[] content = "not what it says it is\n"u8.ToArray();
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        using RunningProcess bob = Client(server.EndPoint, "bob", "--downloads", downloads.Path);
        bob.WaitForLine("Rich mode 1 on");
        using RawClient mallory = RichClient(server.EndPoint, "mallory");

        mallory.Send($"/file offer bob {content.Length} {sha256} {offered}");
        int id = OfferId(mallory);
        bob.WaitForLine("mallory offers");
        bob.Input.WriteLine("/accept");
        NextEvent(mallory, RichEventTypes.FileAccept);
        mallory.Send($"/file data {id} 0 {Convert.ToBase64String(content)}");

        Assert.That(bob.WaitForLine("saved as"), Does.Contain($"saved as {downloads.File(savedAs)} "));
        Assert.That(downloads.FileNames(), Is.EqualTo(new[] { savedAs }));
        Assert.That(File.Exists(Path.Combine(downloads.Path, "..", "..", "escaped.txt")), Is.False);
    }

    [Test]
    public void A_file_whose_hash_does_not_match_is_not_kept_and_a_declined_offer_ends()
    {
        using var server = TestServer.Start();
        using var downloads = new TempDirectory();
        byte[] content = "the real content\n"u8.ToArray();
        string wrongSha = Convert.ToHexStringLower(SHA256.HashData("something else"u8));
        using RunningProcess bob = Client(server.EndPoint, "bob", "--downloads", downloads.Path);
        bob.WaitForLine("Rich mode 1 on");
        using RawClient mallory = RichClient(server.EndPoint, "mallory");

        mallory.Send($"/file offer bob {content.Length} {wrongSha} swapped.txt");
        int id = OfferId(mallory);
        bob.WaitForLine("mallory offers");
        bob.Input.WriteLine("/accept");
        NextEvent(mallory, RichEventTypes.FileAccept);
        mallory.Send($"/file data {id} 0 {Convert.ToBase64String(content)}");

        Assert.That(bob.WaitForLine("not kept"), Does.Contain($"swapped.txt from mallory not kept: its SHA-256 is {Convert.ToHexStringLower(SHA256.HashData(content))}, not the {wrongSha} offered."));
        Assert.That(RichMode.Parse(NextEvent(mallory, RichEventTypes.FileEnd))!.Reason, Is.EqualTo("failed: the file received does not have the SHA-256 offered"));
        Assert.That(downloads.FileNames(), Is.Empty, "nothing kept, not even the partial file");

        mallory.Send($"/file offer bob {content.Length} {wrongSha} unwanted.txt");
        OfferId(mallory);
        bob.WaitForLine("mallory offers unwanted.txt");
        bob.Input.WriteLine("/decline");
        Assert.That(RichMode.Parse(NextEvent(mallory, RichEventTypes.FileEnd))!.Reason, Is.EqualTo("declined by bob"));
        Assert.That(bob.WaitForLine("declined"), Does.EndWith("(unwanted.txt from mallory): declined by bob."));
    }

    [Test]
    public void A_sender_on_tls_sends_to_a_receiver_on_the_plain_port()
    {
        using var server = TestServer.Start(new ServerOptions { TlsPort = 0 });
        using var files = new TempDirectory();
        using var downloads = new TempDirectory();
        using var config = new TempDirectory();
        string original = files.File("secret.bin");
        WriteRandomFile(original, 1024 * 1024, seed: 11);
        var environment = new Dictionary<string, string> { ["POLLCHAT_CONFIG_DIR"] = config.Path };
        using RunningProcess alice = RunningProcess.Client(environment, "--tls", "--host", "127.0.0.1", "--port", server.TlsEndPoint!.Port.ToString(CultureInfo.InvariantCulture), "--user", "alice");
        using RunningProcess bob = Client(server.EndPoint, "bob", "--downloads", downloads.Path);
        alice.WaitForLine("Rich mode 1 on");
        bob.WaitForLine("Rich mode 1 on");

        alice.Input.WriteLine($"/send bob {original}");
        bob.WaitForLine("alice offers secret.bin");
        bob.Input.WriteLine("/accept");

        Assert.That(bob.WaitForLine("saved as", TransferTimeout), Does.Contain("(SHA-256 checked)"));
        Assert.That(Sha256Of(downloads.File("secret.bin")), Is.EqualTo(Sha256Of(original)));
    }

    [Test]
    public void A_file_over_the_size_limit_is_not_offered()
    {
        using var server = TestServer.Start(new ServerOptions { MaxFileBytes = 1000 });
        using var files = new TempDirectory();
        string original = files.File("big.bin");
        WriteRandomFile(original, 2000, seed: 1);
        using RunningProcess alice = Client(server.EndPoint, "alice");
        using RawClient bob = RichClient(server.EndPoint, "bob");
        alice.WaitForLine("Rich mode 1 on");

        alice.Input.WriteLine($"/send bob {original}");

        Assert.That(alice.WaitForLine("Not offered"), Does.EndWith("!!! Not offered: big.bin is 2.0 KiB, over this server's limit of 1000 B"));
        alice.Input.WriteLine("/transfers");
        Assert.That(alice.WaitForLine("file transfers"), Does.EndWith("No file transfers."));
        bob.Send("/users");
        Assert.That(NextEvent(bob, RichEventTypes.Users), Does.Contain("\"alice\""), "bob was never offered anything");
    }

    [Test]
    public void Classic_clients_muted_senders_and_too_many_transfers_are_refused_with_a_reason()
    {
        using var server = TestServer.Start(new ServerOptions { MaxTransfersPerUser = 1 });
        using RawClient alice = RichClient(server.EndPoint, "alice");
        using RawClient bob = RichClient(server.EndPoint, "bob");
        using RawClient classic = RawClient.Join(server.EndPoint, "carol");
        string sha = new('a', 64);

        alice.Send($"/file offer carol 10 {sha} a.txt");
        Assert.That(ErrorText(alice), Is.EqualTo("Not offered: carol uses a classic client, which cannot receive files"));
        classic.Send("/file offer alice 10 " + sha + " b.txt");
        Assert.That(classic.ReadNotice("File transfer").Text, Is.EqualTo("File transfer is for clients in rich mode, such as PollClient: use its /send"));

        alice.Send($"/file offer nobody 10 {sha} c.txt");
        Assert.That(ErrorText(alice), Is.EqualTo("Not offered: No user named 'nobody' is online"));
        alice.Send($"/file offer bob 10 {sha} a.txt");
        OfferId(alice);
        alice.Send($"/file offer bob 10 {sha} b.txt");
        Assert.That(ErrorText(alice), Is.EqualTo("Not offered: you already have 1 transfers going; the limit is 1"));
        using RawClient dave = RichClient(server.EndPoint, "dave");
        dave.Send($"/file offer bob 10 {sha} d.txt");
        Assert.That(ErrorText(dave), Is.EqualTo("Not offered: bob already has 1 transfers going; the limit is 1"));
        server.Operator("/mute dave 5m");
        dave.Send($"/file offer alice 10 {sha} e.txt");
        Assert.That(ErrorText(dave), Does.StartWith("You are muted for 5 more min"));
        Assert.That(ErrorText(dave), Is.EqualTo("Not offered: you are muted"), "the answer PollClient pairs with its offer");
    }

    [Test]
    public void An_offer_nobody_answers_expires_and_data_past_the_window_ends_a_transfer()
    {
        using var server = TestServer.Start(new ServerOptions { FileOfferTimeout = TimeSpan.FromSeconds(1) });
        using RawClient alice = RichClient(server.EndPoint, "alice");
        using RawClient bob = RichClient(server.EndPoint, "bob");
        byte[] chunk = new byte[FileTransferProtocol.ChunkBytes];
        string sha = new('b', 64);

        alice.Send($"/file offer bob 1000000 {sha} ignored.bin");
        int expiring = OfferId(alice);
        Assert.That(NextEvent(bob, RichEventTypes.FileEnd), Is.EqualTo($$"""{"type":"file-end","reason":"expired: not accepted within 1 s","id":{{expiring}}}"""));

        alice.Send($"/file offer bob 1000000 {sha} pushy.bin");
        int id = OfferId(alice);
        bob.Send($"/file accept {id} 0");
        NextEvent(alice, RichEventTypes.FileAccept);
        for (int i = 0; i <= FileTransferProtocol.WindowBytes / chunk.Length; i++)
        {
            alice.Send($"/file data {id} {i * chunk.Length} {Convert.ToBase64String(chunk)}");
        }

        Assert.That(NextEvent(alice, RichEventTypes.FileEnd), Does.Contain($"protocol error from alice: more than {FileTransferProtocol.WindowBytes} bytes unacknowledged"));
        alice.Send("still chatting");
        Assert.That(bob.ReadUntil(pair => pair.Sender == "alice").Text, Is.EqualTo("still chatting"), "a broken transfer drops nobody");
    }

    [Test]
    public void A_repeated_acknowledgement_ends_the_transfer_and_none_is_relayed()
    {
        using var server = TestServer.Start();
        using RawClient alice = RichClient(server.EndPoint, "alice");
        using RawClient bob = RichClient(server.EndPoint, "bob");
        int id = AcceptedTransfer(alice, bob, size: 1_000_000);

        // The attack run's repetition: the same acknowledgement of nothing, over and over.
        for (int i = 0; i < 200; i++)
        {
            bob.Send($"/file ack {id} 0");
        }

        string ended = NextEvent(alice, RichEventTypes.FileEnd);
        Assert.That(RichMode.Parse(ended)!.Reason, Is.EqualTo("failed: protocol error from bob: an acknowledgement of byte 0 does not move forward from byte 0"));
        Assert.That(alice.Transcript.Count(line => line.StartsWith($"{FileTransferProtocol.Sender} > ack ", StringComparison.Ordinal)), Is.Zero, "no acknowledgement of nothing was relayed");
        Assert.That(bob.ReadNotice("Slow down").Text, Does.StartWith("Slow down"), "the acknowledgements that came after the end fit no transfer: messages, held back to the rate");
        alice.Send("/users");
        Assert.That(NextEvent(alice, RichEventTypes.Users), Does.Contain("\"alice\""), "the sender was not flooded off");
    }

    [Test]
    public void An_acknowledgement_that_steps_back_or_repeats_after_data_ends_the_transfer()
    {
        using var server = TestServer.Start();
        using RawClient alice = RichClient(server.EndPoint, "alice");
        using RawClient bob = RichClient(server.EndPoint, "bob");
        int id = AcceptedTransfer(alice, bob, size: 1_000_000);
        string chunk = Convert.ToBase64String(new byte[FileTransferProtocol.ChunkBytes]);
        alice.Send($"/file data {id} 0 {chunk}");
        alice.Send($"/file data {id} {FileTransferProtocol.ChunkBytes} {chunk}");
        bob.ReadUntil(pair => pair.Text.StartsWith($"data {id} {FileTransferProtocol.ChunkBytes} ", StringComparison.Ordinal));

        bob.Send($"/file ack {id} {FileTransferProtocol.ChunkBytes}");
        Assert.That(alice.ReadUntil(pair => pair.Sender == FileTransferProtocol.Sender).Text, Is.EqualTo($"ack {id} {FileTransferProtocol.ChunkBytes}"));
        bob.Send($"/file ack {id} 100");

        Assert.That(RichMode.Parse(NextEvent(alice, RichEventTypes.FileEnd))!.Reason, Is.EqualTo($"failed: protocol error from bob: an acknowledgement of byte 100 does not move forward from byte {FileTransferProtocol.ChunkBytes}"));
        Assert.That(alice.Transcript.Count(line => line.StartsWith($"{FileTransferProtocol.Sender} > ack ", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public void Acknowledging_in_small_steps_costs_messages_past_one_per_data_frame()
    {
        using var server = TestServer.Start();
        using RawClient alice = RichClient(server.EndPoint, "alice");
        using RawClient bob = RichClient(server.EndPoint, "bob");
        int id = AcceptedTransfer(alice, bob, size: 1_000_000);
        alice.Send($"/file data {id} 0 {Convert.ToBase64String(new byte[FileTransferProtocol.ChunkBytes])}");
        bob.ReadUntil(pair => pair.Sender == FileTransferProtocol.Sender);

        // One data frame, 25 acknowledgements each a byte further: under the flood limit, over the burst.
        const int Steps = 25;
        for (int step = 1; step <= Steps; step++)
        {
            bob.Send($"/file ack {id} {step}");
        }

        bob.ReadNotice("Slow down");
        alice.Send($"/file cancel {id}");
        NextEvent(alice, RichEventTypes.FileEnd);
        int relayed = alice.Transcript.Count(line => line.StartsWith($"{FileTransferProtocol.Sender} > ack ", StringComparison.Ordinal));
        Assert.That(relayed, Is.InRange(1, 1 + ServerOptions.DefaultMessageBurst + 2), "one free for the data frame, then the message burst (and what refills meanwhile)");
    }

    [TestCase("\u001b[2J", TestName = "Data with ESC is not relayed")]
    [TestCase("\u0007\u0007\u0007\u0007", TestName = "Data with BEL is not relayed")]
    [TestCase("\0\0\0\0", TestName = "Data with NUL is not relayed")]
    [TestCase("\u009b\u009b", TestName = "Data with C1 CSI is not relayed")]
    [TestCase("AAAA\r\nAAAA\r\n", TestName = "Data with a line break inside base64 is not relayed")]
    [TestCase("AAAA    AAAA", TestName = "Data with spaces inside base64 is not relayed")]
    [TestCase("AA=A", TestName = "Data with padding in the middle is not relayed")]
    public void Data_that_is_not_standard_base64_ends_the_transfer_and_is_not_relayed(string data)
    {
        using var server = TestServer.Start();
        using RawClient alice = RichClient(server.EndPoint, "alice");
        using RawClient bob = RichClient(server.EndPoint, "bob");
        int id = AcceptedTransfer(alice, bob, size: 1_000_000);

        alice.Send($"/file data {id} 0 {data}");

        Assert.That(RichMode.Parse(NextEvent(bob, RichEventTypes.FileEnd))!.Reason,
            Is.EqualTo($"failed: protocol error from alice: a data frame holds 1 to {FileTransferProtocol.ChunkBytes} bytes in standard base64 and nothing else"));
        Assert.That(bob.Transcript.Where(line => line.StartsWith(FileTransferProtocol.Sender, StringComparison.Ordinal)), Is.Empty, "nothing of it reached the receiver");
    }

    [Test]
    public void Data_in_tiny_frames_costs_messages_and_is_slowed_to_the_message_rate()
    {
        using var server = TestServer.Start(new ServerOptions { MessagesPerSecond = 20, MessageBurst = 10 });
        using RawClient alice = RichClient(server.EndPoint, "alice");
        using RawClient bob = RichClient(server.EndPoint, "bob");
        int id = AcceptedTransfer(alice, bob, size: 1_000_000);

        // A byte per frame: forty times the frames a window of whole chunks would take, each passed on and acknowledged.
        for (int i = 0; i < 40; i++)
        {
            alice.Send($"/file data {id} {i} AA==");
        }

        for (int i = 0; i < 40; i++)
        {
            Assert.That(bob.ReadUntil(pair => pair.Sender == FileTransferProtocol.Sender).Text, Is.EqualTo($"data {id} {i} AA=="), "every byte, in order");
        }

        Assert.That(alice.ReadNotice("Slow down").Text, Does.StartWith("Slow down: at most 20 messages a second"), "short frames cost messages, so past the burst they wait");
        Assert.That(server.Operator("/stats").Single(), Does.Contain(" held_back=1 "));
    }

    [Test]
    public void Whole_chunks_and_the_last_short_one_cost_no_messages()
    {
        // Three messages each, and nothing refills during the test: every one of them is counted.
        using var server = TestServer.Start(new ServerOptions { MessagesPerSecond = 0.01, MessageBurst = 3 });
        using RawClient alice = RichClient(server.EndPoint, "alice"); // /rich: one
        using RawClient bob = RichClient(server.EndPoint, "bob"); // /rich: one
        int id = AcceptedTransfer(alice, bob, size: FileTransferProtocol.ChunkBytes + 5); // the offer, the accept: two
        alice.Send("hello"); // alice's third: none left
        bob.ReadUntil(pair => pair.Text == "hello");

        alice.Send($"/file data {id} 0 {Convert.ToBase64String(new byte[FileTransferProtocol.ChunkBytes])}");
        alice.Send($"/file data {id} {FileTransferProtocol.ChunkBytes} {Convert.ToBase64String(new byte[5])}");
        bob.ReadUntil(pair => pair.Text.StartsWith($"data {id} {FileTransferProtocol.ChunkBytes} ", StringComparison.Ordinal));
        bob.Send($"/file ack {id} {FileTransferProtocol.ChunkBytes}");
        bob.Send($"/file ack {id} {FileTransferProtocol.ChunkBytes + 5}");
        bob.Send($"/file done {id} ok"); // bob's third

        Assert.That(RichMode.Parse(NextEvent(alice, RichEventTypes.FileEnd))!.Reason, Is.EqualTo("completed"));
        Assert.That(alice.Transcript.Count(line => line.StartsWith($"{FileTransferProtocol.Sender} > ack ", StringComparison.Ordinal)), Is.EqualTo(2));
    }

    private const string DownloadFallback = PollChat.Client.Files.DownloadPath.FallbackName;

    private static readonly string[] BigBinTwice = ["big (1).bin", "big.bin"];

    private static readonly string[] NotesOnly = ["notes.txt"];

    private static RunningProcess Client(IPEndPoint server, string user, params string[] more) =>
        RunningProcess.Client(["--host", "127.0.0.1", "--port", server.Port.ToString(CultureInfo.InvariantCulture), "--user", user, .. more]);

    /// <summary>A raw client in rich mode, its hello and user list read.</summary>
    private static RawClient RichClient(IPEndPoint server, string name)
    {
        RawClient client = RawClient.Join(server, name);
        client.Send(RichMode.Request);
        NextEvent(client, RichEventTypes.Users);
        return client;
    }

    /// <summary>alice offers bob a file of <paramref name="size"/> bytes and bob accepts it from 0; returns its number once alice knows.</summary>
    private static int AcceptedTransfer(RawClient alice, RawClient bob, long size)
    {
        alice.Send($"/file offer bob {size} {new string('c', 64)} test.bin");
        int id = OfferId(alice);
        bob.Send($"/file accept {id} 0");
        NextEvent(alice, RichEventTypes.FileAccept);
        return id;
    }

    private static int OfferId(RawClient client)
    {
        string offer = NextEvent(client, RichEventTypes.FileOffer);
        return RichMode.Parse(offer)!.Id!.Value;
    }

    private static string? ErrorText(RawClient client) => RichMode.Parse(NextEvent(client, RichEventTypes.Error))!.Text;

    private static string NextEvent(RawClient client, string type) =>
        client.ReadUntil(pair => pair.Sender == RichMode.EventSender && RichMode.Parse(pair.Text)?.Type == type).Text;

    /// <summary>One chat message's trip from one client to another, in milliseconds.</summary>
    private static double TimeOneMessage(RawClient from, RawClient to, string text)
    {
        long sent = Stopwatch.GetTimestamp();
        from.Send(text);
        to.ReadUntil(pair => pair.Text == text);
        return Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
    }

    private static long LoopAllocatedBytes(TestServer server) =>
        long.Parse(LoopAllocField().Match(server.Operator("/stats").Single()).Groups[1].Value, CultureInfo.InvariantCulture);

    [System.Text.RegularExpressions.GeneratedRegex(@"loop_alloc_bytes=(\d+)")]
    private static partial System.Text.RegularExpressions.Regex LoopAllocField();

    private static void WriteRandomFile(string path, int length, int seed)
    {
        byte[] content = new byte[length];
        new Random(seed).NextBytes(content);
        File.WriteAllBytes(path, content);
    }

    private static string Sha256Of(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
