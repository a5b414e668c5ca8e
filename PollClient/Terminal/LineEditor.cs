using System.Globalization;
using System.Text;

namespace PollChat.Client.Terminal;

/// <summary>
/// The input line of the interactive client, as a value with no screen: the text, the cursor,
/// the history of sent lines, and completion. The cursor moves by whole characters as a person
/// sees them (grapheme clusters: an emoji with its modifiers, a letter with its accents), never
/// into the middle of one. Drawing it is someone else's job.
/// </summary>
public sealed class LineEditor
{
    /// <summary>Enough to scroll back through a session's worth of lines; older ones are forgotten.</summary>
    public const int MaxHistory = 500;

    private readonly StringBuilder _text = new();
    private readonly List<string> _history = [];
    private int _historyIndex;
    private string _draft = "";

    /// <summary>What is typed so far.</summary>
    public string Text => _text.ToString();

    /// <summary>The cursor, as a UTF-16 index into <see cref="Text"/>, always at a character boundary.</summary>
    public int Cursor { get; private set; }

    public void Insert(string typed)
    {
        _text.Insert(Cursor, typed);
        Cursor += typed.Length;
    }

    public void Left() => Cursor = PreviousBoundary(Cursor);

    public void Right() => Cursor = NextBoundary(Cursor);

    public void Home() => Cursor = 0;

    public void End() => Cursor = _text.Length;

    /// <summary>Deletes the character before the cursor.</summary>
    public void Backspace()
    {
        int start = PreviousBoundary(Cursor);
        _text.Remove(start, Cursor - start);
        Cursor = start;
    }

    /// <summary>Deletes the character under the cursor.</summary>
    public void Delete()
    {
        int end = NextBoundary(Cursor);
        _text.Remove(Cursor, end - Cursor);
    }

    /// <summary>To the start of this word, or of the previous one (Ctrl+Left).</summary>
    public void WordLeft() => Cursor = WordStartBefore(Cursor);

    /// <summary>To the end of this word, or of the next one (Ctrl+Right).</summary>
    public void WordRight()
    {
        int position = Cursor;
        while (position < _text.Length && char.IsWhiteSpace(_text[position]))
        {
            position++;
        }

        while (position < _text.Length && !char.IsWhiteSpace(_text[position]))
        {
            position++; // By char, as WordStartBefore goes back: a boundary lookup per step made a long word quadratic.
        }

        Cursor = position == _text.Length ? position : BoundaryAtOrBefore(position);
    }

    /// <summary>The commands whose arguments are passwords: shown masked, and never kept in the history.</summary>
    private static readonly string[] SecretCommands = ["/register ", "/login ", "/passwd ", "/unregister "];

    /// <summary>Where a password starts in <paramref name="line"/> (after its command), or -1 when the line holds none.</summary>
    public static int SecretStart(string line)
    {
        foreach (string command in SecretCommands)
        {
            if (line.StartsWith(command, StringComparison.OrdinalIgnoreCase))
            {
                return command.Length;
            }
        }

        return -1;
    }

    /// <summary>The line as the screen shows it: a password's characters as '*', one each, so the cursor stays where it is.</summary>
    public string Shown
    {
        get
        {
            string text = Text;
            int secret = SecretStart(text);
            return secret < 0 ? text : text[..secret] + new string('*', text.Length - secret);
        }
    }

    /// <summary>Deletes from the start of the line to the cursor (Ctrl+U).</summary>
    public void DeleteToStart()
    {
        _text.Remove(0, Cursor);
        Cursor = 0;
    }

    /// <summary>Deletes from the cursor to the end of the line (Ctrl+K).</summary>
    public void DeleteToEnd() => _text.Remove(Cursor, _text.Length - Cursor);

    /// <summary>Deletes back to the start of the word (Ctrl+W).</summary>
    public void DeleteWordLeft()
    {
        int start = WordStartBefore(Cursor);
        _text.Remove(start, Cursor - start);
        Cursor = start;
    }

    /// <summary>The previous line sent; what was being typed is kept and comes back below the newest.</summary>
    public void HistoryUp()
    {
        if (_historyIndex == 0)
        {
            return;
        }

        if (_historyIndex == _history.Count)
        {
            _draft = Text;
        }

        Show(_history[--_historyIndex]);
    }

    public void HistoryDown()
    {
        if (_historyIndex == _history.Count)
        {
            return;
        }

        _historyIndex++;
        Show(_historyIndex == _history.Count ? _draft : _history[_historyIndex]);
    }

