using PollChat.Common.Protocol;

namespace PollChat.Server.Chat;

/// <summary>
/// The sentences of a connection's life (welcome, joins and leaves, refusals, closing) and the
/// formats the commands share. A command's own answers stand with it, in Commands/.
/// USAGE.md lists them all.
/// </summary>
internal static class Notices
{
    /// <summary>A welcome listing more names than this would scroll the screen away on a big server.</summary>
    private const int MaxNamesInWelcome = 20;

    public static string Welcome(string name, IReadOnlyCollection<string> others)
    {
        if (others.Count == 0)
        {
            return $"Welcome, {name}! You are the only one here. Type /quit to leave. {RichMode.Advertisement}";
        }

        string names = string.Join(", ", others.Take(MaxNamesInWelcome));
        string more = others.Count > MaxNamesInWelcome ? $" and {others.Count - MaxNamesInWelcome} more" : "";
        return $"Welcome, {name}! Online ({others.Count}): {names}{more}. Type /quit to leave. {RichMode.Advertisement}";
    }

    public static string Joined(string name, int online) => $"{name} joined ({online} online)";

    public static string Left(string name, string how, int online) => $"{name} left ({how}; {online} online)";

    public static string PresenceSummary(int joined, int left, long seconds, int online) =>
        $"Busy: {joined} joined and {left} left in the last {seconds} s, too many to announce one by one ({online} online)";

    public static string NameRejected(string why) => ServerSender.NameRejectedPrefix + why;

    public static string NameTaken(string name, string? heldAs = null) => NameRejected(NameTakenReason(name, heldAs));

    /// <summary>Why <paramref name="name"/> cannot be had: someone holds it, in any case, or a name that looks the same (<see cref="Confusables"/>).</summary>
    public static string NameTakenReason(string name, string? heldAs) =>
        heldAs is null || heldAs.Equals(name, StringComparison.OrdinalIgnoreCase) ? $"the name '{name}' is already taken"
            : $"the name '{name}' looks like '{heldAs}', which is taken";

    public static string RoomNameRules(int maxBytes) => $"room names start with # followed by letters, digits, '-', '_' or '.', at most {maxBytes} bytes in all";

    public const string RoomNameMixesScripts = "a room name uses the letters of one script (Latin and Cyrillic do not mix; Latin may go with Chinese, Japanese or Korean)";

    public const string RoomNameCompatibilityForm = "a room name has no fullwidth, mathematical or other compatibility forms of letters; type the ordinary letter";

    public static string LoginRequired(string name, TimeSpan timeout) =>
        $"The name {name} is registered: log in with /login <password> within {timeout.TotalSeconds:0.#} s, or reconnect with another name";

    public static string LoginTimeout(TimeSpan timeout) => $"Not logged in within {timeout.TotalSeconds:0.#} s; closing the connection";

    public const string LogInFirst = "Log in first: /login <password> (or /quit)";

    public static string NameTimeout(TimeSpan timeout) => $"No username received within {timeout.TotalSeconds:0.#} s; closing the connection";

    public static string BadFrame(string what) => $"Protocol error: {what}; closing the connection";

    public static string ServerFull(int maxClients) => $"Server full ({maxClients} clients); try again later";

    public const string ServerError = "The server failed while handling what you sent (a bug, now logged); closing the connection";
    public static string TooManyFromAddress(int maxPerAddress) =>
        $"Too many connections from your address ({maxPerAddress} at once); close one and try again";

    public static string ConnectingTooOften(int perMinute, long waitMilliseconds) =>
        $"Too many new connections from your address (at most {perMinute} a minute); try again in {Seconds(waitMilliseconds)} s";

    /// <summary>To the connection that held a name when its owner logged in from another (a ghost of a dropped connection, or someone else).</summary>
    public static string LoggedInElsewhere(string name, string endpoint) => $"{name} logged in from another connection ({endpoint}); closing this one";

    /// <summary>To a connection still waiting to log in when another logged in to the name.</summary>
    public static string ClaimLost(string name) => $"Another connection logged in as {name}; closing this one";

    public static string ClaimCrowdedOut(string name) =>
        $"Too many connections are waiting to log in as {name}; closing this one, the longest waiting. Log in right after connecting (PollClient --password does)";

    public static string ClaimsBusy(string name) => NameRejected($"too many connections are logging in as '{name}' right now; try again in a moment");

