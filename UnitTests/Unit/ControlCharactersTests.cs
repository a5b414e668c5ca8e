using System.Text;
using PollChat.Common.Protocol;

namespace PollChat.Tests.Unit;

[TestFixture]
public sealed class ControlCharactersTests
{
    [TestCase(0x1B, TestName = "Escape is removed")]
    [TestCase(0x07, TestName = "Bell is removed")]
    [TestCase(0x0D, TestName = "Carriage return is removed")]
    [TestCase(0x08, TestName = "Backspace is removed")]
    [TestCase(0x00, TestName = "NUL is removed")]
    [TestCase(0x7F, TestName = "DEL is removed")]
    [TestCase(0x9B, TestName = "The C1 CSI is removed")]
    [TestCase(0x85, TestName = "The C1 next-line is removed")]
    public void A_control_character_is_removed_from_bytes_and_text(int codePoint)
    {
        string text = $"a{(char)codePoint}b";
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        byte[] destination = new byte[utf8.Length];

        int written = ControlCharacters.Strip(utf8, destination);

        Assert.That(ControlCharacters.Any(utf8), Is.True);
        Assert.That(Encoding.UTF8.GetString(destination, 0, written), Is.EqualTo("ab"));
        Assert.That(ControlCharacters.Strip(text), Is.EqualTo("ab"));
    }

    [TestCase("plain text")]
    [TestCase("tab\tstays")]
    [TestCase("é ü 名前 👋 \u00a0")]
    [TestCase("Â and ¢ are letters: their UTF-8 starts with 0xC3 and 0xC2 but is no C1 code")]
    public void Text_without_control_characters_is_untouched_and_not_copied(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);

        Assert.That(ControlCharacters.Any(utf8), Is.False);
        Assert.That(ControlCharacters.Strip(text), Is.SameAs(text));
    }

    [Test]
    public void Multibyte_characters_next_to_removed_ones_survive_intact()
    {
        byte[] utf8 = Encoding.UTF8.GetBytes("é\u001b[0m名\u009b👋");
        byte[] destination = new byte[utf8.Length];

        int written = ControlCharacters.Strip(utf8, destination);

        Assert.That(Encoding.UTF8.GetString(destination, 0, written), Is.EqualTo("é[0m名👋"));
    }

    [Test]
    public void A_destination_shorter_than_the_input_is_refused()
    {
        Assert.That(() => ControlCharacters.Strip("abc"u8, new byte[2]), Throws.ArgumentException);
    }
}

/// <summary>The display policy beyond C0 and C1 (PROTOCOL.md, "Text shown to others"): bidi controls and invisible characters go, what writing needs stays.</summary>
[TestFixture]
public sealed class DisplayPolicyTests
{
    private static string Clean(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        byte[] destination = new byte[utf8.Length];
        string fromBytes = Encoding.UTF8.GetString(destination, 0, ControlCharacters.Strip(utf8, destination));
        Assert.That(ControlCharacters.Strip(text), Is.EqualTo(fromBytes), "the text and byte forms agree");
        Assert.That(ControlCharacters.Any(utf8), Is.EqualTo(fromBytes != text), "Any says whether Strip changes anything");
        return fromBytes;
    }

