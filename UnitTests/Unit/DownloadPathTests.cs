using PollChat.Client.Files;
using PollChat.Tests.Support;

namespace PollChat.Tests.Unit;

/// <summary>A name offered by someone else becomes a file name of ours: inside the directory, never over another file.</summary>
[TestFixture]
public sealed class DownloadPathTests
{
    [TestCase("report.pdf", "report.pdf")]
    [TestCase("../../../etc/cron.d/evil", "evil")]
    [TestCase("C:\\Windows\\system.ini", "system.ini")]
    [TestCase("..", DownloadPath.FallbackName)]
    [TestCase("/", DownloadPath.FallbackName)]
    [TestCase("...hidden", "hidden")]
    [TestCase("a\u001b[2Jb.txt", "a[2Jb.txt")]
    [TestCase("what?.txt", "what_.txt")]
    [TestCase("日本語のファイル.txt", "日本語のファイル.txt")]
    [TestCase("invoice\u202efdp.exe", "invoicefdp.exe")]
    [TestCase("report\u200b.pdf\u2067.exe", "report.pdf.exe")]
    [TestCase("\ufeff\u3164", DownloadPath.FallbackName)]
    public void SafeName_keeps_only_a_plain_last_component(string offered, string expected)
    {
        Assert.That(DownloadPath.SafeName(offered), Is.EqualTo(expected));
    }

    [Test]
    public void SafeName_shortens_a_name_too_long_for_a_file_system()
    {
        string name = DownloadPath.SafeName(new string('é', 300));

        Assert.That(System.Text.Encoding.UTF8.GetByteCount(name), Is.LessThanOrEqualTo(200));
    }

    [Test]
    public void A_finished_download_never_replaces_an_existing_file()
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("notes.txt"), "mine");
        File.WriteAllText(directory.File("notes (1).txt"), "also mine");
        string part = DownloadPath.PartFile(directory.Path, new string('c', 64));
        File.WriteAllText(part, "received");

        string saved = DownloadPath.MoveIntoPlace(part, directory.Path, "../notes.txt");

        Assert.That(saved, Is.EqualTo(directory.File("notes (2).txt")));
        Assert.That(File.ReadAllText(directory.File("notes.txt")), Is.EqualTo("mine"));
        Assert.That(File.ReadAllText(saved), Is.EqualTo("received"));
        Assert.That(File.Exists(part), Is.False);
    }
}
