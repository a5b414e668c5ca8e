using PollChat.Client;
using PollChat.Common.Protocol;

namespace PollChat.Tests.Unit;

/// <summary>The client's side of rich mode without a network: reading events, keeping the user list, showing events.</summary>
[TestFixture]
public sealed class RichModeClientTests
{
    private static readonly DateTime Noon = new(2026, 11, 21, 12, 0, 0, DateTimeKind.Local);

    private static readonly string[] Bob = ["bob"];
    private static readonly string[] AliceBob = ["alice", "bob"];
    private static readonly string[] AliceBobCarol = ["alice", "bob", "carol"];
    private static readonly string[] FourOnline = ["alice", "bob", "carol", "dave"];
    private static readonly string[] AliceCarla = ["alice", "carla"];
    private static readonly string[] AliceBobCarla = ["alice", "bob", "carla"];
    private static readonly string[] AliciaBob = ["alicia", "bob"];

    [TestCase("")]
    [TestCase("not json")]
    [TestCase("[1,2]")]
    [TestCase("{}")]
    [TestCase("""{"type":""}""")]
    [TestCase("""{"type":5}""")]
    public void What_is_not_an_event_is_read_as_none(string json) => Assert.That(RichMode.Parse(json), Is.Null);

    [Test]
    public void An_event_reads_back_as_it_was_written_and_unknown_fields_are_ignored()
    {
        var written = new RichEvent { Type = RichEventTypes.Users, Room = "#lobby", Members = AliceBob, Online = AliceBobCarol, Tracked = true };
        RichEvent read = RichMode.Parse(RichMode.Serialize(written))!;

        Assert.That(read.Members, Is.EqualTo(AliceBob));
        Assert.That(read with { Members = null, Online = null }, Is.EqualTo(written with { Members = null, Online = null }));
        Assert.That(RichMode.Parse("""{"type":"hello","name":"a","future":{"x":1}}""")!.Name, Is.EqualTo("a"));
    }

    [Test]
    public void The_list_follows_snapshots_and_changes()
    {
        var users = new UserList();
        users.Apply(new RichEvent { Type = RichEventTypes.Hello, Name = "alice", Room = "#lobby", Version = 1 });
        users.Apply(new RichEvent { Type = RichEventTypes.Users, Room = "#lobby", Members = AliceBob, Online = AliceBob, Tracked = true });
        Assert.That(users.Tracked, Is.True);

        users.Apply(new RichEvent { Type = RichEventTypes.Entered, Name = "carol", Room = "#lobby", Count = 3 });
        users.Apply(new RichEvent { Type = RichEventTypes.Online, Name = "dave", Count = 4 });
        users.Apply(new RichEvent { Type = RichEventTypes.Entered, Name = "erin", Room = "#elsewhere", Count = 1 });
        Assert.That(users.Members, Is.EqualTo(AliceBobCarol));
        Assert.That(users.Online, Is.EqualTo(FourOnline));

        users.Apply(new RichEvent { Type = RichEventTypes.Renamed, Old = "CAROL", Name = "carla" });
        users.Apply(new RichEvent { Type = RichEventTypes.Left, Name = "bob", Room = "#lobby", Reason = "moved to #dev", Count = 2 });
        users.Apply(new RichEvent { Type = RichEventTypes.Offline, Name = "dave", Reason = "quit", Count = 3 });
        Assert.That(users.Members, Is.EqualTo(AliceCarla));
        Assert.That(users.Online, Is.EqualTo(AliceBobCarla));

        users.Apply(new RichEvent { Type = RichEventTypes.Renamed, Old = "alice", Name = "alicia" });
        users.Apply(new RichEvent { Type = RichEventTypes.Room, Room = "#dev", Members = AliciaBob });
        Assert.That((users.MyName, users.Room), Is.EqualTo(("alicia", "#dev")));
        Assert.That(users.Members, Is.EqualTo(AliciaBob));

        users.Apply(new RichEvent { Type = RichEventTypes.Tracking, Tracked = false });
        Assert.That(users.Tracked, Is.False);
        users.Clear();
        Assert.That((users.Online.Count, users.MyName, users.Tracked), Is.EqualTo((0, (string?)null, false)));
    }

    [Test]
    public void Events_show_as_notices_private_lines_and_errors_and_list_updates_show_nothing()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Private, From = "bob", To = "alice", Text = "psst" }), Is.EqualTo("[12:00] [private] bob > psst"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Private, From = "Alice", To = "bob", Text = "hi" }), Is.EqualTo("[12:00] [private] to bob > hi"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Error, Text = "Usage: /me <action>" }), Is.EqualTo("[12:00] !!! Usage: /me <action>"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Entered, Name = "carol", Room = "#lobby", Count = 1 }), Is.EqualTo("[12:00] *** carol joined #lobby (1 member)"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Left, Name = "bob", Room = "#dev", Reason = "quit", Count = 2 }), Is.EqualTo("[12:00] *** bob left #dev (quit; 2 members)"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Room, Room = "#dev", Topic = "ship it", Members = Bob }), Is.EqualTo("[12:00] *** You are now in #dev (1 member: bob). Topic: ship it"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Topic, Room = "#dev", Text = "ship it", By = "bob" }), Is.EqualTo("[12:00] *** bob set the topic of #dev: ship it"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Renamed, Old = "carol", Name = "carla" }), Is.EqualTo("[12:00] *** carol is now known as carla"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Private, From = "bob", To = "alice", Text = "\u001b[2Jgone" }), Is.EqualTo("[12:00] [private] bob > ^[[2Jgone"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Away, Text = "lunch" }), Is.EqualTo("[12:00] *** You are marked as away: lunch. Type /back when you return."));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Away }), Is.EqualTo("[12:00] *** You are not marked as away"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Rooms, Count = 2, Rooms = DevAndLobby }), Is.EqualTo("[12:00] *** Rooms (2): #dev (1 member: ship it), #lobby (3 members)"));
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Online, Name = "dave" }), Is.Null);
            Assert.That(Show(new RichEvent { Type = RichEventTypes.Users, Members = Bob }), Is.Null);
            Assert.That(Show(new RichEvent { Type = "from-the-future" }), Is.Null);
        });
    }

    private static readonly RoomSummary[] DevAndLobby = [new("#dev", 1, "ship it"), new("#lobby", 3)];

    private static string? Show(RichEvent e) => ChatView.FormatEvent(Noon, e, "alice");
}
