using NLog;

using PollChat.Server.Loop;

namespace PollChat.Server.Cli;

/// <summary>
/// The server's own command line, on when its standard input is a terminal: a background
/// thread reads lines and posts each into the loop (<see cref="ChatServer.RunOperatorCommand"/>),
/// which answers on standard output. With no terminal (a service, a pipe, CI) nobody is there
/// to type, and stray input must not run commands, so it stays off.
/// </summary>
public static class OperatorConsole
{
    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    /// <summary>Starts reading <paramref name="input"/> on a background thread, which ends at end of input; the process never waits for it.</summary>
    public static void Start(ChatServer server, TextReader input, TextWriter output)
    {
        var thread = new Thread(() => ReadCommands(server, input, output)) { IsBackground = true, Name = "operator console" };
        thread.Start();
    }

    private static void ReadCommands(ChatServer server, TextReader input, TextWriter output)
    {
        output.WriteLine("Operator console: type /help for commands.");
        while (input.ReadLine() is { } line)
        {
            server.RunOperatorCommand(line, output.WriteLine);
        }

        Log.Info("Operator console closed (end of input); the server keeps running");
    }
}
