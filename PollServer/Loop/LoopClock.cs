namespace PollChat.Server.Loop;

/// <summary>
/// The loop's time in milliseconds, read once per iteration: everything one iteration does
/// (reads, relays, deadlines) sees the same instant, and no code asks the system clock on its own.
/// Tests give it their own source and move time forward instead of sleeping.
/// </summary>
internal sealed class LoopClock(Func<long>? source = null)
{
    private readonly Func<long> _source = source ?? (() => Environment.TickCount64);

    /// <summary>The time the current iteration started, in milliseconds of an arbitrary origin.</summary>
    public long Now { get; private set; } = (source ?? (() => Environment.TickCount64))();

    /// <summary>Reads the source and makes it the iteration's instant; once per iteration, when Select returns.</summary>
    public long Tick() => Now = _source();

    /// <summary>The source's time without moving <see cref="Now"/>: only to measure how long Select may wait.</summary>
    public long Peek() => _source();
}
