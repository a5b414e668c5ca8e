using System.Text;

namespace PollChat.Common.Terminal;

/// <summary>Reading a password from the person at the keyboard, for both programs: nothing typed is shown.</summary>
public static class HiddenInput
{
    /// <summary>
    /// Writes <paramref name="prompt"/> and reads one line. In a terminal the keys are not echoed
    /// (Backspace works); from a pipe the line is read as it is, since nobody watches it typed.
    /// Null at end of input.
    /// </summary>
    public static string? ReadLine(string prompt, TextReader redirected)
    {
        Console.Write(prompt);
        if (Console.IsInputRedirected)
        {
            return redirected.ReadLine();
        }

        var typed = new StringBuilder();
        for (ConsoleKeyInfo key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                typed.Length = Math.Max(0, typed.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                typed.Append(key.KeyChar);
            }
        }

        Console.WriteLine();
        return typed.ToString();
    }
}
