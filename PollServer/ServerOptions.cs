using PollChat.Common.Protocol;

namespace PollChat.Server;

/// <summary>Everything the server can be told at start; the defaults are what README.md promises.</summary>
public sealed record ServerOptions
{
    /// <summary>The port a newcomer's server listens on when given none.</summary>
    public const int DefaultPort = 9000;

    /// <summary>Enough for a class or a LAN party many times over; each client costs a socket and about a kilobyte idle.</summary>
    public const int DefaultMaxClients = 10_000;

    /// <summary>A reader more than a megabyte behind is not coming back; holding more for it would cost the others memory.</summary>
    public const int DefaultMaxPendingOutputBytes = 1024 * 1024;

    /// <summary>A person or a script sends its name at once; a connection silent this long is a port scan or a stuck peer.</summary>
    public static readonly TimeSpan DefaultNameTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Time to type a password after connecting with a registered name; a connection idle that long holding someone's name is squatting.</summary>
    public static readonly TimeSpan DefaultLoginTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Long enough for a goodbye or shutdown notice to reach a healthy peer; short enough that Ctrl+C feels immediate.</summary>
    public static readonly TimeSpan DefaultCloseTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Faster than anyone types, slower than any script that floods a room: messages per second per connection.</summary>
    public const double DefaultMessagesPerSecond = 5;

    /// <summary>A pasted handful of lines goes through at once.</summary>
    public const int DefaultMessageBurst = 10;

    /// <summary>
    /// A sender held back by the message rate for this long without a break is flooding on purpose
    /// or by bug: at the default rate that is 600 lines waiting, a paste of a whole log that
    /// belongs in /send; any paste a person makes goes through well inside it.
    /// </summary>
    public static readonly TimeSpan DefaultFloodTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Past this many users, a join or leave notice is noise nobody reads, and announcing each to everyone costs traffic that grows with the square of the room.</summary>
    public const int DefaultAnnounceLimit = 500;

    /// <summary>
    /// Bytes per second a connection may send, averaged: about forty times five 300-byte lines
    /// a second take, so no person notices it, while a peer streaming data is held back by TCP
    /// instead of costing the loop. The burst is <see cref="ByteBurstSeconds"/> of it, and never
    /// less than one frame of the longest message.
    /// </summary>
    public const int DefaultBytesPerSecond = 64 * 1024;

    /// <summary>A pasted maximum-size message or a quick run of them passes without a pause.</summary>
    public const int ByteBurstSeconds = 4;

    /// <summary>A frame still incomplete after this long is a stuck or hostile peer holding a buffer (slowloris), not a slow link: a 64 KiB frame takes under a second on the slowest real one.</summary>
    public static readonly TimeSpan DefaultUnfinishedFrameTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// All clients' output buffers together: 256 slow readers at the full 1 MiB each. A machine
    /// that runs a chat for a class has that to spare; past it, the reader furthest behind goes.
    /// </summary>
    public const long DefaultMaxOutputMemory = 256L * 1024 * 1024;

    /// <summary>Bytes all clients' output buffers may hold together; past it, whoever holds the most is dropped as not reading.</summary>
    public long MaxOutputMemory { get; init; } = DefaultMaxOutputMemory;

    /// <summary>Where the history file lives when nothing is said: beside wherever the server is started, created on first run.</summary>
    public const string DefaultDataDirectory = "pollchat-data";

    public string Host { get; init; } = "0.0.0.0";

    public int Port { get; init; } = DefaultPort;

    public int MaxClients { get; init; } = DefaultMaxClients;

    public int MaxUsernameBytes { get; init; } = ProtocolLimits.DefaultMaxUsernameBytes;

    public int MaxMessageBytes { get; init; } = ProtocolLimits.DefaultMaxMessageBytes;

    public int MaxPendingOutputBytes { get; init; } = DefaultMaxPendingOutputBytes;

    public TimeSpan NameTimeout { get; init; } = DefaultNameTimeout;

    public TimeSpan CloseTimeout { get; init; } = DefaultCloseTimeout;

    public TimeSpan LoginTimeout { get; init; } = DefaultLoginTimeout;

    /// <summary>The TLS listener's port; null for no TLS listener, 0 for a free port.</summary>
    public int? TlsPort { get; init; }

    /// <summary>Listen with TLS only: no plain listener.</summary>
    public bool TlsOnly { get; init; }

    /// <summary>The operator's own certificate (PKCS#12); null to use the data directory's, made on first run.</summary>
    public string? TlsCertificateFile { get; init; }

    /// <summary>
    /// Connections mid-handshake whose bytes one loop iteration feeds to TLS, at most one per
    /// address. A handshake costs the loop about 0.4 ms of CPU in Release (BENCHMARKS.md), so chat waits behind
    /// at most two of them, and a storm from one address leaves the other slot to everyone else;
    /// the rest stay unread, held by TCP, until a later iteration. Fewer per iteration costs the
    /// handshakes themselves little: an iteration without them is short.
    /// </summary>
    public const int DefaultTlsHandshakesPerIteration = 2;

    /// <summary>Handshaking connections fed per loop iteration (one per address); 0 turns the bound off (<c>--tls-handshakes-per-iteration</c>).</summary>
    public int TlsHandshakesPerIteration { get; init; } = DefaultTlsHandshakesPerIteration;

    /// <summary>Admit registered names only (an invite-only server): accounts are made with <c>PollServer account add</c>.</summary>
    public bool RequireLogin { get; init; }

    /// <summary>Messages (and commands) per second per connection; 0 turns the limit off.</summary>
    public double MessagesPerSecond { get; init; } = DefaultMessagesPerSecond;

