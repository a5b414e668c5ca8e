using System.Diagnostics;
using System.Globalization;
using System.Net;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>
/// What one address may take: connections at once, new connections a minute, registrations and
/// password work. Each test connects from 127.0.0.x addresses of its own, so the logs it counts
/// are its own while tests run in parallel.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class AdmissionTests
{
    [Test]
    public void An_address_holding_its_limit_gets_one_notice_while_other_addresses_come_in()
    {
        IPAddress crowd = IPAddress.Parse("127.0.0.21");
        using var server = TestServer.Start(new ServerOptions { MaxPerAddress = 3 }, addressLimits: true);
        var admitted = Enumerable.Range(0, 3).Select(i => RawClient.Join(server.EndPoint, $"crowd{i}", crowd)).ToList();
        try
        {
            using (RawClient refused = RawClient.Connect(server.EndPoint, from: crowd))
            {
                Assert.That(refused.ReadPair().Text, Is.EqualTo("Too many connections from your address (3 at once); close one and try again"));
                Assert.That(refused.WaitForEndOfStream(), Is.True);
            }

            using RawClient neighbour = RawClient.Join(server.EndPoint, "neighbour", IPAddress.Parse("127.0.0.22"));
            admitted[0].Send("/quit");
            Assert.That(admitted[0].WaitForEndOfStream(), Is.True);
            admitted[0].Dispose();
            WaitForConnections(server, 3); // Two of the crowd and the neighbour: the one that quit is no longer counted.
            admitted[0] = RawClient.Join(server.EndPoint, "crowd0", crowd);
        }
        finally
        {
            admitted.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public void The_default_admits_twenty_from_one_address_and_refuses_the_twenty_first()
    {
        IPAddress classroom = IPAddress.Parse("127.0.0.23");
        using var server = TestServer.Start(new ServerOptions(), addressLimits: true);
        var pupils = new List<RawClient>();
        try
        {
            for (int i = 0; i < ServerOptions.DefaultMaxPerAddress; i++)
            {
                pupils.Add(RawClient.Join(server.EndPoint, $"pupil{i}", classroom));
            }

            using RawClient extra = RawClient.Connect(server.EndPoint, from: classroom);
            Assert.That(extra.ReadPair().Text, Is.EqualTo("Too many connections from your address (20 at once); close one and try again"));
        }
        finally
        {
            pupils.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public void Repeated_refusals_are_logged_once_with_a_count_not_once_per_connection()
    {
        const string Address = "127.0.0.24";
        using var server = TestServer.Start(new ServerOptions { MaxPerAddress = 1 }, addressLimits: true);
        using RawClient holder = RawClient.Join(server.EndPoint, "holder", IPAddress.Parse(Address));
        for (int i = 0; i < 10; i++)
        {
            using RawClient refused = RawClient.Connect(server.EndPoint, from: IPAddress.Parse(Address));
            refused.ReadNotice("Too many connections from your address");
        }

        List<string> lines = [.. LogCapture.Lines.Where(l => l.Contains(Address, StringComparison.Ordinal) && !l.StartsWith("Debug", StringComparison.Ordinal))];
        Assert.That(lines.Count(l => l.Contains("Refusing connections from " + Address + ": 1 connections at once (--max-per-address)", StringComparison.Ordinal)), Is.EqualTo(1), string.Join("\n", lines));
        Assert.That(lines.Count(l => l.Contains("closed:", StringComparison.Ordinal) && !l.Contains("holder", StringComparison.Ordinal)), Is.Zero, "no line per refused connection above Debug:\n" + string.Join("\n", lines));
    }

    [Test]
    public void An_address_connecting_too_often_is_told_when_to_come_back_and_others_are_not_held()
    {
        IPAddress churner = IPAddress.Parse("127.0.0.25");
        using var server = TestServer.Start(new ServerOptions { ConnectsPerMinute = 5 }, addressLimits: true);
        for (int i = 0; i < 5; i++)
        {
            using RawClient client = RawClient.Join(server.EndPoint, $"churn{i}", churner);
        }

        using (RawClient refused = RawClient.Connect(server.EndPoint, from: churner))
        {
            Assert.That(refused.ReadPair().Text, Does.Match(@"^Too many new connections from your address \(at most 5 a minute\); try again in (1[0-2]|[1-9]) s$"));
            Assert.That(refused.WaitForEndOfStream(), Is.True);
        }

        using RawClient other = RawClient.Join(server.EndPoint, "other", IPAddress.Parse("127.0.0.26"));
    }

    [Test]
    public void Registration_spam_from_one_address_leaves_honest_logins_from_others_working()
    {
        const int Spammers = 300; // Past the workers' queue of 256: without the limits, every login after it is refused as busy.
        const int Owners = 5;
        using var server = TestServer.Start(new ServerOptions { MessagesPerSecond = 0 }); // Per-address connection limits off: 300 from one address.
        for (int i = 0; i < Owners; i++)
        {
            using RawClient owner = RawClient.Join(server.EndPoint, $"owner{i}", OwnerAddress(i));
            owner.Send("/register correct horse");
            owner.ReadNotice("Registered");
        }

        IPAddress spamAddress = IPAddress.Parse("127.0.0.27");
        var spammers = new List<RawClient>();
        try
        {
            for (int i = 0; i < Spammers; i++)
            {
                RawClient spammer = RawClient.Connect(server.EndPoint, from: spamAddress);
                spammers.Add(spammer);
                spammer.Send($"spam{i}");
                spammer.Send("/register spam password");
            }

            // Its answer comes after every earlier registration was taken or refused.
            Assert.That(spammers[^1].ReadUntil(p => p.Text.StartsWith("Not registered", StringComparison.Ordinal) || p.Text.StartsWith("The server is busy", StringComparison.Ordinal)).Text,
                Does.StartWith("Not registered: too many registrations from your address; try again in "));
            var watch = Stopwatch.StartNew();
            var owners = Enumerable.Range(0, Owners).Select(i => RawClient.Connect(server.EndPoint, from: OwnerAddress(i))).ToList();
            for (int i = 0; i < Owners; i++)
            {
                owners[i].Send($"owner{i}");
                owners[i].Send("/login correct horse");
            }

            foreach (RawClient owner in owners)
            {
                Assert.That(owner.ReadUntil(p => p.Text.StartsWith("Logged in", StringComparison.Ordinal) || p.Text.StartsWith("The server is busy", StringComparison.Ordinal)).Text, Does.StartWith("Logged in as owner"));
                owner.Dispose();
            }

            TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Owners} logins during {Spammers} registrations from one address: all in {watch.Elapsed.TotalSeconds:0.0} s"));
        }
        finally
        {
            spammers.ForEach(c => c.Dispose());
        }
    }

    private static IPAddress OwnerAddress(int i) => IPAddress.Parse($"127.0.0.{28 + i}");

    private static void WaitForConnections(TestServer server, int count)
    {
        var watch = Stopwatch.StartNew();
        string stats = "";
        while (watch.Elapsed < RawClient.DefaultTimeout)
        {
            stats = server.Operator("/stats").Single();
            if (stats.Contains($"connections={count} ", StringComparison.Ordinal))
            {
                return;
            }

            Thread.Sleep(20); // Polling the loop's own count; each look is a posted action.
        }

        Assert.Fail($"Expected connections={count}: {stats}");
    }
}
