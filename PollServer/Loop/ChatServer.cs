using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using NLog;
using PollChat.Common.Framing;
using PollChat.Common.Net;
using PollChat.Common.Protocol;
using PollChat.Server.Chat;

namespace PollChat.Server.Loop;

/// <summary>
/// The loop: one thread, one <see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>
/// over the listeners, every client and a wake-up socket. It accepts, reads, cuts frames, paces
/// readers (byte rate, message rate, the history writer's pace), queues and flushes output within
/// its budgets, runs deadlines and closes. It never decides what a frame means: whole frames go to
/// the chat through <see cref="IConnectionHandler"/>, and the chat answers through
/// <see cref="IConnections"/>. <see cref="ClientConnection"/> owns each client's socket, buffers
/// and TLS. Other threads talk to the loop only through <see cref="Post"/>.
/// </summary>
public sealed class ChatServer : IDisposable, IConnections
{
    /// <summary>
    /// Every client is read into this one buffer, and whole frames are handled where they lie.
    /// It is also the fairness cap: one receive per client per iteration, so a busy sender
    /// cannot starve the others, and many frames arrive per system call.
    /// </summary>
    private const int ReceiveBufferBytes = 64 * 1024;

    /// <summary>Accepting a burst of connections is bounded the same way, so chat keeps flowing during a connect storm.</summary>
    private const int MaxAcceptsPerIteration = 256;

    /// <summary>How often output buffers of clients that had no output since the last sweep are let go.</summary>
    internal const long BufferSweepIntervalMilliseconds = 5_000;

    /// <summary>
    /// The kernel's send buffer per client (Linux doubles it for its own bookkeeping). Left to
    /// autotuning it grows to 4 MiB for a reader that stopped, beside the 1 MiB we hold ourselves.
    /// 64 KiB was tried: a reader on a busy machine then fell behind a sender with no rate limit by
    /// more than its own limit and was dropped, so 256 KiB keeps that slack while bounding the rest.
    /// </summary>
    private const int SocketSendBufferBytes = 256 * 1024;

    /// <summary>Output memory let go since the most held, past which the loop asks the runtime to give it back to the system.</summary>
    private const long GiveBackThresholdBytes = 32L * 1024 * 1024;

    /// <summary>Giving memory back is a full, compacting collection that pauses the loop: at most once a minute.</summary>
    private const long GiveBackIntervalMilliseconds = 60_000;

    /// <summary>How often frames held back for the message rate look again for room in the history hand-off while the writer is behind.</summary>
    private const long StorageRetryMilliseconds = 50;

    /// <summary>How much of a frame's payload the chat sees to tell whether it passes a spent message rate: "/file data ", a 10-digit id, a 19-digit offset and the spaces between.</summary>
    private const int RatePeekBytes = 48;

    /// <summary>Select takes microseconds in an int; waits are capped well below its overflow.</summary>
    private const int MaxSelectWaitMilliseconds = 60_000;

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    private readonly ServerOptions _options;
    private readonly WakeSignal _wake = new();
    private readonly ConcurrentQueue<Action> _posted = new();

    private readonly List<ClientConnection> _connections = [];
    private readonly Dictionary<Socket, ClientConnection> _bySocket = [];
    // The interface, not ChatService: the loop reaches the chat through it alone, whatever is behind it.
#pragma warning disable CA1859
    private readonly IConnectionHandler _chat;
#pragma warning restore CA1859
    private readonly Admission _admission;
    private readonly TlsSessions _tls;
    private IInputGate? _gate;

    // Every client waits for its name with the same timeout, so this queue is in deadline order
    // and the timer check looks only at its head.
    private readonly Queue<ClientConnection> _nameDeadlines = new();

