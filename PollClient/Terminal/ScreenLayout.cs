namespace PollChat.Client.Terminal;

/// <summary>Everything the interactive screen shows, as data: what <see cref="ScreenLayout.Render"/> lays out.</summary>
/// <param name="Width">Terminal columns.</param>
/// <param name="Height">Terminal rows.</param>
/// <param name="ChatLines">Chat and notice lines, oldest first, already formatted (and neutralised) for reading.</param>
/// <param name="Status">The status line's text: server, room, online count, away, unread.</param>
/// <param name="Input">What is typed so far.</param>
/// <param name="Cursor">The cursor's index into <paramref name="Input"/>.</param>
/// <param name="Users">The user list beside the chat, when the terminal is wide enough.</param>
/// <param name="ScrollBack">How many chat rows the view is moved up from the newest (PageUp); 0 follows the newest.</param>
public sealed record ScreenState(int Width, int Height, IReadOnlyList<string> ChatLines, string Status, string Input, int Cursor, IReadOnlyCollection<string> Users, int ScrollBack = 0);

/// <summary>The screen as rows of text, each at most the terminal's width, and where the cursor goes.</summary>
/// <param name="Rows">Every row, top to bottom.</param>
/// <param name="CursorRow">The input row.</param>
/// <param name="CursorColumn">Where the cursor stands in it.</param>
/// <param name="ChatSources">For each chat row, the index of the chat line it shows part of (-1 for a blank row), so a row can be styled as its line is.</param>
/// <param name="ScrollBack">The scroll actually shown: the one asked for, but never past the oldest line.</param>
public sealed record RenderedScreen(IReadOnlyList<string> Rows, int CursorRow, int CursorColumn, IReadOnlyList<int> ChatSources, int ScrollBack);

/// <summary>
/// Where everything goes on the screen, with no terminal attached: chat on top (newest at the
/// bottom, wrapped to fit), the user list in a column on the right when the terminal is wide
/// enough, the status line, and the input line at the bottom, scrolled sideways so the cursor
/// always shows. Incoming lines never touch the input row, which is the point of the layout.
/// </summary>
public static class ScreenLayout
{
    /// <summary>Narrower than this, the chat needs every column and the list is left to /users.</summary>
    public const int MinWidthForUserList = 80;

    /// <summary>Room for a 16-cell name, plus the separator and a space.</summary>
    public const int UserListWidth = 18;

    /// <summary>Marks the input row.</summary>
    public const string Prompt = "> ";

    /// <summary>Separates the chat from the user list.</summary>
    private const string Separator = "│ ";

    /// <summary>How many rows the chat area has on a terminal this high: all but the status and input rows.</summary>
    public static int ChatRows(int height) => Math.Max(0, height - 2);

    /// <summary>How many columns the chat area has on a terminal this wide: all but the user list's, when it shows.</summary>
    public static int ChatWidth(int width)
    {
        width = Math.Max(width, Prompt.Length + 2);
        return width >= MinWidthForUserList ? width - UserListWidth : width;
    }

    public static RenderedScreen Render(ScreenState state)
    {
        int width = Math.Max(state.Width, Prompt.Length + 2);
        int chatRows = ChatRows(state.Height);
        bool withList = width >= MinWidthForUserList;
        int chatWidth = ChatWidth(width);

        var rows = new List<string>(state.Height);
        (List<string> chat, List<int> sources, int scrollBack) = VisibleRows(state.ChatLines, chatWidth, chatRows, Math.Max(0, state.ScrollBack));
        List<string> list = withList ? ListRows(state.Users, chatRows) : [];
        for (int row = 0; row < chatRows; row++)
        {
            string left = row < chat.Count ? chat[row] : "";
            rows.Add(withList ? PadTo(left, chatWidth) + Separator + (row < list.Count ? list[row] : "") : left);
        }

        rows.Add(Fit(state.Status, width));
        (string inputRow, int cursorColumn) = InputRow(state.Input, state.Cursor, width);
        rows.Add(inputRow);
        return new RenderedScreen(rows, rows.Count - 1, cursorColumn, sources, scrollBack);
    }

