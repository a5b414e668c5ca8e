using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using NLog;
using PollChat.Server;
using PollChat.Server.Cli;
using PollChat.Server.Loop;

// Program only turns the command line into ServerOptions and starts the server.
var port = new Option<int>("--port", "-p") { Description = "TCP port to listen on (0 picks a free one)", DefaultValueFactory = _ => ServerOptions.DefaultPort };
var host = new Option<string>("--host") { Description = "Address to listen on; 127.0.0.1 for this machine only", DefaultValueFactory = _ => "0.0.0.0" };
var maxClients = new Option<int>("--max-clients") { Description = "Connections beyond this get a 'server full' notice and are closed", DefaultValueFactory = _ => ServerOptions.DefaultMaxClients };
var maxMessage = new Option<int>("--max-message-bytes") { Description = "Longest message in UTF-8 bytes; a longer frame drops its sender", DefaultValueFactory = _ => PollChat.Common.Protocol.ProtocolLimits.DefaultMaxMessageBytes };
var maxName = new Option<int>("--max-username-bytes") { Description = "Longest username in UTF-8 bytes", DefaultValueFactory = _ => PollChat.Common.Protocol.ProtocolLimits.DefaultMaxUsernameBytes };
var maxPending = new Option<int>("--max-pending-bytes") { Description = "Output queued for one client beyond which it is dropped as not reading", DefaultValueFactory = _ => ServerOptions.DefaultMaxPendingOutputBytes };
var maxOutputMemory = new Option<long>("--max-output-memory") { Description = "Bytes all clients' output buffers may hold together; past it, the client holding the most is dropped as not reading", DefaultValueFactory = _ => ServerOptions.DefaultMaxOutputMemory };
var nameTimeout = new Option<double>("--name-timeout") { Description = "Seconds a new connection has to send its username", DefaultValueFactory = _ => ServerOptions.DefaultNameTimeout.TotalSeconds };
var announceLimit = new Option<int>("--announce-limit") { Description = "Joins and leaves are announced only while at most this many users are online (0: never)", DefaultValueFactory = _ => ServerOptions.DefaultAnnounceLimit };
var messageRate = new Option<double>("--message-rate") { Description = "Messages per second per connection; a faster sender's messages wait and go on at this rate (0: no limit)", DefaultValueFactory = _ => ServerOptions.DefaultMessagesPerSecond };
var messageBurst = new Option<int>("--message-burst") { Description = "Messages a connection may send at once before the rate applies", DefaultValueFactory = _ => ServerOptions.DefaultMessageBurst };
var floodTimeout = new Option<double>("--flood-timeout") { Description = "Seconds a sender may be held back by the message rate without a break before it is dropped for flooding", DefaultValueFactory = _ => ServerOptions.DefaultFloodTimeout.TotalSeconds };
var byteRate = new Option<int>("--byte-rate") { Description = "Bytes per second a connection may send, averaged; a faster sender is read only that fast (0: no limit)", DefaultValueFactory = _ => ServerOptions.DefaultBytesPerSecond };
var historyOnJoin = new Option<int>("--history") { Description = "Last messages of a room shown to whoever enters it (0: none)", DefaultValueFactory = _ => ServerOptions.DefaultHistoryOnJoin };
var historyDays = new Option<int>("--history-days") { Description = "Delete stored messages older than this many days (0: keep them however old)", DefaultValueFactory = _ => 0 };
var historyMaxBytes = new Option<long>("--history-max-bytes") { Description = "What the history file's messages may take (text and 64 bytes each); past it the oldest go, those of anyone holding over a tenth first (0: no limit)", DefaultValueFactory = _ => ServerOptions.DefaultHistoryMaxBytes };
var dataDir = new Option<string>("--data-dir") { Description = "Directory of the history file (pollchat.db), created on first run", DefaultValueFactory = _ => ServerOptions.DefaultDataDirectory };
var tlsPort = new Option<int?>("--tls-port") { Description = "Also listen with TLS on this port (0 picks a free one); e.g. 9443" };
var tlsOnly = new Option<bool>("--tls-only") { Description = "Listen with TLS only (needs --tls-port)" };
var tlsCert = new Option<string?>("--tls-cert") { Description = "Your own certificate with its key (PKCS#12 .pfx; password in POLLCHAT_TLS_CERT_PASSWORD); default: one made on first run in the data directory" };
var tlsHandshakes = new Option<int>("--tls-handshakes-per-iteration") { Description = "TLS handshakes the loop feeds per iteration, one per address; the rest wait unread (0: no bound)", DefaultValueFactory = _ => ServerOptions.DefaultTlsHandshakesPerIteration };
var requireLogin = new Option<bool>("--require-login") { Description = "Admit registered names only (invite-only): make accounts with 'PollServer account add'" };
var maxFile = new Option<long>("--max-file-bytes") { Description = "Largest file PollClients may send each other through the server (0: no file transfer)", DefaultValueFactory = _ => ServerOptions.DefaultMaxFileBytes };
var maxTransfers = new Option<int>("--max-transfers") { Description = "File transfers one user may have going at once, sending and receiving", DefaultValueFactory = _ => ServerOptions.DefaultMaxTransfersPerUser };
var offerTimeout = new Option<double>("--file-offer-timeout") { Description = "Seconds a file offer waits for /accept before it expires", DefaultValueFactory = _ => ServerOptions.DefaultFileOfferTimeout.TotalSeconds };
var maxPerAddress = new Option<int>("--max-per-address") { Description = "Connections one address (an IPv6 /64) may hold at once; more get a notice and are closed (0: no limit)", DefaultValueFactory = _ => ServerOptions.DefaultMaxPerAddress };
var connectsPerMinute = new Option<int>("--connects-per-minute") { Description = "New connections one address may open a minute, in bursts of as many (0: no limit)", DefaultValueFactory = _ => ServerOptions.DefaultConnectsPerMinute };
var logLevel = new Option<string?>("--log-level") { Description = "Minimum level logged: Trace, Debug, Info, Warn, Error, Fatal or Off (default: as in NLog.config, Info)" };

