namespace PollChat.Server.Accounts;

/// <summary>
/// Wrong passwords, counted so that guessing is slow and the owner is never shut out from
/// elsewhere (loop thread only; time is passed in, so it is tested with a fake clock).
/// <list type="bullet">
/// <item>Per name and address: <see cref="FreeFailures"/> are free, because people mistype; then each
/// failure doubles the wait before that address's next try at that name, from 1 s up to
/// <see cref="MaxWaitMilliseconds"/>. This is what a guesser meets, and it never touches the owner
/// on another address.</item>
/// <item>Per address, over all names: <see cref="AddressFreeFailures"/> are free (a class behind one
/// NAT mistyping), then the same doubling: one host cannot try three passwords on every name.</item>
/// <item>Per name, over all addresses, the ceiling against guessing from many addresses: once the
/// name has had <see cref="NameFreeFailures"/> failures, addresses that have used up their free
/// failures on it share one turn at a time, each turn twice as far from the last, up to
/// <see cref="NameMaxWaitMilliseconds"/>. An address that has not (the owner's, typically) is
/// never held by it, so the owner logs in at once from a fresh address however hard the name is
/// guessed at; guessers get their few free tries per new address and one turn a minute besides.</item>
/// </list>
/// A success clears the count of its name and address only: the name's and the address's go on
/// until they have been quiet for an hour, so an owner logging in does not give guessers a fresh start.
/// </summary>
internal sealed class LoginThrottle
{
    /// <summary>Mistyped passwords that cost nothing, per name and address.</summary>
    public const int FreeFailures = 3;

    /// <summary>Online guessing at one try per five minutes gets nowhere; an owner who forgot waits at most this long.</summary>
    public const long MaxWaitMilliseconds = 5 * 60_000;

    /// <summary>Failures one address may have over all names before it waits: a NAT of people each mistyping once or twice.</summary>
    public const int AddressFreeFailures = 10;

    /// <summary>Failures on one name, from everywhere, before its ceiling holds back the addresses that keep failing: well above an owner's own typos.</summary>
    public const int NameFreeFailures = 10;

    /// <summary>Under a sustained attack, the addresses that already failed on a name get one try a minute at it between them.</summary>
    public const long NameMaxWaitMilliseconds = 60_000;

    /// <summary>Entries idle this long are forgotten, so the tables do not grow with every address that ever failed.</summary>
    private const long ForgetAfterMilliseconds = 60 * 60_000;

    private readonly Dictionary<string, (int Failures, long Until)> _pairs = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (int Failures, long Until)> _addresses = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (int Failures, long Until)> _names = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Why <see cref="TryStart"/> refused.</summary>
    public enum Hold
    {
        None,

        /// <summary>This address failed too often, at this name or at any.</summary>
        Address,

        /// <summary>The name is being guessed at from many addresses, and this one has failed at it before.</summary>
        Name,
    }

    /// <summary>
    /// Whether a password try for <paramref name="name"/> from <paramref name="address"/> may go
    /// ahead now. If so it counts as started (under the name's ceiling it takes the name's turn);
    /// if not, <paramref name="waitMilliseconds"/> says how long until it may.
    /// </summary>
    public Hold TryStart(string name, string address, long now, out long waitMilliseconds)
    {
        string pair = PairKey(name, address);
        waitMilliseconds = Math.Max(WaitOf(_pairs, pair, now), WaitOf(_addresses, address, now));
        if (waitMilliseconds > 0)
        {
            return Hold.Address;
        }

        bool knownGuesser = _pairs.TryGetValue(pair, out var mine) && mine.Failures >= FreeFailures;
        if (!knownGuesser || !_names.TryGetValue(name, out var named) || named.Failures < NameFreeFailures)
        {
            return Hold.None;
        }

        if (named.Until > now)
        {
            waitMilliseconds = named.Until - now;
            return Hold.Name;
        }

        _names[name] = (named.Failures, now + Doubling(named.Failures - NameFreeFailures, NameMaxWaitMilliseconds));
        return Hold.None;
    }

    /// <summary>A password tried for <paramref name="name"/> from <paramref name="address"/> was wrong.</summary>
    public void Failed(string name, string address, long now)
    {
        CountFailure(_pairs, PairKey(name, address), FreeFailures, MaxWaitMilliseconds, now);
        CountFailure(_addresses, address, AddressFreeFailures, MaxWaitMilliseconds, now);
        int failures = _names.TryGetValue(name, out var named) ? named.Failures + 1 : 1;
        _names[name] = (failures, Math.Max(named.Until, now)); // The name's turn is taken by tries, not failures; Until also dates the entry.
    }

    /// <summary>The right password came from <paramref name="address"/>: its mistakes on this name are forgiven.</summary>
    public void Succeeded(string name, string address) => _pairs.Remove(PairKey(name, address));

    /// <summary>Drops entries that have been idle for an hour.</summary>
    public void Forget(long now)
    {
        ForgetIn(_pairs, now);
        ForgetIn(_addresses, now);
        ForgetIn(_names, now);
    }

    /// <summary>How many names, addresses and pairs are remembered, for tests.</summary>
    public int Count => _pairs.Count + _addresses.Count + _names.Count;

    private static string PairKey(string name, string address) => name + "\n" + address;

    private static long WaitOf(Dictionary<string, (int Failures, long Until)> table, string key, long now) =>
        table.TryGetValue(key, out var entry) && entry.Until > now ? entry.Until - now : 0;

    private static void CountFailure(Dictionary<string, (int Failures, long Until)> table, string key, int free, long maxWait, long now)
    {
        int failures = table.TryGetValue(key, out var entry) ? entry.Failures + 1 : 1;
        table[key] = (failures, now + (failures <= free ? 0 : Doubling(failures - free - 1, maxWait)));
    }

    /// <summary>1 s, 2 s, 4 s... for the 0th, 1st, 2nd... step, up to <paramref name="max"/>.</summary>
    private static long Doubling(int step, long max) => Math.Min(max, 1000L << Math.Min(20, step));

    private static void ForgetIn(Dictionary<string, (int Failures, long Until)> table, long now)
    {
        foreach (string key in table.Where(e => e.Value.Until < now - ForgetAfterMilliseconds).Select(e => e.Key).ToList())
        {
            table.Remove(key);
        }
    }
}
