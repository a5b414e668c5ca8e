using System.Text;
using PollChat.Server.Accounts;
using PollChat.Server.Storage;

namespace PollChat.Server;

/// <summary>
/// Accounts: registered names and their passwords. The loop keeps every account in memory, so
/// it can tell at once whether a name needs a login; hashing and checking passwords (slow on
/// purpose) run on <see cref="PasswordWorkers"/>, and the result comes back through
/// <see cref="Post"/>; saving goes through the history writer. A password is never logged,
/// echoed or relayed.
/// </summary>
public sealed partial class ChatServer
{
    /// <summary>Short passwords fall to guessing even at 600,000 iterations per guess.</summary>
    private const int MinPasswordChars = 8;

    /// <summary>A passphrase fits; a megabyte of "password" to hash 600,000 times does not.</summary>
    private const int MaxPasswordBytes = 256;

    private readonly Dictionary<string, Account> _accounts = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, ClientConnection> _awaitingLogin = new(StringComparer.OrdinalIgnoreCase);
    private readonly Queue<ClientConnection> _loginDeadlines = new();
    private readonly LoginThrottle _loginThrottle = new();
    private PasswordWorkers? _passwordWorkers;

    /// <summary>Commands a connection may use before it has logged in to its registered name.</summary>
    private static readonly HashSet<string> AllowedBeforeLogin = new(StringComparer.OrdinalIgnoreCase) { "login", "quit", "help", "rich" };

    private PasswordWorkers PasswordWorkers => _passwordWorkers ??= new PasswordWorkers();

    /// <summary>Whether someone holds <paramref name="name"/>, chatting or still logging in.</summary>
    private bool NameInUse(string name, ClientConnection? except = null) =>
        (_byName.TryGetValue(name, out ClientConnection? holder) && holder != except) || (_awaitingLogin.TryGetValue(name, out holder) && holder != except);

    /// <summary>A registered name is held, but not used, until its password is proven.</summary>
    private void AwaitLogin(ClientConnection client, long now)
    {
        _awaitingLogin.Add(client.Name!, client);
        client.LoginDeadline = now + (long)_options.LoginTimeout.TotalMilliseconds;
        _loginDeadlines.Enqueue(client);
        SendNotice(client, Notices.LoginRequired(client.Name!, _options.LoginTimeout), now);
    }

    private void DropLateLogins(long now)
    {
        while (_loginDeadlines.TryPeek(out ClientConnection? client) && (client.State != ClientState.AwaitingLogin || client.LoginDeadline <= now))
        {
            _loginDeadlines.Dequeue();
            if (client.State == ClientState.AwaitingLogin)
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

        _loginThrottle.Succeeded(NameKey(account.Name));
        client.LoggedIn = true;
        Log.Info("#{Id} {User} logged in", client.Id, client.Name);
        SendNotice(client, $"Logged in as {client.Name}", now);
        if (client.State == ClientState.AwaitingLogin)
        {
            _awaitingLogin.Remove(account.Name);
            Arrive(client, now);
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

        StartPasswordWork(client, () => PasswordHash.Create(password), hash => FinishRegister(client, name, hash), now);
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

    /// <summary>Runs slow password work off the loop, one job per client at a time, and its ending back on the loop.</summary>
    private void StartPasswordWork<T>(ClientConnection client, Func<T> work, Action<T> finish, long now)
    {
        if (client.PasswordWorkPending)
        {
            SendError(client, "Your last password is still being checked; wait for its answer", now);
            return;
        }

        client.PasswordWorkPending = true;
        if (!PasswordWorkers.TryRun(work, result => Post(() =>
        {
            client.PasswordWorkPending = false;
            finish(result);
        })))
        {
            client.PasswordWorkPending = false;
            SendError(client, "The server is busy checking other passwords; try again in a moment", now);
        }
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

    /// <summary>One more try too soon after failures, for this name or from this address: refused with how long to wait.</summary>
    private bool RefusedForThrottling(ClientConnection client, long now)
    {
        long wait = Math.Max(_loginThrottle.WaitFor(NameKey(client.Name!), now), _loginThrottle.WaitFor(AddressKey(client.Address), now));
        if (wait == 0)
        {
            return false;
        }

        SendError(client, $"Too many wrong passwords; try again in {Math.Ceiling(wait / 1000.0):0} s", now);
        return true;
    }

    private void CountFailedLogin(ClientConnection client, long now)
    {
        _loginThrottle.Failed(NameKey(client.Name!), now);
        _loginThrottle.Failed(AddressKey(client.Address), now);
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

    private static string NameKey(string name) => "name " + name;

    private static string AddressKey(string address) => "address " + address;
}
