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
}
