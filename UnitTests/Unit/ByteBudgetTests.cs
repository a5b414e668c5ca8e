using PollChat.Server;

namespace PollChat.Tests.Unit;

/// <summary>The per-connection byte bucket, with loop milliseconds passed in: a receive takes at most what is left, reading pauses when it runs low and resumes when it is due.</summary>
[TestFixture]
public sealed class ByteBudgetTests
{
    private const double Rate = 1000; // A byte a millisecond: the figures below read as times.
    private const double Burst = 4000;
    private const double ResumeAt = 1000;
    private const int Most = 65_536; // The loop's receive buffer.
    private const long Start = 1_000; // Any clock reading but 0, which the budget takes for "never refilled".

    [Test]
    public void A_new_connection_may_send_its_burst_and_a_receive_takes_no_more_than_is_left()
    {
        var budget = new ByteBudget();

        Assert.That(budget.Allowance(Rate, Burst, Start, Most), Is.EqualTo(4000), "a full budget to start with");
        Assert.That(budget.Spend(2500, Rate, ResumeAt), Is.True, "1,500 left: above the mark, keep reading");
        Assert.That(budget.Allowance(Rate, Burst, Start, Most), Is.EqualTo(1500), "the bound is exact, not one receive buffer late");
        Assert.That(budget.Allowance(Rate, Burst, Start, 100), Is.EqualTo(100), "and never more than the buffer offered");
    }

    [Test]
    public void Running_low_pauses_reading_until_the_budget_is_back_at_the_mark()
    {
        var budget = new ByteBudget();
        budget.Allowance(Rate, Burst, Start, Most);

        Assert.That(budget.Spend(3500, Rate, ResumeAt), Is.False, "500 left, under the 1,000 mark: pause");
        long resume = budget.RefilledAt(Rate, ResumeAt);
        Assert.That(resume, Is.EqualTo(Start + 500), "500 bytes at a byte a millisecond");
        Assert.That(budget.Allowance(Rate, Burst, resume - 1, Most), Is.LessThan(ResumeAt), "a millisecond early is still under the mark");
        Assert.That(budget.Allowance(Rate, Burst, resume, Most), Is.EqualTo(ResumeAt));
    }

    [Test]
    public void A_resume_time_is_never_now_even_when_the_budget_is_already_at_the_mark()
    {
        var budget = new ByteBudget();
        budget.Allowance(Rate, Burst, Start, Most);
        budget.Spend(3000, Rate, ResumeAt);

        Assert.That(budget.RefilledAt(Rate, ResumeAt), Is.EqualTo(Start + 1), "at least a millisecond on, or the loop would wake to find nothing to do");
    }

    [Test]
    public void A_receive_that_overdraws_is_paid_back_before_anything_more_is_read()
    {
        var budget = new ByteBudget();
        budget.Allowance(Rate, Burst, Start, Most);
        budget.Spend(5000, Rate, ResumeAt); // TLS can hand over more plaintext than the bytes the allowance let in.

        Assert.That(budget.Allowance(Rate, Burst, Start, Most), Is.Zero, "a debt allows nothing, not a negative count");
        Assert.That(budget.Allowance(Rate, Burst, Start + 1000, Most), Is.Zero, "the first second repays the debt");
        Assert.That(budget.Allowance(Rate, Burst, Start + 1100, Most), Is.EqualTo(100));
    }

    [Test]
    public void Silence_and_refunds_fill_the_budget_no_higher_than_the_burst()
    {
        var budget = new ByteBudget();
        budget.Allowance(Rate, Burst, Start, Most);
        budget.Spend(3000, Rate, ResumeAt);
        budget.Refund(2000, Burst); // File data inside a transfer's window: paced by acknowledgements, not by this budget.
        Assert.That(budget.Allowance(Rate, Burst, Start, Most), Is.EqualTo(3000));
        budget.Refund(100_000, Burst);
        Assert.That(budget.Spend(4000, Rate, ResumeAt), Is.False, "a refund never lifts the budget past the burst: one burst later it is spent");

        Assert.That(budget.Allowance(Rate, Burst, Start + 3_600_000, Most), Is.EqualTo(4000), "nor does an hour of silence");
    }

    [Test]
    public void A_rate_of_zero_is_unlimited()
    {
        var budget = new ByteBudget();

        Assert.That(budget.Allowance(0, Burst, Start, Most), Is.EqualTo(Most));
        Assert.That(budget.Spend(1_000_000, 0, ResumeAt), Is.True);
        Assert.That(budget.Allowance(0, Burst, Start, Most), Is.EqualTo(Most));
    }
}
