using System.Globalization;
using Spectre.Console.Rendering;

namespace PollChat.Client.Terminal;

/// <summary>
/// How text occupies a terminal: the number of cells a string takes (CJK and most emoji take
/// two, combining accents none) and where a line must break to fit a width. Widths come from
/// Spectre.Console's Unicode tables rather than a table written here. Breaks fall between
/// words when a word fits, and between characters (never inside one) when it does not.
/// </summary>
public static class TextLayout
{
    /// <summary>Terminal cells <paramref name="text"/> takes.</summary>
    public static int Width(string text) => new Segment(text).CellCount();

    /// <summary>Splits <paramref name="text"/> into lines of at most <paramref name="width"/> cells (at least one line, possibly empty); a character wider than the whole line gets a line of its own.</summary>
    public static List<string> Wrap(string text, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var lines = new List<string>();
        int lineStart = 0;
        int lineWidth = 0;
        int lastSpace = -1;
        int index = 0;
        while (index < text.Length)
        {
            int length = StringInfo.GetNextTextElementLength(text, index);
            string element = text.Substring(index, length);
            int cells = Width(element);
            if (lineWidth + cells > width && index > lineStart)
            {
                int breakAt = lastSpace > lineStart ? lastSpace : index;
                lines.Add(text[lineStart..breakAt]);
                lineStart = lastSpace > lineStart ? lastSpace + 1 : index; // A space at the break is not carried to the next line.
                lastSpace = -1;
                lineWidth = Width(text[lineStart..index]);
            }

            if (element == " ")
            {
                lastSpace = index;
            }

            lineWidth += cells;
            index += length;
        }

        lines.Add(text[lineStart..]);
        return lines;
    }
}