    // Marked in Disconnect, handled at the end of the iteration: closing clients until disposed, chatting ones until their room is told.
    private readonly List<ClientConnection> _closing = [];
    // Clients over their byte rate or message rate, left out of the read list until their time in ReadsPausedUntil.
    private readonly List<ClientConnection> _readsPaused = [];
    // Held-back clients whose pause just ended, handed their waiting frames after the paused list is tidied.
    private readonly List<ClientConnection> _resumedHeldBack = [];
    private List<ClientConnection> _pendingOutput = [];
    private List<ClientConnection> _stillPending = [];

    // Select rewrites the lists it is given, so they are rebuilt every iteration from these reused objects.
    private readonly List<Socket> _readList = [];
    private readonly List<Socket> _writeList = [];

    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferBytes];
    private Socket? _listener;
    private Socket? _tlsListener;
    private long _nextConnectionId;
    private uint _readRotation;
    private bool _shuttingDown;
    private bool _stopped;
    private long _nextBufferSweep = Environment.TickCount64 + BufferSweepIntervalMilliseconds;
    private long _nextUnfinishedFrameCheck;
    private readonly ServerCounters _counters = new();
    private readonly OutputMemory _outputMemory = new();

    private long _nextGiveBack;

    /// <summary>Kinds of handler failure already logged with their stack; later ones are counted in <see cref="ServerCounters.HandlerFailures"/>.</summary>
    private readonly HashSet<string> _failuresLogged = [];

    /// <summary>A server with the chat of <see cref="Chat.ChatService"/> behind its loop: the one place the two are put together.</summary>
    public ChatServer(ServerOptions options)
    {
        _options = options;
        _nextUnfinishedFrameCheck = Environment.TickCount64 + UnfinishedFrameCheckInterval;
        var addressLimits = new AddressLimits(options.MaxPerAddress, options.ConnectsPerMinute);
        _admission = new Admission(options, addressLimits);
        _tls = new TlsSessions(options, _counters);
        _chat = new ChatService(options, this, _counters, addressLimits);
    }

    /// <summary>Stuck frames are looked for four times per timeout, so one is dropped at most a quarter late; a pass is one scan of the connections.</summary>
    private long UnfinishedFrameCheckInterval => Math.Max(100, (long)_options.UnfinishedFrameTimeout.TotalMilliseconds / 4);

    /// <summary>The address the listener is bound to; set by <see cref="Start"/>.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>
    /// Binds and listens. Port 0 picks a free port; <see cref="LocalEndPoint"/> tells which.
    /// </summary>
    /// <exception cref="SocketException">The address cannot be bound (in use, not local, no permission).</exception>
    /// <exception cref="Storage.DataDirectoryException">The history file cannot be opened or written.</exception>
    public IPEndPoint Start()
    {
        _gate = _chat.Open();
        try
        {
            IPAddress address = ResolveHost(_options.Host);
            if (_options.TlsPort is { } tlsPort)
            {
                _tls.Prepare();
                _tlsListener = Listen(address, tlsPort);
                TlsEndPoint = (IPEndPoint)_tlsListener.LocalEndPoint!;
                Log.Info("Listening on {Endpoint} with TLS", TlsEndPoint);
            }

            if (!_options.TlsOnly)
            {
                _listener = Listen(address, _options.Port);
                LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
                Log.Info("Listening on {Endpoint}", LocalEndPoint);
            }
        }
        catch
        {
            _tlsListener?.Dispose();
            _listener?.Dispose();
            _chat.Close();
            throw;
        }

        _chat.Started(_wake.Wake);
        return LocalEndPoint ?? TlsEndPoint!;
    }

    /// <summary>The TLS listener's address, when there is one; set by <see cref="Start"/>.</summary>
    public IPEndPoint? TlsEndPoint { get; private set; }

    private static Socket Listen(IPAddress address, int port)
    {
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(512);
            listener.Blocking = false;
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Runs the loop on the calling thread until a shutdown has closed every connection.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Start"/> was not called.</exception>
    public void Run()
    {
        if (_listener is null && _tlsListener is null)
        {
            throw new InvalidOperationException("Start the server before running it.");
        }

        while (!_stopped)
        {
            BuildSelectLists(Environment.TickCount64);
            WaitForReadiness();
            long now = Environment.TickCount64;
            bool listenerReady = false;
            bool tlsListenerReady = false;
            foreach (Socket socket in _readList)
            {
                if (socket == _wake.Socket)
                {
                    RunPostedActions();
                }
                else if (socket == _listener)
                {
                    listenerReady = true;
                }
                else if (socket == _tlsListener)
                {
                    tlsListenerReady = true;
                }
            }

            if (listenerReady)
            {
                AcceptNewConnections(_listener, now);
            }

            if (tlsListenerReady)
            {
                AcceptNewConnections(_tlsListener, now);
            }

            ReadReadyClients(now);
            FlushPendingOutput();
            RunTimers(now);
            CloseMarkedConnections();
            _stopped = _shuttingDown && _connections.Count == 0;
        }

        _chat.Stopped(Environment.TickCount64);
        Log.Info("Stopped after relaying {Messages} messages", _counters.MessagesRelayed);
        Log.Info(StatsLine());
    }

    /// <summary>Runs <paramref name="action"/> on the loop thread at its next iteration. Safe from any thread.</summary>
    public void Post(Action action)
    {
        _posted.Enqueue(action);
        _wake.Wake();
    }

    /// <summary>A test seam: the next message from <paramref name="name"/> makes its handler throw, so tests can show a bug costs only its connection. Safe from any thread.</summary>
    internal void FailNextMessageOf(string name) => Post(() => _chat.FailNextMessageOf(name));

    /// <summary>
    /// Runs one operator command line on the loop thread; <paramref name="reply"/> is called
    /// there with each line of the answer. The leading '/' may be left out. Safe from any thread.
    /// </summary>
    public void RunOperatorCommand(string line, Action<string> reply) => Post(() => _chat.RunOperatorCommand(line, reply));

    /// <summary>Logs one line of counters (see <see cref="ServerCounters.Snapshot"/>), taken on the loop thread. Safe from any thread.</summary>
    public void RequestStats() => Post(() => Log.Info(StatsLine()));

    /// <summary>The counters line, taken on the loop thread.</summary>
    public string StatsLine() => _counters.Snapshot(_connections.Count, _chat.NotStored, TlsSessions.CallsOffLoopLive(_connections), _outputMemory.Held);

    /// <summary>The chat's way to <see cref="RequestShutdown"/>, already on the loop thread.</summary>
    void IConnections.Shutdown() => BeginShutdown();

    /// <summary>A next turn at once.</summary>
    public void Wake() => _wake.Wake();

    /// <summary>Stops accepting, tells every client the server is going, flushes for at most the close timeout, then lets <see cref="Run"/> return. Safe from any thread.</summary>
    public void RequestShutdown() => Post(BeginShutdown);

    /// <summary>Closes every socket, then lets the history writer commit what it was handed and close the file.</summary>
    public void Dispose()
    {
        foreach (ClientConnection client in _connections)
        {
            client.Dispose();
        }

        _listener?.Dispose();
        _tlsListener?.Dispose();
        _chat.Close();
        _wake.Dispose();
    }

    // ---- One iteration, in order -------------------------------------------------------

    private void BuildSelectLists(long now)
    {
        ResumeReadsIfCaughtUp(now);
        _readList.Clear();
        _writeList.Clear();
        _readList.Add(_wake.Socket);
        if (_listener is not null)
        {
            _readList.Add(_listener);
        }

        if (_tlsListener is not null)
        {
            _readList.Add(_tlsListener);
        }

        foreach (ClientConnection client in _connections)
        {
            if (client.ReadsPausedUntil <= now && !client.HeldBack && !HeldByGate(client))
            {
                _readList.Add(client.Socket);
            }
        }

        foreach (ClientConnection client in _pendingOutput)
        {
            if (!client.IsDisposed && !client.PeerGone && !client.Aborted)
            {
                _writeList.Add(client.Socket);
            }
        }
    }

    private void WaitForReadiness()
    {
        int waitMilliseconds = MillisecondsToNextTimer(Environment.TickCount64);
        int microseconds = waitMilliseconds < 0 ? -1 : waitMilliseconds * 1000;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        Socket.Select(_readList, _writeList.Count > 0 ? _writeList : null, null, microseconds);
        _counters.SelectAllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        _counters.SelectCalls++;
        _counters.ReadySockets += _readList.Count + _writeList.Count;
    }

    private void RunPostedActions()
    {
        _wake.Drain();
        while (_posted.TryDequeue(out Action? action))
        {
            try
            {
                action();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A worker's result (a login, a search) that fails to apply must not take the loop with it.
                _counters.HandlerFailures++;
                Log.Error(e, "A result posted to the loop failed to apply; going on");
            }
        }
    }

    private void AcceptNewConnections(Socket? listener, long now)
    {
        for (int i = 0; i < MaxAcceptsPerIteration && listener is not null; i++)
        {
            Socket socket;
            try
            {
                socket = listener.Accept();
            }
            catch (SocketException e) when (Disconnects.Classify(e.SocketErrorCode) != DisconnectKind.Error)
            {
                return; // Would block (nothing left to accept) or the peer gave up while queued.
            }
            catch (SocketException e)
            {
                Log.Warn("Accept failed: {Error}", e.SocketErrorCode);
                return;
            }

            socket.Blocking = false;
            socket.NoDelay = true;
            socket.SendBufferSize = SocketSendBufferBytes;
            _counters.Accepted++;
            // A TLS client's name deadline also bounds its handshake: a stalled or garbage handshake is dropped like a silent peer.
            var client = new ClientConnection(socket, ++_nextConnectionId, now, now + (long)_options.NameTimeout.TotalMilliseconds, _outputMemory)
            {
                Tls = listener == _tlsListener ? _tls.NewSession() : null,
                AddressKey = AddressLimits.KeyOf(socket),
            };
            client.Index = _connections.Count;
            _connections.Add(client);
            _bySocket.Add(socket, client);
            Log.Debug("Connection #{Id} from {Endpoint}", client.Id, client.Endpoint);

            if (_connections.Count - _closing.Count > _options.MaxClients)
            {
                Disconnect(client, CloseReason.ServerFull, Notices.ServerFull(_options.MaxClients), now);
            }
            else
            {
                _chat.Accepted(client, now); // The chat may refuse it (a banned address) before its address is counted.
                if (client.IsClosing)
                {
                    continue;
                }

                if (_admission.Admit(client, now, out string notice, out string why))
                {
                    _nameDeadlines.Enqueue(client);
                }
                else
                {
                    Disconnect(client, CloseReason.AddressLimit, notice, now, detail: why);
                }
            }
        }
    }

    private void ReadReadyClients(long now)
    {
        // Each iteration starts one further along, so when the history writer lets only some reads through, they are not always the same clients'.
        _tls.StartRound();
        int count = _readList.Count;
        int start = count == 0 ? 0 : (int)(_readRotation++ % (uint)count);
        for (int i = 0; i < count; i++)
        {
            Socket socket = _readList[(start + i) % count];
            if (_bySocket.TryGetValue(socket, out ClientConnection? client) && !_tls.HandshakeWaits(client))
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

        Disconnect(client, CloseReason.ServerError, Notices.ServerError, now, detail: kind + ": " + failure.Message);
    }

    private void FlushPendingOutput()
    {
        _stillPending.Clear();
        foreach (ClientConnection client in _pendingOutput)
        {
            if (client.IsDisposed || client.PeerGone || client.Aborted)
            {
                client.InPendingList = false;
                continue;
            }

            SocketError error = client.Flush(out int bytesSent);
            _counters.BytesOut += bytesSent;
            DisconnectKind kind = Disconnects.Classify(error);
            if (error != SocketError.Success && kind != DisconnectKind.WouldBlock)
            {
                client.PeerGone = true;
                Disconnect(client, kind == DisconnectKind.Reset ? CloseReason.ConnectionReset : CloseReason.SocketError, notice: null, Environment.TickCount64, detail: error.ToString());
            }

            if (client.HasPendingOutput && !client.PeerGone)
            {
                _stillPending.Add(client);
            }
            else
            {
                client.InPendingList = false;
            }
        }

        (_pendingOutput, _stillPending) = (_stillPending, _pendingOutput);
    }

    private void RunTimers(long now)
    {
        if (now >= _nextBufferSweep)
        {
            _nextBufferSweep = now + BufferSweepIntervalMilliseconds;
            foreach (ClientConnection client in _connections)
            {
                client.Outbound.SweepIfIdle();
            }

            GiveMemoryBack(now);
            _admission.Sweep(now);
            _chat.Sweep(now);
        }

        if (now >= _nextUnfinishedFrameCheck && _gate?.ReadsHeld != true)
        {
            _nextUnfinishedFrameCheck = now + UnfinishedFrameCheckInterval;
            DropClientsStuckMidFrame(now);
        }

        UnlistResumedReads(now);
        _chat.RunTimers(now);
        // Not while reads are held for the history writer: a name sent meanwhile is read as soon as they resume.
        while (_gate?.ReadsHeld != true && _nameDeadlines.TryPeek(out ClientConnection? client) && (client.NameReceived || client.IsClosing || client.NameDeadline <= now))
        {
            _nameDeadlines.Dequeue();
            if (!client.NameReceived && !client.IsClosing)
            {
                Disconnect(client, CloseReason.NameTimeout, Notices.NameTimeout(_options.NameTimeout), now);
            }
        }
    }

    /// <summary>
    /// Clients whose pause is over are read again already (BuildSelectLists checks the time); here
    /// they leave the list that sets the Select timeout, and those held back for the message rate
    /// get their waiting frames, as many as the rate now allows, before the socket is read again.
    /// </summary>
    private void UnlistResumedReads(long now)
    {
        int kept = 0;
        for (int i = 0; i < _readsPaused.Count; i++)
        {
            ClientConnection paused = _readsPaused[i];
            if (paused.ReadsPausedUntil > now && !paused.IsDisposed)
            {
                _readsPaused[kept++] = paused;
            }
            else
            {
                paused.ReadsPausedUntil = 0; // Unlisted: the next pause lists it again.
                if (paused.HeldBack && !paused.IsClosing)
                {
                    _resumedHeldBack.Add(paused);
                }
            }
        }

        _readsPaused.RemoveRange(kept, _readsPaused.Count - kept);
        foreach (ClientConnection client in _resumedHeldBack)
        {
            if (!BufferedFramesPass(client, now))
            {
                PauseReadsUntil(client, now + StorageRetryMilliseconds); // The history writer is behind: its frames wait a little longer, unread.
                continue;
            }

            try
            {
                DecodeFrames(client, ReadOnlySpan<byte>.Empty, now); // Holds it back again (and re-lists it) if frames still wait.
                NoteUnfinishedFrame(client, finishedAFrame: true, now);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                DropAfterFailure(client, e, now);
            }
        }

        _resumedHeldBack.Clear();
    }

    /// <summary>A peer that starts a frame and never finishes it holds a buffer of up to a message's size for nothing (slowloris).</summary>
    private void DropClientsStuckMidFrame(long now)
    {
        long startedBefore = now - (long)_options.UnfinishedFrameTimeout.TotalMilliseconds;
        foreach (ClientConnection client in _connections)
        {
            if (client.UnfinishedFrameSince != 0 && client.UnfinishedFrameSince <= startedBefore && !client.IsClosing)
            {
                string what = $"a frame was started and not finished within {_options.UnfinishedFrameTimeout.TotalSeconds:0.#} s";
                Disconnect(client, CloseReason.BadFrame, Notices.BadFrame(what), now, detail: what);
            }
        }
    }

    /// <summary>
    /// The one place connections end. Announces departures, half-closes clients whose goodbye is
    /// out, and disposes those that are done: peer gone, FIN exchanged, or out of time.
    /// </summary>
    private void CloseMarkedConnections()
    {
        long now = Environment.TickCount64;
        _chat.EndOfIteration(now); // Departures are told now; telling them can overflow another client and add it here.

        int kept = 0;
        for (int i = 0; i < _closing.Count; i++)
        {
            ClientConnection client = _closing[i];
            bool done = client.PeerGone || CloseReasons.AbortsAtOnce(client.CloseReason!.Value) || now >= client.CloseDeadline;
            if (!done && !client.HasPendingOutput && !client.SentFin)
            {
                client.SendFin();
                done = client.PeerGone;
            }

            if (done)
            {
                RemoveConnection(client);
            }
            else
            {
                _closing[kept++] = client;
            }
        }

        _closing.RemoveRange(kept, _closing.Count - kept);
    }

    // ---- Reading and what frames mean ---------------------------------------------------

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
            return; // The history writer is behind: no client is read until it catches up (BuildSelectLists leaves them out).
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
        Disconnect(client, reason, notice: null, now, detail: kind == DisconnectKind.Error ? error.ToString() : null);
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
            _readsPaused.Add(client); // Zero means not listed; a client read again the moment its pause ends is still listed.
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
                    Disconnect(client, CloseReason.NameRejected, Notices.NameRejected($"the name is longer than {limit} bytes"), now, detail: what);
                }
                else
                {
                    Disconnect(client, CloseReason.BadFrame, Notices.BadFrame(what), now, detail: what);
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
            Enqueue(client, Frame.EncodePair(ServerSender.Name, Notices.SlowDown(_options.MessagesPerSecond, _options.MessageBurst)), now);
            if (!client.WasEverHeldBack)
            {
                client.WasEverHeldBack = true;
                Log.Info("#{Id} {User} from {Endpoint} sends over {Rate} messages/s; its messages wait and go on at that rate",
                    client.Id, client.Name ?? "(no name)", client.Endpoint, _options.MessagesPerSecond);
            }
        }
        else if (now - client.HeldBackSince >= (long)_options.FloodTimeout.TotalMilliseconds)
        {
            Disconnect(client, CloseReason.Flooding, Notices.Flooding(_options.FloodTimeout, _options.MessagesPerSecond), now,
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
            Disconnect(client, CloseReason.BadTls, notice: null, now, detail: failure.Message);
        }
        else if (tls.PeerClosed)
        {
            // close_notify is answered with close_notify (flushed in this iteration, before the close phase), so the peer knows nothing was cut off.
            tls.Shutdown();
            ScheduleFlush(client);
            Disconnect(client, CloseReason.ClosedByPeer, notice: null, now);
        }
        else if (!tls.CipherPending.IsEmpty)
        {
            ScheduleFlush(client); // Handshake messages to answer with.
        }

        return finishedAFrame;
    }

    // ---- Writing ------------------------------------------------------------------------

    /// <summary>
    /// Queues bytes for a client. A client that would exceed its output limit is dropped instead,
    /// so nobody waits for it; one whose buffer would take the server past its output budget makes
    /// room by dropping whoever holds the most (which may be itself).
    /// </summary>
    private void Enqueue(ClientConnection client, ReadOnlySpan<byte> bytes, long now)
    {
        if (client.PeerGone || client.IsDisposed || client.Aborted)
        {
            return;
        }

        int growth = client.Outbound.GrowthFor(bytes.Length, _options.MaxPendingOutputBytes);
        if (growth > 0 && _outputMemory.Held + growth > _options.MaxOutputMemory && !MakeRoomForOutput(client, growth, now))
        {
            return;
        }

        if (!client.Outbound.TryAppend(bytes, _options.MaxPendingOutputBytes))
        {
            DropAsNotReading(client, $"over {_options.MaxPendingOutputBytes} bytes waiting to be sent", now);
            return;
        }

        _counters.Deliveries++;
        ScheduleFlush(client);
    }

    /// <summary>A client that does not read loses its output and is reset at once: nothing more goes to it, so no frame is ever cut and then followed by another.</summary>
    private void DropAsNotReading(ClientConnection client, string detail, long now)
    {
        client.Abort();
        Disconnect(client, CloseReason.OutputOverflow, notice: null, now, detail: detail);
    }

    /// <summary>
    /// The output budget is reached: drops the clients holding the most output until
    /// <paramref name="growth"/> more fits. Rare (only past the budget), so a scan of the
    /// connections is fine. Returns false if <paramref name="client"/> itself had to go.
    /// </summary>
    private bool MakeRoomForOutput(ClientConnection client, int growth, long now)
    {
        while (_outputMemory.Held + growth > _options.MaxOutputMemory)
        {
            ClientConnection? largest = null;
            foreach (ClientConnection candidate in _connections)
            {
                if (!candidate.Aborted && candidate.Outbound.Capacity > (largest?.Outbound.Capacity ?? 0))
                {
                    largest = candidate;
                }
            }

            if (largest is null || largest.Outbound.Capacity < client.Outbound.Capacity + growth)
            {
                largest = client; // The one growing would then hold the most.
            }

            _counters.OutputBudgetDrops++;
            DropAsNotReading(largest, $"the server's output buffers reached --max-output-memory ({_options.MaxOutputMemory} bytes) and this client held the most ({largest.Outbound.Capacity} bytes)", now);
            if (largest == client)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// After many slow readers are let go, their arrays are garbage the runtime keeps for reuse;
    /// a compacting collection hands that memory back to the system. It pauses the loop, so only
    /// after a large drop and at most once a minute.
    /// </summary>
    private void GiveMemoryBack(long now)
    {
        if (_outputMemory.Peak - _outputMemory.Held < GiveBackThresholdBytes || now < _nextGiveBack)
        {
            return;
        }

        long before = Environment.WorkingSet;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Log.Info("Output buffers went from {Peak} to {Held} bytes; memory given back to the system: working set {Before} -> {After} bytes",
            _outputMemory.Peak, _outputMemory.Held, before, Environment.WorkingSet);
        _outputMemory.ResetPeak();
        _nextGiveBack = now + GiveBackIntervalMilliseconds;
    }

    /// <summary>Puts a client in the list flushed at the end of the iteration (and watched for writability), once.</summary>
    private void ScheduleFlush(ClientConnection client)
    {
        if (!client.InPendingList)
        {
            client.InPendingList = true;
            _pendingOutput.Add(client);
        }
    }

    // ---- Closing -------------------------------------------------------------------------

    /// <summary>
    /// Marks a client for closing, once: logs the reason, frees its name, queues a last notice
    /// for it if there is one, and leaves the socket to <see cref="CloseMarkedConnections"/>.
    /// Never disposes anything, so it is safe in the middle of any loop.
    /// </summary>
    private void Disconnect(ClientConnection client, CloseReason reason, string? notice, long now, string? detail = null)
    {
        if (!client.MarkClosing(reason, now + (long)_options.CloseTimeout.TotalMilliseconds))
        {
            return;
        }

        string? note = _chat.Closing(client, reason, now); // Its name is free from here on; its room is told in the close phase.
        Log.Log(CloseReasons.LogLevelFor(reason), "#{Id} {User} from {Endpoint} closed: {Reason}{Detail}",
            client.Id, client.Name ?? "(no name)", client.Endpoint, reason, (detail is null ? "" : " (" + detail + ")") + (note is null ? "" : " (" + note + ")"));

        if (notice is not null && !CloseReasons.AbortsAtOnce(reason))
        {
            Enqueue(client, Frame.EncodePair(ServerSender.Name, notice), now);
        }

        _closing.Add(client);
    }

    void IConnections.Send(ClientConnection connection, ReadOnlySpan<byte> bytes, long now) => Enqueue(connection, bytes, now);

    void IConnections.Close(ClientConnection connection, CloseReason reason, string? notice, long now, string? detail) =>
        Disconnect(connection, reason, notice, now, detail);

    void IConnections.ChargeMessage(ClientConnection connection) => connection.Rate.Take(_options.MessagesPerSecond);

    void IConnections.RefundBytes(ClientConnection connection, int bytes) => connection.Bytes.Refund(bytes, _options.ByteBurst);

    bool IConnections.ShuttingDown => _shuttingDown;

    private void RemoveConnection(ClientConnection client)
    {
        int last = _connections.Count - 1;
        ClientConnection moved = _connections[last];
        _connections[client.Index] = moved;
        moved.Index = client.Index;
        _connections.RemoveAt(last);
        _bySocket.Remove(client.Socket);
        _admission.Release(client, Environment.TickCount64);
        _counters.TlsCallsOffLoop += client.Tls?.CallsOffOwnerThread ?? 0;
        client.Dispose();
    }

    private void BeginShutdown()
    {
        if (_shuttingDown)
        {
            return;
        }

        _shuttingDown = true;
        long now = Environment.TickCount64;
        // Connections already queued in the backlog would be reset by closing the listener; take them so they get the notice too.
        AcceptNewConnections(_listener, now);
        AcceptNewConnections(_tlsListener, now);
        Log.Info("Shutting down: closing the listeners and {Count} connections", _connections.Count);
        _listener?.Dispose();
        _listener = null;
        _tlsListener?.Dispose();
        _tlsListener = null;
        foreach (ClientConnection client in _connections)
        {
            Disconnect(client, CloseReason.ServerShutdown, ServerSender.ShuttingDownNotice, now);
        }
    }

    // ---- The input gate (the history writer's pace) ---------------------------------------

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
    private void ResumeReadsIfCaughtUp(long now)
    {
        long held = _gate?.ResumeReadsIfCaughtUp(now) ?? 0;
        if (held == 0)
        {
            return;
        }

        foreach (ClientConnection client in _connections)
        {
            if (client.UnfinishedFrameSince != 0)
            {
                client.UnfinishedFrameSince += held;
            }
        }
    }

    // ---- Helpers -------------------------------------------------------------------------

    private int MillisecondsToNextTimer(long now)
    {
        long next = long.MaxValue;
        // While reads are held for the history writer, name deadlines and the unfinished-frame check wait too
        // (RunTimers skips them), so they must not set the timeout: a deadline already past would make Select
        // return at once, over and over. The writer wakes the loop when it catches up.
        bool readsHeld = _gate?.ReadsHeld == true;
        if (!readsHeld && _nameDeadlines.TryPeek(out ClientConnection? waiting))
        {
            next = waiting.NameDeadline;
        }

        next = Math.Min(next, _chat.NextDeadline);

        foreach (ClientConnection client in _closing)
        {
            next = Math.Min(next, client.CloseDeadline);
        }

        foreach (ClientConnection client in _readsPaused)
        {
            next = Math.Min(next, client.ReadsPausedUntil);
        }

        next = Math.Min(next, readsHeld ? _nextBufferSweep : Math.Min(_nextBufferSweep, _nextUnfinishedFrameCheck));

        return next == long.MaxValue ? -1 : (int)Math.Clamp(next - now, 0, MaxSelectWaitMilliseconds);
    }

    private static IPAddress ResolveHost(string host)
    {
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return address;
        }

        return Dns.GetHostAddresses(host).FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound);
    }
}
