using System.Text;
using System.Text.Unicode;
using NLog;
using PollChat.Common.Protocol;
using PollChat.Server.Accounts;
using PollChat.Server.Commands;
using PollChat.Server.Files;
using PollChat.Server.Loop;
using PollChat.Server.Moderation;

namespace PollChat.Server.Chat;

/// <summary>
/// What a frame means. A connection's first frame is its name: checked, then the user arrives or
/// waits to log in. Every later frame goes down one straight list of checks: file data (paced by
/// its transfer), the message rate's charge, empty, invalid UTF-8, control characters, login
/// first, then a command, a "//" literal, or a message relayed to the room and kept in its
/// history. It never touches a socket: it answers through the <see cref="Outbox"/> and closes
/// through <see cref="IConnections"/>.
/// </summary>
internal sealed class MessageHandler(
    ServerOptions options,
    Users users,
    Lobby lobby,
    Logins logins,
    ModerationState moderation,
    FileTransfers transfers,
    ChatHistory history,
    Outbox outbox,
    CommandTable commands,
    IConnections connections,
    ServerCounters counters)
{
    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    /// <summary>A message with control characters is copied once without them, into this reused buffer.</summary>
    private byte[] _cleanScratch = new byte[4096];

    /// <summary>The name whose next message makes its handler throw, as a bug would; set only by tests.</summary>
    private string? _failNextMessageOf;

    /// <summary>A test seam: the next message from <paramref name="name"/> makes its handler throw.</summary>
    public void FailNextMessageOf(string name) => _failNextMessageOf = name;

    public void NameArrived(ChatUser user, ReadOnlySpan<byte> payload, long now)
    {
        string? problem = Username.Validate(payload, options.MaxUsernameBytes);
        if (problem is not null)
        {
            Close(user, CloseReason.NameRejected, Notices.NameRejected(problem), now, detail: problem);
            return;
        }

        string name = Encoding.UTF8.GetString(payload);
        bool registered = logins.IsRegistered(name);
        if (!registered && logins.NameInUse(name)) // A registered name is taken by logging in, whoever holds it (Logins).
        {
            Close(user, CloseReason.NameRejected, Notices.NameTaken(name, logins.HeldName(name)), now, detail: $"'{name}' is taken");
            return;
        }

        if (moderation.BanOn(name) is { } ban)
        {
            Close(user, CloseReason.Banned, Notices.Banned(ban.UtcUntil), now, detail: "name banned");
            return;
        }

        if (options.RequireLogin && !registered)
        {
            Close(user, CloseReason.NameRejected, Notices.NameRejected(Notices.RegisteredNamesOnly), now, detail: "not a registered name");
            return;
        }

        if (registered && !logins.MakeRoomToClaim(name, now))
        {
            Close(user, CloseReason.NameRejected, Notices.ClaimsBusy(name), now, detail: $"'{name}' has too many connections logging in");
            return;
        }

        outbox.Notice(user, Notices.Welcome(name, users.OnlineNames), now); // Before adding: the list is of the others.
        user.AcceptName(name, loginFirst: registered);
        if (registered)
        {
            logins.AwaitLogin(user, now);
            return;
        }

        lobby.Arrive(user, now);
    }

    public void FrameArrived(ChatUser user, ReadOnlySpan<byte> payload, long now)
    {
        if (_failNextMessageOf is not null && string.Equals(user.Name, _failNextMessageOf, StringComparison.OrdinalIgnoreCase))
        {
            _failNextMessageOf = null;
            throw new InvalidOperationException("a failure injected by a test");
        }

        bool valid = Utf8.IsValid(payload);
        if (valid && !payload.IsEmpty && payload[0] == (byte)'/' && user.State == UserState.Chatting && transfers.TryHandleFileStream(user, payload, now))
        {
            return; // File data and acknowledgements are paced by the transfer's window, not by the message rate.
        }

        // Every other frame costs a message of the rate, refused ones too: refusing must not be free.
        connections.ChargeMessage(user.Connection);
        if (payload.IsEmpty)
        {
            return; // Nothing to say; classic clients never send it, and relaying it would show a blank line.
        }

        if (!valid)
        {
            if (user.InvalidUtf8.Count(now, out int repeats))
            {
                Log.Info("#{Id} {User} sent a message that is not valid UTF-8 ({Bytes} bytes); refused{Repeats}", user.Id, user.Name, payload.Length,
                    repeats == 0 ? "" : $" ({repeats} more refused since the last line)");
            }

            outbox.Error(user, Notices.InvalidUtf8, now);
            return;
        }

        if (ControlCharacters.Any(payload))
        {
            // Escape sequences and the like never reach another terminal; the rare message that has them is copied once, without them.
            if (_cleanScratch.Length < payload.Length)
            {
                _cleanScratch = new byte[Math.Max(payload.Length, _cleanScratch.Length * 2)];
            }

            payload = _cleanScratch.AsSpan(0, ControlCharacters.Strip(payload, _cleanScratch));
            if (payload.IsEmpty)
            {
                return;
            }
        }

        if (user.State == UserState.AwaitingLogin && payload[0] != (byte)'/')
        {
            outbox.Error(user, Notices.LogInFirst, now);
            return;
        }

        if (payload[0] == (byte)'/')
        {
            if (payload.Length > 1 && payload[1] == (byte)'/')
            {
                if (!moderation.RefusedAsMuted(user, now))
                {
                    Relay(user, payload[1..], now); // "//text" is how a user says "/text" literally.
                }
            }
            else
            {
                commands.RunForUser(user, Encoding.UTF8.GetString(payload), now);
            }

            return;
        }

        if (!moderation.RefusedAsMuted(user, now))
        {
            Relay(user, payload, now);
        }
    }

    /// <summary>Relays a message to the sender's room as [name frame][message frame], encoded once and copied to each recipient, and keeps it.</summary>
    private void Relay(ChatUser sender, ReadOnlySpan<byte> message, long now)
    {
        if (Log.IsDebugEnabled)
        {
            Log.Debug("#{Id} {User} said {Bytes} bytes in {Room}", sender.Id, sender.Name, message.Length, sender.Room!.Name);
        }

        sender.LastMessageAt = now;
        outbox.ToRoom(sender.Room!, sender.NameFrame, message, except: sender, now, from: sender.Name);
        history.Remember(sender.Room!, sender.Name!, message);
        counters.MessagesRelayed++;
    }

    /// <summary>Refuses a user before it has a name (a banned address).</summary>
    public void Refuse(ChatUser user, CloseReason reason, string notice, long now, string detail) => Close(user, reason, notice, now, detail);

    private void Close(ChatUser user, CloseReason reason, string notice, long now, string detail) =>
        connections.Close(user.Connection, reason, notice, now, detail);
}
