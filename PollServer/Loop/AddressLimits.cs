using System.Net;
using System.Net.Sockets;

namespace PollChat.Server.Loop;

/// <summary>
/// What one network address may take of the server: connections at once, new connections a
/// minute, registrations, and password work with the workers (loop thread only). It counts and
/// answers; <see cref="ChatServer"/> refuses, tells and closes. An IPv6 peer counts by its /64,
/// because one host is usually given a whole /64. Each accept and each close is one dictionary
/// look-up; an address is forgotten once it holds nothing and its buckets have refilled, at its
/// close or at the next <see cref="Sweep"/>. Loopback is no exception: each 127.0.0.x is an address.
/// </summary>
internal sealed class AddressLimits
{
    /// <summary>Registrations one address may make at once: everyone on a full NAT (<see cref="ServerOptions.DefaultMaxPerAddress"/>) can register in the same minute.</summary>
    public const int RegistrationBurst = 20;

    /// <summary>After the burst, one registration a minute per address: a person registers once; a script making hundreds of accounts gets nowhere, and costs the hashing workers little.</summary>
    public const double RegistrationsPerMinute = 1;

    /// <summary>
    /// Password jobs one address may have with the workers at once; its others wait, in order, on
    /// the loop. One being hashed and one ready: no address holds more than two places ahead of
    /// another's login, and a NAT of people logging in after a restart is slowed, not refused.
    /// </summary>
    public const int PasswordJobsInFlight = 2;

    /// <summary>An address being refused is logged when it starts, then with a count at most this often: one line a minute, not one per connection.</summary>
    public const long RefusalReportMilliseconds = 60_000;

    private readonly int _maxAtOnce;
    private readonly double _connectsPerMinute;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _forgotten = [];

    /// <param name="maxAtOnce">Connections at once per address; 0 for no limit.</param>
    /// <param name="connectsPerMinute">New connections a minute per address, in bursts of as many; 0 for no limit.</param>
    public AddressLimits(int maxAtOnce, int connectsPerMinute)
    {
        _maxAtOnce = maxAtOnce;
        _connectsPerMinute = connectsPerMinute;
    }

    /// <summary>Why a connection was not admitted.</summary>
    public enum Refusal
    {
        None,

        /// <summary>The address holds the most connections it may.</summary>
        TooMany,

        /// <summary>The address opened connections faster than it may.</summary>
        TooFast,
    }

    /// <summary>Addresses currently remembered, for tests and the counters.</summary>
    public int Count => _entries.Count;

