using System.Text.RegularExpressions;
using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>Room history: replay on entering a room, /history, order, and the bound.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed partial class HistoryTests
{
    private static readonly string[] ExpectedReplay = ["[t] alice > first", "[t] * alice > waves", "[t] alice > third"];

    [Test]
    public void Whoever_joins_sees_the_rooms_last_messages_in_order_with_their_time()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        alice.Send("first");
        alice.Send("/me waves");
        alice.Send("third");
        using var witness = RawClient.Join(server.EndPoint, "witness");
        witness.ReadUntil(p => p.Text == "third"); // The replay proves all three were relayed and stored.

        using var bob = RawClient.Connect(server.EndPoint);
        bob.Send("bob");

        Assert.That(bob.ReadPair().Text, Does.StartWith("Welcome, bob!"));
        Assert.That(bob.ReadPair(), Is.EqualTo((ServerSender.Name, "Last 3 messages in #lobby:")));
        (string Sender, string Text)[] replay = [bob.ReadPair(), bob.ReadPair(), bob.ReadPair()];
        Assert.That(replay.Select(p => Stamp().Replace(p.Sender, "[t] ") + " > " + p.Text),
            Is.EqualTo(ExpectedReplay));
    }

    [Test]
    public void History_shows_the_last_n_and_rejects_a_bad_count()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;
        foreach (string line in new[] { "one", "two", "three" })
        {
            alice.Send(line);
        }

        bob.ReadUntil(p => p.Text == "three");
        bob.Send("/history 2");

        Assert.That(bob.ReadNotice("Last").Text, Is.EqualTo("Last 2 messages in #lobby:"));
        Assert.That(bob.ReadPair().Text, Is.EqualTo("two"));
        Assert.That(bob.ReadPair().Text, Is.EqualTo("three"));
        bob.Send("/history 101");
        Assert.That(bob.ReadPair(), Is.EqualTo((ServerSender.Name, "Usage: /history [n], n from 1 to 100")));
        bob.Send("/history two");
        Assert.That(bob.ReadPair(), Is.EqualTo((ServerSender.Name, "Usage: /history [n], n from 1 to 100")));
    }

    [Test]
    public void Joining_a_room_replays_that_rooms_history_after_the_room_notice()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;
        alice.Send("/join #dev");
        alice.ReadNotice("You are now in");
        alice.Send("dev talk");
        alice.Send("/history");
        alice.ReadNotice("Last 1 message");

        bob.Send("/join #dev");

        Assert.That(bob.ReadNotice("You are now in").Text, Is.EqualTo("You are now in #dev (2 members)"));
        Assert.That(bob.ReadPair(), Is.EqualTo((ServerSender.Name, "Last 1 message in #dev:")));
        Assert.That(Stamp().Replace(bob.ReadPair().Sender, "[t] "), Is.EqualTo("[t] alice"));
        bob.Send("/join #empty");
        bob.ReadNotice("You are now in");
        bob.Send("/history");
        Assert.That(bob.ReadPair(), Is.EqualTo((ServerSender.Name, "No messages in #empty yet")));
    }

    [Test]
    public void With_history_0_nothing_is_replayed_on_joining()
    {
        using var server = TestServer.Start(new ServerOptions { HistoryOnJoin = 0 });
        using var alice = RawClient.Join(server.EndPoint, "alice");
        alice.Send("before bob");
        using var witness = RawClient.Join(server.EndPoint, "witness");
        alice.Send("sentinel");
        witness.ReadUntil(p => p.Text == "sentinel");

        using var bob = RawClient.Join(server.EndPoint, "bob");
        alice.Send("after bob");

        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice", "after bob")));
    }

    [Test]
    public void History_keeps_the_last_100_messages_of_a_room()
    {
        using var chat = ChatRoom.Start(2, new ServerOptions { MessagesPerSecond = 0 });
        var (alice, bob) = chat;
        for (int i = 1; i <= 105; i++)
        {
            alice.Send($"m{i}");
        }

        bob.ReadUntil(p => p.Text == "m105");
        bob.Send("/history 100");

        Assert.That(bob.ReadNotice("Last").Text, Is.EqualTo("Last 100 messages in #lobby:"));
        string[] texts = [.. Enumerable.Range(0, 100).Select(_ => bob.ReadPair().Text)];
        Assert.That(texts, Is.EqualTo(Enumerable.Range(6, 100).Select(i => $"m{i}")));
    }

    [GeneratedRegex(@"^\[\d\d:\d\d\] ")]
    private static partial Regex Stamp();
}