AddRangeCheck(port, 0, 65535);
AddRangeCheck(maxClients, 1, 1_000_000);
AddRangeCheck(maxMessage, 1, PollChat.Common.Protocol.ProtocolLimits.MaxFrameFromServerBytes);
AddRangeCheck(maxName, 1, PollChat.Common.Protocol.ProtocolLimits.MaxUsernameBytesAnyServer);
AddRangeCheck(maxPending, 64 * 1024, int.MaxValue);
AddRangeCheck(announceLimit, 0, int.MaxValue);
AddRangeCheck(messageBurst, 1, 1_000_000);
AddRangeCheck(historyOnJoin, 0, 100);
floodTimeout.Validators.Add(r =>
{
    if (r.GetValueOrDefault<double>() is not (>= 1 and <= 86_400))
    {
        r.AddError("--flood-timeout must be between 1 and 86400 seconds.");
    }
});
AddRangeCheck(historyDays, 0, 36_500);
historyMaxBytes.Validators.Add(r =>
{
    if (r.GetValueOrDefault<long>() is not 0 and < ServerOptions.MinHistoryMaxBytes)
    {
        r.AddError($"--history-max-bytes must be 0 (no limit) or at least {ServerOptions.MinHistoryMaxBytes}.");
    }
});
AddRangeCheck(maxTransfers, 1, 100);
AddRangeCheck(tlsHandshakes, 0, 64);
AddRangeCheck(maxPerAddress, 0, 1_000_000);
AddRangeCheck(connectsPerMinute, 0, 1_000_000);
maxFile.Validators.Add(r =>
{
    if (r.GetValueOrDefault<long>() < 0)
    {
        r.AddError("--max-file-bytes must be 0 (no file transfer) or more.");
    }
});
offerTimeout.Validators.Add(r =>
{
    if (r.GetValueOrDefault<double>() is <= 0 or > 86_400)
    {
        r.AddError("--file-offer-timeout must be more than 0 and at most 86400 seconds.");
    }
});
byteRate.Validators.Add(r =>
{
    // Slower than this, a maximum-size message could not arrive before the unfinished-frame timeout.
    if (r.GetValueOrDefault<int>() is not 0 and < MinBytesPerSecond)
    {
        r.AddError($"--byte-rate must be 0 (no limit) or at least {MinBytesPerSecond}.");
    }
});
messageRate.Validators.Add(r =>
{
    if (r.GetValueOrDefault<double>() is < 0 or > 1_000_000)
    {
        r.AddError("--message-rate must be between 0 (no limit) and 1000000.");
    }
});
nameTimeout.Validators.Add(r =>
{
    if (r.GetValueOrDefault<double>() is <= 0 or > 3600)
    {
        r.AddError("--name-timeout must be more than 0 and at most 3600 seconds.");
    }
});
logLevel.Validators.Add(r =>
{
    string? value = r.GetValueOrDefault<string?>();
    if (value is not null && !TryParseLevel(value, out _))
    {
        r.AddError($"--log-level '{value}' is not one of Trace, Debug, Info, Warn, Error, Fatal, Off.");
    }
});

