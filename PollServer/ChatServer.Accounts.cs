using System.Text;
using PollChat.Common.Protocol;
using PollChat.Server.Accounts;
using PollChat.Server.Storage;

namespace PollChat.Server;

/// <summary>
/// Accounts: registered names and their passwords. The loop keeps every account in memory, so
/// it can tell at once whether a name needs a login; hashing and checking passwords (slow on
/// purpose) run on <see cref="PasswordWorkers"/>, and the result comes back through
/// <see cref="Post"/>; saving goes through the history writer. A password is never logged,
/// echoed or relayed. A registered name belongs to whoever proves its password: connecting
/// with it while others hold it or wait for it is not refused, and the first right password
/// takes it from them (IRC's REGAIN), so neither a squatter nor a ghost of one's own dropped
/// connection keeps the owner out.
/// </summary>
public sealed partial class ChatServer
{
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
    private readonly Dictionary<string, List<ClientConnection>> _claimants = new(Confusables.NameComparer);

    /// <summary>Connections that logged in to a name someone was chatting under, waiting for that ghost's departure to be told (see <see cref="TakeName"/>).</summary>
    private readonly List<(ClientConnection Winner, ClientConnection Ghost)> _afterGhosts = [];

    private readonly Queue<ClientConnection> _loginDeadlines = new();
    private readonly LoginThrottle _loginThrottle = new();
    private PasswordWorkers? _passwordWorkers;

    /// <summary>Commands a connection may use before it has logged in to its registered name.</summary>
    private static readonly HashSet<string> AllowedBeforeLogin = new(StringComparer.OrdinalIgnoreCase) { "login", "quit", "help", "rich" };

    private PasswordWorkers PasswordWorkers => _passwordWorkers ??= new PasswordWorkers();

    /// <summary>Whether someone holds <paramref name="name"/>, chatting or still logging in.</summary>
    private bool NameInUse(string name, ClientConnection? except = null) =>
        (_byName.TryGetValue(name, out ClientConnection? holder) && holder != except)
        || (_claimants.TryGetValue(name, out List<ClientConnection>? waiting) && waiting.Exists(c => c != except));

    /// <summary>
    /// Whether one more connection may wait to log in to <paramref name="name"/>. When
    /// <see cref="MaxClaimantsPerName"/> wait, one makes room: from the address with the most of
    /// them, the longest waiting, and never one whose password is being checked. False only when
    /// every one of them is having a password checked.
    /// </summary>
    private bool MakeRoomToClaim(string name, long now)
    {
        if (!_claimants.TryGetValue(name, out List<ClientConnection>? waiting) || waiting.Count < MaxClaimantsPerName)
        {
            return true;
        }

        ClientConnection? leaving = null;
        int most = 0;
        foreach (ClientConnection claimant in waiting)
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

        Disconnect(leaving, CloseReason.NameReclaimed, Notices.ClaimCrowdedOut(name), now, detail: $"made room for another connection claiming '{name}'");
        return true;
    }

    /// <summary>The name as its holder has it, when someone holds <paramref name="name"/> or a look-alike of it (chatting, or first in line to log in).</summary>
    private string? HeldName(string name) =>
        _byName.TryGetValue(name, out ClientConnection? holder) ? holder.Name : _claimants.TryGetValue(name, out List<ClientConnection>? waiting) && waiting.Count > 0 ? waiting[0].Name : null;

    /// <summary>A registered name is held, but not used, until its password is proven; others may claim it meanwhile.</summary>
    private void AwaitLogin(ClientConnection client, long now)
    {
        if (!_claimants.TryGetValue(client.Name!, out List<ClientConnection>? waiting))
        {
            waiting = [];
            _claimants.Add(client.Name!, waiting);
        }

        waiting.Add(client);
        client.LoginDeadline = now + (long)_options.LoginTimeout.TotalMilliseconds;
        _loginDeadlines.Enqueue(client);
        SendNotice(client, Notices.LoginRequired(client.Name!, _options.LoginTimeout), now);
    }

    /// <summary>Takes a connection that is closing or has logged in out of its name's claimants.</summary>
    private void RemoveClaimant(ClientConnection client)
    {
        if (client.State == ClientState.AwaitingLogin && _claimants.TryGetValue(client.Name!, out List<ClientConnection>? waiting) && waiting.Remove(client) && waiting.Count == 0)
        {
            _claimants.Remove(client.Name!);
        }
    }

    private void DropLateLogins(long now)
    {
        ArriveAfterGhosts(now);
        while (_loginDeadlines.TryPeek(out ClientConnection? client) && (client.State != ClientState.AwaitingLogin || client.LoginDeadline <= now))
        {
            _loginDeadlines.Dequeue();
            if (client.State == ClientState.AwaitingLogin && !client.LoggedIn) // A logged-in one is only waiting for a ghost's goodbye (TakeName).
            {
                Disconnect(client, CloseReason.LoginTimeout, Notices.LoginTimeout(_options.LoginTimeout), now);
            }
        }
    }

