using System.Globalization;
using System.Text;
using PollChat.Common.Protocol;

namespace PollChat.Client;

/// <summary>
/// Turns what happens into lines on the screen. Only the network thread calls it, so it is the
/// screen's single owner. Text from the network is neutralised: a peer cannot move the cursor,
/// clear the screen or retitle the terminal.
/// </summary>
public sealed class ChatView(TextWriter output)
{
    /// <summary>Prefix of lines the server sent as notices.</summary>
    public const string NoticeMarker = "***";

    /// <summary>Prefix of lines the client itself says (connection state, local errors).</summary>
    public const string StatusMarker = "-!-";

    public void Message(DateTime time, string sender, string text) => Write(FormatMessage(time, sender, text));

    public void Status(string text) => Write($"{StatusMarker} {text}");

    public static string FormatMessage(DateTime time, string sender, string text)
    {
        string stamp = time.ToString("HH:mm", CultureInfo.InvariantCulture);
        if (IsReplayed(sender))
        {
            // A history replay's sender carries the original time, "[14:02] alice": show that time, not now.
            stamp = sender[1..6];
            sender = sender[8..];
        }

        if (sender == ServerSender.Name)
        {
            return $"[{stamp}] {NoticeMarker} {Neutralise(text)}";
        }

        // PollServer sends /me actions from "* alice"; a name cannot start with '*', so this is never a user.
        return sender.StartsWith("* ", StringComparison.Ordinal)
            ? $"[{stamp}] {Neutralise(sender)} {Neutralise(text)}"
            : $"[{stamp}] {Neutralise(sender)} > {Neutralise(text)}";
    }

    private static bool IsReplayed(string sender) =>
        sender.Length > 8 && sender[0] == '[' && sender[3] == ':' && sender[6] == ']' && sender[7] == ' '
        && char.IsAsciiDigit(sender[1]) && char.IsAsciiDigit(sender[2]) && char.IsAsciiDigit(sender[4]) && char.IsAsciiDigit(sender[5]);

    /// <summary>Replaces control characters (escape sequences, bells, carriage returns, C1 codes) with visible stand-ins; keeps tabs.</summary>
    public static string Neutralise(string text)
    {
        int index = 0;
        while (index < text.Length && (text[index] == '\t' || !char.IsControl(text[index])))
        {
            index++;
        }

        if (index == text.Length)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (c == '\t' || !char.IsControl(c))
            {
                builder.Append(c);
            }
            else if (c < 0x20)
            {
                builder.Append('^').Append((char)(c + 64)); // ESC shows as ^[, as terminals print it.
            }
            else
            {
                builder.Append('\uFFFD');
            }
        }

        return builder.ToString();
    }

    private void Write(string line)
    {
        output.WriteLine(line);
        output.Flush();
    }
}