    /// <summary>What the limits count a peer as: its IPv4 address (also when mapped into IPv6), or its IPv6 /64.</summary>
    public static string KeyOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }

    /// <summary>What the limits count the peer of an accepted socket as; "unknown" if it has no address any more.</summary>
    public static string KeyOf(Socket socket) => socket.RemoteEndPoint is IPEndPoint remote ? KeyOf(remote.Address) : "unknown";

    /// <summary>Counts a new connection from <paramref name="key"/>, or says why it may not come in (and, when too fast, in how many milliseconds one may).</summary>
    public Refusal TryConnect(string key, long now, out long waitMilliseconds)
    {
        waitMilliseconds = 0;
        Entry entry = EntryOf(key);
        if (_maxAtOnce > 0 && entry.Connections >= _maxAtOnce)
        {
            return Refusal.TooMany;
        }

        if (_connectsPerMinute > 0 && !entry.Connects.TryTake(_connectsPerMinute, _connectsPerMinute, now, out waitMilliseconds))
        {
            return Refusal.TooFast;
        }

        entry.Connections++;
        return Refusal.None;
    }

    /// <summary>A connection counted by <see cref="TryConnect"/> is gone.</summary>
    public void Closed(string key, long now)
    {
        if (_entries.TryGetValue(key, out Entry? entry))
        {
            entry.Connections--;
            ForgetIfIdle(key, entry, now);
        }
    }

    /// <summary>Takes one of the address's registrations; false with the wait in milliseconds if it has made too many lately.</summary>
    public bool TryRegister(string key, long now, out long waitMilliseconds) =>
        EntryOf(key).Registrations.TryTake(RegistrationBurst, RegistrationsPerMinute, now, out waitMilliseconds);

    /// <summary>
    /// Runs <paramref name="start"/> now if the address has fewer than <see cref="PasswordJobsInFlight"/>
    /// jobs out, or when one of them is done. <paramref name="start"/> returns whether it handed a job
    /// to the workers (not if its client is gone or the workers are full); each one it handed must
    /// be answered with one <see cref="PasswordJobDone"/>.
    /// </summary>
    public void RunPasswordJob(string key, Func<bool> start)
    {
        Entry entry = EntryOf(key);
        if (entry.PasswordJobs < PasswordJobsInFlight)
        {
            if (start())
            {
                entry.PasswordJobs++;
            }

            return;
        }

        (entry.WaitingJobs ??= new Queue<Func<bool>>()).Enqueue(start);
    }

    /// <summary>One of the address's jobs came back: the next waiting one starts.</summary>
    public void PasswordJobDone(string key, long now)
    {
        if (!_entries.TryGetValue(key, out Entry? entry))
        {
            return;
        }

        entry.PasswordJobs--;
        while (entry.PasswordJobs < PasswordJobsInFlight && entry.WaitingJobs is { Count: > 0 } waiting)
        {
            if (waiting.Dequeue()())
            {
                entry.PasswordJobs++;
            }
        }

        ForgetIfIdle(key, entry, now);
    }

    /// <summary>Password jobs of the address waiting for their turn on the loop (not yet with the workers).</summary>
    public int WaitingPasswordJobs(string key) => _entries.TryGetValue(key, out Entry? entry) ? entry.WaitingJobs?.Count ?? 0 : 0;

    /// <summary>Counts a refused connection; true for the first of a run, which the caller logs. The rest are told by <see cref="Sweep"/> with a count.</summary>
    public bool CountRefusal(string key, long now)
    {
        Entry entry = EntryOf(key);
        if (entry.Refusing)
        {
            entry.RefusedSinceReport++;
            return false;
        }

        entry.Refusing = true;
        entry.ReportedAt = now;
        entry.RefusedSinceReport = 0;
        return true;
    }

    /// <summary>
    /// Every few seconds: reports each address still being refused, at most once per
    /// <see cref="RefusalReportMilliseconds"/>, with how many were refused since (a run ends
    /// with a report period without refusals), and forgets idle addresses.
    /// </summary>
    public void Sweep(long now, Action<string, int, long> reportRefused)
    {
        foreach ((string key, Entry entry) in _entries)
        {
            if (entry.Refusing && now - entry.ReportedAt >= RefusalReportMilliseconds)
            {
                if (entry.RefusedSinceReport > 0)
                {
                    reportRefused(key, entry.RefusedSinceReport, now - entry.ReportedAt);
                    entry.RefusedSinceReport = 0;
                    entry.ReportedAt = now;
                }
                else
                {
                    entry.Refusing = false;
                }
            }

            if (IsIdle(entry, now))
            {
                _forgotten.Add(key);
            }
        }

        foreach (string key in _forgotten)
        {
            _entries.Remove(key);
        }

        _forgotten.Clear();
    }

    private Entry EntryOf(string key)
    {
        if (!_entries.TryGetValue(key, out Entry? entry))
        {
            entry = new Entry();
            _entries.Add(key, entry);
        }

        return entry;
    }

    private void ForgetIfIdle(string key, Entry entry, long now)
    {
        if (IsIdle(entry, now))
        {
            _entries.Remove(key);
        }
    }

    /// <summary>Holding nothing, owing no report, and with buckets as full as a stranger's: forgetting it changes nothing.</summary>
    private bool IsIdle(Entry entry, long now) =>
        entry.Connections == 0 && entry.PasswordJobs == 0 && entry.WaitingJobs is not { Count: > 0 } && !entry.Refusing
        && entry.Connects.IsFull(_connectsPerMinute, _connectsPerMinute, now) && entry.Registrations.IsFull(RegistrationBurst, RegistrationsPerMinute, now);

    /// <summary>One address's counts; a class because the dictionary hands it out to be changed in place.</summary>
    private sealed class Entry
    {
        /// <summary>Connections admitted and not yet removed.</summary>
        public int Connections;

        /// <summary>New connections; a field, not a property, because it is a mutable struct.</summary>
        public Bucket Connects;

        /// <summary>Registrations, a mutable struct like <see cref="Connects"/>.</summary>
        public Bucket Registrations;

        /// <summary>Jobs handed to the password workers and not yet back.</summary>
        public int PasswordJobs;

        /// <summary>Jobs waiting for one of <see cref="PasswordJobs"/> to come back; null until the first has to wait.</summary>
        public Queue<Func<bool>>? WaitingJobs;

        /// <summary>A run of refusals is going on: its first was logged.</summary>
        public bool Refusing;

        /// <summary>When the run started or was last reported (loop milliseconds).</summary>
        public long ReportedAt;

        /// <summary>Refusals since then, not yet logged.</summary>
        public int RefusedSinceReport;
    }

    /// <summary>A token bucket that starts full: <c>capacity</c> at once, refilled at <c>perMinute</c>.</summary>
    private struct Bucket
    {
        private double _tokens;
        private long _at;
        private bool _used;

        public bool TryTake(double capacity, double perMinute, long now, out long waitMilliseconds)
        {
            Refill(capacity, perMinute, now);
            if (_tokens >= 1)
            {
                _tokens -= 1;
                waitMilliseconds = 0;
                return true;
            }

            waitMilliseconds = (long)Math.Ceiling((1 - _tokens) * 60_000 / perMinute);
            return false;
        }

        public readonly bool IsFull(double capacity, double perMinute, long now) =>
            !_used || perMinute <= 0 || _tokens + ((now - _at) * perMinute / 60_000) >= capacity;

        private void Refill(double capacity, double perMinute, long now)
        {
            _tokens = _used ? Math.Min(capacity, _tokens + ((now - _at) * perMinute / 60_000)) : capacity;
            _used = true;
            _at = now;
        }
    }
}
