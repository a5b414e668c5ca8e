using PollChat.Common.Protocol;
using PollChat.Tests.Support;

namespace PollChat.Tests.Unit;

/// <summary>
/// /join, /leave, /rooms and /topic against the chat alone (<see cref="ChatHarness"/>): moving is
/// announced to the room left and the room entered, the mover is told where it is and shown the
/// new room's history, and a topic is told to its room.
/// </summary>
[TestFixture]
public sealed class RoomCommandsTests : ChatHarnessFixture
{
    [Test]
    public void Join_announces_to_both_rooms_tells_the_mover_and_replays_the_new_rooms_history()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob", "carol");
        (TestUser alice, TestUser bob, TestUser carol) = (users[0], users[1], users[2]);
        carol.Say("/join #dev");
        carol.Say("hello dev");
        Chat.Quiet();

        alice.Say("/join #dev");

        List<(string Sender, string Text)> toAlice = alice.Received();
        Assert.Multiple(() =>
        {
            Assert.That(bob.Notices(), Is.EqualTo(new List<string> { $"alice left for #dev ({Notices.Members(1)})" }), "the room left is told where the mover went");
            Assert.That(carol.Notices(), Is.EqualTo(new List<string> { $"alice joined #dev ({Notices.Members(2)})" }), "the room entered is told");
            Assert.That(toAlice, Has.Count.EqualTo(3));
            Assert.That(toAlice[0], Is.EqualTo((ServerSender.Name, $"You are now in #dev ({Notices.Members(2)})")));
            Assert.That(toAlice[1], Is.EqualTo((ServerSender.Name, HistoryReplay.Heading(1, "#dev"))), "then the new room's history");
            Assert.That(HistoryReplay.TrySplitSender(toAlice[2].Sender, out _, out string original), Is.True, "a replayed message carries its time: " + toAlice[2].Sender);
            Assert.That((original, toAlice[2].Text), Is.EqualTo(("carol", "hello dev")));
            Assert.That(alice.ChatUser.Room!.Name, Is.EqualTo("#dev"));
        });
    }

    [Test]
    public void Join_refuses_a_bad_room_name_and_the_room_one_is_in()
    {
        TestUser alice = Chat.JoinAll("alice")[0];

        alice.Say("/join dev");
        alice.Say("/join #lobby");
        alice.Say("/join");

        Assert.That(alice.Notices(), Is.EqualTo(new List<string>
        {
            $"Cannot join: {Notices.RoomNameRules(Room.MaxNameBytes)}",
            "You are already in #lobby",
            "Cannot join: usage: /join <#room>",
        }));
        Assert.That(alice.ChatUser.Room!.Name, Is.EqualTo(Room.LobbyName));
    }

    [Test]
    public void Leave_goes_back_to_the_lobby_and_both_rooms_are_told()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        (TestUser alice, TestUser bob) = (users[0], users[1]);
        alice.Say("/join #dev");
        Chat.Quiet();

        alice.Say("/leave");

        Assert.Multiple(() =>
        {
            Assert.That(alice.Notices(), Is.EqualTo(new List<string> { $"You are now in #lobby ({Notices.Members(2)})" }));
            Assert.That(bob.Notices(), Is.EqualTo(new List<string> { $"alice joined #lobby ({Notices.Members(2)})" }));
            Assert.That(alice.ChatUser.Room!.Name, Is.EqualTo(Room.LobbyName));
        });
    }

    [Test]
    public void Rooms_lists_every_room_sorted_with_members_and_topic()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob", "carol");
        users[1].Say("/join #dev");
        users[1].Say("/topic the build");
        Chat.Quiet();

        users[0].Say("/rooms");

        Assert.That(users[0].Notices(), Is.EqualTo(new List<string> { $"Rooms (2): #dev ({Notices.Members(1)}: the build), #lobby ({Notices.Members(2)})" }));
    }

    [Test]
    public void Topic_set_is_told_to_the_room_only_and_shown_when_asked()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob", "carol");
        (TestUser alice, TestUser bob, TestUser carol) = (users[0], users[1], users[2]);
        carol.Say("/join #dev");
        Chat.Quiet();

        alice.Say("/topic");
        Assert.That(alice.Notices(), Is.EqualTo(new List<string> { "#lobby has no topic; set one with /topic <text>" }));

        alice.Say("/topic cats only");
        string told = "alice set the topic of #lobby: cats only";
        Assert.Multiple(() =>
        {
            Assert.That(alice.Notices(), Is.EqualTo(new List<string> { told }), "the setter is told too");
            Assert.That(bob.Notices(), Is.EqualTo(new List<string> { told }));
            Assert.That(carol.Received(), Is.Empty, "another room is not told");
        });

        bob.Say("/topic");
        Assert.That(bob.Notices(), Is.EqualTo(new List<string> { "Topic of #lobby: cats only" }));
    }

    [Test]
    public void Topic_longer_than_the_limit_is_refused_and_the_old_one_kept()
    {
        TestUser alice = Chat.JoinAll("alice")[0];
        alice.Say("/topic short");
        Chat.Quiet();

        alice.Say("/topic " + new string('x', Room.MaxTopicBytes + 1));

        Assert.Multiple(() =>
        {
            Assert.That(alice.Notices(), Is.EqualTo(new List<string> { $"Topic not changed: at most {Room.MaxTopicBytes} bytes" }));
            Assert.That(alice.ChatUser.Room!.Topic, Is.EqualTo("short"));
        });
    }
}
