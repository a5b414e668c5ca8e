namespace PollChat.Common.Protocol;

/// <summary>
/// The sender name under which the server speaks. Classic clients print it like any other
/// sender ("*server* > alice joined"); no user can take it, because names starting with
/// <see cref="ReservedPrefix"/> are refused.
/// </summary>
public static class ServerSender
{
    /// <summary>The reserved sender name of every server notice.</summary>
    public const string Name = "*server*";

    /// <summary>No username may start with this character, so server notices cannot be spoofed.</summary>
    public const char ReservedPrefix = '*';

    /// <summary>Every notice refusing a username starts with this text; the client exits on it instead of offering to reconnect.</summary>
    public const string NameRejectedPrefix = "Name rejected: ";

    /// <summary>The notice sent to every client before a server stops.</summary>
    public const string ShuttingDownNotice = "Server shutting down";
}
