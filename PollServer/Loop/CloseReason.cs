using NLog;

namespace PollChat.Server.Loop;

/// <summary>Why a connection is being closed; every close carries exactly one.</summary>
public enum CloseReason
{
    ClosedByPeer,
    ConnectionReset,
    SocketError,
    Quit,
    NameRejected,
    NameTimeout,
    LoginTimeout,
    BadFrame,
    BadTls,
    OutputOverflow,
    Flooding,
    Kicked,
    Banned,
    ServerFull,
    ServerShutdown,

    /// <summary>Handling the connection's input threw: a server bug, which costs that connection and nothing else.</summary>
    ServerError,
    /// <summary>Its address holds or opens too many connections (--max-per-address, --connects-per-minute).</summary>
    AddressLimit,

    /// <summary>Someone logged in to the name this connection held or was waiting to log in to.</summary>
    NameReclaimed,
}

internal static class CloseReasons
{
    /// <summary>Ordinary endings are Info; what points at a misbehaving peer or a fault is Warn.</summary>
    public static LogLevel LogLevelFor(CloseReason reason) => reason switch
    {
        CloseReason.ServerError => LogLevel.Error,
        CloseReason.AddressLimit => LogLevel.Debug, // A flood of them is logged per address with a count instead (Loop/Admission.cs).
        CloseReason.SocketError or CloseReason.BadFrame or CloseReason.BadTls or CloseReason.OutputOverflow or CloseReason.ServerFull or CloseReason.Flooding => LogLevel.Warn,
        _ => LogLevel.Info,
    };

    /// <summary>Whether the peer is gone or must not be waited for, so the socket is closed at once without a goodbye.</summary>
    public static bool AbortsAtOnce(CloseReason reason) =>
        reason is CloseReason.ClosedByPeer or CloseReason.ConnectionReset or CloseReason.SocketError or CloseReason.OutputOverflow;
}
