using System.Globalization;

namespace PollChat.Common.Protocol;

/// <summary>
/// How PollServer replays a room's history: a heading notice, then the messages as ordinary
/// pairs whose sender carries the original time, "[14:02] alice". Classic clients print them as
/// they are; no user can take a name with a space, so the form cannot be forged. Shared so that
/// what the server writes and what PollClient recognises (its time, <c>--bot</c>) cannot drift apart.
/// </summary>
public static class HistoryReplay
{
    /// <summary>"[HH:mm] " and at least one character of a name.</summary>
    private const int MinReplayedSenderLength = 9;

    /// <summary>The notice before the replayed messages: "Last 3 messages in #lobby:".</summary>
    public static string Heading(int count, string room) => $"Last {count} {(count == 1 ? "message" : "messages")} in {room}:";

    /// <summary>The answer to /history in a room that has said nothing yet.</summary>
    public static string NoneYet(string room) => $"No messages in {room} yet";

    /// <summary>Whether a notice is the answer to /history (or the heading of a replay on entering a room).</summary>
    public static bool IsHistoryAnswer(string notice) =>
        (notice.StartsWith("Last ", StringComparison.Ordinal) && notice.EndsWith(':') && notice.Contains(" in #", StringComparison.Ordinal))
        || (notice.StartsWith("No messages in #", StringComparison.Ordinal) && notice.EndsWith(" yet", StringComparison.Ordinal));

    /// <summary>The sender of a replayed message: its original local time, then who said it.</summary>
    public static string Sender(DateTime localTime, string sender) => $"[{localTime.ToString("HH:mm", CultureInfo.InvariantCulture)}] {sender}";

    /// <summary>Whether a sender is a replayed one; if so, its time ("14:02") and the original sender.</summary>
    public static bool TrySplitSender(string sender, out string time, out string originalSender)
    {
        bool replayed = sender.Length >= MinReplayedSenderLength && sender[0] == '[' && sender[3] == ':' && sender[6] == ']' && sender[7] == ' '
            && char.IsAsciiDigit(sender[1]) && char.IsAsciiDigit(sender[2]) && char.IsAsciiDigit(sender[4]) && char.IsAsciiDigit(sender[5]);
        (time, originalSender) = replayed ? (sender[1..6], sender[8..]) : ("", sender);
        return replayed;
    }
}
