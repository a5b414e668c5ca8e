namespace PollChat.Client;

/// <summary>
/// The input thread: reads lines from standard input and posts them to the session. It never
/// touches the socket or the screen; end of input counts as a request to quit.
/// </summary>
public static class InputReader
{
    public static Thread Start(TextReader input, ChatSession session)
    {
        var thread = new Thread(() => ReadLines(input, session))
        {
            IsBackground = true, // A pending read must not keep the process alive after the session ends.
            Name = "stdin reader",
        };
        thread.Start();
        return thread;
    }

    private static void ReadLines(TextReader input, ChatSession session)
    {
        while (input.ReadLine() is { } line)
        {
            UserInput parsed = UserInput.Parse(line);
            if (parsed.Kind != UserInputKind.Nothing)
            {
                session.Post(parsed);
            }

            if (parsed.Kind == UserInputKind.Quit)
            {
                return;
            }
        }

        session.Post(new UserInput(UserInputKind.Quit));
    }
}
