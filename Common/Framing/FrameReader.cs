using System.Buffers;

namespace PollChat.Common.Framing;

/// <summary>Outcome of <see cref="FrameReader.TryRead"/>.</summary>
public enum FrameReadStatus
{
    /// <summary>No complete frame is buffered yet; receive more and try again.</summary>
    NeedMoreData,

    /// <summary>A complete frame was read.</summary>
    Frame,

    /// <summary>The buffered header is invalid; the stream cannot be resynchronised.</summary>
    Invalid,
}

/// <summary>
/// Incremental frame decoder over one byte stream. Bytes arrive in any split (one at a time, or
/// many frames at once) through <see cref="GetReceiveSpan"/>/<see cref="CommitReceived"/> or
/// <see cref="Append"/>; <see cref="TryRead"/> yields each complete frame in order. A header is
/// validated the moment its 10 bytes are in, before any buffer grows for its payload. The reader
/// owns a small buffer and rents a larger one from the shared pool only while a large frame is
/// buffered, so an idle stream costs <see cref="InitialCapacity"/> bytes. Not thread-safe.
/// </summary>
public sealed class FrameReader
{
    /// <summary>Room for a header and a typical chat line, so most streams never grow the buffer.</summary>
    public const int InitialCapacity = 512;

    /// <summary>Reads smaller than this waste a system call, so the receive span is at least this large.</summary>
    private const int MinimumReceiveSpace = 256;

    private readonly byte[] _ownBuffer = new byte[InitialCapacity];
    private byte[] _buffer;
    private int _start;
    private int _end;
    private int _bytesNeeded = FrameHeader.Length;

    /// <summary>Creates an empty reader.</summary>
    public FrameReader() => _buffer = _ownBuffer;

    /// <summary>Bytes received but not yet returned as frames.</summary>
    public int BufferedCount => _end - _start;

    /// <summary>
    /// Free space to receive into, after compacting and, when a validated header needs it,
    /// growing the buffer to hold the whole frame. Invalidates spans returned by <see cref="TryRead"/>.
    /// </summary>
    public Span<byte> GetReceiveSpan()
    {
        Compact();
        int wanted = Math.Max(_bytesNeeded, _end + MinimumReceiveSpace);
        if (wanted > _buffer.Length)
        {
            Grow(wanted);
        }

        return _buffer.AsSpan(_end);
    }

