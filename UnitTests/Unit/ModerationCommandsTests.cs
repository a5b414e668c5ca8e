using PollChat.Server.Commands;
using PollChat.Tests.Support;

namespace PollChat.Tests.Unit;

/// <summary>
/// Kicks, bans, mutes and the message of the day through the operator console's path, against the
/// chat alone (<see cref="ChatHarness"/>): the target's connection is closed through
/// <see cref="IConnections.Close"/> with its reason and a last notice, its room is told in the close
/// phase, and a user who is not an admin cannot run them.
/// </summary>
[TestFixture]
public sealed class ModerationCommandsTests : ChatHarnessFixture
{
    [Test]
    public void Kick_at_the_console_closes_the_target_telling_it_why_and_its_room_is_told_at_the_end_of_the_iteration()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        (TestUser alice, TestUser bob) = (users[0], users[1]);

        List<string> answer = Chat.Console("/kick bob spamming links");

        Assert.Multiple(() =>
        {
            Assert.That(answer, Is.EqualTo(new List<string> { "Kicked bob: spamming links" }));
            Assert.That(bob.Closes, Has.Count.EqualTo(1));
            Assert.That(bob.Closes[0].Reason, Is.EqualTo(CloseReason.Kicked));
            Assert.That(bob.Closes[0].Notice, Is.EqualTo(Notices.Kicked(CommandTable.OperatorName, "spamming links")), "the target is told who and why");
            Assert.That(alice.Closes, Is.Empty);
            Assert.That(alice.Received(), Is.Empty, "the room is told in the close phase");
        });

        Chat.EndOfIteration();
        Assert.That(alice.Notices(), Is.EqualTo(new List<string> { Notices.Left("bob", "kicked by the operator: spamming links", 1) }));
    }

    [Test]
    public void Kick_at_the_console_without_a_reason_or_of_nobody()
    {
        TestUser bob = Chat.JoinAll("bob")[0];

        Assert.Multiple(() =>
        {
            Assert.That(Chat.Console("kick zed"), Is.EqualTo(new List<string> { Notices.NoSuchUser("zed") }), "the console takes the command without its slash");
            Assert.That(Chat.Console("/kick"), Is.EqualTo(new List<string> { "Usage: /kick <user> [reason]" }));
            Assert.That(bob.Closes, Is.Empty);
            Assert.That(Chat.Console("/kick BOB"), Is.EqualTo(new List<string> { "Kicked bob" }));
            Assert.That(bob.Closes.Single().Notice, Is.EqualTo(Notices.Kicked(CommandTable.OperatorName, reason: null)));
        });
    }

    [Test]
    public void A_user_who_is_not_an_admin_is_told_each_admin_command_is_for_admins_and_nothing_happens()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        (TestUser alice, TestUser bob) = (users[0], users[1]);

        alice.Say("/kick bob");
        alice.Say("/ban bob");
        alice.Say("/mute bob");

        Assert.Multiple(() =>
        {
            Assert.That(alice.Notices(), Is.EqualTo(new List<string> { Notices.ForAdmins("kick"), Notices.ForAdmins("ban"), Notices.ForAdmins("mute") }));
            Assert.That(bob.Closes, Is.Empty);
            Assert.That(bob.Received(), Is.Empty);
        });
    }

    [Test]
    public void Ban_at_the_console_closes_the_name_and_keeps_it_out()
    {
        TestUser bob = Chat.JoinAll("bob")[0];

        List<string> answer = Chat.Console("/ban bob");
        Chat.EndOfIteration();
        TestUser again = Chat.Connect();
        Chat.Handler.NameArrived(again.Connection, "bob"u8, Chat.Now);

        Assert.Multiple(() =>
        {
            Assert.That(answer, Is.EqualTo(new List<string> { "Banned bob for good; 1 disconnected" }));
            Assert.That(bob.Closes, Is.EqualTo(new List<CloseCall> { new(CloseReason.Banned, Notices.Banned(null), "by the operator") }));
            Assert.That(again.Closes, Is.EqualTo(new List<CloseCall> { new(CloseReason.Banned, Notices.Banned(null), "name banned") }), "the name is refused when it comes back");
        });
    }

    [Test]
    public void Mute_at_the_console_keeps_the_users_messages_from_anyone_until_unmute()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        (TestUser alice, TestUser bob) = (users[0], users[1]);

        Assert.That(Chat.Console("/mute bob"), Is.EqualTo(new List<string> { "Muted bob" }));
        Assert.That(bob.Notices(), Is.EqualTo(new List<string> { "You were muted by the operator: nothing you say reaches anyone" }));

        bob.Say("hello?");
        bob.Say("/me shouts");
        bob.Say("/msg alice psst");
        Assert.Multiple(() =>
        {
            Assert.That(alice.Received(), Is.Empty);
            Assert.That(bob.Notices(), Is.EqualTo(Enumerable.Repeat("You are muted; nothing you say reaches anyone", 3).ToList()), "each is refused with one line");
        });

        Assert.That(Chat.Console("/unmute bob"), Is.EqualTo(new List<string> { "bob can speak again" }));
        bob.Say("hello again");
        Assert.Multiple(() =>
        {
            Assert.That(bob.Notices(), Is.EqualTo(new List<string> { "You can speak again" }));
            Assert.That(alice.Received(), Is.EqualTo(new List<(string, string)> { ("bob", "hello again") }));
        });
    }

    [Test]
    public void Motd_set_at_the_console_is_told_to_each_newcomer()
    {
        Assert.That(Chat.Console("/motd be kind"), Is.EqualTo(new List<string> { "Message of the day set: be kind" }));

        TestUser alice = Chat.Join("alice");
        Assert.That(alice.Notices(), Does.Contain(Notices.MessageOfTheDay("be kind")));

        Assert.That(Chat.Console("/motd off"), Is.EqualTo(new List<string> { "Message of the day cleared" }));
        TestUser bob = Chat.Join("bob");
        Assert.That(bob.Notices().Where(n => n.StartsWith("Message of the day", StringComparison.Ordinal)), Is.Empty);
    }
}
