using System.Buffers;
using System.Globalization;
using System.Text;

namespace PollChat.Common.Protocol;

/// <summary>
/// The display policy for text one user sends another (messages, /me, private messages, topics,
/// away texts, file names): what could drive a terminal, or make text read otherwise than it is
/// written, is removed; everything else stays as sent. Removed: C0 controls except tab, DEL and
/// the C1 range (escape sequences, bells, carriage returns); bidi controls (LRE, RLE, PDF, LRO,
/// RLO, LRI, RLI, FSI, PDI, LRM, RLM, ALM), which reorder what follows them, so
/// "invoice\u202Efdp.exe" shows as "invoiceexe.pdf"; line and paragraph separators; zero-width
/// and other invisible characters (zero-width space, word joiner, BOM, soft hyphen, the Hangul
/// fillers, invisible operators, interlinear annotation marks, shorthand format controls,
/// musical format controls, tag characters). Kept where writing needs them, judged from their
/// neighbours in the input: ZWJ between two emoji (family, profession and flag sequences) or
/// between two letters of a script that joins (Arabic, Indic and other Brahmic scripts,
/// Mongolian); ZWNJ between two letters of such a script (Persian "می‌خواهم"); one variation
/// selector after a visible character; tag characters inside an emoji flag sequence
/// (black flag, 1 to <see cref="MaxTagLetters"/> tag letters, cancel tag). The blank Braille cell
/// (U+2800) becomes a plain space: it draws as one, and braille art keeps its alignment.
/// <para>
/// Removing rather than showing a marker: honest text carries these characters too (a BOM or
/// soft hyphens pasted from a web page, an LRM in Hebrew), and a marker would litter it; with
/// the character gone, a spoof reads as what it is. The result is also never longer than the
/// input, so a frame stays under its limit and the copy fits the buffer the message came in.
/// </para>
/// <para>
/// Works on UTF-8 bytes: a vectorized search skips printable ASCII, other characters are decoded
/// inline and compared with a few ranges, and only the rare ones in them are judged with their
/// neighbours. Text with nothing to remove is left as it is, with no copy.
/// </para>
/// </summary>
public static class ControlCharacters
{
    /// <summary>The longest emoji tag sequence kept: a flag's region and subdivision ("gbsct") is at most 6 letters (CLDR).</summary>
    public const int MaxTagLetters = 6;

    /// <summary>ASCII runs up to this long are stepped over byte by byte: a vector search costs more than that to set up.</summary>
    private const int ShortAsciiRun = 16;

    /// <summary>
    /// Every byte that can start a character the policy acts on: C0 controls and DEL, and the lead
    /// bytes of U+0080..U+00BF, U+034x, U+06xx, U+1xxx, U+2xxx, U+3xxx, U+Fxxx and of the 4-byte
    /// characters. Text without any (ASCII, Cyrillic, Greek, Hebrew, Arabic, most Indic, CJK
    /// ideographs) is passed in one vectorized search.
    /// </summary>
    private static readonly SearchValues<byte> LeadBytes = SearchValues.Create([
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F,
        0x7F, 0xC2, 0xCD, 0xD8, 0xE1, 0xE2, 0xE3, 0xEF, 0xF0, 0xF1, 0xF2, 0xF3, 0xF4]);

    private enum Verdict
    {
        Keep,
        Remove,
        Space,
    }

    /// <summary>Whether <paramref name="utf8"/> holds anything the Strip methods would remove or replace. Allocates nothing.</summary>
    public static bool Any(ReadOnlySpan<byte> utf8)
    {
        int first = utf8.IndexOfAny(LeadBytes);
        for (int i = first < 0 ? -1 : NextCandidate(utf8, first); i >= 0; i = NextCandidate(utf8, i))
        {
            if (Judge(utf8, i, out int length) != Verdict.Keep)
            {
                return true;
            }

            i += length;
        }

        return false;
    }