var root = new RootCommand("PollServer: a chat server speaking the classic 10-byte-header protocol on one Socket.Select loop.")
{
    port, host, maxClients, maxMessage, maxName, maxPending, maxOutputMemory, nameTimeout, announceLimit, messageRate, messageBurst, floodTimeout, byteRate, historyOnJoin, historyDays, historyMaxBytes, dataDir, requireLogin, tlsPort, tlsOnly, tlsCert, tlsHandshakes, maxFile, maxTransfers, offerTimeout, maxPerAddress, connectsPerMinute, logLevel,
};
root.Validators.Add(r =>
{
    if (r.GetValue(tlsOnly) && r.GetValue(tlsPort) is null)
    {
        r.AddError("--tls-only needs --tls-port.");
    }

    if (r.GetValue(tlsPort) is < 0 or > 65535)
    {
        r.AddError("--tls-port must be between 0 and 65535.");
    }

    // Here options left out read as 0, not as their defaults.
    long transfers = r.GetResult(maxTransfers) is null ? ServerOptions.DefaultMaxTransfersPerUser : r.GetValue(maxTransfers);
    long pending = r.GetResult(maxPending) is null ? ServerOptions.DefaultMaxPendingOutputBytes : r.GetValue(maxPending);
    bool filesOn = r.GetResult(maxFile) is null || r.GetValue(maxFile) > 0;
    long outputMemory = r.GetResult(maxOutputMemory) is null ? ServerOptions.DefaultMaxOutputMemory : r.GetValue(maxOutputMemory);
    if (outputMemory < pending)
    {
        r.AddError($"--max-output-memory {outputMemory} must be at least --max-pending-bytes ({pending}): one client may hold that much.");
    }

    if (filesOn && transfers * ServerOptions.FileWindowOnTheWireBytes >= pending)
    {
        r.AddError($"--max-transfers {transfers} needs --max-pending-bytes above {transfers * ServerOptions.FileWindowOnTheWireBytes}: each transfer may hold {ServerOptions.FileWindowOnTheWireBytes} bytes of a receiver's output (or turn file transfer off with --max-file-bytes 0).");
    }
});
root.Subcommands.Add(AccountCommands.Create());

root.SetAction(result =>
{
    if (result.GetValue(logLevel) is { } level && TryParseLevel(level, out LogLevel? parsed))
    {
        SetMinimumLevel(parsed!);
    }

    var options = new ServerOptions
    {
        Host = result.GetValue(host)!,
        Port = result.GetValue(port),
        MaxClients = result.GetValue(maxClients),
        MaxMessageBytes = result.GetValue(maxMessage),
        MaxUsernameBytes = result.GetValue(maxName),
        MaxPendingOutputBytes = result.GetValue(maxPending),
        MaxOutputMemory = result.GetValue(maxOutputMemory),
        NameTimeout = TimeSpan.FromSeconds(result.GetValue(nameTimeout)),
        AnnounceLimit = result.GetValue(announceLimit),
        MessagesPerSecond = result.GetValue(messageRate),
        MessageBurst = result.GetValue(messageBurst),
        FloodTimeout = TimeSpan.FromSeconds(result.GetValue(floodTimeout)),
        BytesPerSecond = result.GetValue(byteRate),
        HistoryOnJoin = result.GetValue(historyOnJoin),
        HistoryDays = result.GetValue(historyDays),
        HistoryMaxBytes = result.GetValue(historyMaxBytes),
        DataDirectory = result.GetValue(dataDir),
        RequireLogin = result.GetValue(requireLogin),
        TlsPort = result.GetValue(tlsPort),
        TlsOnly = result.GetValue(tlsOnly),
        TlsCertificateFile = result.GetValue(tlsCert),
        TlsHandshakesPerIteration = result.GetValue(tlsHandshakes),
        MaxFileBytes = result.GetValue(maxFile),
        MaxTransfersPerUser = result.GetValue(maxTransfers),
        FileOfferTimeout = TimeSpan.FromSeconds(result.GetValue(offerTimeout)),
        MaxPerAddress = result.GetValue(maxPerAddress),
        ConnectsPerMinute = result.GetValue(connectsPerMinute),
    };
    return RunServer(options);
});

