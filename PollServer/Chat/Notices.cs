using System.Globalization;
using PollChat.Common.Protocol;

namespace PollChat.Server.Chat;

/// <summary>
/// Every sentence PollServer's users and its operator read while it runs: notices, errors and
/// replies, the notice a connection gets as it is closed, and the reasons and texts inside rich
/// events; grouped by topic, each group in the order a user meets it. USAGE.md lists them all.
/// Not here: log lines, which stay with the code that logs them; the command table's usage and
/// summary lines, which are the table (Commands/CommandList.cs); what Common shares with PollClient
/// (<see cref="HistoryReplay"/>, <see cref="RichMode.Advertisement"/>, the name rules); the command
/// line's output before the server runs (Program, Cli/AccountCommands).
/// </summary>
internal static class Notices
{
    /// <summary>A welcome listing more names than this would scroll the screen away on a big server.</summary>
    private const int MaxNamesInWelcome = 20;

    // ---- A connection's life: admission, the name, arriving and leaving, limits, closing ----

    public static string ServerFull(int maxClients) => $"Server full ({maxClients} clients); try again later";

    public static string TooManyFromAddress(int maxPerAddress) =>
        $"Too many connections from your address ({maxPerAddress} at once); close one and try again";

    public static string ConnectingTooOften(int perMinute, long waitMilliseconds) =>
        $"Too many new connections from your address (at most {perMinute} a minute); try again in {Seconds(waitMilliseconds)} s";

    public static string NameTimeout(TimeSpan timeout) => $"No username received within {timeout.TotalSeconds:0.#} s; closing the connection";

    public static string NameRejected(string why) => ServerSender.NameRejectedPrefix + why;

    public static string NameTaken(string name, string? heldAs = null) => NameRejected(NameTakenReason(name, heldAs));

    /// <summary>Why <paramref name="name"/> cannot be had: someone holds it, in any case, or a name that looks the same (<see cref="Confusables"/>).</summary>
    public static string NameTakenReason(string name, string? heldAs) =>
        heldAs is null || heldAs.Equals(name, StringComparison.OrdinalIgnoreCase) ? $"the name '{name}' is already taken"
            : $"the name '{name}' looks like '{heldAs}', which is taken";

    public const string RegisteredNamesOnly = "this server admits registered names only; ask its operator for an account";

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

    /// <summary>How the others are told someone left: short, and no blame for a network fault.</summary>
    public static string ClosedForOthers(Loop.CloseReason reason) => reason switch
    {
        Loop.CloseReason.Quit => "quit",
        Loop.CloseReason.ClosedByPeer => "disconnected",
        Loop.CloseReason.ConnectionReset or Loop.CloseReason.SocketError => "connection lost",
        Loop.CloseReason.OutputOverflow => "dropped: not reading",
        Loop.CloseReason.BadFrame => "dropped: protocol error",
        Loop.CloseReason.BadTls => "dropped: TLS error",
        Loop.CloseReason.Flooding => "dropped: flooding",
        Loop.CloseReason.Kicked => "kicked",
        Loop.CloseReason.Banned => "banned",
        Loop.CloseReason.ServerError => "dropped: server error",
        Loop.CloseReason.NameReclaimed => "logged in again from another connection",
        _ => "disconnected",
    };

    /// <summary>How someone left, as <see cref="Left"/> and the rich event tell it: <paramref name="closeReason"/> ("quit", "kicked", ...), then who kicked and why.</summary>
    public static string HowLeft(string closeReason, string? kickedBy, string? kickReason) =>
        closeReason + (kickedBy is null ? "" : " by " + kickedBy) + (kickReason is null ? "" : ": " + kickReason);

    public static string PresenceSummary(int joined, int left, long seconds, int online) =>
        $"Busy: {joined} joined and {left} left in the last {seconds} s, too many to announce one by one ({online} online)";

    public const string InvalidUtf8 = "Message refused: it is not valid UTF-8";

    public static string SlowDown(double perSecond, int burst) =>
        $"Slow down: at most {perSecond:0.##} messages a second (bursts of {burst}); what you send meanwhile waits and goes out at that rate, nothing is lost.";