    private void Login(ClientConnection client, string password, long now)
    {
        string name = client.Name!;
        if (client.LoggedIn)
        {
            SendError(client, $"You are already logged in as {name}", now);
            return;
        }

        if (!_accounts.TryGetValue(name, out Account? account))
        {
            SendError(client, $"{name} is not registered; /register <password> claims it", now);
            return;
        }

        if (password.Length == 0)
        {
            SendError(client, "Usage: /login <password>", now);
            return;
        }

        if (RefusedForThrottling(client, now))
        {
            return;
        }

        StartPasswordWork(client, () => account.Password.Matches(password), matches => FinishLogin(client, account, matches), now);
    }

    private void FinishLogin(ClientConnection client, Account account, bool matches)
    {
        long now = Environment.TickCount64;
        if (client.State == ClientState.Closing || !IsNameOf(client, account))
        {
            return;
        }

        if (!matches)
        {
            CountFailedLogin(client, now);
            SendError(client, "Login failed: wrong password", now);
            return;
        }

        _loginThrottle.Succeeded(account.Name, client.AddressKey);
        client.LoggedIn = true;
        Log.Info("#{Id} {User} logged in", client.Id, client.Name);
        SendNotice(client, $"Logged in as {client.Name}", now);
        if (client.State == ClientState.AwaitingLogin)
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
    private void TakeName(ClientConnection winner, long now)
    {
        string name = winner.Name!;
        RemoveClaimant(winner);
        if (_claimants.Remove(name, out List<ClientConnection>? losers))
        {
            foreach (ClientConnection loser in losers)
            {
                Disconnect(loser, CloseReason.NameReclaimed, Notices.ClaimLost(name), now, detail: $"#{winner.Id} from {winner.Endpoint} logged in as {name}");
            }
        }

        if (_byName.TryGetValue(name, out ClientConnection? ghost))
        {
            Disconnect(ghost, CloseReason.NameReclaimed, Notices.LoggedInElsewhere(name, winner.Endpoint), now, detail: $"#{winner.Id} from {winner.Endpoint} logged in as {name}");
            _afterGhosts.Add((winner, ghost));
            _wake.Wake(); // A next turn at once, not at the next timer or socket event.
            return;
        }

        Arrive(winner, now);
    }

    /// <summary>Each turn (from the timers): winners whose ghost has left its room arrive; had another login taken the name meanwhile, that one leaves in turn.</summary>
    private void ArriveAfterGhosts(long now)
    {
        for (int i = _afterGhosts.Count - 1; i >= 0; i--)
        {
            (ClientConnection winner, ClientConnection ghost) = _afterGhosts[i];
            if (ghost.Room is not null)
            {
                continue;
            }

            _afterGhosts.RemoveAt(i);
            if (winner.State == ClientState.AwaitingLogin)
            {
                TakeName(winner, now);
            }
        }
    }

    private void Register(ClientConnection client, string password, long now)
    {
        string name = client.Name!;
        string? problem = _store is null ? "this server keeps no data directory, so it cannot store accounts"
            : _accounts.ContainsKey(name) ? $"{name} is already registered"
            : PasswordProblem(password);
        if (problem is not null)
        {
            SendError(client, $"Not registered: {problem}", now);
            return;
        }

        if (!client.PasswordWorkPending && !AddressLimits.TryRegister(client.AddressKey, now, out long wait))
        {
            SendError(client, Notices.TooManyRegistrations(wait), now);
            return;
        }

        StartPasswordWork(client, () => PasswordHash.Create(password), hash => FinishRegister(client, name, hash), now, registration: true);
    }

    private void FinishRegister(ClientConnection client, string name, PasswordHash hash)
    {
        long now = Environment.TickCount64;
        if (client.State != ClientState.Chatting || client.Name != name || _accounts.ContainsKey(name))
        {
            return; // Renamed, gone, or someone else registered it meanwhile.
        }

        SaveAccount(new Account(name, hash, Admin: false));
        client.LoggedIn = true;
        Log.Info("#{Id} {User} registered the name", client.Id, name);
        SendNotice(client, $"Registered {name}: from now on this name needs /login <password>. /passwd changes the password, /unregister gives the name up.", now);
    }

    private void ChangePassword(ClientConnection client, string args, long now)
    {
        string[] parts = args.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!LoggedInAccount(client, now, out Account? account))
        {
            return;
        }

        string? problem = parts.Length != 2 ? "usage: /passwd <old password> <new password>" : PasswordProblem(parts[1]);
        if (problem is not null)
        {
            SendError(client, $"Password not changed: {problem}", now);
            return;
        }

        if (RefusedForThrottling(client, now))
        {
            return;
        }

        (string oldPassword, string newPassword) = (parts[0], parts[1]);
        StartPasswordWork(client, () => account.Password.Matches(oldPassword) ? PasswordHash.Create(newPassword) : null, hash =>
        {
            long at = Environment.TickCount64;
            if (client.State != ClientState.Chatting || !IsNameOf(client, account))
            {
                return;
            }

            if (hash is null)
            {
                CountFailedLogin(client, at);
                SendError(client, "Password not changed: wrong password", at);
                return;
            }

            SaveAccount(account with { Password = hash });
            SendNotice(client, "Password changed", at);
        }, now);
    }

