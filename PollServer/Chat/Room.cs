using System.Text;
using PollChat.Common.Protocol;

namespace PollChat.Server.Chat;

/// <summary>
/// A room: its name, topic and members. Every user is in exactly one room at a time, which is
/// what a classic client's single stream of pairs can show; a plain message goes to the
/// sender's room only. A room exists while it has members; its history outlives it.
/// </summary>
internal sealed class Room(string name, RoomHistory history)
{
    /// <summary>Where everyone starts, and where /leave goes.</summary>
    public const string LobbyName = "#lobby";

    /// <summary>Long enough for a project or class name, short enough for one line of /rooms.</summary>
    public const int MaxNameBytes = 32;

    /// <summary>A sentence or two; a topic is a signpost, not a document.</summary>
    public const int MaxTopicBytes = 200;

    public string Name { get; } = name;

    public string? Topic { get; set; }

    /// <summary>The room's last messages. The server keeps it when the room empties, and fills it from the history file at start.</summary>
    public RoomHistory History { get; } = history;

    /// <summary>The room's members, in joining order; only chatting clients are here.</summary>
    public List<ChatUser> Members { get; } = [];

    /// <summary>Null when <paramref name="name"/> can be a room name, otherwise why not: the characters, then <see cref="NamePolicy"/>'s forms and scripts.</summary>
    public static string? ValidateName(string name)
    {
        bool valid = name.Length >= 2 && name[0] == '#' && Encoding.UTF8.GetByteCount(name) <= MaxNameBytes
            && name.Skip(1).All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.');
        return !valid ? Notices.RoomNameRules(MaxNameBytes)
            : NamePolicy.Check(Encoding.UTF8.GetBytes(name)) switch
            {
                NameProblem.None => null,
                NameProblem.MixedScripts => Notices.RoomNameMixesScripts,
                _ => Notices.RoomNameCompatibilityForm,
            };
    }
}
