using PollChat.Server.Accounts;

namespace PollChat.Tests.Unit;

/// <summary>The login throttle on its own, with a fake clock: guessers wait, owners on other addresses never do.</summary>
[TestFixture]
public sealed class LoginThrottleTests
{
    private const string Guesser = "127.0.0.2";
    private const string Owner = "127.0.0.3";

    [Test]
    public void A_guesser_failing_at_a_name_never_holds_back_the_owner_on_another_address()
    {
        var throttle = new LoginThrottle();
        long now = 1_000;
        for (int i = 0; i < 8; i++)
        {
            now += Wait(throttle, "alice", Guesser, now); // Each guess as soon as it is allowed.
            Assert.That(throttle.TryStart("alice", Guesser, now, out _), Is.EqualTo(LoginThrottle.Hold.None));
            throttle.Failed("alice", Guesser, now);
        }

        Assert.That(throttle.TryStart("alice", Guesser, now, out long guesserWait), Is.EqualTo(LoginThrottle.Hold.Address));
        Assert.That(guesserWait, Is.EqualTo(16_000), "8 failures: 3 free, then 1, 2, 4, 8, 16 s");
        Assert.That(throttle.TryStart("alice", Owner, now, out long ownerWait), Is.EqualTo(LoginThrottle.Hold.None));
        Assert.That(ownerWait, Is.Zero);
    }

    [Test]
    public void After_the_free_failures_each_doubles_the_wait_up_to_five_minutes()
    {
        var throttle = new LoginThrottle();
        var waits = new List<long>();
        for (int i = 0; i < 14; i++)
        {
            throttle.Failed("alice", Guesser, 1_000);
            throttle.TryStart("alice", Guesser, 1_000, out long wait);
            waits.Add(wait);
        }

        Assert.That(waits, Is.EqualTo(new long[] { 0, 0, 0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000 }));
    }

    [Test]
    public void One_address_failing_at_many_names_waits_once_past_its_own_free_failures()
    {
        var throttle = new LoginThrottle();
        for (int i = 0; i < LoginThrottle.AddressFreeFailures; i++)
        {
            throttle.Failed($"user{i}", Guesser, 1_000);
        }

        Assert.That(throttle.TryStart("fresh", Guesser, 1_000, out _), Is.EqualTo(LoginThrottle.Hold.None), "a NAT's worth of typos is free");
        throttle.Failed("user99", Guesser, 1_000);
        Assert.That(throttle.TryStart("fresh", Guesser, 1_000, out long wait), Is.EqualTo(LoginThrottle.Hold.Address));
        Assert.That(wait, Is.EqualTo(1_000));
        Assert.That(throttle.TryStart("fresh", Owner, 1_000, out _), Is.EqualTo(LoginThrottle.Hold.None));
    }

    [Test]
    public void Addresses_that_keep_failing_at_a_name_share_one_turn_while_a_fresh_address_goes_straight_in()
    {
        var throttle = new LoginThrottle();
        long now = 1_000;
        for (int a = 1; a <= 5; a++)
        {
            for (int i = 0; i < LoginThrottle.FreeFailures; i++)
            {
                throttle.Failed("alice", $"10.0.0.{a}", now); // 15 failures from five addresses, each within its free ones.
            }
        }

        Assert.That(throttle.TryStart("alice", "10.0.0.1", now, out _), Is.EqualTo(LoginThrottle.Hold.None), "the turn is free: it takes it");
        Assert.That(throttle.TryStart("alice", "10.0.0.2", now, out long wait), Is.EqualTo(LoginThrottle.Hold.Name));
        Assert.That(wait, Is.EqualTo(32_000), "15 failures, 5 past the name's free ones: 2^5 s between turns");
        Assert.That(throttle.TryStart("alice", Owner, now, out _), Is.EqualTo(LoginThrottle.Hold.None), "a fresh address is never held by the name's ceiling");
        Assert.That(throttle.TryStart("alice", "10.0.0.3", now + 32_000, out _), Is.EqualTo(LoginThrottle.Hold.None), "the next turn");

        for (int i = 0; i < 20; i++)
        {
            throttle.Failed("alice", "10.0.0.4", now);
        }

        now += 400_000;
        Assert.That(throttle.TryStart("alice", "10.0.0.5", now, out _), Is.EqualTo(LoginThrottle.Hold.None));
        Assert.That(throttle.TryStart("alice", "10.0.0.2", now, out wait), Is.EqualTo(LoginThrottle.Hold.Name));
        Assert.That(wait, Is.EqualTo(LoginThrottle.NameMaxWaitMilliseconds), "one turn a minute at most apart");
    }

