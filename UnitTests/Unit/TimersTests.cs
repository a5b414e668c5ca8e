namespace PollChat.Tests.Unit;

/// <summary>
/// The loop's one queue of deadlines: they run in order of time, a deadline registered while
/// deadlines run waits for the next pass (so a timer that registers itself again cannot spin the
/// loop), and deadlines about clients' input neither fire nor shorten Select's wait while reads are held.
/// </summary>
[TestFixture]
public sealed class TimersTests
{
    /// <summary>What ran, as "name@now" in order: one string to compare.</summary>
    private readonly List<string> _fired = [];

    private Action<object?, long> Record => (state, now) => _fired.Add($"{state}@{now}");

    private string Fired => string.Join(", ", _fired);

    [SetUp]
    public void Forget() => _fired.Clear(); // One fixture instance serves every test.

    [Test]
    public void Deadlines_run_in_order_of_time_not_of_registration_and_only_once_due()
    {
        var timers = new Timers();
        timers.At(300, Record, "third");
        timers.At(100, Record, "first");
        timers.At(200, Record, "second");

        timers.RunDue(99, readsHeld: () => false);
        Assert.That(_fired, Is.Empty, "nothing is due before the first deadline");

        timers.RunDue(250, readsHeld: () => false);
        Assert.That(Fired, Is.EqualTo("first@250, second@250"), "every due deadline runs, earliest first, with the pass's time");
        Assert.That(timers.Next(readsHeld: false), Is.EqualTo(300));

        timers.RunDue(300, readsHeld: () => false);
        Assert.Multiple(() =>
        {
            Assert.That(Fired, Is.EqualTo("first@250, second@250, third@300"), "a deadline runs once: what ran is gone from the queue");
            Assert.That(timers.Count, Is.Zero);
        });
    }

    [Test]
    public void Next_is_the_earliest_deadline_and_long_MaxValue_when_the_queue_is_empty()
    {
        var timers = new Timers();
        Assert.That(timers.Next(readsHeld: false), Is.EqualTo(long.MaxValue), "no deadline: Select may wait without end");

        timers.At(500, static (_, _) => { });
        timers.At(40, static (_, _) => { });
        Assert.That(timers.Next(readsHeld: false), Is.EqualTo(40));
    }

    [Test]
    public void A_timer_that_registers_itself_again_waits_for_the_next_pass_and_cannot_spin()
    {
        var timers = new Timers();
        int runs = 0;
        Action<object?, long>? again = null;
        again = (_, now) =>
        {
            runs++;
            if (runs < 1000) // Bounded, so a queue that runs it in the same pass fails this test instead of hanging it.
            {
                timers.At(now, again!); // Due at once: run in this pass, it would run again and again.
            }
        };
        timers.At(10, again);

        timers.RunDue(10, readsHeld: () => false);
        Assert.Multiple(() =>
        {
            Assert.That(runs, Is.EqualTo(1), "the deadline registered while running waits for the next RunDue");
            Assert.That(timers.Count, Is.EqualTo(1), "and is queued once the pass ends");
            Assert.That(timers.Next(readsHeld: false), Is.EqualTo(10), "so the next Select does not wait");
        });

        timers.RunDue(11, readsHeld: () => false);
        Assert.That(runs, Is.EqualTo(2));
    }

    [Test]
    public void Deadlines_about_input_neither_fire_nor_count_while_reads_are_held_and_fire_after()
    {
        var timers = new Timers();
        timers.AtWhileReading(100, Record, "name timeout");
        timers.At(500, Record, "always");

        Assert.That(timers.Next(readsHeld: true), Is.EqualTo(500), "a held deadline does not shorten Select's wait, or the loop would spin while reads are held");
        timers.RunDue(200, readsHeld: () => true);
        Assert.That(_fired, Is.Empty, "a deadline about input does not fire while reads are held");

        Assert.That(timers.Next(readsHeld: false), Is.EqualTo(100), "once reads go on, it is the earliest again");
        timers.RunDue(200, readsHeld: () => false);
        Assert.That(Fired, Is.EqualTo("name timeout@200"));
    }

    [Test]
    public void Deadlines_not_about_input_fire_while_reads_are_held()
    {
        var timers = new Timers();
        timers.At(100, Record, "close deadline");

        timers.RunDue(100, readsHeld: () => true);
        Assert.That(Fired, Is.EqualTo("close deadline@100"));
    }

    [Test]
    public void A_deadline_about_input_registered_while_running_keeps_its_kind()
    {
        var timers = new Timers();
        timers.At(10, (_, now) => timers.AtWhileReading(now, Record, "registered while running"));

        timers.RunDue(10, readsHeld: () => false);
        Assert.That(timers.Next(readsHeld: true), Is.EqualTo(long.MaxValue), "queued after the pass among the deadlines that wait while reads are held");
        timers.RunDue(20, readsHeld: () => true);
        Assert.That(_fired, Is.Empty);
        timers.RunDue(20, readsHeld: () => false);
        Assert.That(Fired, Is.EqualTo("registered while running@20"));
    }

    [Test]
    public void Deadlines_at_the_same_time_run_in_the_order_they_were_registered()
    {
        var timers = new Timers();
        foreach (string name in new[] { "a", "b", "c", "d", "e", "f", "g", "h" })
        {
            timers.At(100, Record, name);
        }

        timers.RunDue(100, readsHeld: () => false);
        Assert.That(Fired, Is.EqualTo("a@100, b@100, c@100, d@100, e@100, f@100, g@100, h@100"), "name deadlines of one accept burst fire in accept order");
    }

    [Test]
    public void A_moot_deadline_neither_runs_nor_wakes_the_loop()
    {
        var timers = new Timers();
        var moot = new HashSet<string>();
        Func<object?, bool> isMoot = state => moot.Contains((string)state!);
        timers.At(100, Record, "name came", isMoot);
        timers.At(500, Record, "still waiting", isMoot);
        moot.Add("name came");

        Assert.That(timers.Next(readsHeld: false), Is.EqualTo(500), "the first deadline that still applies sets Select's wait");
        timers.RunDue(500, readsHeld: () => false);
        Assert.That(Fired, Is.EqualTo("still waiting@500"));
    }

    [Test]
    public void Whether_reads_are_held_is_asked_after_the_other_deadlines_have_run()
    {
        var timers = new Timers();
        bool held = false;
        timers.At(100, (_, _) => held = true); // A held-back sender handed its frames makes the writer hold reads.
        timers.AtWhileReading(100, Record, "name deadline");

        timers.RunDue(100, readsHeld: () => held);
        Assert.That(_fired, Is.Empty, "the name deadline waits: the hold began in this very pass");
    }
}
