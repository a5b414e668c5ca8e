using PollChat.Common.Framing;
using PollChat.Common.Protocol;
using PollChat.Server.Loop;

namespace PollChat.Server.Chat;

/// <summary>
/// Everything the chat sends goes through here: pairs, notices, errors, rich events (see
/// <see cref="RichMode"/> and PROTOCOL.md), a room's relay and announcements. It encodes once and
/// hands bytes to the loop (<see cref="IConnections.Send"/>), which queues them within its
/// budgets; it never touches a socket. A rich client gets events where a classic one gets prose:
/// list changes, room changes, private messages and errors. Chat messages, actions and history
/// stay ordinary pairs for everyone, so the relay path is the same.
/// </summary>
internal sealed class Outbox(IConnections connections, Users users)
{
    private static readonly byte[] EventSenderFrame = Frame.Encode(RichMode.EventSender);

    /// <summary>The relay's one encoding of a pair, reused: a relay allocates nothing.</summary>
    private byte[] _pairScratch = new byte[4096];

    public void Send(ChatUser user, ReadOnlySpan<byte> bytes, long now) => connections.Send(user.Connection, bytes, now);

    public void Notice(ChatUser user, string text, long now) =>
        Send(user, Frame.EncodePair(ServerSender.Name, text), now);

    public void Pair(ChatUser user, string sender, string text, long now) =>
        Send(user, Frame.EncodePair(sender, text), now);

    public void Event(ChatUser user, RichEvent richEvent, long now) =>
        Send(user, EncodeEvent(richEvent), now);

    /// <summary>A command failed: a rich client gets an error event, a classic one the same sentence as a notice.</summary>
    public void Error(ChatUser user, string text, long now)
    {
        if (user.Rich)
        {
            Event(user, new RichEvent { Type = RichEventTypes.Error, Text = text }, now);
        }
        else
        {
            Notice(user, text, now);
        }
    }

    public static byte[] EncodeEvent(RichEvent richEvent) => [.. EventSenderFrame, .. Frame.Encode(RichMode.Serialize(richEvent))];

    /// <summary>One pair to every member of a room but one (and but those who ignore <paramref name="from"/>): encoded once, then copied.</summary>
    public void ToRoom(Room room, byte[] senderFrame, ReadOnlySpan<byte> message, ChatUser? except, long now, string? from = null)
    {
        ReadOnlySpan<byte> pair = EncodePair(senderFrame, message);
        // A member dropped while this runs stays in the list until the close phase, marked left, and is skipped.
        foreach (ChatUser member in room.Members)
        {
            if (member != except && member.State == UserState.Chatting && (from is null || member.Ignored?.Contains(from) != true))
            {
                connections.Send(member.Connection, pair, now);
            }
        }
    }

    /// <summary>A pair in the reused scratch buffer, valid until the next call: for bytes passed on where they lie (relay, file data).</summary>
    public ReadOnlySpan<byte> EncodePair(byte[] nameFrame, ReadOnlySpan<byte> message)
    {
        int length = nameFrame.Length + Frame.EncodedLength(message.Length);
        if (_pairScratch.Length < length)
        {
            _pairScratch = new byte[Math.Max(length, _pairScratch.Length * 2)]; // Rarely: only for a message longer than any before it.
        }

        nameFrame.CopyTo(_pairScratch, 0);
        Frame.Write(_pairScratch.AsSpan(nameFrame.Length), message);
        return _pairScratch.AsSpan(0, length);
    }

    /// <summary>
    /// Tells a room something happened: the sentence to classic members, the event to rich ones,
    /// each encoded once, and only if anyone needs it. Not the relay path: joins, leaves, topics.
    /// </summary>
    public void AnnounceToRoom(Room room, string prose, RichEvent richEvent, ChatUser? except, long now) =>
        Announce(room.Members, prose, richEvent, except, now);

    public void AnnounceToEveryone(string prose, RichEvent? richEvent, long now) =>
        Announce(users.All, prose, richEvent, except: null, now);

    private void Announce(List<ChatUser> recipients, string prose, RichEvent? richEvent, ChatUser? except, long now)
    {
        byte[]? prosePair = null;
        byte[]? eventPair = null;
        foreach (ChatUser recipient in recipients)
        {
            if (recipient == except || recipient.State != UserState.Chatting)
            {
                continue;
            }

            if (recipient.Rich && richEvent is not null)
            {
                Send(recipient, eventPair ??= EncodeEvent(richEvent), now);
            }
            else
            {
                Send(recipient, prosePair ??= Frame.EncodePair(ServerSender.Name, prose), now);
            }
        }
    }

    /// <summary>One event to every rich user chatting but one, encoded once.</summary>
    public void ToRichUsers(RichEvent richEvent, ChatUser? except, long now)
    {
        byte[]? eventPair = null;
        // The full list, not the name index: a recipient dropped for overflowing leaves the index at once.
        foreach (ChatUser recipient in users.All)
        {
            if (recipient.Rich && recipient != except && recipient.State == UserState.Chatting)
            {
                Send(recipient, eventPair ??= EncodeEvent(richEvent), now);
            }
        }
    }
}