    /// <summary>Copies <paramref name="utf8"/> into <paramref name="destination"/> under the policy; returns the bytes written (never more than the input).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the input.</exception>
    public static int Strip(ReadOnlySpan<byte> utf8, Span<byte> destination)
    {
        if (destination.Length < utf8.Length)
        {
            throw new ArgumentException("The destination must be at least as long as the input.", nameof(destination));
        }

        int written = 0;
        int i = 0;
        int first = utf8.IndexOfAny(LeadBytes);
        while (i < utf8.Length)
        {
            int next = i == 0 ? (first < 0 ? -1 : NextCandidate(utf8, first)) : NextCandidate(utf8, i);
            int plain = next < 0 ? utf8.Length - i : next - i;
            utf8.Slice(i, plain).CopyTo(destination[written..]);
            written += plain;
            i += plain;
            if (i == utf8.Length)
            {
                break;
            }

            switch (Judge(utf8, i, out int length))
            {
                case Verdict.Keep:
                    utf8.Slice(i, length).CopyTo(destination[written..]);
                    written += length;
                    break;
                case Verdict.Space:
                    destination[written++] = (byte)' ';
                    break;
            }

            i += length;
        }

        return written;
    }

    /// <summary>The same for text: returns <paramref name="text"/> itself when there is nothing to remove.</summary>
    public static string Strip(string text)
    {
        if (!text.AsSpan().ContainsAnyExceptInRange(' ', '~'))
        {
            return text; // Printable ASCII: the common case, without encoding.
        }

        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        if (!Any(utf8))
        {
            return text;
        }

        byte[] clean = new byte[utf8.Length];
        return Encoding.UTF8.GetString(clean, 0, Strip(utf8, clean));
    }

    /// <summary>Whether <paramref name="rune"/> is always invisible or reorders text: what a name may never hold.</summary>
    public static bool IsInvisibleOrBidi(Rune rune) =>
        Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format || IsFiller(rune.Value) || IsVariationSelector(rune.Value)
            || rune.Value is 0x034F or 0x2800 or 0x2028 or 0x2029;

    /// <summary>
    /// Where the next character the policy may act on starts, from <paramref name="i"/> on, or -1.
    /// Printable ASCII is skipped with a vectorized search; other characters are told apart by
    /// their first bytes, and decoded only in the four 4096-character pages that hold something, so
    /// Cyrillic, CJK or emoji text costs a nanosecond or two a character. A byte that is not
    /// well-formed UTF-8 is a candidate, for <see cref="Judge"/> to look at.
    /// </summary>
    private static int NextCandidate(ReadOnlySpan<byte> utf8, int i)
    {
        while (i < utf8.Length)
        {
            byte b = utf8[i];
            if (b is >= 0x20 and <= 0x7E)
            {
                // A space or a word between words of another script is not worth a vector search; a longer run is.
                int end = Math.Min(utf8.Length, i + ShortAsciiRun);
                do
                {
                    i++;
                }
                while (i < end && utf8[i] is >= 0x20 and <= 0x7E);

                if (i == end && i < utf8.Length && utf8[i] is >= 0x20 and <= 0x7E)
                {
                    int skip = utf8[i..].IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E);
                    i = skip < 0 ? utf8.Length : i + skip;
                }

                continue;
            }

            if (b < 0xC2)
            {
                return i; // A C0 control or DEL (tab included: Judge keeps it), or a stray continuation byte.
            }

            if (b < 0xE0)
            {
                // Two bytes: only U+0080..U+009F, U+00AD, U+034F and U+061C matter.
                if (i + 1 >= utf8.Length || !IsContinuation(utf8[i + 1]) || (b == 0xC2 && utf8[i + 1] is <= 0x9F or 0xAD)
                    || (b == 0xCD && utf8[i + 1] == 0x8F) || (b == 0xD8 && utf8[i + 1] == 0x9C))
                {
                    return i;
                }

                i += 2;
            }
            else if (b < 0xF0)
            {
                // Three bytes: only U+1xxx, U+2xxx, U+3xxx and U+Fxxx hold characters that matter.
                if (i + 2 >= utf8.Length || !IsContinuation(utf8[i + 1]) || !IsContinuation(utf8[i + 2])
                    || (b is 0xE1 or 0xE2 or 0xE3 or 0xEF && MayActOn(((b & 0x0F) << 12) | ((utf8[i + 1] & 0x3F) << 6) | (utf8[i + 2] & 0x3F))))
                {
                    return i;
                }

                i += 3;
            }
            else
            {
                // Four bytes: only U+1BCxx, U+1D1xx (lead F0 9B, F0 9D) and U+Exxxx (lead F3) matter; emoji are F0 9F.
                if (i + 3 >= utf8.Length || !IsContinuation(utf8[i + 1]) || !IsContinuation(utf8[i + 2]) || !IsContinuation(utf8[i + 3])
                    || b == 0xF3 || (b == 0xF0 && utf8[i + 1] is 0x9B or 0x9D))
                {
                    return i;
                }

                i += 4;
            }
        }

