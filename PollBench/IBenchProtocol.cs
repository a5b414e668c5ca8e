namespace PollChat.Bench;

/// <summary>What a protocol driver reports while parsing a connection's input.</summary>
public interface IDeliverySink
{
    /// <summary>The connection has joined the room (welcome, subscribe confirmation, end of NAMES).</summary>
    void OnReady();

    /// <summary>A message from the room arrived; <paramref name="payload"/> is the sender's bytes as sent.</summary>
    void OnDelivery(ReadOnlySpan<byte> payload);

    /// <summary>The protocol needs an answer on this connection (an IRC PING wants a PONG).</summary>
    void Reply(ReadOnlySpan<byte> bytes);
}

/// <summary>
/// One server's protocol, as far as the benchmark needs it: how to join one room, how to send
/// a message to it, and how to find the messages in what comes back. Drivers keep per-connection
/// parsing state in the object <see cref="CreateState"/> returns and allocate nothing per message.
/// </summary>
public interface IBenchProtocol
{
    /// <summary>Short name for reports: classic, redis, irc.</summary>
    string Name { get; }

    /// <summary>
    /// True when senders are extra connections that only publish and receive nothing (Redis
    /// pub/sub: a subscribed connection cannot publish); false when senders are members of the
    /// room that also receive everyone else's messages (chat servers).
    /// </summary>
    bool SendersAreSeparateConnections { get; }

    /// <summary>Whether a member reports readiness (through <see cref="IDeliverySink.OnReady"/>) before it counts as in the room; false for a server that never confirms a join.</summary>
    bool MemberWaitsForReady { get; }

    /// <summary>Bytes a receiving member sends right after connecting, to join the room as client number <paramref name="index"/>.</summary>
    byte[] MemberHandshake(int index);

    /// <summary>Bytes a separate sender connection sends after connecting (only when <see cref="SendersAreSeparateConnections"/>).</summary>
    byte[] SenderHandshake(int index);

    /// <summary>Whether a separate sender connection reports readiness (through <see cref="IDeliverySink.OnReady"/>) before it may send.</summary>
    bool SenderWaitsForReady { get; }

    /// <summary>The most bytes <see cref="EncodeMessage"/> writes for a payload of this size.</summary>
    int MaxEncodedLength(int payloadLength);

    /// <summary>Writes one message to the room carrying <paramref name="payload"/>; returns the bytes written.</summary>
    int EncodeMessage(Span<byte> destination, ReadOnlySpan<byte> payload);

    /// <summary>New per-connection parsing state.</summary>
    object CreateState();

    /// <summary>Parses every complete unit in <paramref name="data"/>, reporting to <paramref name="sink"/>; returns the bytes consumed (the rest is kept for the next call).</summary>
    /// <exception cref="InvalidDataException">The server sent something the driver cannot parse.</exception>
    int Parse(ReadOnlySpan<byte> data, object state, IDeliverySink sink);
}
