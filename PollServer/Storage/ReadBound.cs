using PollChat.Common.Framing;

namespace PollChat.Server.Storage;

/// <summary>
/// The arithmetic of backpressure on the history: how many ring bytes the messages decoded from
/// some input bytes can take at most, and how much input may be read so that they surely fit.
/// Every stored message comes from one frame of at least <see cref="SmallestStoredFrame"/>
/// bytes, and its text is never longer than the frame's payload, so its record is at most the
/// frame's length plus <see cref="ExtraPerFrame"/>; a wrap of the ring skips less than one
/// largest record. It knows nothing of sockets or threads: the loop asks, the ring is filled.
/// </summary>
internal sealed class ReadBound
{
    /// <summary>
    /// What a TLS session may still hold of earlier reads and turn into plaintext with the next
    /// one: less than one whole record (2^14 bytes of plaintext, 2,048 of expansion at most,
    /// and its 5-byte header), since the loop drains every plaintext byte after each read.
    /// </summary>
    public const int TlsCarryBytes = (16 * 1024) + 2048 + 5;

    /// <summary>The smallest frame that stores a message: a header and one byte (an empty message is never stored).</summary>
    private const int SmallestStoredFrame = FrameHeader.Length + 1;

    private readonly long _wrapSlack;

    /// <param name="maxMessageBytes">The longest payload a frame may have.</param>
    /// <param name="maxSenderBytes">The longest sender stored: a name, or "* " and a name for an action.</param>
    /// <param name="maxRoomBytes">The longest room name.</param>
    public ReadBound(int maxMessageBytes, int maxSenderBytes, int maxRoomBytes)
    {
        ExtraPerFrame = PersistRing.RecordOverheadBytes + maxRoomBytes + maxSenderBytes - FrameHeader.Length;
        _wrapSlack = PersistRing.RecordBytes(maxRoomBytes, maxSenderBytes, maxMessageBytes);
    }

    /// <summary>How much longer a message's record can be than the frame it came in.</summary>
    public long ExtraPerFrame { get; }

    /// <summary>The ring bytes that messages decoded from <paramref name="input"/> bytes can need, a wrap included.</summary>
    public long RingBytesFor(long input) => input + (input / SmallestStoredFrame * ExtraPerFrame) + _wrapSlack;

    /// <summary>The most input bytes whose messages surely fit in <paramref name="free"/> ring bytes: the inverse of <see cref="RingBytesFor"/>, rounded down.</summary>
    public long InputFitting(long free) => free <= _wrapSlack ? 0 : (free - _wrapSlack) * SmallestStoredFrame / (SmallestStoredFrame + ExtraPerFrame);
}
