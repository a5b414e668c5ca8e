namespace PollChat.Client.Terminal;

/// <summary>
/// The input thread in interactive mode: reads keys (the console is in raw mode, so Ctrl+C is a
/// key too) and posts each to the session. It never touches the socket or the screen.
/// </summary>
public static class KeyReader
{
    public static Thread Start(ChatSession session)
    {
        var thread = new Thread(() =>
        {
            while (true)
            {
                ConsoleKeyInfo key = Console.ReadKey(intercept: true);
                // A paste arrives as thousands of keys at once: the network thread is woken (and the screen drawn) once
                // they are all read, not once per key, which made a 70,000-character paste take seconds.
                session.PostKey(key, wake: !Console.KeyAvailable);
            }
        })
        {
            IsBackground = true, // A pending read must not keep the process alive after the session ends.
            Name = "key reader",
        };
        thread.Start();
        return thread;
    }
}

/// <summary>What Tab completes after a '/': PollServer's commands (the admins' too) and the client's own.</summary>
public static class ClientCommands
{
    public static readonly string[] Names =
    [
        "/help", "/users", "/who", "/names", "/join", "/leave", "/rooms", "/topic", "/history", "/search", "/msg", "/reply", "/me", "/nick",
        "/away", "/back", "/ignore", "/unignore", "/whois", "/quit", "/register", "/login", "/passwd", "/unregister", "/bell", "/timestamp",
        "/kick", "/ban", "/unban", "/mute", "/unmute", "/motd", "/send", "/accept", "/decline", "/cancel", "/transfers",
    ];
}
