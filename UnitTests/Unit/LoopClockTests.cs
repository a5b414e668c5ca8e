namespace PollChat.Tests.Unit;

/// <summary>The loop's time: one instant per iteration, moved only by Tick, so everything one iteration does sees the same now.</summary>
[TestFixture]
public sealed class LoopClockTests
{
    [Test]
    public void Now_is_the_source_at_construction_and_moves_only_on_Tick()
    {
        long source = 1_000;
        var clock = new LoopClock(() => source);
        Assert.That(clock.Now, Is.EqualTo(1_000));

        source = 1_250;
        Assert.That(clock.Now, Is.EqualTo(1_000), "the source moving does not move the iteration's instant");

        Assert.That(clock.Tick(), Is.EqualTo(1_250), "Tick returns the new instant");
        Assert.That(clock.Now, Is.EqualTo(1_250));
    }

    [Test]
    public void Peek_reads_the_source_without_moving_Now()
    {
        long source = 50;
        var clock = new LoopClock(() => source);
        source = 80;

        Assert.Multiple(() =>
        {
            Assert.That(clock.Peek(), Is.EqualTo(80));
            Assert.That(clock.Now, Is.EqualTo(50), "Peek only measures how long Select may wait");
        });
    }

    [Test]
    public void Without_a_source_it_follows_the_system_tick_count()
    {
        long before = Environment.TickCount64;
        var clock = new LoopClock();
        long after = Environment.TickCount64;
        Assert.That(clock.Now, Is.InRange(before, after));
    }
}
