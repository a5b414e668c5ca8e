using System.Text;
using PollChat.Common.Framing;
using PollChat.Server.Storage;

namespace PollChat.Tests.Unit;

/// <summary>The history hand-off ring, and the bound the loop reads clients by: what it promises fits does fit.</summary>
[TestFixture]
public sealed class PersistRingTests
{
    [Test]
    public void Free_and_used_bytes_follow_writes_and_reads_across_the_wrap()
    {
        var ring = new PersistRing(120);
        byte[] text = new byte[30];
        int record = PersistRing.RecordBytes(Encoding.UTF8.GetByteCount("#r"), Encoding.UTF8.GetByteCount("al"), text.Length);
        Assert.That(record, Is.EqualTo(50));

        Assert.That(ring.TryWrite(1, "#r", "al", text), Is.True);
        Assert.That(ring.TryWrite(2, "#r", "al", text), Is.True);
        Assert.That((ring.FreeBytes, ring.UsedBytes), Is.EqualTo((20, 100)));
        Assert.That(ring.TryWrite(3, "#r", "al", text), Is.False, "the third does not fit at the end, nor wrapped while the first is unread");
        Assert.That(ring.TryRead(out StoredMessage first), Is.True);
        Assert.That(first.UtcTime, Is.EqualTo(DateTimeOffset.FromUnixTimeMilliseconds(1).UtcDateTime));

        Assert.That(ring.TryWrite(3, "#r", "al", text), Is.True, "wrapped to the start");
        Assert.That((ring.FreeBytes, ring.UsedBytes), Is.EqualTo((0, 120)), "the 20 bytes skipped at the end count as used until read past");
        Assert.That(ring.TryRead(out _), Is.True);
        Assert.That(ring.TryRead(out StoredMessage third), Is.True);
        Assert.That(third.UtcTime, Is.EqualTo(DateTimeOffset.FromUnixTimeMilliseconds(3).UtcDateTime));
        Assert.That((ring.FreeBytes, ring.UsedBytes), Is.EqualTo((120, 0)));
    }

    [TestCase(65536, 34, 32)]
    [TestCase(1000, 1026, 32)]
    [TestCase(20, 3, 2)]
    public void Every_message_decoded_from_input_the_bound_allows_fits_in_the_ring_wherever_the_ring_stands(int maxMessage, int maxSender, int maxRoom)
    {
        var bound = new ReadBound(maxMessage, maxSender, maxRoom);
        var random = new Random(12);
        string room = "#" + new string('r', maxRoom - 1);
        string sender = new('s', maxSender);
        byte[] text = new byte[maxMessage];
        for (int round = 0; round < 300; round++)
        {
            int capacity = random.Next(10, 60) * (int)bound.RingBytesFor(FrameHeader.Length + maxMessage) / 10;
            var ring = new PersistRing(capacity);
            int filler = random.Next(PersistRing.RecordOverheadBytes, capacity / 2); // Puts the writing position anywhere, the wrap near or far.
            Assert.That(ring.TryWrite(0, "", "", text.AsSpan(0, Math.Min(maxMessage, filler - PersistRing.RecordOverheadBytes))), Is.True);
            while (random.Next(3) > 0 && ring.TryWrite(0, room, sender, text.AsSpan(0, random.Next(1, maxMessage + 1))))
            {
            }

            // Frames of the worst kind the input allows: mostly the smallest, some the largest, with the longest room and sender.
            long input = bound.InputFitting(ring.FreeBytes);
            while (input >= FrameHeader.Length + 1)
            {
                int payload = random.Next(4) == 0 ? (int)Math.Min(maxMessage, input - FrameHeader.Length) : 1;
                Assert.That(ring.TryWrite(0, room, sender, text.AsSpan(0, payload)), Is.True, $"round {round}: capacity {capacity}");
                input -= FrameHeader.Length + payload;
            }
        }
    }

    [Test]
    public void The_bound_and_its_inverse_agree()
    {
        var bound = new ReadBound(65536, 34, 32);
        foreach (long free in new long[] { 0, 1000, 65_618, 65_619, 200_000, 1_234_567, 8 * 1024 * 1024 })
        {
            long input = bound.InputFitting(free);
            Assert.That(input == 0 || bound.RingBytesFor(input) <= free, Is.True, $"{input} bytes of input need at most {free}");
            Assert.That(bound.RingBytesFor(input + 12), Is.GreaterThan(free), "and the inverse is not needlessly small");
        }
    }
}