    /// <summary>
    /// The <paramref name="count"/> screen rows of the wrapped lines that end <paramref name="scrollBack"/>
    /// rows above the newest, padded at the top when there are fewer; and the scroll that was possible.
    /// Only the lines that can show are wrapped, so a long scrollback costs nothing while following the newest.
    /// </summary>
    private static (List<string> Rows, List<int> Sources, int ScrollBack) VisibleRows(IReadOnlyList<string> lines, int width, int count, int scrollBack)
    {
        var rows = new List<string>();
        var sources = new List<int>();
        for (int i = lines.Count - 1; i >= 0 && rows.Count < count + scrollBack; i--)
        {
            // Gathered newest first, each line's rows reversed, and turned round once at the end: no insertions at the front.
            List<string> wrapped = TextLayout.Wrap(lines[i], width);
            for (int part = wrapped.Count - 1; part >= 0; part--)
            {
                rows.Add(wrapped[part]);
                sources.Add(i);
            }
        }

        rows.Reverse();
        sources.Reverse();

        scrollBack = Math.Min(scrollBack, Math.Max(0, rows.Count - count)); // Never past the oldest line: the top of the scrollback stays put.
        rows.RemoveRange(rows.Count - scrollBack, scrollBack);
        sources.RemoveRange(sources.Count - scrollBack, scrollBack);
        if (rows.Count > count)
        {
            rows.RemoveRange(0, rows.Count - count);
            sources.RemoveRange(0, sources.Count - count);
        }

        while (rows.Count < count)
        {
            rows.Insert(0, "");
            sources.Insert(0, -1);
        }

        return (rows, sources, scrollBack);
    }

    private static List<string> ListRows(IReadOnlyCollection<string> users, int count)
    {
        int room = UserListWidth - Separator.Length;
        var rows = new List<string> { Fit($"{users.Count} online", room) };
        foreach (string user in users)
        {
            if (rows.Count == count - 1 && users.Count > count - 1)
            {
                rows.Add(Fit($"+{users.Count - (count - 2)} more", room));
                break;
            }

            rows.Add(Fit(ChatView.Neutralise(user), room)); // Names come from the server, which may not filter them.
        }

        return [.. rows.Take(count)];
    }

    /// <summary>
    /// The prompt and as much of the input as fits, scrolled so the cursor is on screen; the cursor's
    /// column. Only the text around the cursor is measured, so drawing costs the row's width, not
    /// the line's length: a 70,000-character paste is drawn as fast as a word.
    /// </summary>
    private static (string Row, int CursorColumn) InputRow(string input, int cursor, int width)
    {
        int room = width - Prompt.Length - 1; // The last column stays free for the cursor at the end of the line.
        // No character is narrower than one cell, and one on screen is rarely more than a few chars (an emoji sequence), so what
        // can show before the cursor starts well within this window.
        int windowStart = Math.Max(0, cursor - (room * CharsPerCellAtMost));
        var starts = new List<int>();
        var cells = new List<int>();
        for (int index = windowStart; index < cursor;)
        {
            int length = Math.Min(System.Globalization.StringInfo.GetNextTextElementLength(input, index), cursor - index);
            starts.Add(index);
            cells.Add(TextLayout.Width(input.Substring(index, length)));
            index += length;
        }

        int used = 0;
        int first = cells.Count;
        while (first > 0 && used + cells[first - 1] <= room)
        {
            used += cells[--first];
        }

        int start = first < starts.Count ? starts[first] : cursor;
        int end = Math.Min(input.Length, cursor + ((room + 1) * CharsPerCellAtMost));
        string shown = Fit(input[start..end], room + 1);
        return (Prompt + shown, Prompt.Length + used);
    }

    /// <summary>How many chars one cell of the input row is taken to need at most, to bound what is measured: ZWJ emoji and stacked marks stay under it.</summary>
    private const int CharsPerCellAtMost = 8;

    /// <summary>As much of <paramref name="text"/> as fits in <paramref name="width"/> cells, cut between whole characters.</summary>
    private static string Fit(string text, int width) => TextLayout.Width(text) <= width ? text : TextLayout.Wrap(text.Replace(' ', '\u00A0'), width)[0].Replace('\u00A0', ' ');

    private static string PadTo(string text, int width) => text + new string(' ', Math.Max(0, width - TextLayout.Width(text)));
}
