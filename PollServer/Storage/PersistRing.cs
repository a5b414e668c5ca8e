using System.Buffers.Binary;
using System.Text;

namespace PollChat.Server.Storage;

/// <summary>
/// The hand-off of messages from the loop thread to the history writer: one producer, one
/// consumer, a fixed byte array, no locks and no allocation on the producer's side. A record is
/// [length][unix ms][room length][room][sender length][sender][text]; a record never wraps, so
/// the space left at the end is skipped (marked with length -1 when there is room for the mark).
/// The producer publishes with a release write of its position, the consumer frees space with one
/// of its own: each side reads the other's position with an acquire read. Writes that total S
/// bytes all succeed when <see cref="FreeBytes"/> was at least S plus one largest record (the
/// most a wrap can skip): what the loop relies on to read a client only when what it sends fits.
/// </summary>
internal sealed class PersistRing(int capacity)
{
    /// <summary>What a record takes besides its room, sender and text: its length, its time, and the two strings' lengths.</summary>
    public const int RecordOverheadBytes = LengthBytes + sizeof(long) + sizeof(ushort) + sizeof(ushort);

    private const int LengthBytes = sizeof(int);
    private const int WrapMark = -1;

    private readonly byte[] _buffer = new byte[capacity];
    private long _written;
    private long _read;

    public int Capacity => capacity;

    /// <summary>Producer: the bytes free now. It only grows until the producer writes again: the consumer frees space, never takes it.</summary>
    public long FreeBytes => capacity - (_written - Volatile.Read(ref _read));

    /// <summary>Either side: the bytes written and not yet taken out (a snapshot; the other side may move it meanwhile).</summary>
    public long UsedBytes => Volatile.Read(ref _written) - Volatile.Read(ref _read);

    /// <summary>The bytes one message takes in the ring, given its parts' UTF-8 lengths.</summary>
    public static int RecordBytes(int roomBytes, int senderBytes, int textBytes) => RecordOverheadBytes + roomBytes + senderBytes + textBytes;

    /// <summary>Producer: copies one message in. False, with nothing written, when the ring is full (the writer has fallen behind).</summary>
    public bool TryWrite(long unixMilliseconds, string room, string sender, ReadOnlySpan<byte> text)
    {
        int roomBytes = Encoding.UTF8.GetByteCount(room);
        int senderBytes = Encoding.UTF8.GetByteCount(sender);
        int length = RecordBytes(roomBytes, senderBytes, text.Length);
        long written = _written;
        int offset = (int)(written % capacity);
        int tail = capacity - offset;
        int skip = tail < length ? tail : 0;
        if (length > capacity || capacity - (written - Volatile.Read(ref _read)) < length + skip)
        {
            return false;
        }

        if (skip > 0)
        {
            if (skip >= LengthBytes)
            {
                BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(offset), WrapMark);
            }

            written += skip;
            offset = 0;
        }

        Span<byte> record = _buffer.AsSpan(offset, length);
        BinaryPrimitives.WriteInt32LittleEndian(record, length);
        BinaryPrimitives.WriteInt64LittleEndian(record[LengthBytes..], unixMilliseconds);
        Span<byte> rest = record[(LengthBytes + sizeof(long))..];
        rest = WriteString(rest, room, roomBytes);
        rest = WriteString(rest, sender, senderBytes);
        text.CopyTo(rest);
        Volatile.Write(ref _written, written + length);
        return true;
    }

    /// <summary>Consumer: takes the oldest message out, or returns false if there is none.</summary>
    public bool TryRead(out StoredMessage message)
    {
        long read = _read;
        long written = Volatile.Read(ref _written);
        while (read < written)
        {
            int offset = (int)(read % capacity);
            int tail = capacity - offset;
            int length = tail >= LengthBytes ? BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(offset)) : WrapMark;
            if (length == WrapMark || length > tail)
            {
                read += tail; // The producer skipped the end of the array.
                continue;
            }

            ReadOnlySpan<byte> record = _buffer.AsSpan(offset, length);
            long unixMilliseconds = BinaryPrimitives.ReadInt64LittleEndian(record[LengthBytes..]);
            ReadOnlySpan<byte> rest = record[(LengthBytes + sizeof(long))..];
            string room = ReadString(ref rest);
            string sender = ReadString(ref rest);
            message = new StoredMessage(room, sender, Encoding.UTF8.GetString(rest), DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds).UtcDateTime);
            Volatile.Write(ref _read, read + length);
            return true;
        }

        Volatile.Write(ref _read, read);
        message = default;
        return false;
    }

    private static Span<byte> WriteString(Span<byte> destination, string value, int byteCount)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)byteCount);
        Encoding.UTF8.GetBytes(value, destination[sizeof(ushort)..]);
        return destination[(sizeof(ushort) + byteCount)..];
    }

    private static string ReadString(ref ReadOnlySpan<byte> source)
    {
        int byteCount = BinaryPrimitives.ReadUInt16LittleEndian(source);
        string value = Encoding.UTF8.GetString(source.Slice(sizeof(ushort), byteCount));
        source = source[(sizeof(ushort) + byteCount)..];
        return value;
    }
}

/// <summary>One public message as stored: room, sender as shown ("alice" or "* alice" for an action), text, and when it was sent.</summary>
internal readonly record struct StoredMessage(string Room, string Sender, string Text, DateTime UtcTime);
