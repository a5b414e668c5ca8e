namespace PollChat.Server;

/// <summary>
/// Bytes queued for one client and not yet accepted by its socket. The array is allocated on
/// the first output and kept while the client is busy, so the steady state allocates nothing.
/// (Renting from the shared pool on every flush was tried: with a hundred busy clients the pool
/// runs dry and every rent allocates.) A client with no output for a whole sweep period loses
/// the array, so an idle room holds no output memory. Appends past the limit are refused,
/// which is how a reader that stopped reading is detected.
/// </summary>
internal sealed class OutboundBuffer
{
    /// <summary>First allocation: a few dozen relayed lines; it doubles only for a backlog.</summary>
    private const int InitialBytes = 2048;

    private byte[]? _buffer;
    private int _start;
    private int _end;
    private bool _usedSinceSweep;

    public int PendingCount => _end - _start;

    public bool HasPending => _end > _start;

    public ReadOnlySpan<byte> Pending => _buffer.AsSpan(_start, _end - _start);

    /// <summary>Queues <paramref name="bytes"/>; returns false, queuing nothing, if that would put more than <paramref name="limit"/> bytes pending.</summary>
    public bool TryAppend(ReadOnlySpan<byte> bytes, int limit)
    {
        if (PendingCount + bytes.Length > limit)
        {
            return false;
        }

        _usedSinceSweep = true;
        EnsureSpace(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_end));
        _end += bytes.Length;
        return true;
    }

    /// <summary>Marks <paramref name="count"/> bytes as sent.</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>Called for every client once per sweep period: lets the array go if nothing was queued since the last call and nothing is pending.</summary>
    public void SweepIfIdle()
    {
        if (!_usedSinceSweep && !HasPending)
        {
            _buffer = null;
            _start = _end = 0;
        }

        _usedSinceSweep = false;
    }

    /// <summary>Drops everything pending and the array with it.</summary>
    public void Clear()
    {
        _buffer = null;
        _start = _end = 0;
    }

    private void EnsureSpace(int needed)
    {
        if (_buffer is null)
        {
            _buffer = new byte[Math.Max(InitialBytes, needed)];
            return;
        }

        if (_buffer.Length - _end >= needed)
        {
            return;
        }

        int pending = PendingCount;
        if (_buffer.Length - pending >= needed)
        {
            // Enough room once the bytes already sent are dropped from the front.
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
        }
        else
        {
            byte[] larger = new byte[Math.Max(_buffer.Length * 2, pending + needed)];
            _buffer.AsSpan(_start, pending).CopyTo(larger);
            _buffer = larger;
        }

        _start = 0;
        _end = pending;
    }
}
