using System.Buffers;
using System.Globalization;
using System.Text;

namespace PollChat.Common.Protocol;

/// <summary>What is wrong with a name's characters under <see cref="NamePolicy"/>.</summary>
public enum NameProblem
{
    /// <summary>Nothing: the name can be used.</summary>
    None,

    /// <summary>A symbol, emoji, or punctuation or space outside ASCII.</summary>
    Character,

    /// <summary>A fullwidth, mathematical, superscript, ligature or other compatibility form of a letter or digit.</summary>
    CompatibilityForm,

    /// <summary>Letters of two scripts that are not used together (Latin with Cyrillic, say).</summary>
    MixedScripts,

    /// <summary>A combining mark first, where it would sit on whatever the screen shows before the name.</summary>
    LeadingMark,
}

/// <summary>
/// The stricter rules for user and room names, on top of the display policy's (no controls, no
/// invisible or bidi characters), after the PRECIS identifier class (RFC 8264) and the "highly
/// restrictive" level of Unicode TR39:
/// <list type="bullet">
/// <item>Characters: ASCII letters, digits and punctuation, and letters, digits and combining
/// marks of any script; no symbols, emoji or non-ASCII punctuation.</item>
/// <item>No compatibility forms (fullwidth and halfwidth, mathematical alphanumerics, letterlike
/// symbols, super- and subscripts, ligatures, presentation forms, compatibility ideographs):
/// they are refused, not mapped as PRECIS would, because a classic client cannot be told that
/// the server changed its name.</item>
/// <item>One script per name, except Latin with Han, Hiragana and Katakana (Japanese), Han and
/// Bopomofo (Chinese) or Han and Hangul (Korean). Digits, punctuation and marks belong to no script.</item>
/// </list>
/// Scripts and compatibility forms come from a table of Unicode blocks, since invariant
/// globalization has neither the Script property nor normalization. A letter of a block the
/// table does not know counts as a script of its own block. Uniqueness by look-alikes is
/// <see cref="Confusables"/>'s.
/// </summary>
public static class NamePolicy
{
    private enum Script
    {
        None,
        Latin,
        Han,
        Hiragana,
        Katakana,
        Bopomofo,
        Hangul,
        Greek,
        Cyrillic,
        Armenian,
        Georgian,
        Hebrew,
        Arabic,
        Syriac,
        Thaana,
        Devanagari,
        Bengali,
        Gurmukhi,
        Gujarati,
        Oriya,
        Tamil,
        Telugu,
        Kannada,
        Malayalam,
        Sinhala,
        Thai,
        Lao,
        Tibetan,
        Myanmar,
        Ethiopic,
        Cherokee,
        Khmer,
        Mongolian,

        /// <summary>Unknown blocks count from here: one script per 128 code points.</summary>
        Other,
    }

