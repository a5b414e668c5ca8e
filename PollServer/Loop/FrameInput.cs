using System.Net.Sockets;
using NLog;
using PollChat.Common.Framing;
using PollChat.Common.Net;
using PollChat.Common.Protocol;
using PollChat.Server.Chat;

namespace PollChat.Server.Loop;

/// <summary>
/// Everything that comes in: one receive per ready client per iteration into one shared buffer,
/// TLS records opened, whole frames cut where they lie and handed to the chat, and every pace a
/// reader is held to: the byte rate (not read until its budget refills), the message rate
/// (fakelag: frames wait unread and go on at the rate), the history writer's pace
/// (<see cref="IInputGate"/>), the name deadline and the slowloris clock. It never decides what a
/// frame means, and sends nothing itself but the one notice that a sender is being slowed.
/// </summary>
internal sealed class FrameInput
{
    /// <summary>
    /// Every client is read into this one buffer, and whole frames are handled where they lie.
    /// It is also the fairness cap: one receive per client per iteration, so a busy sender
    /// cannot starve the others, and many frames arrive per system call.
    /// </summary>
    public const int ReceiveBufferBytes = 64 * 1024;

    /// <summary>How often frames held back for the message rate look again for room in the history hand-off while the writer is behind.</summary>
    private const long StorageRetryMilliseconds = 50;

    /// <summary>How much of a frame's payload the chat sees to tell whether it passes a spent message rate: "/file data ", a 10-digit id, a 19-digit offset and the spaces between.</summary>
    private const int RatePeekBytes = 48;

    private static readonly Logger Log = LogManager.GetLogger(typeof(ChatServer).FullName!);