    /// <summary>Takes the line for sending: it goes into the history (unless blank, a repeat of the last, or a password) and the editor empties.</summary>
    public string Submit()
    {
        string line = Text;
        if (line.Trim().Length > 0 && SecretStart(line) < 0 && (_history.Count == 0 || _history[^1] != line))
        {
            _history.Add(line);
            if (_history.Count > MaxHistory)
            {
                _history.RemoveAt(0);
            }
        }

        _historyIndex = _history.Count;
        _draft = "";
        Show("");
        return line;
    }

    /// <summary>
    /// Tab: completes the word before the cursor from <paramref name="candidates"/> (names,
    /// commands, rooms: the caller picks by the word's first character). One match is completed
    /// with a space after it, or ": " for a name at the start of the line, as IRC clients do;
    /// several are completed as far as they agree and returned, for showing; none, nothing.
    /// </summary>
    public IReadOnlyList<string> Complete(IEnumerable<string> candidates)
    {
        int start = WordStartBefore(Cursor);
        string word = _text.ToString(start, Cursor - start);
        if (word.Length == 0)
        {
            return [];
        }

        List<string> matches = [.. candidates.Where(c => c.StartsWith(word, StringComparison.OrdinalIgnoreCase)).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)];
        if (matches.Count == 0)
        {
            return [];
        }

        string completion = matches.Count == 1 ? matches[0] : CommonPrefix(matches, word.Length);
        string suffix = matches.Count > 1 ? "" : start == 0 && char.IsLetterOrDigit(completion[0]) ? ": " : " ";
        _text.Remove(start, Cursor - start);
        _text.Insert(start, completion + suffix);
        Cursor = start + completion.Length + suffix.Length;
        return matches.Count > 1 ? matches : [];
    }

    /// <summary>The word the cursor is at the end of: what Tab would complete (the caller chooses candidates by its first character).</summary>
    public string WordBeforeCursor
    {
        get
        {
            int start = WordStartBefore(Cursor);
            return _text.ToString(start, Cursor - start);
        }
    }

    private void Show(string text)
    {
        _text.Clear().Append(text);
        Cursor = _text.Length;
    }

    /// <summary>
    /// Where the word before <paramref name="position"/> starts. Words end at white space, which is
    /// never inside a character, so the scan goes back a char at a time; one pass then makes sure it
    /// stops on a character boundary. Linear in the line: Ctrl+W on a pasted 70,000-character word
    /// was quadratic when each step looked for its boundary from the line's start.
    /// </summary>
    private int WordStartBefore(int position)
    {
        while (position > 0 && char.IsWhiteSpace(_text[position - 1]))
        {
            position--;
        }

        while (position > 0 && !char.IsWhiteSpace(_text[position - 1]))
        {
            position--;
        }

        return BoundaryAtOrBefore(position);
    }

    /// <summary>The last character boundary at or before <paramref name="position"/>, in one pass.</summary>
    private int BoundaryAtOrBefore(int position)
    {
        string text = _text.ToString();
        int boundary = 0;
        while (boundary < position)
        {
            int next = boundary + StringInfo.GetNextTextElementLength(text, boundary);
            if (next > position)
            {
                break;
            }

            boundary = next;
        }

        return boundary;
    }

    /// <summary>
    /// A character (grapheme) is never longer than this many chars in practice (emoji sequences,
    /// stacked marks), so finding the boundary next to the cursor looks only this far, not at the
    /// whole line: holding Backspace through a pasted 70,000-character line stays linear.
    /// </summary>
    private const int MaxCharsPerCharacter = 64;

    private int NextBoundary(int position)
    {
        if (position >= _text.Length)
        {
            return position;
        }

        string window = _text.ToString(position, Math.Min(MaxCharsPerCharacter, _text.Length - position));
        return position + StringInfo.GetNextTextElementLength(window, 0);
    }

    private int PreviousBoundary(int position)
    {
        if (position <= 0)
        {
            return 0;
        }

        int start = Math.Max(0, position - MaxCharsPerCharacter);
        string window = _text.ToString(start, position - start);
        int boundary = 0;
        while (true)
        {
            int next = boundary + StringInfo.GetNextTextElementLength(window, boundary);
            if (next >= window.Length)
            {
                return start + boundary;
            }

            boundary = next;
        }
    }

    /// <summary>How far the matches agree, case-insensitively, taking the first match's spelling; at least what was typed.</summary>
    private static string CommonPrefix(List<string> matches, int typed)
    {
        int length = matches.Min(m => m.Length);
        int agreed = typed;
        while (agreed < length && matches.All(m => char.ToUpperInvariant(m[agreed]) == char.ToUpperInvariant(matches[0][agreed])))
        {
            agreed++;
        }

        return matches[0][..agreed];
    }
}
