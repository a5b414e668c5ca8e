using System.Text;
using PollChat.Common.Framing;

namespace PollChat.Tests.Unit;

[TestFixture]
public sealed class FrameReaderTests
{
    /// <summary>How bytes are handed to the reader.</summary>
    public enum FeedMode
    {
        /// <summary>Through <see cref="FrameReader.Append"/>.</summary>
        Append,

        /// <summary>Through <see cref="FrameReader.GetReceiveSpan"/> and <see cref="FrameReader.CommitReceived"/>, as a socket would.</summary>
        ReceiveSpan,

        /// <summary>Each feed picks one of the two at random.</summary>
        Mixed,
    }

    /// <summary>How the stream is cut into feeds.</summary>
    public enum SplitMode
    {
        OneByteAtATime,
        EverythingAtOnce,
        RandomSizes,
    }

    private const int MaxRandomPayload = 3000;

    private static readonly int[] Seeds = [1, 2, 3, 7, 42, 1234, 99991, 20240601];

    [Test]
    public void Random_frames_round_trip_in_order_whatever_the_split_and_the_feed(
        [ValueSource(nameof(Seeds))] int seed,
        [Values] FeedMode mode,
        [Values] SplitMode split)
    {
        var rng = new Random(seed);
        List<byte[]> sent = RandomPayloads(rng);
        byte[] stream = [.. sent.SelectMany(p => Frame.Encode(p))];
        string context = $"seed {seed}, feed {mode}, split {split}, {sent.Count} frames, {stream.Length} bytes";

        var reader = new FrameReader();
        var received = new List<byte[]>();
        int offset = 0;
        while (offset < stream.Length)
        {
            int size = split switch
            {
                SplitMode.OneByteAtATime => 1,
                SplitMode.EverythingAtOnce => stream.Length,
                _ => RandomChunkSize(rng),
            };
            size = Math.Min(size, stream.Length - offset);
            FeedMode feed = mode == FeedMode.Mixed ? (rng.Next(2) == 0 ? FeedMode.Append : FeedMode.ReceiveSpan) : mode;
            Feed(reader, stream.AsSpan(offset, size), feed);
            offset += size;
            Drain(reader, MaxRandomPayload, received, context);
        }

        Assert.That(received, Has.Count.EqualTo(sent.Count), context);
        for (int i = 0; i < sent.Count; i++)
        {
            Assert.That(received[i], Is.EqualTo(sent[i]), $"{context}: frame {i} of length {sent[i].Length} differs");
        }

        Assert.That(reader.BufferedCount, Is.Zero, context);
    }

