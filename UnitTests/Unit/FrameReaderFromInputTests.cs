using PollChat.Common.Framing;

namespace PollChat.Tests.Unit;

/// <summary><see cref="FrameReader.TryReadFrom"/>: the server's path, decoding straight out of a shared receive buffer.</summary>
[TestFixture]
public sealed class FrameReaderFromInputTests
{
    private static readonly int[] Seeds = [1, 2, 3, 7, 42, 1234, 99991, 20240601];

    [Test]
    public void Random_frames_round_trip_in_order_whatever_the_split([ValueSource(nameof(Seeds))] int seed, [Values(1, 7, 64, 4096, 0)] int maxChunk)
    {
        var rng = new Random(seed);
        List<byte[]> sent = [.. Enumerable.Range(0, 200).Select(_ => RandomPayload(rng))];
        byte[] stream = [.. sent.SelectMany(p => Frame.Encode((ReadOnlySpan<byte>)p))];
        var reader = new FrameReader();
        var received = new List<byte[]>();

        for (int offset = 0; offset < stream.Length;)
        {
            int size = maxChunk == 0 ? stream.Length : rng.Next(1, maxChunk + 1);
            size = Math.Min(size, stream.Length - offset);
            ReadOnlySpan<byte> input = stream.AsSpan(offset, size);
            offset += size;
            FrameReadStatus status;
            while ((status = reader.TryReadFrom(ref input, 5000, out ReadOnlySpan<byte> payload, out _, out _)) == FrameReadStatus.Frame)
            {
                received.Add(payload.ToArray());
            }

            Assert.That(status, Is.EqualTo(FrameReadStatus.NeedMoreData), $"seed {seed}, chunk {maxChunk}");
            Assert.That(input.IsEmpty, Is.True, "NeedMoreData must have taken all of the input");
        }

        Assert.That(received, Is.EqualTo(sent), $"seed {seed}, chunk {maxChunk}");
        Assert.That(reader.BufferedCount, Is.Zero);
    }

    [Test]
    public void A_frame_wholly_inside_the_input_is_returned_in_place_without_copying()
    {
        byte[] stream = [.. Frame.Encode("hello"u8), .. Frame.Encode("world"u8)];
        ReadOnlySpan<byte> input = stream;
        var reader = new FrameReader();

        Assert.That(reader.TryReadFrom(ref input, 100, out ReadOnlySpan<byte> first, out _, out _), Is.EqualTo(FrameReadStatus.Frame));
        bool inPlace = first.Overlaps(stream);

        Assert.That(inPlace, Is.True);
        Assert.That(input.Length, Is.EqualTo(15));
    }

    [Test]
    public void A_header_split_across_receives_is_judged_as_soon_as_its_ten_bytes_are_in()
    {
        var reader = new FrameReader();
        ReadOnlySpan<byte> first = "9999"u8;
        ReadOnlySpan<byte> second = "9     and the payload would follow"u8;

        Assert.That(reader.TryReadFrom(ref first, 100, out _, out _, out _), Is.EqualTo(FrameReadStatus.NeedMoreData));
        FrameReadStatus status = reader.TryReadFrom(ref second, 100, out _, out FrameError error, out int declared);

        Assert.That(status, Is.EqualTo(FrameReadStatus.Invalid));
        Assert.That(error, Is.EqualTo(FrameError.LengthOverLimit));
        Assert.That(declared, Is.EqualTo(99999));
    }

    [Test]
    public void A_partial_frame_takes_only_the_bytes_it_lacks_and_leaves_the_next_frame_in_the_input()
    {
        var reader = new FrameReader();
        ReadOnlySpan<byte> first = "5         he"u8;
        Assert.That(reader.TryReadFrom(ref first, 100, out _, out _, out _), Is.EqualTo(FrameReadStatus.NeedMoreData));

        ReadOnlySpan<byte> second = "llo3         abc"u8;
        Assert.That(reader.TryReadFrom(ref second, 100, out ReadOnlySpan<byte> joined, out _, out _), Is.EqualTo(FrameReadStatus.Frame));
        Assert.That(joined.ToArray(), Is.EqualTo("hello"u8.ToArray()));
        Assert.That(second.ToArray(), Is.EqualTo("3         abc"u8.ToArray()));
    }

    private static byte[] RandomPayload(Random rng)
    {
        byte[] payload = new byte[rng.Next(0, 3000)];
        rng.NextBytes(payload);
        return payload;
    }
}
