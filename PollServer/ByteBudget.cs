namespace PollChat.Server;

/// <summary>
/// How many bytes a connection may still send before its reads pause: a token bucket over
/// received bytes, refilled at a rate and capped at a burst. Unlike <see cref="RateLimiter"/>
/// it may go below zero, because bytes are counted after a receive; the debt is then paid by
/// waiting, while the loop leaves the socket out of its read list and TCP holds the peer back.
/// A struct inside <see cref="ClientConnection"/>: spending costs a few arithmetic operations.
/// </summary>
internal struct ByteBudget
{
    private double _tokens;
    private long _lastRefill;

    /// <summary>Counts <paramref name="bytes"/> just received; returns false when the budget is spent and reading must pause.</summary>
    public bool Spend(int bytes, double bytesPerSecond, double burst, long now)
    {
        if (bytesPerSecond <= 0)
        {
            return true;
        }

        Refill(bytesPerSecond, burst, now);
        _tokens -= bytes;
        return _tokens > 0;
    }

    /// <summary>When, in loop milliseconds, the budget is positive again and reading may resume.</summary>
    public readonly long RefilledAt(double bytesPerSecond) =>
        _tokens > 0 || bytesPerSecond <= 0 ? _lastRefill : _lastRefill + 1 + (long)Math.Ceiling(-_tokens * 1000.0 / bytesPerSecond);

    private void Refill(double bytesPerSecond, double burst, long now)
    {
        // A new connection starts with a full budget; 0 is never a real clock reading after start.
        _tokens = _lastRefill == 0 ? burst : Math.Min(burst, _tokens + ((now - _lastRefill) * bytesPerSecond / 1000.0));
        _lastRefill = now;
    }
}
