using PollChat.Common.Protocol;

namespace PollChat.Tests.Unit;

/// <summary>The stricter policy for names (PROTOCOL.md, "Names"): one script, no compatibility forms, uniqueness by look-alike skeleton.</summary>
[TestFixture]
public sealed class NameSpoofingTests
{
    private const int Max = ProtocolLimits.DefaultMaxUsernameBytes;

    [TestCase("\u0430lice", "mixes scripts", TestName = "Latin with a Cyrillic a is refused")]
    [TestCase("p\u0430yp\u0430l", "mixes scripts", TestName = "Latin with two Cyrillic a is refused")]
    [TestCase("\u03bfscar", "mixes scripts", TestName = "Latin with a Greek omicron is refused")]
    [TestCase("alice\u0663", "mixes scripts", TestName = "Latin with an Arabic-Indic digit is refused")]
    [TestCase("\u3042\u314f", "compatibility", TestName = "Hangul compatibility jamo are refused")]
    [TestCase("\u3042\uac00", "mixes scripts", TestName = "Hiragana with Hangul is refused")]
    [TestCase("\uff41\uff4c\uff49\uff43\uff45", "fullwidth", TestName = "Fullwidth letters are refused")]
    [TestCase("ａlice", "fullwidth", TestName = "One fullwidth letter is refused")]
    [TestCase("\U0001d41a\U0001d425ice", "fullwidth", TestName = "Mathematical bold letters are refused")]
    [TestCase("\u2160", "compatibility", TestName = "A Roman numeral is refused")]
    [TestCase("al\ufb01", "fullwidth", TestName = "A ligature is refused")]
    [TestCase("bob\u1d43", "fullwidth", TestName = "A superscript letter is refused")]
    [TestCase("bob👋", "letters, digits", TestName = "An emoji is refused")]
    [TestCase("bob\u2022", "letters, digits", TestName = "Non-ASCII punctuation is refused")]
    [TestCase("\u0301bob", "combining mark", TestName = "A leading combining mark is refused")]
    [TestCase("bob\u2066", "invisible", TestName = "A bidi isolate is refused")]
    [TestCase("bob\U000E0041", "invisible", TestName = "A tag character is refused")]
    public void A_spoofing_name_is_refused_with_the_reason(string name, string reason)
    {
        Assert.That(Username.Validate(name, Max), Does.Contain(reason));
    }

    [TestCase("алиса", TestName = "A Cyrillic name is valid")]
    [TestCase("Ἀλέξανδρος", TestName = "A Greek name is valid")]
    [TestCase("山田たろう", TestName = "Han with Hiragana is valid")]
    [TestCase("Taro山田タロウ", TestName = "Latin, Han and Katakana are valid")]
    [TestCase("김철수kim", TestName = "Hangul with Latin is valid")]
    [TestCase("علی_۲", TestName = "An Arabic name with a Persian digit is valid")]
    [TestCase("देवनागरी", TestName = "A Devanagari name with vowel signs is valid")]
    [TestCase("Zoe\u0308", TestName = "A decomposed accent is valid")]
    [TestCase("Nguyễn", TestName = "A Vietnamese name is valid")]
    [TestCase("bob_42-x.y|z", TestName = "ASCII punctuation is valid")]
    public void An_honest_name_in_one_script_is_valid(string name)
    {
        Assert.That(Username.Validate(name, Max), Is.Null);
    }

    [TestCase("alice", "ALICE")]
    [TestCase("alice", "Alicé")]
    [TestCase("alicé", "alice\u0301")]
    [TestCase("bill", "bi11")]
    [TestCase("bob", "b0b")]
    [TestCase("pop", "\u0440\u043e\u0440")]
    [TestCase("hack", "\u043d\u0430\u0441\u043a")]
    [TestCase("ocean", "\u03bf\u03f2\u03b5\u03b1\u03b7")]
    [TestCase("alice", "ａｌｉｃｅ")]
    [TestCase("alice", "ali\u200bce")]
    public void Look_alikes_have_the_same_skeleton(string name, string lookAlike)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Confusables.AreConfusable(name, lookAlike), Is.True, $"skeletons {Confusables.Skeleton(name)} and {Confusables.Skeleton(lookAlike)}");
            Assert.That(Confusables.NameComparer.GetHashCode(name), Is.EqualTo(Confusables.NameComparer.GetHashCode(lookAlike)));
        }
    }

    [TestCase("alice", "alicia")]
    [TestCase("bob", "bobby")]
    [TestCase("bob", "bo")]
    [TestCase("юля", "юлия")]
    [TestCase("mike", "nike")]
    public void Different_names_stay_different(string name, string other)
    {
        Assert.That(Confusables.AreConfusable(name, other), Is.False);
    }

    [Test]
    public void A_dictionary_keyed_by_skeleton_finds_the_look_alike()
    {
        var names = new Dictionary<string, int>(Confusables.NameComparer) { ["alice"] = 1 };

        Assert.That(names.ContainsKey("\u0430lice"), Is.True);
        Assert.That(names.TryAdd("ALİCE", 2), Is.False);
    }
}
