using PollChat.Tests.Support;

namespace PollChat.Tests.Integration;

/// <summary>The <see cref="ChatRoom"/> fixture keeps its promise: every client starts quiet, so a test's first read is its own.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ChatRoomTests
{
    [Test]
    public void Every_client_starts_with_nothing_left_to_read_from_the_joins()
    {
        using var chat = ChatRoom.Start(4);
        var (alice, bob, carol, dave) = chat;

        dave.Send("first words");

        Assert.That(alice.ReadPair(), Is.EqualTo(("dave", "first words")), "no welcome or join notice before it");
        Assert.That(bob.ReadPair(), Is.EqualTo(("dave", "first words")));
        Assert.That(carol.ReadPair(), Is.EqualTo(("dave", "first words")));
        alice.Send("/whois dave");
        Assert.That(alice.ReadPair().Text, Does.StartWith("dave: online for"), "nor after it");
        Assert.That(chat["carol"], Is.SameAs(carol));
        Assert.That(chat.Clients, Has.Count.EqualTo(4));
    }

    [Test]
    public void Deconstructing_into_the_wrong_number_of_clients_is_a_mistake_not_a_shorter_list()
    {
        using var chat = ChatRoom.Start(3);

        Assert.Throws<InvalidOperationException>(() =>
        {
            var (alice, bob) = chat;
        });
    }
}
