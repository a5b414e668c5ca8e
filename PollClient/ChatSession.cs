using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NLog;
using PollChat.Common.Framing;
using PollChat.Common.Net;
using PollChat.Common.Protocol;

namespace PollChat.Client;

/// <summary>Host, port and name of one chat session.</summary>
public sealed record ClientOptions(string Host, int Port, string User)
{
    /// <summary>A LAN server answers in milliseconds; a connect still pending after this will not succeed.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Lines typed while disconnected, kept to send on reconnecting: a few sentences, not a conversation held back for minutes.</summary>
    public const int MaxLinesWhileDisconnected = 10;

    /// <summary>Retries after a lost connection back off to this: a server down for long is tried twice a minute, not hammered.</summary>
    public static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(30);

    /// <summary>Lines remembered as shown, per connection's rooms, so the history replayed on reconnecting repeats none of them.</summary>
    public const int ShownLinesRemembered = 500;

    /// <summary>The client checks message size before sending, with the server's default limit.</summary>
    public int MaxMessageBytes { get; init; } = ProtocolLimits.DefaultMaxMessageBytes;

    /// <summary>Sent as /login, and only to a server that offered rich mode: a classic server would relay it to everyone.</summary>
    public string? Password { get; init; }

    /// <summary>Speak TLS to the server; its certificate is trusted as <see cref="ServerTrust"/> decides.</summary>
    public bool Tls { get; init; }

    /// <summary>Accept only a certificate with this SHA-256 fingerprint.</summary>
    public string? TlsFingerprint { get; init; }

    /// <summary>Accept only a certificate that validates against this CA (PEM) for the host's name.</summary>
    public string? TlsCaFile { get; init; }

    /// <summary>For bots (<c>--bot</c>): leave out the history a server replays on entering a room; a /history asked for still shows.</summary>
    public bool SkipHistoryReplay { get; init; }

    /// <summary>Where accepted files are saved unless /accept names a directory.</summary>
    public string DownloadDirectory { get; init; } = Files.DownloadPath.DefaultDirectory;

    /// <summary>Where trust-on-first-use remembers fingerprints.</summary>
    public string KnownServersFile { get; init; } = ServerTrust.DefaultKnownServersFile;
}

/// <summary>
/// The network thread's side of the client: owns the socket and the screen. It waits on the
/// socket and a wake-up socket together, so it reacts at once both to incoming frames and to
/// lines the input thread posts through <see cref="Post"/>.
/// </summary>
public sealed class ChatSession : IDisposable
{
    /// <summary>A send that cannot make progress for this long means the server has stopped reading us.</summary>
    private static readonly TimeSpan SendStallTimeout = TimeSpan.FromSeconds(10);

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    private readonly ClientOptions _options;
    private readonly ChatView _view;
    private readonly WakeSignal _wake = new();
    private readonly ConcurrentQueue<UserInput> _inputs = new();
    private readonly ConcurrentQueue<ConsoleKeyInfo> _keys = new();
    private readonly ConcurrentQueue<Action> _posted = new();
    private readonly Files.FileTransfers _files;
    private readonly List<Socket> _readList = [];

    private static readonly byte[] RichRequest = Encoding.UTF8.GetBytes(RichMode.Request);

    private readonly UserList _users = new();

    private Socket? _socket;
    private TlsChannel? _tls;
    private readonly byte[] _cipher = new byte[16 * 1024];
    private FrameReader _reader = new();
    private string? _pendingSender;
    private string? _lastNotice;

    // Our name, which /nick can change: a reconnection uses the current one.
    private string _user;

    // Rich mode: offered only by the first pair a server sends (its welcome); events are believed only once we asked for them.
    private bool _awaitingWelcome;

    // Whether any byte came from the server on this connection: a close before one is how a TLS port treats a plain client.
    private bool _heardFromServer;

    // Reconnecting by itself: when the next try is due (null while connected or given up), and how many failed in a row.
    private DateTime? _reconnectAt;
    private int _reconnectFailures;

    // Carried over a lost connection: the room to go back to, the lines typed meanwhile, and what was already shown (so a replay repeats none of it).
    private string? _roomToRejoin;
    private bool _rejoinPending;
    private readonly Queue<string> _unsent = new();
    private readonly HashSet<string> _shown = [];
    private readonly Queue<string> _shownOrder = new();
    private bool _richRequested;
    private bool _usersAsked;
    private bool _quitRequested;
    private int _exitCode = ExitCodes.Ok;

