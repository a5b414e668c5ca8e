namespace PollChat.Server.Loop;

/// <summary>
/// What the chat may ask of the connections: queue bytes for one, close one, and charge or
/// refund its budgets. Implemented by <see cref="Connections"/>; the chat reaches sockets,
/// Select lists and TLS only through it, and never reads a connection's state.
/// </summary>
internal interface IConnections
{
    /// <summary>Queues bytes for a connection within its output limit and the server's output budget; a connection that cannot take them is dropped as not reading.</summary>
    void Send(ClientConnection connection, ReadOnlySpan<byte> bytes, long now);

    /// <summary>Marks a connection for closing, once, with a last notice if there is one; safe in the middle of any loop.</summary>
    void Close(ClientConnection connection, CloseReason reason, string? notice, long now, string? detail = null);

    /// <summary>A frame the chat handled costs one message of the sender's rate (fakelag reads the next only when a token is there).</summary>
    void ChargeMessage(ClientConnection connection);

    /// <summary>Gives back byte-rate budget for bytes paced by something else (file data and its acknowledgements).</summary>
    void RefundBytes(ClientConnection connection, int bytes);
}

/// <summary>
/// What the chat may ask of the loop itself: run something on the loop thread later (a worker's
/// result), the counters, a clean shutdown. Implemented by <see cref="ChatServer"/>.
/// </summary>
internal interface ILoop
{
    /// <summary>Runs an action on the loop thread at its next turn; safe from any thread.</summary>
    void Post(Action action);

    /// <summary>Whether the server is shutting down: departures are no longer announced.</summary>
    bool ShuttingDown { get; }

    /// <summary>The counters line (SIGUSR1, the operator's /stats).</summary>
    string StatsLine();

    /// <summary>Starts a clean shutdown: everyone is told and the loop ends once they are closed.</summary>
    void Shutdown();
}
