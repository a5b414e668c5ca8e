using PollChat.Server;

namespace PollChat.Tests.Unit;

/// <summary>The per-connection message bucket, with loop milliseconds passed in: a burst at once, then the rate, and a wait the loop can sleep on.</summary>
[TestFixture]
public sealed class RateLimiterTests
{
    private const double Rate = 4; // One token per 250 ms: the fractions below are exact in binary.
    private const int Burst = 5;
    private const long Start = 1_000; // Any clock reading but 0, which the bucket takes for "never refilled".

    [Test]
    public void A_new_connection_may_send_its_burst_at_once_and_then_waits_for_the_next_token()
    {
        var rate = new RateLimiter();
        int sent = SendAllowed(ref rate, Start);

        Assert.That(sent, Is.EqualTo(Burst), "a full bucket to start with, and no more");
        Assert.That(rate.HasToken(Rate, Burst, Start), Is.False);
        Assert.That(rate.MillisecondsUntilNext(Rate), Is.EqualTo(250), "the next token is 1/rate away");
    }

    [Test]
    public void Tokens_come_back_at_the_rate_and_not_before()
    {
        var rate = new RateLimiter();
        SendAllowed(ref rate, Start);

        Assert.That(rate.HasToken(Rate, Burst, Start + 125), Is.False, "125 ms is half a token");
        Assert.That(rate.MillisecondsUntilNext(Rate), Is.EqualTo(125), "the wait is what is left of it");
        Assert.That(rate.HasToken(Rate, Burst, Start + 249), Is.False);
        Assert.That(rate.MillisecondsUntilNext(Rate), Is.InRange(1, 2), "never 0 while there is no token, or the loop would spin");
        Assert.That(rate.HasToken(Rate, Burst, Start + 250), Is.True);
        rate.Take(Rate);
        Assert.That(rate.HasToken(Rate, Burst, Start + 250), Is.False, "one token for 250 ms, spent");
        Assert.That(SendAllowed(ref rate, Start + 875), Is.EqualTo(2), "625 ms later: two and a half tokens, two whole ones");
        Assert.That(rate.MillisecondsUntilNext(Rate), Is.EqualTo(125), "and the half already there counts toward the next");
    }

    [TestCase(3.0)]
    [TestCase(7.0)]
    [TestCase(0.5)]
    public void Waking_after_the_wait_it_was_told_finds_a_token(double rate)
    {
        // Rates whose token interval is no whole number of milliseconds: a wait rounded down would wake the loop to no token, and it would spin.
        var limiter = new RateLimiter();
        long now = Start;
        for (int i = 0; i < 50; i++)
        {
            while (limiter.HasToken(rate, Burst, now))
            {
                limiter.Take(rate);
            }

            long wait = limiter.MillisecondsUntilNext(rate);
            Assert.That(wait, Is.Positive);
            now += wait;
            Assert.That(limiter.HasToken(rate, Burst, now), Is.True, $"woken after {wait} ms");
        }
    }

    [Test]
    public void A_long_silence_earns_no_more_than_the_burst()
    {
        var rate = new RateLimiter();
        SendAllowed(ref rate, Start);

        Assert.That(SendAllowed(ref rate, Start + 3_600_000), Is.EqualTo(Burst), "an hour of silence: still one burst");
    }

    [Test]
    public void Taking_without_a_token_never_goes_into_debt()
    {
        var rate = new RateLimiter();
        SendAllowed(ref rate, Start);
        for (int i = 0; i < 10; i++)
        {
            rate.Take(Rate); // As the server-wide presence rate does: every join is counted, within the rate or not.
        }

        Assert.That(rate.MillisecondsUntilNext(Rate), Is.EqualTo(250), "still one token away, not eleven");
        Assert.That(rate.HasToken(Rate, Burst, Start + 250), Is.True);
    }

    [Test]
    public void A_rate_of_zero_is_unlimited()
    {
        var rate = new RateLimiter();
        for (int i = 0; i < 1000; i++)
        {
            Assert.That(rate.HasToken(0, Burst, Start), Is.True);
            rate.Take(0);
        }

        Assert.That(rate.MillisecondsUntilNext(0), Is.Zero);
    }

    /// <summary>Sends as the loop reads: while there is a token, take it. Returns how many went.</summary>
    private static int SendAllowed(ref RateLimiter rate, long now)
    {
        int sent = 0;
        while (sent < 1000 && rate.HasToken(Rate, Burst, now))
        {
            rate.Take(Rate);
            sent++;
        }

        return sent;
    }
}
