namespace PollChat.Server.Loop;

/// <summary>
/// A token bucket per connection: <c>rate</c> messages a second, up to <c>burst</c> at once.
/// A struct inside <see cref="ClientConnection"/>, so checking a message costs a few
/// arithmetic operations and no allocation. A rate of 0 means unlimited. Nothing is refused
/// here: the loop asks <see cref="HasToken"/> before it reads a frame, and when there is none it
/// stops reading the connection until <see cref="MillisecondsUntilNext"/> (fakelag), so a fast
/// sender is slowed, never cut.
/// </summary>
internal struct RateLimiter
{
    private double _tokens;
    private long _lastRefill;

    /// <summary>Refills the bucket to <paramref name="now"/>; true if a message may be read now. Takes nothing.</summary>
    public bool HasToken(double ratePerSecond, int burst, long now)
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
        return _tokens >= 1;
    }

    /// <summary>Spends one message's token, after <see cref="HasToken"/> said there was one; never below zero.</summary>
    public void Take(double ratePerSecond)
    {
        if (ratePerSecond > 0)
        {
            _tokens = Math.Max(0, _tokens - 1);
        }
    }

    /// <summary>Milliseconds until the next token, as of the last <see cref="HasToken"/>; at least 1 while there is none.</summary>
    public readonly long MillisecondsUntilNext(double ratePerSecond) =>
        ratePerSecond <= 0 || _tokens >= 1 ? 0 : Math.Max(1, (long)Math.Ceiling((1 - _tokens) * 1000.0 / ratePerSecond));
}
