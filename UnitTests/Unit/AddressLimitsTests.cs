using System.Net;
using PollChat.Server;

namespace PollChat.Tests.Unit;

/// <summary>The per-address limits on their own, with a fake clock.</summary>
[TestFixture]
public sealed class AddressLimitsTests
{
    [Test]
    public void An_address_holding_its_limit_is_refused_until_one_of_its_connections_closes()
    {
        var limits = new AddressLimits(maxAtOnce: 3, connectsPerMinute: 0);
        for (int i = 0; i < 3; i++)
        {
            Assert.That(limits.TryConnect("127.0.0.2", 1_000, out _), Is.EqualTo(AddressLimits.Refusal.None));
        }

        Assert.That(limits.TryConnect("127.0.0.2", 1_000, out _), Is.EqualTo(AddressLimits.Refusal.TooMany));
        Assert.That(limits.TryConnect("127.0.0.3", 1_000, out _), Is.EqualTo(AddressLimits.Refusal.None), "another address counts on its own");
        limits.Closed("127.0.0.2", 1_000);
        Assert.That(limits.TryConnect("127.0.0.2", 1_000, out _), Is.EqualTo(AddressLimits.Refusal.None));
    }

    [Test]
    public void Connects_a_minute_come_in_a_burst_then_one_per_share_of_the_minute()
    {
        var limits = new AddressLimits(maxAtOnce: 0, connectsPerMinute: 6);
        for (int i = 0; i < 6; i++)
        {
            Assert.That(limits.TryConnect("127.0.0.2", 1_000, out _), Is.EqualTo(AddressLimits.Refusal.None));
            limits.Closed("127.0.0.2", 1_000);
        }

        Assert.That(limits.TryConnect("127.0.0.2", 1_000, out long wait), Is.EqualTo(AddressLimits.Refusal.TooFast));
        Assert.That(wait, Is.EqualTo(10_000));
        Assert.That(limits.TryConnect("127.0.0.3", 1_000, out _), Is.EqualTo(AddressLimits.Refusal.None));
        Assert.That(limits.TryConnect("127.0.0.2", 11_000, out _), Is.EqualTo(AddressLimits.Refusal.None));
        Assert.That(limits.TryConnect("127.0.0.2", 11_000, out _), Is.EqualTo(AddressLimits.Refusal.TooFast));
    }

    [Test]
    public void IPv4_counts_by_address_also_when_mapped_and_IPv6_by_its_64_bit_prefix()
    {
        Assert.Multiple(() =>
        {
            Assert.That(AddressLimits.KeyOf(IPAddress.Parse("127.0.0.2")), Is.EqualTo("127.0.0.2"));
            Assert.That(AddressLimits.KeyOf(IPAddress.Parse("::ffff:192.168.1.20")), Is.EqualTo("192.168.1.20"));
            Assert.That(AddressLimits.KeyOf(IPAddress.Parse("2001:db8:1:2:aaaa::1")), Is.EqualTo("2001:db8:1:2::/64"));
            Assert.That(AddressLimits.KeyOf(IPAddress.Parse("2001:db8:1:2:ffff:1:2:3")), Is.EqualTo("2001:db8:1:2::/64"));
            Assert.That(AddressLimits.KeyOf(IPAddress.Parse("2001:db8:1:3::1")), Is.EqualTo("2001:db8:1:3::/64"));
        });
    }

    [Test]
    public void A_run_of_refusals_is_logged_at_its_start_then_with_a_count_once_a_minute_until_it_stops()
    {
        var limits = new AddressLimits(maxAtOnce: 1, connectsPerMinute: 0);
        var reports = new List<(string Address, int Count)>();
        limits.TryConnect("127.0.0.2", 1_000, out _);
        Assert.That(limits.CountRefusal("127.0.0.2", 1_000), Is.True, "the first is logged");
        for (int i = 0; i < 99; i++)
        {
            Assert.That(limits.CountRefusal("127.0.0.2", 2_000), Is.False);
        }

        limits.Sweep(30_000, (address, count, _) => reports.Add((address, count)));
        Assert.That(reports, Is.Empty, "not yet a minute");
        limits.Sweep(61_000, (address, count, _) => reports.Add((address, count)));
        Assert.That(reports, Is.EqualTo(new[] { ("127.0.0.2", 99) }));
        limits.Sweep(121_000, (address, count, _) => reports.Add((address, count)));
        Assert.That(reports, Has.Count.EqualTo(1), "a quiet minute ends the run without a line");
        Assert.That(limits.CountRefusal("127.0.0.2", 122_000), Is.True, "a new run is logged again");
    }

    [Test]
    public void An_address_is_forgotten_once_it_holds_nothing_and_its_buckets_are_full_again()
    {
        var limits = new AddressLimits(maxAtOnce: 5, connectsPerMinute: 60);
        limits.TryConnect("127.0.0.2", 1_000, out _);
        limits.Closed("127.0.0.2", 1_000);
        Assert.That(limits.Count, Is.EqualTo(1), "a connect is owed back to its bucket");
        limits.Sweep(2_000, (_, _, _) => { });
        Assert.That(limits.Count, Is.Zero, "a second later it is");
    }

    [Test]
    public void Two_password_jobs_per_address_go_to_the_workers_and_the_rest_wait_in_order()
    {
        var limits = new AddressLimits(maxAtOnce: 0, connectsPerMinute: 0);
        var started = new List<int>();
        for (int i = 1; i <= 5; i++)
        {
            int job = i;
            limits.RunPasswordJob("127.0.0.2", () =>
            {
                if (job == 3)
                {
                    return false; // Its client left while it waited.
                }

                started.Add(job);
                return true;
            });
        }

        limits.RunPasswordJob("127.0.0.3", () =>
        {
            started.Add(100);
            return true;
        });
        Assert.That(string.Join(",", started), Is.EqualTo("1,2,100"));
        Assert.That(limits.WaitingPasswordJobs("127.0.0.2"), Is.EqualTo(3));
        limits.PasswordJobDone("127.0.0.2", 1_000);
        Assert.That(string.Join(",", started), Is.EqualTo("1,2,100,4"), "job 3 was skipped, 4 took its place");
        limits.PasswordJobDone("127.0.0.2", 1_000);
        limits.PasswordJobDone("127.0.0.2", 1_000);
        limits.PasswordJobDone("127.0.0.2", 1_000);
        Assert.That(string.Join(",", started), Is.EqualTo("1,2,100,4,5"));
        Assert.That(limits.WaitingPasswordJobs("127.0.0.2"), Is.Zero);
    }

    [Test]
    public void Registrations_come_in_a_burst_then_one_a_minute()
    {
        var limits = new AddressLimits(maxAtOnce: 0, connectsPerMinute: 0);
        for (int i = 0; i < AddressLimits.RegistrationBurst; i++)
        {
            Assert.That(limits.TryRegister("127.0.0.2", 1_000, out _), Is.True);
        }

        Assert.That(limits.TryRegister("127.0.0.2", 1_000, out long wait), Is.False);
        Assert.That(wait, Is.EqualTo(60_000));
        Assert.That(limits.TryRegister("127.0.0.3", 1_000, out _), Is.True);
        Assert.That(limits.TryRegister("127.0.0.2", 61_000, out _), Is.True);
        Assert.That(limits.TryRegister("127.0.0.2", 61_000, out _), Is.False);
    }
}
