using System.Buffers.Text;

namespace PollChat.Bench;

/// <summary>
/// What every benchmark message carries, in ASCII so any server relays it untouched:
/// <c>PB sender seq timestamp</c>, padded with 'x' to the payload size. The timestamp is
/// <see cref="System.Diagnostics.Stopwatch"/> ticks of the intended send time.
/// </summary>
public static class BenchPayload
{
    /// <summary>"PB " + 6-digit sender + space + 10-digit sequence + space + 19-digit timestamp.</summary>
    public const int MinimumSize = 3 + 6 + 1 + 10 + 1 + 19;

    /// <summary>Writes a payload of exactly <paramref name="size"/> bytes.</summary>
    public static void Write(Span<byte> destination, int size, int sender, long sequence, long timestamp)
    {
        Span<byte> payload = destination[..size];
        payload.Fill((byte)'x');
        "PB "u8.CopyTo(payload);
        WriteFixed(payload.Slice(3, 6), sender);
        payload[9] = (byte)' ';
        WriteFixed(payload.Slice(10, 10), sequence);
        payload[20] = (byte)' ';
        WriteFixed(payload.Slice(21, 19), timestamp);
    }

    /// <summary>False when <paramref name="payload"/> is not a benchmark payload.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out int sender, out long sequence, out long timestamp)
    {
        sender = 0;
        sequence = timestamp = 0;
        return payload.Length >= MinimumSize && payload.StartsWith("PB "u8)
            && Utf8Parser.TryParse(payload.Slice(3, 6), out sender, out int a) && a == 6
            && Utf8Parser.TryParse(payload.Slice(10, 10), out sequence, out int b) && b == 10
            && Utf8Parser.TryParse(payload.Slice(21, 19), out timestamp, out int c) && c == 19;
    }

    private static void WriteFixed(Span<byte> destination, long value)
    {
        for (int i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}