    public static string Flooding(TimeSpan heldFor, double perSecond) =>
        $"Disconnected for flooding: your messages kept waiting for {heldFor.TotalSeconds:0} s without a break at {perSecond:0.##} a second; what had not gone out is lost";

    public static string BadFrame(string what) => $"Protocol error: {what}; closing the connection";

    /// <summary>What was wrong with a frame that was started and never finished (slowloris), inside <see cref="BadFrame"/>.</summary>
    public static string FrameNotFinished(TimeSpan timeout) =>
        string.Create(CultureInfo.InvariantCulture, $"a frame was started and not finished within {timeout.TotalSeconds:0.#} s");

    /// <summary>Why a name frame over the limit is refused, inside <see cref="NameRejected"/>.</summary>
    public static string NameTooLong(int limit) => $"the name is longer than {limit} bytes";

    public const string ServerError = "The server failed while handling what you sent (a bug, now logged); closing the connection";

    public static string Goodbye(string name) => $"Goodbye, {name}!";

    // ---- Accounts: logging in to a registered name, registering, passwords ----

    public static string LoginRequired(string name, TimeSpan timeout) =>
        $"The name {name} is registered: log in with /login <password> within {timeout.TotalSeconds:0.#} s, or reconnect with another name";

    public const string LogInFirst = "Log in first: /login <password> (or /quit)";

    public static string LoginTimeout(TimeSpan timeout) => $"Not logged in within {timeout.TotalSeconds:0.#} s; closing the connection";

    public static string AlreadyLoggedIn(string name) => $"You are already logged in as {name}";

    public static string NotRegistered(string name) => $"{name} is not registered; /register <password> claims it";

    public const string LoginUsage = "Usage: /login <password>";

    public const string LoginFailed = "Login failed: wrong password";

    public static string LoggedIn(string name) => $"Logged in as {name}";

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

    public const string PasswordStillBeingChecked = "Your last password is still being checked; wait for its answer";

    public const string PasswordWorkersBusy = "The server is busy checking other passwords; try again in a moment";

    public static string NotRegisteredBecause(string problem) => $"Not registered: {problem}";

    public const string NoAccountStore = "this server keeps no data directory, so it cannot store accounts";

    public static string AlreadyRegistered(string name) => $"{name} is already registered";

    public static string PasswordTooShort(int minChars) => $"a password needs at least {minChars} characters";

    public static string PasswordTooLong(int maxBytes) => $"a password may have at most {maxBytes} bytes";

    public static string TooManyRegistrations(long waitMilliseconds) =>
        $"Not registered: too many registrations from your address; try again in {Seconds(waitMilliseconds)} s";

    public static string Registered(string name) =>
        $"Registered {name}: from now on this name needs /login <password>. /passwd changes the password, /unregister gives the name up.";

    public static string NotLoggedInToRegisteredName(string name) => $"{name} is not a registered name you are logged in to";

    public const string PasswdUsage = "usage: /passwd <old password> <new password>";

    public static string PasswordNotChanged(string problem) => $"Password not changed: {problem}";

    public const string PasswordNotChangedWrongPassword = "Password not changed: wrong password";

    public const string PasswordChanged = "Password changed";

    public const string UnregisterUsage = "Usage: /unregister <password>";

    public const string NotUnregisteredWrongPassword = "Not unregistered: wrong password";

    public static string Unregistered(string name) => $"{name} is no longer registered: anyone may use it when you leave";

    // ---- Rooms: moving between them, listing them, topics ----

    public const string JoinUsage = "usage: /join <#room>";

    public static string RoomNameRules(int maxBytes) => $"room names start with # followed by letters, digits, '-', '_' or '.', at most {maxBytes} bytes in all";

    public const string RoomNameMixesScripts = "a room name uses the letters of one script (Latin and Cyrillic do not mix; Latin may go with Chinese, Japanese or Korean)";

