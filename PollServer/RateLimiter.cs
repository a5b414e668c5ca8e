namespace PollChat.Server;

/// <summary>
/// A token bucket per connection: <c>rate</c> messages a second, up to <c>burst</c> at once.
/// A struct inside <see cref="ClientConnection"/>, so checking a message costs a few
/// arithmetic operations and no allocation. A rate of 0 means unlimited.
/// </summary>
internal struct RateLimiter
{
    private double _tokens;
    private long _lastRefill;

    /// <summary>Over-limit messages since the last one that was let through.</summary>
    public int RefusedInARow { get; private set; }

    /// <summary>True if a message may pass now (and takes its token); false if it is over the limit.</summary>
    public bool TryTake(double ratePerSecond, int burst, long now)
    {
        if (ratePerSecond <= 0)
        {
            return true;
        }

        if (_lastRefill == 0)
        {
            _tokens = burst; // A new connection starts with a full bucket.
        }
        else
        {
            _tokens = Math.Min(burst, _tokens + ((now - _lastRefill) * ratePerSecond / 1000.0));
        }

        _lastRefill = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            RefusedInARow = 0;
            return true;
        }

        RefusedInARow++;
        return false;
    }

    /// <summary>Milliseconds until the next token, for the "slow down" notice.</summary>
    public readonly long MillisecondsUntilNext(double ratePerSecond) =>
        ratePerSecond <= 0 ? 0 : (long)Math.Ceiling((1 - _tokens) * 1000.0 / ratePerSecond);
}
