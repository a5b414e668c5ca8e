using PollChat.Common.Framing;
using PollChat.Common.Protocol;

namespace PollChat.Server;

/// <summary>
/// Rich mode (see <see cref="RichMode"/> and PROTOCOL.md): what changes for a connection that
/// asked for it. Chat messages, actions and history stay ordinary pairs for everyone, so the relay
/// path is the same; what a rich client gets instead of prose is the list changes, room changes,
/// private messages and errors, as JSON events it can act on without parsing sentences.
/// </summary>
public sealed partial class ChatServer
{
    private static readonly byte[] EventSenderFrame = Frame.Encode(RichMode.EventSender);

    private void EnableRichMode(ClientConnection client, string version, long now)
    {
        if (version != RichMode.Version.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            SendError(client, $"Rich mode version '{version}' is not spoken here; this server speaks {RichMode.Version} (/rich {RichMode.Version})", now);
            return;
        }

        client.Rich = true;
        SendEvent(client, new RichEvent { Type = RichEventTypes.Hello, Version = RichMode.Version, Name = client.Name, Room = client.Room?.Name }, now);
        if (client.State == ClientState.Chatting)
        {
            SendEvent(client, UsersSnapshot(client), now); // Before a login there is no room yet: the snapshot comes on arriving.
        }
    }

    /// <summary>Whether list changes are announced: past the announce limit they are not, for prose and events alike.</summary>
    private bool ChangesTracked => _byName.Count <= _options.AnnounceLimit && !_presenceBusy;

    /// <summary>Whether rich clients were told changes stopped (tracking: false) since changes were last sent; reset once they are sent again.</summary>
    private bool _toldUntracked;

    private RichEvent UsersSnapshot(ClientConnection client) => new()
    {
        Type = RichEventTypes.Users,
        Room = client.Room!.Name,
        Members = MemberNames(client.Room),
        Online = [.. _byName.Keys.Order(StringComparer.OrdinalIgnoreCase)],
        Tracked = ChangesTracked,
    };

    private static List<string> MemberNames(Room room) =>
        [.. room.Members.Where(m => m.State == ClientState.Chatting).Select(m => m.Name!).Order(StringComparer.OrdinalIgnoreCase)];

    private void SendEvent(ClientConnection client, RichEvent richEvent, long now) =>
        Enqueue(client, EncodeEvent(richEvent), now);

    private static byte[] EncodeEvent(RichEvent richEvent) => [.. EventSenderFrame, .. Frame.Encode(RichMode.Serialize(richEvent))];

    /// <summary>A command failed: a rich client gets an error event, a classic one the same sentence as a notice.</summary>
    private void SendError(ClientConnection client, string text, long now)
    {
        if (client.Rich)
        {
            SendEvent(client, new RichEvent { Type = RichEventTypes.Error, Text = text }, now);
        }
        else
        {
            SendNotice(client, text, now);
        }
    }

    /// <summary>
    /// Tells a room something happened: the sentence to classic members, the event to rich ones,
    /// each encoded once, and only if anyone needs it. Not the relay path: joins, leaves, topics.
    /// </summary>
    private void AnnounceToRoom(Room room, string prose, RichEvent richEvent, ClientConnection? except, long now) =>
        Announce(room.Members, prose, richEvent, except, now);

    private void AnnounceToEveryone(string prose, RichEvent? richEvent, long now) =>
        Announce(_connections, prose, richEvent, except: null, now);

    private void Announce(List<ClientConnection> recipients, string prose, RichEvent? richEvent, ClientConnection? except, long now)
    {
        byte[]? prosePair = null;
        byte[]? eventPair = null;
        foreach (ClientConnection recipient in recipients)
        {
            if (recipient == except || recipient.State != ClientState.Chatting)
            {
                continue;
            }

            if (recipient.Rich && richEvent is not null)
            {
                Enqueue(recipient, eventPair ??= EncodeEvent(richEvent), now);
            }
            else
            {
                Enqueue(recipient, prosePair ??= Frame.EncodePair(ServerSender.Name, prose), now);
            }
        }
    }

    /// <summary>
    /// Someone came or went: rich clients anywhere on the server update their list of who is
    /// online. While changes are tracked only; the join that passes the announce limit tells them
    /// the changes stop, so no client trusts a list that silently went stale.
    /// </summary>
    private void TellRichClientsOnlineChanged(string type, string name, string? reason, ClientConnection? except, long now)
    {
        RichEvent richEvent;
        if (ChangesTracked)
        {
            _toldUntracked = false;
            richEvent = new RichEvent { Type = type, Name = name, Reason = reason, Count = _byName.Count };
        }
        else if (!_toldUntracked)
        {
            _toldUntracked = true; // Past the announce limit, or joins and leaves too fast to follow one by one.
            richEvent = new RichEvent { Type = RichEventTypes.Tracking, Tracked = false };
        }
        else
        {
            return;
        }

        byte[]? eventPair = null;
        // The connection list, not the name index: a recipient dropped for overflowing leaves the index at once.
        foreach (ClientConnection recipient in _connections)
        {
            if (recipient.Rich && recipient != except && recipient.State == ClientState.Chatting)
            {
                Enqueue(recipient, eventPair ??= EncodeEvent(richEvent), now);
            }
        }
    }
}