    private void Unregister(ClientConnection client, string password, long now)
    {
        if (!LoggedInAccount(client, now, out Account? account))
        {
            return;
        }

        if (password.Length == 0)
        {
            SendError(client, "Usage: /unregister <password>", now);
            return;
        }

        if (RefusedForThrottling(client, now))
        {
            return;
        }

        StartPasswordWork(client, () => account.Password.Matches(password), matches =>
        {
            long at = Environment.TickCount64;
            if (client.State != ClientState.Chatting || !IsNameOf(client, account))
            {
                return;
            }

            if (!matches)
            {
                CountFailedLogin(client, at);
                SendError(client, "Not unregistered: wrong password", at);
                return;
            }

            _accounts.Remove(account.Name);
            _store?.Execute(database => database.DeleteAccount(account.Name));
            client.LoggedIn = false;
            Log.Info("#{Id} {User} unregistered the name", client.Id, account.Name);
            SendNotice(client, $"{account.Name} is no longer registered: anyone may use it when you leave", at);
        }, now);
    }

    /// <summary>
    /// Runs slow password work off the loop, one job per client at a time and at most
    /// <see cref="AddressLimits.PasswordJobsInFlight"/> per address with the workers (the rest wait
    /// their turn in order), and its ending back on the loop. A registration may not take the
    /// workers' last places, which are kept for logins.
    /// </summary>
    private void StartPasswordWork<T>(ClientConnection client, Func<T> work, Action<T> finish, long now, bool registration = false)
    {
        if (client.PasswordWorkPending)
        {
            SendError(client, "Your last password is still being checked; wait for its answer", now);
            return;
        }

        client.PasswordWorkPending = true;
        string address = client.AddressKey;
        AddressLimits.RunPasswordJob(address, () =>
        {
            if (client.State == ClientState.Closing)
            {
                client.PasswordWorkPending = false;
                return false; // Gone while waiting for its turn: nothing to hash for.
            }

            if (registration ? PasswordWorkers.TryRunRegistration(work, Done) : PasswordWorkers.TryRun(work, Done))
            {
                return true;
            }

            client.PasswordWorkPending = false;
            SendError(client, Notices.PasswordWorkersBusy, Environment.TickCount64);
            return false;
        });

        void Done(T result) => Post(() =>
        {
            client.PasswordWorkPending = false;
            AddressLimits.PasswordJobDone(address, Environment.TickCount64);
            finish(result);
        });
    }

    private bool LoggedInAccount(ClientConnection client, long now, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Account? account)
    {
        if (!_accounts.TryGetValue(client.Name!, out account) || !client.LoggedIn)
        {
            SendError(client, $"{client.Name} is not a registered name you are logged in to", now);
            account = null;
            return false;
        }

        return true;
    }

    /// <summary>One more try too soon after failures from this address, or at a name being guessed at from many: refused with how long to wait.</summary>
    private bool RefusedForThrottling(ClientConnection client, long now)
    {
        LoginThrottle.Hold hold = _loginThrottle.TryStart(client.Name!, client.AddressKey, now, out long wait);
        if (hold == LoginThrottle.Hold.None)
        {
            return false;
        }

        SendError(client, hold == LoginThrottle.Hold.Name ? Notices.NameGuessedAt(client.Name!, wait) : Notices.WrongPasswordsWait(wait), now);
        return true;
    }

    private void CountFailedLogin(ClientConnection client, long now)
    {
        _loginThrottle.Failed(client.Name!, client.AddressKey, now);
        Log.Info("#{Id} {User} from {Endpoint}: wrong password", client.Id, client.Name, client.Endpoint);
    }

    private void SaveAccount(Account account)
    {
        _accounts[account.Name] = account;
        _store?.Execute(database => database.SaveAccount(account));
    }

    private static string? PasswordProblem(string password) =>
        password.Length < MinPasswordChars ? $"a password needs at least {MinPasswordChars} characters"
        : Encoding.UTF8.GetByteCount(password) > MaxPasswordBytes ? $"a password may have at most {MaxPasswordBytes} bytes"
        : null;

    /// <summary>Whether the client still holds the account's name (names match in any case); a rename while a password was checked cancels the result.</summary>
    private static bool IsNameOf(ClientConnection client, Account account) => string.Equals(client.Name, account.Name, StringComparison.OrdinalIgnoreCase);
}
