using NLog;
using PollChat.Common.Protocol;
using PollChat.Server.Loop;
using PollChat.Server.Moderation;

namespace PollChat.Server.Chat;

/// <summary>
/// Arriving and leaving: a named (and, for a registered name, logged-in) user is listed, put in
/// #lobby, told the message of the day and the room's history, and announced; a user whose
/// connection closes is unlisted at once and leaves its room in the close phase, when its room
/// and rich clients are told. It decides who is told what; <see cref="Presence"/> decides
/// whether a storm is told one by one.
/// </summary>
internal sealed class Lobby(ServerOptions options, Users users, Rooms rooms, Outbox outbox, Presence presence, ChatHistory history, ModerationState moderation, Files.FileTransfers transfers, ILoop loop)
{
    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    /// <summary>Users whose connection is closing, in the order they were marked; those that were chatting are announced in the close phase.</summary>
    private readonly List<(ChatUser User, bool WasChatting, CloseReason Reason)> _leaving = [];

    /// <summary>A named (and, for a registered name, logged-in) user joins the chat: listed, in #lobby, shown its history, announced.</summary>
    public void Arrive(ChatUser user, long now)
    {
        string name = user.Name!;
        user.State = UserState.Chatting;
        users.List(user);
        Room lobby = rooms.Enter(user, Room.LobbyName);
        if (user.Rich)
        {
            outbox.Event(user, presence.UsersSnapshot(user), now); // Asked for before the login; the list is known only now.
        }

        if (moderation.MessageOfTheDay is { } motd)
        {
            outbox.Notice(user, Notices.MessageOfTheDay(motd), now);
        }

        history.Replay(user, lobby, options.HistoryOnJoin, now);
        Log.Info("#{Id} {User} joined from {Endpoint}", user.Id, name, user.Endpoint);
        bool announced = presence.Announced(arrival: true, now);
        presence.TellOnlineChanged(RichEventTypes.Online, name, reason: null, except: user, now); // Online first, then in a room, as it happened.
        if (announced && lobby.Members.Count <= options.AnnounceLimit)
        {
            outbox.AnnounceToRoom(lobby, Notices.Joined(name, users.OnlineCount),
                new RichEvent { Type = RichEventTypes.Entered, Name = name, Room = lobby.Name, Count = lobby.Members.Count }, except: user, now);
        }
    }

    /// <summary>Its connection is closing: the name is free from now on; the room is told in <see cref="TellDepartures"/>.</summary>
    public void Leaving(ChatUser user, CloseReason reason)
    {
        bool wasChatting = user.State == UserState.Chatting;
        user.State = UserState.Left;
        if (wasChatting)
        {
            users.Unlist(user.Name!);
        }

        _leaving.Add((user, wasChatting, reason));
    }

    /// <summary>
    /// The close phase: each user that was chatting leaves its room, which is told, and rich clients
    /// update their lists; then every closing user is let go. Telling can overflow another client
    /// and add it to the list, so it is walked by index.
    /// </summary>
    public void TellDepartures(long now)
    {
        for (int i = 0; i < _leaving.Count; i++)
        {
            (ChatUser gone, bool wasChatting, CloseReason reason) = _leaving[i];
            if (!wasChatting)
            {
                continue;
            }

            Room room = rooms.Leave(gone); // Here, not when it was marked: a room may be mid-relay when a member is dropped.
            if (loop.ShuttingDown)
            {
                continue;
            }

            transfers.InterruptTransfersOf(gone, now);
            string how = Notices.HowLeft(Notices.ClosedForOthers(reason), gone.KickedBy, gone.LeaveReason);
            if (presence.Announced(arrival: false, now) && room.Members.Count < options.AnnounceLimit)
            {
                outbox.AnnounceToRoom(room, Notices.Left(gone.Name!, how, users.OnlineCount),
                    new RichEvent { Type = RichEventTypes.Left, Name = gone.Name, Room = room.Name, Reason = how, Count = room.Members.Count }, except: null, now);
            }

            presence.TellOnlineChanged(RichEventTypes.Offline, gone.Name!, how, except: null, now);
        }

        foreach ((ChatUser gone, _, _) in _leaving)
        {
            users.Remove(gone);
        }

        _leaving.Clear();
    }
}
