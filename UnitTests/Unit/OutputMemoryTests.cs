using PollChat.Server;

namespace PollChat.Tests.Unit;

/// <summary>The server's one count of output memory: what is held now, and the peak since the last reset, which tells what could be given back.</summary>
[TestFixture]
public sealed class OutputMemoryTests
{
    [Test]
    public void Held_follows_every_change_and_the_peak_keeps_the_most_until_reset()
    {
        var memory = new OutputMemory();
        memory.Change(2048);
        memory.Change(4096);
        memory.Change(-2048);

        Assert.That((memory.Held, memory.Peak), Is.EqualTo((4096L, 6144L)), "arrays let go lower what is held, not the peak");
        memory.ResetPeak();
        Assert.That(memory.Peak, Is.EqualTo(4096), "a reset starts the peak again from what is held now, not from zero");
        memory.Change(-4096);
        Assert.That((memory.Held, memory.Peak), Is.EqualTo((0L, 4096L)));
        memory.Change(1024);
        Assert.That(memory.Peak, Is.EqualTo(4096), "a smaller array after the reset leaves the peak");
    }
}
