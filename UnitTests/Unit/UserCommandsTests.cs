using PollChat.Tests.Support;

namespace PollChat.Tests.Unit;

/// <summary>
/// The commands about people against the chat alone (<see cref="ChatHarness"/>): private messages
/// and replies, actions, name changes, away, ignoring, and /whois with times from the harness's
/// clock instead of waiting.
/// </summary>
[TestFixture]
public sealed class UserCommandsTests : ChatHarnessFixture
{
    [Test]
    public void Msg_reaches_only_its_recipient_and_reply_answers_the_last_sender()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob", "carol");
        (TestUser alice, TestUser bob, TestUser carol) = (users[0], users[1], users[2]);

        alice.Say("/msg bob psst");
        Assert.Multiple(() =>
        {
            Assert.That(bob.Received(), Is.EqualTo(new List<(string, string)> { ("alice (private)", "psst") }));
            Assert.That(alice.Received(), Is.EqualTo(new List<(string, string)> { ("to bob (private)", "psst") }), "the sender sees what it sent, and to whom");
            Assert.That(carol.Received(), Is.Empty);
        });

        bob.Say("/reply got it");
        Assert.Multiple(() =>
        {
            Assert.That(alice.Received(), Is.EqualTo(new List<(string, string)> { ("bob (private)", "got it") }));
            Assert.That(bob.Received(), Is.EqualTo(new List<(string, string)> { ("to alice (private)", "got it") }));
        });
    }

    [Test]
    public void Msg_to_nobody_and_reply_with_nobody_to_answer_are_errors()
    {
        TestUser alice = Chat.JoinAll("alice")[0];

        alice.Say("/msg zed hi");
        alice.Say("/reply hi");
        alice.Say("/msg bob");

        Assert.That(alice.Notices(), Is.EqualTo(new List<string>
        {
            Notices.NoSuchUser("zed"),
            "Nobody has sent you a private message yet",
            "Usage: /msg <user> <text>",
        }));
    }

    [Test]
    public void Me_goes_to_the_room_as_an_action_but_not_back_to_the_sender()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob", "carol");
        (TestUser alice, TestUser bob, TestUser carol) = (users[0], users[1], users[2]);
        carol.Say("/join #dev");
        Chat.Quiet();

        alice.Say("/me waves");

        Assert.Multiple(() =>
        {
            Assert.That(bob.Received(), Is.EqualTo(new List<(string, string)> { (ChatHistory.ActionPrefix + "alice", "waves") }));
            Assert.That(alice.Received(), Is.Empty, "the sender's own client shows it");
            Assert.That(carol.Received(), Is.Empty, "another room does not see it");
        });
    }

    [Test]
    public void Nick_is_announced_to_everyone_in_every_room_and_the_new_name_is_used()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob", "carol");
        (TestUser alice, TestUser bob, TestUser carol) = (users[0], users[1], users[2]);
        carol.Say("/join #dev");
        Chat.Quiet();

        alice.Say("/nick alicia");

        string told = "alice is now known as alicia";
        Assert.Multiple(() =>
        {
            Assert.That(alice.Notices(), Is.EqualTo(new List<string> { told }));
            Assert.That(bob.Notices(), Is.EqualTo(new List<string> { told }));
            Assert.That(carol.Notices(), Is.EqualTo(new List<string> { told }), "a name change is server-wide");
        });

        alice.Say("hi");
        bob.Say("/msg alicia hello");
        Assert.Multiple(() =>
        {
            Assert.That(bob.Received(), Is.EqualTo(new List<(string, string)> { ("alicia", "hi"), ("to alicia (private)", "hello") }));
            Assert.That(alice.Received(), Is.EqualTo(new List<(string, string)> { ("bob (private)", "hello") }));
        });
    }

    [Test]
    public void Nick_to_a_name_in_use_is_refused_and_nobody_is_told()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        (TestUser alice, TestUser bob) = (users[0], users[1]);

        alice.Say("/nick BOB");

        Assert.Multiple(() =>
        {
            Assert.That(alice.Notices(), Is.EqualTo(new List<string> { "Name not changed: " + Notices.NameTakenReason("BOB", "bob") }));
            Assert.That(bob.Received(), Is.Empty);
            Assert.That(alice.ChatUser.Name, Is.EqualTo("alice"));
        });
    }

    [Test]
    public void Away_answers_a_private_message_with_its_text_until_back()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        (TestUser alice, TestUser bob) = (users[0], users[1]);

        bob.Say("/away at lunch");
        Assert.That(bob.Notices(), Is.EqualTo(new List<string> { "You are marked as away: at lunch. Type /back when you return." }));

        alice.Say("/msg bob are you there?");
        Assert.Multiple(() =>
        {
            Assert.That(alice.Received(), Is.EqualTo(new List<(string, string)>
            {
                ("to bob (private)", "are you there?"),
                (Common.Protocol.ServerSender.Name, "bob is away: at lunch"),
            }));
            Assert.That(bob.Received(), Is.EqualTo(new List<(string, string)> { ("alice (private)", "are you there?") }), "the message is delivered all the same");
        });

        bob.Say("/back");
        alice.Say("/msg bob now?");
        Assert.Multiple(() =>
        {
            Assert.That(bob.Notices(), Is.EqualTo(new List<string> { "Welcome back; you are no longer marked as away" }));
            Assert.That(alice.Notices(), Is.Empty, "no away answer once back");
        });
    }

    [Test]
    public void Ignore_hides_messages_actions_and_private_messages_from_that_user_only()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob", "carol");
        (TestUser alice, TestUser bob, TestUser carol) = (users[0], users[1], users[2]);

        bob.Say("/ignore alice");
        Assert.That(bob.Notices(), Is.EqualTo(new List<string> { "You are ignoring alice: you will not see their messages, actions or private messages. /unignore alice undoes it." }));

        alice.Say("hello");
        alice.Say("/me waves");
        alice.Say("/msg bob psst");
        carol.Say("hi all");
        Assert.Multiple(() =>
        {
            Assert.That(bob.Received(), Is.EqualTo(new List<(string, string)> { ("carol", "hi all") }), "only alice is hidden");
            Assert.That(carol.Received(), Is.EqualTo(new List<(string, string)> { ("alice", "hello"), ("* alice", "waves") }), "others still see her");
            Assert.That(alice.Received(), Is.EqualTo(new List<(string, string)> { ("to bob (private)", "psst"), ("carol", "hi all") }), "the ignored sender is not told");
        });

        bob.Say("/unignore alice");
        alice.Say("again");
        Assert.That(bob.Received(), Is.EqualTo(new List<(string, string)>
        {
            (Common.Protocol.ServerSender.Name, "You are no longer ignoring alice"),
            ("alice", "again"),
        }));
    }

    [Test]
    public void Whois_tells_online_and_idle_time_from_the_loop_clock()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        (TestUser alice, TestUser bob) = (users[0], users[1]);

        Chat.Advance(TimeSpan.FromSeconds(90));
        bob.Say("/whois alice");
        Assert.That(bob.Notices(), Is.EqualTo(new List<string> { Notices.Whois("alice", 90_000, 90_000, away: null) }));
        Assert.That(Notices.Whois("alice", 90_000, 90_000, away: null), Does.Contain("idle for 1m 30s"), "the sentence this test expects");

        alice.Say("still here");
        alice.Say("/away brb");
        Chat.Advance(TimeSpan.FromSeconds(45));
        bob.Say("/whois ALICE");
        Assert.That(bob.Notices(), Is.EqualTo(new List<string> { Notices.Whois("alice", 135_000, 45_000, "brb") }),
            "a message resets idle time, a command does not; the name is found in any case");
    }

    [Test]
    public void Whois_of_nobody_is_an_error()
    {
        TestUser alice = Chat.JoinAll("alice")[0];

        alice.Say("/whois zed");
        alice.Say("/whois");

        Assert.That(alice.Notices(), Is.EqualTo(new List<string> { Notices.NoSuchUser("zed"), "Usage: /whois <user>" }));
    }

    [Test]
    public void Quit_says_goodbye_and_closes_the_connection_and_the_room_is_told_at_the_end_of_the_iteration()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        (TestUser alice, TestUser bob) = (users[0], users[1]);

        alice.Say("/quit");

        Assert.Multiple(() =>
        {
            Assert.That(alice.Notices(), Is.EqualTo(new List<string> { Notices.Goodbye("alice") }));
            Assert.That(alice.Closes, Is.EqualTo(new List<CloseCall> { new(CloseReason.Quit, null, null) }));
            Assert.That(bob.Received(), Is.Empty, "departures are told in the close phase, never in the middle of a frame");
        });

        Chat.EndOfIteration();
        Assert.That(bob.Notices(), Is.EqualTo(new List<string> { Notices.Left("alice", "quit", 1) }));
    }
}
