namespace PollChat.Server.Loop;

/// <summary>
/// What every client's output buffer holds, counted in the sizes of the arrays actually
/// allocated (not bytes pending: a half-empty array costs its whole size). One budget for the
/// whole server, like Redis's <c>maxmemory-clients</c>: when a buffer would grow past it, the
/// client holding the most is dropped, so many slow readers cannot add up to more than the
/// budget however many there are. Loop thread only.
/// </summary>
internal sealed class OutputMemory
{
    /// <summary>Bytes held by all output buffers now.</summary>
    public long Held { get; private set; }

    /// <summary>The most held since <see cref="ResetPeak"/>: how much could be given back to the system once it is let go.</summary>
    public long Peak { get; private set; }

    /// <summary>An output array of <paramref name="delta"/> more (or, negative, fewer) bytes.</summary>
    public void Change(long delta)
    {
        Held += delta;
        Peak = Math.Max(Peak, Held);
    }

    public void ResetPeak() => Peak = Held;
}
