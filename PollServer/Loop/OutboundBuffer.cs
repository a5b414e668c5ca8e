namespace PollChat.Server.Loop;

/// <summary>
/// Bytes queued for one client and not yet accepted by its socket. The array is allocated on
/// the first output and kept while the client is busy, so the steady state allocates nothing.
/// (Renting from the shared pool on every flush was tried: with a hundred busy clients the pool
/// runs dry and every rent allocates.) A client with no output for a whole sweep period loses
/// the array, so an idle room holds no output memory. Appends past the limit are refused,
/// which is how a reader that stopped reading is detected. The array doubles for a backlog but
/// never past the limit, so a client costs at most its limit, and every array's size is counted
/// in the server's <see cref="OutputMemory"/>.
/// </summary>
internal sealed class OutboundBuffer(OutputMemory memory)
{
    /// <summary>First allocation: a few dozen relayed lines; it doubles only for a backlog.</summary>
    private const int InitialBytes = 2048;

    private readonly OutputMemory _memory = memory;
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private bool _usedSinceSweep;

    public int PendingCount => _end - _start;

    public bool HasPending => _end > _start;

    public ReadOnlySpan<byte> Pending => _buffer.AsSpan(_start, _end - _start);

    /// <summary>The size of the array held: what this buffer costs, whatever is pending in it.</summary>
    public int Capacity => _buffer?.Length ?? 0;

    /// <summary>How many more bytes of array appending <paramref name="count"/> bytes would allocate (0 almost always, and 0 if the append would be refused).</summary>
    public int GrowthFor(int count, int limit)
    {
        int pending = PendingCount;
        if (pending + count > limit || (_buffer is not null && _buffer.Length - pending >= count))
        {
            return 0;
        }

        return NewCapacity(count, limit) - Capacity;
    }

    /// <summary>Queues <paramref name="bytes"/>; returns false, queuing nothing, if that would put more than <paramref name="limit"/> bytes pending.</summary>
    public bool TryAppend(ReadOnlySpan<byte> bytes, int limit)
    {
        if (PendingCount + bytes.Length > limit)
        {
            return false;
        }

        _usedSinceSweep = true;
        EnsureSpace(bytes.Length, limit);
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
            Clear();
        }

        _usedSinceSweep = false;
    }

    /// <summary>Drops everything pending and the array with it.</summary>
    public void Clear()
    {
        _memory.Change(-Capacity);
        _buffer = null;
        _start = _end = 0;
    }

    /// <summary>Doubling, or just enough for a large append, and never past the limit (the append was checked against it).</summary>
    private int NewCapacity(int needed, int limit) =>
        _buffer is null ? Math.Max(Math.Min(InitialBytes, limit), needed) : Math.Min(Math.Max(_buffer.Length * 2, PendingCount + needed), Math.Max(limit, PendingCount + needed));

    private void EnsureSpace(int needed, int limit)
    {
        if (_buffer is null)
        {
            _buffer = new byte[NewCapacity(needed, limit)];
            _memory.Change(_buffer.Length);
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
            byte[] larger = new byte[NewCapacity(needed, limit)];
            _buffer.AsSpan(_start, pending).CopyTo(larger);
            _memory.Change(larger.Length - _buffer.Length);
            _buffer = larger;
        }

        _start = 0;
        _end = pending;
    }
}