    /// <summary>Blocks and their script, sorted by start; a letter or digit outside all of them is an unknown script.</summary>
    private static readonly (int First, int Last, Script Script)[] Blocks =
    [
        (0x0041, 0x005A, Script.Latin), (0x0061, 0x007A, Script.Latin), (0x00C0, 0x024F, Script.Latin), (0x0250, 0x02AF, Script.Latin),
        (0x0370, 0x03FF, Script.Greek), (0x0400, 0x052F, Script.Cyrillic), (0x0530, 0x058F, Script.Armenian), (0x0590, 0x05FF, Script.Hebrew),
        (0x0600, 0x06FF, Script.Arabic), (0x0700, 0x074F, Script.Syriac), (0x0750, 0x077F, Script.Arabic), (0x0780, 0x07BF, Script.Thaana),
        (0x0860, 0x086F, Script.Syriac), (0x0870, 0x08FF, Script.Arabic), (0x0900, 0x097F, Script.Devanagari), (0x0980, 0x09FF, Script.Bengali),
        (0x0A00, 0x0A7F, Script.Gurmukhi), (0x0A80, 0x0AFF, Script.Gujarati), (0x0B00, 0x0B7F, Script.Oriya), (0x0B80, 0x0BFF, Script.Tamil),
        (0x0C00, 0x0C7F, Script.Telugu), (0x0C80, 0x0CFF, Script.Kannada), (0x0D00, 0x0D7F, Script.Malayalam), (0x0D80, 0x0DFF, Script.Sinhala),
        (0x0E00, 0x0E7F, Script.Thai), (0x0E80, 0x0EFF, Script.Lao), (0x0F00, 0x0FFF, Script.Tibetan), (0x1000, 0x109F, Script.Myanmar),
        (0x10A0, 0x10FF, Script.Georgian), (0x1100, 0x11FF, Script.Hangul), (0x1200, 0x139F, Script.Ethiopic), (0x13A0, 0x13FF, Script.Cherokee),
        (0x1780, 0x17FF, Script.Khmer), (0x1800, 0x18AF, Script.Mongolian), (0x1C80, 0x1C8F, Script.Cyrillic), (0x1C90, 0x1CBF, Script.Georgian),
        (0x1D00, 0x1D7F, Script.Latin), (0x1E00, 0x1EFF, Script.Latin), (0x1F00, 0x1FFF, Script.Greek), (0x2C60, 0x2C7F, Script.Latin),
        (0x2D00, 0x2D2F, Script.Georgian), (0x2D80, 0x2DDF, Script.Ethiopic), (0x2DE0, 0x2DFF, Script.Cyrillic), (0x2E80, 0x2FDF, Script.Han),
        (0x3005, 0x3007, Script.Han), (0x3021, 0x3029, Script.Han), (0x3038, 0x303B, Script.Han), (0x3040, 0x309F, Script.Hiragana),
        (0x30A0, 0x30FF, Script.Katakana), (0x3100, 0x312F, Script.Bopomofo), (0x3130, 0x318F, Script.Hangul), (0x31A0, 0x31BF, Script.Bopomofo),
        (0x31F0, 0x31FF, Script.Katakana), (0x3400, 0x4DBF, Script.Han), (0x4E00, 0x9FFF, Script.Han), (0xA640, 0xA69F, Script.Cyrillic),
        (0xA720, 0xA7FF, Script.Latin), (0xA960, 0xA97F, Script.Hangul), (0xAB30, 0xAB6F, Script.Latin), (0xAB70, 0xABBF, Script.Cherokee),
        (0xAC00, 0xD7FF, Script.Hangul), (0x20000, 0x323AF, Script.Han),
    ];

    /// <summary>Blocks of compatibility forms (those NFKC would change), sorted by start; single characters as blocks of one.</summary>
    private static readonly (int First, int Last)[] CompatibilityBlocks =
    [
        (0x00AA, 0x00AA), (0x00B5, 0x00B5), (0x00BA, 0x00BA), (0x0132, 0x0133), (0x013F, 0x0140), (0x0149, 0x0149), (0x017F, 0x017F),
        (0x01C4, 0x01CC), (0x01F1, 0x01F3), (0x02B0, 0x02FF), (0x037A, 0x037A), (0x03D0, 0x03D6), (0x03F0, 0x03F5), (0x03F9, 0x03F9),
        (0x10FC, 0x10FC), (0x1D2C, 0x1D6A), (0x1D78, 0x1D78), (0x1D9B, 0x1DBF), (0x1E9A, 0x1E9B),
        (0x2070, 0x209F), (0x2100, 0x218F), (0x2460, 0x24FF), (0x2C7C, 0x2C7D), (0x2D6F, 0x2D6F), (0x2E9F, 0x2E9F), (0x2EF3, 0x2EF3),
        (0x2F00, 0x2FDF), (0x309F, 0x309F), (0x30FF, 0x30FF), (0x3131, 0x318E), (0x3192, 0x319F), (0x3200, 0x33FF), (0xA69C, 0xA69D),
        (0xA770, 0xA770), (0xA7F2, 0xA7F4), (0xA7F8, 0xA7F9), (0xAB5C, 0xAB5F), (0xAB69, 0xAB69), (0xF900, 0xFAFF), (0xFB00, 0xFDFF),
        (0xFE10, 0xFE1F), (0xFE30, 0xFE6F), (0xFE70, 0xFEFE), (0xFF00, 0xFFEF), (0x1D400, 0x1D7FF), (0x1E030, 0x1E08F), (0x1EE00, 0x1EEFF),
        (0x1F100, 0x1F2FF), (0x1FBF0, 0x1FBF9), (0x2F800, 0x2FA1F),
    ];

