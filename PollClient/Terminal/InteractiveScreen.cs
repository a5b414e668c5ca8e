using System.Text;

namespace PollChat.Client.Terminal;

/// <summary>
/// The interactive client's screen: the terminal's alternate screen, redrawn whole from
/// <see cref="ScreenLayout"/> after every change, so an incoming line never lands in the middle
/// of what the user is typing. Only the network thread calls it (it is the screen's single
/// owner); the key-reading thread only posts keys. Dispose puts the terminal back as it was.
/// </summary>
public sealed class InteractiveScreen : IDisposable
{
    /// <summary>Scrollback kept for redraws; older lines are dropped.</summary>
    private const int MaxChatLines = 2000;

    private const string EnterAlternateScreen = "\u001b[?1049h";
    private const string LeaveAlternateScreen = "\u001b[?1049l";

    private readonly TextWriter _terminal;
    private readonly Func<string> _status;
    private readonly Func<IReadOnlyCollection<string>> _users;
    private readonly Func<string, IEnumerable<string>> _completions;
    private readonly Func<string?> _myName;
    private readonly LineEditor _editor = new();
    private readonly List<string> _chat = [];
    private bool _active;
    private int _scrollBack;
    private int _unseenBelow;
    private LineStyle.BellMode _bell = LineStyle.BellMode.All;
    private bool _timestamps = true;

    /// <summary>Ctrl+L asked for the screen to be cleared before the next draw.</summary>
    private bool _clearFirst;

    /// <summary>The last key was ESC alone: the next is read as with Alt.</summary>
    private bool _escapePending;

    /// <param name="terminal">Where escape sequences go: the console's output.</param>
    /// <param name="status">The status line's text, asked for at each redraw.</param>
    /// <param name="users">The user list beside the chat.</param>
    /// <param name="completions">Candidates for Tab, given the word being completed.</param>
    /// <param name="myName">The user's current name, for own lines and mentions.</param>
    public InteractiveScreen(TextWriter terminal, Func<string> status, Func<IReadOnlyCollection<string>> users, Func<string, IEnumerable<string>> completions, Func<string?> myName)
    {
        _myName = myName;
        _terminal = terminal;
        _status = status;
        _users = users;
        _completions = completions;
    }

    /// <summary>A writer for <see cref="ChatView"/>: each line it writes joins the chat area.</summary>
    public TextWriter ChatWriter => new LineSink(this);

    public void Start()
    {
        _active = true;
        _terminal.Write(EnterAlternateScreen);
        Render();
    }

    public void AddLine(string line)
    {
        if (LineStyle.Rings(line, _myName(), _bell))
        {
            _terminal.Write('\a');
        }

        _chat.Add(line);
        if (_chat.Count > MaxChatLines)
        {
            _chat.RemoveRange(0, _chat.Count - MaxChatLines);
        }

        if (_scrollBack > 0)
        {
            // Someone reading back keeps their place: the view moves up by the rows the new line takes.
            _scrollBack += TextLayout.Wrap(Shown(line), ScreenLayout.ChatWidth(Width)).Count;
            _unseenBelow++;
        }

    }

    /// <summary>Whether the newest lines are in view (the user has not scrolled back with PageUp).</summary>
    public bool AtBottom => _scrollBack == 0;

    /// <summary>What /bell says of a setting, when it is set and when asked alone.</summary>
    private static string BellSetting(LineStyle.BellMode mode) => mode switch
    {
        LineStyle.BellMode.Off => "The bell is off.",
        LineStyle.BellMode.PrivateMessages => "The bell rings for private messages.",
        _ => "The bell rings for private messages and mentions of your name.",
    };

    /// <summary>
    /// The screen's own commands, which never go to the server: <c>/bell off|pm|all</c> and
    /// <c>/timestamp on|off</c>. Returns what to tell the user, or null if the line is not one.
    /// </summary>
    public string? LocalCommand(string line)
    {
        string[] words = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return null;
        }

