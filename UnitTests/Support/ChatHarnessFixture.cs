namespace PollChat.Tests.Support;

/// <summary>A fresh <see cref="ChatHarness"/> for every test, disposed after it: the set-up every command-group test shares.</summary>
public abstract class ChatHarnessFixture
{
    /// <summary>The chat under test, without the loop.</summary>
    internal ChatHarness Chat { get; private set; } = null!;

    [SetUp]
    public void StartChat() => Chat = new ChatHarness();

    [TearDown]
    public void StopChat() => Chat.Dispose();
}
