namespace PollChat.Client;

/// <summary>What the process tells its caller; USAGE.md lists the same table.</summary>
public static class ExitCodes
{
    /// <summary>The user left (quit, end of input, Ctrl+C) while connected.</summary>
    public const int Ok = 0;

    /// <summary>The command line was wrong, or no usable username was given.</summary>
    public const int Usage = 1;

    /// <summary>The first connection could not be made: refused, unknown host, timed out.</summary>
    public const int CannotConnect = 2;

    /// <summary>The connection was lost (server gone or shut down) and the user left without reconnecting.</summary>
    public const int ConnectionLost = 3;

    /// <summary>The server refused the username.</summary>
    public const int NameRejected = 4;

    /// <summary>The server's TLS certificate was not trusted: changed since first use, or not the pinned one, or not valid for the given CA.</summary>
    public const int CertificateRefused = 5;
}
