using Microsoft.Data.Sqlite;
using PollChat.Server;
using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>Display spoofing through the server (issue 12, item 9): the display policy on every text, the name policy and look-alike names.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SpoofingTests
{
    [Test]
    public void Bidi_overrides_and_invisible_characters_arrive_neutralised_in_messages_actions_and_private_messages()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.Send("see invoice\u202efdp.exe\u200b, 👨\u200d👩\u200d👧");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice"), Is.EqualTo(("alice", "see invoicefdp.exe, 👨\u200d👩\u200d👧")));

        alice.Send("/me sends \u2067gnp.js\u2069");
        Assert.That(bob.ReadUntil(p => p.Sender == "* alice"), Is.EqualTo(("* alice", "sends gnp.js")));

        alice.Send("/msg bob \ufeffpay\u3164pal\U000E0041");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice (private)"), Is.EqualTo(("alice (private)", "paypal")));
    }

    [Test]
    public void A_topic_with_an_override_is_shown_without_it()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.Send("/topic release \u202e1.0");

        Assert.That(bob.ReadNotice("alice set the topic").Text, Is.EqualTo("alice set the topic of #lobby: release 1.0"));
    }

    [Test]
    public void A_name_with_a_cyrillic_a_is_refused_beside_alice_who_keeps_chatting()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;
        using var impostor = RawClient.Connect(chat.EndPoint);

        impostor.Send("\u0430lice");

        Assert.That(impostor.ReadPair().Text, Does.StartWith("Name rejected: the name mixes scripts"));
        Assert.That(impostor.WaitForEndOfStream(), Is.True);
        alice.Send("still here");
        Assert.That(bob.ReadUntil(p => p.Sender == "alice"), Is.EqualTo(("alice", "still here")));
    }

    [Test]
    public void A_whole_script_look_alike_of_an_online_name_is_refused_and_can_be_had_once_the_name_is_free()
    {
        using var server = TestServer.Start();
        using var watcher = RawClient.Join(server.EndPoint, "watcher");
        const string CyrillicPop = "\u0440\u043e\u0440"; // "рор": each letter Cyrillic, so one script, yet it reads "pop".
        using (RawClient pop = RawClient.Join(server.EndPoint, "pop"))
        {
            using var impostor = RawClient.Connect(server.EndPoint);
            impostor.Send(CyrillicPop);

            Assert.That(impostor.ReadPair().Text, Is.EqualTo($"Name rejected: the name '{CyrillicPop}' looks like 'pop', which is taken"));
            Assert.That(impostor.WaitForEndOfStream(), Is.True);
        }

        watcher.ReadNotice("pop left");
        using var later = RawClient.Join(server.EndPoint, CyrillicPop);
        Assert.That(watcher.ReadNotice($"{CyrillicPop} joined").Text, Does.StartWith($"{CyrillicPop} joined"));
    }

    [Test]
    public void Nick_to_a_look_alike_of_an_online_name_is_refused()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        bob.Send("/nick ALİCE");

        Assert.That(bob.ReadNotice("Name not changed").Text, Is.EqualTo("Name not changed: the name 'ALİCE' looks like 'alice', which is taken"));
    }

    [Test]
    public void A_room_name_that_mixes_scripts_is_refused_and_a_look_alike_room_is_the_same_room()
    {
        using var chat = ChatRoom.Start(2);
        var (alice, bob) = chat;

        alice.Send("/join #l\u043ebby");
        Assert.That(alice.ReadNotice("Cannot join").Text, Does.StartWith("Cannot join: a room name uses the letters of one script"));

        alice.Send("/join #pop");
        alice.ReadNotice("You are now in #pop");
        bob.Send("/join #\u0440\u043e\u0440");
        Assert.That(bob.ReadNotice("You are now in").Text, Is.EqualTo("You are now in #pop (2 members)"));
    }

    [Test]
    public void Two_stored_accounts_that_look_alike_do_not_stop_the_server_and_the_first_keeps_its_name()
    {
        string directory = TestServer.NewDataDirectory();
        try
        {
            using (var server = TestServer.Start(new ServerOptions { DataDirectory = directory }))
            {
                using var bob = RawClient.Join(server.EndPoint, "bob");
                bob.Send("/register bobs password");
                bob.ReadNotice("Registered");
            }

            // Registered before look-alikes were compared: the same password under the name "b0b".
            using (var database = new SqliteConnection($"Data Source={Path.Combine(directory, "pollchat.db")};Pooling=False"))
            {
                database.Open();
                using SqliteCommand copy = database.CreateCommand();
                copy.CommandText = "INSERT INTO accounts(name, salt, hash, iterations, admin, created_at) SELECT 'b0b', salt, hash, iterations, admin, created_at FROM accounts WHERE name = 'bob'";
                Assert.That(copy.ExecuteNonQuery(), Is.EqualTo(1));
            }

            using var restarted = TestServer.Start(new ServerOptions { DataDirectory = directory });
            using var owner = RawClient.Connect(restarted.EndPoint);
            owner.Send("bob");
            owner.ReadNotice("Welcome");
            owner.ReadNotice("The name bob is registered");
            owner.Send("/login bobs password");
            Assert.That(owner.ReadPair().Text, Is.EqualTo("Logged in as bob"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
