namespace PollChat.Common.Protocol;

/// <summary>
/// Keeps terminal control out of what one user sends another: C0 controls (escape, bell,
/// carriage return, backspace...), DEL and the C1 range are removed; tab stays. Works on UTF-8
/// bytes, because C0 and DEL are single bytes and C1 is always encoded as 0xC2 0x80..0x9F, so
/// no decoding is needed. A message without them is left as it is, with no copy.
/// </summary>
public static class ControlCharacters
{
    /// <summary>Whether <paramref name="utf8"/> holds anything the Strip methods would remove.</summary>
    public static bool Any(ReadOnlySpan<byte> utf8)
    {
        for (int i = 0; i < utf8.Length; i++)
        {
            if (IsC0OrDel(utf8[i]) || IsC1(utf8, i))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Copies <paramref name="utf8"/> into <paramref name="destination"/> without control characters; returns the bytes written (never more than the input).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the input.</exception>
    public static int Strip(ReadOnlySpan<byte> utf8, Span<byte> destination)
    {
        if (destination.Length < utf8.Length)
        {
            throw new ArgumentException("The destination must be at least as long as the input.", nameof(destination));
        }

        int written = 0;
        for (int i = 0; i < utf8.Length; i++)
        {
            if (IsC0OrDel(utf8[i]))
            {
                continue;
            }

            if (IsC1(utf8, i))
            {
                i++; // Skip both bytes of the C1 character.
                continue;
            }

            destination[written++] = utf8[i];
        }

        return written;
    }

    /// <summary>The same for text: returns <paramref name="text"/> itself when it has no control characters.</summary>
    public static string Strip(string text)
    {
        bool any = false;
        foreach (char c in text)
        {
            any |= c != '\t' && char.IsControl(c);
        }

        return any ? string.Concat(text.Where(c => c == '\t' || !char.IsControl(c))) : text;
    }

    private static bool IsC0OrDel(byte b) => (b < 0x20 && b != (byte)'\t') || b == 0x7F;

    private static bool IsC1(ReadOnlySpan<byte> utf8, int i) => utf8[i] == 0xC2 && i + 1 < utf8.Length && utf8[i + 1] is >= 0x80 and <= 0x9F;
}
