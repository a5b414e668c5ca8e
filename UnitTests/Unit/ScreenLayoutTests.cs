using PollChat.Client.Terminal;

namespace PollChat.Tests.Unit;

/// <summary>The interactive screen's layout, without a terminal: chat, user list, status and the input line that nothing overwrites.</summary>
[TestFixture]
public sealed class ScreenLayoutTests
{
    private static readonly int[] FirstThreeLines = [0, 1, 2];
    private static readonly string[] ThreeUsers = ["alice", "bob", "carol"];
    private static readonly string[] Chat = ["[14:02] *** Welcome, alice! Online (2): bob, carol.", "[14:02] bob > hi alice", "[14:03] carol > 你好，大家好"];

    [Test]
    public void A_wide_terminal_shows_the_chat_the_user_list_the_status_and_the_input()
    {
        RenderedScreen screen = ScreenLayout.Render(new ScreenState(100, 6, Chat, "127.0.0.1:9000 | #lobby | 3 online", "half a li", 9, ThreeUsers));

        Assert.That(screen.Rows, Has.Count.EqualTo(6));
        // The chat sits at the bottom, newest last; the list starts at the top.
        Assert.That(screen.Rows[0].TrimStart(), Is.EqualTo("│ 3 online"));
        Assert.That(screen.Rows[1], Does.StartWith("[14:02] *** Welcome").And.EndWith("│ alice"));
        Assert.That(screen.Rows[2], Does.StartWith("[14:02] bob > hi alice").And.EndWith("│ bob"));
        Assert.That(screen.Rows[3], Does.StartWith("[14:03] carol > 你好，大家好").And.EndWith("│ carol"));
        Assert.That(screen.Rows[4], Is.EqualTo("127.0.0.1:9000 | #lobby | 3 online"));
        Assert.That(screen.Rows[5], Is.EqualTo("> half a li"));
        Assert.That((screen.CursorRow, screen.CursorColumn), Is.EqualTo((5, 11)));
        Assert.That(screen.Rows.Take(4).Select(r => r.IndexOf('│', StringComparison.Ordinal) is var at and >= 0 ? TextLayout.Width(r[..at]) : -1).Distinct(), Is.EqualTo(new[] { 100 - ScreenLayout.UserListWidth }), "the separator lines up, wide characters counted as two cells");
    }

    [Test]
    public void A_narrow_terminal_has_no_list_and_wraps_long_lines_keeping_the_newest()
    {
        string[] lines = ["old line that scrolls away", "[14:05] bob > " + new string('x', 50)];
        RenderedScreen screen = ScreenLayout.Render(new ScreenState(30, 4, lines, "status", "", 0, ThreeUsers));

        Assert.That(screen.Rows[0], Is.EqualTo(new string('x', 30)), "the newest line, wrapped, fills the chat rows; older rows scroll away");
        Assert.That(screen.Rows[1], Is.EqualTo(new string('x', 20)));
        Assert.That(screen.Rows.All(r => TextLayout.Width(r) <= 30), Is.True);
        Assert.That(screen.Rows.Any(r => r.Contains('│', StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public void Scrolling_back_shows_older_rows_and_stops_at_the_oldest()
    {
        string[] lines = [.. Enumerable.Range(1, 10).Select(i => $"line {i}")];

        RenderedScreen newest = ScreenLayout.Render(new ScreenState(30, 5, lines, "status", "", 0, []));
        RenderedScreen back = ScreenLayout.Render(new ScreenState(30, 5, lines, "status", "typing", 6, [], ScrollBack: 4));
        RenderedScreen tooFar = ScreenLayout.Render(new ScreenState(30, 5, lines, "status", "", 0, [], ScrollBack: 50));

        Assert.That(string.Join("|", newest.Rows.Take(3)), Is.EqualTo("line 8|line 9|line 10"));
        Assert.That(string.Join("|", back.Rows.Take(3)), Is.EqualTo("line 4|line 5|line 6"));
        Assert.That(back.Rows[^1], Is.EqualTo("> typing"), "the input row stays where it is");
        Assert.That(back.ScrollBack, Is.EqualTo(4));
        Assert.That(string.Join("|", tooFar.Rows.Take(3)), Is.EqualTo("line 1|line 2|line 3"));
        Assert.That(tooFar.ScrollBack, Is.EqualTo(7), "no further than the oldest line, so one PageDown is seen at once");
        Assert.That(tooFar.ChatSources.Take(3), Is.EqualTo(FirstThreeLines), "rows keep pointing at their lines for styling");
    }

    [Test]
    public void Scrolling_back_counts_wrapped_rows()
    {
        string[] lines = ["first", new string('x', 25), "last"];

        RenderedScreen screen = ScreenLayout.Render(new ScreenState(20, 4, lines, "", "", 0, [], ScrollBack: 1));

        Assert.That(screen.Rows[0], Is.EqualTo(new string('x', 20)));
        Assert.That(screen.Rows[1], Is.EqualTo("xxxxx"), "one row up shows the second half of the wrapped line, not the line before it");
    }

    [Test]
    public void A_long_input_scrolls_sideways_so_the_cursor_always_shows()
    {
        string typed = string.Concat(Enumerable.Range(0, 30).Select(i => $"w{i:D2} "));
        RenderedScreen atEnd = ScreenLayout.Render(new ScreenState(40, 3, [], "", typed, typed.Length, []));
        Assert.That(atEnd.Rows[2], Does.StartWith("> ").And.EndWith("w29 "));
        Assert.That(atEnd.CursorColumn, Is.LessThan(40));

        RenderedScreen atStart = ScreenLayout.Render(new ScreenState(40, 3, [], "", typed, 0, []));
        Assert.That(atStart.Rows[2], Does.StartWith("> w00 w01"));
        Assert.That(atStart.CursorColumn, Is.EqualTo(2));
        Assert.That(TextLayout.Width(atStart.Rows[2]), Is.LessThanOrEqualTo(40));
    }

    [Test]
    public void The_cursor_column_counts_wide_characters_as_two()
    {
        RenderedScreen screen = ScreenLayout.Render(new ScreenState(40, 3, [], "", "日本語abc", 3, []));

        Assert.That(screen.CursorColumn, Is.EqualTo(2 + 6));
    }

    [Test]
    public void A_pasted_line_of_100000_characters_shows_its_end_and_the_cursor_beside_it()
    {
        string pasted = string.Concat(Enumerable.Repeat("abcdefghij", 10_000)) + "日本語 end";
        RenderedScreen atEnd = ScreenLayout.Render(new ScreenState(40, 3, [], "", pasted, pasted.Length, []));
        Assert.That(atEnd.Rows[2], Does.StartWith("> ").And.EndWith("日本語 end"));
        Assert.That(atEnd.CursorColumn, Is.EqualTo(2 + 37), "the row is full up to the cursor, which has the last column");
        Assert.That(TextLayout.Width(atEnd.Rows[2]), Is.LessThanOrEqualTo(40));

        RenderedScreen inside = ScreenLayout.Render(new ScreenState(40, 3, [], "", pasted, 50_005, []));
        Assert.That(inside.Rows[2], Does.StartWith("> ").And.Contains("abcde"));
        Assert.That(inside.Rows[2][inside.CursorColumn], Is.EqualTo('f'), "the cursor stands on the character at its index");
        Assert.That(inside.Rows[2][..inside.CursorColumn], Does.EndWith("abcde"), "and what comes before it is the text before it");
    }
}
