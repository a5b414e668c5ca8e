using System.Net.Sockets;

namespace PollChat.Common.Net;

/// <summary>How a peer's stream ended, as far as the socket tells.</summary>
public enum DisconnectKind
{
    /// <summary>The operation would block; not a disconnect at all.</summary>
    WouldBlock,

    /// <summary>The peer closed its side normally (a FIN: a receive of 0 bytes).</summary>
    ClosedByPeer,

    /// <summary>The peer vanished abruptly (reset, aborted, or the link timed out).</summary>
    Reset,

    /// <summary>Anything else the socket reported; unexpected, worth a warning.</summary>
    Error,
}

/// <summary>The one place where socket results are classified into disconnect kinds.</summary>
public static class Disconnects
{
    /// <summary>Classifies the outcome of a receive: <paramref name="received"/> bytes with <paramref name="error"/>.</summary>
    public static DisconnectKind ClassifyReceive(int received, SocketError error) =>
        error == SocketError.Success && received == 0 ? DisconnectKind.ClosedByPeer : Classify(error);

    /// <summary>Classifies a socket error code.</summary>
    public static DisconnectKind Classify(SocketError error) => error switch
    {
        SocketError.WouldBlock or SocketError.IOPending or SocketError.Interrupted => DisconnectKind.WouldBlock,
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown
            or SocketError.TimedOut or SocketError.NetworkReset or SocketError.NotConnected
            or SocketError.HostUnreachable or SocketError.NetworkUnreachable => DisconnectKind.Reset,
        _ => DisconnectKind.Error,
    };

    /// <summary>A short phrase for logs and notices, e.g. "connection reset".</summary>
    public static string Describe(DisconnectKind kind, SocketError error) => kind switch
    {
        DisconnectKind.ClosedByPeer => "closed by peer",
        DisconnectKind.Reset => "connection reset",
        DisconnectKind.WouldBlock => "would block",
        _ => $"socket error {error}",
    };
}
