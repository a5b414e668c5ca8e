using System.Text;
using PollChat.Tests.Support;

namespace PollChat.Tests.Unit;

/// <summary>
/// One message's path against the chat alone (<see cref="ChatHarness"/>): relayed to the sender's
/// room as [name][text] pairs and not back to the sender, "//" for a literal leading slash, invalid
/// UTF-8 refused with one line, control characters removed, and every frame after the name charged
/// to the sender's message rate once, refused ones too.
/// </summary>
[TestFixture]
public sealed class MessageHandlerTests : ChatHarnessFixture
{
    [Test]
    public void A_message_is_relayed_to_the_room_as_a_pair_but_not_to_the_sender_nor_another_room()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob", "carol", "dave");
        (TestUser alice, TestUser bob, TestUser carol, TestUser dave) = (users[0], users[1], users[2], users[3]);
        dave.Say("/join #dev");
        Chat.Quiet();

        alice.Say("hello, héllo 👋");

        Assert.Multiple(() =>
        {
            Assert.That(bob.Received(), Is.EqualTo(new List<(string, string)> { ("alice", "hello, héllo 👋") }));
            Assert.That(carol.Received(), Is.EqualTo(new List<(string, string)> { ("alice", "hello, héllo 👋") }));
            Assert.That(alice.Received(), Is.Empty, "the sender's client shows its own line");
            Assert.That(dave.Received(), Is.Empty);
        });
    }

    [Test]
    public void A_relayed_message_is_kept_in_the_rooms_history()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        users[0].Say("for the record");
        Chat.Quiet();

        users[1].Say("/history");

        List<(string Sender, string Text)> answer = users[1].Received();
        Assert.That(answer, Has.Count.EqualTo(2));
        Assert.Multiple(() =>
        {
            Assert.That(answer[0], Is.EqualTo((Common.Protocol.ServerSender.Name, Common.Protocol.HistoryReplay.Heading(1, Room.LobbyName))));
            Assert.That(Common.Protocol.HistoryReplay.TrySplitSender(answer[1].Sender, out _, out string sender), Is.True);
            Assert.That((sender, answer[1].Text), Is.EqualTo(("alice", "for the record")));
        });
    }

    [Test]
    public void Two_slashes_relay_a_message_that_starts_with_one()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");

        users[0].Say("//help is not a command here");

        Assert.Multiple(() =>
        {
            Assert.That(users[1].Received(), Is.EqualTo(new List<(string, string)> { ("alice", "/help is not a command here") }));
            Assert.That(users[0].Received(), Is.Empty, "no /help answer");
        });
    }

    [Test]
    public void Invalid_utf8_is_refused_with_one_line_and_not_relayed()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");

        users[0].Send([(byte)'h', (byte)'i', 0xC3, 0x28]);

        Assert.Multiple(() =>
        {
            Assert.That(users[0].Notices(), Is.EqualTo(new List<string> { Notices.InvalidUtf8 }));
            Assert.That(users[1].Received(), Is.Empty);
        });
    }

    [Test]
    public void Control_characters_are_removed_before_the_relay_and_a_message_of_nothing_else_is_dropped()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");

        users[0].Say("red\u001b[31m alert\u0007");
        users[0].Say("\u001b\u0007");
        users[0].Send([]);

        Assert.Multiple(() =>
        {
            Assert.That(users[1].Received(), Is.EqualTo(new List<(string, string)> { ("alice", "red[31m alert") }));
            Assert.That(users[0].Received(), Is.Empty, "nothing to say is not an error");
        });
    }

    [Test]
    public void Every_frame_after_the_name_is_charged_to_the_message_rate_once_refused_ones_too()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        TestUser alice = users[0];
        Assert.That(alice.Charges, Is.Zero, "the name is not charged");

        alice.Say("a message");
        Assert.That(alice.Charges, Is.EqualTo(1));
        alice.Say("/users");
        Assert.That(alice.Charges, Is.EqualTo(2), "a command");
        alice.Say("/frobnicate");
        Assert.That(alice.Charges, Is.EqualTo(3), "an unknown command");
        alice.Say("//literal");
        Assert.That(alice.Charges, Is.EqualTo(4));
        alice.Send([0xFF]);
        Assert.That(alice.Charges, Is.EqualTo(5), "refusing must not be free");
        alice.Send([]);
        Assert.That(alice.Charges, Is.EqualTo(6), "an empty frame");
        Assert.That(users[1].Charges, Is.Zero, "only the sender pays");
    }

    [Test]
    public void A_name_is_welcomed_and_the_room_told_while_a_taken_or_invalid_name_is_refused()
    {
        TestUser alice = Chat.Join("alice");
        Assert.That(alice.Notices(), Is.EqualTo(new List<string> { Notices.Welcome("alice", []) }));

        TestUser bob = Chat.Join("bob");
        Assert.Multiple(() =>
        {
            Assert.That(bob.Notices(), Is.EqualTo(new List<string> { Notices.Welcome("bob", ["alice"]) }));
            Assert.That(alice.Notices(), Is.EqualTo(new List<string> { Notices.Joined("bob", 2) }));
        });

        TestUser copy = Chat.Connect();
        Chat.Handler.NameArrived(copy.Connection, Encoding.UTF8.GetBytes("ALICE"), Chat.Now);
        TestUser server = Chat.Connect();
        Chat.Handler.NameArrived(server.Connection, Encoding.UTF8.GetBytes("*server*"), Chat.Now);
        Assert.Multiple(() =>
        {
            Assert.That(copy.Closes.Single().Reason, Is.EqualTo(CloseReason.NameRejected));
            Assert.That(copy.Closes.Single().Notice, Is.EqualTo(Notices.NameTaken("ALICE", "alice")));
            Assert.That(server.Closes.Single().Reason, Is.EqualTo(CloseReason.NameRejected), "a reserved name");
            Assert.That(alice.Received(), Is.Empty, "a refused name is not announced");
        });
    }
}
