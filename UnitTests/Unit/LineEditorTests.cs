using PollChat.Client.Terminal;

namespace PollChat.Tests.Unit;

/// <summary>The interactive input line, without a screen: editing, word moves, history and completion.</summary>
[TestFixture]
public sealed class LineEditorTests
{
    private static readonly string[] Names = ["alice", "Alfred", "bob"];
    private static readonly string[] AliceAndAlfred = ["Alfred", "alice"];
    private static readonly string[] Commands = ["/join", "/juggle", "/msg"];

    [Test]
    public void Typing_and_moving_edit_where_the_cursor_is()
    {
        var editor = new LineEditor();
        editor.Insert("helo world");
        editor.Home();
        editor.Right();
        editor.Right();
        editor.Right();
        editor.Insert("l");
        Assert.That((editor.Text, editor.Cursor), Is.EqualTo(("hello world", 4)));

        editor.End();
        editor.Backspace();
        editor.Home();
        editor.Delete();
        Assert.That((editor.Text, editor.Cursor), Is.EqualTo(("ello worl", 0)));
        editor.Left();
        editor.Backspace();
        Assert.That((editor.Text, editor.Cursor), Is.EqualTo(("ello worl", 0)), "nothing before the start to move over or delete");
    }

    [Test]
    public void The_cursor_steps_over_whole_characters_as_people_see_them()
    {
        var editor = new LineEditor();
        editor.Insert("a👍🏽e\u0301z"); // Thumbs up with a skin tone (4 UTF-16 units), e with a combining accent (2).
        editor.Left();
        Assert.That(editor.Cursor, Is.EqualTo(7));
        editor.Left();
        Assert.That(editor.Cursor, Is.EqualTo(5), "over e and its accent together");
        editor.Backspace();
        Assert.That(editor.Text, Is.EqualTo("ae\u0301z"), "the emoji and its modifier went together");
        editor.Delete();
        Assert.That(editor.Text, Is.EqualTo("az"));
    }

    [Test]
    public void Word_moves_and_ctrl_w_work_on_words()
    {
        var editor = new LineEditor();
        editor.Insert("one  two three");
        editor.WordLeft();
        Assert.That(editor.Cursor, Is.EqualTo(9));
        editor.WordLeft();
        Assert.That(editor.Cursor, Is.EqualTo(5));
        editor.WordRight();
        Assert.That(editor.Cursor, Is.EqualTo(8));
        editor.End();
        editor.DeleteWordLeft();
        Assert.That(editor.Text, Is.EqualTo("one  two "));
        editor.DeleteWordLeft();
        Assert.That(editor.Text, Is.EqualTo("one  "));
    }

    [Test]
    public void Ctrl_w_and_word_moves_on_a_pasted_100000_character_word()
    {
        var editor = new LineEditor();
        string word = string.Concat(Enumerable.Repeat("ab\u0301c", 25_000)); // With a combining mark: words are cut between whole characters.
        editor.Insert("say " + word);

        editor.WordLeft();
        Assert.That(editor.Cursor, Is.EqualTo(4));
        editor.WordRight();
        Assert.That(editor.Cursor, Is.EqualTo(4 + word.Length));
        editor.DeleteWordLeft();
        Assert.That(editor.Text, Is.EqualTo("say "));
        Assert.That(editor.Cursor, Is.EqualTo(4));
    }

    [Test]
    public void Ctrl_u_and_ctrl_k_cut_before_and_after_the_cursor()
    {
        var editor = new LineEditor();
        editor.Insert("keep this, drop that");
        editor.Home();
        editor.WordRight();
        editor.WordRight();
        editor.DeleteToEnd();
        Assert.That((editor.Text, editor.Cursor), Is.EqualTo(("keep this,", 10)));

        editor.Insert(" and more");
        editor.WordLeft();
        editor.DeleteToStart();
        Assert.That((editor.Text, editor.Cursor), Is.EqualTo(("more", 0)));
    }

