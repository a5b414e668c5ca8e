using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Process;

/// <summary>PollClient with --tls: trust on first use, a changed certificate refused loudly, a pinned fingerprint.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class PollClientTlsTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    [Test]
    public void The_first_connection_shows_and_remembers_the_fingerprint_and_chat_works()
    {
        using var server = TestServer.Start(new ServerOptions { TlsPort = 0 });
        string configDir = TestServer.NewDataDirectory();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        string port = server.TlsEndPoint!.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using RunningProcess alice = RunningProcess.Client(new Dictionary<string, string> { ["POLLCHAT_CONFIG_DIR"] = configDir }, "--host", "127.0.0.1", "--port", port, "--user", "alice", "--tls");

        string firstUse = alice.WaitForLine("First connection");
        using RawClient probe = RawClient.ConnectTls(server.TlsEndPoint!);
        Assert.That(firstUse, Does.StartWith($"-!- First connection to 127.0.0.1:{port} with TLS: its certificate's SHA-256 fingerprint is {probe.ServerFingerprint}. Remembered in {Path.Combine(configDir, "known_servers")}"));
        Assert.That(File.ReadAllText(Path.Combine(configDir, "known_servers")), Is.EqualTo($"127.0.0.1:{port} {probe.ServerFingerprint}\n"));
        alice.WaitForLine("Rich mode 1 on");
        alice.Input.WriteLine("hello over TLS");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("hello over TLS"));
        bob.Send("hi back");
        Assert.That(alice.WaitForLine("bob >"), Does.EndWith("bob > hi back"));
        alice.Input.Close();
        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero, alice.Transcript);

        // The second time, nothing to say: the certificate is the one remembered.
        using RunningProcess again = RunningProcess.Client(new Dictionary<string, string> { ["POLLCHAT_CONFIG_DIR"] = configDir }, "--host", "127.0.0.1", "--port", port, "--user", "alice", "--tls");
        again.WaitForLine("Rich mode 1 on");
        again.Input.Close();
        Assert.That(again.WaitForExit(ExitTimeout), Is.Zero, again.Transcript);
        Assert.That(again.Transcript, Does.Not.Contain("First connection"));
        Directory.Delete(configDir, recursive: true);
    }

    [Test]
    public void A_changed_certificate_is_refused_loudly_with_exit_5()
    {
        using var server = TestServer.Start(new ServerOptions { TlsPort = 0 });
        string configDir = TestServer.NewDataDirectory();
        Directory.CreateDirectory(configDir);
        string port = server.TlsEndPoint!.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string other = string.Join(":", Enumerable.Repeat("AB", 32));
        File.WriteAllText(Path.Combine(configDir, "known_servers"), $"127.0.0.1:{port} {other}\n");

        using RunningProcess alice = RunningProcess.Client(new Dictionary<string, string> { ["POLLCHAT_CONFIG_DIR"] = configDir }, "--host", "127.0.0.1", "--port", port, "--user", "alice", "--tls");

        Assert.That(alice.WaitForExit(ExitTimeout), Is.EqualTo(5), alice.Transcript);
        Assert.That(alice.Transcript, Does.Contain($"PollClient: WARNING: THE CERTIFICATE OF 127.0.0.1:{port} HAS CHANGED. It was {other}, it is now "));
        Directory.Delete(configDir, recursive: true);
    }

    [Test]
    public void A_pinned_fingerprint_admits_only_that_certificate()
    {
        using var server = TestServer.Start(new ServerOptions { TlsPort = 0 });
        string port = server.TlsEndPoint!.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using RawClient probe = RawClient.ConnectTls(server.TlsEndPoint!);
        string configDir = TestServer.NewDataDirectory();
        var environment = new Dictionary<string, string> { ["POLLCHAT_CONFIG_DIR"] = configDir };

        using (RunningProcess pinned = RunningProcess.Client(environment, "--host", "127.0.0.1", "--port", port, "--user", "alice", "--tls-fingerprint", probe.ServerFingerprint!.ToLowerInvariant()))
        {
            pinned.WaitForLine("Rich mode 1 on");
            pinned.Input.Close();
            Assert.That(pinned.WaitForExit(ExitTimeout), Is.Zero, pinned.Transcript);
        }

        using RunningProcess wrong = RunningProcess.Client(environment, "--host", "127.0.0.1", "--port", port, "--user", "bob", "--tls-fingerprint", string.Join(":", Enumerable.Repeat("00", 32)));
        Assert.That(wrong.WaitForExit(ExitTimeout), Is.EqualTo(5), wrong.Transcript);
        Assert.That(wrong.Transcript, Does.Contain("not the 00:00:"));
        Assert.That(Directory.Exists(configDir), Is.False, "a pinned connection remembers nothing");
    }

    [Test]
    public void Tls_to_a_plain_port_says_it_is_not_a_TLS_port()
    {
        using var server = TestServer.Start();
        string port = server.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string configDir = TestServer.NewDataDirectory();
        using RunningProcess alice = RunningProcess.Client(new Dictionary<string, string> { ["POLLCHAT_CONFIG_DIR"] = configDir }, "--host", "127.0.0.1", "--port", port, "--user", "alice", "--tls");

        Assert.That(alice.WaitForExit(ExitTimeout), Is.Not.Zero, alice.Transcript);
        Assert.That(alice.Transcript, Does.Contain($"127.0.0.1:{port} answered in plain text, not TLS: it is not a TLS port (connect to it without --tls, or to the server's --tls-port)"));
        Assert.That(alice.Transcript, Does.Not.Contain(").."));
    }

    [Test]
    public void A_plain_client_on_a_TLS_port_is_told_to_use_tls()
    {
        using var server = TestServer.Start(new ServerOptions { TlsPort = 0 });
        string port = server.TlsEndPoint!.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using RunningProcess alice = RunningProcess.Client("--host", "127.0.0.1", "--port", port, "--user", "alice");

        // PollServer's TLS port closes on a plain name without a TLS alert; another TLS server would answer with one.
        Assert.That(alice.WaitForLine("Connection lost"), Does.Contain($"the server closed the connection without a word (if {port} is a TLS port, connect with --tls)"));
        alice.Input.Close();
        Assert.That(alice.WaitForExit(ExitTimeout), Is.Not.Zero, alice.Transcript);
    }

    [Test]
    public void A_malformed_fingerprint_is_refused_before_connecting()
    {
        using RunningProcess alice = RunningProcess.Client("--host", "127.0.0.1", "--port", "9", "--user", "alice", "--tls-fingerprint", "AB:CD:EF");

        Assert.That(alice.WaitForExit(ExitTimeout), Is.EqualTo(1), alice.Transcript);
        Assert.That(alice.Transcript, Does.Contain("--tls-fingerprint must be a SHA-256 fingerprint"));
    }
}
