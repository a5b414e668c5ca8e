namespace PollChat.Server.Chat;

/// <summary>
/// A room's last messages, for /history and for the replay when someone joins. A ring of
/// entries whose arrays are reused: storing a message copies its bytes and allocates only when
/// it is longer than the message its slot held before, so the relay path stays allocation-free.
/// </summary>
internal sealed class RoomHistory
{
    /// <summary>Enough for /history to reach back over a busy hour of a class; bounded, because it lives in memory (the history file keeps everything, for /search).</summary>
    public const int Capacity = 100;

    /// <summary>A first array per slot that fits a typical chat line.</summary>
    private const int InitialEntryBytes = 128;

    private readonly Entry[] _entries = new Entry[Capacity];
    private int _next;
    private int _count;

    /// <summary>When the last message was added, to tell which rooms' histories to keep in memory.</summary>
    public DateTime LastUtcTime { get; private set; }

    public void Add(DateTime utcTime, string sender, ReadOnlySpan<byte> text)
    {
        Entry entry = _entries[_next] ??= new Entry();
        if (entry.Text.Length < text.Length)
        {
            entry.Text = new byte[Math.Max(text.Length, Math.Max(InitialEntryBytes, entry.Text.Length * 2))];
        }

        text.CopyTo(entry.Text);
        entry.Length = text.Length;
        entry.Sender = sender;
        entry.UtcTime = utcTime;
        LastUtcTime = utcTime;
        _next = (_next + 1) % Capacity;
        _count = Math.Min(_count + 1, Capacity);
    }

    /// <summary>The last <paramref name="count"/> messages (fewer if the room has fewer), oldest first.</summary>
    public IEnumerable<Entry> Last(int count)
    {
        int take = Math.Min(count, _count);
        for (int i = take; i > 0; i--)
        {
            yield return _entries[((_next - i) % Capacity + Capacity) % Capacity];
        }
    }

    internal sealed class Entry
    {
        public DateTime UtcTime { get; set; }

        /// <summary>The sender as shown: a name, or "* name" for an action.</summary>
        public string Sender { get; set; } = "";

        public byte[] Text { get; set; } = [];

        public int Length { get; set; }
    }
}
