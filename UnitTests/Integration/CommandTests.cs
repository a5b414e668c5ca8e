using System.Text;
using PollChat.Common.Protocol;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>Every slash command end to end over loopback: what it does, its errors, and what others see.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class CommandTests
{

    /// <summary>Sent by the client itself; a person never types them, so Tab does not offer them.</summary>
    private static readonly string[] ClientProtocolCommands = ["/rich", "/file"];

    private static readonly string[] AllCommands = ["/help", "/users", "/join", "/leave", "/rooms", "/topic", "/history", "/search", "/msg", "/reply", "/me", "/nick", "/away", "/back", "/ignore", "/unignore", "/file", "/whois", "/quit", "/register", "/login", "/passwd", "/unregister", "/rich"];

    [Test]
    public void Help_lists_every_command_with_one_line_each()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");

        alice.Send("/help");

        Assert.That(alice.ReadPair().Text, Does.StartWith("Commands"));
        var lines = Enumerable.Range(0, AllCommands.Length).Select(_ => alice.ReadPair().Text).ToList();
        Assert.That(lines.Select(l => l.Split(' ')[0].TrimEnd(':')),
            Is.EqualTo(AllCommands));
        Assert.That(lines[1], Is.EqualTo("/users: who is in your room and who is online (also /who, /names)"));
        alice.Send("/whois alice"); // Had /help listed more, its next line would come before this answer.
        Assert.That(alice.ReadPair().Text, Does.StartWith("alice: online for"));
    }

    [Test]
    public void PollClient_completes_every_command_the_server_lists()
    {
        using var server = TestServer.Start();
        using var alice = RawClient.Join(server.EndPoint, "alice");

        alice.Send("/help"); // The admins' commands are checked where an admin can see them (ModerationTests).
        alice.Send("/whois alice");
        List<string> listed = [];
        for ((string Sender, string Text) pair = alice.ReadPair(); !pair.Text.StartsWith("alice: online for", StringComparison.Ordinal); pair = alice.ReadPair())
        {
            if (pair.Text.StartsWith('/'))
            {
                listed.Add(pair.Text.Split(' ', ':')[0]);
            }
        }

        Assert.That(listed, Has.Count.EqualTo(AllCommands.Length));
        Assert.That(listed.Except(ClientProtocolCommands), Is.SubsetOf(PollChat.Client.Terminal.ClientCommands.Names));
    }

    [TestCase("/users")]
    [TestCase("/who")]
    [TestCase("/NAMES")]
    public void Users_and_its_aliases_list_everyone_online_in_order(string command)
    {
        using var chat = ChatRoom.Start(["carol", "alice", "Bob"]);
        var (carol, alice, bob) = chat;

        alice.Send(command);

        Assert.That(alice.ReadNotice("Online").Text, Is.EqualTo("Online (3): alice, Bob, carol"));
    }

    [Test]
    public void A_private_message_reaches_only_its_recipient_and_is_echoed_to_its_sender()
    {
        using var chat = ChatRoom.Start(3);
        var (alice, bob, carol) = chat;

        alice.Send("/msg BOB meet at noon");

        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice (private)", "meet at noon")));
        Assert.That(alice.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("to bob (private)", "meet at noon")));
        alice.Send("public sentinel");
        Assert.That(carol.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice", "public sentinel")));
    }

    [TestCase("/msg nobody hello", "No user named 'nobody' is online")]
    [TestCase("/msg bob", "Usage: /msg <user> <text>")]
    [TestCase("/msg", "Usage: /msg <user> <text>")]
    [TestCase("/reply hello", "Nobody has sent you a private message yet")]
    [TestCase("/me", "Usage: /me <action>")]
    [TestCase("/whois", "Usage: /whois <user>")]
    [TestCase("/whois ghost", "No user named 'ghost' is online")]
    [TestCase("/nick", "Name not changed: usage: /nick <newname>")]
    [TestCase("/nick two words", "Name not changed: the name contains a space, a control character or an invisible character")]
    [TestCase("/nick *server*", "Name not changed: names starting with '*' are reserved for the server")]
    [TestCase("/nick BOB", "Name not changed: the name 'BOB' is already taken")]
    [TestCase("/back", "You were not marked as away")]
    [TestCase("/ignore", "You are not ignoring anyone")]
    [TestCase("/ignore alice", "Not ignored: you cannot ignore yourself")]
    [TestCase("/ignore two words", "Not ignored: the name contains a space, a control character or an invisible character")]
    [TestCase("/unignore", "Usage: /unignore <user>")]
    [TestCase("/unignore bob", "You were not ignoring bob")]
    public void A_command_used_wrongly_gets_one_clear_notice_and_nothing_is_relayed(string line, string notice)
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.Send(line);

        Assert.That(alice.ReadUntil(p => p.Text != "bob joined (2 online)"), Is.EqualTo((ServerSender.Name, notice)));
        alice.Send("sentinel");
        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice", "sentinel")));
    }

    [Test]
    public void Reply_answers_whoever_sent_the_last_private_message()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.Send("/msg bob ping");
        bob.ReadUntil(p => p.Sender == "alice (private)");
        bob.Send("/reply pong");

        Assert.That(alice.ReadUntil(p => p.Sender == "bob (private)").Text, Is.EqualTo("pong"));
    }

    [Test]
    public void Me_is_relayed_as_an_action_from_a_name_no_user_can_take()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.Send("/me waves");

        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("* alice", "waves")));
    }

    [Test]
    public void Nick_renames_announces_and_frees_the_old_name()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.Send("/nick alicia");

        Assert.That(bob.ReadNotice("alice is now").Text, Is.EqualTo("alice is now known as alicia"));
        Assert.That(alice.ReadNotice("alice is now").Text, Is.EqualTo("alice is now known as alicia"));
        alice.Send("new name, same me");
        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alicia", "new name, same me")));
        using var newcomer = RawClient.Join(chat.EndPoint, "alice");
        alice.Send("/users");
        Assert.That(alice.ReadNotice("Online").Text, Is.EqualTo("Online (3): alice, alicia, bob"));
    }

    [Test]
    public void Away_answers_private_messages_until_back()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        bob.Send("/away at lunch");
        Assert.That(bob.ReadNotice("You are marked").Text, Is.EqualTo("You are marked as away: at lunch. Type /back when you return."));
        alice.Send("/msg bob hungry?");
        Assert.That(alice.ReadNotice("bob is away").Text, Is.EqualTo("bob is away: at lunch"));

        bob.Send("/back");
        Assert.That(bob.ReadNotice("Welcome back").Text, Is.EqualTo("Welcome back; you are no longer marked as away"));
        alice.Send("/msg bob still?");
        Assert.That(alice.ReadUntil(p => p.Sender == "to bob (private)").Text, Is.EqualTo("still?"));
        alice.Send("/whois bob");
        Assert.That(alice.ReadNotice("bob:").Text, Does.Match(@"^bob: online for \d+s, idle for \d+s$"));
    }

    [Test]
    public void Whois_shows_how_long_online_idle_and_the_away_text()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;
        bob.Send("/away brb");
        bob.ReadNotice("You are marked");

        alice.Send("/whois BOB");

        Assert.That(alice.ReadNotice("bob:").Text, Does.Match(@"^bob: online for \d+s, idle for \d+s, away: brb$"));
    }

    [Test]
    public void Whois_idle_time_counts_what_was_said_not_commands()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;
        bob.Send("/me stretches");
        alice.ReadUntil(p => p.Sender == "* bob");

        chat.Server.SkipAhead(TimeSpan.FromSeconds(1.5)); // Idle time passes on the server's clock: whois counts whole seconds.
        bob.Send("/whois alice");
        bob.ReadNotice("alice:");
        alice.Send("/whois bob");

        Assert.That(alice.ReadNotice("bob:").Text, Does.Match(@"^bob: online for \d+s, idle for [1-9]\d*s$"));
        bob.Send("said something");
        alice.ReadUntil(p => p.Sender == "bob");
        alice.Send("/whois bob");
        Assert.That(alice.ReadNotice("bob:").Text, Does.Match(@"^bob: online for \d+s, idle for 0s$"));
    }

    [Test]
    public void Control_characters_never_reach_another_user()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.SendBytes(PollChat.Common.Framing.Frame.Encode((ReadOnlySpan<byte>)Encoding.UTF8.GetBytes("hi\u001b[31mred\u0007\tok\u009b2J\r")));
        alice.Send("/msg bob \u001b]0;pwned\u0007psst");

        Assert.That(bob.ReadUntil(p => p.Sender == "alice"), Is.EqualTo(("alice", "hi[31mred\tok2J")));
        Assert.That(bob.ReadUntil(p => p.Sender == "alice (private)").Text, Is.EqualTo("]0;pwnedpsst"));
    }

    [Test]
    public void Ignore_hides_someones_messages_actions_and_private_messages_until_unignore()
    {
        using var chat = ChatRoom.Start(3);
        var (alice, bob, carol) = chat;

        bob.Send("/ignore ALICE");
        Assert.That(bob.ReadNotice("You are ignoring").Text, Is.EqualTo("You are ignoring ALICE: you will not see their messages, actions or private messages. /unignore ALICE undoes it."));
        alice.Send("can you hear me");
        alice.Send("/me waves");
        alice.Send("/msg bob psst");
        Assert.That(alice.ReadUntil(p => p.Sender == "to bob (private)").Text, Is.EqualTo("psst"));
        Assert.That(carol.ReadUntil(p => p.Sender == "* alice").Text, Is.EqualTo("waves")); // Relayed by now, to those not ignoring.
        carol.Send("sentinel");
        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("carol", "sentinel")));
        bob.Send("/ignore");
        Assert.That(bob.ReadNotice("You are ignoring (").Text, Is.EqualTo("You are ignoring (1): ALICE"));

        bob.Send("/unignore alice");
        Assert.That(bob.ReadNotice("You are no").Text, Is.EqualTo("You are no longer ignoring alice"));
        alice.Send("and now?");
        Assert.That(bob.ReadUntil(p => p.Sender != ServerSender.Name), Is.EqualTo(("alice", "and now?")));
    }
}