    [Test]
    public void TryRead_on_an_empty_reader_needs_more_data()
    {
        var reader = new FrameReader();

        FrameReadStatus status = reader.TryRead(100, out ReadOnlySpan<byte> payload, out FrameError error, out int declared);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(FrameReadStatus.NeedMoreData));
            Assert.That(payload.Length, Is.Zero);
            Assert.That(error, Is.EqualTo(FrameError.None));
            Assert.That(declared, Is.Zero);
            Assert.That(reader.BufferedCount, Is.Zero);
        }
    }

    [Test]
    public void A_frame_exactly_at_the_limit_is_read()
    {
        byte[] payload = Filled(100, (byte)'z');
        var reader = new FrameReader();
        reader.Append(Frame.Encode(payload));

        FrameReadStatus status = reader.TryRead(100, out ReadOnlySpan<byte> read, out FrameError error, out int declared);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(FrameReadStatus.Frame));
            Assert.That(error, Is.EqualTo(FrameError.None));
            Assert.That(declared, Is.EqualTo(100));
            Assert.That(read.ToArray(), Is.EqualTo(payload));
            Assert.That(reader.BufferedCount, Is.Zero);
        }
    }

    [Test]
    public void A_frame_one_byte_over_the_limit_is_invalid_with_the_declared_length()
    {
        var reader = new FrameReader();
        reader.Append(Frame.Encode(Filled(101, (byte)'z')));

        FrameReadStatus status = reader.TryRead(100, out _, out FrameError error, out int declared);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(FrameReadStatus.Invalid));
            Assert.That(error, Is.EqualTo(FrameError.LengthOverLimit));
            Assert.That(declared, Is.EqualTo(101));
        }
    }

    [TestCase(FeedMode.Append)]
    [TestCase(FeedMode.ReceiveSpan)]
    public void An_over_limit_header_is_invalid_as_soon_as_its_ten_bytes_are_in_before_any_payload(FeedMode mode)
    {
        var reader = new FrameReader();
        Feed(reader, "99999999  "u8, mode);

        FrameReadStatus status = reader.TryRead(100, out _, out FrameError error, out int declared);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(FrameReadStatus.Invalid));
            Assert.That(error, Is.EqualTo(FrameError.LengthOverLimit));
            Assert.That(declared, Is.EqualTo(99_999_999));
        }
    }

    [Test]
    public void An_over_limit_header_does_not_make_the_receive_span_grow_for_its_payload()
    {
        var reader = new FrameReader();
        reader.Append("99999999  "u8);
        Assert.That(reader.TryRead(100, out _, out _, out _), Is.EqualTo(FrameReadStatus.Invalid));

        int space = reader.GetReceiveSpan().Length;

        Assert.That(space, Is.LessThanOrEqualTo(FrameReader.InitialCapacity));
    }

    [Test]
    public void An_invalid_header_is_only_judged_once_its_tenth_byte_arrives()
    {
        var reader = new FrameReader();
        reader.Append("99999999 "u8);
        FrameReadStatus beforeTenth = reader.TryRead(100, out _, out _, out _);

        reader.Append(" "u8);
        FrameReadStatus afterTenth = reader.TryRead(100, out _, out FrameError error, out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(beforeTenth, Is.EqualTo(FrameReadStatus.NeedMoreData));
            Assert.That(afterTenth, Is.EqualTo(FrameReadStatus.Invalid));
            Assert.That(error, Is.EqualTo(FrameError.LengthOverLimit));
        }
    }

    [Test]
    public void A_header_split_across_feeds_needs_more_data_until_the_frame_is_complete()
    {
        var reader = new FrameReader();

        reader.Append("5   "u8);
        FrameReadStatus partialHeader = reader.TryRead(100, out _, out FrameError partialHeaderError, out _);
        reader.Append("      "u8);
        FrameReadStatus headerOnly = reader.TryRead(100, out _, out _, out _);
        reader.Append("hel"u8);
        FrameReadStatus partialPayload = reader.TryRead(100, out _, out _, out _);
        reader.Append("lo"u8);
        FrameReadStatus complete = reader.TryRead(100, out ReadOnlySpan<byte> payload, out _, out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(partialHeader, Is.EqualTo(FrameReadStatus.NeedMoreData));
            Assert.That(partialHeaderError, Is.EqualTo(FrameError.None));
            Assert.That(headerOnly, Is.EqualTo(FrameReadStatus.NeedMoreData));
            Assert.That(partialPayload, Is.EqualTo(FrameReadStatus.NeedMoreData));
            Assert.That(complete, Is.EqualTo(FrameReadStatus.Frame));
            Assert.That(Encoding.ASCII.GetString(payload), Is.EqualTo("hello"));
            Assert.That(reader.BufferedCount, Is.Zero);
        }
    }

    [Test]
    public void A_partial_header_with_a_bad_byte_is_not_judged_before_it_is_complete()
    {
        var reader = new FrameReader();
        reader.Append("x"u8);

        FrameReadStatus status = reader.TryRead(100, out _, out FrameError error, out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(FrameReadStatus.NeedMoreData));
            Assert.That(error, Is.EqualTo(FrameError.None));
        }
    }

    [TestCase("a         ", FrameError.InvalidCharacter, TestName = "Reader_reports_a_letter_as_an_invalid_character")]
    [TestCase("5\0        ", FrameError.InvalidCharacter, TestName = "Reader_reports_an_embedded_NUL_as_an_invalid_character")]
    [TestCase("-5        ", FrameError.InvalidCharacter, TestName = "Reader_reports_a_minus_sign_as_an_invalid_character")]
    [TestCase("5\r\n       ", FrameError.InvalidCharacter, TestName = "Reader_reports_CR_LF_as_an_invalid_character")]
    [TestCase("05        ", FrameError.NotClassicForm, TestName = "Reader_reports_a_leading_zero_as_not_classic_form")]
    [TestCase("         5", FrameError.NotClassicForm, TestName = "Reader_reports_a_right_justified_length_as_not_classic_form")]
    [TestCase("          ", FrameError.NotClassicForm, TestName = "Reader_reports_all_spaces_as_not_classic_form")]
    [TestCase("9999999999", FrameError.LengthOverLimit, TestName = "Reader_reports_ten_nines_as_over_the_limit")]
    public void The_reader_reports_each_kind_of_bad_header(string header, FrameError expected)
    {
        var reader = new FrameReader();
        reader.Append(Encoding.ASCII.GetBytes(header));

        FrameReadStatus status = reader.TryRead(1000, out _, out FrameError error, out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(FrameReadStatus.Invalid));
            Assert.That(error, Is.EqualTo(expected));
        }
    }

    [TestCase(2147483647, TestName = "A_header_declaring_int_max_value_under_an_int_max_limit_needs_more_data_instead_of_throwing")]
    [TestCase(2147483640, TestName = "A_header_declaring_a_length_within_ten_of_int_max_value_needs_more_data_instead_of_throwing")]
    public void A_header_near_int_max_value_that_is_within_the_limit_needs_more_data(int length)
    {
        var reader = new FrameReader();
        reader.Append(Encoding.ASCII.GetBytes($"{length,-10}"));

        FrameReadStatus status = reader.TryRead(int.MaxValue, out _, out FrameError error, out int declared);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(FrameReadStatus.NeedMoreData));
            Assert.That(error, Is.EqualTo(FrameError.None));
            Assert.That(declared, Is.EqualTo(length));
        }
    }

    [Test]
    public void Frames_before_a_bad_header_are_still_delivered_and_the_bad_header_stays_invalid()
    {
        var reader = new FrameReader();
        reader.Append([.. Frame.Encode("one"), .. Frame.Encode("two"), .. "05        xxxxx"u8.ToArray(), .. Frame.Encode("three")]);

        FrameReadStatus first = reader.TryRead(100, out ReadOnlySpan<byte> firstPayload, out _, out _);
        string firstText = Encoding.UTF8.GetString(firstPayload);
        FrameReadStatus second = reader.TryRead(100, out ReadOnlySpan<byte> secondPayload, out _, out _);
        string secondText = Encoding.UTF8.GetString(secondPayload);
        FrameReadStatus third = reader.TryRead(100, out _, out FrameError thirdError, out _);
        FrameReadStatus again = reader.TryRead(100, out _, out FrameError againError, out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.EqualTo(FrameReadStatus.Frame));
            Assert.That(firstText, Is.EqualTo("one"));
            Assert.That(second, Is.EqualTo(FrameReadStatus.Frame));
            Assert.That(secondText, Is.EqualTo("two"));
            Assert.That(third, Is.EqualTo(FrameReadStatus.Invalid));
            Assert.That(thirdError, Is.EqualTo(FrameError.NotClassicForm));
            Assert.That(again, Is.EqualTo(FrameReadStatus.Invalid), "a bad header cannot be skipped: the stream stays invalid");
            Assert.That(againError, Is.EqualTo(FrameError.NotClassicForm));
        }
    }

    [Test]
    public void Payloads_of_several_frames_read_without_feeding_in_between_all_stay_valid()
    {
        var reader = new FrameReader();
        reader.Append([.. Frame.Encode("alpha"), .. Frame.Encode("beta")]);

        reader.TryRead(100, out ReadOnlySpan<byte> first, out _, out _);
        reader.TryRead(100, out ReadOnlySpan<byte> second, out _, out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Encoding.ASCII.GetString(first), Is.EqualTo("alpha"));
            Assert.That(Encoding.ASCII.GetString(second), Is.EqualTo("beta"));
        }
    }

    [Test]
    public void An_empty_payload_frame_is_read_as_an_empty_payload()
    {
        var reader = new FrameReader();
        reader.Append("0         "u8);

        FrameReadStatus status = reader.TryRead(0, out ReadOnlySpan<byte> payload, out FrameError error, out int declared);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(FrameReadStatus.Frame));
            Assert.That(payload.Length, Is.Zero);
            Assert.That(error, Is.EqualTo(FrameError.None));
            Assert.That(declared, Is.Zero);
            Assert.That(reader.BufferedCount, Is.Zero);
        }
    }

    [Test]
    public void BufferedCount_counts_bytes_received_but_not_yet_returned()
    {
        var reader = new FrameReader();
        reader.Append("5         hel"u8);
        int beforeComplete = reader.BufferedCount;
        reader.TryRead(100, out _, out _, out _);
        int afterIncompleteRead = reader.BufferedCount;
        reader.Append("lo3  "u8);
        reader.TryRead(100, out _, out _, out _);
        int afterFrame = reader.BufferedCount;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(beforeComplete, Is.EqualTo(13));
            Assert.That(afterIncompleteRead, Is.EqualTo(13));
            Assert.That(afterFrame, Is.EqualTo(3));
        }
    }

    [Test]
    public void The_receive_span_is_never_empty_and_commit_adds_to_the_buffered_count()
    {
        var reader = new FrameReader();
        Span<byte> space = reader.GetReceiveSpan();
        int spaceLength = space.Length;
        "5         "u8.CopyTo(space);
        reader.CommitReceived(10);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(spaceLength, Is.GreaterThanOrEqualTo(FrameHeader.Length));
            Assert.That(reader.BufferedCount, Is.EqualTo(10));
        }
    }

    [Test]
    public void After_a_valid_header_the_receive_span_grows_to_hold_the_whole_payload()
    {
        const int Size = 1024 * 1024;
        var reader = new FrameReader();
        Feed(reader, Encoding.ASCII.GetBytes($"{Size,-10}"), FeedMode.ReceiveSpan);
        Assert.That(reader.TryRead(Size, out _, out _, out _), Is.EqualTo(FrameReadStatus.NeedMoreData));

        int space = reader.GetReceiveSpan().Length;

        Assert.That(space, Is.GreaterThanOrEqualTo(Size));
    }

    [TestCase(FeedMode.Append)]
    [TestCase(FeedMode.ReceiveSpan)]
    public void A_one_mebibyte_frame_decodes_and_a_small_frame_after_it_still_decodes(FeedMode mode)
    {
        const int Size = 1024 * 1024;
        var rng = new Random(5);
        byte[] large = new byte[Size];
        rng.NextBytes(large);
        var reader = new FrameReader();

        Feed(reader, Frame.Encode(large), mode);
        FrameReadStatus largeStatus = reader.TryRead(Size, out ReadOnlySpan<byte> largeRead, out _, out _);
        bool largeMatches = largeRead.SequenceEqual(large);

        Feed(reader, Frame.Encode("small"), mode);
        FrameReadStatus smallStatus = reader.TryRead(Size, out ReadOnlySpan<byte> smallRead, out _, out _);
        string smallText = Encoding.ASCII.GetString(smallRead);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(largeStatus, Is.EqualTo(FrameReadStatus.Frame));
            Assert.That(largeMatches, Is.True, "the 1 MiB payload differs from what was sent");
            Assert.That(smallStatus, Is.EqualTo(FrameReadStatus.Frame));
            Assert.That(smallText, Is.EqualTo("small"));
            Assert.That(reader.BufferedCount, Is.Zero);
        }
    }

    [Test]
    public void A_one_mebibyte_frame_fed_in_random_chunks_decodes_between_small_frames()
    {
        const int Size = 1024 * 1024;
        var rng = new Random(11);
        byte[] large = new byte[Size];
        rng.NextBytes(large);
        List<byte[]> sent = [Encoding.ASCII.GetBytes("before"), large, Encoding.ASCII.GetBytes("after"), []];
        byte[] stream = [.. sent.SelectMany(p => Frame.Encode(p))];
        var reader = new FrameReader();
        var received = new List<byte[]>();

        for (int offset = 0; offset < stream.Length;)
        {
            int size = Math.Min(rng.Next(1, 70_000), stream.Length - offset);
            Feed(reader, stream.AsSpan(offset, size), rng.Next(2) == 0 ? FeedMode.Append : FeedMode.ReceiveSpan);
            offset += size;
            Drain(reader, Size, received, "seed 11");
        }

        Assert.That(received, Is.EqualTo(sent));
        Assert.That(reader.BufferedCount, Is.Zero);
    }

    [TestCase(false, TestName = "After_a_large_frame_appended_whole_is_read_an_idle_reader_offers_only_its_small_buffer_again")]
    [TestCase(true, TestName = "After_a_large_frame_received_after_its_header_is_read_an_idle_reader_offers_only_its_small_buffer_again")]
    public void After_a_large_frame_is_read_an_idle_reader_offers_only_its_small_buffer_again(bool headerFirst)
    {
        const int Size = 1024 * 1024;
        byte[] frame = Frame.Encode(new byte[Size]);
        var reader = new FrameReader();
        if (headerFirst)
        {
            Feed(reader, frame.AsSpan(0, FrameHeader.Length), FeedMode.ReceiveSpan);
            Assert.That(reader.TryRead(Size, out _, out _, out _), Is.EqualTo(FrameReadStatus.NeedMoreData));
            Feed(reader, frame.AsSpan(FrameHeader.Length), FeedMode.ReceiveSpan);
        }
        else
        {
            reader.Append(frame);
        }

        Assert.That(reader.TryRead(Size, out _, out _, out _), Is.EqualTo(FrameReadStatus.Frame));

        int space = reader.GetReceiveSpan().Length;

        Assert.That(space, Is.LessThanOrEqualTo(FrameReader.InitialCapacity));
    }

    [Test]
    public void CommitReceived_rejects_more_bytes_than_the_receive_span_had()
    {
        var reader = new FrameReader();
        int space = reader.GetReceiveSpan().Length;

        Assert.That(() => reader.CommitReceived(space + 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(reader.BufferedCount, Is.Zero);
    }

    [Test]
    public void CommitReceived_rejects_a_negative_count()
    {
        var reader = new FrameReader();
        reader.GetReceiveSpan();

        Assert.That(() => reader.CommitReceived(-1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(reader.BufferedCount, Is.Zero);
    }

    private static void Feed(FrameReader reader, ReadOnlySpan<byte> data, FeedMode mode)
    {
        if (mode == FeedMode.Append)
        {
            reader.Append(data);
            return;
        }

        while (!data.IsEmpty)
        {
            Span<byte> space = reader.GetReceiveSpan();
            Assert.That(space.Length, Is.Positive, "the receive span must never be empty");
            int count = Math.Min(space.Length, data.Length);
            data[..count].CopyTo(space);
            reader.CommitReceived(count);
            data = data[count..];
        }
    }

    private static void Drain(FrameReader reader, int limit, List<byte[]> received, string context)
    {
        while (true)
        {
            FrameReadStatus status = reader.TryRead(limit, out ReadOnlySpan<byte> payload, out FrameError error, out int declared);
            if (status == FrameReadStatus.NeedMoreData)
            {
                return;
            }

            if (status == FrameReadStatus.Invalid)
            {
                Assert.Fail($"{context}: frame {received.Count} read as invalid ({error}, declared {declared})");
            }

            received.Add(payload.ToArray());
        }
    }

    private static byte[] Filled(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    private static int RandomChunkSize(Random rng) => rng.Next(4) switch
    {
        0 => rng.Next(1, 11),
        1 => rng.Next(1, 300),
        2 => rng.Next(1, 4000),
        _ => rng.Next(1, 20_000),
    };

    private static List<byte[]> RandomPayloads(Random rng)
    {
        int count = rng.Next(1, 60);
        var payloads = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            payloads.Add(rng.Next(6) switch
            {
                0 => new byte[rng.Next(0, 3)],
                1 => RandomBytes(rng, rng.Next(0, MaxRandomPayload + 1)),
                2 => RandomText(rng, rng.Next(0, MaxRandomPayload + 1)),
                3 => RandomBytes(rng, MaxRandomPayload),
                4 => HeaderLookalike(rng),
                _ => RandomText(rng, rng.Next(0, 40)),
            });
        }

        return payloads;
    }

    private static byte[] RandomBytes(Random rng, int length)
    {
        byte[] bytes = new byte[length];
        rng.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Payloads that look like headers or whole frames, so a reader that resynchronised on payload bytes would be caught.</summary>
    private static byte[] HeaderLookalike(Random rng) => rng.Next(3) switch
    {
        0 => Encoding.ASCII.GetBytes("99999999  "),
        1 => Frame.Encode("nested"),
        _ => Encoding.ASCII.GetBytes($"{rng.Next(0, 100_000),-10}"),
    };

    private static byte[] RandomText(Random rng, int maxBytes)
    {
        var text = new StringBuilder();
        int bytes = 0;
        while (true)
        {
            Rune rune = rng.Next(5) switch
            {
                0 => new Rune(rng.Next(0x20, 0x7F)),
                1 => new Rune(rng.Next(0xA0, 0x800)),
                2 => new Rune(rng.Next(0x4E00, 0xA000)),
                3 => new Rune(rng.Next(0x1F300, 0x1FB00)),
                _ => new Rune(rng.Next(0, 0x20)),
            };
            int size = rune.Utf8SequenceLength;
            if (bytes + size > maxBytes)
            {
                break;
            }

            text.Append(rune.ToString());
            bytes += size;
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    [Test]
    public void PeekNext_tells_a_whole_frame_and_its_start_across_buffer_and_input_without_reading_it()
    {
        var reader = new FrameReader();
        byte[] frame = Frame.Encode("/file data 1 0 AA==");
        reader.Append(frame.AsSpan(0, 4));
        byte[] start = new byte[11];
        Assert.That(reader.PeekNext(frame.AsSpan(4, 10), start, out _, out _), Is.EqualTo(FrameReadStatus.NeedMoreData), "not whole yet");
        Assert.That(reader.PeekNext(frame.AsSpan(4), start, out int length, out int declared), Is.EqualTo(FrameReadStatus.Frame));
        Assert.Multiple(() =>
        {
            Assert.That(System.Text.Encoding.ASCII.GetString(start, 0, length), Is.EqualTo("/file data "));
            Assert.That(declared, Is.EqualTo(frame.Length - FrameHeader.Length));
            Assert.That(reader.BufferedCount, Is.EqualTo(4), "nothing was read");
            Assert.That(new FrameReader().PeekNext("x         "u8, start, out _, out _), Is.EqualTo(FrameReadStatus.Invalid));
        });
    }
}
