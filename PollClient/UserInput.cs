namespace PollChat.Client;

public enum UserInputKind
{
    /// <summary>A blank line: nothing to do.</summary>
    Nothing,

    /// <summary>Text to send to the server as one message (slash commands included: the server runs them).</summary>
    Send,

    /// <summary>Leave: /quit, exit, QUIT, end of input or Ctrl+C.</summary>
    Quit,

    /// <summary>Connect again after the connection was lost.</summary>
    Connect,

    /// <summary>A local command used wrongly; <see cref="UserInput.Text"/> says how to use it.</summary>
    Usage,
}

/// <summary>One line typed by the user, understood. Parsing is pure so it can be tested without a terminal.</summary>
public readonly record struct UserInput(UserInputKind Kind, string Text = "")
{
    /// <summary>
    /// The seed's command words (exit, QUIT, SEND, CONNECT) are matched exactly as written;
    /// /quit in any case, with a reason after it if the user likes. Everything else, including
    /// other slash commands, goes to the server.
    /// </summary>
    public static UserInput Parse(string line)
    {
        string trimmed = line.TrimEnd('\r', '\n');
        if (trimmed.Trim().Length == 0)
        {
            return new(UserInputKind.Nothing);
        }

        string word = trimmed.Trim();
        if (word.Equals("/quit", StringComparison.OrdinalIgnoreCase) || word is "exit" or "QUIT")
        {
            return new(UserInputKind.Quit);
        }

        if (word.StartsWith("/quit ", StringComparison.OrdinalIgnoreCase))
        {
            return new(UserInputKind.Quit, word[6..].Trim()); // The reason, told to the room by a PollServer.
        }

        if (word == "CONNECT")
        {
            return new(UserInputKind.Connect);
        }

        if (trimmed == "SEND" || trimmed.StartsWith("SEND ", StringComparison.Ordinal))
        {
            string text = trimmed.Length > 5 ? trimmed[5..] : "";
            return text.Trim().Length == 0 ? new(UserInputKind.Usage, "usage: SEND <text>") : new(UserInputKind.Send, text);
        }

        return new(UserInputKind.Send, trimmed);
    }
}
