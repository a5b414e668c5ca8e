using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace PollChat.Common.Protocol;

/// <summary>
/// The rules every username follows, checked the same way by server and client: non-empty,
/// valid UTF-8, at most a configured number of bytes, no whitespace, control or invisible
/// formatting characters, and not starting with the server's reserved prefix. Uniqueness is the
/// server's business and is not checked here.
/// </summary>
public static class Username
{
    /// <summary>
    /// Returns null when <paramref name="utf8"/> is an acceptable name, otherwise one sentence
    /// saying what is wrong. Allocates only for the returned sentence.
    /// </summary>
    public static string? Validate(ReadOnlySpan<byte> utf8, int maxBytes)
    {
        if (utf8.IsEmpty)
        {
            return "the name is empty";
        }

        if (utf8.Length > maxBytes)
        {
            return $"the name is longer than {maxBytes} bytes";
        }

        if (!Utf8.IsValid(utf8))
        {
            return "the name is not valid UTF-8";
        }

        if (utf8[0] == (byte)ServerSender.ReservedPrefix)
        {
            return $"names starting with '{ServerSender.ReservedPrefix}' are reserved for the server";
        }

        while (!utf8.IsEmpty)
        {
            Rune.DecodeFromUtf8(utf8, out Rune rune, out int consumed);
            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune) || IsInvisible(rune))
            {
                return "the name contains a space, a control character or an invisible character";
            }

            utf8 = utf8[consumed..];
        }

        return null;
    }

    /// <summary>
    /// Characters that draw nothing, so "bob" plus one of them would pass for "bob": format
    /// characters (zero-width space, bidi overrides, BOM) and the default-ignorable fillers and
    /// variation selectors that Unicode files under other categories, plus the blank Braille cell.
    /// </summary>
    private static bool IsInvisible(Rune rune) =>
        Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format || rune.Value is 0x034F or 0x115F or 0x1160
            or 0x17B4 or 0x17B5 or (>= 0x180B and <= 0x180F) or 0x2800 or 0x3164 or (>= 0xFE00 and <= 0xFE0F)
            or 0xFFA0 or (>= 0xE0100 and <= 0xE01EF);

    /// <summary>The same rules for a name typed as text.</summary>
    public static string? Validate(string name, int maxBytes) => Validate(Encoding.UTF8.GetBytes(name), maxBytes);
}
