using PollChat.Client.Terminal;

namespace PollChat.Tests.Unit;

/// <summary>Terminal widths and line wrapping, with wide and combining characters.</summary>
[TestFixture]
public sealed class TextLayoutTests
{
    private static readonly int[] Widths = [1, 2, 3, 5, 8, 13, 40];

    [TestCase("abc", 3)]
    [TestCase("日本語", 6)]
    [TestCase("e\u0301", 1)]
    [TestCase("😀", 2)]
    [TestCase("", 0)]
    public void Width_counts_terminal_cells(string text, int cells) => Assert.That(TextLayout.Width(text), Is.EqualTo(cells));

    [Test]
    public void Wrapping_breaks_between_words_when_a_word_fits()
    {
        Assert.That(string.Join("|", TextLayout.Wrap("the quick brown fox", 10)), Is.EqualTo("the quick|brown fox"));
        Assert.That(string.Join("|", TextLayout.Wrap("short", 10)), Is.EqualTo("short"));
        Assert.That(string.Join("|", TextLayout.Wrap("", 10)), Is.EqualTo(""));
    }

    [Test]
    public void A_word_longer_than_the_line_breaks_between_characters_never_inside_one()
    {
        Assert.That(string.Join("|", TextLayout.Wrap("abcdefghij", 4)), Is.EqualTo("abcd|efgh|ij"));
        Assert.That(string.Join("|", TextLayout.Wrap("日本語テキスト", 5)), Is.EqualTo("日本|語テ|キス|ト"), "a wide character that does not fit moves to the next line");
        Assert.That(string.Join("|", TextLayout.Wrap("e\u0301e\u0301e\u0301", 2)), Is.EqualTo("e\u0301e\u0301|e\u0301"), "an accent stays with its letter");
    }

    [Test]
    public void Every_wrapped_line_fits_and_nothing_is_lost_but_the_spaces_at_breaks()
    {
        string text = "PollChat 是一个终端聊天 with 😀 emoji and looooooooooooong words, café é\u0301";
        foreach (int width in Widths)
        {
            List<string> lines = TextLayout.Wrap(text, width);
            Assert.That(lines.All(l => TextLayout.Width(l) <= Math.Max(width, 2)), Is.True, $"width {width}: {string.Join("|", lines)}");
            Assert.That(string.Concat(lines).Replace(" ", "", StringComparison.Ordinal), Is.EqualTo(text.Replace(" ", "", StringComparison.Ordinal)), $"width {width}");
        }
    }

    [Test]
    public void A_zwj_emoji_sequence_is_two_cells_as_terminals_draw_it()
    {
        // 👩‍💻: woman, zero-width joiner, laptop. Spectre.Console 0.49.1 counted 4 cells, which left a gap after it on screen.
        Assert.That(TextLayout.Width("\U0001F469\u200D\U0001F4BB"), Is.EqualTo(2));
        Assert.That(TextLayout.Width("a\U0001F469\u200D\U0001F4BBb"), Is.EqualTo(4));
    }
}