    /// <summary>
    /// What is wrong with <paramref name="utf8"/> as a name, if anything. Expects valid UTF-8 without
    /// controls, spaces or invisible characters (<see cref="Username"/> checks those first). Allocates nothing.
    /// </summary>
    public static NameProblem Check(ReadOnlySpan<byte> utf8)
    {
        Script other = Script.None; // The one script of a name that is not Latin or East Asian.
        bool latinOrHan = false, kana = false, bopomofo = false, hangul = false;
        bool first = true;
        while (!utf8.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(utf8, out Rune rune, out int consumed) != OperationStatus.Done)
            {
                return NameProblem.Character;
            }

            utf8 = utf8[consumed..];
            UnicodeCategory category = Rune.GetUnicodeCategory(rune);
            bool mark = category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;
            if (first && mark)
            {
                return NameProblem.LeadingMark;
            }

            first = false;
            if (InBlocks(rune.Value, CompatibilityBlocks))
            {
                return NameProblem.CompatibilityForm;
            }

            if (mark || (rune.IsAscii && !Rune.IsLetter(rune)))
            {
                continue; // ASCII digits and punctuation belong to every script, a mark to the letter it sits on.
            }

            if (!rune.IsAscii && category is not (UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
                or UnicodeCategory.OtherLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.DecimalDigitNumber))
            {
                return NameProblem.Character;
            }

            Script script = ScriptOf(rune.Value);
            switch (script)
            {
                case Script.Latin or Script.Han:
                    latinOrHan = true;
                    break;
                case Script.Hiragana or Script.Katakana:
                    kana = true;
                    break;
                case Script.Bopomofo:
                    bopomofo = true;
                    break;
                case Script.Hangul:
                    hangul = true;
                    break;
                default:
                    if (other != Script.None && other != script)
                    {
                        return NameProblem.MixedScripts;
                    }

                    other = script;
                    break;
            }

            // Allowed: one script alone, or Latin and Han with one of kana, Bopomofo or Hangul.
            bool eastAsian = kana || bopomofo || hangul;
            if ((other != Script.None && (latinOrHan || eastAsian)) || (kana ? 1 : 0) + (bopomofo ? 1 : 0) + (hangul ? 1 : 0) > 1)
            {
                return NameProblem.MixedScripts;
            }
        }

        return NameProblem.None;
    }

    private static Script ScriptOf(int value)
    {
        int low = 0, high = Blocks.Length - 1;
        while (low <= high)
        {
            int middle = (low + high) / 2;
            (int first, int last, Script script) = Blocks[middle];
            if (value < first)
            {
                high = middle - 1;
            }
            else if (value > last)
            {
                low = middle + 1;
            }
            else
            {
                return script;
            }
        }

        return Script.Other + (value >> 7); // An unknown block: its own script, so two of them do not mix either.
    }

    private static bool InBlocks(int value, (int First, int Last)[] blocks)
    {
        int low = 0, high = blocks.Length - 1;
        while (low <= high)
        {
            int middle = (low + high) / 2;
            if (value < blocks[middle].First)
            {
                high = middle - 1;
            }
            else if (value > blocks[middle].Last)
            {
                low = middle + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }
}
