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

    /// <summary>Prefix of lines saying a command failed (rich mode's error events).</summary>
    public const string ErrorMarker = "!!!";

    /// <summary>Marks private messages, in and out, in rich mode.</summary>
    public const string PrivateMarker = "[private]";

    public void Message(DateTime time, string sender, string text) => Write(FormatMessage(time, sender, text));

    public void Status(string text) => Write($"{StatusMarker} {text}");

    /// <summary>Our copy of the user list, as the server's /users shows it: the room, then everyone online.</summary>
    public void Users(DateTime time, string? room, IReadOnlyCollection<string> members, IReadOnlyCollection<string> online)
    {
        Write($"[{Stamp(time)}] {NoticeMarker} In {Neutralise(room ?? "?")} ({members.Count}): {Neutralise(string.Join(", ", members))}");
        Write($"[{Stamp(time)}] {NoticeMarker} Online ({online.Count}): {Neutralise(string.Join(", ", online))}");
    }

    /// <summary>Shows a rich-mode event, if it is one a person needs to see; list updates alone show nothing.</summary>
    public void Event(DateTime time, RichEvent e, string? myName)
    {
        if (FormatEvent(time, e, myName) is { } line)
        {
            Write(line);
        }
    }

    public static string? FormatEvent(DateTime time, RichEvent e, string? myName)
    {
        string stamp = Stamp(time);
        string? notice = e.Type switch
        {
            RichEventTypes.Entered => $"{e.Name} joined {e.Room} ({Members(e.Count)})",
            RichEventTypes.Left => $"{e.Name} left {e.Room} ({e.Reason}; {Members(e.Count)})",
            RichEventTypes.Renamed => $"{e.Old} is now known as {e.Name}",
            RichEventTypes.Room => $"You are now in {e.Room} ({Members(e.Members?.Count)}: {string.Join(", ", e.Members ?? [])}){(e.Topic is null ? "" : $". Topic: {e.Topic}")}",
            RichEventTypes.Topic => $"{e.By} set the topic of {e.Room}: {e.Text}",
            RichEventTypes.Away => e.Text is null ? "You are not marked as away" : $"You are marked as away: {e.Text}. Type /back when you return.",
            RichEventTypes.Rooms => RoomsLine(e.Rooms ?? [], e.Count ?? 0),
            _ => null,
        };
        return e.Type switch
        {
            RichEventTypes.Private when string.Equals(e.From, myName, StringComparison.OrdinalIgnoreCase) =>
                $"[{stamp}] {PrivateMarker} to {Neutralise(e.To ?? "?")} > {Neutralise(e.Text ?? "")}",
            RichEventTypes.Private => $"[{stamp}] {PrivateMarker} {Neutralise(e.From ?? "?")} > {Neutralise(e.Text ?? "")}",
            RichEventTypes.Error => $"[{stamp}] {ErrorMarker} {Neutralise(e.Text ?? "")}",
            RichEventTypes.Hello => $"{StatusMarker} Rich mode {e.Version} on: the user list follows the server, and /users answers from it.",
            RichEventTypes.Tracking => $"{StatusMarker} The server has too many users to follow live; /users asks it instead.",
            _ => notice is null ? null : $"[{stamp}] {NoticeMarker} {Neutralise(notice)}",
        };
    }

    /// <summary>The same line PollServer sends classic clients for /rooms: "Rooms (2): #dev (1 member: ship it), #lobby (3 members)".</summary>
    private static string RoomsLine(IReadOnlyList<RoomSummary> rooms, int total) =>
        $"Rooms ({total}): {string.Join(", ", rooms.Select(r => $"{r.Name} ({Members(r.Members)}{(r.Topic is null ? "" : $": {r.Topic}")})"))}";

    private static string Members(int? count) => count == 1 ? "1 member" : $"{count ?? 0} members";

    private static string Stamp(DateTime time) => time.ToString("HH:mm", CultureInfo.InvariantCulture);

    public static string FormatMessage(DateTime time, string sender, string text)
    {
        string stamp = Stamp(time);
        if (HistoryReplay.TrySplitSender(sender, out string originalTime, out string originalSender))
        {
            (stamp, sender) = (originalTime, originalSender); // A replayed message shows when it was said, not now.
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

    /// <summary>
    /// Replaces control characters (escape sequences, bells, carriage returns, C1 codes) with
    /// visible stand-ins and keeps tabs; then applies the display policy of PROTOCOL.md
    /// (<see cref="ControlCharacters"/>), which removes bidi controls and invisible characters, for
    /// a server that did not (a classic one, or an older PollServer).
    /// </summary>
    public static string Neutralise(string text)
    {
        int index = 0;
        while (index < text.Length && (text[index] == '\t' || !char.IsControl(text[index])))
        {
            index++;
        }

        if (index == text.Length)
        {
            return ControlCharacters.Strip(text);
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

        return ControlCharacters.Strip(builder.ToString());
    }

    private void Write(string line)
    {
        output.WriteLine(line);
        output.Flush();
    }
}
