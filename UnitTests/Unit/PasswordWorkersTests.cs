using PollChat.Server.Accounts;

namespace PollChat.Tests.Unit;

/// <summary>The password workers' queue: registrations never take the places kept for logins.</summary>
[TestFixture]
public sealed class PasswordWorkersTests
{
    [Test]
    public void Registrations_stop_short_of_the_places_kept_for_logins()
    {
        using var gate = new ManualResetEventSlim();
        int done = 0;
        using (var workers = new PasswordWorkers())
        {
            try
            {
                int registrations = 0;
                while (registrations <= PasswordWorkers.MaxQueued && workers.TryRunRegistration(() => gate.Wait(Timeout.Infinite), _ => Interlocked.Increment(ref done)))
                {
                    registrations++;
                }

                int logins = 0;
                while (logins <= PasswordWorkers.MaxQueued && workers.TryRun(() => gate.Wait(Timeout.Infinite), _ => Interlocked.Increment(ref done)))
                {
                    logins++;
                }

                Assert.That(registrations, Is.InRange(PasswordWorkers.MaxQueued - PasswordWorkers.ReservedForLogins, PasswordWorkers.MaxQueued - PasswordWorkers.ReservedForLogins + Environment.ProcessorCount), "the queue's share, plus those the workers took at once");
                Assert.That(logins, Is.EqualTo(PasswordWorkers.ReservedForLogins), "the kept places are all there for logins");
            }
            finally
            {
                gate.Set();
            }
        }
    }
}
