using System.Numerics;

namespace PollChat.Bench;

/// <summary>
/// Log-linear histogram of microseconds: exact below 64 µs, then 32 buckets per power of two
/// (about 3% resolution) up to hours. One per connection, merged at the end, so recording is a
/// plain increment with no sharing between threads.
/// </summary>
public sealed class LatencyHistogram
{
    private const int Linear = 64;
    private const int SubBuckets = 32;
    private const int MaxExponent = 42;
    private readonly long[] _counts = new long[Linear + ((MaxExponent - 5) * SubBuckets)];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public void Record(long microseconds)
    {
        microseconds = Math.Max(0, microseconds);
        _counts[Index(microseconds)]++;
        Count++;
        Max = Math.Max(Max, microseconds);
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The smallest recorded bucket value at or above the given fraction of samples (0.5 = median); 0 when empty.</summary>
    public long Percentile(double fraction)
    {
        long target = (long)Math.Ceiling(fraction * Count);
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= Math.Max(1, target))
            {
                return Math.Min(UpperBound(i), Max);
            }
        }

        return Max;
    }

    private static int Index(long value)
    {
        if (value < Linear)
        {
            return (int)value;
        }

        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)value); // >= 6
        int sub = (int)((value >> (exponent - 5)) & (SubBuckets - 1));
        return Math.Min(Linear + ((exponent - 6) * SubBuckets) + sub, Linear + ((MaxExponent - 5) * SubBuckets) - 1);
    }

    private static long UpperBound(int index)
    {
        if (index < Linear)
        {
            return index;
        }

        int exponent = ((index - Linear) / SubBuckets) + 6;
        int sub = (index - Linear) % SubBuckets;
        return ((long)(SubBuckets + sub + 1) << (exponent - 5)) - 1;
    }
}
