using System.Text;

namespace PollChat.Common.Protocol;

/// <summary>
/// When two names look alike: the skeleton of Unicode TR39 ("confusable detection"), from a small
/// hand-kept table, for telling apart user and room names, not for display. A name's skeleton is
/// its characters lowercased (names compare without case), fullwidth forms narrowed, accents and
/// other combining marks dropped (so "é" typed as one character or as e + U+0301 is the same,
/// which invariant globalization cannot normalize), invisible characters dropped, and the common
/// look-alikes of Latin letters in Cyrillic, Greek and Armenian, and 0 and 1, mapped to the Latin
/// letter: "аlice" with a Cyrillic а, "ALICE", "alicé" and "al1ce" all have the skeleton "alice".
/// <para>
/// What it does not catch, compared with ICU's SpoofChecker (no maintained .NET package has one):
/// look-alikes outside its table (rare letters of other scripts, Cherokee, Canadian syllabics),
/// look-alikes of more than one character ("rn" and "m", "vv" and "w"), and capital I beside small
/// l, because names ignore case and so I must stay the same as i. It is stricter than TR39 in one
/// way: names that differ only by accents ("Zoe", "Zoë") count as the same.
/// </para>
/// </summary>
public static class Confusables
{
    /// <summary>Base letters of U+00C0..U+017F (Latin-1 letters, Latin Extended-A), from Unicode's canonical decompositions.</summary>
    private const string Latin1AndExtendedA =
        "AAAAAAÆCEEEEIIIIÐNOOOOO×ØUUUUYÞßaaaaaaæceeeeiiiiðnooooo÷øuuuuyþyAaAaAaCcCcCcCcDdĐđEeEeEeEeEeGgGgGgGgHhĦħIiIiIiIiIıĲĳJjKkĸLlLlLlĿŀŁłNnNnNnŉŊŋOoOoOoŒœRrRrRrSsSsSsSsTtTtŦŧUuUuUuUuUuUuWwYyYZzZzZzſ";

    /// <summary>The same for U+0386..U+03CE (Greek with tonos and dialytika).</summary>
    private const string GreekAccented =
        "Α·ΕΗΙ\u038bΟ\u038dΥΩιΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡ\u03a2ΣΤΥΦΧΨΩΙΥαεηιυαβγδεζηθικλμνξοπρςστυφχψωιυουω";

    /// <summary>The same for U+0400..U+045F (Cyrillic).</summary>
    private const string CyrillicBasic =
        "ЕЕЂГЄЅІІЈЉЊЋКИУЏАБВГДЕЖЗИИКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзииклмнопрстуфхцчшщъыьэюяееђгєѕііјљњћкиуџ";

    /// <summary>The same for U+1E00..U+1EFF (Latin Extended Additional: Vietnamese and others).</summary>
    private const string LatinExtendedAdditional =
        "AaBbBbBbCcDdDdDdDdDdEeEeEeEeEeFfGgHhHhHhHhHhIiIiKkKkKkLlLlLlLlMmMmMmNnNnNnNnOoOoOoOoPpPpRrRrRrRrSsSsSsSsSsTtTtTtTtUuUuUuUuUuVvVvWwWwWwWwWwXxXxYyZzZzZzhtwyẚſẜẝẞẟAaAaAaAaAaAaAaAaAaAaAaAaEeEeEeEeEeEeEeEeIiIiOoOoOoOoOoOoOoOoOoOoOoOoUuUuUuUuUuUuUuYyYyYyYyỺỻỼỽỾỿ";

    /// <summary>Compares names by skeleton, so a look-alike finds the name it imitates. Allocates nothing.</summary>
    public static IEqualityComparer<string> NameComparer { get; } = new SkeletonComparer();

    /// <summary>The skeleton of <paramref name="name"/> as a string: for tests and logs; comparing uses <see cref="NameComparer"/>.</summary>
    public static string Skeleton(string name)
    {
        var builder = new StringBuilder(name.Length);
        var reader = new SkeletonReader(name);
        while (reader.Next(out int value))
        {
            builder.Append(char.ConvertFromUtf32(value));
        }

        return builder.ToString();
    }

    /// <summary>Whether two names are the same or look alike.</summary>
    public static bool AreConfusable(string a, string b) => NameComparer.Equals(a, b);