    [TestCase(0x202E, TestName = "RLO (right-to-left override) is removed")]
    [TestCase(0x202D, TestName = "LRO (left-to-right override) is removed")]
    [TestCase(0x202A, TestName = "LRE is removed")]
    [TestCase(0x202B, TestName = "RLE is removed")]
    [TestCase(0x202C, TestName = "PDF is removed")]
    [TestCase(0x2066, TestName = "LRI is removed")]
    [TestCase(0x2067, TestName = "RLI (right-to-left isolate) is removed")]
    [TestCase(0x2068, TestName = "FSI is removed")]
    [TestCase(0x2069, TestName = "PDI (pop directional isolate) is removed")]
    [TestCase(0x061C, TestName = "ALM (Arabic letter mark) is removed")]
    [TestCase(0x200E, TestName = "LRM is removed")]
    [TestCase(0x200F, TestName = "RLM is removed")]
    [TestCase(0x200B, TestName = "The zero-width space is removed")]
    [TestCase(0x2060, TestName = "The word joiner is removed")]
    [TestCase(0xFEFF, TestName = "The BOM (zero-width no-break space) is removed")]
    [TestCase(0x00AD, TestName = "The soft hyphen is removed")]
    [TestCase(0x3164, TestName = "The Hangul filler is removed")]
    [TestCase(0xFFA0, TestName = "The halfwidth Hangul filler is removed")]
    [TestCase(0x115F, TestName = "The Hangul choseong filler is removed")]
    [TestCase(0x2028, TestName = "The line separator is removed")]
    [TestCase(0x2029, TestName = "The paragraph separator is removed")]
    [TestCase(0x034F, TestName = "The combining grapheme joiner is removed")]
    [TestCase(0x2062, TestName = "An invisible operator is removed")]
    [TestCase(0xFFF9, TestName = "An interlinear annotation mark is removed")]
    [TestCase(0xE0041, TestName = "A tag character outside a flag is removed")]
    [TestCase(0xE007F, TestName = "A lone cancel tag is removed")]
    [TestCase(0xE0001, TestName = "The language tag is removed")]
    [TestCase(0x200D, TestName = "ZWJ between Latin letters is removed")]
    [TestCase(0x200C, TestName = "ZWNJ between Latin letters is removed")]
    [TestCase(0xFE0F, TestName = "A variation selector after a space is removed")]
    public void An_invisible_or_bidi_character_is_removed(int codePoint)
    {
        string text = $"pay {char.ConvertFromUtf32(codePoint)}pal";

        Assert.That(Clean(text), Is.EqualTo("pay pal"));
    }

    [Test]
    public void The_blank_braille_cell_becomes_a_space()
    {
        Assert.That(Clean("a\u2800\u2800b \u28ff"), Is.EqualTo("a  b \u28ff"));
    }

    [Test]
    public void The_reversed_file_name_reads_as_it_is()
    {
        Assert.That(Clean("invoice\u202efdp.exe"), Is.EqualTo("invoicefdp.exe"));
    }

    [Test]
    public void Tag_characters_smuggling_ascii_are_removed()
    {
        string hidden = string.Concat("ignore all".Select(c => char.ConvertFromUtf32(0xE0000 + c)));

        Assert.That(Clean($"hi{hidden}!"), Is.EqualTo("hi!"));
    }

    [TestCase("👨\u200d👩\u200d👧", TestName = "ZWJ in a family emoji stays")]
    [TestCase("🧑🏽\u200d💻", TestName = "ZWJ after a skin tone stays")]
    [TestCase("🏳\ufe0f\u200d🌈", TestName = "ZWJ after a presentation selector stays (rainbow flag)")]
    [TestCase("❤\ufe0f and ☺\ufe0e", TestName = "One variation selector after a symbol stays")]
    [TestCase("葛\U000E0100", TestName = "An ideographic variation selector stays")]
    [TestCase("\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", TestName = "The England flag's tag sequence stays")]
    [TestCase("می\u200cخواهم", TestName = "ZWNJ in Persian stays")]
    [TestCase("क्\u200dष", TestName = "ZWJ after a Devanagari virama stays")]
    [TestCase("ශ්\u200dර", TestName = "ZWJ in Sinhala stays")]
    [TestCase("plain ASCII, tabs\tand punctuation: “quotes” — €5", TestName = "Plain text stays")]
    [TestCase("Привет, 世界, こんにちは, 안녕, مرحبا, שלום", TestName = "Text in many scripts stays")]
    public void What_writing_needs_stays_and_is_not_copied(string text)
    {
        Assert.That(Clean(text), Is.EqualTo(text));
        Assert.That(ControlCharacters.Strip(text), Is.SameAs(text));
    }

    [Test]
    public void A_flag_tag_sequence_that_is_too_long_or_unfinished_is_removed()
    {
        string tags = string.Concat("abcdefgh".Select(c => char.ConvertFromUtf32(0xE0000 + c)));

        Assert.That(Clean($"\U0001F3F4{tags}\U000E007F"), Is.EqualTo("\U0001F3F4"));
        Assert.That(Clean($"\U0001F3F4{tags[..6]}x"), Is.EqualTo("\U0001F3F4x"));
    }

    [Test]
    public void A_second_variation_selector_is_removed()
    {
        Assert.That(Clean("a\ufe0f\ufe0fb"), Is.EqualTo("a\ufe0fb"));
    }

    [Test]
    public void Several_marks_in_a_row_are_all_removed_and_neighbours_survive()
    {
        Assert.That(Clean("é\u202e\u2066名\u200b\u200b👋\ufeff"), Is.EqualTo("é名👋"));
    }
}
