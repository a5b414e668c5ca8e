using PollChat.Common.Protocol;

namespace PollChat.Server;

/// <summary>Every sentence the server sends to users, in one place so USAGE.md can list them all.</summary>
internal static class Notices
{
    /// <summary>A welcome listing more names than this would scroll the screen away on a big server.</summary>
    private const int MaxNamesInWelcome = 20;

    public static string Welcome(string name, IReadOnlyCollection<string> others)
    {
        if (others.Count == 0)
        {
            return $"Welcome, {name}! You are the only one here. Type /quit to leave.";
        }

        string names = string.Join(", ", others.Take(MaxNamesInWelcome));
        string more = others.Count > MaxNamesInWelcome ? $" and {others.Count - MaxNamesInWelcome} more" : "";
        return $"Welcome, {name}! Online ({others.Count}): {names}{more}. Type /quit to leave.";
    }

    public static string Joined(string name, int online) => $"{name} joined ({online} online)";

    public static string Left(string name, string how, int online) => $"{name} left ({how}; {online} online)";

    public static string NameRejected(string why) => ServerSender.NameRejectedPrefix + why;

    public static string NameTaken(string name) => NameRejected($"the name '{name}' is already taken");

    public static string NameTimeout(TimeSpan timeout) => $"No username received within {timeout.TotalSeconds:0.#} s; closing the connection";

    public static string BadFrame(string what) => $"Protocol error: {what}; closing the connection";

    public static string ServerFull(int maxClients) => $"Server full ({maxClients} clients); try again later";

    public const string InvalidUtf8 = "Message refused: it is not valid UTF-8";

    public static string Goodbye(string name) => $"Goodbye, {name}!";

    public static string UnknownCommand(string command) =>
        $"Unknown command {command}. Commands: /quit. To send a message that starts with '/', type '//' first.";
}
