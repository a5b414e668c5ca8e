using System.Text;
using PollChat.Server;

namespace PollChat.Tests.Unit;

/// <summary>A room's ring of last messages: oldest first, bounded, copied in, and reusing its arrays once it has wrapped.</summary>
[TestFixture]
public sealed class RoomHistoryTests
{
    private static readonly DateTime Noon = new(2026, 11, 2, 12, 0, 0, DateTimeKind.Utc);
    private static readonly string[] LastThree = ["message 2", "message 3", "message 4"];

    [Test]
    public void Last_gives_the_newest_messages_oldest_first_and_no_more_than_there_are()
    {
        var history = new RoomHistory();
        Assert.That(history.Last(20), Is.Empty, "a new room has nothing to replay");
        for (int i = 0; i < 5; i++)
        {
            history.Add(Noon.AddMinutes(i), "alice", Text($"message {i}"));
        }

        Assert.That(Texts(history.Last(3)), Is.EqualTo(LastThree));
        Assert.That(Texts(history.Last(20)), Has.Length.EqualTo(5), "fewer if the room has fewer");
        Assert.That(history.Last(0), Is.Empty);
        Assert.That(history.LastUtcTime, Is.EqualTo(Noon.AddMinutes(4)));
    }

    [Test]
    public void Past_the_capacity_the_oldest_go_and_order_holds_across_the_wrap()
    {
        var history = new RoomHistory();
        const int Said = RoomHistory.Capacity + 37;
        for (int i = 0; i < Said; i++)
        {
            history.Add(Noon.AddSeconds(i), i % 2 == 0 ? "alice" : "* bob", Text($"message {i}"));
        }

        RoomHistory.Entry[] kept = [.. history.Last(int.MaxValue)];
        Assert.That(kept, Has.Length.EqualTo(RoomHistory.Capacity));
        Assert.That(Texts(kept), Is.EqualTo(Enumerable.Range(Said - RoomHistory.Capacity, RoomHistory.Capacity).Select(i => $"message {i}")));
        Assert.That(kept.Select(e => e.UtcTime), Is.Ordered, "oldest first, whichever slot the ring started from");
        Assert.That(kept[^1].Sender, Is.EqualTo("alice"), "message 136: even, alice's");
        Assert.That(kept[^2].Sender, Is.EqualTo("* bob"), "an action keeps its sender as shown");
    }

    [Test]
    public void A_message_is_copied_in_so_the_receive_buffer_it_came_from_can_be_reused()
    {
        var history = new RoomHistory();
        byte[] receiveBuffer = Text("hello");
        history.Add(Noon, "alice", receiveBuffer);
        "HELLO"u8.CopyTo(receiveBuffer);

        Assert.That(Texts(history.Last(1)).Single(), Is.EqualTo("hello"));
    }

    [Test]
    public void Once_wrapped_a_slot_keeps_its_array_for_a_shorter_message_and_grows_it_for_a_longer_one()
    {
        var history = new RoomHistory();
        for (int i = 0; i < RoomHistory.Capacity; i++)
        {
            history.Add(Noon, "alice", Text(new string('a', 100)));
        }

        RoomHistory.Entry oldest = history.Last(RoomHistory.Capacity).First();
        byte[] array = oldest.Text;
        history.Add(Noon, "bob", Text("short")); // Goes into the oldest's slot.

        RoomHistory.Entry newest = history.Last(1).Single();
        Assert.That(newest, Is.SameAs(oldest), "the slot's entry is reused");
        Assert.That(newest.Text, Is.SameAs(array), "and so is its array: storing a message allocated nothing");
        Assert.That(Texts([newest]).Single(), Is.EqualTo("short"), "only the new length counts, not the old bytes after it");

        RoomHistory.Entry next = history.Last(RoomHistory.Capacity).First();
        history.Add(Noon, "carol", Text(new string('c', 1000)));
        Assert.That(next.Text, Has.Length.GreaterThanOrEqualTo(1000), "a longer message gets a larger array");
        Assert.That(Texts(history.Last(1)).Single(), Is.EqualTo(new string('c', 1000)));
    }

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    private static string[] Texts(IEnumerable<RoomHistory.Entry> entries) =>
        [.. entries.Select(e => Encoding.UTF8.GetString(e.Text, 0, e.Length))];
}