    /// <summary>Marks <paramref name="count"/> bytes of the last receive span as received.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More bytes than the receive span had.</exception>
    public void CommitReceived(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _end);
        _end += count;
    }

    /// <summary>Copies <paramref name="data"/> in, as if received. Invalidates spans returned by <see cref="TryRead"/>.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            Span<byte> space = GetReceiveSpan();
            int count = Math.Min(space.Length, data.Length);
            data[..count].CopyTo(space);
            CommitReceived(count);
            data = data[count..];
        }
    }

    /// <summary>
    /// Returns <see cref="FrameReadStatus.Frame"/> with the next frame's payload, which stays valid
    /// until the next <see cref="GetReceiveSpan"/> or <see cref="Append"/>. Returns
    /// <see cref="FrameReadStatus.Invalid"/> with the reason in <paramref name="error"/> (and the
    /// declared length, when there was one, in <paramref name="declaredLength"/>) once a buffered
    /// header is invalid or declares more than <paramref name="maxPayloadLength"/> bytes; nothing
    /// after it can be trusted, so the caller should drop the stream.
    /// </summary>
    public FrameReadStatus TryRead(int maxPayloadLength, out ReadOnlySpan<byte> payload, out FrameError error, out int declaredLength)
    {
        payload = default;
        declaredLength = 0;
        error = FrameError.None;
        ReadOnlySpan<byte> buffered = _buffer.AsSpan(_start, _end - _start);
        if (buffered.Length < FrameHeader.Length)
        {
            _bytesNeeded = FrameHeader.Length;
            return FrameReadStatus.NeedMoreData;
        }

        if (!FrameHeader.TryParse(buffered[..FrameHeader.Length], maxPayloadLength, out declaredLength, out error))
        {
            return FrameReadStatus.Invalid;
        }

        // Compared without adding the header length, which could overflow for a limit near int.MaxValue.
        if (buffered.Length - FrameHeader.Length < declaredLength)
        {
            _bytesNeeded = (int)Math.Min((long)FrameHeader.Length + declaredLength, int.MaxValue);
            return FrameReadStatus.NeedMoreData;
        }

        payload = buffered.Slice(FrameHeader.Length, declaredLength);
        _start += FrameHeader.Length + declaredLength;
        _bytesNeeded = FrameHeader.Length;
        return FrameReadStatus.Frame;
    }

    /// <summary>
    /// Like <see cref="TryRead"/>, for a
    /// caller that received into a buffer of its own (a server's shared receive buffer): reads the
    /// next frame from what is buffered here followed by <paramref name="input"/>, advancing
    /// <paramref name="input"/> past what it used. A frame wholly inside <paramref name="input"/>
    /// is returned in place, without copying; only a frame split across receives is copied in,
    /// and only as many bytes as it needs. On <see cref="FrameReadStatus.NeedMoreData"/> all of
    /// <paramref name="input"/> has been taken. The payload stays valid until the next call.
    /// </summary>
    public FrameReadStatus TryReadFrom(ref ReadOnlySpan<byte> input, int maxPayloadLength, out ReadOnlySpan<byte> payload, out FrameError error, out int declaredLength)
    {
        while (BufferedCount > 0)
        {
            FrameReadStatus status = TryRead(maxPayloadLength, out payload, out error, out declaredLength);
            if (status != FrameReadStatus.NeedMoreData || input.IsEmpty)
            {
                return status;
            }

            // Top the partial frame up with exactly what it lacks (the header first, then the payload).
            int lacking = BufferedCount < FrameHeader.Length ? FrameHeader.Length - BufferedCount : _bytesNeeded - BufferedCount;
            int take = Math.Min(lacking, input.Length);
            Append(input[..take]);
            input = input[take..];
        }

        payload = default;
        declaredLength = 0;
        error = FrameError.None;
        if (input.Length < FrameHeader.Length)
        {
            Append(input);
            input = default;
            return FrameReadStatus.NeedMoreData;
        }

        if (!FrameHeader.TryParse(input[..FrameHeader.Length], maxPayloadLength, out declaredLength, out error))
        {
            return FrameReadStatus.Invalid;
        }

        if (input.Length - FrameHeader.Length < declaredLength)
        {
            Append(input);
            _bytesNeeded = FrameHeader.Length + declaredLength;
            input = default;
            return FrameReadStatus.NeedMoreData;
        }

        payload = input.Slice(FrameHeader.Length, declaredLength);
        input = input[(FrameHeader.Length + declaredLength)..];
        return FrameReadStatus.Frame;
    }

    /// <summary>
    /// Looks at the next frame in what is buffered here followed by <paramref name="input"/>
    /// without reading it: <see cref="FrameReadStatus.Frame"/> when it is whole, with the first
    /// bytes of its payload (as many as <paramref name="payloadStart"/> holds, or the payload has)
    /// copied there and counted in <paramref name="startLength"/>, and its length in <paramref name="declared"/>; <see cref="FrameReadStatus.NeedMoreData"/>
    /// when it is not whole yet; <see cref="FrameReadStatus.Invalid"/> for a bad header (reading it
    /// says why). Allocates nothing: it lets a caller that holds frames back tell whether the next
    /// one is of a kind it lets through.
    /// </summary>
    public FrameReadStatus PeekNext(ReadOnlySpan<byte> input, Span<byte> payloadStart, out int startLength, out int declared)
    {
        startLength = 0;
        declared = 0;
        ReadOnlySpan<byte> buffered = _buffer.AsSpan(_start, _end - _start);
        long total = (long)buffered.Length + input.Length;
        if (total < FrameHeader.Length)
        {
            return FrameReadStatus.NeedMoreData;
        }

        Span<byte> header = stackalloc byte[FrameHeader.Length];
        CopyFrom(buffered, input, 0, header);
        if (!FrameHeader.TryParse(header, int.MaxValue, out declared, out _))
        {
            return FrameReadStatus.Invalid;
        }

        if (total - FrameHeader.Length < declared)
        {
            return FrameReadStatus.NeedMoreData;
        }

        startLength = Math.Min(declared, payloadStart.Length);
        CopyFrom(buffered, input, FrameHeader.Length, payloadStart[..startLength]);
        return FrameReadStatus.Frame;
    }

    /// <summary>Copies bytes from the concatenation of <paramref name="first"/> and <paramref name="second"/>, from <paramref name="offset"/> on, to fill <paramref name="destination"/>.</summary>
    private static void CopyFrom(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, int offset, Span<byte> destination)
    {
        int fromFirst = Math.Clamp(first.Length - offset, 0, destination.Length);
        first.Slice(Math.Min(offset, first.Length), fromFirst).CopyTo(destination);
        second.Slice(Math.Max(0, offset - first.Length), destination.Length - fromFirst).CopyTo(destination[fromFirst..]);
    }

    /// <summary>Moves unread bytes to the front; goes back to the small buffer once a large one is no longer needed.</summary>
    private void Compact()
    {
        int count = _end - _start;
        if (_buffer != _ownBuffer && count <= _ownBuffer.Length && _bytesNeeded <= _ownBuffer.Length)
        {
            _buffer.AsSpan(_start, count).CopyTo(_ownBuffer);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = _ownBuffer;
        }
        else if (_start > 0)
        {
            _buffer.AsSpan(_start, count).CopyTo(_buffer);
        }

        _start = 0;
        _end = count;
    }

    private void Grow(int capacity)
    {
        byte[] larger = ArrayPool<byte>.Shared.Rent(capacity);
        _buffer.AsSpan(0, _end).CopyTo(larger);
        if (_buffer != _ownBuffer)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = larger;
    }
}
