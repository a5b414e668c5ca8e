using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using PollChat.Client;
using PollChat.Common.Protocol;

// Program only turns the command line into ClientOptions, asks for a name if needed, and starts the session.
var host = new Option<string>("--host", "-H") { Description = "Server host name or address", DefaultValueFactory = _ => "127.0.0.1" };
var port = new Option<int>("--port", "-p") { Description = "Server port", DefaultValueFactory = _ => 9000 };
var user = new Option<string?>("--user", "-u") { Description = "Your username (asked for when not given)" };
var askPassword = new Option<bool>("--password") { Description = "Ask for your password (without echo) and log in to your registered name" };
var passwordFile = new Option<FileInfo?>("--password-file") { Description = "Log in with the password in this file (its first line)" };
var tls = new Option<bool>("--tls") { Description = "Connect with TLS; the server's certificate is trusted on first use and remembered, like SSH" };
var tlsFingerprint = new Option<string?>("--tls-fingerprint") { Description = "With --tls: accept only the certificate with this SHA-256 fingerprint (AB:CD:...)" };
var plain = new Option<bool>("--plain") { Description = "One line per event, no screen handling, even in a terminal" };
var bot = new Option<bool>("--bot") { Description = "For programs: plain mode, and without the history replayed on entering a room" };
var downloads = new Option<DirectoryInfo?>("--downloads") { Description = "Where accepted files are saved unless /accept names a directory (default ~/Downloads)" };
var tlsCa = new Option<FileInfo?>("--tls-ca") { Description = "With --tls: accept only a certificate valid for the host under this CA (PEM file)" };
port.Validators.Add(r =>
{
    if (r.GetValueOrDefault<int>() is < 1 or > 65535)
    {
        r.AddError("--port must be between 1 and 65535.");
    }
});
tlsFingerprint.Validators.Add(r =>
{
    // A typo would otherwise surface only after connecting, as a refused certificate that looks like an attack.
    string given = r.GetValueOrDefault<string?>() ?? "";
    string digits = given.Replace(":", "", StringComparison.Ordinal);
    if (digits.Length != 64 || !digits.All(char.IsAsciiHexDigit))
    {
        r.AddError($"--tls-fingerprint must be a SHA-256 fingerprint, 32 bytes in hex with or without colons (AB:CD:...: 64 hex digits); '{given}' is not one.");
    }
});

var root = new RootCommand("PollClient: a terminal chat client for PollServer and classic 10-byte-header chat servers.")
{
    host, port, user, askPassword, passwordFile, tls, tlsFingerprint, tlsCa, plain, bot, downloads,
};
root.SetAction(result =>
{
    bool useTls = result.GetValue(tls) || result.GetValue(tlsFingerprint) is not null || result.GetValue(tlsCa) is not null;
    var options = new ClientOptions(result.GetValue(host)!, result.GetValue(port), result.GetValue(user) ?? "")
    {
        Tls = useTls,
        TlsFingerprint = result.GetValue(tlsFingerprint),
        TlsCaFile = result.GetValue(tlsCa)?.FullName,
        SkipHistoryReplay = result.GetValue(bot),
        DownloadDirectory = result.GetValue(downloads)?.FullName ?? PollChat.Client.Files.DownloadPath.DefaultDirectory,
    };
    return RunClient(options, result.GetValue(user), result.GetValue(askPassword), result.GetValue(passwordFile), result.GetValue(plain) || result.GetValue(bot));
});
return root.Parse(args).Invoke();

static int RunClient(ClientOptions connection, string? user, bool askPassword, FileInfo? passwordFile, bool plainMode)
{
    bool interactive = !plainMode && !Console.IsInputRedirected && !Console.IsOutputRedirected;
    (string host, int port) = (connection.Host, connection.Port);
    Console.OutputEncoding = new UTF8Encoding(false);
    TextReader input = Console.In;
    string? name = user ?? AskForName(input);
    if (name is null)
    {
        Console.Error.WriteLine("PollClient: no username given.");
        return ExitCodes.Usage;
    }

    string? problem = Username.Validate(name, ProtocolLimits.MaxUsernameBytesAnyServer);
    if (problem is not null)
    {
        Console.Error.WriteLine($"PollClient: invalid username: {problem}.");
        return ExitCodes.Usage;
    }

    NLog.GlobalDiagnosticsContext.Set("user", name); // The log file is the user's: two clients never write into one.
    string? password;
    try
    {
        password = PasswordSource.Read(passwordFile, askPassword, input);
    }
    catch (IOException e)
    {
        Console.Error.WriteLine($"PollClient: cannot read the password file: {e.Message}");
        return ExitCodes.Usage;
    }

    ChatSession? sessionForScreen = null;
    using var screen = interactive
        ? new PollChat.Client.Terminal.InteractiveScreen(Console.Out, () => sessionForScreen?.StatusText ?? "", () => sessionForScreen?.Users.Online ?? [], word => sessionForScreen?.Completions(word) ?? [], () => sessionForScreen?.CurrentName)
        : null;
    var view = new ChatView(screen?.ChatWriter ?? Console.Out);
    using var session = new ChatSession(connection with { User = name, Password = password }, view) { Screen = screen };
    sessionForScreen = session;
    // Ctrl+C and SIGTERM leave the same way /quit does: through the network thread, cleanly.
    // Registered before connecting, so a signal at any moment after this is never fatal.
    using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Quit(c, session));
    using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Quit(c, session));
    string? failure = session.Connect();
    if (failure is not null)
    {
        Console.Error.WriteLine($"PollClient: {failure}.");
        return session.CertificateRefused ? ExitCodes.CertificateRefused : ExitCodes.CannotConnect;
    }

    int exitCode;
    if (screen is null)
    {
        view.Status($"Connected to {host}:{port} as {name}. Type /quit to leave.");
        InputReader.Start(input, session);
        exitCode = session.Run();
    }
    else
    {
        // Whatever ends the client (quit, Ctrl+C, a crash), the terminal gets its screen and its line mode back.
        AppDomain.CurrentDomain.UnhandledException += (_, _) => screen.Dispose();
        Console.TreatControlCAsInput = true;
        screen.Start();
        view.Status($"Connected to {host}:{port} as {name}. Type /quit to leave.");
        using PosixSignalRegistration? onResize = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGWINCH, c =>
        {
            c.Cancel = true;
            session.RequestRedraw();
        });
        PollChat.Client.Terminal.KeyReader.Start(session);
        try
        {
            exitCode = session.Run();
        }
        finally
        {
            screen.Dispose();
        }

        if (session.RejectedBecause is { } rejected)
        {
            Console.Error.WriteLine($"PollClient: {rejected}"); // Shown on the screen that went with the alternate one; said again where it stays.
        }
    }

    NLog.LogManager.Shutdown();
    return exitCode;
}

static string? AskForName(TextReader input)
{
    while (true)
    {
        Console.Write("Username: ");
        string? line = input.ReadLine()?.Trim();
        if (line is null)
        {
            return null;
        }

        string? problem = Username.Validate(line, ProtocolLimits.MaxUsernameBytesAnyServer);
        if (problem is null || Console.IsInputRedirected)
        {
            return line; // Redirected input cannot answer again; the caller reports the problem.
        }

        Console.WriteLine($"That name cannot be used: {problem}.");
    }
}

static void Quit(PosixSignalContext context, ChatSession session)
{
    context.Cancel = true;
    session.Post(new UserInput(UserInputKind.Quit));
}