    // For the status line: what the server said of our away state, private messages not yet seen, and whom TLS vouched for.
    private string? _awayText;
    private int _unreadPrivate;
    private string? _serverFingerprint;

    // Rooms for Tab completion, refreshed by asking /rooms without showing the answer: answers come in order, so a count of silent asks is enough.
    private static readonly TimeSpan RoomListFreshFor = TimeSpan.FromSeconds(15);
    private readonly SortedSet<string> _knownRooms = new(StringComparer.OrdinalIgnoreCase);
    private int _silentRoomAsks;
    private DateTime _roomsAskedAt = DateTime.MinValue;

    // --bot: how many /history answers are still to come, and whether the replay arriving now was asked for.
    private int _historyAsked;
    private bool _showingReplay;

    public ChatSession(ClientOptions options, ChatView view)
    {
        _options = options;
        _view = view;
        _user = options.User;
        _files = new Files.FileTransfers(view, SendFrame, PostAction, options.DownloadDirectory, interactive: () => Screen is not null, isOnline: _users.IsOnline);
    }

    /// <summary>Work finished on another thread (a file's hash) continues here, on the network thread. Safe from any thread.</summary>
    private void PostAction(Action action)
    {
        _posted.Enqueue(action);
        _wake.Wake();
    }

    /// <summary>The users the server told us of in rich mode; empty against a classic server.</summary>
    public UserList Users => _users;

    /// <summary>Set when the last <see cref="Connect"/> failed because the server's TLS certificate was not trusted.</summary>
    public bool CertificateRefused { get; private set; }

    /// <summary>Queues a user's line for the network thread. Safe from any thread.</summary>
    public void Post(UserInput input)
    {
        _inputs.Enqueue(input);
        _wake.Wake();
    }

    /// <summary>Interactive mode: queues a key for the network thread, which owns the input line. Safe from any thread.</summary>
    /// <param name="key">The key.</param>
    /// <param name="wake">Whether to wake the network thread now; false while more keys are already waiting to be read.</param>
    public void PostKey(ConsoleKeyInfo key, bool wake = true)
    {
        _keys.Enqueue(key);
        if (wake)
        {
            _wake.Wake();
        }
    }

    /// <summary>Interactive mode: the terminal changed size; the network thread draws again. Safe from any thread.</summary>
    public void RequestRedraw()
    {
        _wake.Wake(); // Every turn of the loop draws the screen, at the terminal's size then.
    }

    /// <summary>The server's "Name rejected: ..." when it refused our name and the client ends: said again after the screen is gone.</summary>
    public string? RejectedBecause { get; private set; }

    /// <summary>Our name now: as given, or as the server last confirmed it (a /nick).</summary>
    public string CurrentName => _user;

    /// <summary>The interactive screen, when stdin and stdout are a terminal; null in plain mode.</summary>
    public Terminal.InteractiveScreen? Screen { get; set; }

    /// <summary>
    /// For the status line: the server (with a lock and the certificate's short fingerprint over
    /// TLS), who we are and whether away, the room, how many are online, and unread private messages.
    /// </summary>
    public string StatusText
    {
        get
        {
            var parts = new List<string>(6)
            {
                $"{_options.Host}:{_options.Port}{(_serverFingerprint is null ? "" : $" \U0001F512 {CertificateFingerprint.Abbreviate(_serverFingerprint)}")}",
                _socket is null ? (_reconnectAt is { } due ? $"not connected, retrying in {SecondsUntil(due)} s" : "not connected") : _awayText is null ? _user : $"{_user} (away)",
                _users.Room ?? "-",
            };
            if (_users.Tracked)
            {
                parts.Add($"{_users.Online.Count} online");
            }

            if (_files.StatusText is { } transfer)
            {
                parts.Add(transfer);
            }

            if (_unreadPrivate > 0)
            {
                parts.Add(_unreadPrivate == 1 ? "1 unread private message" : $"{_unreadPrivate} unread private messages");
            }

            return string.Join(" | ", parts);
        }
    }

    /// <summary>What Tab offers for the word before the cursor: commands after '/', rooms after '#', otherwise the users online.</summary>
    public IEnumerable<string> Completions(string word)
    {
        if (word.StartsWith('/'))
        {
            return Terminal.ClientCommands.Names;
        }

        if (!word.StartsWith('#'))
        {
            return _users.Online;
        }

        if (_richRequested && DateTime.UtcNow - _roomsAskedAt > RoomListFreshFor)
        {
            AskForRoomsSilently(); // Rooms come and go; the next Tab sees the fresh list.
        }

        return _users.Room is { } current ? _knownRooms.Append(current) : _knownRooms;
    }