    public const string RoomNameCompatibilityForm = "a room name has no fullwidth, mathematical or other compatibility forms of letters; type the ordinary letter";

    public static string CannotJoin(string problem) => $"Cannot join: {problem}";

    public static string AlreadyInRoom(string room) => $"You are already in {room}";

    /// <summary>To the room left behind; <see cref="MovedTo"/> is the rich event's reason.</summary>
    public static string LeftFor(string name, string room, int members) => $"{name} left for {room} ({Members(members)})";

    public static string MovedTo(string room) => $"moved to {room}";

    public static string JoinedRoom(string name, string room, int members) => $"{name} joined {room} ({Members(members)})";

    public static string NowInRoom(string room, int members, string? topic) =>
        $"You are now in {room} ({Members(members)}){(topic is null ? "" : $". Topic: {topic}")}";

    /// <summary>"Rooms (2): #dev (1 member: ship it), #lobby (3 members)", from <see cref="RoomInList"/> entries.</summary>
    public static string RoomList(int count, IEnumerable<string> entries) => $"Rooms ({count}): {string.Join(", ", entries)}";

    public static string RoomInList(string room, int members, string? topic) => $"{room} ({Members(members)}{(topic is null ? "" : $": {topic}")})";

    public static string NoTopic(string room) => $"{room} has no topic; set one with /topic <text>";

    public static string Topic(string room, string topic) => $"Topic of {room}: {topic}";

    public static string TopicTooLong(int maxBytes) => $"Topic not changed: at most {maxBytes} bytes";

    public static string TopicSet(string name, string room, string topic) => $"{name} set the topic of {room}: {topic}";

    // ---- History: /history and /search ----

    public static string HistoryUsage(int capacity) => $"Usage: /history [n], n from 1 to {capacity}";

    public const string SearchUsage = "Usage: /search <words>";

    public const string NoHistoryFile = "This server keeps no history file, so there is nothing to search";

    public static string SearchTooBig(int maxWords, int maxChars) => $"Search for at most {maxWords} words of at most {maxChars} characters each";

    public const string SearchStillRunning = "Your last search is still running; wait for its answer before the next";

    public const string SearchesBusy = "The server is busy with other searches; try again in a moment";

    public const string SearchFailed = "The search failed on the server; try again later";

    public static string NoSearchHits(string room, string query) => $"No messages in {room} match '{query}'";

    /// <summary>The line before the hits; a full page says it may not be all.</summary>
    public static string SearchHits(int count, string room, string query, int maxResults) =>
        $"{count} {(count == 1 ? "message" : "messages")} in {room} {(count == 1 ? "matches" : "match")} '{query}', newest first{(count == maxResults ? $" (the first {maxResults})" : "")}:";

    /// <summary>"[2026-11-21 14:02] alice: hello", or "[...] * alice waves" for an action (<paramref name="sender"/> is then "* alice").</summary>
    public static string SearchHit(DateTime localTime, string sender, string text, bool action) =>
        $"[{localTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}] {(action ? $"{sender} {text}" : $"{sender}: {text}")}";

    public static string SearchStopped(TimeSpan limit, int read, string room) =>
        $"The search stopped after {limit.TotalSeconds:0.#} s: it read only the newest {read} {(read == 1 ? "message" : "messages")} of {room}";

    // ---- People: who is here, private messages, actions, names, away, /whois, ignoring, rich mode ----

    public static string InRoom(string room) => $"In {room}";

    public const string Online = "Online";

    public const string MsgUsage = "Usage: /msg <user> <text>";

    public const string NoPrivateMessageYet = "Nobody has sent you a private message yet";

    public const string ReplyUsage = "Usage: /reply <text>";

    public static string NoSuchUser(string name) => $"No user named '{name}' is online";

    /// <summary>The sender a classic client shows a private message from; no username can be it (it has a space).</summary>
    public static string PrivateFrom(string name) => $"{name} (private)";

    /// <summary>The sender a classic client shows its own private message under.</summary>
    public static string PrivateTo(string name) => $"to {name} (private)";

    public static string IsAway(string name, string text) => $"{name} is away: {text}";