        return -1;
    }

    private static bool IsContinuation(byte b) => (b & 0xC0) == 0x80;

    /// <summary>Every character <see cref="Judge"/> may remove or replace; most text is rejected by the first two tests.</summary>
    private static bool MayActOn(int v) => v switch
    {
        < 0xAD => v <= 0x9F, // C1; below it only ASCII, handled before.
        > 0x2800 and < 0x3164 => false, // CJK punctuation, kana, Bopomofo, Hangul letters.
        > 0x3164 and < 0xFE00 => false, // CJK ideographs, Hangul syllables and the rest of the BMP's bulk.
        >= 0x10000 => v is (>= 0x1BCA0 and <= 0x1BCA3) or (>= 0x1D173 and <= 0x1D17A) or (>= 0xE0000 and <= 0xE0FFF),
        _ => v is 0x00AD or 0x034F or 0x061C or 0x115F or 0x1160 or 0x17B4 or 0x17B5 or (>= 0x180B and <= 0x180F)
            or (>= 0x200B and <= 0x200F) or (>= 0x2028 and <= 0x202E) or (>= 0x2060 and <= 0x206F) or 0x2800 or 0x3164
            or (>= 0xFE00 and <= 0xFE0F) or 0xFEFF or 0xFFA0 or (>= 0xFFF0 and <= 0xFFFB),
    };

    /// <summary>What happens to the character starting at <paramref name="i"/>, and its length in bytes.</summary>
    private static Verdict Judge(ReadOnlySpan<byte> utf8, int i, out int length)
    {
        byte b = utf8[i];
        if (b < 0x80)
        {
            length = 1;
            return b == (byte)'\t' ? Verdict.Keep : Verdict.Remove; // Only controls are candidates below 0x80.
        }

        if (Rune.DecodeFromUtf8(utf8[i..], out Rune rune, out length) != OperationStatus.Done)
        {
            return Verdict.Keep; // Not UTF-8: whoever received it refuses it; this policy only reads characters.
        }

        int v = rune.Value;
        return v switch
        {
            >= 0x80 and <= 0x9F => Verdict.Remove,
            0x2800 => Verdict.Space,
            0x200C => IsJoiningLetter(Before(utf8, i)) && IsJoiningLetter(After(utf8, i + length)) ? Verdict.Keep : Verdict.Remove,
            0x200D => (IsPictographic(EmojiBefore(utf8, i)) && IsPictographic(After(utf8, i + length)))
                || (IsJoiningLetter(Before(utf8, i)) && IsJoiningLetter(After(utf8, i + length))) ? Verdict.Keep : Verdict.Remove,
            _ when IsVariationSelector(v) => IsVisibleBase(Before(utf8, i)) ? Verdict.Keep : Verdict.Remove,
            >= 0xE0000 and <= 0xE007F => InFlagTagSequence(utf8, i) ? Verdict.Keep : Verdict.Remove,
            0x00AD or 0x034F or 0x061C or 0x180E or (>= 0x200B and <= 0x200F) or (>= 0x2028 and <= 0x202E) or (>= 0x2060 and <= 0x206F)
                or 0xFEFF or (>= 0xFFF0 and <= 0xFFFB) or (>= 0x1BCA0 and <= 0x1BCA3) or (>= 0x1D173 and <= 0x1D17A)
                or (>= 0xE0080 and <= 0xE0FFF) => Verdict.Remove,
            _ when IsFiller(v) => Verdict.Remove,
            _ => Verdict.Keep,
        };
    }

    /// <summary>Characters that draw as nothing (or a blank) yet are letters to Unicode: Hangul fillers and Khmer's inherent vowels.</summary>
    private static bool IsFiller(int v) => v is 0x115F or 0x1160 or 0x17B4 or 0x17B5 or 0x3164 or 0xFFA0;

    private static bool IsVariationSelector(int v) => v is (>= 0x180B and <= 0x180D) or 0x180F or (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0100 and <= 0xE01EF);

    /// <summary>The character before byte <paramref name="i"/>, or a space at the start.</summary>
    private static Rune Before(ReadOnlySpan<byte> utf8, int i) =>
        Rune.DecodeLastFromUtf8(utf8[..i], out Rune rune, out _) == OperationStatus.Done ? rune : new Rune(' ');

    /// <summary>The character at byte <paramref name="i"/>, or a space at the end.</summary>
    private static Rune After(ReadOnlySpan<byte> utf8, int i) =>
        Rune.DecodeFromUtf8(utf8[i..], out Rune rune, out _) == OperationStatus.Done ? rune : new Rune(' ');

    /// <summary>The emoji before a ZWJ, looking past its skin tone and presentation selector ("🧑🏽‍💻", "🏳️‍🌈").</summary>
    private static Rune EmojiBefore(ReadOnlySpan<byte> utf8, int i)
    {
        for (int step = 0; step < 3 && i > 0; step++)
        {
            if (Rune.DecodeLastFromUtf8(utf8[..i], out Rune rune, out int length) != OperationStatus.Done)
            {
                break;
            }

            if (rune.Value is not (0xFE0F or (>= 0x1F3FB and <= 0x1F3FF)))
            {
                return rune;
            }

            i -= length;
        }

        return new Rune(' ');
    }

    /// <summary>
    /// Whether the tag character at <paramref name="i"/> belongs to black flag, 1 to
    /// <see cref="MaxTagLetters"/> tag letters or digits, cancel tag (the England, Scotland and Wales
    /// flags). Looks at most that many characters either way, so a long run costs no more per character.
    /// </summary>
    private static bool InFlagTagSequence(ReadOnlySpan<byte> utf8, int i)
    {
        int start = i;
        for (int steps = 0; ; steps++)
        {
            Rune before = Before(utf8, start);
            if (before.Value == 0x1F3F4)
            {
                break;
            }

            if (steps == MaxTagLetters || !IsTagLetter(before.Value))
            {
                return false;
            }

            start -= before.Utf8SequenceLength;
        }

        int letters = 0;
        for (int at = start; ; )
        {
            Rune rune = After(utf8, at);
            if (rune.Value == 0xE007F)
            {
                return letters > 0;
            }

            if (!IsTagLetter(rune.Value) || ++letters > MaxTagLetters)
            {
                return false;
            }

            at += rune.Utf8SequenceLength;
        }
    }

    private static bool IsTagLetter(int v) => v is (>= 0xE0030 and <= 0xE0039) or (>= 0xE0061 and <= 0xE007A);

    /// <summary>A variation selector changes how the character before it is drawn; after nothing visible, it only hides data.</summary>
    private static bool IsVisibleBase(Rune rune) =>
        !Rune.IsWhiteSpace(rune) && !Rune.IsControl(rune) && !IsInvisibleOrBidi(rune);

    /// <summary>A letter or mark of a script whose letters join or form conjuncts, where ZWJ and ZWNJ choose the shape.</summary>
    private static bool IsJoiningLetter(Rune rune)
    {
        int v = rune.Value;
        bool script = v is (>= 0x0600 and <= 0x08FF) or (>= 0x0900 and <= 0x0DFF) or (>= 0x0F00 and <= 0x109F)
            or (>= 0x1780 and <= 0x18AF) or (>= 0xA800 and <= 0xABFF) or (>= 0xFB50 and <= 0xFDFF) or (>= 0xFE70 and <= 0xFEFC);
        return script && (Rune.IsLetter(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark);
    }

    /// <summary>Close to Unicode's Extended_Pictographic: the blocks emoji come from, and the older symbols that have emoji forms.</summary>
    private static bool IsPictographic(Rune rune) => rune.Value is 0x00A9 or 0x00AE or 0x203C or 0x2049 or 0x2122 or 0x2139
        or (>= 0x2190 and <= 0x21FF) or (>= 0x2300 and <= 0x23FF) or 0x24C2 or (>= 0x25A0 and <= 0x27BF) or (>= 0x2900 and <= 0x297F)
        or (>= 0x2B00 and <= 0x2BFF) or 0x3030 or 0x303D or 0x3297 or 0x3299 or (>= 0x1F000 and <= 0x1FAFF);
}
