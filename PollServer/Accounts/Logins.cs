using System.Text;
using NLog;
using PollChat.Common.Protocol;
using PollChat.Server.Chat;
using PollChat.Server.Loop;
using PollChat.Server.Storage;

namespace PollChat.Server.Accounts;

/// <summary>
/// Accounts: registered names and their passwords, and who may take a registered name. Every
/// account is kept in memory, so the chat can tell at once whether a name needs a login; hashing
/// and checking passwords (slow on purpose) run on <see cref="PasswordWorkers"/>, and the result
/// comes back through the loop's <see cref="ILoop.Post"/>; saving goes through the history
/// writer. A password is never logged,
/// echoed or relayed. A registered name belongs to whoever proves its password: connecting
/// with it while others hold it or wait for it is not refused, and the first right password
/// takes it from them (IRC's REGAIN), so neither a squatter nor a ghost of one's own dropped
/// connection keeps the owner out.
/// </summary>
internal sealed class Logins(ServerOptions options, Users users, Outbox outbox, Lobby lobby, ChatHistory history, AddressLimits addressLimits, IConnections connections, ILoop loop, LoopClock clock, Timers timers) : IDisposable
{
    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    /// <summary>A login deadline no longer applies once the user logged in, or left.</summary>
    private static readonly Func<object?, bool> NoLongerWaiting = state => state is ChatUser { State: not UserState.AwaitingLogin } or ChatUser { LoggedIn: true };

    /// <summary>The login deadline's callback, made once.</summary>
    private Action<object?, long>? _loginDeadline;

    /// <summary>Short passwords fall to guessing even at 600,000 iterations per guess.</summary>
    private const int MinPasswordChars = 8;

    /// <summary>A passphrase fits; a megabyte of "password" to hash 600,000 times does not.</summary>
    private const int MaxPasswordBytes = 256;

    /// <summary>
    /// Connections that may wait to log in to one name at once: the owner's devices and a few
    /// squatters. When that many wait, one of them makes room for a newcomer (see
    /// <see cref="MakeRoomToClaim"/>), so squatters cannot fill the places and keep the owner out.
    /// </summary>
    private const int MaxClaimantsPerName = 8;

    private readonly Dictionary<string, Account> _accounts = new(Confusables.NameComparer); // A look-alike of a registered name needs its password.

    /// <summary>Connections waiting to log in, per registered name, in arrival order: the first to log in takes the name.</summary>
    private readonly Dictionary<string, List<ChatUser>> _claimants = new(Confusables.NameComparer);

    /// <summary>Connections that logged in to a name someone was chatting under, waiting for that ghost's departure to be told (see <see cref="TakeName"/>).</summary>
    private readonly List<(ChatUser Winner, ChatUser Ghost)> _afterGhosts = [];

    private readonly LoginThrottle _loginThrottle = new();
    private PasswordWorkers? _passwordWorkers;

    private PasswordWorkers PasswordWorkers => _passwordWorkers ??= new PasswordWorkers();

    /// <summary>At start, from the history file. Accounts registered before names were compared by look-alike skeleton may clash: the first keeps the name.</summary>
    public void Load(List<Account> accounts)
    {
        foreach (Account account in accounts)
        {
            if (!_accounts.TryAdd(account.Name, account))
            {
                Log.Warn("Account {Name} looks like account {Other} and is not loaded; remove one with 'PollServer account remove'", account.Name, _accounts[account.Name].Name);
            }
        }
    }

    /// <summary>Whether <paramref name="name"/> (or a look-alike of it) is registered: it is then taken by logging in.</summary>
    public bool IsRegistered(string name) => _accounts.ContainsKey(name);

    /// <summary>Whether a user may use the admin commands: logged in to an account marked admin.</summary>
    public bool IsAdmin(ChatUser user) => user.LoggedIn && _accounts.TryGetValue(user.Name!, out Account? account) && account.Admin;

    /// <summary>With the loop's sweep: the throttle forgets failures that have aged out.</summary>
    public void Forget(long now) => _loginThrottle.Forget(now);

    /// <summary>At shutdown: queued password jobs are dropped; one in progress is waited for briefly.</summary>
    public void Dispose() => _passwordWorkers?.Dispose();

    /// <summary>Whether someone holds <paramref name="name"/>, chatting or still logging in.</summary>
    public bool NameInUse(string name, ChatUser? except = null) =>
        (users.TryGet(name, out ChatUser? holder) && holder != except)
        || (_claimants.TryGetValue(name, out List<ChatUser>? waiting) && waiting.Exists(c => c != except));

