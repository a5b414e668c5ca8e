using PollChat.Server.Commands;
using PollChat.Tests.Support;

namespace PollChat.Tests.Unit;

/// <summary>
/// /help is generated from the one command table (<see cref="CommandList"/>): a user's lists every
/// command a user may run, in the table's order; the console's lists its own, then the admin ones.
/// Compared with the table the chat itself was built with, so a command added to it is checked too.
/// </summary>
[TestFixture]
public sealed class HelpCommandsTests : ChatHarnessFixture
{
    [Test]
    public void A_users_help_lists_every_user_command_of_the_table_in_order_and_no_admin_ones()
    {
        TestUser alice = Chat.JoinAll("alice")[0];
        List<CommandSpec> forUsers = [.. Chat.Commands.All.Where(c => c.Access is CommandAccess.Chat or CommandAccess.BeforeLogin)];

        alice.Say("/help");

        List<string> lines = alice.Notices();
        Assert.That(lines[0], Is.EqualTo(Notices.HelpHeading));
        Assert.That(lines, Has.Count.EqualTo(1 + forUsers.Count), "one line per user command, and nothing for admins to a user who is not one");
        Assert.Multiple(() =>
        {
            for (int i = 0; i < forUsers.Count; i++)
            {
                Assert.That(lines[i + 1], Does.StartWith($"{forUsers[i].Usage}: {forUsers[i].Summary}"), $"line {i + 1} is /{forUsers[i].Name}");
            }

            Assert.That(lines, Does.Contain("/users: who is in your room and who is online (also /who, /names)"), "aliases are named");
            Assert.That(lines, Does.Not.Contain(Notices.AdminHelpHeading));
            Assert.That(forUsers.Select(c => c.Name), Does.Contain("whois").And.Contain("join").And.Contain("msg"), "the table is the chat's own");
        });
    }

    [Test]
    public void The_consoles_help_lists_its_own_commands_then_the_admin_ones()
    {
        IEnumerable<CommandSpec> console = Chat.Commands.All.Where(c => c.Access == CommandAccess.Console);
        IEnumerable<CommandSpec> admin = Chat.Commands.All.Where(c => c.Access == CommandAccess.Admin);
        List<string> expected = [Notices.OperatorHelpHeading, .. console.Concat(admin).Select(c => $"  {c.Usage}: {c.Summary}")];

        List<string> lines = Chat.Console("/help");

        Assert.Multiple(() =>
        {
            Assert.That(lines, Is.EqualTo(expected));
            Assert.That(lines, Does.Contain("  /kick <user> [reason]: disconnect someone, telling them and their room why"));
            Assert.That(lines, Does.Contain("  /stats: the counters line, as SIGUSR1 logs it"));
        });
    }

    [Test]
    public void An_unknown_command_points_to_help()
    {
        TestUser alice = Chat.JoinAll("alice")[0];

        alice.Say("/frobnicate twice");

        Assert.That(alice.Notices(), Is.EqualTo(new List<string> { Notices.UnknownCommand("/frobnicate") }));
    }
}