    public const string MeUsage = "Usage: /me <action>";

    public const string NickUsage = "usage: /nick <newname>";

    public static string NameNeedsLogin(string name) => $"'{name}' is a registered name; connect as {name} and /login to use it";

    public static string NameNotChanged(string problem) => $"Name not changed: {problem}";

    public static string Renamed(string oldName, string newName) => $"{oldName} is now known as {newName}";

    /// <summary>The away text of /away without one.</summary>
    public const string DefaultAwayText = "away";

    public static string MarkedAway(string text) => $"You are marked as away: {text}. Type /back when you return.";

    public const string WasNotAway = "You were not marked as away";

    public const string WelcomeBack = "Welcome back; you are no longer marked as away";

    public const string WhoisUsage = "Usage: /whois <user>";

    public static string Whois(string name, long onlineMilliseconds, long idleMilliseconds, string? away) =>
        $"{name}: online for {Duration(onlineMilliseconds)}, idle for {Duration(idleMilliseconds)}{(away is null ? "" : $", away: {away}")}";

    public static string Ignoring(IReadOnlyCollection<string> names) =>
        $"You are ignoring ({names.Count}): {string.Join(", ", names.Order(StringComparer.OrdinalIgnoreCase))}";

    public const string IgnoringNobody = "You are not ignoring anyone";

    public const string CannotIgnoreYourself = "you cannot ignore yourself";

    public static string IgnoringTooMany(int max) => $"you already ignore {max} people";

    public static string NotIgnored(string problem) => $"Not ignored: {problem}";

    public static string NowIgnoring(string name) =>
        $"You are ignoring {name}: you will not see their messages, actions or private messages. /unignore {name} undoes it.";

    public const string UnignoreUsage = "Usage: /unignore <user>";

    public static string NoLongerIgnoring(string name) => $"You are no longer ignoring {name}";

    public static string WasNotIgnoring(string name) => $"You were not ignoring {name}";

    public static string RichVersionUnknown(string version, int spoken) =>
        $"Rich mode version '{version}' is not spoken here; this server speaks {spoken} (/rich {spoken})";

    // ---- Files: /file's refusals and answers, and the reasons a transfer ends (PROTOCOL.md, "File transfer") ----

    public const string FileTransferOff = "File transfer is turned off on this server";

    public const string FileTransferNeedsRich = "File transfer is for clients in rich mode, such as PollClient: use its /send";

    public const string FileUsage = "Usage: /file offer USER SIZE SHA256 NAME | accept ID OFFSET | decline ID | cancel ID | done ID ok|bad (PollClient sends these for /send, /accept, /decline and /cancel)";

    public static string NotOffered(string refusal) => $"Not offered: {refusal}";

    public const string NotOfferedMuted = "Not offered: you are muted";

    public const string FileSizeInvalid = "the size must be a whole number of bytes, at least 1";

    public static string FileTooBig(string name, long size, long limit) => $"{name} is {Units.Bytes(size)}, over this server's limit of {Units.Bytes(limit)}";

    public const string FileHashInvalid = "the SHA-256 must be 64 lowercase hex digits";

    public static string FileNameInvalid(int maxBytes) => $"the file name must be at most {maxBytes} bytes, without control characters";

    public static string YourTransfersFull(int going, int limit) => $"you already have {going} transfers going; the limit is {limit}";

    public const string OfferToYourself = "that is you";

    public static string ReceiverClassic(string name) => $"{name} uses a classic client, which cannot receive files";

    public static string ReceiverTransfersFull(string name, int going, int limit) => $"{name} already has {going} transfers going; the limit is {limit}";

    public static string NoSuchTransfer(string idText) => $"No transfer {idText} of yours is going";

    public static string TransferNotOfferedToYou(int id) => $"Transfer {id} is not offered to you";

    public static string TransferAlreadyAccepted(int id) => $"Transfer {id} is already accepted";

    public static string TransferHasOnly(int id, long size) => $"Transfer {id} has only {size} bytes";