    /// <summary>
    /// Whether one more connection may wait to log in to <paramref name="name"/>. When
    /// <see cref="MaxClaimantsPerName"/> wait, one makes room: from the address with the most of
    /// them, the longest waiting, and never one whose password is being checked. False only when
    /// every one of them is having a password checked.
    /// </summary>
    public bool MakeRoomToClaim(string name, long now)
    {
        if (!_claimants.TryGetValue(name, out List<ChatUser>? waiting) || waiting.Count < MaxClaimantsPerName)
        {
            return true;
        }

        ChatUser? leaving = null;
        int most = 0;
        foreach (ChatUser claimant in waiting)
        {
            int fromItsAddress = claimant.PasswordWorkPending ? 0 : waiting.Count(c => c.AddressKey == claimant.AddressKey);
            if (fromItsAddress > most)
            {
                (leaving, most) = (claimant, fromItsAddress);
            }
        }

        if (leaving is null)
        {
            return false;
        }

        connections.Close(leaving.Connection, CloseReason.NameReclaimed, Notices.ClaimCrowdedOut(name), now, detail: $"made room for another connection claiming '{name}'");
        return true;
    }

    /// <summary>The name as its holder has it, when someone holds <paramref name="name"/> or a look-alike of it (chatting, or first in line to log in).</summary>
    public string? HeldName(string name) =>
        users.TryGet(name, out ChatUser? holder) ? holder.Name : _claimants.TryGetValue(name, out List<ChatUser>? waiting) && waiting.Count > 0 ? waiting[0].Name : null;

    /// <summary>A registered name is held, but not used, until its password is proven; others may claim it meanwhile.</summary>
    public void AwaitLogin(ChatUser client, long now)
    {
        if (!_claimants.TryGetValue(client.Name!, out List<ChatUser>? waiting))
        {
            waiting = [];
            _claimants.Add(client.Name!, waiting);
        }

        waiting.Add(client);
        client.LoginDeadline = now + (long)options.LoginTimeout.TotalMilliseconds;
        timers.At(client.LoginDeadline, _loginDeadline ??= (state, at) => LoginDeadlinePassed((ChatUser)state!, at), client, NoLongerWaiting);
        outbox.Notice(client, Notices.LoginRequired(client.Name!, options.LoginTimeout), now);
    }

    /// <summary>Takes a connection that is closing or has logged in out of its name's claimants.</summary>
    public void RemoveClaimant(ChatUser client)
    {
        if (client.State == UserState.AwaitingLogin && _claimants.TryGetValue(client.Name!, out List<ChatUser>? waiting) && waiting.Remove(client) && waiting.Count == 0)
        {
            _claimants.Remove(client.Name!);
        }
    }

    /// <summary>A connection's time to log in is up: dropped, unless it logged in (it may be waiting for a ghost's goodbye, see <see cref="TakeName"/>).</summary>
    private void LoginDeadlinePassed(ChatUser client, long now)
    {
        if (client.State == UserState.AwaitingLogin && !client.LoggedIn)
        {
            connections.Close(client.Connection, CloseReason.LoginTimeout, Notices.LoginTimeout(options.LoginTimeout), now);
        }
    }

    public void Login(ChatUser client, string password, long now)
    {
        string name = client.Name!;
        if (client.LoggedIn)
        {
            outbox.Error(client, Notices.AlreadyLoggedIn(name), now);
            return;
        }

        if (!_accounts.TryGetValue(name, out Account? account))
        {
            outbox.Error(client, Notices.NotRegistered(name), now);
            return;
        }

        if (password.Length == 0)
        {
            outbox.Error(client, Notices.LoginUsage, now);
            return;
        }

        if (RefusedForThrottling(client, now))
        {
            return;
        }

        StartPasswordWork(client, () => account.Password.Matches(password), matches => FinishLogin(client, account, matches), now);
    }

    private void FinishLogin(ChatUser client, Account account, bool matches)
    {
        long now = clock.Now;
        if (client.State == UserState.Left || !IsNameOf(client, account))
        {
            return;
        }

        if (!matches)
        {
            CountFailedLogin(client, now);
            outbox.Error(client, Notices.LoginFailed, now);
            return;
        }

        _loginThrottle.Succeeded(account.Name, client.AddressKey);
        client.LoggedIn = true;
        Log.Info("#{Id} {User} logged in", client.Id, client.Name);
        outbox.Notice(client, Notices.LoggedIn(client.Name!), now);
        if (client.State == UserState.AwaitingLogin)
        {
            TakeName(client, now);
        }
    }

