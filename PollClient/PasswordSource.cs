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

        return ask ? PollChat.Common.Terminal.HiddenInput.ReadLine("Password: ", input) : null;
    }
}