        string? argument = words.Length == 2 ? words[1].ToLowerInvariant() : null;
        switch (words[0].ToLowerInvariant())
        {
            case "/bell":
                (_bell, string? said) = argument switch
                {
                    "off" => (LineStyle.BellMode.Off, BellSetting(LineStyle.BellMode.Off)),
                    "pm" => (LineStyle.BellMode.PrivateMessages, BellSetting(LineStyle.BellMode.PrivateMessages)),
                    "all" => (LineStyle.BellMode.All, BellSetting(LineStyle.BellMode.All)),
                    null when words.Length == 1 => (_bell, BellSetting(_bell)), // Alone: what it is now.
                    _ => (_bell, null),
                };
                return said ?? "usage: /bell off|pm|all";
            case "/timestamp":
                if (argument is not ("on" or "off"))
                {
                    return "usage: /timestamp on|off";
                }

                _timestamps = argument == "on";
                return _timestamps ? "Times are shown." : "Times are hidden.";
            default:
                return null;
        }
    }

    /// <summary>Applies one key; returns the line when Enter sends one, otherwise null.</summary>
    public string? HandleKey(ConsoleKeyInfo key)
    {
        bool control = (key.Modifiers & ConsoleModifiers.Control) != 0;
        // Alt+letter reaches us as ESC, then the letter (readline's Meta prefix): Alt+B and Alt+F move by words.
        bool meta = (key.Modifiers & ConsoleModifiers.Alt) != 0 || _escapePending;
        _escapePending = key.Key == ConsoleKey.Escape && !_escapePending;
        string? submitted = null;
        switch (key.Key)
        {
            case ConsoleKey.Enter:
                submitted = _editor.Submit();
                break;
            case ConsoleKey.Backspace:
                _editor.Backspace();
                break;
            case ConsoleKey.Delete:
                _editor.Delete();
                break;
            case ConsoleKey.LeftArrow when control:
            case ConsoleKey.B when meta:
                _editor.WordLeft();
                break;
            case ConsoleKey.RightArrow when control:
            case ConsoleKey.F when meta:
                _editor.WordRight();
                break;
            case ConsoleKey.U when control:
                _editor.DeleteToStart();
                break;
            case ConsoleKey.K when control:
                _editor.DeleteToEnd();
                break;
            case ConsoleKey.L when control:
                _clearFirst = true; // The next draw starts from a blank screen: whatever another program wrote over it is gone.
                break;
            case ConsoleKey.LeftArrow:
                _editor.Left();
                break;
            case ConsoleKey.RightArrow:
                _editor.Right();
                break;
            case ConsoleKey.Home:
            case ConsoleKey.A when control:
                _editor.Home();
                break;
            case ConsoleKey.End when control:
                _scrollBack = _unseenBelow = 0; // Back to the newest lines at once.
                break;
            case ConsoleKey.End:
            case ConsoleKey.E when control:
                _editor.End();
                break;
            case ConsoleKey.UpArrow:
                _editor.HistoryUp();
                break;
            case ConsoleKey.DownArrow:
                _editor.HistoryDown();
                break;
            case ConsoleKey.W when control:
                _editor.DeleteWordLeft();
                break;
            case ConsoleKey.PageUp:
                _scrollBack += PageRows;
                break;
            case ConsoleKey.PageDown:
                _scrollBack = Math.Max(0, _scrollBack - PageRows);
                _unseenBelow = _scrollBack == 0 ? 0 : _unseenBelow;
                break;
            case ConsoleKey.Tab:
                IReadOnlyList<string> choices = _editor.Complete(_completions(_editor.WordBeforeCursor));
                if (choices.Count > 0)
                {
                    _chat.Add("-!- " + string.Join("  ", choices));
                }

                break;
            default:
                if (!char.IsControl(key.KeyChar))
                {
                    _editor.Insert(key.KeyChar.ToString());
                }

                break;
        }

        return submitted;
    }

    /// <summary>
    /// Draws the whole screen again. The network thread calls it once per turn of its loop, after
    /// everything that arrived or was typed in that turn, so a burst of lines costs one redraw, and
    /// a change that adds no line (the user list, the status) shows too.
    /// </summary>
    public void Render()
    {
        if (!_active)
        {
            return;
        }

        IReadOnlyList<string> shown = _timestamps ? _chat : [.. _chat.Select(Shown)];
        string status = _scrollBack == 0 ? _status() : $"{_status()} | scrolled back{(_unseenBelow > 0 ? $", {_unseenBelow} new" : "")}: PgDn";
        RenderedScreen screen = ScreenLayout.Render(new ScreenState(Width, Height, shown, status, _editor.Shown, _editor.Cursor, _users(), _scrollBack));
        _scrollBack = screen.ScrollBack; // PageUp past the oldest line stops there, so PageDown answers at once.
        var frame = new StringBuilder(_clearFirst ? "\u001b[?25l\u001b[2J\u001b[H" : "\u001b[?25l\u001b[H");
        _clearFirst = false;
        string? me = _myName();
        for (int row = 0; row < screen.Rows.Count; row++)
        {
            int source = row < screen.ChatSources.Count ? screen.ChatSources[row] : -1;
            string style = source >= 0 ? LineStyle.For(_chat[source], me) : row == screen.Rows.Count - 2 && LineStyle.Enabled ? "\u001b[7m" : "";
            string text = screen.Rows[row];
            int separator = source >= 0 ? text.IndexOf('│', StringComparison.Ordinal) : -1;
            // Only the chat part of a row takes its line's colour; the user list beside it stays plain.
            frame.Append(style).Append(separator < 0 ? text : text[..separator]).Append(LineStyle.End(style)).Append(separator < 0 ? "" : text[separator..]).Append("\u001b[K");
            if (row < screen.Rows.Count - 1)
            {
                frame.Append("\r\n");
            }
        }

        frame.Append($"\u001b[{screen.CursorRow + 1};{screen.CursorColumn + 1}H\u001b[?25h");
        _terminal.Write(frame.ToString());
        _terminal.Flush();
    }

    private static int Width => Math.Max(20, Console.WindowWidth);

    private static int Height => Math.Max(4, Console.WindowHeight);

    /// <summary>PageUp and PageDown move by a screenful less one row, so the row read last stays in view.</summary>
    private static int PageRows => Math.Max(1, ScreenLayout.ChatRows(Height) - 1);

    /// <summary>A chat line as the screen shows it now: with or without its time.</summary>
    private string Shown(string line) => _timestamps ? line : line[LineStyle.StampLength(line)..];

    /// <summary>Leaves the alternate screen: the terminal shows what it showed before the client started.</summary>
    public void Dispose()
    {
        if (!_active)
        {
            return;
        }

        _active = false;
        _terminal.Write(LeaveAlternateScreen);
        _terminal.Flush();
    }

    /// <summary>Turns ChatView's lines into chat-area lines.</summary>
    private sealed class LineSink(InteractiveScreen screen) : TextWriter
    {
        private readonly StringBuilder _pending = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                screen.AddLine(_pending.ToString().TrimEnd('\r'));
                _pending.Clear();
            }
            else
            {
                _pending.Append(value);
            }
        }

        public override void WriteLine(string? value)
        {
            _pending.Append(value);
            screen.AddLine(_pending.ToString());
            _pending.Clear();
        }
    }
}