    private readonly ServerOptions _options;
    private readonly ServerCounters _counters;
    private readonly Timers _timers;
    private readonly Connections _connections;
    private readonly TlsSessions _tls;
    private readonly IConnectionHandler _chat;
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferBytes];

    // Timer callbacks, made once: registering a deadline allocates nothing.
    private readonly Action<object?, long> _resumeReads;
    private readonly Action<object?, long> _nameDeadline;
    private readonly Action<object?, long> _unfinishedFrameCheck;

    /// <summary>Kinds of handler failure already logged with their stack; later ones are counted in <see cref="ServerCounters.HandlerFailures"/>.</summary>
    private readonly HashSet<string> _failuresLogged = [];

    private IInputGate? _gate;
    private uint _readRotation;

    public FrameInput(ServerOptions options, ServerCounters counters, LoopClock clock, Timers timers, Connections connections, TlsSessions tls, IConnectionHandler chat)
    {
        _options = options;
        _counters = counters;
        _timers = timers;
        _connections = connections;
        _tls = tls;
        _chat = chat;
        _resumeReads = (state, now) => ResumeReads((ClientConnection)state!, now);
        _nameDeadline = (state, now) => NameDeadlinePassed((ClientConnection)state!, now);
        _unfinishedFrameCheck = (_, now) => DropClientsStuckMidFrame(now);
        timers.AtWhileReading(clock.Now + UnfinishedFrameCheckInterval, _unfinishedFrameCheck);
    }

    /// <summary>Stuck frames are looked for four times per timeout, so one is dropped at most a quarter late; a pass is one scan of the connections.</summary>
    private long UnfinishedFrameCheckInterval => Math.Max(100, (long)_options.UnfinishedFrameTimeout.TotalMilliseconds / 4);

    /// <summary>Whether the gate holds every read (the history writer is behind).</summary>
    public bool ReadsHeld => _gate?.ReadsHeld == true;

    /// <summary>
    /// Whether deadlines about clients' input must still wait: reads are held, or were when this
    /// iteration's read list was made, so the clients they are about have not been read since.
    /// </summary>
    public bool InputDeadlinesWait => ReadsHeld || _heldWhenListed;

    private bool _heldWhenListed;

    /// <summary>Before Select: whether this iteration's read list leaves clients out for the gate.</summary>
    public void NoteListing() => _heldWhenListed = ReadsHeld;

    /// <summary>What paces reads for storage, once the chat has opened it.</summary>
    public void SetGate(IInputGate? gate) => _gate = gate;

    /// <summary>Whether a client goes in Select's read list: not while paused, held back, or held by the gate.</summary>
    public bool WantsRead(ClientConnection client, long now) => client.ReadsPausedUntil <= now && !client.HeldBack && !HeldByGate(client);

    /// <summary>A new connection has until its deadline to send its name; not counted while reads are held.</summary>
    public void Accepted(ClientConnection client) => _timers.AtWhileReading(client.NameDeadline, _nameDeadline, client, NameArrivedOrGone);

    /// <summary>A name deadline no longer applies once the name came or the connection is closing.</summary>
    private static readonly Func<object?, bool> NameArrivedOrGone = state => state is ClientConnection { NameReceived: true } or ClientConnection { IsClosing: true };

    private void NameDeadlinePassed(ClientConnection client, long now)
    {
        if (!client.NameReceived && !client.IsClosing)
        {
            _connections.Close(client, CloseReason.NameTimeout, Notices.NameTimeout(_options.NameTimeout), now);
        }
    }

    public void ReadReady(List<Socket> ready, long now)
    {
        // Each iteration starts one further along, so when the history writer lets only some reads through, they are not always the same clients'.
        _tls.StartRound();
        int count = ready.Count;
        int start = count == 0 ? 0 : (int)(_readRotation++ % (uint)count);
        for (int i = 0; i < count; i++)
        {
            Socket socket = ready[(start + i) % count];
            if (_connections.TryGet(socket, out ClientConnection? client) && !_tls.HandshakeWaits(client))
            {
                try
                {
                    ReadFrom(client, now);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A bug met by one connection's input costs that connection, never the loop and everyone on it.
                    DropAfterFailure(client, e, now);
                }
            }
        }
    }

    /// <summary>
    /// Drops a connection whose input made the server fail. The first failure of each kind is
    /// logged with its stack (it is a bug to fix); repeats, which a peer can provoke at will, only
    /// count, and the close line says what failed.
    /// </summary>
    private void DropAfterFailure(ClientConnection client, Exception failure, long now)
    {
        _counters.HandlerFailures++;
        string kind = failure.GetType().Name + " at " + (failure.TargetSite?.Name ?? "?");
        if (_failuresLogged.Add(kind))
        {
            Log.Error(failure, "#{Id} {User} from {Endpoint}: handling its input failed; dropping it and going on", client.Id, client.Name ?? "(no name)", client.Endpoint);
        }

        _connections.Close(client, CloseReason.ServerError, Notices.ServerError, now, detail: kind + ": " + failure.Message);
    }

    /// <summary>A peer that starts a frame and never finishes it holds a buffer of up to a message's size for nothing (slowloris).</summary>
    private void DropClientsStuckMidFrame(long now)
    {
        long startedBefore = now - (long)_options.UnfinishedFrameTimeout.TotalMilliseconds;
        foreach (ClientConnection client in _connections.All)
        {
            if (client.UnfinishedFrameSince != 0 && client.UnfinishedFrameSince <= startedBefore && !client.IsClosing)
            {
                string what = Notices.FrameNotFinished(_options.UnfinishedFrameTimeout);
                _connections.Close(client, CloseReason.BadFrame, Notices.BadFrame(what), now, detail: what);
            }
        }

        _timers.AtWhileReading(now + UnfinishedFrameCheckInterval, _unfinishedFrameCheck);
    }

    /// <summary>
    /// A pause is over: the client is read again (<see cref="WantsRead"/> looks at the time), and one
    /// held back for the message rate gets its waiting frames first, as many as the rate now
    /// allows. A pause that was made longer meanwhile waits for its new end.
    /// </summary>
    private void ResumeReads(ClientConnection client, long now)
    {
        if (client.IsDisposed)
        {
            return;
        }

        if (client.ReadsPausedUntil > now)
        {
            _timers.At(client.ReadsPausedUntil, _resumeReads, client);
            return;
        }

        client.ReadsPausedUntil = 0;
        if (!client.HeldBack || client.IsClosing)
        {
            return;
        }

        if (!BufferedFramesPass(client, now))
        {
            PauseReadsUntil(client, now + StorageRetryMilliseconds); // The history writer is behind: its frames wait a little longer, unread.
            return;
        }

        try
        {
            DecodeFrames(client, ReadOnlySpan<byte>.Empty, now); // Holds it back again (and pauses it) if frames still wait.
            NoteUnfinishedFrame(client, finishedAFrame: true, now);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            DropAfterFailure(client, e, now);
        }
    }

    /// <summary>One receive per ready client per iteration (see <see cref="ReceiveBufferBytes"/>); a closing client's bytes are read only to be dropped, so our FIN is not turned into a reset.</summary>
    private void ReadFrom(ClientConnection client, long now)
    {
        int allowance = client.Bytes.Allowance(_options.BytesPerSecond, _options.ByteBurst, now, _receiveBuffer.Length);
        if (allowance == 0)
        {
            PauseReads(client); // Not a read of zero bytes, which would look like the peer's FIN.
            return;
        }

        allowance = GateAllowance(client, allowance, now);
        if (allowance == 0)
        {
            return; // The history writer is behind: no client is read until it catches up (WantsRead leaves them out).
        }

        int received = client.Receive(_receiveBuffer.AsSpan(0, allowance), out SocketError error);
        DisconnectKind kind = Disconnects.ClassifyReceive(received, error);
        if (received > 0)
        {
            _counters.BytesIn += received;
            if (!client.Bytes.Spend(received, _options.BytesPerSecond, _options.ByteResumeBytes))
            {
                PauseReads(client);
            }

            bool finishedAFrame = client.Tls is null
                ? DecodeFrames(client, _receiveBuffer.AsSpan(0, received), now)
                : DecryptAndDecode(client, _receiveBuffer.AsSpan(0, received), now);
            NoteUnfinishedFrame(client, finishedAFrame, now);
            return;
        }

        if (kind == DisconnectKind.WouldBlock)
        {
            return;
        }

        client.PeerGone = true;
        CloseReason reason = kind switch
        {
            DisconnectKind.ClosedByPeer => CloseReason.ClosedByPeer,
            DisconnectKind.Reset => CloseReason.ConnectionReset,
            _ => CloseReason.SocketError,
        };
        _connections.Close(client, reason, notice: null, now, detail: kind == DisconnectKind.Error ? error.ToString() : null);
    }

    /// <summary>Starts or stops the slowloris clock: bytes left over that are not frames held back for the rate are the start of a frame still arriving.</summary>
    private static void NoteUnfinishedFrame(ClientConnection client, bool finishedAFrame, long now)
    {
        if (client.Inbound.BufferedCount == 0 || client.HeldBack)
        {
            client.UnfinishedFrameSince = 0;
        }
        else if (finishedAFrame || client.UnfinishedFrameSince == 0)
        {
            client.UnfinishedFrameSince = now; // The bytes held are the start of a new frame.
        }
    }

    /// <summary>
    /// A client sending faster than the byte rate is not read again until its budget refills:
    /// its bytes wait in its own socket buffer and then TCP holds it back, so it costs the loop
    /// nothing, and it is not dropped, because a burst of honest traffic looks the same.
    /// </summary>
    private void PauseReads(ClientConnection client)
    {
        PauseReadsUntil(client, client.Bytes.RefilledAt(_options.BytesPerSecond, _options.ByteResumeBytes));
        _counters.ReadPauses++;
        if (!client.WasEverPaused)
        {
            client.WasEverPaused = true;
            Log.Info("#{Id} {User} from {Endpoint} sends over {Rate} bytes/s; reading it only as fast as that",
                client.Id, client.Name ?? "(no name)", client.Endpoint, _options.BytesPerSecond);
        }
    }

    /// <summary>Leaves a client out of the read list until <paramref name="until"/> (loop milliseconds), or longer if it was paused longer already.</summary>
    private void PauseReadsUntil(ClientConnection client, long until)
    {
        if (client.ReadsPausedUntil == 0)
        {
            _timers.At(until, _resumeReads, client); // Zero means no resume is due; a pause made longer meanwhile is found by the resume itself.
        }

        client.ReadsPausedUntil = Math.Max(client.ReadsPausedUntil, until);
    }

    /// <summary>
    /// Handles every whole frame in what the client has buffered followed by <paramref name="input"/>,
    /// as far as the message rate allows, and keeps the rest; returns whether any frame was finished.
    /// </summary>
    private bool DecodeFrames(ClientConnection client, ReadOnlySpan<byte> input, long now)
    {
        bool finishedAFrame = false;
        Span<byte> payloadStart = stackalloc byte[RatePeekBytes];
        while (!client.IsClosing)
        {
            bool awaitingName = !client.NameReceived;
            if (!awaitingName && !client.Rate.HasToken(_options.MessagesPerSecond, _options.MessageBurst, now))
            {
                FrameReadStatus next = client.Inbound.PeekNext(input, payloadStart, out int startLength, out int nextLength);
                if (next == FrameReadStatus.NeedMoreData)
                {
                    // No whole frame yet, so nothing to hold back: keep reading (a frame has a length limit, and a stuck one a deadline).
                    client.Inbound.Append(input);
                    client.HeldBack = false;
                    return finishedAFrame;
                }

                if (next == FrameReadStatus.Frame && !_chat.PassesRate(client, payloadStart[..startLength], nextLength))
                {
                    HoldBack(client, input, now);
                    return finishedAFrame;
                }
            }

            int limit = awaitingName ? _options.MaxUsernameBytes : _options.MaxMessageBytes;
            FrameReadStatus status = client.Inbound.TryReadFrom(ref input, limit, out ReadOnlySpan<byte> payload, out FrameError error, out int declared);
            if (status == FrameReadStatus.NeedMoreData)
            {
                client.HeldBack = false; // Nothing whole is waiting any more: the socket is read again.
                return finishedAFrame;
            }

            if (status == FrameReadStatus.Invalid)
            {
                string what = FrameHeader.Describe(error, declared, limit);
                if (awaitingName && error == FrameError.LengthOverLimit)
                {
                    _connections.Close(client, CloseReason.NameRejected, Notices.NameRejected(Notices.NameTooLong(limit)), now, detail: what);
                }
                else
                {
                    _connections.Close(client, CloseReason.BadFrame, Notices.BadFrame(what), now, detail: what);
                }

                return finishedAFrame;
            }

            finishedAFrame = true;
            _counters.FramesIn++;
            if (awaitingName)
            {
                client.NameReceived = true;
                _chat.NameArrived(client, payload, now);
            }
            else
            {
                _chat.FrameArrived(client, payload, now);
            }
        }

        return finishedAFrame;
    }

    /// <summary>
    /// Fakelag: the message rate ran out, so the rest of what this client sent waits unread, in its
    /// own buffer (at most one receive more than it had) and then in TCP, which slows the sender.
    /// Nothing is dropped and order is kept. The sender hears why once per hold; a sender held back
    /// without a break for the flood timeout is dropped, since what waits then only grows.
    /// </summary>
    private void HoldBack(ClientConnection client, ReadOnlySpan<byte> unread, long now)
    {
        client.Inbound.Append(unread);
        if (!client.HeldBack)
        {
            client.HeldBack = true;
            client.HeldBackSince = now;
            _counters.HeldBack++;
            _connections.SendNotice(client, Notices.SlowDown(_options.MessagesPerSecond, _options.MessageBurst), now);
            if (!client.WasEverHeldBack)
            {
                client.WasEverHeldBack = true;
                Log.Info("#{Id} {User} from {Endpoint} sends over {Rate} messages/s; its messages wait and go on at that rate",
                    client.Id, client.Name ?? "(no name)", client.Endpoint, _options.MessagesPerSecond);
            }
        }
        else if (now - client.HeldBackSince >= (long)_options.FloodTimeout.TotalMilliseconds)
        {
            _connections.Close(client, CloseReason.Flooding, Notices.Flooding(_options.FloodTimeout, _options.MessagesPerSecond), now,
                detail: $"held back for over {_options.FloodTimeout.TotalSeconds:0} s without a break");
            return;
        }

        PauseReadsUntil(client, now + client.Rate.MillisecondsUntilNext(_options.MessagesPerSecond));
    }

    /// <summary>Feeds received ciphertext to the client's TLS session and handles whatever plaintext comes out; returns whether a frame was finished.</summary>
    private bool DecryptAndDecode(ClientConnection client, ReadOnlySpan<byte> cipher, long now)
    {
        TlsChannel tls = client.Tls!;
        long handshakeTicks = client.Decrypt(cipher, out bool handshakeDone);
        _counters.TlsHandshakeTicks += handshakeTicks;
        _counters.TlsHandshakes += handshakeDone ? 1 : 0;

        bool finishedAFrame = false;
        while (!client.IsClosing && tls.TryReadPlaintext(out ReadOnlySpan<byte> plaintext))
        {
            finishedAFrame |= DecodeFrames(client, plaintext, now);
        }

        if (tls.Failure is { } failure)
        {
            client.PeerGone = true; // Nothing readable can be sent to a peer whose TLS failed.
            _connections.Close(client, CloseReason.BadTls, notice: null, now, detail: failure.Message);
        }
        else if (tls.PeerClosed)
        {
            // close_notify is answered with close_notify (flushed in this iteration, before the close phase), so the peer knows nothing was cut off.
            tls.Shutdown();
            _connections.ScheduleFlush(client);
            _connections.Close(client, CloseReason.ClosedByPeer, notice: null, now);
        }
        else if (!tls.CipherPending.IsEmpty)
        {
            _connections.ScheduleFlush(client); // Handshake messages to answer with.
        }

        return finishedAFrame;
    }

    /// <summary>
    /// How much of <paramref name="wanted"/> may be received from a client so that every message it
    /// could complete is sure to be kept; 0 while the gate holds reads. A closing client's bytes
    /// are only read to be dropped, so it is always read.
    /// </summary>
    private int GateAllowance(ClientConnection client, int wanted, long now) =>
        _gate is null || client.IsClosing ? wanted : _gate.StorableReadBytes(client.Inbound.BufferedCount, client.Tls is not null, wanted, now);

    /// <summary>Whether the frames a client has waiting (held back for the message rate) may be handed on now: all of them must fit, as for a read.</summary>
    private bool BufferedFramesPass(ClientConnection client, long now) =>
        _gate is null || client.IsClosing || _gate.CanStoreBuffered(client.Inbound.BufferedCount, now);

    /// <summary>Whether a client is left out of the read list because the gate holds reads.</summary>
    private bool HeldByGate(ClientConnection client) => _gate is { ReadsHeld: true } && !client.IsClosing;

    /// <summary>
    /// Once per iteration: reads resume when the gate has caught up. Time spent not being read
    /// does not count against a client's unfinished frame (nor is that check made meanwhile).
    /// </summary>
    public void ResumeReadsIfCaughtUp(long now)
    {
        long held = _gate?.ResumeReadsIfCaughtUp(now) ?? 0;
        if (held == 0)
        {
            return;
        }

        foreach (ClientConnection client in _connections.All)
        {
            if (client.UnfinishedFrameSince != 0)
            {
                client.UnfinishedFrameSince += held;
            }
        }
    }
}