    public static string TransferNotWaitingForYou(int id) => $"Transfer {id} is not an offer to you waiting for an answer";

    public static string TransferNotFinished(int id) => $"Transfer {id} is not finished on your side";

    public const string NoDataTransfer = "No transfer of yours with that number is sending (/file data ID OFFSET BASE64)";

    public const string NoAckTransfer = "No transfer to you with that number is sending (/file ack ID OFFSET)";

    /// <summary>The end reason PollClient recognises as success (PROTOCOL.md): change it there too or not at all.</summary>
    public const string TransferCompleted = "completed";

    public static string TransferDeclined(string name) => $"declined by {name}";

    public static string TransferCancelled(string name) => $"cancelled by {name}";

    public const string TransferHashMismatch = "failed: the file received does not have the SHA-256 offered";

    public static string TransferInterrupted(string name) => $"interrupted: {name} left";

    public static string TransferExpired(TimeSpan offerTimeout) => $"expired: not accepted within {Units.Duration(offerTimeout)}";

    public static string TransferStalled(TimeSpan stallTimeout) => $"stalled: nothing moved for {stallTimeout.TotalSeconds:0} s";

    /// <summary>A transfer ended for <paramref name="name"/>'s frame that broke the protocol; <paramref name="problem"/> is one of the Data and Ack problems below.</summary>
    public static string TransferProtocolError(string name, string problem) => $"failed: protocol error from {name}: {problem}";

    public static string DataFrameSize(int chunkBytes) => $"a data frame holds 1 to {chunkBytes} bytes in standard base64 and nothing else";

    public static string DataOutOfOrder(long offset, long next) => $"data for byte {offset} came when byte {next} was next";

    public const string DataBeyondSize = "more data than the size offered";

    public static string DataBeyondWindow(int windowBytes) => $"more than {windowBytes} bytes unacknowledged";

    public static string AckNotForward(long offset, long acked) => $"an acknowledgement of byte {offset} does not move forward from byte {acked}";

    public static string AckBeyondSent(long offset, long relayed) => $"acknowledged byte {offset} of {relayed} sent";

    // ---- Moderation: kicks, bans, mutes, the message of the day ----

    public const string KickUsage = "Usage: /kick <user> [reason]";

    public static string Kicked(string by, string? reason) => reason is null ? $"You were kicked by {by}" : $"You were kicked by {by}: {reason}";

    /// <summary>To whoever kicked.</summary>
    public static string KickedUser(string name, string? reason) => $"Kicked {name}{(reason is null ? "" : $": {reason}")}";

    public const string BanUsage = "Usage: /ban <user|address> [duration], a duration like 30s, 15m, 12h or 7d; none bans for good";

    public static string BanRefused(string problem) => $"Not banned: {problem}";

    public static string Banned(DateTime? utcUntil) => utcUntil is { } until ? $"You are banned from this server until {UtcTime(until)}" : "You are banned from this server";

    /// <summary>To whoever banned: until when, and how many connections it closed.</summary>
    public static string BannedTarget(string target, DateTime? utcUntil, int dropped) =>
        $"Banned {target} {(utcUntil is { } until ? "until " + UtcTime(until) : "for good")}{(dropped > 0 ? $"; {dropped} disconnected" : "")}";

    public const string UnbanUsage = "Usage: /unban <user|address>";

    public static string Unbanned(string target) => $"{target} is no longer banned";

    public static string WasNotBanned(string target) => $"{target} is not banned";

    public const string MuteUsage = "Usage: /mute <user> [duration], a duration like 30s, 15m, 12h or 7d; none mutes until /unmute";

    public static string YouWereMuted(string by, TimeSpan? duration) => $"You were muted by {by}{ForHowLong(duration)}: nothing you say reaches anyone";

    /// <summary>To whoever muted.</summary>
    public static string MutedUser(string name, TimeSpan? duration) => $"Muted {name}{ForHowLong(duration)}";

    private static string ForHowLong(TimeSpan? duration) => duration is { } length ? $" for {Duration((long)length.TotalMilliseconds)}" : "";

