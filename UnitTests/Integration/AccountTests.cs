using System.Diagnostics;
using System.Globalization;
using System.Net;
using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>Registered names end to end: register, login, wrong passwords and their throttle, timeouts, renames, restarts, the client's password, and a chat that does not wait for hashing.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class AccountTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Mistakes forgiven before the wait starts, as USAGE.md promises.</summary>
    private const int FreeFailures = 3;

    [Test]
    public void A_registered_name_needs_its_password_and_nothing_is_said_before_the_login()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using (RawClient first = RawClient.Join(server.EndPoint, "alice"))
        {
            first.Send("/register correct horse");
            Assert.That(first.ReadNotice("Registered").Text, Is.EqualTo("Registered alice: from now on this name needs /login <password>. /passwd changes the password, /unregister gives the name up."));
            first.Send("/quit");
            Assert.That(first.WaitForEndOfStream(), Is.True);
        }

        bob.ReadNotice("alice left");
        using var alice = RawClient.Connect(server.EndPoint);
        alice.Send("ALICE");
        alice.ReadNotice("Welcome, ALICE!");
        Assert.That(alice.ReadPair().Text, Is.EqualTo("The name ALICE is registered: log in with /login <password> within 60 s, or reconnect with another name"));

        alice.Send("hello?");
        Assert.That(alice.ReadPair().Text, Is.EqualTo("Log in first: /login <password> (or /quit)"));
        alice.Send("/users");
        Assert.That(alice.ReadPair().Text, Is.EqualTo("Log in first: /login <password> (or /quit)"));
        alice.Send("/login wrong one");
        Assert.That(alice.ReadPair().Text, Is.EqualTo("Login failed: wrong password"));
        alice.Send("/login correct horse");
        Assert.That(alice.ReadPair().Text, Is.EqualTo("Logged in as ALICE"));
        Assert.That(bob.ReadNotice("ALICE joined").Text, Is.EqualTo("ALICE joined (2 online)"));
        alice.Send("at last");
        Assert.That(bob.ReadUntil(p => p.Sender == "ALICE").Text, Is.EqualTo("at last"), "the first thing bob hears from her: nothing before the login was relayed");
        alice.Send("/login correct horse");
        Assert.That(alice.ReadNotice("You are").Text, Is.EqualTo("You are already logged in as ALICE"));
    }

    [Test]
    public void Registering_refuses_short_passwords_and_taken_accounts()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");

        alice.Send("/register short");
        Assert.That(alice.ReadPair().Text, Is.EqualTo("Not registered: a password needs at least 8 characters"));
        alice.Send("/register");
        Assert.That(alice.ReadPair().Text, Is.EqualTo("Not registered: a password needs at least 8 characters"));
        alice.Send("/register long enough");
        alice.ReadNotice("Registered alice");
        alice.Send("/register another one");
        Assert.That(alice.ReadPair().Text, Is.EqualTo("Not registered: alice is already registered"));
        alice.Send("/login anything");
        Assert.That(alice.ReadPair().Text, Is.EqualTo("You are already logged in as alice"));
        using var bob = RawClient.Join(server.EndPoint, "bob");
        bob.Send("/login anything at all");
        Assert.That(bob.ReadNotice("bob").Text, Is.EqualTo("bob is not registered; /register <password> claims it"));
    }

    [Test]
    public void Silence_after_taking_a_registered_name_ends_in_a_disconnect()
    {
        using var server = TestServer.Start(new ServerOptions { LoginTimeout = TimeSpan.FromSeconds(1) });
        using (RawClient owner = RawClient.Join(server.EndPoint, "alice"))
        {
            owner.Send("/register correct horse");
            owner.ReadNotice("Registered");
        }

        using var squatter = RawClient.Connect(server.EndPoint);
        squatter.Send("alice");

        Assert.That(squatter.ReadNotice("Not logged in").Text, Is.EqualTo("Not logged in within 1 s; closing the connection"));
        Assert.That(squatter.WaitForEndOfStream(), Is.True);
    }

    [Test]
    public void Wrong_passwords_past_the_free_ones_make_the_next_try_wait()
    {
        using var server = TestServer.Start(new ServerOptions { MessagesPerSecond = 0 });
        using (RawClient owner = RawClient.Join(server.EndPoint, "alice"))
        {
            owner.Send("/register correct horse");
            owner.ReadNotice("Registered");
        }

        using var guesser = RawClient.Connect(server.EndPoint);
        guesser.Send("alice");
        guesser.ReadNotice("The name alice is registered");
        for (int i = 0; i <= FreeFailures; i++)
        {
            guesser.Send($"/login guess number {i}");
            Assert.That(guesser.ReadPair().Text, Is.EqualTo("Login failed: wrong password"));
        }

        guesser.Send("/login correct horse");
        Assert.That(guesser.ReadPair().Text, Is.EqualTo("Too many wrong passwords; try again in 1 s"), "even the right password waits its turn");
    }

    [Test]
    public void Nick_cannot_take_a_registered_name_and_leaving_ones_own_ends_the_login()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        alice.Send("/register correct horse");
        alice.ReadNotice("Registered");
        alice.Send("/nick Alice");
        alice.ReadNotice("alice is now known as Alice");
        alice.Send("/unregister not the password");
        Assert.That(alice.ReadPair().Text, Is.EqualTo("Not unregistered: wrong password"), "a case change keeps the login, so the password was checked");

        using var mallory = RawClient.Join(server.EndPoint, "mallory");
        mallory.Send("/nick ALICE");
        Assert.That(mallory.ReadNotice("Name not changed").Text, Is.EqualTo("Name not changed: the name 'ALICE' is already taken"));
        alice.Send("/nick alicia");
        alice.ReadNotice("Alice is now known as alicia");
        mallory.Send("/nick alice");
        Assert.That(mallory.ReadNotice("Name not changed").Text, Is.EqualTo("Name not changed: 'alice' is a registered name; connect as alice and /login to use it"));
        alice.Send("/nick alice");
        Assert.That(alice.ReadNotice("Name not changed").Text, Does.StartWith("Name not changed: 'alice' is a registered name"), "the login ended with the rename");
    }

    [Test]
    public void Passwd_and_unregister_need_the_password_and_accounts_survive_a_restart()
    {
        string directory = TestServer.NewDataDirectory();
        try
        {
            using (var server = TestServer.Start(new ServerOptions { DataDirectory = directory }))
            {
                using var alice = RawClient.Join(server.EndPoint, "alice");
                alice.Send("/register first-password");
                alice.ReadNotice("Registered");
                alice.Send("/passwd wrong second-password");
                Assert.That(alice.ReadPair().Text, Is.EqualTo("Password not changed: wrong password"));
                alice.Send("/passwd first-password short");
                Assert.That(alice.ReadPair().Text, Is.EqualTo("Password not changed: a password needs at least 8 characters"));
                alice.Send("/passwd first-password second-password");
                Assert.That(alice.ReadNotice("Password").Text, Is.EqualTo("Password changed"));
                using var bob = RawClient.Join(server.EndPoint, "bob");
                bob.Send("/register bobs password");
                bob.ReadNotice("Registered");
                bob.Send("/unregister nope nope");
                Assert.That(bob.ReadPair().Text, Is.EqualTo("Not unregistered: wrong password"));
                bob.Send("/unregister bobs password");
                Assert.That(bob.ReadPair().Text, Is.EqualTo("bob is no longer registered: anyone may use it when you leave"));
            }

            using var restarted = TestServer.Start(new ServerOptions { DataDirectory = directory });
            using var again = RawClient.Connect(restarted.EndPoint);
            again.Send("alice");
            again.ReadNotice("Welcome");
            again.ReadNotice("The name alice is registered");
            again.Send("/login first-password");
            Assert.That(again.ReadPair().Text, Is.EqualTo("Login failed: wrong password"));
            again.Send("/login second-password");
            Assert.That(again.ReadPair().Text, Is.EqualTo("Logged in as alice"));
            using RawClient bobAgain = RawClient.Join(restarted.EndPoint, "bob");
            bobAgain.Send("/login bobs password");
            Assert.That(bobAgain.ReadNotice("bob").Text, Is.EqualTo("bob is not registered; /register <password> claims it"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void PollClient_logs_in_with_a_password_file_and_never_sends_it_to_a_classic_server()
    {
        string passwordFile = Path.Combine(Path.GetTempPath(), "pollchat-test-data", Guid.NewGuid().ToString("N") + ".txt");
        Directory.CreateDirectory(Path.GetDirectoryName(passwordFile)!);
        File.WriteAllText(passwordFile, "correct horse\n");
        try
        {
            using (var server = TestServer.Start())
            {
                using (RawClient owner = RawClient.Join(server.EndPoint, "alice"))
                {
                    owner.Send("/register correct horse");
                    owner.ReadNotice("Registered");
                }

                using var bob = RawClient.Join(server.EndPoint, "bob");
                using RunningProcess alice = RunningProcess.Client("--host", "127.0.0.1", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--user", "alice", "--password-file", passwordFile);
                Assert.That(alice.WaitForLine("Logged in"), Does.EndWith("*** Logged in as alice"));
                alice.Input.WriteLine("hi from a registered name");
                Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("hi from a registered name"));
                alice.Input.Close();
                Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero, alice.Transcript);
            }

            using RunningProcess classic = RunningProcess.Python("classic_server.py", "--host", "127.0.0.1", "--port", "0");
            int port = classic.WaitForListeningPort();
            using RawClient carol = RawClient.Connect(new IPEndPoint(IPAddress.Loopback, port));
            carol.Send("carol");
            classic.WaitForLine("username: carol");
            using RunningProcess dave = RunningProcess.Client("--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--user", "dave", "--password-file", passwordFile);
            classic.WaitForLine("username: dave");
            carol.Send("anyone there?");
            Assert.That(dave.WaitForLine("password was not sent"), Does.Contain("not a PollServer"));
            dave.Input.WriteLine("yes");
            Assert.That(carol.ReadPair(), Is.EqualTo(("dave", "yes")), "the first and only thing dave sent");
            dave.Input.Close();
            Assert.That(dave.WaitForExit(ExitTimeout), Is.Zero, dave.Transcript);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    [Test]
    public void Twenty_logins_at_once_do_not_hold_up_the_chat()
    {
        const int Logins = 20;
        using var server = TestServer.Start(new ServerOptions { MessagesPerSecond = 0 });
        var owners = new List<RawClient>();
        for (int i = 0; i < Logins; i++)
        {
            RawClient owner = RawClient.Join(server.EndPoint, $"user{i:D2}");
            owner.Send("/register correct horse");
            owners.Add(owner);
        }

        foreach (RawClient owner in owners)
        {
            owner.ReadNotice("Registered");
            owner.Dispose();
        }

        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var bob = RawClient.Join(server.EndPoint, "bob");
        RoundTrips(alice, bob, "warm-up", 20);
        List<TimeSpan> quiet = RoundTrips(alice, bob, "quiet", 100);

        var loggingIn = Enumerable.Range(0, Logins).Select(i => RawClient.Connect(server.EndPoint)).ToList();
        for (int i = 0; i < Logins; i++)
        {
            loggingIn[i].Send($"user{i:D2}");
            loggingIn[i].Send("/login correct horse");
        }

        var watch = Stopwatch.StartNew();
        List<TimeSpan> busy = RoundTrips(alice, bob, "busy", 200); // About 3 s, inside the time the hashing takes.
        foreach (RawClient client in loggingIn)
        {
            Assert.That(client.ReadNotice("Logged in").Text, Does.StartWith("Logged in as user"));
        }

        TimeSpan allLoggedIn = watch.Elapsed;
        TestContext.Out.WriteLine($"chat round trip, median and worst: {Median(quiet):0.00} and {quiet.Max().TotalMilliseconds:0.00} ms when quiet; {Median(busy):0.00} and {busy.Max().TotalMilliseconds:0.00} ms while {Logins} logins were hashed ({allLoggedIn.TotalSeconds:0.0} s for all of them)");
        // Generous on purpose: a loop that hashed on its own thread would hold each message for about a third of a second per login.
        Assert.That(busy.Max(), Is.LessThan(TimeSpan.FromMilliseconds(250)));
        foreach (RawClient client in loggingIn)
        {
            client.Dispose();
        }
    }

    [Test]
    public void The_owner_logging_in_takes_the_name_from_a_connection_that_never_logs_in()
    {
        using var server = TestServer.Start();
        Register(server, "alice", "correct horse");
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using var squatter = RawClient.Connect(server.EndPoint, from: IPAddress.Parse("127.0.0.41"));
        squatter.Send("alice");
        squatter.ReadNotice("The name alice is registered");

        using var owner = RawClient.Connect(server.EndPoint, from: IPAddress.Parse("127.0.0.42"));
        owner.Send("alice");
        owner.ReadNotice("Welcome, alice!");
        Assert.That(owner.ReadPair().Text, Does.StartWith("The name alice is registered"), "waits to log in like the squatter, instead of being refused");
        owner.Send("/login correct horse");
        Assert.That(owner.ReadPair().Text, Is.EqualTo("Logged in as alice"));
        Assert.That(squatter.ReadPair().Text, Is.EqualTo("Another connection logged in as alice; closing this one"));
        Assert.That(squatter.WaitForEndOfStream(), Is.True);
        Assert.That(bob.ReadNotice("alice").Text, Is.EqualTo("alice joined (2 online)"));
        owner.Send("mine again");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("mine again"));
    }

    [Test]
    public void PollClient_with_a_password_takes_its_name_back_from_a_squatter()
    {
        string passwordFile = Path.Combine(Path.GetTempPath(), "pollchat-test-data", Guid.NewGuid().ToString("N") + ".txt");
        Directory.CreateDirectory(Path.GetDirectoryName(passwordFile)!);
        File.WriteAllText(passwordFile, "correct horse\n");
        try
        {
            using var server = TestServer.Start();
            Register(server, "alice", "correct horse");
            using var bob = RawClient.Join(server.EndPoint, "bob");
            using var squatter = RawClient.Connect(server.EndPoint, from: IPAddress.Parse("127.0.0.43"));
            squatter.Send("alice");
            squatter.ReadNotice("The name alice is registered");

            using RunningProcess alice = RunningProcess.Client("--host", "127.0.0.1", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--user", "alice", "--password-file", passwordFile);
            Assert.That(alice.WaitForLine("Logged in"), Does.EndWith("*** Logged in as alice"), alice.Transcript);
            Assert.That(squatter.ReadPair().Text, Is.EqualTo("Another connection logged in as alice; closing this one"));
            alice.Input.WriteLine("back in my seat");
            Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("back in my seat"));
            alice.Input.Close();
            Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero, alice.Transcript);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    [Test]
    public void Squatters_filling_every_waiting_place_make_room_for_the_owner()
    {
        using var server = TestServer.Start();
        Register(server, "alice", "correct horse");
        var squatters = new List<RawClient>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                RawClient squatter = RawClient.Connect(server.EndPoint, from: IPAddress.Parse($"127.0.0.{44 + (i % 2)}"));
                squatter.Send("alice");
                squatter.ReadNotice("The name alice is registered");
                squatters.Add(squatter);
            }

            using var owner = RawClient.Connect(server.EndPoint, from: IPAddress.Parse("127.0.0.46"));
            owner.Send("alice");
            owner.ReadNotice("The name alice is registered");
            Assert.That(squatters[0].ReadPair().Text, Does.StartWith("Too many connections are waiting to log in as alice; closing this one, the longest waiting."), "the oldest of the address with the most");
            owner.Send("/login correct horse");
            Assert.That(owner.ReadPair().Text, Is.EqualTo("Logged in as alice"));
            foreach (RawClient squatter in squatters.Skip(1))
            {
                Assert.That(squatter.ReadPair().Text, Is.EqualTo("Another connection logged in as alice; closing this one"));
            }
        }
        finally
        {
            squatters.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public void Logging_in_from_a_new_connection_replaces_a_ghost_and_the_room_sees_it_leave_then_come_back()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using var ghost = RawClient.Join(server.EndPoint, "alice", IPAddress.Parse("127.0.0.47"));
        ghost.Send("/register correct horse");
        ghost.ReadNotice("Registered");
        bob.ReadNotice("alice joined");

        using var back = RawClient.Connect(server.EndPoint, from: IPAddress.Parse("127.0.0.48"));
        back.Send("alice");
        back.ReadNotice("The name alice is registered");
        back.Send("/login not the password");
        Assert.That(back.ReadPair().Text, Is.EqualTo("Login failed: wrong password"));
        ghost.Send("still here");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("still here"), "a wrong password takes nothing");

        back.Send("/login correct horse");
        Assert.That(back.ReadPair().Text, Is.EqualTo("Logged in as alice"));
        Assert.That(ghost.ReadPair().Text, Does.Match(@"^alice logged in from another connection \(127\.0\.0\.48:\d+\); closing this one$"));
        Assert.That(ghost.WaitForEndOfStream(), Is.True);
        Assert.That(bob.ReadNotice("alice").Text, Is.EqualTo("alice left (logged in again from another connection; 1 online)"));
        Assert.That(bob.ReadNotice("alice").Text, Is.EqualTo("alice joined (2 online)"));
        back.Send("new seat");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice").Text, Is.EqualTo("new seat"));
    }

    [Test]
    public void A_guesser_on_one_address_does_not_keep_the_owner_out_from_another()
    {
        using var server = TestServer.Start(new ServerOptions { MessagesPerSecond = 0 });
        Register(server, "alice", "correct horse");
        IPAddress guesserAddress = IPAddress.Parse("127.0.0.49");
        using (RawClient guesser = RawClient.Connect(server.EndPoint, from: guesserAddress))
        {
            guesser.Send("alice");
            guesser.ReadNotice("The name alice is registered");
            for (int i = 0; i <= FreeFailures; i++)
            {
                guesser.Send($"/login guess number {i}");
                Assert.That(guesser.ReadPair().Text, Is.EqualTo("Login failed: wrong password"));
            }

            guesser.Send("/login guess again");
            Assert.That(guesser.ReadPair().Text, Does.StartWith("Too many wrong passwords; try again in"), "the guesser waits");
            guesser.Send("/quit");
            Assert.That(guesser.WaitForEndOfStream(), Is.True);
        }

        using var owner = RawClient.Connect(server.EndPoint, from: IPAddress.Parse("127.0.0.50"));
        owner.Send("alice");
        owner.ReadNotice("The name alice is registered");
        owner.Send("/login correct horse");
        Assert.That(owner.ReadPair().Text, Is.EqualTo("Logged in as alice"), "the owner, on another address, does not");
    }

    private static void Register(TestServer server, string name, string password)
    {
        using RawClient owner = RawClient.Join(server.EndPoint, name);
        owner.Send("/register " + password);
        owner.ReadNotice("Registered");
    }

    private static double Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2).TotalMilliseconds;

    private static List<TimeSpan> RoundTrips(RawClient sender, RawClient receiver, string label, int count)
    {
        var times = new List<TimeSpan>();
        for (int i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            sender.Send($"{label} {i}");
            receiver.ReadUntil(p => p.Sender == "alice" && p.Text == $"{label} {i}");
            times.Add(watch.Elapsed);
            Thread.Sleep(10); // Spread over the time the logins take.
        }

        return times;
    }
}