    /// <summary>
    /// Connects and sends the username. Returns null on success, otherwise one sentence saying
    /// why not, for a person (refused, unknown host, timed out).
    /// </summary>
    public string? Connect()
    {
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(_options.Host, out IPAddress? literal) ? [literal] : Dns.GetHostAddresses(_options.Host);
        }
        catch (SocketException)
        {
            return $"unknown host '{_options.Host}'";
        }

        if (addresses.Length == 0)
        {
            return $"unknown host '{_options.Host}'";
        }

        SocketError lastError = SocketError.HostNotFound;
        foreach (IPAddress address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var timeout = new CancellationTokenSource(ClientOptions.ConnectTimeout);
                socket.ConnectAsync(new IPEndPoint(address, _options.Port), timeout.Token).AsTask().GetAwaiter().GetResult();
                socket.Blocking = false;
                _socket = socket;
                if (_options.Tls && Handshake() is { } refused)
                {
                    return refused;
                }

                _reader = new FrameReader();
                _pendingSender = null;
                _lastNotice = null;
                _awaitingWelcome = true;
                _heardFromServer = false;
                _richRequested = _usersAsked = false;
                _users.Clear();
                _awayText = null;
                _unreadPrivate = _silentRoomAsks = 0;
                _roomsAskedAt = DateTime.MinValue;
                _historyAsked = 0;
                _showingReplay = false;
                SendFrame(Encoding.UTF8.GetBytes(_user));
                Log.Info("Connected to {Host}:{Port} as {User}", _options.Host, _options.Port, _user);
                return _socket is null ? "the server closed the connection at once" : null;
            }
            catch (SocketException e)
            {
                lastError = e.SocketErrorCode;
                socket.Dispose();
            }
            catch (OperationCanceledException)
            {
                lastError = SocketError.TimedOut;
                socket.Dispose();
            }
        }

        return lastError switch
        {
            SocketError.ConnectionRefused => $"connection refused by {_options.Host}:{_options.Port} (is the server running?)",
            SocketError.TimedOut => $"no answer from {_options.Host}:{_options.Port} within {ClientOptions.ConnectTimeout.TotalSeconds:0} s",
            SocketError.HostNotFound or SocketError.NoData => $"unknown host '{_options.Host}'",
            SocketError.NetworkUnreachable or SocketError.HostUnreachable => $"{_options.Host} is unreachable",
            _ => $"cannot connect to {_options.Host}:{_options.Port} ({lastError})",
        };
    }

    /// <summary>Runs the network loop on the calling thread until the user quits or the name is rejected; returns the exit code.</summary>
    public int Run()
    {
        while (!_quitRequested)
        {
            Screen?.Render(); // What the last turn changed, drawn once.
            _readList.Clear();
            _readList.Add(_wake.Socket);
            if (_socket is not null)
            {
                _readList.Add(_socket);
            }

            // While a reconnection is due, wake for it, and once a second so the countdown on the status line moves.
            int waitMicroseconds = _reconnectAt is { } due
                ? (int)Math.Clamp((due - DateTime.UtcNow).TotalMilliseconds, 0, Screen is null ? int.MaxValue / 1000 : 1000) * 1000
                : -1;
            Socket.Select(_readList, null, null, waitMicroseconds);
            if (_reconnectAt is { } dueNow && DateTime.UtcNow >= dueNow)
            {
                Reconnect();
            }

            if (_socket is not null && _readList.Contains(_socket))
            {
                ReceiveAvailable();
            }

            if (_readList.Contains(_wake.Socket))
            {
                _wake.Drain();
                while (!_quitRequested && _posted.TryDequeue(out Action? action))
                {
                    action();
                }

                while (!_quitRequested && _inputs.TryDequeue(out UserInput input))
                {
                    Handle(input);
                }

                while (!_quitRequested && _keys.TryDequeue(out ConsoleKeyInfo key))
                {
                    HandleKey(key);
                }
            }
        }

        ReportUnsent();
        CloseSocket();
        return _exitCode;
    }

    public void Dispose()
    {
        CloseSocket();
        _wake.Dispose();
    }

    private void HandleKey(ConsoleKeyInfo key)
    {
        bool control = (key.Modifiers & ConsoleModifiers.Control) != 0;
        if (control && key.Key is ConsoleKey.C or ConsoleKey.D)
        {
            _quitRequested = true; // Ctrl+C, and Ctrl+D as at end of input: the terminal is in raw mode, so they arrive as keys.
            return;
        }

        if (Screen is { AtBottom: true })
        {
            _unreadPrivate = 0; // The user is at the screen, with the newest lines in view.
        }

        string? line = Screen?.HandleKey(key);
        if (line is not null && Screen!.LocalCommand(line) is { } answer)
        {
            _view.Status(answer);
            return;
        }

        if (line is not null && UserInput.Parse(line) is { Kind: not UserInputKind.Nothing } input)
        {
            if (input.Kind == UserInputKind.Send && _socket is not null && !input.Text.StartsWith('/'))
            {
                _view.Message(DateTime.Now, _user, input.Text); // The typed line left the input row; show it in the chat.
            }

            Handle(input);
        }
    }

    private void Handle(UserInput input)
    {
        switch (input.Kind)
        {
            case UserInputKind.Quit:
                if (input.Text.Length > 0 && _socket is not null && _richRequested)
                {
                    SendFrame(Encoding.UTF8.GetBytes("/quit " + input.Text)); // PollServer tells the room why; the close follows it.
                }

                _quitRequested = true;
                break;
            case UserInputKind.Connect when _socket is not null:
                _view.Status($"Already connected to {_options.Host}:{_options.Port}.");
                break;
            case UserInputKind.Connect:
                _view.Status($"Connecting to {_options.Host}:{_options.Port}...");
                Reconnect(byHand: true);
                break;
            case UserInputKind.Send when _socket is not null && _rejoinPending && (_unsent.Count > 0 || _roomToRejoin is not null) && !input.Text.StartsWith('/'):
                _unsent.Enqueue(input.Text); // Back, but not yet in the room we were in: it follows the lines typed while away, in order.
                break;
            case UserInputKind.Send when _socket is null && _unsent.Count < ClientOptions.MaxLinesWhileDisconnected:
                _unsent.Enqueue(input.Text);
                _view.Status($"Not connected: sent when the connection is back ({_unsent.Count} waiting). Type CONNECT to retry now, or /quit to leave.");
                break;
            case UserInputKind.Send when _socket is null:
                _view.Status($"Not connected, and not kept: {ClientOptions.MaxLinesWhileDisconnected} lines already wait for the connection. Type CONNECT to retry now, or /quit to leave.");
                break;
            case UserInputKind.Send when !_awaitingWelcome && !_richRequested && input.Text.StartsWith('/') && !input.Text.StartsWith("//", StringComparison.Ordinal):
                // A classic server has no commands: it would relay the line to everyone as chat.
                _view.Status($"Not sent: this server is a classic one, without commands; everyone would have read {input.Text.Split(' ')[0]} as chat. Type //{input.Text[1..]} to send it as text.");
                break;
            case UserInputKind.Send:
                if (!_awaitingWelcome && !_richRequested && input.Text.StartsWith("//", StringComparison.Ordinal))
                {
                    input = input with { Text = input.Text[1..] }; // "//" says "a leading /" to a PollServer; a classic one relays as it is, so the client says it.
                }

                if (_richRequested && AsksForUsers(input.Text))
                {
                    AnswerUsers();
                    break;
                }

                if (Files.FileTransfers.IsFileCommand(input.Text))
                {
                    if (_richRequested)
                    {
                        _files.Command(input.Text);
                    }
                    else
                    {
                        _view.Status("File transfer needs a PollServer: this server offered no rich mode, and would relay the command to everyone.");
                    }

                    break;
                }

                byte[] payload = Encoding.UTF8.GetBytes(input.Text);
                if (payload.Length > _options.MaxMessageBytes)
                {
                    _view.Status($"Message not sent: {payload.Length} bytes is over the limit of {_options.MaxMessageBytes}.");
                    break;
                }

                if (input.Text.TrimStart().StartsWith("/history", StringComparison.OrdinalIgnoreCase))
                {
                    _historyAsked++;
                }

                SendFrame(payload);
                if (!input.Text.StartsWith('/'))
                {
                    AlreadyShown(_user, input.Text, remember: true); // Our own line, seen as typed: a replay after reconnecting skips it too.
                }

                break;
            case UserInputKind.Usage:
                _view.Status(input.Text);
                break;
        }
    }

    /// <summary>
    /// The TLS handshake, before anything else is sent: the network thread waits for it (with the
    /// connect timeout), since there is nothing else to do yet. Returns null when the session is
    /// open, otherwise why not, for a person; a refused certificate also sets <see cref="CertificateRefused"/>.
    /// </summary>
    private string? Handshake()
    {
        var trust = new ServerTrust(_options.Host, _options.Port, _options.TlsFingerprint, _options.TlsCaFile, _options.KnownServersFile);
        _tls = TlsChannel.ForClient(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = _options.Host,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => trust.Validate(certificate, chain, errors),
        });
        DateTime deadline = DateTime.UtcNow + ClientOptions.ConnectTimeout;
        CertificateRefused = false;
        while (_socket is not null && !_tls.IsOpen && _tls.Failure is null)
        {
            SendCipherPending();
            TimeSpan left = deadline - DateTime.UtcNow;
            if (_socket is null || left <= TimeSpan.Zero || !_socket.Poll(left, SelectMode.SelectRead))
            {
                CloseSocket();
                return $"no TLS handshake with {_options.Host}:{_options.Port} within {ClientOptions.ConnectTimeout.TotalSeconds:0} s (is it a TLS port?)";
            }

            int received = _socket.Receive(_cipher, SocketFlags.None, out SocketError error);
            if (error != SocketError.Success || received == 0)
            {
                CloseSocket();
                return trust.Refused ? trust.Verdict : $"the server ended the TLS handshake (is {_options.Port} a TLS port?)";
            }

            if (LooksLikeAFrame(_cipher.AsSpan(0, received)))
            {
                CloseSocket(); // Our ClientHello reached a plain port, which answered in frames (a protocol error notice).
                return $"{_options.Host}:{_options.Port} answered in plain text, not TLS: it is not a TLS port (connect to it without --tls, or to the server's --tls-port)";
            }

            _tls.Feed(_cipher.AsSpan(0, received));
        }

        if (_tls?.Failure is not null || trust.Refused)
        {
            string why = trust.Refused ? trust.Verdict! : $"TLS handshake failed: {_tls!.Failure!.Message}";
            CertificateRefused = trust.Refused;
            CloseSocket();
            return why;
        }

        SendCipherPending();
        _serverFingerprint = trust.Fingerprint;
        if (trust.Verdict is not null)
        {
            _view.Status(trust.Verdict);
        }

        return _socket is null ? "the server closed the connection during the TLS handshake" : null;
    }

    /// <summary>Whether bytes from the server start like a classic frame: a length in ASCII digits, space-padded.</summary>
    private static bool LooksLikeAFrame(ReadOnlySpan<byte> bytes) =>
        bytes.Length > 0 && char.IsAsciiDigit((char)bytes[0]) && bytes[..Math.Min(bytes.Length, FrameHeader.Length)].IndexOfAnyExcept(HeaderBytes) < 0;

    private static readonly System.Buffers.SearchValues<byte> HeaderBytes = System.Buffers.SearchValues.Create("0123456789 "u8);

    /// <summary>Whether bytes from the server start like a TLS record (a handshake or an alert), which a plain client cannot read.</summary>
    private static bool LooksLikeTls(ReadOnlySpan<byte> bytes) => bytes.Length >= 2 && bytes[0] is 0x15 or 0x16 && bytes[1] == 0x03;

    private void ReceiveAvailable()
    {
        while (_socket is not null)
        {
            Span<byte> space = _tls is null ? _reader.GetReceiveSpan() : _cipher;
            int received = _socket.Receive(space, SocketFlags.None, out SocketError error);
            DisconnectKind kind = Disconnects.ClassifyReceive(error == SocketError.Success ? received : 0, error);
            if (error == SocketError.Success && received > 0 && _tls is not null)
            {
                _tls.Feed(_cipher.AsSpan(0, received));
                while (_tls.TryReadPlaintext(out ReadOnlySpan<byte> plaintext))
                {
                    _reader.Append(plaintext);
                }

                if (_tls.Failure is not null)
                {
                    ConnectionLost($"TLS error: {_tls.Failure.Message}");
                    return;
                }

                RenderFrames();
                continue;
            }

            _heardFromServer |= error == SocketError.Success && received > 0;
            if (error == SocketError.Success && received > 0 && _awaitingWelcome && LooksLikeTls(space[..received]))
            {
                // A TLS port answers a plain client's name with a TLS alert: say what to do instead of "an invalid frame".
                ConnectionLost($"{_options.Host}:{_options.Port} answered with TLS: it is a TLS port (connect with --tls)");
                return;
            }

            if (error == SocketError.Success && received > 0)
            {
                _reader.CommitReceived(received);
                RenderFrames();
                continue;
            }

            if (kind != DisconnectKind.WouldBlock)
            {
                // Closed before a single byte came back: what a TLS port does with a plain client's name.
                bool silent = !_heardFromServer && _tls is null && kind is DisconnectKind.ClosedByPeer or DisconnectKind.Reset;
                ConnectionLost(silent ? $"the server closed the connection without a word (if {_options.Port} is a TLS port, connect with --tls)"
                    : kind == DisconnectKind.ClosedByPeer ? "the server closed the connection" : Disconnects.Describe(kind, error));
            }

            return;
        }
    }

    /// <summary>Frames arrive in pairs: a sender, then what the sender said.</summary>
    private void RenderFrames()
    {
        while (_socket is not null)
        {
            FrameReadStatus status = _reader.TryRead(ProtocolLimits.MaxFrameFromServerBytes, out ReadOnlySpan<byte> payload, out FrameError error, out int declared);
            if (status == FrameReadStatus.NeedMoreData)
            {
                return;
            }

            if (status == FrameReadStatus.Invalid)
            {
                Log.Warn("Invalid frame from server: {Error} ({Declared} bytes declared)", error, declared);
                ConnectionLost("the server sent an invalid frame: " + FrameHeader.Describe(error, declared, ProtocolLimits.MaxFrameFromServerBytes));
                return;
            }

            if (_pendingSender == FileTransferProtocol.Sender && _richRequested)
            {
                _pendingSender = null;
                _files.OnFilePair(payload); // Data is handled where it lies: no string for 43 KB of base64.
                continue;
            }

            string text = Encoding.UTF8.GetString(payload);
            if (_pendingSender is null)
            {
                _pendingSender = text;
                continue;
            }

            string sender = _pendingSender;
            _pendingSender = null;
            if (_awaitingWelcome)
            {
                _awaitingWelcome = false;
                text = AcceptRichModeOffer(sender, text);
                if (_rejoinPending && !_richRequested)
                {
                    _rejoinPending = false;
                    SendUnsent(); // A classic server has no rooms: the lines typed meanwhile go at once.
                }
            }

            if (_richRequested && sender == RichMode.EventSender)
            {
                HandleEvent(text);
                continue;
            }

            if (sender == ServerSender.Name)
            {
                _lastNotice = text;
            }

            if (_options.SkipHistoryReplay && IsUnaskedReplay(sender, text))
            {
                continue;
            }

            if (HistoryReplay.TrySplitSender(sender, out _, out string? replayedSender))
            {
                if (AlreadyShown(replayedSender, text, remember: false))
                {
                    continue; // Seen before the connection was lost: the replay after reconnecting shows only what was missed.
                }
            }
            else if (sender != ServerSender.Name)
            {
                AlreadyShown(sender, text, remember: true);
            }

            _view.Message(DateTime.Now, sender, text);
        }
    }

    /// <summary>
    /// With <c>--bot</c>: whether a pair belongs to a history replay nobody asked for (the one on
    /// entering a room), heading included. Answers come in order, so counting the /history lines
    /// sent tells a replay asked for from one that was not.
    /// </summary>
    private bool IsUnaskedReplay(string sender, string text)
    {
        if (sender == ServerSender.Name && HistoryReplay.IsHistoryAnswer(text))
        {
            _showingReplay = _historyAsked > 0;
            _historyAsked = Math.Max(0, _historyAsked - 1);
            return !_showingReplay;
        }

        return !_showingReplay && HistoryReplay.TrySplitSender(sender, out _, out _);
    }

    /// <summary>
    /// A server that ends its welcome with the advertisement speaks rich mode, so we ask for it;
    /// any other first pair means a classic server, to which we send nothing the user did not
    /// type (it would relay it to everyone). Returns the welcome without the advertisement.
    /// </summary>
    private string AcceptRichModeOffer(string sender, string text)
    {
        if (sender != ServerSender.Name || !text.EndsWith(RichMode.Advertisement, StringComparison.Ordinal))
        {
            if (_options.Password is not null)
            {
                _view.Status("This server is not a PollServer (it offered no rich mode), so your password was not sent: it would have gone to everyone.");
            }

            return text;
        }

        _richRequested = true;
        SendFrame(RichRequest);
        if (_options.Password is not null)
        {
            SendFrame(Encoding.UTF8.GetBytes("/login " + _options.Password));
        }

        return text[..^RichMode.Advertisement.Length].TrimEnd();
    }

    private void HandleEvent(string json)
    {
        RichEvent? richEvent = RichMode.Parse(json);
        if (richEvent is null)
        {
            Log.Warn("Ignored an event that is not one: {Json}", json);
            return;
        }

        _users.Apply(richEvent);
        if (_users.MyName is { } name)
        {
            _user = name; // A /nick carries over to a reconnection.
        }

        if (richEvent.Type == RichEventTypes.Users && _rejoinPending)
        {
            Rejoin(); // The snapshot on arriving: we are in #lobby again, and logged in if we had to be.
        }

        if (richEvent.Type == RichEventTypes.Users && _usersAsked)
        {
            _usersAsked = false;
            _view.Users(DateTime.Now, _users.Room, _users.Members, _users.Online);
        }

        switch (richEvent.Type)
        {
            case RichEventTypes.Hello when Screen is not null && richEvent.Room is not null:
            case RichEventTypes.Users when Screen is not null && _roomsAskedAt == DateTime.MinValue:
                // So that the first Tab after '#' already knows the rooms; not before a registered name has
                // logged in (no room yet in its hello), when the server would answer "Log in first".
                AskForRoomsSilently();
                break;
            case RichEventTypes.Away:
                _awayText = richEvent.Text;
                break;
            case RichEventTypes.FileOffer or RichEventTypes.FileAccept or RichEventTypes.FileEnd:
                _files.OnEvent(richEvent, _users.MyName);
                return;
            case RichEventTypes.Error when richEvent.Text is not null:
                _files.OnError(richEvent.Text);
                break;
            case RichEventTypes.Private when !string.Equals(richEvent.From, _users.MyName, StringComparison.OrdinalIgnoreCase):
                _unreadPrivate++;
                break;
            case RichEventTypes.Rooms:
                _knownRooms.Clear();
                _knownRooms.UnionWith(richEvent.Rooms?.Select(r => r.Name) ?? []);
                if (_silentRoomAsks > 0)
                {
                    _silentRoomAsks--;
                    return;
                }

                break;
        }

        _view.Event(DateTime.Now, richEvent, _users.MyName);
    }

    /// <summary>In rich mode /users is answered from our own list while it is current; otherwise the server is asked for a fresh one.</summary>
    private void AnswerUsers()
    {
        if (_users.Tracked)
        {
            _view.Users(DateTime.Now, _users.Room, _users.Members, _users.Online);
            return;
        }

        _usersAsked = true;
        SendFrame("/users"u8);
    }

    private void AskForRoomsSilently()
    {
        _silentRoomAsks++;
        _roomsAskedAt = DateTime.UtcNow;
        SendFrame("/rooms"u8);
    }

    private static bool AsksForUsers(string text) =>
        text.Trim() is { } word && (word.Equals("/users", StringComparison.OrdinalIgnoreCase)
            || word.Equals("/who", StringComparison.OrdinalIgnoreCase) || word.Equals("/names", StringComparison.OrdinalIgnoreCase));

    private void SendFrame(ReadOnlySpan<byte> payload)
    {
        if (_tls is null)
        {
            SendAll(Frame.Encode(payload));
            return;
        }

        _tls.Write(Frame.Encode(payload));
        SendCipherPending();
    }

    private void SendCipherPending()
    {
        int count = _tls!.CipherPending.Length;
        SendAll(_tls.CipherPending);
        _tls?.ConsumeCipher(count);
    }

    private void SendAll(ReadOnlySpan<byte> remaining)
    {
        while (_socket is not null && !remaining.IsEmpty)
        {
            int sent = _socket.Send(remaining, SocketFlags.None, out SocketError error);
            if (error == SocketError.Success)
            {
                remaining = remaining[sent..];
                continue;
            }

            DisconnectKind kind = Disconnects.Classify(error);
            if (kind != DisconnectKind.WouldBlock)
            {
                ConnectionLost(Disconnects.Describe(kind, error));
                return;
            }

            // The server reads every client on every iteration, so a full send buffer drains quickly unless the server is stuck.
            if (!_socket.Poll(SendStallTimeout, SelectMode.SelectWrite))
            {
                ConnectionLost("the server stopped reading");
                return;
            }
        }
    }

    private void ConnectionLost(string why)
    {
        string? notice = _lastNotice;
        CloseSocket();
        _files.ConnectionLost();
        if (notice is not null && notice.StartsWith(ServerSender.NameRejectedPrefix, StringComparison.Ordinal))
        {
            RejectedBecause = notice;
            _exitCode = ExitCodes.NameRejected;
            _quitRequested = true;
            return;
        }

        if (notice == ServerSender.ShuttingDownNotice)
        {
            why = "the server shut down";
        }

        Log.Warn("Connection lost: {Why}", why);
        _exitCode = ExitCodes.ConnectionLost;
        _roomToRejoin = _users.Room ?? _roomToRejoin;
        _users.Clear(); // Who was online is not known any more: the status line and the list say so rather than show stale names.
        _reconnectFailures = 0;
        ScheduleReconnect();
        _view.Status($"Connection lost: {why}. Reconnecting in {SecondsUntil(_reconnectAt!.Value)} s; type CONNECT to retry now, or /quit to leave.");
    }

    /// <summary>
    /// The next try: the first within a second (a server restarting, a Wi-Fi hiccup), then backing
    /// off by doubling to <see cref="ClientOptions.MaxReconnectDelay"/>, each with a quarter of
    /// jitter so that a class whose server restarts does not come back in one burst.
    /// </summary>
    private void ScheduleReconnect()
    {
        double seconds = _reconnectFailures == 0 ? 0.25 + (Random.Shared.NextDouble() * 0.75)
            : Math.Min(ClientOptions.MaxReconnectDelay.TotalSeconds, Math.Pow(2, _reconnectFailures)) * (0.75 + (Random.Shared.NextDouble() * 0.5));
        _reconnectAt = DateTime.UtcNow + TimeSpan.FromSeconds(Math.Min(seconds, ClientOptions.MaxReconnectDelay.TotalSeconds));
    }

    private static int SecondsUntil(DateTime due) => Math.Max(1, (int)Math.Ceiling((due - DateTime.UtcNow).TotalSeconds));

    /// <summary>A try to get the connection back, when one is due or the user typed CONNECT; a refused certificate ends the tries.</summary>
    private void Reconnect(bool byHand = false)
    {
        _reconnectAt = null;
        if (byHand)
        {
            _view.Status($"Connecting to {_options.Host}:{_options.Port}...");
        }

        string? failure = Connect();
        if (failure is null)
        {
            _exitCode = ExitCodes.Ok;
            _reconnectFailures = 0;
            _rejoinPending = true;
            _view.Status($"Connected as {_user}.");
            return;
        }

        if (CertificateRefused)
        {
            _view.Status($"Cannot connect: {failure}. Not trying again; type CONNECT once the certificate is sorted out, or /quit to leave.");
            return;
        }

        _reconnectFailures++;
        ScheduleReconnect();
        _view.Status($"Cannot connect: {failure}. Retrying in {SecondsUntil(_reconnectAt!.Value)} s; type CONNECT to retry now, or /quit to leave.");
    }

    /// <summary>Back in the chat after a reconnection: the room we were in, then the lines typed meanwhile, in order.</summary>
    private void Rejoin()
    {
        _rejoinPending = false;
        if (_roomToRejoin is { } room && _users.Room is { } current && !string.Equals(room, current, StringComparison.OrdinalIgnoreCase))
        {
            SendFrame(Encoding.UTF8.GetBytes("/join " + room));
        }

        SendUnsent();
    }

    private void SendUnsent()
    {
        while (_socket is not null && _unsent.TryDequeue(out string? line))
        {
            if (Screen is not null && !line.StartsWith('/'))
            {
                _view.Message(DateTime.Now, _user, line);
            }

            SendFrame(Encoding.UTF8.GetBytes(line));
        }
    }

    /// <summary>Lines still waiting for a connection when the user leaves are named, so nobody believes they were sent.</summary>
    private void ReportUnsent()
    {
        foreach (string line in _unsent)
        {
            _view.Status($"Not sent (the connection did not come back): {line}");
        }

        _unsent.Clear();
    }

    /// <summary>Remembers a line as shown in the current room, so a replay after reconnecting skips it.</summary>
    private bool AlreadyShown(string sender, string text, bool remember)
    {
        string key = $"{_users.Room}\n{sender}\n{text}";
        if (!remember)
        {
            return _shown.Contains(key);
        }

        if (_shown.Add(key))
        {
            _shownOrder.Enqueue(key);
            if (_shownOrder.Count > ClientOptions.ShownLinesRemembered)
            {
                _shown.Remove(_shownOrder.Dequeue());
            }
        }

        return false;
    }

    private void CloseSocket()
    {
        if (_socket is null)
        {
            return;
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer: there is nothing left to shut down.
        }

        _socket.Dispose();
        _socket = null;
        _tls?.Dispose();
        _tls = null;
    }
}