    public static string WrongPasswordsWait(long waitMilliseconds) => $"Too many wrong passwords; try again in {Seconds(waitMilliseconds)} s";

    public static string NameGuessedAt(string name, long waitMilliseconds) =>
        $"Too many wrong passwords for {name} from many addresses, yours among them; try again in {Seconds(waitMilliseconds)} s";

    public static string TooManyRegistrations(long waitMilliseconds) =>
        $"Not registered: too many registrations from your address; try again in {Seconds(waitMilliseconds)} s";

    public const string PasswordWorkersBusy = "The server is busy checking other passwords; try again in a moment";

    /// <summary>Whole seconds, rounded up: "try again in 0 s" would be a lie.</summary>
    private static string Seconds(long milliseconds) => Math.Ceiling(milliseconds / 1000.0).ToString("0", System.Globalization.CultureInfo.InvariantCulture);

    public const string InvalidUtf8 = "Message refused: it is not valid UTF-8";

    public static string SlowDown(double perSecond, int burst) =>
        $"Slow down: at most {perSecond:0.##} messages a second (bursts of {burst}); what you send meanwhile waits and goes out at that rate, nothing is lost.";

    public static string Flooding(TimeSpan heldFor, double perSecond) =>
        $"Disconnected for flooding: your messages kept waiting for {heldFor.TotalSeconds:0} s without a break at {perSecond:0.##} a second; what had not gone out is lost";

    public static string FromOperator(string text) => $"Operator: {text}";

    public static string Kicked(string by, string? reason) => reason is null ? $"You were kicked by {by}" : $"You were kicked by {by}: {reason}";

    public static string Banned(DateTime? utcUntil) => utcUntil is { } until ? $"You are banned from this server until {UtcTime(until)}" : "You are banned from this server";

    public static string MessageOfTheDay(string text) => $"Message of the day: {text}";

    public const string RegisteredNamesOnly = "this server admits registered names only; ask its operator for an account";

    public static string SearchTooBig(int maxWords, int maxChars) => $"Search for at most {maxWords} words of at most {maxChars} characters each";

    public const string SearchStillRunning = "Your last search is still running; wait for its answer before the next";

    public const string SearchesBusy = "The server is busy with other searches; try again in a moment";

    public const string SearchFailed = "The search failed on the server; try again later";

    public static string SearchStopped(TimeSpan limit, int read, string room) =>
        $"The search stopped after {limit.TotalSeconds:0.#} s: it read only the newest {read} {(read == 1 ? "message" : "messages")} of {room}";

    /// <summary>"2026-11-21 14:02 UTC": the server's clock and the user's may be in different zones.</summary>
    public static string UtcTime(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " UTC";

    public static string Goodbye(string name) => $"Goodbye, {name}!";

    public static string UnknownCommand(string command) =>
        $"Unknown command {command}. Type /help for the commands; to send a message that starts with '/', type '//' first.";

    public static string UnknownOperatorCommand(string word) => $"Unknown command /{word}; type /help for the operator commands.";

    public static string ForAdmins(string command) => $"/{command} is for admins";

    public const string HelpHeading = "Commands (start a message with // to send a leading /):";

    public const string AdminHelpHeading = "Admin commands:";

    public const string OperatorHelpHeading = "Operator commands:";

    public static string Members(int count) => count == 1 ? "1 member" : $"{count} members";

    public static string NoSuchUser(string name) => $"No user named '{name}' is online";

    /// <summary>"Online (3): alice, bob, carol", with at most <paramref name="maxListed"/> names and a count of the rest.</summary>
    public static string NameList(string label, IReadOnlyList<string> names, int maxListed)
    {
        string more = names.Count > maxListed ? $" and {names.Count - maxListed} more" : "";
        return $"{label} ({names.Count}): {string.Join(", ", names.Take(maxListed))}{more}";
    }

    public static string Whois(string name, long onlineMilliseconds, long idleMilliseconds, string? away) =>
        $"{name}: online for {Duration(onlineMilliseconds)}, idle for {Duration(idleMilliseconds)}{(away is null ? "" : $", away: {away}")}";

    /// <summary>"2h 5m", "12m 3s", "45s": precise enough for a person, short enough for one line.</summary>
    public static string Duration(long milliseconds)
    {
        var span = TimeSpan.FromMilliseconds(Math.Max(0, milliseconds));
        return span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes}m"
            : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds}s"
            : $"{span.Seconds}s";
    }
}
