using System.Text;
using PollChat.Common.Protocol;
using PollChat.Server.Chat;

namespace PollChat.Server.Commands;

/// <summary>
/// The commands about rooms: moving between them, listing them, topics, and a room's history and
/// search. A user is in one room at a time; moving is announced to both rooms (within the
/// announce limit) and replays the new room's last messages.
/// </summary>
internal sealed class RoomCommands(ServerOptions options, Rooms rooms, Outbox outbox, ChatHistory history)
{
    public void Join(CommandContext context, string roomName)
    {
        ChatUser user = context.Sender;
        long now = context.Now;
        string? problem = roomName.Length == 0 ? Notices.JoinUsage : Room.ValidateName(roomName);
        if (problem is not null)
        {
            context.Error(Notices.CannotJoin(problem));
            return;
        }

        Room old = user.Room!;
        if (Confusables.NameComparer.Equals(old.Name, roomName))
        {
            context.Error(Notices.AlreadyInRoom(old.Name));
            return;
        }

        rooms.Leave(user);
        if (old.Members.Count < options.AnnounceLimit)
        {
            outbox.AnnounceToRoom(old, Notices.LeftFor(user.Name!, roomName, old.Members.Count),
                new RichEvent { Type = RichEventTypes.Left, Name = user.Name, Room = old.Name, Reason = Notices.MovedTo(roomName), Count = old.Members.Count }, except: null, now);
        }

        Room room = rooms.Enter(user, roomName);
        if (room.Members.Count <= options.AnnounceLimit)
        {
            outbox.AnnounceToRoom(room, Notices.JoinedRoom(user.Name!, room.Name, room.Members.Count),
                new RichEvent { Type = RichEventTypes.Entered, Name = user.Name, Room = room.Name, Count = room.Members.Count }, except: user, now);
        }

        if (user.Rich)
        {
            outbox.Event(user, new RichEvent { Type = RichEventTypes.Room, Room = room.Name, Topic = room.Topic, Members = Rooms.MemberNames(room) }, now);
        }
        else
        {
            context.Reply(Notices.NowInRoom(room.Name, room.Members.Count, room.Topic));
        }

        history.Replay(user, room, options.HistoryOnJoin, now);
    }

    public void ShowRooms(CommandContext context)
    {
        if (!context.Sender.Rich)
        {
            context.Reply(rooms.Line(UserCommands.MaxNamesListed));
            return;
        }

        List<RoomSummary> list = [.. rooms.Sorted().Take(UserCommands.MaxNamesListed).Select(r => new RoomSummary(r.Name, r.Members.Count, r.Topic))];
        outbox.Event(context.Sender, new RichEvent { Type = RichEventTypes.Rooms, Rooms = list, Count = rooms.Count }, context.Now);
    }

    public void Topic(CommandContext context, string topic)
    {
        Room room = context.Sender.Room!;
        if (topic.Length == 0)
        {
            context.Reply(room.Topic is null ? Notices.NoTopic(room.Name) : Notices.Topic(room.Name, room.Topic));
        }
        else if (Encoding.UTF8.GetByteCount(topic) > Room.MaxTopicBytes)
        {
            context.Error(Notices.TopicTooLong(Room.MaxTopicBytes));
        }
        else
        {
            room.Topic = topic;
            outbox.AnnounceToRoom(room, Notices.TopicSet(context.Sender.Name!, room.Name, topic),
                new RichEvent { Type = RichEventTypes.Topic, Room = room.Name, Text = topic, By = context.Sender.Name }, except: null, context.Now);
        }
    }

    public void ShowHistory(CommandContext context, string args)
    {
        int count = ServerOptions.DefaultHistoryOnJoin;
        if (args.Length > 0 && (!int.TryParse(args, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count) || count is < 1 or > RoomHistory.Capacity))
        {
            context.Error(Notices.HistoryUsage(RoomHistory.Capacity));
            return;
        }

        if (!history.Replay(context.Sender, context.Sender.Room!, count, context.Now))
        {
            context.Reply(HistoryReplay.NoneYet(context.Sender.Room!.Name));
        }
    }

    public void Search(CommandContext context, string args) => history.Search(context.Sender, args, context.Now);
}
