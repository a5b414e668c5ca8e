namespace PollChat.Bench;

/// <summary>Placeholder: the Irc driver is being written.</summary>
public sealed class IrcProtocol : IBenchProtocol
{
    public string Name => "irc";

    public bool SendersAreSeparateConnections => throw new NotImplementedException();

    public bool SenderWaitsForReady => throw new NotImplementedException();

    public byte[] MemberHandshake(int index) => throw new NotImplementedException();

    public byte[] SenderHandshake(int index) => throw new NotImplementedException();

    public int MaxEncodedLength(int payloadLength) => throw new NotImplementedException();

    public int EncodeMessage(Span<byte> destination, ReadOnlySpan<byte> payload) => throw new NotImplementedException();

    public object CreateState() => throw new NotImplementedException();

    public int Parse(ReadOnlySpan<byte> data, object state, IDeliverySink sink) => throw new NotImplementedException();
}