    /// <summary>The skeleton of one character, or -1 when it has none (invisible, combining mark).</summary>
    private static int Map(Rune rune)
    {
        if (rune.Value < 0x80)
        {
            int ascii = rune.Value is >= 'A' and <= 'Z' ? rune.Value + 32 : rune.Value;
            return ascii switch { '0' => 'o', '1' or '|' => 'l', _ => ascii };
        }

        if (ControlCharacters.IsInvisibleOrBidi(rune) || Rune.GetUnicodeCategory(rune) is System.Globalization.UnicodeCategory.NonSpacingMark
            or System.Globalization.UnicodeCategory.EnclosingMark)
        {
            return -1;
        }

        if (rune.Value is >= 0xFF01 and <= 0xFF5E)
        {
            return Map(new Rune(rune.Value - 0xFEE0)); // Fullwidth ASCII.
        }

        int v = Rune.ToLowerInvariant(rune).Value;
        v = v switch
        {
            // The tables give capitals for capitals; İ and ẞ are capitals that lowercasing kept.
            >= 0x00C0 and <= 0x017F => char.ToLowerInvariant(Latin1AndExtendedA[v - 0x00C0]),
            >= 0x0386 and <= 0x03CE => char.ToLowerInvariant(GreekAccented[v - 0x0386]),
            >= 0x0400 and <= 0x045F => char.ToLowerInvariant(CyrillicBasic[v - 0x0400]),
            >= 0x1E00 and <= 0x1EFF => char.ToLowerInvariant(LatinExtendedAdditional[v - 0x1E00]),
            _ => v,
        };
        return v switch
        {
            // Cyrillic: letters that look Latin in lower case, or whose capital does (В, Н, М, Т, К).
            'а' => 'a', 'в' => 'b', 'е' => 'e', 'ѕ' => 's', 'і' => 'i', 'ј' => 'j', 'к' => 'k', 'м' => 'm', 'н' => 'h',
            'о' => 'o', 'р' => 'p', 'с' => 'c', 'т' => 't', 'у' => 'y', 'х' => 'x', 'ѵ' => 'v', 'һ' => 'h', 'ӏ' => 'l',
            'ү' => 'y', 'ԁ' => 'd', 'ԛ' => 'q', 'ԝ' => 'w',

            // Greek, the same way.
            'α' => 'a', 'β' => 'b', 'γ' => 'y', 'ε' => 'e', 'ζ' => 'z', 'η' => 'n', 'ι' => 'i', 'κ' => 'k', 'μ' => 'm',
            'ν' => 'v', 'ο' => 'o', 'ρ' => 'p', 'τ' => 't', 'υ' => 'u', 'χ' => 'x', 'ω' => 'w', 'ϲ' => 'c', 'ϳ' => 'j',

            // Armenian, and Latin letters that look like other Latin letters.
            'օ' => 'o', 'ս' => 'u', 'հ' => 'h', 'ո' => 'n', 'ı' => 'i', 'ĸ' => 'k', 'ɑ' => 'a', 'ɡ' => 'g', 'ɩ' => 'i', 'ǀ' => 'l',
            _ => v,
        };
    }

    /// <summary>Reads a name's skeleton one character at a time, so comparing and hashing need no copy.</summary>
    private ref struct SkeletonReader(ReadOnlySpan<char> text)
    {
        private readonly ReadOnlySpan<char> _text = text;
        private int _index;

        public bool Next(out int value)
        {
            while (_index < _text.Length)
            {
                Rune.DecodeFromUtf16(_text[_index..], out Rune rune, out int consumed); // A lone surrogate reads as U+FFFD.
                _index += consumed;
                value = Map(rune);
                if (value >= 0)
                {
                    return true;
                }
            }

            value = 0;
            return false;
        }
    }

    private sealed class SkeletonComparer : IEqualityComparer<string>
    {
        public bool Equals(string? x, string? y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }

            if (x is null || y is null)
            {
                return false;
            }

            var a = new SkeletonReader(x);
            var b = new SkeletonReader(y);
            while (true)
            {
                bool moreA = a.Next(out int fromA);
                bool moreB = b.Next(out int fromB);
                if (moreA != moreB || fromA != fromB)
                {
                    return false;
                }

                if (!moreA)
                {
                    return true;
                }
            }
        }

        public int GetHashCode(string obj)
        {
            var hash = new HashCode();
            var reader = new SkeletonReader(obj);
            while (reader.Next(out int value))
            {
                hash.Add(value);
            }

            return hash.ToHashCode();
        }
    }
}
