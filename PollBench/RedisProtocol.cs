using System.Buffers.Text;
using System.Text;

namespace PollChat.Bench;

/// <summary>
/// Redis pub/sub on one channel: members SUBSCRIBE and are ready at the subscribe confirmation;
/// senders are separate connections because a subscribed connection may not PUBLISH, and the
/// integer reply to each PUBLISH comes back on them, so the same parser reads both kinds.
/// Only RESP2 is spoken (no HELLO 3), but RESP3 pushes are read like arrays all the same.
/// </summary>
public sealed class RedisProtocol : IBenchProtocol
{
    /// <summary>Replies nested deeper than this are not something SUBSCRIBE or PUBLISH can produce.</summary>
    private const int MaxDepth = 8;

    /// <summary>An int written in decimal, at most.</summary>
    private const int MaxLengthDigits = 10;

    /// <summary>
    /// RESP replies are parsed again from their first byte until complete, so nothing carries
    /// over between calls and every connection can share this.
    /// </summary>
    private static readonly object NoState = new();

    private static ReadOnlySpan<byte> Channel => "pollbench"u8;

    private static ReadOnlySpan<byte> Subscribe => "*2\r\n$9\r\nSUBSCRIBE\r\n$9\r\npollbench\r\n"u8;

    /// <summary>PUBLISH pollbench, up to the payload's length, which follows in decimal.</summary>
    private static ReadOnlySpan<byte> PublishPrefix => "*3\r\n$7\r\nPUBLISH\r\n$9\r\npollbench\r\n$"u8;

    public string Name => "redis";

    public bool SendersAreSeparateConnections => true;

    public bool SenderWaitsForReady => false;

    public bool MemberWaitsForReady => true;

    public byte[] MemberHandshake(int index) => Subscribe.ToArray();

    public byte[] SenderHandshake(int index) => [];

    public int MaxEncodedLength(int payloadLength) => PublishPrefix.Length + MaxLengthDigits + 2 + payloadLength + 2;

    public int EncodeMessage(Span<byte> destination, ReadOnlySpan<byte> payload)
    {
        PublishPrefix.CopyTo(destination);
        int written = PublishPrefix.Length;
        if (!Utf8Formatter.TryFormat(payload.Length, destination[written..], out int digits))
        {
            throw new ArgumentException("the destination is shorter than MaxEncodedLength", nameof(destination));
        }

        written += digits;
        "\r\n"u8.CopyTo(destination[written..]);
        written += 2;
        payload.CopyTo(destination[written..]);
        written += payload.Length;
        "\r\n"u8.CopyTo(destination[written..]);
        return written + 2;
    }

    public object CreateState() => NoState;

    public int Parse(ReadOnlySpan<byte> data, object state, IDeliverySink sink)
    {
        int consumed = 0;
        while (consumed < data.Length)
        {
            int length = ReadReply(data[consumed..], sink);
            if (length == 0)
            {
                break;
            }

            consumed += length;
        }

        return consumed;
    }

    /// <summary>Handles one top-level reply; returns its length, or 0 when it is not all here yet.</summary>
    private static int ReadReply(ReadOnlySpan<byte> data, IDeliverySink sink)
    {
        if (data[0] is not ((byte)'*' or (byte)'>'))
        {
            // An integer (PUBLISH's subscriber count on a sender), a simple string or a bulk string: nothing to report.
            return ReadElement(data, 0, out _);
        }

        if (!TryReadLine(data, out ReadOnlySpan<byte> countText, out int position))
        {
            return 0;
        }

        long count = ParseNumber(countText);
        Span<Range> firstThree = stackalloc Range[3];
        for (long i = 0; i < count; i++)
        {
            int length = ReadElement(data[position..], 1, out Range content);
            if (length == 0)
            {
                return 0;
            }

            if (i < firstThree.Length)
            {
                firstThree[(int)i] = new Range(position + content.Start.Value, position + content.End.Value);
            }

            position += length;
        }

        if (count == 3)
        {
            ReadOnlySpan<byte> kind = data[firstThree[0]];
            if (kind.SequenceEqual("message"u8) && data[firstThree[1]].SequenceEqual(Channel))
            {
                sink.OnDelivery(data[firstThree[2]]);
            }
            else if (kind.SequenceEqual("subscribe"u8) && data[firstThree[1]].SequenceEqual(Channel))
            {
                sink.OnReady();
            }
        }

        return position;
    }

    /// <summary>
    /// Measures one element at the start of <paramref name="data"/>: returns its length, or 0 when
    /// incomplete; <paramref name="content"/> is where a string's bytes are (empty for others).
    /// </summary>
    private static int ReadElement(ReadOnlySpan<byte> data, int depth, out Range content)
    {
        content = default;
        if (!TryReadLine(data, out ReadOnlySpan<byte> text, out int lineLength))
        {
            return 0;
        }

        switch (data[0])
        {
            case (byte)'+':
            case (byte)':':
                content = new Range(1, 1 + text.Length);
                return lineLength;

            case (byte)'-':
                throw new InvalidDataException($"redis replied with an error: {Encoding.UTF8.GetString(text)}");

            case (byte)'$':
            {
                long length = ParseNumber(text);
                if (length < 0)
                {
                    return lineLength; // The null bulk string.
                }

                if (data.Length - lineLength < length + 2)
                {
                    return 0;
                }

                int end = lineLength + (int)length;
                if (data[end] != (byte)'\r' || data[end + 1] != (byte)'\n')
                {
                    throw new InvalidDataException("redis sent a bulk string not followed by CRLF");
                }

                content = new Range(lineLength, end);
                return end + 2;
            }

            case (byte)'*':
            case (byte)'>':
            {
                if (depth >= MaxDepth)
                {
                    throw new InvalidDataException("redis sent arrays nested too deep");
                }

                long count = ParseNumber(text);
                int position = lineLength;
                for (long i = 0; i < count; i++)
                {
                    int length = ReadElement(data[position..], depth + 1, out _);
                    if (length == 0)
                    {
                        return 0;
                    }

                    position += length;
                }

                return position;
            }

            default:
                throw new InvalidDataException($"redis sent a reply of unexpected type '{(char)data[0]}'");
        }
    }

    /// <summary>Finds the CRLF ending a type-and-text line; <paramref name="text"/> excludes the type byte.</summary>
    private static bool TryReadLine(ReadOnlySpan<byte> data, out ReadOnlySpan<byte> text, out int lineLength)
    {
        int cr = data.IndexOf("\r\n"u8);
        if (cr < 0)
        {
            text = default;
            lineLength = 0;
            return false;
        }

        text = data[1..cr];
        lineLength = cr + 2;
        return true;
    }

    private static long ParseNumber(ReadOnlySpan<byte> text)
    {
        if (!Utf8Parser.TryParse(text, out long value, out int used) || used != text.Length || value > int.MaxValue)
        {
            throw new InvalidDataException($"redis sent a malformed length: {Encoding.UTF8.GetString(text)}");
        }

        return value;
    }
}
