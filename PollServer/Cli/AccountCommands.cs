using System.CommandLine;
using PollChat.Common.Protocol;
using PollChat.Server.Accounts;
using PollChat.Server.Storage;

using PollChat.Server.Loop;

namespace PollChat.Server.Cli;

/// <summary>
/// <c>PollServer account ...</c>: the operator's way to make accounts and admins before or between
/// runs, straight in the history file. A running server reads accounts at start, so it sees a
/// change after a restart; users themselves use /register and /passwd.
/// </summary>
internal static class AccountCommands
{
    private const int Ok = 0;
    private const int Usage = 1;
    private const int DataDirectoryUnusable = 4;

    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Directory of the history file", DefaultValueFactory = _ => ServerOptions.DefaultDataDirectory };
        var name = new Argument<string>("name") { Description = "The account's username" };
        var admin = new Option<bool>("--admin") { Description = "Make the account an admin (/kick, /ban, /mute, /motd in the chat)" };
        var revoke = new Option<bool>("--revoke") { Description = "Take admin rights away instead" };

        var add = new Command("add", $"Create an account, or set its password; the password is read from {PasswordVariable} or asked for") { name, admin, dataDir };
        add.SetAction(r => WithDatabase(r.GetValue(dataDir)!, db => Add(db, r.GetValue(name)!, r.GetValue(admin))));
        var makeAdmin = new Command("admin", "Make an account an admin, or with --revoke no longer one") { name, revoke, dataDir };
        makeAdmin.SetAction(r => WithDatabase(r.GetValue(dataDir)!, db => SetAdmin(db, r.GetValue(name)!, !r.GetValue(revoke))));
        var remove = new Command("remove", "Delete an account: its name is free again") { name, dataDir };
        remove.SetAction(r => WithDatabase(r.GetValue(dataDir)!, db => Remove(db, r.GetValue(name)!)));
        var list = new Command("list", "List the accounts") { dataDir };
        list.SetAction(r => WithDatabase(r.GetValue(dataDir)!, List));
        return new Command("account", "Manage registered names (accounts) in the history file") { add, makeAdmin, remove, list };
    }

    /// <summary>Where a script puts the password for 'account add'; the command line would show it to every user of the machine.</summary>
    private const string PasswordVariable = "POLLCHAT_PASSWORD";

    private static int Add(ChatDatabase database, string name, bool admin)
    {
        if (Username.Validate(name, ProtocolLimits.DefaultMaxUsernameBytes) is { } problem)
        {
            return Fail($"invalid username: {problem}");
        }

        string? password = Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : PollChat.Common.Terminal.HiddenInput.ReadLine("Password: ", Console.In);
        if (password is null || password.Length < 8)
        {
            return Fail("a password needs at least 8 characters");
        }

        Account? existing = database.LoadAccounts().Find(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        database.SaveAccount(new Account(existing?.Name ?? name, PasswordHash.Create(password), admin || existing?.Admin == true));
        Console.WriteLine($"Account {existing?.Name ?? name} {(existing is null ? "created" : "updated")}{(admin || existing?.Admin == true ? " (admin)" : "")}. A running server sees it after a restart.");
        return Ok;
    }

    private static int SetAdmin(ChatDatabase database, string name, bool admin)
    {
        Account? account = database.LoadAccounts().Find(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (account is null)
        {
            return Fail($"no account named '{name}'");
        }

        database.SaveAccount(account with { Admin = admin });
        Console.WriteLine($"{account.Name} is {(admin ? "now" : "no longer")} an admin. A running server sees it after a restart.");
        return Ok;
    }

    private static int Remove(ChatDatabase database, string name)
    {
        if (!database.LoadAccounts().Exists(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
        {
            return Fail($"no account named '{name}'");
        }

        database.DeleteAccount(name);
        Console.WriteLine($"Account {name} removed. A running server sees it after a restart.");
        return Ok;
    }

    private static int List(ChatDatabase database)
    {
        List<Account> accounts = database.LoadAccounts();
        Console.WriteLine($"{accounts.Count} {(accounts.Count == 1 ? "account" : "accounts")}");
        foreach (Account account in accounts.OrderBy(a => a.Name, StringComparer.OrdinalIgnoreCase))
        {
            Console.WriteLine(account.Admin ? $"{account.Name} (admin)" : account.Name);
        }

        return Ok;
    }

    private static int WithDatabase(string directory, Func<ChatDatabase, int> action)
    {
        try
        {
            using ChatDatabase database = ChatDatabase.Open(directory);
            return action(database);
        }
        catch (DataDirectoryException e)
        {
            Console.Error.WriteLine($"PollServer: {e.Message}");
            return DataDirectoryUnusable;
        }
    }

    private static int Fail(string why)
    {
        Console.Error.WriteLine($"PollServer account: {why}.");
        return Usage;
    }
}
