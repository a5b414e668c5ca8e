namespace PollChat.Client;

/// <summary>
/// Where a password comes from, first found wins: a file (for scripts; only its first line),
/// the environment variable <see cref="EnvironmentVariable"/>, or a prompt that does not echo.
/// Never the command line itself, which other users of the machine can read in the process list.
/// </summary>
public static class PasswordSource
{
    public const string EnvironmentVariable = "POLLCHAT_PASSWORD";

    /// <summary>The password to log in with, or null to log in with none.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static string? Read(FileInfo? file, bool ask, TextReader input)
    {
        if (file is not null)
        {
            try
            {
                return File.ReadLines(file.FullName).FirstOrDefault()?.TrimEnd('\r') ?? "";
            }
            catch (UnauthorizedAccessException e)
            {
                throw new IOException(e.Message, e);
            }
        }

        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        return ask ? Prompt(input) : null;
    }

    private static string? Prompt(TextReader input)
    {
        Console.Write("Password: ");
        if (Console.IsInputRedirected)
        {
            return input.ReadLine(); // A pipe has nothing to hide from the screen.
        }

        var typed = new System.Text.StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.WriteLine();
                return typed.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                typed.Length = Math.Max(0, typed.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                typed.Append(key.KeyChar);
            }
        }
    }
}
