namespace PollChat.Server.Loop;

/// <summary>
/// How many bytes a connection may send: a token bucket over received bytes, refilled at a rate
/// and capped at a burst. A receive takes at most what the bucket holds, so the bound is exact,
/// not one receive buffer late; once the bucket is low the loop leaves the socket out of its read
/// list until it refills, and TCP holds the peer back meanwhile. A struct inside
/// <see cref="ClientConnection"/>: each check is a few arithmetic operations.
/// </summary>
internal struct ByteBudget
{
    private double _tokens;
    private long _lastRefill;

    /// <summary>Refills for the time passed and returns how many bytes a receive may take now, at most <paramref name="most"/>.</summary>
    public int Allowance(double bytesPerSecond, double burst, long now, int most)
    {
        if (bytesPerSecond <= 0)
        {
            return most;
        }

        // A new connection starts with a full budget; 0 is never a real clock reading after start.
        _tokens = _lastRefill == 0 ? burst : Math.Min(burst, _tokens + ((now - _lastRefill) * bytesPerSecond / 1000.0));
        _lastRefill = now;
        return (int)Math.Clamp(Math.Floor(_tokens), 0, most);
    }

    /// <summary>Counts <paramref name="bytes"/> just received; returns false when less than <paramref name="resumeAt"/> is left, and reading should pause.</summary>
    public bool Spend(int bytes, double bytesPerSecond, double resumeAt)
    {
        if (bytesPerSecond <= 0)
        {
            return true;
        }

        _tokens -= bytes;
        return _tokens >= resumeAt;
    }

    /// <summary>
    /// Gives back bytes that were file data within a transfer's window: those are paced by the
    /// receiver's acknowledgements, not by the byte rate, which is there for chat floods.
    /// </summary>
    public void Refund(int bytes, double burst) => _tokens = Math.Min(burst, _tokens + bytes);

    /// <summary>When, in loop milliseconds, the budget is back to <paramref name="resumeAt"/> and reading may resume.</summary>
    public readonly long RefilledAt(double bytesPerSecond, double resumeAt) =>
        _lastRefill + Math.Max(1, (long)Math.Ceiling((resumeAt - _tokens) * 1000.0 / bytesPerSecond));
}
