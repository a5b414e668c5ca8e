using System.Collections.Concurrent;
using System.Text;
using PollChat.Client;
using PollChat.Client.Files;
using PollChat.Common.Protocol;
using PollChat.Tests.Support;

namespace PollChat.Tests.Unit;

/// <summary>The client's transfer state without a network: what it sends, and what the status line and /transfers say as acknowledgements come in.</summary>
[TestFixture]
public sealed class FileTransfersTests
{
    [Test]
    public void The_sender_keeps_to_the_window_and_its_progress_bar_follows_the_acknowledgements()
    {
        using var files = new TempDirectory();
        string path = files.File("four.bin");
        File.WriteAllBytes(path, new byte[8 * FileTransferProtocol.ChunkBytes]);
        var output = new StringWriter();
        var sent = new List<string>();
        var posted = new BlockingCollection<Action>();
        var transfers = new FileTransfers(new ChatView(output), frame => sent.Add(Encoding.UTF8.GetString(frame)), posted.Add, files.Path, interactive: () => true);

        transfers.Command($"/send bob {path}");
        Assert.That(posted.TryTake(out Action? hashed, RawClient.DefaultTimeout), Is.True, "the hash is computed on a worker and posted back");
        hashed!();
        Assert.That(sent.Single(), Does.Match("^/file offer bob 262144 [0-9a-f]{64} four.bin$"));
        transfers.OnEvent(new RichEvent { Type = RichEventTypes.FileOffer, Id = 7, From = "alice", To = "bob", Name = "four.bin", Size = 262144, Sha256 = sent[0].Split(' ')[4] }, "alice");
        Assert.That(transfers.StatusText, Is.EqualTo("1 file offer waiting"));

        transfers.OnEvent(new RichEvent { Type = RichEventTypes.FileAccept, Id = 7, Offset = 0 }, "alice");
        string[] data = [.. sent.Skip(1)];
        Assert.That(data, Has.Length.EqualTo(FileTransferProtocol.WindowBytes / FileTransferProtocol.ChunkBytes), "a window's worth, then it waits");
        Assert.That(data[1], Does.StartWith($"/file data 7 {FileTransferProtocol.ChunkBytes} "));
        Assert.That(transfers.StatusText, Does.StartWith("↑ four.bin [----------] 0% "));

        transfers.OnFilePair(Encoding.ASCII.GetBytes($"ack 7 {4 * FileTransferProtocol.ChunkBytes}"));
        Assert.That(sent, Has.Count.EqualTo(1 + 8), "the window moved: the rest went");
        Assert.That(transfers.StatusText, Does.StartWith("↑ four.bin [#####-----] 50% ").And.EndWith(" left"));

        transfers.Command("/transfers");
        Assert.That(output.ToString(), Does.Contain("-!- Transfer 7: four.bin (256.0 KiB) to bob, 50% of 256.0 KiB, "));
        transfers.OnEvent(new RichEvent { Type = RichEventTypes.FileEnd, Id = 7, Reason = "completed" }, "alice");
        Assert.That(output.ToString(), Does.Contain("-!- Transfer 7: four.bin sent to bob, and its SHA-256 checked there."));
        Assert.That(transfers.StatusText, Is.Null);
    }

