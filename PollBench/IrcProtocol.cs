using System.Globalization;
using System.Text;

namespace PollChat.Bench;

/// <summary>
/// IRC (written against ngIRCd): every client registers, joins one channel and is ready at the
/// end of its NAMES list; senders are ordinary members, and the server does not echo a
/// PRIVMSG to its sender, which is what the run expects of member-senders.
/// </summary>
public sealed class IrcProtocol : IBenchProtocol
{
    /// <summary>RFC 2812's limit, CRLF included; ngIRCd drops a client that sends a longer line.</summary>
    private const int MaxLineBytes = 512;

    /// <summary>
    /// Room left for the ":nick!~user@host " prefix the server puts before a relayed line: a
    /// relayed line over 512 bytes would be cut short and no longer match what was sent.
    /// </summary>
    private const int RelayPrefixAllowance = 64;

    /// <summary>A server line without a newline after this many bytes is not IRC.</summary>
    private const int MaxUnterminatedBytes = 8192;

    private static ReadOnlySpan<byte> Channel => "#pollbench"u8;

    private static ReadOnlySpan<byte> PrivmsgPrefix => "PRIVMSG #pollbench :"u8;

    public string Name => "irc";

    public bool SendersAreSeparateConnections => false;

    public bool SenderWaitsForReady => false;

    public bool MemberWaitsForReady => true;

    public byte[] MemberHandshake(int index) => Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"NICK pb{index}\r\nUSER pb{index} 0 * :pollbench\r\nJOIN #pollbench\r\n"));

    public byte[] SenderHandshake(int index) => [];

    public int MaxEncodedLength(int payloadLength)
    {
        int length = PrivmsgPrefix.Length + payloadLength + 2;
        if (length > MaxLineBytes - RelayPrefixAllowance)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadLength), payloadLength,
                $"an IRC line holds at most {MaxLineBytes - RelayPrefixAllowance - PrivmsgPrefix.Length - 2} payload bytes once the server adds its prefix");
        }

        return length;
    }

    public int EncodeMessage(Span<byte> destination, ReadOnlySpan<byte> payload)
    {
        if (payload.IndexOfAny((byte)'\r', (byte)'\n', (byte)0) >= 0)
        {
            // It would end the line early and the rest would be read as a command.
            throw new ArgumentException("an IRC payload cannot hold CR, LF or NUL", nameof(payload));
        }

        PrivmsgPrefix.CopyTo(destination);
        payload.CopyTo(destination[PrivmsgPrefix.Length..]);
        "\r\n"u8.CopyTo(destination[(PrivmsgPrefix.Length + payload.Length)..]);
        return PrivmsgPrefix.Length + payload.Length + 2;
    }

    public object CreateState() => new IrcState();

    public int Parse(ReadOnlySpan<byte> data, object state, IDeliverySink sink)
    {
        var irc = (IrcState)state;
        int consumed = 0;
        while (true)
        {
            ReadOnlySpan<byte> rest = data[consumed..];
            int newline = rest.IndexOf((byte)'\n');
            if (newline < 0)
            {
                if (rest.Length > MaxUnterminatedBytes)
                {
                    throw new InvalidDataException($"the IRC server sent {rest.Length} bytes without a line end");
                }

                return consumed;
            }

            consumed += newline + 1;
            ReadOnlySpan<byte> line = rest[..newline];
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            HandleLine(line, irc, sink);
        }
    }

    private static void HandleLine(ReadOnlySpan<byte> line, IrcState irc, IDeliverySink sink)
    {
        if (line.Length > 0 && line[0] == (byte)':')
        {
            int prefixEnd = line.IndexOf((byte)' ');
            if (prefixEnd < 0)
            {
                return; // A prefix alone: nothing to act on.
            }

            line = line[(prefixEnd + 1)..].TrimStart((byte)' ');
        }

        int commandEnd = line.IndexOf((byte)' ');
        ReadOnlySpan<byte> command = commandEnd < 0 ? line : line[..commandEnd];
        ReadOnlySpan<byte> parameters = commandEnd < 0 ? [] : line[(commandEnd + 1)..];

        if (command.SequenceEqual("PRIVMSG"u8))
        {
            // "#pollbench :payload"; anything addressed elsewhere (a private message) is not the room's.
            if (parameters.StartsWith(Channel) && parameters.Length > Channel.Length && parameters[Channel.Length] == (byte)' ')
            {
                ReadOnlySpan<byte> text = parameters[(Channel.Length + 1)..];
                sink.OnDelivery(text.Length > 0 && text[0] == (byte)':' ? text[1..] : text);
            }
        }
        else if (command.SequenceEqual("PING"u8))
        {
            // The answer echoes the PING's parameters; lines are at most 512 bytes, so the stack holds it.
            Span<byte> pong = stackalloc byte[5 + parameters.Length + 2];
            "PONG "u8.CopyTo(pong);
            parameters.CopyTo(pong[5..]);
            "\r\n"u8.CopyTo(pong[(5 + parameters.Length)..]);
            sink.Reply(pong);
        }
        else if (command.SequenceEqual("001"u8))
        {
            irc.Registered = true;
        }
        else if (command.SequenceEqual("366"u8))
        {
            // "<nick> #pollbench :End of NAMES list": the JOIN is complete and the member sees the room.
            int nickEnd = parameters.IndexOf((byte)' ');
            ReadOnlySpan<byte> channel = nickEnd < 0 ? [] : parameters[(nickEnd + 1)..];
            int channelEnd = channel.IndexOf((byte)' ');
            if (channelEnd >= 0)
            {
                channel = channel[..channelEnd];
            }

            if (irc.Registered && channel.SequenceEqual(Channel))
            {
                sink.OnReady();
            }
        }
        else if (command.SequenceEqual("ERROR"u8) || IsRefusal(command))
        {
            throw new InvalidDataException($"the IRC server said: {Encoding.UTF8.GetString(line)}");
        }
    }

    /// <summary>
    /// Numerics meaning the member will never be in the room or its messages are dropped: failing
    /// at once beats waiting for a ready signal that will not come or counting silent losses.
    /// Other 4xx replies (422, no MOTD, on every login) are harmless and ignored.
    /// </summary>
    private static bool IsRefusal(ReadOnlySpan<byte> command) =>
        command.Length == 3 && command[0] == (byte)'4' && (
            command.SequenceEqual("403"u8) || // No such channel.
            command.SequenceEqual("404"u8) || // Cannot send to channel.
            command.SequenceEqual("405"u8) || // Too many channels.
            command.SequenceEqual("432"u8) || // Erroneous nickname.
            command.SequenceEqual("433"u8) || // Nickname in use.
            command.SequenceEqual("451"u8) || // Not registered.
            command.SequenceEqual("461"u8) || // Not enough parameters.
            command.SequenceEqual("471"u8) || // Channel is full.
            command.SequenceEqual("473"u8) || // Invite only.
            command.SequenceEqual("474"u8) || // Banned.
            command.SequenceEqual("475"u8)); // Bad channel key.

    private sealed class IrcState
    {
        /// <summary>Set at the 001 welcome: a NAMES end before it would not be ours.</summary>
        public bool Registered;
    }
}
