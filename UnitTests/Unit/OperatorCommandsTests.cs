using PollChat.Tests.Support;

namespace PollChat.Tests.Unit;

/// <summary>
/// The operator console's own commands against the chat alone (<see cref="ChatHarness"/>): answers
/// are the console's lines, never a client's, and /stats and /quit go to the loop (<see cref="ILoop"/>).
/// </summary>
[TestFixture]
public sealed class OperatorCommandsTests : ChatHarnessFixture
{
    [Test]
    public void Users_lists_who_is_online_with_room_endpoint_and_away_and_counts_the_unnamed()
    {
        TestUser[] users = Chat.JoinAll("bob", "alice");
        users[0].Say("/join #dev");
        users[0].Say("/away");
        Chat.Connect();

        Assert.That(Chat.Console("/users"), Is.EqualTo(new List<string>
        {
            "Online (2): alice (#lobby, unknown), bob (#dev, unknown, away)",
            "Also 1 connected without a name yet.",
        }));
    }

    [Test]
    public void Say_is_a_notice_to_everyone_online_in_every_room()
    {
        TestUser[] users = Chat.JoinAll("alice", "bob");
        users[1].Say("/join #dev");
        TestUser unnamed = Chat.Connect();
        Chat.Quiet();

        List<string> answer = Chat.Console("/say restart at noon");

        Assert.Multiple(() =>
        {
            Assert.That(answer, Is.EqualTo(new List<string> { "Said to 2 online: restart at noon" }));
            Assert.That(users[0].Notices(), Is.EqualTo(new List<string> { Notices.FromOperator("restart at noon") }));
            Assert.That(users[1].Notices(), Is.EqualTo(new List<string> { Notices.FromOperator("restart at noon") }));
            Assert.That(unnamed.Received(), Is.Empty, "a connection without a name is not chatting yet");
            Assert.That(Chat.Console("/say"), Is.EqualTo(new List<string> { "Usage: /say <text>" }));
        });
    }

    [Test]
    public void Stats_answers_the_loops_counters_line()
    {
        Assert.That(Chat.Console("/stats"), Is.EqualTo(new List<string> { FakeLoop.Stats }));
    }

    [Test]
    public void Quit_asks_the_loop_for_a_clean_shutdown()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Chat.Console("/quit"), Is.EqualTo(new List<string> { "Shutting down." }));
            Assert.That(Chat.Loop.Shutdowns, Is.EqualTo(1));
        });
    }

    [Test]
    public void Rooms_and_an_unknown_command()
    {
        TestUser alice = Chat.JoinAll("alice")[0];
        alice.Say("/topic tea");

        Assert.Multiple(() =>
        {
            Assert.That(Chat.Console("/rooms"), Is.EqualTo(new List<string> { $"Rooms (1): #lobby ({Notices.Members(1)}: tea)" }));
            Assert.That(Chat.Console("/frobnicate now"), Is.EqualTo(new List<string> { Notices.UnknownOperatorCommand("frobnicate") }));
            Assert.That(Chat.Console("/who"), Is.EqualTo(new List<string> { Notices.UnknownOperatorCommand("who") }), "a user's alias is not a console command");
            Assert.That(Chat.Console("   "), Is.Empty, "an empty line is no command");
        });
    }
}
