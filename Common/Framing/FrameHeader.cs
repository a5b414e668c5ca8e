using System.Buffers.Text;

namespace PollChat.Common.Framing;

/// <summary>What is wrong with a frame header; <see cref="None"/> when nothing is.</summary>
public enum FrameError
{
    /// <summary>The header is valid.</summary>
    None,

    /// <summary>A header byte is neither an ASCII digit nor a space (NUL, sign, letter, tab, CR, LF...).</summary>
    InvalidCharacter,

    /// <summary>Only digits and spaces, but not "digits first, then spaces", or with a leading zero.</summary>
    NotClassicForm,

    /// <summary>A well-formed length that is larger than the receiver accepts for this frame.</summary>
    LengthOverLimit,
}

/// <summary>
/// The classic 10-byte header: the payload's byte length in ASCII decimal, left-justified,
/// padded with spaces (<c>"5         "</c>). This type knows bytes only, never sockets.
/// </summary>
public static class FrameHeader
{
    /// <summary>Bytes in every header; fixed by the classic format.</summary>
    public const int Length = 10;

    /// <summary>The largest length ten decimal digits could claim is far beyond any limit; this bounds parsing.</summary>
    private const long MaxRepresentable = 9_999_999_999;

    /// <summary>
    /// Parses a complete header. Returns false, with <paramref name="error"/> saying why, when
    /// <paramref name="header"/> is not exactly in the classic form or declares more than
    /// <paramref name="maxPayloadLength"/> bytes. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="header"/> is not exactly <see cref="Length"/> bytes.</exception>
    public static bool TryParse(ReadOnlySpan<byte> header, int maxPayloadLength, out int payloadLength, out FrameError error)
    {
        if (header.Length != Length)
        {
            throw new ArgumentException($"A header is exactly {Length} bytes.", nameof(header));
        }

        payloadLength = 0;
        int digits = 0;
        long value = 0;
        while (digits < Length && IsDigit(header[digits]))
        {
            value = (value * 10) + (header[digits] - (byte)'0');
            digits++;
        }

        for (int i = digits; i < Length; i++)
        {
            if (header[i] != (byte)' ')
            {
                error = IsDigit(header[i]) ? FrameError.NotClassicForm : FrameError.InvalidCharacter;
                return false;
            }
        }

        bool hasLeadingZero = digits > 1 && header[0] == (byte)'0';
        if (digits == 0 || hasLeadingZero)
        {
            error = FrameError.NotClassicForm;
            return false;
        }

        if (value > maxPayloadLength || value > MaxRepresentable)
        {
            error = FrameError.LengthOverLimit;
            payloadLength = value > int.MaxValue ? int.MaxValue : (int)value;
            return false;
        }

        payloadLength = (int)value;
        error = FrameError.None;
        return true;
    }

    /// <summary>Writes the header for a payload of <paramref name="payloadLength"/> bytes into the first 10 bytes of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 10 bytes.</exception>
    public static void Write(Span<byte> destination, int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        if (destination.Length < Length)
        {
            throw new ArgumentException($"A header needs {Length} bytes.", nameof(destination));
        }

        Utf8Formatter.TryFormat(payloadLength, destination, out int written);
        destination[written..Length].Fill((byte)' ');
    }

    /// <summary>One sentence for a person, naming what was wrong with a header.</summary>
    public static string Describe(FrameError error, int declaredLength, int maxPayloadLength) => error switch
    {
        FrameError.InvalidCharacter => "the 10-byte length header holds a byte that is neither a digit nor a space",
        FrameError.NotClassicForm => "the 10-byte length header is not a left-justified decimal number padded with spaces",
        FrameError.LengthOverLimit => $"the frame declares {declaredLength} bytes, over the limit of {maxPayloadLength}",
        _ => "the frame header is valid",
    };

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}
