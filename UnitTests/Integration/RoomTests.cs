using PollChat.Common.Protocol;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>Rooms end to end: isolation, notices with member counts, topics, and rooms that vanish when empty.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class RoomTests
{
    [Test]
    public void Rooms_isolate_traffic_in_both_directions()
    {
        using var chat = ChatRoom.Start(4);
        var (alice, bob, carol, dave) = chat;
        alice.Send("/join #dev");
        alice.ReadNotice("You are now in");
        bob.Send("/join #DEV");
        bob.ReadNotice("You are now in");

        alice.Send("only for #dev");
        carol.Send("only for the lobby");
        carol.Send("/me stays in the lobby");

        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice", "only for #dev")));
        Assert.That(dave.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("carol", "only for the lobby")));
        Assert.That(dave.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("* carol", "stays in the lobby")));
        // Everything above has been relayed; had a lobby line reached #dev, or a #dev line the lobby, it would come before these.
        bob.Send("dev sentinel");
        Assert.That(alice.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("bob", "dev sentinel")));
        carol.Send("lobby sentinel");
        Assert.That(dave.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("carol", "lobby sentinel")));
    }

    [Test]
    public void Joining_and_leaving_a_room_is_announced_in_both_rooms_with_member_counts()
    {
        using var chat = ChatRoom.Start(3);
        var (alice, bob, carol) = chat;
        bob.Send("/join #dev");
        Assert.That(bob.ReadNotice("You are now in").Text, Is.EqualTo("You are now in #dev (1 member)"));

        alice.Send("/join #dev");

        Assert.That(alice.ReadNotice("You are now in").Text, Is.EqualTo("You are now in #dev (2 members)"));
        Assert.That(bob.ReadNotice("alice joined").Text, Is.EqualTo("alice joined #dev (2 members)"));
        Assert.That(carol.ReadNotice("alice left").Text, Is.EqualTo("alice left for #dev (1 member)"));

        alice.Send("/leave");
        Assert.That(alice.ReadNotice("You are now in").Text, Is.EqualTo("You are now in #lobby (2 members)"));
        Assert.That(bob.ReadNotice("alice left").Text, Is.EqualTo("alice left for #lobby (1 member)"));
        Assert.That(carol.ReadNotice("alice joined").Text, Is.EqualTo("alice joined #lobby (2 members)"));
    }

    [Test]
    public void A_disconnect_is_announced_only_in_the_room_that_was_left()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;
        using (var carol = RawClient.Join(chat.EndPoint, "carol"))
        {
            carol.Send("/join #dev");
            carol.ReadNotice("You are now in");
            bob.Send("/join #dev");
            bob.ReadNotice("You are now in");
        }

        // carol's socket closed with notices unread, so the kernel reset it: "connection lost" is right; the room is what this test is about.
        Assert.That(bob.ReadNotice("carol left").Text, Does.EndWith("; 2 online)"));
        bob.Send("/leave");
        Assert.That(alice.ReadNotice("bob joined #lobby").Text, Is.EqualTo("bob joined #lobby (2 members)"));
        Assert.That(alice.Transcript.Any(t => t.Contains("carol left (", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public void Rooms_lists_rooms_with_members_and_topics_and_an_empty_room_disappears()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;
        bob.Send("/join #dev");
        bob.ReadNotice("You are now in");
        bob.Send("/topic ship it");
        Assert.That(bob.ReadNotice("bob set").Text, Is.EqualTo("bob set the topic of #dev: ship it"));

        alice.Send("/rooms");
        Assert.That(alice.ReadNotice("Rooms").Text, Is.EqualTo("Rooms (2): #dev (1 member: ship it), #lobby (1 member)"));

        bob.Send("/leave");
        bob.ReadNotice("You are now in");
        alice.Send("/rooms");
        Assert.That(alice.ReadNotice("Rooms").Text, Is.EqualTo("Rooms (1): #lobby (2 members)"));
    }

    [Test]
    public void Topic_is_shown_set_announced_and_told_to_whoever_joins()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.Send("/topic");
        Assert.That(alice.ReadNotice("#lobby has").Text, Is.EqualTo("#lobby has no topic; set one with /topic <text>"));
        alice.Send("/topic Friday demo at 3");
        Assert.That(bob.ReadNotice("alice set").Text, Is.EqualTo("alice set the topic of #lobby: Friday demo at 3"));
        bob.Send("/topic");
        Assert.That(bob.ReadNotice("Topic of").Text, Is.EqualTo("Topic of #lobby: Friday demo at 3"));
        alice.Send("/topic " + new string('x', 201));
        Assert.That(alice.ReadNotice("Topic not").Text, Is.EqualTo("Topic not changed: at most 200 bytes"));

        bob.Send("/join #side");
        bob.ReadNotice("You are now in");
        bob.Send("/leave");
        Assert.That(bob.ReadNotice("You are now in").Text, Is.EqualTo("You are now in #lobby (2 members). Topic: Friday demo at 3"));
    }

    [TestCase("/join", "Cannot join: usage: /join <#room>")]
    [TestCase("/join dev", "Cannot join: room names start with # followed by letters, digits, '-', '_' or '.', at most 32 bytes in all")]
    [TestCase("/join #", "Cannot join: room names start with # followed by letters, digits, '-', '_' or '.', at most 32 bytes in all")]
    [TestCase("/join #two words", "Cannot join: room names start with # followed by letters, digits, '-', '_' or '.', at most 32 bytes in all")]
    [TestCase("/join #abcdefghijklmnopqrstuvwxyz012345", "Cannot join: room names start with # followed by letters, digits, '-', '_' or '.', at most 32 bytes in all")]
    [TestCase("/join #LOBBY", "You are already in #lobby")]
    [TestCase("/leave", "You are already in #lobby")]
    public void A_bad_join_gets_one_clear_notice(string line, string notice)
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");

        alice.Send(line);

        Assert.That(alice.ReadPair(), Is.EqualTo((ServerSender.Name, notice)));
    }

    [Test]
    public void Users_tells_who_is_in_the_room_and_who_is_online()
    {
        using var chat = ChatRoom.Start(3);
        var (alice, bob, carol) = chat;
        alice.Send("/join #dev");
        alice.ReadNotice("You are now in");
        carol.Send("/join #dev");
        carol.ReadNotice("You are now in");

        alice.Send("/users");

        Assert.That(alice.ReadNotice("In ").Text, Is.EqualTo("In #dev (2): alice, carol"));
        Assert.That(alice.ReadNotice("Online").Text, Is.EqualTo("Online (3): alice, bob, carol"));
    }
}
