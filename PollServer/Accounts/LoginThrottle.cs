namespace PollChat.Server.Accounts;

/// <summary>
/// Failed logins, counted per name and per address (loop thread only). A few failures are free,
/// because people mistype; after that each one doubles the wait before the next attempt, up to
/// <see cref="MaxWaitMilliseconds"/>. A success clears the name's count.
/// </summary>
internal sealed class LoginThrottle
{
    /// <summary>Mistyped passwords that cost nothing.</summary>
    public const int FreeFailures = 3;

    /// <summary>Online guessing at one try per five minutes gets nowhere; an owner who forgot waits at most this long.</summary>
    public const long MaxWaitMilliseconds = 5 * 60_000;

    /// <summary>Entries idle this long are forgotten, so the table does not grow with every address that ever failed.</summary>
    private const long ForgetAfterMilliseconds = 60 * 60_000;

    private readonly Dictionary<string, (int Failures, long Until)> _entries = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long, in milliseconds, until <paramref name="key"/> may try again; 0 if it may now.</summary>
    public long WaitFor(string key, long now) => _entries.TryGetValue(key, out var entry) && entry.Until > now ? entry.Until - now : 0;

    public void Failed(string key, long now)
    {
        int failures = _entries.TryGetValue(key, out var entry) ? entry.Failures + 1 : 1;
        long wait = failures <= FreeFailures ? 0 : Math.Min(MaxWaitMilliseconds, 1000L << Math.Min(20, failures - FreeFailures - 1));
        _entries[key] = (failures, now + wait);
    }

    public void Succeeded(string key) => _entries.Remove(key);

    /// <summary>Drops entries that have been idle for an hour.</summary>
    public void Forget(long now)
    {
        foreach (string key in _entries.Where(e => e.Value.Until < now - ForgetAfterMilliseconds).Select(e => e.Key).ToList())
        {
            _entries.Remove(key);
        }
    }
}