    public int MessageBurst { get; init; } = DefaultMessageBurst;

    /// <summary>How long a sender may be held back by the message rate without a break before it is dropped for flooding.</summary>
    public TimeSpan FloodTimeout { get; init; } = DefaultFloodTimeout;

    /// <summary>Messages shown to someone entering a room: enough to pick up the thread, few enough not to flood the screen.</summary>
    public const int DefaultHistoryOnJoin = 20;

    /// <summary>How many of a room's last messages are replayed to someone entering it; 0 for none.</summary>
    public int HistoryOnJoin { get; init; } = DefaultHistoryOnJoin;

    /// <summary>Bytes per second per connection, averaged; 0 turns the bound off.</summary>
    public int BytesPerSecond { get; init; } = DefaultBytesPerSecond;

    /// <summary>The bytes a connection may send at once before <see cref="BytesPerSecond"/> applies.</summary>
    public double ByteBurst => Math.Max((double)BytesPerSecond * ByteBurstSeconds, Common.Framing.Frame.EncodedLength(MaxMessageBytes));

    /// <summary>A paused client is read again once a tenth of a second's worth has refilled: at most ten small reads a second, not one per byte.</summary>
    public double ByteResumeBytes => Math.Min(ByteBurst, Math.Max(1, BytesPerSecond / 10.0));

    public TimeSpan UnfinishedFrameTimeout { get; init; } = DefaultUnfinishedFrameTimeout;

    /// <summary>The directory of the history file; null keeps history in memory only.</summary>
    public string? DataDirectory { get; init; } = DefaultDataDirectory;

    /// <summary>
    /// 1 GiB of history: years of a busy class or team (5,000 messages a day of about 200 bytes
    /// count for about 1.3 MB), small beside any disk, and a flood at the byte rate fills it in
    /// minutes and then only replaces itself instead of filling the disk.
    /// </summary>
    public const long DefaultHistoryMaxBytes = 1024L * 1024 * 1024;

    /// <summary>Below this the file would hold a few thousand messages at most: less than a day of a busy room.</summary>
    public const long MinHistoryMaxBytes = 1024 * 1024;

    /// <summary>Messages older than this many days are deleted from the history file; 0 keeps them however old (the byte limit still applies).</summary>
    public int HistoryDays { get; init; }

    /// <summary>What the history file's messages may count for (text and 64 bytes each); past it the oldest go, a heavy author's first; 0 for no limit.</summary>
    public long HistoryMaxBytes { get; init; } = DefaultHistoryMaxBytes;

    /// <summary>Joins and leaves are announced only while at most this many users are online.</summary>
    public int AnnounceLimit { get; init; } = DefaultAnnounceLimit;

    /// <summary>Files up to 2 GiB: a disk image or a video, not a backup; data never sits on the server, so this bounds time, not memory.</summary>
    public const long DefaultMaxFileBytes = 2L * 1024 * 1024 * 1024;

    /// <summary>Transfers a user may have going (offered or sending, either way) at once; each holds a window of output at the server.</summary>
    public const int DefaultMaxTransfersPerUser = 3;

    /// <summary>The largest file that may be offered; 0 turns file transfer off.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;

    public int MaxTransfersPerUser { get; init; } = DefaultMaxTransfersPerUser;

    /// <summary>
    /// What one transfer's window can take of a receiver's output at the server: each chunk as a
    /// *file* pair (two headers, the sender, "data ID OFFSET ", base64). A user's transfers times
    /// this must stay below <see cref="MaxPendingOutputBytes"/>, or a receiver would be dropped
    /// as not reading while it reads as fast as it can.
    /// </summary>
    public static readonly int FileWindowOnTheWireBytes = FileTransferProtocol.WindowBytes / FileTransferProtocol.ChunkBytes
        * ((2 * Common.Framing.FrameHeader.Length) + FileTransferProtocol.Sender.Length + DataHeadMaxBytes + ((FileTransferProtocol.ChunkBytes + 2) / 3 * 4));

    /// <summary>"data " and a 10-digit id, a 19-digit offset and the spaces between: the most a data pair's text has before its base64.</summary>
    private const int DataHeadMaxBytes = 40;

    /// <summary>Two minutes to answer an offer: long enough to notice it, short enough that a forgotten one does not count against the limit for long.</summary>
    public static readonly TimeSpan DefaultFileOfferTimeout = TimeSpan.FromMinutes(2);

    public TimeSpan FileOfferTimeout { get; init; } = DefaultFileOfferTimeout;

    /// <summary>
    /// Connections one address may hold at once: a class or an office behind one NAT chats
    /// comfortably, while one host can no longer take every slot (ngIRCd's MaxConnectionsIP is
    /// 5, Ergo's max-concurrent-connections 16; PollChat's users are more often a room sharing
    /// one router, so a little more).
    /// </summary>
    public const int DefaultMaxPerAddress = 20;

    /// <summary>
    /// New connections one address may open a minute, and at once: a whole NAT of
    /// <see cref="DefaultMaxPerAddress"/> people can connect, drop and reconnect three times
    /// over within a minute, while a host churning connections gets one a second.
    /// </summary>
    public const int DefaultConnectsPerMinute = 60;

    /// <summary>Connections one address (an IPv6 /64) may hold at once; 0 turns the limit off.</summary>
    public int MaxPerAddress { get; init; } = DefaultMaxPerAddress;

    /// <summary>New connections one address (an IPv6 /64) may open a minute, in bursts of as many; 0 turns the limit off.</summary>
    public int ConnectsPerMinute { get; init; } = DefaultConnectsPerMinute;
}
