using System.Text;

namespace PollChat.Common.Framing;

/// <summary>Encodes whole frames (header plus payload). Knows nothing of sockets.</summary>
public static class Frame
{
    /// <summary>Bytes a frame of <paramref name="payloadLength"/> payload bytes occupies on the wire.</summary>
    public static int EncodedLength(int payloadLength) => FrameHeader.Length + payloadLength;

    /// <summary>Writes header and payload into <paramref name="destination"/>; returns the bytes written.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short for the frame.</exception>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> payload)
    {
        int total = EncodedLength(payload.Length);
        if (destination.Length < total)
        {
            throw new ArgumentException($"The frame needs {total} bytes.", nameof(destination));
        }

        FrameHeader.Write(destination, payload.Length);
        payload.CopyTo(destination[FrameHeader.Length..]);
        return total;
    }

    /// <summary>A new array holding <paramref name="text"/> as one frame of UTF-8.</summary>
    public static byte[] Encode(string text)
    {
        int payloadLength = Encoding.UTF8.GetByteCount(text);
        var frame = new byte[EncodedLength(payloadLength)];
        FrameHeader.Write(frame, payloadLength);
        Encoding.UTF8.GetBytes(text, frame.AsSpan(FrameHeader.Length));
        return frame;
    }

    /// <summary>A new array holding <paramref name="payload"/> as one frame.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[EncodedLength(payload.Length)];
        Write(frame, payload);
        return frame;
    }

    /// <summary>A new array holding the pair [sender frame][message frame], as servers relay a message.</summary>
    public static byte[] EncodePair(string sender, string message)
    {
        byte[] senderFrame = Encode(sender);
        byte[] messageFrame = Encode(message);
        return [.. senderFrame, .. messageFrame];
    }
}
