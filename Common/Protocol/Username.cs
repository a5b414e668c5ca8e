using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace PollChat.Common.Protocol;

/// <summary>
/// The rules every username follows, checked the same way by server and client: non-empty,
/// valid UTF-8, at most a configured number of bytes, no whitespace, control, invisible or bidi
/// characters, not starting with the server's reserved prefix, and <see cref="NamePolicy"/>'s
/// rules (no symbols, no compatibility forms such as fullwidth letters, one script). Uniqueness,
/// by look-alike skeleton (<see cref="Confusables"/>), is the server's business.
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

        for (ReadOnlySpan<byte> rest = utf8; !rest.IsEmpty;)
        {
            Rune.DecodeFromUtf8(rest, out Rune rune, out int consumed);
            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune) || ControlCharacters.IsInvisibleOrBidi(rune))
            {
                return "the name contains a space, a control character or an invisible character";
            }

            rest = rest[consumed..];
        }

        return NamePolicy.Check(utf8) switch
        {
            NameProblem.Character => "the name may have letters, digits, combining marks and ASCII punctuation only (no symbols or emoji)",
            NameProblem.CompatibilityForm => "the name has a fullwidth, mathematical or other compatibility form of a letter or digit; type the ordinary letter",
            NameProblem.MixedScripts => "the name mixes scripts (Latin and Cyrillic, say); use one, or Latin with Chinese, Japanese or Korean",
            NameProblem.LeadingMark => "the name starts with a combining mark",
            _ => null,
        };
    }

    /// <summary>The same rules for a name typed as text.</summary>
    public static string? Validate(string name, int maxBytes) => Validate(Encoding.UTF8.GetBytes(name), maxBytes);
}
