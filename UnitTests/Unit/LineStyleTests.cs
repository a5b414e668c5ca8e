using PollChat.Client.Terminal;

namespace PollChat.Tests.Unit;

/// <summary>Which lines take which colour, and which ring the bell.</summary>
[TestFixture]
public sealed class LineStyleTests
{
    [Test]
    public void Each_kind_of_line_has_its_style_and_a_name_keeps_its_colour()
    {
        string Styled(string line) => LineStyle.For(line, "alice");
        string When(string escape) => LineStyle.Enabled ? escape : ""; // NO_COLOR in the environment turns every style off.

        Assert.Multiple(() =>
        {
            Assert.That(Styled("[14:02] !!! No user named 'x' is online"), Is.EqualTo(When("\u001b[31m")));
            Assert.That(Styled("-!- Connection lost"), Is.EqualTo(When("\u001b[33m")));
            Assert.That(Styled("[14:02] *** bob joined"), Is.EqualTo(When("\u001b[2m")));
            Assert.That(Styled("[14:02] [private] bob > psst"), Is.EqualTo(When("\u001b[35m")));
            Assert.That(Styled("[14:02] ALICE > my own line"), Is.EqualTo(When("\u001b[1m")));
            Assert.That(Styled("[14:02] bob > hey Alice, look"), Is.EqualTo(When("\u001b[7m")));
            Assert.That(Styled("[14:02] bob > one"), Is.EqualTo(Styled("[15:40] BOB > two")), "a name keeps its colour");
            Assert.That(Styled("[14:02] bob > one"), Is.Not.EqualTo(When("\u001b[7m")));
        });
    }

    [TestCase("[14:02] [private] bob > psst", true)]
    [TestCase("[14:02] [private] to bob > psst", false)]
    [TestCase("[14:02] bob > alice, lunch?", true)]
    [TestCase("[14:02] alice > talking about alice", false)]
    [TestCase("[14:02] bob > nothing for you", false)]
    [TestCase("[14:02] *** alice joined", false)]
    public void The_bell_rings_for_private_messages_and_mentions_by_others(string line, bool rings) =>
        Assert.That(LineStyle.Rings(line, "alice"), Is.EqualTo(rings));

    [Test]
    public void Bell_modes_choose_what_rings()
    {
        const string Private = "[14:02] [private] bob > psst";
        const string Mention = "[14:02] bob > alice, lunch?";
        Assert.Multiple(() =>
        {
            Assert.That(LineStyle.Rings(Private, "alice", LineStyle.BellMode.Off), Is.False);
            Assert.That(LineStyle.Rings(Private, "alice", LineStyle.BellMode.PrivateMessages), Is.True);
            Assert.That(LineStyle.Rings(Mention, "alice", LineStyle.BellMode.PrivateMessages), Is.False);
            Assert.That(LineStyle.Rings(Mention, "alice", LineStyle.BellMode.All), Is.True);
        });
    }

    [TestCase("[14:02] bob > hi", 8)]
    [TestCase("-!- Connected", 0)]
    [TestCase("[ab:cd] x", 0)]
    public void The_time_prefix_is_found_only_where_there_is_one(string line, int length) =>
        Assert.That(LineStyle.StampLength(line), Is.EqualTo(length));
}
