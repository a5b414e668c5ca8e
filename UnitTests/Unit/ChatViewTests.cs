using PollChat.Client;
using PollChat.Common.Protocol;

namespace PollChat.Tests.Unit;

[TestFixture]
public sealed class ChatViewTests
{
    private static readonly DateTime NineOhFive = new(2024, 6, 1, 9, 5, 59, DateTimeKind.Local);

    [Test]
    public void FormatMessage_shows_time_sender_and_text()
    {
        Assert.That(ChatView.FormatMessage(NineOhFive, "alice", "hi"), Is.EqualTo("[09:05] alice > hi"));
    }

    [Test]
    public void FormatMessage_shows_an_action_without_the_arrow()
    {
        Assert.That(ChatView.FormatMessage(NineOhFive, "* alice", "waves"), Is.EqualTo("[09:05] * alice waves"));
    }

    [Test]
    public void FormatMessage_shows_a_private_message_with_its_marked_sender()
    {
        Assert.That(ChatView.FormatMessage(NineOhFive, "alice (private)", "psst"), Is.EqualTo("[09:05] alice (private) > psst"));
    }

    [Test]
    public void FormatMessage_shows_a_replayed_message_at_its_original_time()
    {
        Assert.That(ChatView.FormatMessage(NineOhFive, "[07:41] alice", "earlier"), Is.EqualTo("[07:41] alice > earlier"));
        Assert.That(ChatView.FormatMessage(NineOhFive, "[07:42] * alice", "waved"), Is.EqualTo("[07:42] * alice waved"));
    }

    [Test]
    public void FormatMessage_uses_a_24_hour_clock()
    {
        var evening = new DateTime(2024, 6, 1, 21, 30, 0, DateTimeKind.Local);

        Assert.That(ChatView.FormatMessage(evening, "alice", "hi"), Is.EqualTo("[21:30] alice > hi"));
    }

    [Test]
    public void FormatMessage_shows_a_server_notice_with_the_notice_marker_and_no_sender()
    {
        Assert.That(ChatView.FormatMessage(NineOhFive, ServerSender.Name, "bob joined"), Is.EqualTo("[09:05] *** bob joined"));
    }

    [Test]
    public void FormatMessage_neutralises_the_text()
    {
        Assert.That(ChatView.FormatMessage(NineOhFive, "alice", "a\u001b[2Jb"), Is.EqualTo("[09:05] alice > a^[[2Jb"));
    }

    [Test]
    public void FormatMessage_neutralises_the_text_of_a_server_notice()
    {
        Assert.That(ChatView.FormatMessage(NineOhFive, ServerSender.Name, "x\u0007"), Is.EqualTo("[09:05] *** x^G"));
    }

    [Test]
    public void FormatMessage_neutralises_the_sender_name()
    {
        Assert.That(ChatView.FormatMessage(NineOhFive, "ev\u001bil\r", "hi"), Is.EqualTo("[09:05] ev^[il^M > hi"));
    }

    // Code points, not strings: the NUnit VSTest adapter silently skips test cases whose string
    // arguments hold control characters without a C# short escape (nunit3-vs-adapter#761).
    [TestCase(0x1B, "^[")]
    [TestCase(0x07, "^G")]
    [TestCase(0x00, "^@")]
    [TestCase(0x0D, "^M")]
    [TestCase(0x0A, "^J")]
    [TestCase(0x08, "^H")]
    [TestCase(0x1F, "^_")]
    [TestCase(0x80, "\uFFFD")]
    [TestCase(0x9B, "\uFFFD")]
    [TestCase(0x9F, "\uFFFD")]
    public void Neutralise_replaces_a_control_character_with_a_visible_stand_in(int control, string expected)
    {
        string text = "a" + (char)control + "b";

        Assert.That(ChatView.Neutralise(text), Is.EqualTo("a" + expected + "b"));
    }

    [Test]
    public void Neutralise_replaces_DEL_with_something_visible()
    {
        string result = ChatView.Neutralise("a\u007fb");

        Assert.That(result, Does.Not.Contain("\u007f").And.StartsWith("a").And.EndsWith("b").And.Length.GreaterThan(2));
    }

    [Test]
    public void Neutralise_turns_an_escape_sequence_into_harmless_text()
    {
        Assert.That(ChatView.Neutralise("\u001b]0;pwned\u0007"), Is.EqualTo("^[]0;pwned^G"));
    }

    [Test]
    public void Neutralise_keeps_tabs()
    {
        Assert.That(ChatView.Neutralise("a\tb\u001b"), Is.EqualTo("a\tb^["));
    }

    [TestCase("a\u202eb\u200bc", "abc", TestName = "Neutralise removes a bidi override and a zero-width space from a server that does not")]
    [TestCase("\u001b\u2067x", "^[x", TestName = "Neutralise shows an escape and removes an isolate")]
    public void Neutralise_applies_the_display_policy(string text, string expected)
    {
        Assert.That(ChatView.Neutralise(text), Is.EqualTo(expected));
    }

    [Test]
    public void A_message_from_a_classic_server_shows_without_its_bidi_override()
    {
        Assert.That(ChatView.FormatMessage(new DateTime(2026, 1, 1, 12, 0, 0), "ma\u202ellory", "see invoice\u202efdp.exe"),
            Is.EqualTo("[12:00] mallory > see invoicefdp.exe"));
    }

    [TestCase("")]
    [TestCase("plain text")]
    [TestCase("tabs\tare\tfine")]
    [TestCase("héllo 名前 🎉")]
    public void Neutralise_returns_text_without_controls_as_the_same_instance(string text)
    {
        string input = new(text.AsSpan());

        string result = ChatView.Neutralise(input);

        Assert.That(result, Is.SameAs(input));
    }

    [Test]
    public void Message_writes_one_formatted_line()
    {
        using var output = new StringWriter();
        var view = new ChatView(output);

        view.Message(NineOhFive, "alice", "hi\u001b");

        Assert.That(output.ToString(), Is.EqualTo("[09:05] alice > hi^[" + Environment.NewLine));
    }

    [Test]
    public void Status_writes_a_line_with_the_status_marker()
    {
        using var output = new StringWriter();
        var view = new ChatView(output);

        view.Status("connected");

        Assert.That(output.ToString(), Is.EqualTo("-!- connected" + Environment.NewLine));
    }
}
