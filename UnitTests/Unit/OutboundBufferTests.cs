using PollChat.Server;

namespace PollChat.Tests.Unit;

/// <summary>A client's output buffer: it grows for a backlog, never past its limit, and the server's count of output memory follows every array.</summary>
[TestFixture]
public sealed class OutboundBufferTests
{
    private const int Limit = 100_000;

    [Test]
    public void A_backlog_grows_the_array_up_to_the_limit_and_never_past_it()
    {
        var memory = new OutputMemory();
        var buffer = new OutboundBuffer(memory);
        byte[] chunk = new byte[3000];
        int appended = 0;
        while (buffer.TryAppend(chunk, Limit))
        {
            appended++;
        }

        Assert.Multiple(() =>
        {
            Assert.That(appended, Is.EqualTo(Limit / chunk.Length), "appends stop at the limit");
            Assert.That(buffer.Capacity, Is.LessThanOrEqualTo(Limit), "doubling stops at the limit: 65,536 doubled would be 131,072");
            Assert.That(buffer.Capacity, Is.GreaterThanOrEqualTo(buffer.PendingCount));
            Assert.That(memory.Held, Is.EqualTo(buffer.Capacity), "the count is the array's size, not what is pending in it");
        });
    }

    [Test]
    public void Growth_is_told_before_it_happens_and_clearing_gives_the_count_back()
    {
        var memory = new OutputMemory();
        var first = new OutboundBuffer(memory);
        var second = new OutboundBuffer(memory);
        Assert.That(first.GrowthFor(10, Limit), Is.EqualTo(2048), "the first array is 2 KiB");
        first.TryAppend(new byte[10], Limit);
        Assert.That(first.GrowthFor(10, Limit), Is.Zero, "it fits");
        Assert.That(first.GrowthFor(Limit, Limit), Is.Zero, "refused appends grow nothing");
        second.TryAppend(new byte[5000], Limit);
        Assert.That(memory.Held, Is.EqualTo(2048 + 5000));

        first.Consume(10);
        first.SweepIfIdle(); // Used since the last sweep: kept.
        Assert.That(memory.Held, Is.EqualTo(2048 + 5000));
        first.SweepIfIdle(); // Idle for a whole sweep: let go.
        second.Clear();
        Assert.Multiple(() =>
        {
            Assert.That(memory.Held, Is.Zero);
            Assert.That(memory.Peak, Is.EqualTo(2048 + 5000), "the peak stays until reset, so the server knows what was let go");
        });
    }

    [Test]
    public void A_refused_append_queues_nothing_so_what_was_pending_goes_out_whole()
    {
        var buffer = new OutboundBuffer(new OutputMemory());
        Assert.That(buffer.TryAppend("first "u8, 10), Is.True);

        Assert.That(buffer.TryAppend("second"u8, 10), Is.False, "6 + 6 pending would pass the 10-byte limit");
        Assert.That(buffer.Pending.ToArray(), Is.EqualTo("first "u8.ToArray()), "not a byte of the refused one");
        Assert.That(buffer.TryAppend("four"u8, 10), Is.True, "up to the limit exactly is allowed");
    }

    [Test]
    public void Bytes_sent_from_the_front_make_room_without_a_larger_array_and_the_order_holds()
    {
        var memory = new OutputMemory();
        var buffer = new OutboundBuffer(memory);
        byte[] first = [.. Enumerable.Range(0, 1500).Select(i => (byte)i)];
        byte[] second = [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 7))];
        buffer.TryAppend(first, Limit);
        buffer.Consume(1000); // The socket took the first 1,000 bytes.

        Assert.That(buffer.GrowthFor(second.Length, Limit), Is.Zero, "500 pending and 1,000 more fit in the 2 KiB once the front is dropped");
        Assert.That(buffer.TryAppend(second, Limit), Is.True);
        Assert.That(buffer.Capacity, Is.EqualTo(2048), "moved to the front, not grown");
        Assert.That(memory.Held, Is.EqualTo(2048));
        Assert.That(buffer.Pending.ToArray(), Is.EqualTo(first[1000..].Concat(second).ToArray()), "the unsent bytes first, then the new ones");
    }

    [Test]
    public void Growing_keeps_the_unsent_bytes_in_order_and_a_large_first_append_gets_just_its_size()
    {
        var memory = new OutputMemory();
        var buffer = new OutboundBuffer(memory);
        byte[] large = [.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 3))];
        buffer.TryAppend(large, Limit);
        Assert.That(buffer.Capacity, Is.EqualTo(5000), "more than the first 2 KiB: exactly what it needs");

        buffer.Consume(100);
        buffer.TryAppend(large, Limit);
        Assert.That(buffer.Capacity, Is.EqualTo(10_000), "doubled");
        Assert.That(memory.Held, Is.EqualTo(10_000), "the count follows the new array, the old one given back");
        Assert.That(buffer.Pending.ToArray(), Is.EqualTo(large[100..].Concat(large).ToArray()));
    }

    [Test]
    public void A_sweep_never_takes_the_array_from_bytes_still_pending()
    {
        var memory = new OutputMemory();
        var buffer = new OutboundBuffer(memory);
        buffer.TryAppend("not yet sent"u8, Limit);
        buffer.SweepIfIdle();
        buffer.SweepIfIdle(); // A reader that stopped reading: idle, yet its output is still owed.

        Assert.That(buffer.Pending.ToArray(), Is.EqualTo("not yet sent"u8.ToArray()));
        Assert.That(memory.Held, Is.EqualTo(2048));
        buffer.Consume(buffer.PendingCount);
        Assert.That(buffer.HasPending, Is.False);
        buffer.SweepIfIdle();
        Assert.That((buffer.Capacity, memory.Held), Is.EqualTo((0, 0L)), "once sent and idle for a sweep, let go");
    }
}
