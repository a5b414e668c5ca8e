using System.Globalization;
using System.Text;
using PollChat.Common.Framing;
using PollChat.Common.Protocol;

namespace PollChat.Bench;

/// <summary>
/// The classic 10-byte-header chat (PollServer or a tutorial server): a member's handshake is
/// its username frame; it is ready at the server's welcome notice (PollServer) or at once
/// (a server that sends none, with <c>readyOnConnect</c>). Every other pair is a delivery.
/// </summary>
public sealed class ClassicProtocol(bool readyOnConnect = false) : IBenchProtocol
{
    private static readonly byte[] WelcomePrefix = "Welcome"u8.ToArray();

    public string Name => "classic";

    public bool SendersAreSeparateConnections => false;

    public bool SenderWaitsForReady => false;

    public bool MemberWaitsForReady => !readyOnConnect;

    public byte[] MemberHandshake(int index) => Frame.Encode(string.Create(CultureInfo.InvariantCulture, $"b{index}"));

    public byte[] SenderHandshake(int index) => [];

    public int MaxEncodedLength(int payloadLength) => Frame.EncodedLength(payloadLength);

    public int EncodeMessage(Span<byte> destination, ReadOnlySpan<byte> payload) => Frame.Write(destination, payload);

    public object CreateState() => new PairState();

    public int Parse(ReadOnlySpan<byte> data, object state, IDeliverySink sink)
    {
        var pair = (PairState)state;
        int consumed = 0;
        while (true)
        {
            ReadOnlySpan<byte> rest = data[consumed..];
            if (rest.Length < FrameHeader.Length)
            {
                return consumed;
            }

            if (!FrameHeader.TryParse(rest[..FrameHeader.Length], ProtocolLimits.MaxFrameFromServerBytes, out int length, out FrameError error))
            {
                throw new InvalidDataException($"invalid frame header from the server: {error}");
            }

            if (rest.Length - FrameHeader.Length < length)
            {
                return consumed;
            }

            ReadOnlySpan<byte> payload = rest.Slice(FrameHeader.Length, length);
            consumed += FrameHeader.Length + length;
            if (!pair.HaveSender)
            {
                pair.HaveSender = true;
                pair.FromServer = payload.SequenceEqual(ServerSenderName);
                continue;
            }

            pair.HaveSender = false;
            if (!pair.FromServer)
            {
                sink.OnDelivery(payload);
            }
            else if (payload.StartsWith(WelcomePrefix))
            {
                sink.OnReady();
            }
        }
    }

    private static readonly byte[] ServerSenderName = Encoding.UTF8.GetBytes(ServerSender.Name);

    private sealed class PairState
    {
        public bool HaveSender;
        public bool FromServer;
    }
}