    [Test]
    public void Passwords_are_shown_masked_and_never_kept_in_the_history()
    {
        var editor = new LineEditor();
        editor.Insert("/login correct horse");
        Assert.That(editor.Shown, Is.EqualTo("/login *************"));
        Assert.That(editor.Text, Is.EqualTo("/login correct horse"), "what is sent is what was typed");
        Assert.That(editor.Submit(), Is.EqualTo("/login correct horse"));

        editor.Insert("/PASSWD old new-one");
        Assert.That(editor.Shown, Is.EqualTo("/PASSWD " + new string('*', "old new-one".Length)));
        editor.Submit();
        editor.Insert("hello");
        editor.Submit();

        editor.HistoryUp();
        Assert.That(editor.Text, Is.EqualTo("hello"));
        editor.HistoryUp();
        Assert.That(editor.Text, Is.EqualTo("hello"), "no password is in the history to come back");
    }

    [Test]
    public void Backspace_and_left_step_over_whole_characters_at_the_end_of_a_100000_character_line()
    {
        var editor = new LineEditor();
        string line = new string('x', 100_000) + "e\u0301\U0001F469\u200D\U0001F4BB";
        editor.Insert(line);

        editor.Backspace();
        Assert.That(editor.Text, Is.EqualTo(line[..^5]), "the ZWJ emoji goes as one character");
        editor.Left();
        Assert.That(editor.Cursor, Is.EqualTo(100_000), "e with its combining accent is one character");
        for (int i = 0; i < 1000; i++)
        {
            editor.Backspace();
        }

        Assert.That(editor.Text, Is.EqualTo(new string('x', 99_000) + "e\u0301"));
    }

    [Test]
    public void History_goes_back_and_forth_and_keeps_the_draft()
    {
        var editor = new LineEditor();
        foreach (string line in new[] { "first", "second", "second", "   " })
        {
            editor.Insert(line);
            editor.Submit();
        }

        editor.Insert("half typed");
        editor.HistoryUp();
        Assert.That(editor.Text, Is.EqualTo("second"), "a repeated line and a blank one are not kept");
        editor.HistoryUp();
        Assert.That(editor.Text, Is.EqualTo("first"));
        editor.HistoryUp();
        Assert.That(editor.Text, Is.EqualTo("first"));
        editor.HistoryDown();
        editor.HistoryDown();
        Assert.That((editor.Text, editor.Cursor), Is.EqualTo(("half typed", 10)));
        Assert.That(editor.Submit(), Is.EqualTo("half typed"));
        Assert.That(editor.Text, Is.Empty);
    }

    [Test]
    public void Tab_completes_a_unique_name_with_a_colon_at_the_start_and_a_space_elsewhere()
    {
        var editor = new LineEditor();
        editor.Insert("b");
        Assert.That(editor.Complete(Names), Is.Empty);
        Assert.That(editor.Text, Is.EqualTo("bob: "));

        editor.Insert("ask AL");
        IReadOnlyList<string> shown = editor.Complete(Names);
        Assert.That(shown, Is.EqualTo(AliceAndAlfred), "ambiguous: both are shown");
        Assert.That(editor.Text, Is.EqualTo("bob: ask Al"), "completed as far as they agree");
        editor.Insert("i");
        editor.Complete(Names);
        Assert.That(editor.Text, Is.EqualTo("bob: ask alice "));
    }

    [Test]
    public void Tab_completes_commands_and_leaves_a_word_with_no_match_alone()
    {
        var editor = new LineEditor();
        editor.Insert("/j");
        editor.Complete(Commands);
        Assert.That(editor.Text, Is.EqualTo("/j"));
        editor.Insert("o");
        editor.Complete(Commands);
        Assert.That(editor.Text, Is.EqualTo("/join "));
        editor.Insert("zz");
        Assert.That(editor.Complete(Commands), Is.Empty);
        Assert.That(editor.Text, Is.EqualTo("/join zz"));
        Assert.That(editor.WordBeforeCursor, Is.EqualTo("zz"));
    }
}
