using System.Buffers;

namespace PollChat.Server;

/// <summary>
/// Bytes queued for one client and not yet accepted by its socket. The array is rented only
/// while something is pending, so an idle client holds none. Appends past the limit are refused,
/// which is how a reader that stopped reading is detected.
/// </summary>
internal sealed class OutboundBuffer
{
    /// <summary>First rental: a few relayed lines; it doubles from there only for a backlog.</summary>
    private const int InitialRentBytes = 4096;

    private byte[]? _buffer;
    private int _start;
    private int _end;

    public int PendingCount => _end - _start;

    public bool HasPending => _end > _start;

    public ReadOnlySpan<byte> Pending => _buffer.AsSpan(_start, _end - _start);

    /// <summary>Queues <paramref name="bytes"/>; returns false, queuing nothing, if that would put more than <paramref name="limit"/> bytes pending.</summary>
    public bool TryAppend(ReadOnlySpan<byte> bytes, int limit)
    {
        int pending = PendingCount;
        if (pending + bytes.Length > limit)
        {
            return false;
        }

        EnsureSpace(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_end));
        _end += bytes.Length;
        return true;
    }

    /// <summary>Marks <paramref name="count"/> bytes as sent; returns the array to the pool once nothing is pending.</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            Clear();
        }
    }

    public void Clear()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        _start = _end = 0;
    }

    private void EnsureSpace(int needed)
    {
        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(InitialRentBytes, needed));
            return;
        }

        if (_buffer.Length - _end >= needed)
        {
            return;
        }

        int pending = PendingCount;
        if (_buffer.Length - pending >= needed && _start >= _buffer.Length / 2)
        {
            // Sliding is cheaper than growing once half the array has already been sent.
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
        }
        else
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, pending + needed));
            _buffer.AsSpan(_start, pending).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        _start = 0;
        _end = pending;
    }
}