return root.Parse(args).Invoke();

static int RunServer(ServerOptions options)
{
    Logger log = LogManager.GetLogger("PollServer");
    using var server = new ChatServer(options);
    // Signals arrive on another thread: they only post a shutdown to the loop, which does the work.
    // Registered before listening, so a signal that comes as soon as the port is open is not fatal.
    using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => RequestShutdown(c, server, log));
    using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => RequestShutdown(c, server, log));
    // SIGUSR1 (a raw signal number: .NET names only the portable signals) asks for the counters line.
    using var onStats = PosixSignalRegistration.Create((PosixSignal)SigUsr1, c =>
    {
        c.Cancel = true;
        server.RequestStats();
    });
    try
    {
        server.Start();
    }
    catch (SocketException e)
    {
        string why = e.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse => "the address is already in use (is another server running on this port?)",
            SocketError.AddressNotAvailable => "that address is not one of this machine's",
            SocketError.AccessDenied => "permission denied (ports below 1024 need privileges)",
            SocketError.HostNotFound => "the host name could not be resolved",
            _ => e.Message,
        };
        log.Error("Cannot listen on {Host}:{Port}: {Why}", options.Host, options.Port, why);
        Console.Error.WriteLine($"PollServer: cannot listen on {options.Host}:{options.Port}: {why}");
        LogManager.Shutdown();
        return 2;
    }
    catch (PollChat.Server.Storage.DataDirectoryException e)
    {
        log.Error(e.Message);
        Console.Error.WriteLine($"PollServer: {e.Message}");
        LogManager.Shutdown();
        return 4;
    }
    catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
    {
        string what = $"cannot use the TLS certificate {options.TlsCertificateFile ?? "of the data directory"}: {e.Message}";
        log.Error(what);
        Console.Error.WriteLine($"PollServer: {what}");
        LogManager.Shutdown();
        return 5;
    }

    if (!Console.IsInputRedirected)
    {
        OperatorConsole.Start(server, Console.In, Console.Out);
    }

    try
    {
        server.Run();
        return 0;
    }
    catch (Exception e)
    {
        log.Fatal(e, "The event loop failed");
        return 3;
    }
    finally
    {
        LogManager.Shutdown();
    }
}

static void RequestShutdown(PosixSignalContext context, ChatServer server, Logger log)
{
    context.Cancel = true;
    log.Info("{Signal} received", context.Signal);
    server.RequestShutdown();
}

static void AddRangeCheck(Option<int> option, int min, int max) => option.Validators.Add(r =>
{
    int value = r.GetValueOrDefault<int>();
    if (value < min || value > max)
    {
        r.AddError($"{option.Name} must be between {min} and {max}.");
    }
});

static bool TryParseLevel(string name, out LogLevel? level)
{
    try
    {
        level = LogLevel.FromString(name);
        return true;
    }
    catch (ArgumentException)
    {
        level = null;
        return false;
    }
}

static void SetMinimumLevel(LogLevel level)
{
    foreach (NLog.Config.LoggingRule rule in LogManager.Configuration?.LoggingRules ?? [])
    {
        if (level == LogLevel.Off)
        {
            rule.DisableLoggingForLevels(LogLevel.Trace, LogLevel.Fatal);
        }
        else
        {
            rule.SetLoggingLevels(level, LogLevel.Fatal);
        }
    }

    LogManager.ReconfigExistingLoggers();
}

internal static partial class Program
{
    /// <summary>SIGUSR1 on Linux.</summary>
    private const int SigUsr1 = 10;

    /// <summary>At this rate the longest message (64 KiB) arrives in 16 s, inside the 30 s a frame may take.</summary>
    private const int MinBytesPerSecond = 4096;
}
