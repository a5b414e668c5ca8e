namespace PollChat.Common.Protocol;

/// <summary>Default limits both programs agree on; the server can be configured within them.</summary>
public static class ProtocolLimits
{
    /// <summary>Default longest username, in UTF-8 bytes: long enough for any nickname, short enough to line up in a chat log.</summary>
    public const int DefaultMaxUsernameBytes = 32;

    /// <summary>The most a server may be configured to accept as a name; clients check names against this, and each server against its own limit.</summary>
    public const int MaxUsernameBytesAnyServer = 1024;

    /// <summary>Default longest message, in UTF-8 bytes: a long pasted paragraph fits; a file does not.</summary>
    public const int DefaultMaxMessageBytes = 64 * 1024;

    /// <summary>Largest frame a client accepts from a server: above any limit a server may be configured to, yet a bound on a misbehaving server's cost.</summary>
    public const int MaxFrameFromServerBytes = 1024 * 1024;
}
