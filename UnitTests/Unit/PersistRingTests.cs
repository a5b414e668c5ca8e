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

    [TestCase(0)]
    [TestCase(2)]
    [TestCase(4)]
    public void A_tail_too_short_for_a_record_is_skipped_whether_or_not_the_wrap_mark_fits_in_it(int tail)
    {
        byte[] text = new byte[30]; // 50-byte records with the room "#r" and the sender "al".
        var ring = new PersistRing(100 + tail);
        Assert.That(ring.TryWrite(1, "#r", "al", text), Is.True);
        Assert.That(ring.TryWrite(2, "#r", "al", text), Is.True);
        Assert.That(ring.TryRead(out _), Is.True);

        Assert.That(ring.TryWrite(3, "#r", "al", "third"u8), Is.True, $"the third goes at the start, past the {tail} bytes left at the end");
        Assert.That(ring.TryRead(out StoredMessage second), Is.True);
        Assert.That(ring.TryRead(out StoredMessage third), Is.True, tail switch { 0 => "the second ended where the array does", < 4 => "no room for a mark: a tail too short to hold a length is skipped by its size", _ => "the mark says skip" });
        Assert.That((second.UtcTime, third.Text), Is.EqualTo((DateTimeOffset.FromUnixTimeMilliseconds(2).UtcDateTime, "third")));
        Assert.That(ring.TryRead(out _), Is.False, "and nothing more");
        Assert.That(ring.UsedBytes, Is.Zero);
    }

    [Test]
    public void A_message_comes_out_as_it_went_in_whatever_its_characters()
    {
        var ring = new PersistRing(1000);
        Assert.That(ring.TryRead(out _), Is.False, "an empty ring has nothing to read");
        Assert.That(ring.TryWrite(1_700_000_000_123, "#café", "* zoë", Encoding.UTF8.GetBytes("naïve ☕ 🎉")), Is.True);

        Assert.That(ring.TryRead(out StoredMessage message), Is.True);
        Assert.That(message, Is.EqualTo(new StoredMessage("#café", "* zoë", "naïve ☕ 🎉", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123).UtcDateTime)));
        Assert.That(ring.UsedBytes, Is.Zero);
    }

    [Test]
    public void A_message_larger_than_the_whole_ring_is_refused_and_leaves_it_as_it_was()
    {
        var ring = new PersistRing(100);
        Assert.That(ring.TryWrite(1, "#r", "al", new byte[81]), Is.False, "101 bytes in a 100-byte ring");
        Assert.That((ring.FreeBytes, ring.UsedBytes), Is.EqualTo((100L, 0L)));
        Assert.That(ring.TryWrite(1, "#r", "al", new byte[80]), Is.True, "exactly the ring's size fits");
        Assert.That(ring.FreeBytes, Is.Zero);
    }
}
