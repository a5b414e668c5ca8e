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
}
