using PollChat.Client;

namespace PollChat.Tests.Unit;

[TestFixture]
public sealed class UserInputTests
{
    [TestCase("/quit")]
    [TestCase("/QUIT")]
    [TestCase("/Quit")]
    [TestCase("exit")]
    [TestCase("QUIT")]
    [TestCase("QUIT\r")]
    [TestCase("  /quit  ")]
    public void Quit_words_quit(string line)
    {
        Assert.That(UserInput.Parse(line).Kind, Is.EqualTo(UserInputKind.Quit));
    }

    [Test]
    public void Quit_with_a_reason_quits_and_keeps_the_reason()
    {
        UserInput input = UserInput.Parse("/quit  off to lunch ");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(input.Kind, Is.EqualTo(UserInputKind.Quit));
            Assert.That(input.Text, Is.EqualTo("off to lunch"));
        }
    }

    [TestCase("quit")]
    [TestCase("Exit")]
    [TestCase("EXIT")]
    [TestCase("Quit")]
    public void Other_spellings_of_the_seed_quit_words_are_ordinary_messages(string line)
    {
        UserInput input = UserInput.Parse(line);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(input.Kind, Is.EqualTo(UserInputKind.Send));
            Assert.That(input.Text, Is.EqualTo(line));
        }
    }

    [Test]
    public void CONNECT_connects()
    {
        Assert.That(UserInput.Parse("CONNECT").Kind, Is.EqualTo(UserInputKind.Connect));
    }

    [Test]
    public void Lowercase_connect_is_an_ordinary_message()
    {
        Assert.That(UserInput.Parse("connect"), Is.EqualTo(new UserInput(UserInputKind.Send, "connect")));
    }

    [Test]
    public void SEND_with_text_sends_the_text_after_the_command_word()
    {
        Assert.That(UserInput.Parse("SEND hello world"), Is.EqualTo(new UserInput(UserInputKind.Send, "hello world")));
    }

    [Test]
    public void SEND_keeps_the_text_exactly_including_inner_and_leading_spaces()
    {
        Assert.That(UserInput.Parse("SEND  two  spaces"), Is.EqualTo(new UserInput(UserInputKind.Send, " two  spaces")));
    }

    [TestCase("SEND")]
    [TestCase("SEND   ")]
    [TestCase("SEND\r")]
    public void SEND_without_text_explains_its_usage(string line)
    {
        UserInput input = UserInput.Parse(line);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(input.Kind, Is.EqualTo(UserInputKind.Usage));
            Assert.That(input.Text, Does.Contain("SEND"));
        }
    }

    [Test]
    public void SENDER_is_an_ordinary_message_not_the_SEND_command()
    {
        Assert.That(UserInput.Parse("SENDER"), Is.EqualTo(new UserInput(UserInputKind.Send, "SENDER")));
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("\r")]
    [TestCase("\r\n")]
    [TestCase(" \t ")]
    public void A_blank_line_does_nothing(string line)
    {
        Assert.That(UserInput.Parse(line).Kind, Is.EqualTo(UserInputKind.Nothing));
    }

    [Test]
    public void A_slash_command_other_than_quit_goes_to_the_server_as_typed()
    {
        Assert.That(UserInput.Parse("/nick bob"), Is.EqualTo(new UserInput(UserInputKind.Send, "/nick bob")));
    }

    [Test]
    public void Plain_text_is_sent_as_typed()
    {
        Assert.That(UserInput.Parse("hi there"), Is.EqualTo(new UserInput(UserInputKind.Send, "hi there")));
    }

    [Test]
    public void A_trailing_carriage_return_is_stripped()
    {
        Assert.That(UserInput.Parse("hello\r"), Is.EqualTo(new UserInput(UserInputKind.Send, "hello")));
    }

    [Test]
    public void A_trailing_carriage_return_is_stripped_from_SEND_text()
    {
        Assert.That(UserInput.Parse("SEND hello\r"), Is.EqualTo(new UserInput(UserInputKind.Send, "hello")));
    }
}