    [Test]
    public void A_success_forgives_its_address_but_not_the_name_or_the_address_elsewhere()
    {
        var throttle = new LoginThrottle();
        for (int i = 0; i < 5; i++)
        {
            throttle.Failed("alice", Owner, 1_000);
        }

        throttle.Succeeded("alice", Owner);
        Assert.That(throttle.TryStart("alice", Owner, 1_000, out _), Is.EqualTo(LoginThrottle.Hold.None));
        for (int i = 0; i < 4; i++)
        {
            throttle.Failed("alice", Owner, 1_000);
        }

        Assert.That(throttle.TryStart("alice", Owner, 1_000, out long wait), Is.EqualTo(LoginThrottle.Hold.Address));
        Assert.That(wait, Is.EqualTo(1_000), "counting started again from zero after the success");
    }

    [Test]
    public void Entries_quiet_for_an_hour_are_forgotten()
    {
        var throttle = new LoginThrottle();
        throttle.Failed("alice", Guesser, 1_000);
        throttle.Failed("bob", Owner, 1_000);
        throttle.Forget(1_000 + (59 * 60_000));
        Assert.That(throttle.Count, Is.EqualTo(6), "two pairs, two addresses, two names");
        throttle.Forget(1_000 + (61 * 60_000));
        Assert.That(throttle.Count, Is.Zero);
    }

    [Test]
    public void An_owner_logging_in_gives_neither_their_address_nor_the_guessed_name_a_fresh_start()
    {
        var throttle = new LoginThrottle();
        for (int a = 1; a <= 5; a++)
        {
            for (int i = 0; i < LoginThrottle.FreeFailures; i++)
            {
                throttle.Failed("alice", $"10.0.0.{a}", 1_000); // The name guessed at from five addresses: 15 failures.
            }
        }

        for (int i = 0; i < 5; i++)
        {
            throttle.Failed("alice", Owner, 1_000); // The owner's own typos, before getting it right.
        }

        throttle.Succeeded("alice", Owner);
        for (int i = 0; i < LoginThrottle.AddressFreeFailures - 5; i++)
        {
            throttle.Failed($"other{i}", Owner, 1_000); // Up to the address's free failures over all names.
        }

        Assert.That(throttle.TryStart("alice", Owner, 1_000, out _), Is.EqualTo(LoginThrottle.Hold.None), "the owner's address is within its free failures");
        throttle.Failed("one-more", Owner, 1_000);
        Assert.That(throttle.TryStart("alice", Owner, 1_000, out long wait), Is.EqualTo(LoginThrottle.Hold.Address), "the five before the success still count for the address");
        Assert.That(wait, Is.EqualTo(1_000));
        Assert.That(throttle.TryStart("alice", "10.0.0.1", 1_000, out _), Is.EqualTo(LoginThrottle.Hold.None), "a guesser's turn at the name");
        Assert.That(throttle.TryStart("alice", "10.0.0.2", 1_000, out _), Is.EqualTo(LoginThrottle.Hold.Name), "and the ceiling still holds the others after the owner's success");
    }

    [Test]
    public void A_name_in_other_letter_cases_is_the_same_name_to_the_throttle()
    {
        var throttle = new LoginThrottle();
        throttle.Failed("alice", Guesser, 1_000);
        throttle.Failed("Alice", Guesser, 1_000);
        throttle.Failed("ALICE", Guesser, 1_000);

        Assert.That(throttle.TryStart("aLiCe", Guesser, 1_000, out _), Is.EqualTo(LoginThrottle.Hold.None), "three free, across the spellings");
        throttle.Failed("alicE", Guesser, 1_000);
        Assert.That(throttle.TryStart("alice", Guesser, 1_000, out long wait), Is.EqualTo(LoginThrottle.Hold.Address), "a fourth spelling is no fresh set of free tries");
        Assert.That(wait, Is.EqualTo(1_000));
    }

    private static long Wait(LoginThrottle throttle, string name, string address, long now)
    {
        throttle.TryStart(name, address, now, out long wait);
        return wait;
    }
}
