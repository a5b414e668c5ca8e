using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>Keeping order: accounts made by the operator, admins' commands in the chat, bans that last, mutes, the message of the day, invite-only servers.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ModerationTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    [Test]
    public void The_account_command_makes_lists_promotes_and_removes_accounts()
    {
        string directory = TestServer.NewDataDirectory();
        try
        {
            Assert.That(Account(directory, "correct horse", "add", "alice", "--admin"), Does.Contain("Account alice created (admin)."));
            Assert.That(Account(directory, "another pass", "add", "bob"), Does.Contain("Account bob created."));
            Assert.That(Account(directory, null, "list"), Does.Contain("2 accounts\n").And.Contain("alice (admin)\n").And.Contain("bob\n"));
            Assert.That(Account(directory, null, "admin", "BOB"), Does.Contain("bob is now an admin."));
            Assert.That(Account(directory, null, "admin", "alice", "--revoke"), Does.Contain("alice is no longer an admin."));
            Assert.That(Account(directory, null, "remove", "bob"), Does.Contain("Account bob removed."));
            Assert.That(Account(directory, null, "list"), Does.Contain("1 account\n").And.Contain("alice\n").And.Not.Contain("bob"));
            Assert.That(AccountFails(directory, "short", "add", "carol"), Does.Contain("PollServer account: a password needs at least 8 characters."));
            Assert.That(AccountFails(directory, null, "remove", "nobody"), Does.Contain("PollServer account: no account named 'nobody'."));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void An_admin_kicks_bans_mutes_and_sets_the_message_of_the_day_and_others_cannot()
    {
        string directory = TestServer.NewDataDirectory();
        Account(directory, "correct horse", "add", "alice", "--admin");
        try
        {
            using (var server = TestServer.Start(new ServerOptions { DataDirectory = directory }))
            {
                using RawClient alice = LoggedIn(server, "alice", "correct horse");
                using RawClient bob = RawClient.Join(server.EndPoint, "bob");
                using RawClient carol = RawClient.Join(server.EndPoint, "carol");

                carol.Send("/ban bob");
                Assert.That(carol.ReadNotice("/ban").Text, Is.EqualTo("/ban is for admins"));
                alice.Send("/help");
                Assert.That(alice.ReadNotice("Admin commands").Text, Is.EqualTo("Admin commands:"));
                string[] adminCommands = [.. Enumerable.Range(0, 6).Select(_ => alice.ReadPair().Text.Split(' ')[0])];
                Assert.That(adminCommands, Is.SubsetOf(PollChat.Client.Terminal.ClientCommands.Names), "PollClient's Tab completes them");

                alice.Send("/mute carol 5m");
                Assert.That(alice.ReadNotice("Muted").Text, Is.EqualTo("Muted carol for 5m 0s"));
                Assert.That(carol.ReadNotice("You were muted").Text, Is.EqualTo("You were muted by alice for 5m 0s: nothing you say reaches anyone"));
                carol.Send("can anyone hear me");
                Assert.That(carol.ReadNotice("You are muted").Text, Is.EqualTo("You are muted for 5 more min; nothing you say reaches anyone"));
                carol.Send("/msg bob psst");
                carol.ReadNotice("You are muted");
                alice.Send("/unmute carol");
                Assert.That(carol.ReadNotice("You can").Text, Is.EqualTo("You can speak again"));
                carol.Send("back again");
                Assert.That(bob.ReadUntil(p => p.Sender == "carol").Text, Is.EqualTo("back again"), "the first line of carol's bob hears");

                alice.Send("/motd Be kind. Release on Friday.");
                Assert.That(alice.ReadNotice("Message of the day set").Text, Is.EqualTo("Message of the day set: Be kind. Release on Friday."));

                alice.Send("/kick carol enough");
                Assert.That(carol.ReadNotice("You were kicked").Text, Is.EqualTo("You were kicked by alice: enough"));
                Assert.That(bob.ReadNotice("carol left").Text, Is.EqualTo("carol left (kicked by alice: enough; 2 online)"));

                alice.Send("/ban bob 1d");
                Assert.That(alice.ReadNotice("Banned").Text, Does.Match(@"^Banned bob until \d{4}-\d\d-\d\d \d\d:\d\d UTC; 1 disconnected$"));
                Assert.That(bob.ReadNotice("You are banned").Text, Does.Match(@"^You are banned from this server until \d{4}-\d\d-\d\d \d\d:\d\d UTC$"));
                alice.Send("/ban dave forever");
                Assert.That(alice.ReadNotice("Usage").Text, Does.StartWith("Usage: /ban <user|address> [duration]"));
            }

            // Bans and the message of the day are in the file; a restart keeps them.
            using var restarted = TestServer.Start(new ServerOptions { DataDirectory = directory });
            using (RawClient bobAgain = RawClient.Connect(restarted.EndPoint))
            {
                bobAgain.Send("BOB");
                Assert.That(bobAgain.ReadPair().Text, Does.StartWith("You are banned from this server until"));
                Assert.That(bobAgain.WaitForEndOfStream(), Is.True);
            }

            using RawClient erin = RawClient.Join(restarted.EndPoint, "erin");
            Assert.That(erin.ReadNotice("Message of the day").Text, Is.EqualTo("Message of the day: Be kind. Release on Friday."));
            Assert.That(restarted.Operator("/unban bob").Single(), Is.EqualTo("bob is no longer banned"));
            using RawClient bobFree = RawClient.Join(restarted.EndPoint, "bob");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void An_address_ban_turns_away_every_connection_from_it_until_lifted()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");

        Assert.That(server.Operator("/ban 127.0.0.1 10m").Single(), Does.Match(@"^Banned 127\.0\.0\.1 until .* UTC; 1 disconnected$"));
        Assert.That(alice.ReadNotice("You are banned").Text, Does.StartWith("You are banned from this server until"));
        using (RawClient turnedAway = RawClient.Connect(server.EndPoint))
        {
            Assert.That(turnedAway.ReadPair().Text, Does.StartWith("You are banned from this server until"));
            Assert.That(turnedAway.WaitForEndOfStream(), Is.True);
        }

        Assert.That(server.Operator("/unban 127.0.0.1").Single(), Is.EqualTo("127.0.0.1 is no longer banned"));
        Assert.That(server.Operator("/unban 127.0.0.1").Single(), Is.EqualTo("127.0.0.1 is not banned"));
        using RawClient welcomeBack = RawClient.Join(server.EndPoint, "alice");
    }

    [Test]
    public void An_invite_only_server_admits_registered_names_only()
    {
        string directory = TestServer.NewDataDirectory();
        Account(directory, "correct horse", "add", "alice");
        try
        {
            using var server = TestServer.Start(new ServerOptions { DataDirectory = directory, RequireLogin = true });
            using (RawClient stranger = RawClient.Connect(server.EndPoint))
            {
                stranger.Send("mallory");
                Assert.That(stranger.ReadPair(), Is.EqualTo((ServerSender.Name, "Name rejected: this server admits registered names only; ask its operator for an account")));
                Assert.That(stranger.WaitForEndOfStream(), Is.True);
            }

            using RawClient alice = LoggedIn(server, "alice", "correct horse");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static RawClient LoggedIn(TestServer server, string name, string password)
    {
        RawClient client = RawClient.Connect(server.EndPoint);
        client.Send(name);
        client.ReadNotice("The name");
        client.Send($"/login {password}");
        Assert.That(client.ReadNotice("Logged in").Text, Is.EqualTo($"Logged in as {name}"));
        return client;
    }

    /// <summary>Runs <c>PollServer account ...</c> on the data directory, typing the password on its standard input; returns what it printed.</summary>
    private static string Account(string directory, string? password, params string[] arguments) => RunAccount(directory, password, arguments, expectedExit: 0);

    /// <summary>The same, for a command that must fail with exit code 1.</summary>
    private static string AccountFails(string directory, string? password, params string[] arguments) => RunAccount(directory, password, arguments, expectedExit: 1);

    private static string RunAccount(string directory, string? password, string[] arguments, int expectedExit)
    {
        using RunningProcess account = RunningProcess.Server(["account", .. arguments, "--data-dir", directory]);
        if (password is not null)
        {
            account.Input.WriteLine(password);
        }

        account.Input.Close();
        Assert.That(account.WaitForExit(ExitTimeout), Is.EqualTo(expectedExit), account.Transcript);
        return string.Join("\n", account.Transcript.Split('\n').Select(l => l.Replace("[out] ", "", StringComparison.Ordinal).Replace("[err] ", "", StringComparison.Ordinal))) + "\n";
    }
}
