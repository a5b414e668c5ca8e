using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using NLog;

namespace PollChat.Server.Accounts;

/// <summary>A stored password: salt, PBKDF2-HMAC-SHA256 output and the iteration count it was made with.</summary>
internal sealed record PasswordHash(byte[] Salt, byte[] Hash, int Iterations)
{
    /// <summary>OWASP's 2023 figure for PBKDF2-HMAC-SHA256: about a third of a second on one core here, so guessing is slow and logging in is not.</summary>
    public const int DefaultIterations = 600_000;

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>Slow on purpose: call it off the loop thread.</summary>
    public static PasswordHash Create(string password, int iterations = DefaultIterations)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return new PasswordHash(salt, Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes), iterations);
    }

    /// <summary>Slow on purpose: call it off the loop thread. Compares in constant time.</summary>
    public bool Matches(string password) =>
        CryptographicOperations.FixedTimeEquals(Hash, Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Salt, Iterations, HashAlgorithmName.SHA256, Hash.Length));
}

/// <summary>
/// Where the slow password work runs: a few threads of their own, never the loop and never the
/// whole machine. With one core left free, a burst of logins slows other logins, not the chat.
/// Each job's result is handed to a callback that the caller makes post back to the loop.
/// </summary>
internal sealed class PasswordWorkers : IDisposable
{
    /// <summary>A queue longer than this is a login flood; further requests are refused at once rather than queued for minutes.</summary>
    public const int MaxQueued = 256;

    /// <summary>The last places of the queue, which registrations may not take: however many accounts are being made, logins always find room.</summary>
    public const int ReservedForLogins = 64;

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    /// <summary>One hash takes a fraction of a second; this is many of them, and still a shutdown that feels prompt.</summary>
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(3);

    private readonly BlockingCollection<Action> _jobs = new(MaxQueued);
    private readonly Thread[] _threads;

    public PasswordWorkers()
    {
        // All cores but one: the loop keeps a core to itself however many people log in at once.
        _threads = new Thread[Math.Max(1, Environment.ProcessorCount - 1)];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"password worker {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Queues <paramref name="work"/>; its result goes to <paramref name="done"/> on a worker thread. False if the queue is full.</summary>
    public bool TryRun<T>(Func<T> work, Action<T> done) => _jobs.TryAdd(() => done(work()));

    /// <summary>As <see cref="TryRun"/> for a registration: false also while no more than <see cref="ReservedForLogins"/> places are free. Called from one thread (the loop), so the count cannot change under it but for workers taking jobs.</summary>
    public bool TryRunRegistration<T>(Func<T> work, Action<T> done) => _jobs.Count < MaxQueued - ReservedForLogins && TryRun(work, done);

    /// <summary>
    /// Stops at shutdown without doing the queue: jobs not started are dropped (their connections
    /// are closing anyway), and only the one hash each worker may be in the middle of is waited for.
    /// </summary>
    public void Dispose()
    {
        _jobs.CompleteAdding();
        while (_jobs.TryTake(out _))
        {
        }

        bool allStopped = true;
        foreach (Thread thread in _threads)
        {
            allStopped &= thread.Join(JoinTimeout);
        }

        if (allStopped)
        {
            _jobs.Dispose(); // A worker still hashing would next touch the queue: it is left to the finalizer instead.
        }
        else
        {
            Log.Warn("A password worker was still busy {Seconds} s into the shutdown; exiting without it", JoinTimeout.TotalSeconds);
        }
    }

    private void Work()
    {
        foreach (Action job in _jobs.GetConsumingEnumerable())
        {
            try
            {
                job();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.Error(e, "A password job failed");
            }
        }
    }
}