    /// <summary>A muted user's message refused; <paramref name="left"/> is null for a mute without end.</summary>
    public static string StillMuted(TimeSpan? left) =>
        left is { } time ? $"You are muted for {Math.Ceiling(time.TotalMinutes):0} more min; nothing you say reaches anyone" : "You are muted; nothing you say reaches anyone";

    public const string UnmuteUsage = "Usage: /unmute <user>";

    public const string YouCanSpeakAgain = "You can speak again";

    public static string CanSpeakAgain(string name) => $"{name} can speak again";

    public static string WasNotMuted(string name) => $"{name} is not muted";

    public static string MessageOfTheDay(string text) => $"Message of the day: {text}";

    public const string NoMessageOfTheDay = "No message of the day; set one with /motd <text>";

    public const string MessageOfTheDayCleared = "Message of the day cleared";

    public static string MessageOfTheDaySet(string text) => $"Message of the day set: {text}";

    // ---- Commands: unknown ones, and /help ----

    public static string UnknownCommand(string command) =>
        $"Unknown command {command}. Type /help for the commands; to send a message that starts with '/', type '//' first.";

    public static string ForAdmins(string command) => $"/{command} is for admins";

    public const string HelpHeading = "Commands (start a message with // to send a leading /):";

    public const string AdminHelpHeading = "Admin commands:";

    /// <summary>One command in /help: its usage and summary from the table, and its aliases if any.</summary>
    public static string HelpLine(string usage, string summary, string[] aliases) =>
        $"{usage}: {summary}{(aliases.Length == 0 ? "" : $" (also /{string.Join(", /", aliases)})")}";

    // ---- Operator: the console's answers, and what the operator says to everyone ----

    /// <summary>Who a kick, ban or mute from the console is told came from.</summary>
    public const string TheOperator = "the operator";

    public static string UnknownOperatorCommand(string word) => $"Unknown command /{word}; type /help for the operator commands.";

    public const string OperatorHelpHeading = "Operator commands:";

    public static string OperatorHelpLine(string usage, string summary) => $"  {usage}: {summary}";

    /// <summary>One user in the console's /users: "alice (#lobby, 127.0.0.1:50312, away)".</summary>
    public static string UserAtConsole(string name, string room, string endpoint, bool away) => $"{name} ({room}, {endpoint}{(away ? ", away" : "")})";

    public static string ConnectedUnnamed(int count) => string.Create(CultureInfo.InvariantCulture, $"Also {count} connected without a name yet.");

    public const string SayUsage = "Usage: /say <text>";

    public static string FromOperator(string text) => $"Operator: {text}";

    public static string SaidToEveryone(int online, string text) => string.Create(CultureInfo.InvariantCulture, $"Said to {online} online: {text}");

    public const string ShuttingDown = "Shutting down.";

    // ---- Formats the groups share ----

    public static string Members(int count) => count == 1 ? "1 member" : $"{count} members";

    /// <summary>"Online (3): alice, bob, carol", with at most <paramref name="maxListed"/> names and a count of the rest.</summary>
    public static string NameList(string label, IReadOnlyList<string> names, int maxListed)
    {
        string more = names.Count > maxListed ? $" and {names.Count - maxListed} more" : "";
        return $"{label} ({names.Count}): {string.Join(", ", names.Take(maxListed))}{more}";
    }

    /// <summary>"2026-11-21 14:02 UTC": the server's clock and the user's may be in different zones.</summary>
    public static string UtcTime(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>"2h 5m", "12m 3s", "45s": precise enough for a person, short enough for one line.</summary>
    public static string Duration(long milliseconds)
    {
        var span = TimeSpan.FromMilliseconds(Math.Max(0, milliseconds));
        return span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes}m"
            : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds}s"
            : $"{span.Seconds}s";
    }

    /// <summary>Whole seconds, rounded up: "try again in 0 s" would be a lie.</summary>
    private static string Seconds(long milliseconds) => Math.Ceiling(milliseconds / 1000.0).ToString("0", CultureInfo.InvariantCulture);
}
