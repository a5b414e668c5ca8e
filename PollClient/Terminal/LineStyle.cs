namespace PollChat.Client.Terminal;

/// <summary>
/// How a chat line is shown in colour, from its kind (ChatView's markers): notices, the client's
/// own status lines, errors, private messages, your own lines, lines that mention you, and
/// everyone else's in a colour that stays the same for each name. None at all when the user
/// set NO_COLOR (no-color.org).
/// </summary>
public static class LineStyle
{
    /// <summary>When the terminal bell rings (/bell).</summary>
    public enum BellMode
    {
        /// <summary>Never.</summary>
        Off,

        /// <summary>For private messages to you.</summary>
        PrivateMessages,

        /// <summary>For private messages and for mentions of your name (the default).</summary>
        All,
    }

    private const string Reset = "\u001b[0m";

    /// <summary>Colours for other people's lines: readable on dark and light backgrounds, and none of them the colours of the kinds below.</summary>
    private static readonly string[] NameColours = ["\u001b[32m", "\u001b[34m", "\u001b[36m", "\u001b[33m", "\u001b[92m", "\u001b[94m"];

    /// <summary>Whether colour is wanted: NO_COLOR set to anything turns it off.</summary>
    public static bool Enabled { get; } = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    /// <summary>The escape sequence that starts <paramref name="line"/>'s style, or "" for none. <paramref name="myName"/> marks own lines and mentions.</summary>
    public static string For(string line, string? myName)
    {
        if (!Enabled)
        {
            return "";
        }

        string rest = line.Length > 8 && line[0] == '[' && line[6] == ']' ? line[8..] : line; // After "[14:02] ".
        if (rest.StartsWith(ChatView.ErrorMarker, StringComparison.Ordinal))
        {
            return "\u001b[31m";
        }

        if (line.StartsWith(ChatView.StatusMarker, StringComparison.Ordinal))
        {
            return "\u001b[33m";
        }

        if (rest.StartsWith(ChatView.NoticeMarker, StringComparison.Ordinal))
        {
            return "\u001b[2m";
        }

        if (rest.StartsWith(ChatView.PrivateMarker, StringComparison.Ordinal))
        {
            return "\u001b[35m";
        }

        int arrow = rest.IndexOf(" > ", StringComparison.Ordinal);
        string sender = arrow > 0 ? rest[..arrow] : "";
        if (myName is not null && sender.Equals(myName, StringComparison.OrdinalIgnoreCase))
        {
            return "\u001b[1m";
        }

        if (myName is not null && arrow > 0 && rest[(arrow + 3)..].Contains(myName, StringComparison.OrdinalIgnoreCase))
        {
            return "\u001b[7m"; // Someone mentions you: reverse video stands out in any colour scheme.
        }

        return sender.Length == 0 ? "" : NameColours[(int)((uint)StableHash(sender) % (uint)NameColours.Length)];
    }

    /// <summary>Ends a styled row.</summary>
    public static string End(string style) => style.Length == 0 ? "" : Reset;

    /// <summary>Whether a line rings the bell: with <see cref="BellMode.All"/> a private message to you or a mention of your name by someone else, with <see cref="BellMode.PrivateMessages"/> only the first.</summary>
    public static bool Rings(string line, string? myName, BellMode mode = BellMode.All)
    {
        string rest = line.Length > 8 && line[0] == '[' && line[6] == ']' ? line[8..] : line;
        if (mode == BellMode.Off || rest.StartsWith(ChatView.PrivateMarker + " to ", StringComparison.Ordinal))
        {
            return false; // Off, or the copy of one you sent.
        }

        if (rest.StartsWith(ChatView.PrivateMarker, StringComparison.Ordinal))
        {
            return true;
        }

        int arrow = rest.IndexOf(" > ", StringComparison.Ordinal);
        return mode == BellMode.All && myName is not null && arrow > 0 && !rest[..arrow].Equals(myName, StringComparison.OrdinalIgnoreCase)
            && rest[(arrow + 3)..].Contains(myName, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>"[14:02] " at the start of a line, or 0 if it has none: what /timestamp off hides.</summary>
    public static int StampLength(string line) =>
        line.Length > 8 && line[0] == '[' && line[3] == ':' && line[6] == ']' && line[7] == ' '
            && char.IsAsciiDigit(line[1]) && char.IsAsciiDigit(line[2]) && char.IsAsciiDigit(line[4]) && char.IsAsciiDigit(line[5]) ? 8 : 0;

    /// <summary>string.GetHashCode changes from run to run; a name's colour must not.</summary>
    private static int StableHash(string text)
    {
        int hash = 17;
        foreach (char c in text.ToUpperInvariant())
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash;
    }
}
