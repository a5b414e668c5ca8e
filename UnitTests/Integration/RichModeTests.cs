using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using PollChat.Common.Protocol;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>Rich mode: the events on the wire, exactly as PROTOCOL.md shows them, and PollClient using them beside a classic client.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed partial class RichModeTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    [Test]
    public void Asking_for_rich_mode_gets_hello_and_a_snapshot_and_nothing_is_relayed()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using var alice = RawClient.Join(server.EndPoint, "alice");

        alice.Send(RichMode.Request);

        Assert.That(alice.ReadPair(), Is.EqualTo((RichMode.EventSender, """{"type":"hello","name":"alice","room":"#lobby","version":1}""")));
        Assert.That(alice.ReadPair(), Is.EqualTo((RichMode.EventSender, """{"type":"users","room":"#lobby","members":["alice","bob"],"online":["alice","bob"],"tracked":true}""")));
        alice.Send("sentinel");
        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice", "sentinel")));
    }

    [Test]
    public void A_rich_client_gets_list_and_room_changes_as_events_and_a_classic_one_the_sentences()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var classic = RawClient.Join(server.EndPoint, "classic");
        alice.Send(RichMode.Request);
        alice.ReadUntil(p => p.Text.Contains("\"users\"", StringComparison.Ordinal));

        using (RawClient carol = RawClient.Join(server.EndPoint, "carol"))
        {
            Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"online","name":"carol","count":3}"""));
            Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"entered","name":"carol","room":"#lobby","count":3}"""));
            Assert.That(classic.ReadNotice("carol").Text, Is.EqualTo("carol joined (3 online)"));

            carol.Send("/nick carla");
            Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"renamed","name":"carla","old":"carol"}"""));
            Assert.That(classic.ReadNotice("carol").Text, Is.EqualTo("carol is now known as carla"));

            carol.Send("/topic release day");
            Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"topic","text":"release day","room":"#lobby","by":"carla"}"""));

            carol.Send("/join #dev");
            Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"left","name":"carla","room":"#lobby","reason":"moved to #dev","count":2}"""));
            Assert.That(classic.ReadNotice("carla left").Text, Is.EqualTo("carla left for #dev (2 members)"));
            alice.Send("/join #dev");
            Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"room","room":"#dev","members":["alice","carla"]}"""));
            Assert.That(carol.ReadNotice("alice joined").Text, Is.EqualTo("alice joined #dev (2 members)"));
        }

        Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"left","name":"carla","room":"#dev","reason":"disconnected","count":1}"""));
        Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"offline","name":"carla","reason":"disconnected","count":2}"""));
    }

    [Test]
    public void Private_messages_and_errors_are_events_for_a_rich_client_and_pairs_for_a_classic_one()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var bob = RawClient.Join(server.EndPoint, "bob");
        alice.Send(RichMode.Request);
        alice.ReadUntil(p => p.Text.Contains("\"users\"", StringComparison.Ordinal));

        bob.Send("/msg alice psst");
        Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"private","from":"bob","to":"alice","text":"psst"}"""));
        Assert.That(bob.ReadUntil(p => p.Sender.EndsWith("(private)", StringComparison.Ordinal)), Is.EqualTo(("to alice (private)", "psst")));

        alice.Send("/reply hush");
        Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"private","from":"alice","to":"bob","text":"hush"}"""));
        Assert.That(bob.ReadUntil(p => p.Sender.EndsWith("(private)", StringComparison.Ordinal)), Is.EqualTo(("alice (private)", "hush")));

        alice.Send("/msg nobody hi");
        Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"error","text":"No user named \u0027nobody\u0027 is online"}"""));
        alice.Send("/frobnicate");
        Assert.That(NextEvent(alice), Does.StartWith("""{"type":"error","text":"Unknown command /frobnicate."""));
        bob.Send("/msg nobody hi");
        Assert.That(bob.ReadNotice("No user").Text, Is.EqualTo("No user named 'nobody' is online"));
    }

    [Test]
    public void Away_and_rooms_are_events_for_a_rich_client_and_sentences_for_a_classic_one()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");
        using var bob = RawClient.Join(server.EndPoint, "bob");
        alice.Send(RichMode.Request);
        alice.ReadUntil(p => p.Text.Contains("\"users\"", StringComparison.Ordinal));
        bob.Send("/join #dev");
        bob.Send("/topic ship it");
        bob.ReadNotice("bob set the topic");
        Assert.That(NextEvent(alice), Does.Contain("\"left\",\"name\":\"bob\""));

        alice.Send("/away lunch");
        Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"away","text":"lunch"}"""));
        alice.Send("/back");
        Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"away"}"""), "no text: present again");
        alice.Send("/rooms");
        Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"rooms","count":2,"rooms":[{"name":"#dev","members":1,"topic":"ship it"},{"name":"#lobby","members":1}]}"""));

        bob.Send("/away");
        Assert.That(bob.ReadNotice("You are").Text, Is.EqualTo("You are marked as away: away. Type /back when you return."));
        bob.Send("/rooms");
        Assert.That(bob.ReadNotice("Rooms").Text, Is.EqualTo("Rooms (2): #dev (1 member: ship it), #lobby (1 member)"));
    }

    [Test]
    public void An_unknown_version_is_refused_and_the_connection_stays_classic()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");

        alice.Send("/rich 2");

        Assert.That(alice.ReadNotice("Rich mode").Text, Is.EqualTo("Rich mode version '2' is not spoken here; this server speaks 1 (/rich 1)"));
        using var bob = RawClient.Join(server.EndPoint, "bob");
        Assert.That(alice.ReadPair(), Is.EqualTo((ServerSender.Name, "bob joined (2 online)")));
    }

    [Test]
    public void Past_the_announce_limit_rich_clients_are_told_the_list_is_no_longer_followed()
    {
        using var server = TestServer.Start(new ServerOptions { AnnounceLimit = 2 });
        using var alice = RawClient.Join(server.EndPoint, "alice");
        alice.Send(RichMode.Request);
        alice.ReadUntil(p => p.Text.Contains("\"users\"", StringComparison.Ordinal));
        using var bob = RawClient.Join(server.EndPoint, "bob");
        Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"online","name":"bob","count":2}"""));
        Assert.That(NextEvent(alice), Does.Contain("\"entered\""));

        using var carol = RawClient.Join(server.EndPoint, "carol");

        Assert.That(NextEvent(alice), Is.EqualTo("""{"type":"tracking","tracked":false}"""));
        alice.Send("/users");
        Assert.That(NextEvent(alice), Does.EndWith("\"tracked\":false}").And.Contain("\"online\":[\"alice\",\"bob\",\"carol\"]"));
    }

    [Test]
    public void PollClient_in_rich_mode_beside_a_classic_client_shows_private_messages_errors_and_answers_users_itself()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using RunningProcess alice = RunningProcess.Client("--host", "127.0.0.1", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--user", "alice");
        alice.WaitForLine("Rich mode 1 on");
        Assert.That(alice.Transcript, Does.Contain("Welcome, alice! Online (1): bob. Type /quit to leave.").And.Not.Contain(RichMode.Advertisement));

        bob.Send("hi alice");
        Assert.That(alice.WaitForLine("bob >"), Does.Match(@"^\[\d\d:\d\d\] bob > hi alice$"));
        alice.Input.WriteLine("hello bob");
        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice", "hello bob")), "the rich-mode request is never relayed");

        bob.Send("/msg alice psst");
        Assert.That(alice.WaitForLine("[private]"), Does.Match(@"^\[\d\d:\d\d\] \[private\] bob > psst$"));
        alice.Input.WriteLine("/msg bob yo");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice (private)").Text, Is.EqualTo("yo"));
        Assert.That(alice.WaitForLine("[private]"), Does.Match(@"^\[\d\d:\d\d\] \[private\] to bob > yo$"));

        alice.Input.WriteLine("/msg nobody x");
        Assert.That(alice.WaitForLine("!!!"), Does.Match(@"^\[\d\d:\d\d\] !!! No user named 'nobody' is online$"));

        using var carol = RawClient.Join(server.EndPoint, "carol");
        Assert.That(alice.WaitForLine("carol joined"), Does.EndWith("*** carol joined #lobby (3 members)"));
        carol.Send("/nick carla");
        alice.WaitForLine("carol is now known as carla");

        // Answered from the client's own list: the server reads no frame for it.
        long framesBefore = FramesIn(server);
        alice.Input.WriteLine("/users");
        Assert.That(alice.WaitForLine("In #lobby"), Does.EndWith("*** In #lobby (3): alice, bob, carla"));
        Assert.That(alice.WaitForLine("Online ("), Does.EndWith("*** Online (3): alice, bob, carla"));
        Assert.That(FramesIn(server), Is.EqualTo(framesBefore));

        alice.Input.WriteLine("/nick alicia");
        Assert.That(bob.ReadNotice("alice is").Text, Is.EqualTo("alice is now known as alicia"));
        alice.WaitForLine("alice is now known as alicia");
        alice.Input.WriteLine("/who");
        Assert.That(alice.WaitForLine("In #lobby"), Does.EndWith("*** In #lobby (3): alicia, bob, carla"));

        carol.Send("/quit");
        Assert.That(alice.WaitForLine("carla left"), Does.EndWith("*** carla left #lobby (quit; 2 members)"));
        alice.Input.WriteLine("/names");
        Assert.That(alice.WaitForLine("In #lobby"), Does.EndWith("*** In #lobby (2): alicia, bob"));

        alice.Input.Close();
        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero, alice.Transcript);
    }

    [Test]
    public void A_client_written_from_PROTOCOL_md_alone_keeps_the_same_user_list_as_the_server()
    {
        using var server = TestServer.Start();
        using var bob = RawClient.Join(server.EndPoint, "bob");
        using RunningProcess alice = RunningProcess.Python("rich_client.py", "--host", "127.0.0.1", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "--user", "alice");
        alice.WaitForLine("RICH ON");
        Assert.That(alice.WaitForLine("LIST "), Is.EqualTo("LIST room=#lobby members=alice,bob online=alice,bob tracked=true"));

        using var carol = RawClient.Join(server.EndPoint, "carol");
        alice.WaitForLine("EVENT entered");
        Assert.That(alice.WaitForLine("LIST "), Is.EqualTo("LIST room=#lobby members=alice,bob,carol online=alice,bob,carol tracked=true"));
        carol.Send("/nick carla");
        Assert.That(alice.WaitForLine("LIST "), Is.EqualTo("LIST room=#lobby members=alice,bob,carla online=alice,bob,carla tracked=true"));
        carol.Send("/join #dev");
        Assert.That(alice.WaitForLine("LIST "), Is.EqualTo("LIST room=#lobby members=alice,bob online=alice,bob,carla tracked=true"));

        bob.Send("/msg alice psst");
        Assert.That(alice.WaitForLine("EVENT private"), Is.EqualTo("""EVENT private {"type":"private","from":"bob","to":"alice","text":"psst"}"""));
        alice.Input.WriteLine("hello bob");
        alice.Input.Flush();
        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name && !p.Sender.EndsWith("(private)", StringComparison.Ordinal)), Is.EqualTo(("alice", "hello bob")));

        carol.Send("/quit");
        Assert.That(alice.WaitForLine("LIST "), Is.EqualTo("LIST room=#lobby members=alice,bob online=alice,bob tracked=true"));
        alice.Input.WriteLine("/users");
        alice.Input.Flush();
        Assert.That(alice.WaitForLine("EVENT users"), Does.Contain("\"online\":[\"alice\",\"bob\"]"));
        alice.Input.Close();
        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero, alice.Transcript);
    }

    [Test]
    public void Against_a_classic_server_the_spec_client_sends_nothing_extra()
    {
        using RunningProcess classic = RunningProcess.Python("classic_server.py", "--host", "127.0.0.1", "--port", "0");
        int port = classic.WaitForListeningPort();
        using RawClient carol = RawClient.Connect(new IPEndPoint(IPAddress.Loopback, port));
        carol.Send("carol");
        classic.WaitForLine("username: carol");
        using RunningProcess alice = RunningProcess.Python("rich_client.py", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--user", "alice");
        classic.WaitForLine("username: alice");

        carol.Send("hi alice");
        alice.WaitForLine("CLASSIC");
        alice.Input.WriteLine("plain text only");
        alice.Input.Flush();

        Assert.That(carol.ReadPair(), Is.EqualTo(("alice", "plain text only")));
        alice.Input.Close();
        Assert.That(alice.WaitForExit(ExitTimeout), Is.Zero, alice.Transcript);
        classic.Signal(RunningProcess.SigTerm);
        Assert.That(classic.WaitForExit(ExitTimeout), Is.Zero);
    }

    private static string NextEvent(RawClient client) => client.ReadUntil(p => p.Sender == RichMode.EventSender).Text;

    private static long FramesIn(TestServer server) =>
        long.Parse(FramesInField().Match(server.Operator("/stats").Single()).Groups[1].Value, CultureInfo.InvariantCulture);


    [GeneratedRegex(@" frames_in=(\d+) ")]
    private static partial Regex FramesInField();
}
