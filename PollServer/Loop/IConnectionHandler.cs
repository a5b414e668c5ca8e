namespace PollChat.Server.Loop;

/// <summary>
/// Everything the loop tells the chat, and the only way it reaches it: a connection came, its
/// frames arrived, it is closing, it is gone, and the chat's clock ticked. The loop hands over
/// whole frames and never learns what they mean; the chat answers through
/// <see cref="IConnections"/> and <see cref="ILoop"/>, registers its deadlines with <see cref="Timers"/>,
/// and never sees a socket. All calls are on the loop thread.
/// </summary>
internal interface IConnectionHandler
{
    /// <summary>A connection was accepted and its address admitted; the chat may still close it (a banned address).</summary>
    void Accepted(ClientConnection connection, long now);

    /// <summary>The connection's first frame, which the classic protocol says is its name.</summary>
    void NameArrived(ClientConnection connection, ReadOnlySpan<byte> name, long now);

    /// <summary>One whole frame after the name. The span is valid only during the call.</summary>
    void FrameArrived(ClientConnection connection, ReadOnlySpan<byte> payload, long now);

    /// <summary>
    /// Whether the next frame may be handed on although the sender's message rate is spent: frames
    /// paced by something else (a file transfer's window). Sees only the payload's first bytes.
    /// </summary>
    bool PassesRate(ClientConnection connection, ReadOnlySpan<byte> payloadStart, int declaredLength);

    /// <summary>The connection was just marked closing: from now on nothing it sends is read. Returns a note for its close line, or null.</summary>
    string? Closing(ClientConnection connection, CloseReason reason, long now);

    /// <summary>The close phase of an iteration, before sockets close: departures are told here, never in the middle of a relay.</summary>
    void EndOfIteration(long now);

    /// <summary>The loop's periodic sweep (every few seconds): summaries and forgetting.</summary>
    void Sweep(long now);

    /// <summary>Before listening: opens what the chat keeps (the history file) and returns what paces reads for it, if anything.</summary>
    IInputGate? Open();

    /// <summary>Starts the chat's own threads (the history writer), once the listeners are up; <paramref name="wake"/> gives the loop a turn.</summary>
    void Started(Action wake);

    /// <summary>The loop has ended: a last word on anything still behind.</summary>
    void Stopped(long now);

    /// <summary>Messages the chat could not keep, for the counters line.</summary>
    long NotStored { get; }

    /// <summary>One line typed at the operator console; answered through <paramref name="reply"/>, a line at a time.</summary>
    void RunOperatorCommand(string line, Action<string> reply);

    /// <summary>Lets go of what <see cref="Open"/> opened (and the password workers), after the loop has ended.</summary>
    void Close();

    /// <summary>A test seam: the next message from <paramref name="name"/> makes its handler throw, as a bug would.</summary>
    void FailNextMessageOf(string name);
}
