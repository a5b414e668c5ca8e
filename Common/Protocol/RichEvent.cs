using System.Text.Json;
using System.Text.Json.Serialization;

namespace PollChat.Common.Protocol;

/// <summary>
/// PollChat's rich mode, carried inside classic frames. The server advertises it in its welcome
/// notice (<see cref="RichMode.Advertisement"/>); a client that understands it answers
/// <c>/rich 1</c>, and from then on receives, besides ordinary pairs, pairs from
/// <see cref="RichMode.EventSender"/> whose message is one JSON object: a <see cref="RichEvent"/>.
/// A client never sends anything extra unless advertised, so classic servers, which relay every
/// frame to everyone, see only the username and what the user types. PROTOCOL.md is the full text.
/// </summary>
public static class RichMode
{
    /// <summary>The version this code speaks; a server refuses others with an error event.</summary>
    public const int Version = 1;

    /// <summary>Ends the welcome notice of a server that speaks rich mode; classic clients print it as part of the welcome.</summary>
    public const string Advertisement = "[rich mode 1: /rich 1]";

    /// <summary>What a client sends, as an ordinary message frame, to switch its connection to rich mode.</summary>
    public const string Request = "/rich 1";

    /// <summary>The sender of every event pair: reserved like <see cref="ServerSender.Name"/> (it starts with '*'), so no user can forge an event.</summary>
    public const string EventSender = "*event*";

    /// <summary>The event as one line of JSON (camelCase names, absent fields left out).</summary>
    public static string Serialize(RichEvent richEvent) => JsonSerializer.Serialize(richEvent, RichEventJson.Default.RichEvent);

    /// <summary>Reads an event; null if <paramref name="json"/> is not an event object (a newer server's, or a forgery on a classic server).</summary>
    public static RichEvent? Parse(string json)
    {
        try
        {
            RichEvent? parsed = JsonSerializer.Deserialize(json, RichEventJson.Default.RichEvent);
            return parsed is { Type.Length: > 0 } ? parsed : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// One rich-mode event. A flat record: <see cref="Type"/> says which of the other fields are set
/// (see <see cref="RichEventTypes"/> and PROTOCOL.md), so a client in any language reads it with
/// one JSON parse and a switch.
/// </summary>
public sealed record RichEvent
{
    /// <summary>Which event this is: one of <see cref="RichEventTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>The user the event is about (hello: the client itself); file-offer: the file's name as the sender gave it.</summary>
    public string? Name { get; init; }

    /// <summary>Renamed: the name before.</summary>
    public string? Old { get; init; }

    /// <summary>Private, file-offer: who sent it.</summary>
    public string? From { get; init; }

    /// <summary>Private, file-offer: to whom.</summary>
    public string? To { get; init; }

    /// <summary>Private: the message; error: the sentence; topic: the new topic; away: your away text.</summary>
    public string? Text { get; init; }

    /// <summary>The room the event is about; hello, users: the client's own.</summary>
    public string? Room { get; init; }

    /// <summary>Room, topic: the room's topic; absent when it has none.</summary>
    public string? Topic { get; init; }

    /// <summary>Who did it (topic: who set it).</summary>
    public string? By { get; init; }

    /// <summary>Left, offline: why, as the others are told ("quit", "connection lost", "kicked by the operator: spam"); file-end: how the transfer ended.</summary>
    public string? Reason { get; init; }

    /// <summary>Entered, left: members of the room now; online, offline: users online now; rooms: rooms in all.</summary>
    public int? Count { get; init; }

    /// <summary>Users, room: the members of the room, sorted.</summary>
    public IReadOnlyList<string>? Members { get; init; }

    /// <summary>Users: everyone online, sorted.</summary>
    public IReadOnlyList<string>? Online { get; init; }

    /// <summary>Hello: the rich mode version.</summary>
    public int? Version { get; init; }

    /// <summary>
    /// Users, tracking: whether the server will keep sending the changes (entered, left, online,
    /// offline, renamed). False on servers with more users than the announce limit; a client
    /// then asks again (/users) instead of trusting its copy.
    /// </summary>
    public bool? Tracked { get; init; }

    /// <summary>File events: the transfer's number, given by the server.</summary>
    public int? Id { get; init; }

    /// <summary>File-offer: the file's size in bytes.</summary>
    public long? Size { get; init; }

    /// <summary>File-offer: the SHA-256 of the whole file, 64 lowercase hex digits.</summary>
    public string? Sha256 { get; init; }

    /// <summary>File-accept: the byte the data starts from (more than 0 when the receiver resumes).</summary>
    public long? Offset { get; init; }

    /// <summary>Rooms: every room (up to the server's listing limit), sorted by name; <see cref="Count"/> says how many there are in all.</summary>
    public IReadOnlyList<RoomSummary>? Rooms { get; init; }
}

/// <summary>One room in a rooms event: its name, how many are in it, and its topic if it has one.</summary>
public sealed record RoomSummary(string Name, int Members, string? Topic = null);

/// <summary>The values of <see cref="RichEvent.Type"/>.</summary>
public static class RichEventTypes
{
    /// <summary>The answer to /rich 1: the version, your name and room. A users event follows.</summary>
    public const string Hello = "hello";
    /// <summary>A snapshot: your room's members and everyone online, and whether changes will follow.</summary>
    public const string Users = "users";
    /// <summary>Changes stop following (the server grew past its announce limit): ask again with /users.</summary>
    public const string Tracking = "tracking";
    /// <summary>Someone connected (name, count online).</summary>
    public const string Online = "online";
    /// <summary>Someone disconnected (name, reason, count online).</summary>
    public const string Offline = "offline";
    /// <summary>Someone entered your room (name, room, count in it).</summary>
    public const string Entered = "entered";
    /// <summary>Someone left your room (name, room, reason, count in it).</summary>
    public const string Left = "left";
    /// <summary>Someone changed name (old, name).</summary>
    public const string Renamed = "renamed";
    /// <summary>You are now in a room (room, topic, members).</summary>
    public const string Room = "room";
    /// <summary>Your room's topic was set (room, text, by).</summary>
    public const string Topic = "topic";
    /// <summary>A private message to you, or the echo of one you sent (from, to, text).</summary>
    public const string Private = "private";
    /// <summary>A command of yours failed (text); nothing was sent or changed.</summary>
    public const string Error = "error";
    /// <summary>Your away state changed (text: your away text; absent when you are back).</summary>
    public const string Away = "away";
    /// <summary>The answer to /rooms (rooms, count).</summary>
    public const string Rooms = "rooms";
    /// <summary>A file is offered (id, from, to, name, size, sha256): to the receiver, and to the sender as its copy.</summary>
    public const string FileOffer = "file-offer";
    /// <summary>The receiver accepted (id, offset): to both; the sender starts sending from offset.</summary>
    public const string FileAccept = "file-accept";
    /// <summary>A transfer is over (id, reason: completed, declined, cancelled, expired, interrupted...): to both.</summary>
    public const string FileEnd = "file-end";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RichEvent))]
internal sealed partial class RichEventJson : JsonSerializerContext;