    /// <summary>
    /// A connection that logged in takes its name: the others waiting for it are told and closed,
    /// and a connection chatting under it (a ghost of a dropped connection, or whoever had it) is
    /// told who took it and closed. The winner arrives once the ghost's departure has been told
    /// (the close phase takes it out of its room), at the loop's next turn, so everyone sees the
    /// name leave and then come back, in that order, and rich clients' lists stay right.
    /// </summary>
    private void TakeName(ChatUser winner, long now)
    {
        string name = winner.Name!;
        RemoveClaimant(winner);
        if (_claimants.Remove(name, out List<ChatUser>? losers))
        {
            foreach (ChatUser loser in losers)
            {
                connections.Close(loser.Connection, CloseReason.NameReclaimed, Notices.ClaimLost(name), now, detail: $"#{winner.Id} from {winner.Endpoint} logged in as {name}");
            }
        }

        if (users.TryGet(name, out ChatUser? ghost))
        {
            connections.Close(ghost.Connection, CloseReason.NameReclaimed, Notices.LoggedInElsewhere(name, winner.Endpoint), now, detail: $"#{winner.Id} from {winner.Endpoint} logged in as {name}");
            _afterGhosts.Add((winner, ghost));
            // The winner arrives in this turn's close phase, right after the ghost has left (ArriveAfterGhosts).
            return;
        }

        lobby.Arrive(winner, now);
    }

    /// <summary>Each turn's close phase, after departures are told: winners whose ghost has left its room arrive; had another login taken the name meanwhile, that one leaves in turn.</summary>
    public void ArriveAfterGhosts(long now)
    {
        for (int i = _afterGhosts.Count - 1; i >= 0; i--)
        {
            (ChatUser winner, ChatUser ghost) = _afterGhosts[i];
            if (ghost.Room is not null)
            {
                continue;
            }

            _afterGhosts.RemoveAt(i);
            if (winner.State == UserState.AwaitingLogin)
            {
                TakeName(winner, now);
            }
        }
    }

    public void Register(ChatUser client, string password, long now)
    {
        string name = client.Name!;
        string? problem = history.Store is null ? Notices.NoAccountStore
            : _accounts.ContainsKey(name) ? Notices.AlreadyRegistered(name)
            : PasswordProblem(password);
        if (problem is not null)
        {
            outbox.Error(client, Notices.NotRegisteredBecause(problem), now);
            return;
        }

        if (!client.PasswordWorkPending && !addressLimits.TryRegister(client.AddressKey, now, out long wait))
        {
            outbox.Error(client, Notices.TooManyRegistrations(wait), now);
            return;
        }

        StartPasswordWork(client, () => PasswordHash.Create(password), hash => FinishRegister(client, name, hash), now, registration: true);
    }

    private void FinishRegister(ChatUser client, string name, PasswordHash hash)
    {
        long now = clock.Now;
        if (client.State != UserState.Chatting || client.Name != name || _accounts.ContainsKey(name))
        {
            return; // Renamed, gone, or someone else registered it meanwhile.
        }

        SaveAccount(new Account(name, hash, Admin: false));
        client.LoggedIn = true;
        Log.Info("#{Id} {User} registered the name", client.Id, name);
        outbox.Notice(client, Notices.Registered(name), now);
    }

    public void ChangePassword(ChatUser client, string args, long now)
    {
        string[] parts = args.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!LoggedInAccount(client, now, out Account? account))
        {
            return;
        }

        string? problem = parts.Length != 2 ? Notices.PasswdUsage : PasswordProblem(parts[1]);
        if (problem is not null)
        {
            outbox.Error(client, Notices.PasswordNotChanged(problem), now);
            return;
        }

        if (RefusedForThrottling(client, now))
        {
            return;
        }

