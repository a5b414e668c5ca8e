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