    [Test]
    public void Damaged_data_cancels_once_and_what_follows_it_is_ignored()
    {
        using var downloads = new TempDirectory();
        var output = new StringWriter();
        var sent = new List<string>();
        var posted = new BlockingCollection<Action>();
        var transfers = new FileTransfers(new ChatView(output), frame => sent.Add(Encoding.UTF8.GetString(frame)), posted.Add, downloads.Path, interactive: () => true);
        transfers.OnEvent(new RichEvent { Type = RichEventTypes.FileOffer, Id = 5, From = "mallory", To = "bob", Name = "x.bin", Size = 100, Sha256 = new string('a', 64) }, "bob");
        transfers.Command("/accept 5");
        Assert.That(posted.TryTake(out Action? opened, RawClient.DefaultTimeout), Is.True);
        opened!();
        Assert.That(sent.Single(), Is.EqualTo("/file accept 5 0"));

        transfers.OnFilePair("data 5 0 "u8); // No bytes: acknowledging it would be the repeated "ack 5 0" that floods a sender.
        transfers.OnFilePair("data 5 0 AAAA"u8);
        transfers.OnFilePair("data 5 3 AAAA"u8);

        Assert.That(string.Join(" | ", sent), Is.EqualTo("/file accept 5 0 | /file cancel 5"), "one cancel, no acknowledgement");
        Assert.That(output.ToString().Split('\n').Count(line => line.Contains("arrived damaged", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public void An_offer_whose_hash_is_not_hex_or_whose_number_is_taken_is_ignored_and_a_wild_accept_is_harmless()
    {
        using var downloads = new TempDirectory();
        var output = new StringWriter();
        var sent = new List<string>();
        var transfers = new FileTransfers(new ChatView(output), frame => sent.Add(Encoding.UTF8.GetString(frame)), _ => { }, downloads.Path, interactive: () => true);

        // The hash names the partial file: "../" in it would write outside the downloads directory.
        string traversal = ("../../../../../../../../../../../../../../tmp/evil" + new string('a', 64))[..64];
        transfers.OnEvent(new RichEvent { Type = RichEventTypes.FileOffer, Id = 1, From = "mallory", To = "bob", Name = "x", Size = 10, Sha256 = traversal }, "bob");
        Assert.That(transfers.StatusText, Is.Null, "no transfer was made of it");

        transfers.OnEvent(new RichEvent { Type = RichEventTypes.FileOffer, Id = 2, From = "alice", To = "bob", Name = "first", Size = 10, Sha256 = new string('b', 64) }, "bob");
        transfers.OnEvent(new RichEvent { Type = RichEventTypes.FileOffer, Id = 2, From = "mallory", To = "bob", Name = "second", Size = 10, Sha256 = new string('c', 64) }, "bob");
        transfers.OnEvent(new RichEvent { Type = RichEventTypes.FileAccept, Id = 2, Offset = -5 }, "bob");
        transfers.Command("/transfers");
        Assert.That(output.ToString(), Does.Contain("Transfer 2: first (10 B) from alice").And.Not.Contain("second"));
        Assert.That(sent, Is.Empty);
    }

    [Test]
    public void A_file_for_someone_known_to_be_offline_is_refused_before_it_is_hashed()
    {
        using var files = new TempDirectory();
        string path = files.File("big.bin");
        File.WriteAllBytes(path, new byte[FileTransferProtocol.ChunkBytes]);
        var output = new StringWriter();
        var sent = new List<string>();
        var posted = new BlockingCollection<Action>();
        var transfers = new FileTransfers(new ChatView(output), frame => sent.Add(Encoding.UTF8.GetString(frame)), posted.Add, files.Path, interactive: () => true,
            isOnline: name => name == "bob" ? true : name == "carol" ? false : null);

        transfers.Command($"/send carol {path}");
        Assert.Multiple(() =>
        {
            Assert.That(output.ToString(), Does.Contain("Not sent: carol is not online."));
            Assert.That(output.ToString(), Does.Not.Contain("Computing the SHA-256"), "nothing is hashed for nobody");
            Assert.That(posted, Is.Empty);
            Assert.That(sent, Is.Empty);
        });

        transfers.Command($"/send dave {path}"); // Not known either way (the list is not tracked): the server decides.
        Assert.That(posted.TryTake(out Action? hashed, RawClient.DefaultTimeout), Is.True);
        hashed!();
        Assert.That(sent.Single(), Does.StartWith("/file offer dave "));
    }

    [Test]
    public void With_one_offer_accept_takes_a_directory_alone()
    {
        using var downloads = new TempDirectory();
        using var elsewhere = new TempDirectory();
        var output = new StringWriter();
        var sent = new List<string>();
        var posted = new BlockingCollection<Action>();
        var transfers = new FileTransfers(new ChatView(output), frame => sent.Add(Encoding.UTF8.GetString(frame)), posted.Add, downloads.Path, interactive: () => true);
        transfers.OnEvent(new RichEvent { Type = RichEventTypes.FileOffer, Id = 5, From = "alice", To = "bob", Name = "x.bin", Size = 100, Sha256 = new string('a', 64) }, "bob");

        transfers.Command($"/accept {elsewhere.Path}");
        Assert.That(posted.TryTake(out Action? opened, RawClient.DefaultTimeout), Is.True, "the one offer is accepted, into the directory given");
        opened!();
        Assert.Multiple(() =>
        {
            Assert.That(output.ToString(), Does.Not.Contain("numbered"), "the directory is not taken for a transfer number");
            Assert.That(sent, Does.Contain("/file accept 5 0"));
            Assert.That(Directory.GetFiles(elsewhere.Path), Is.Not.Empty, "the partial file is in the directory given");
            Assert.That(Directory.GetFiles(downloads.Path), Is.Empty);
        });
    }
}