        (string oldPassword, string newPassword) = (parts[0], parts[1]);
        StartPasswordWork(client, () => account.Password.Matches(oldPassword) ? PasswordHash.Create(newPassword) : null, hash =>
        {
            long at = clock.Now;
            if (client.State != UserState.Chatting || !IsNameOf(client, account))
            {
                return;
            }

            if (hash is null)
            {
                CountFailedLogin(client, at);
                outbox.Error(client, Notices.PasswordNotChangedWrongPassword, at);
                return;
            }

            SaveAccount(account with { Password = hash });
            outbox.Notice(client, Notices.PasswordChanged, at);
        }, now);
    }

    public void Unregister(ChatUser client, string password, long now)
    {
        if (!LoggedInAccount(client, now, out Account? account))
        {
            return;
        }

        if (password.Length == 0)
        {
            outbox.Error(client, Notices.UnregisterUsage, now);
            return;
        }

        if (RefusedForThrottling(client, now))
        {
            return;
        }

        StartPasswordWork(client, () => account.Password.Matches(password), matches =>
        {
            long at = clock.Now;
            if (client.State != UserState.Chatting || !IsNameOf(client, account))
            {
                return;
            }

            if (!matches)
            {
                CountFailedLogin(client, at);
                outbox.Error(client, Notices.NotUnregisteredWrongPassword, at);
                return;
            }

            _accounts.Remove(account.Name);
            history.Save(database => database.DeleteAccount(account.Name));
            client.LoggedIn = false;
            Log.Info("#{Id} {User} unregistered the name", client.Id, account.Name);
            outbox.Notice(client, Notices.Unregistered(account.Name), at);
        }, now);
    }

    /// <summary>
    /// Runs slow password work off the loop, one job per client at a time and at most
    /// <see cref="AddressLimits.PasswordJobsInFlight"/> per address with the workers (the rest wait
    /// their turn in order), and its ending back on the loop. A registration may not take the
    /// workers' last places, which are kept for logins.
    /// </summary>
    private void StartPasswordWork<T>(ChatUser client, Func<T> work, Action<T> finish, long now, bool registration = false)
    {
        if (client.PasswordWorkPending)
        {
            outbox.Error(client, Notices.PasswordStillBeingChecked, now);
            return;
        }

        client.PasswordWorkPending = true;
        string address = client.AddressKey;
        addressLimits.RunPasswordJob(address, () =>
        {
            if (client.State == UserState.Left)
            {
                client.PasswordWorkPending = false;
                return false; // Gone while waiting for its turn: nothing to hash for.
            }

            if (registration ? PasswordWorkers.TryRunRegistration(work, Done) : PasswordWorkers.TryRun(work, Done))
            {
                return true;
            }

            client.PasswordWorkPending = false;
            outbox.Error(client, Notices.PasswordWorkersBusy, clock.Now);
            return false;
        });

        void Done(T result) => loop.Post(() =>
        {
            client.PasswordWorkPending = false;
            addressLimits.PasswordJobDone(address, clock.Now);
            finish(result);
        });
    }

    private bool LoggedInAccount(ChatUser client, long now, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Account? account)
    {
        if (!_accounts.TryGetValue(client.Name!, out account) || !client.LoggedIn)
        {
            outbox.Error(client, Notices.NotLoggedInToRegisteredName(client.Name!), now);
            account = null;
            return false;
        }

        return true;
    }

    /// <summary>One more try too soon after failures from this address, or at a name being guessed at from many: refused with how long to wait.</summary>
    private bool RefusedForThrottling(ChatUser client, long now)
    {
        LoginThrottle.Hold hold = _loginThrottle.TryStart(client.Name!, client.AddressKey, now, out long wait);
        if (hold == LoginThrottle.Hold.None)
        {
            return false;
        }

        outbox.Error(client, hold == LoginThrottle.Hold.Name ? Notices.NameGuessedAt(client.Name!, wait) : Notices.WrongPasswordsWait(wait), now);
        return true;
    }

    private void CountFailedLogin(ChatUser client, long now)
    {
        _loginThrottle.Failed(client.Name!, client.AddressKey, now);
        Log.Info("#{Id} {User} from {Endpoint}: wrong password", client.Id, client.Name, client.Endpoint);
    }

    private void SaveAccount(Account account)
    {
        _accounts[account.Name] = account;
        history.Save(database => database.SaveAccount(account));
    }

    private static string? PasswordProblem(string password) =>
        password.Length < MinPasswordChars ? Notices.PasswordTooShort(MinPasswordChars)
        : Encoding.UTF8.GetByteCount(password) > MaxPasswordBytes ? Notices.PasswordTooLong(MaxPasswordBytes)
        : null;

    /// <summary>Whether the client still holds the account's name (names match in any case); a rename while a password was checked cancels the result.</summary>
    private static bool IsNameOf(ChatUser client, Account account) => string.Equals(client.Name, account.Name, StringComparison.OrdinalIgnoreCase);
}
