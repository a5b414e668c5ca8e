using PollChat.Server;

namespace PollChat.Tests.Unit;

/// <summary>Logging an event a peer repeats at will: the first at once, then one line a minute with the count, never one per frame.</summary>
[TestFixture]
public sealed class RepeatedEventTests
{
    private const long Start = 5_000;

    [Test]
    public void The_first_is_logged_and_the_rest_of_the_minute_only_counted()
    {
        var repeated = new RepeatedEvent();

        Assert.That(repeated.Count(Start, out int repeats), Is.True, "the first ever is logged");
        Assert.That(repeats, Is.Zero, "with nothing before it");
        for (int i = 1; i <= 1000; i++)
        {
            Assert.That(repeated.Count(Start + i, out _), Is.False, "a frame-by-frame flood logs nothing more");
        }

        Assert.That(repeated.Unlogged, Is.EqualTo(1000), "what the closing line will report");
    }

    [Test]
    public void A_minute_after_a_line_the_next_carries_the_count_since_it()
    {
        var repeated = new RepeatedEvent();
        repeated.Count(Start, out _);
        repeated.Count(Start + 10, out _);
        repeated.Count(Start + 20, out _);

        Assert.That(repeated.Count(Start + RepeatedEvent.IntervalMilliseconds - 1, out _), Is.False, "a millisecond short of the minute");
        Assert.That(repeated.Count(Start + RepeatedEvent.IntervalMilliseconds, out int repeats), Is.True);
        Assert.That(repeats, Is.EqualTo(3), "the three counted since the first line");
        Assert.That(repeated.Unlogged, Is.Zero, "counting starts again after a line");
    }

    [Test]
    public void The_next_minute_runs_from_the_last_line_not_from_a_fixed_schedule()
    {
        var repeated = new RepeatedEvent();
        repeated.Count(Start, out _);
        long secondLine = Start + RepeatedEvent.IntervalMilliseconds + 30_000; // The first occurrence after the minute, half a minute late.

        Assert.That(repeated.Count(secondLine, out _), Is.True);
        Assert.That(repeated.Count(Start + (2 * RepeatedEvent.IntervalMilliseconds), out _), Is.False, "two minutes after the first line, but only half a minute after the last");
        Assert.That(repeated.Count(secondLine + RepeatedEvent.IntervalMilliseconds, out int repeats), Is.True);
        Assert.That(repeats, Is.EqualTo(1));
    }

    [Test]
    public void After_a_quiet_spell_the_next_occurrence_is_logged_at_once_with_no_repeats()
    {
        var repeated = new RepeatedEvent();
        repeated.Count(Start, out _);

        Assert.That(repeated.Count(Start + (10 * RepeatedEvent.IntervalMilliseconds), out int repeats), Is.True);
        Assert.That(repeats, Is.Zero);
    }
}
