using PollChat.Server.Chat;

namespace PollChat.Server.Files;

/// <summary>
/// One file on its way from one client to another. The server holds only this: the data passes
/// through in frames, and <see cref="Relayed"/> minus <see cref="Acked"/> (at most the window)
/// is all that can be waiting in the receiver's output for it.
/// </summary>
internal sealed class FileTransfer(int id, ChatUser sender, ChatUser receiver, string name, long size, string sha256, long now)
{
    public int Id { get; } = id;

    public ChatUser Sender { get; } = sender;

    public ChatUser Receiver { get; } = receiver;

    public string Name { get; } = name;

    public long Size { get; } = size;

    public string Sha256 { get; } = sha256;

    /// <summary>When it was offered, in loop milliseconds: an offer not accepted in time expires.</summary>
    public long OfferedAt { get; } = now;

    public bool Accepted { get; set; }

    /// <summary>The end of the data passed on to the receiver so far.</summary>
    public long Relayed { get; set; }

    /// <summary>The end of the data the receiver has written and acknowledged.</summary>
    public long Acked { get; set; }

    /// <summary>
    /// Data frames relayed that no acknowledgement has answered yet. Each lets the receiver send
    /// one acknowledgement free of the message rate; acknowledgements beyond that (a receiver
    /// acknowledging byte by byte, to flood the sender) cost messages.
    /// </summary>
    public int AcksOwed { get; set; }

    /// <summary>The last time data or an acknowledgement passed: a transfer where nothing moves for long is ended.</summary>
    public long LastActivity { get; set; } = now;

    public ChatUser Other(ChatUser one) => one == Sender ? Receiver : Sender;
}
