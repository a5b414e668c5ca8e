namespace PollChat.Server.Chat;

/// <summary>
/// Log discipline for an event a peer can repeat at will (a refused frame, a bad command): the
/// first is logged, the rest are counted, and the count is logged at most once per
/// <see cref="IntervalMilliseconds"/> and when the connection closes. A struct field of the
/// connection, so counting costs nothing.
/// </summary>
internal struct RepeatedEvent
{
    /// <summary>A minute: a line a minute per flooding peer is readable; one per frame filled the disk.</summary>
    public const long IntervalMilliseconds = 60_000;

    private long _nextLogAt;

    /// <summary>Occurrences not yet logged.</summary>
    public int Unlogged { get; private set; }

    /// <summary>
    /// Counts one occurrence. Returns true when a line is due: the first ever (with
    /// <paramref name="repeats"/> 0), or the first after the interval, with the count since the last line.
    /// </summary>
    public bool Count(long now, out int repeats)
    {
        if (_nextLogAt == 0 || now >= _nextLogAt)
        {
            repeats = Unlogged;
            Unlogged = 0;
            _nextLogAt = now + IntervalMilliseconds;
            return true;
        }

        Unlogged++;
        repeats = 0;
        return false;
    }
}
