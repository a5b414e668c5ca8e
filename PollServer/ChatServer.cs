using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Unicode;
using NLog;
using PollChat.Common.Framing;
using PollChat.Common.Net;
using PollChat.Common.Protocol;
using PollChat.Server.Storage;

namespace PollChat.Server;

/// <summary>
/// The chat server: one thread, one <see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>
/// loop over the listener, every client and a wake-up socket. It owns the registry of connections
/// and names and decides what every frame means; <see cref="ClientConnection"/> owns each
/// client's socket and buffers, and the framing in Common knows nothing of either.
/// Other threads talk to the loop only through <see cref="Post"/>.
/// </summary>
public sealed partial class ChatServer : IDisposable
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
    private const long BufferSweepIntervalMilliseconds = 5_000;

    /// <summary>Each kept history holds up to 100 messages in memory; past this many rooms the quietest are let go (the file keeps them for /search).</summary>
    private const int MaxHistoriesKept = 1000;

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

    /// <summary>
    /// Joins and leaves announced one by one, server-wide: a class of a hundred arriving at nine
    /// o'clock is announced in full, while a connect/close storm cannot make every idle user
    /// download two notices per bot. Past it they are counted and told as one line per sweep.
    /// </summary>
    private const double PresenceChangesPerSecond = 20;

    private const int PresenceChangesBurst = 100;

    /// <summary>How often frames held back for the message rate look again for room in the history hand-off while the writer is behind.</summary>
    private const long StorageRetryMilliseconds = 50;

    /// <summary>Select takes microseconds in an int; waits are capped well below its overflow.</summary>
    private const int MaxSelectWaitMilliseconds = 60_000;

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    private readonly ServerOptions _options;
    private readonly WakeSignal _wake = new();
    private readonly ConcurrentQueue<Action> _posted = new();

    private readonly List<ClientConnection> _connections = [];
    private readonly Dictionary<Socket, ClientConnection> _bySocket = [];
    private readonly Dictionary<string, ClientConnection> _byName = new(Confusables.NameComparer); // Look-alikes are one name (PROTOCOL.md, "Text and names").

    private readonly Dictionary<string, Room> _rooms = new(Confusables.NameComparer);

    /// <summary>Rooms' last messages, kept when a room empties so it finds them again; bounded by <see cref="MaxHistoriesKept"/>.</summary>
    private readonly Dictionary<string, RoomHistory> _histories = new(StringComparer.OrdinalIgnoreCase);

    private HistoryStore? _store;

    // Every client waits for its name with the same timeout, so this queue is in deadline order
    // and the timer check looks only at its head.
    private readonly Queue<ClientConnection> _nameDeadlines = new();

    // Marked in Disconnect, handled at the end of the iteration: closing clients until disposed, chatting ones until their room is told.
    private readonly List<ClientConnection> _closing = [];
    private readonly List<ClientConnection> _departures = [];

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
    private byte[] _relayScratch = new byte[4096];
    private byte[] _cleanScratch = new byte[4096];

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

    // Joins and leaves: announced one by one while within PresenceChangesPerSecond, else counted until a quiet sweep.
    private RateLimiter _presenceRate;
    private bool _presenceBusy;
    private int _unannouncedArrivals;
    private int _unannouncedDepartures;
    private long _nextGiveBack;

    /// <summary>The name whose next message makes its handler throw, as a bug would; set only by tests, through <see cref="FailNextMessageOf"/>.</summary>
    private string? _failNextMessageOf;

    /// <summary>Kinds of handler failure already logged with their stack; later ones are counted in <see cref="ServerCounters.HandlerFailures"/>.</summary>
    private readonly HashSet<string> _failuresLogged = [];

    public ChatServer(ServerOptions options)
    {
        _options = options;
        _nextUnfinishedFrameCheck = Environment.TickCount64 + UnfinishedFrameCheckInterval;
    }

    /// <summary>Stuck frames are looked for four times per timeout, so one is dropped at most a quarter late; a pass is one scan of the connections.</summary>
    private long UnfinishedFrameCheckInterval => Math.Max(100, (long)_options.UnfinishedFrameTimeout.TotalMilliseconds / 4);

    /// <summary>The address the listener is bound to; set by <see cref="Start"/>.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>
    /// Binds and listens. Port 0 picks a free port; <see cref="LocalEndPoint"/> tells which.
    /// </summary>
    /// <exception cref="SocketException">The address cannot be bound (in use, not local, no permission).</exception>
    /// <exception cref="DataDirectoryException">The history file cannot be opened or written.</exception>
    public IPEndPoint Start()
    {
        if (_options.DataDirectory is not null)
        {
            OpenHistoryFile(_options.DataDirectory);
        }

        try
        {
            IPAddress address = ResolveHost(_options.Host);
            if (_options.TlsPort is { } tlsPort)
            {
                PrepareTls();
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
            _store?.Dispose();
            _store = null;
            throw;
        }

        _store?.Start(_wake.Wake);
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

        _store?.LogStallIfAny(Environment.TickCount64);
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
    internal void FailNextMessageOf(string name) => Post(() => _failNextMessageOf = name);

    /// <summary>Logs one line of counters (see <see cref="ServerCounters.Snapshot"/>), taken on the loop thread. Safe from any thread.</summary>
    public void RequestStats() => Post(() => Log.Info(StatsLine()));

    /// <summary>The counters line, taken on the loop thread.</summary>
    private string StatsLine() => _counters.Snapshot(_connections.Count, _store?.NotStored ?? 0, TlsCallsOffLoopLive(), _outputMemory.Held);

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
        _passwordWorkers?.Dispose();
        _store?.Dispose();
        _wake.Dispose();
    }

    // ---- One iteration, in order -------------------------------------------------------

    private void BuildSelectLists(long now)
    {
        ResumeReadsIfStorageCaughtUp(now);
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
            if (client.ReadsPausedUntil <= now && !client.HeldBack && !HeldForStorage(client))
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
                Tls = listener == _tlsListener ? NewTlsSession() : null,
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
            else if (BanOn(client.Address) is { } ban)
            {
                Disconnect(client, CloseReason.Banned, Notices.Banned(ban.UtcUntil), now, detail: "address banned");
            }
            else if (AdmittedFromAddress(client, now))
            {
                _nameDeadlines.Enqueue(client);
            }
        }
    }

    private void ReadReadyClients(long now)
    {
        // Each iteration starts one further along, so when the history writer lets only some reads through, they are not always the same clients'.
        StartHandshakeRound();
        int count = _readList.Count;
        int start = count == 0 ? 0 : (int)(_readRotation++ % (uint)count);
        for (int i = 0; i < count; i++)
        {
            Socket socket = _readList[(start + i) % count];
            if (_bySocket.TryGetValue(socket, out ClientConnection? client) && !HandshakeWaits(client))
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
            SummarisePresence(now);

            _loginThrottle.Forget(now);
            SweepAddressLimits(now);
        }

        if (now >= _nextUnfinishedFrameCheck && _store?.ReadsHeld != true)
        {
            _nextUnfinishedFrameCheck = now + UnfinishedFrameCheckInterval;
            DropClientsStuckMidFrame(now);
        }

        UnlistResumedReads(now);
        DropLateLogins(now);
        EndStaleTransfers(now);
        // Not while reads are held for the history writer: a name sent meanwhile is read as soon as they resume.
        while (_store?.ReadsHeld != true && _nameDeadlines.TryPeek(out ClientConnection? client) && (client.State != ClientState.AwaitingName || client.NameDeadline <= now))
        {
            _nameDeadlines.Dequeue();
            if (client.State == ClientState.AwaitingName)
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
                if (paused.HeldBack && paused.State != ClientState.Closing)
                {
                    _resumedHeldBack.Add(paused);
                }
            }
        }

        _readsPaused.RemoveRange(kept, _readsPaused.Count - kept);
        foreach (ClientConnection client in _resumedHeldBack)
        {
            if (!BufferedFramesStorable(client, now))
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
            if (client.UnfinishedFrameSince != 0 && client.UnfinishedFrameSince <= startedBefore && client.State != ClientState.Closing)
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
        // Announcing a departure can overflow another client and add it here, so index, not foreach.
        for (int i = 0; i < _departures.Count; i++)
        {
            ClientConnection gone = _departures[i];
            Room room = LeaveRoom(gone); // Here, not in Disconnect: a room may be mid-iteration when a member is dropped.
            if (_shuttingDown)
            {
                continue;
            }

            InterruptTransfersOf(gone, now);
            string how = CloseReasons.ForOthers(gone.CloseReason!.Value) + (gone.KickedBy is null ? "" : " by " + gone.KickedBy) + (gone.KickReason is null ? "" : ": " + gone.KickReason);
            if (PresenceAnnounced(arrival: false, now) && room.Members.Count < _options.AnnounceLimit)
            {
                AnnounceToRoom(room, Notices.Left(gone.Name!, how, _byName.Count),
                    new RichEvent { Type = RichEventTypes.Left, Name = gone.Name, Room = room.Name, Reason = how, Count = room.Members.Count }, except: null, now);
            }

            TellRichClientsOnlineChanged(RichEventTypes.Offline, gone.Name!, how, except: null, now);
        }

        _departures.Clear();

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

        allowance = StorableReadBytes(client, allowance, now);
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
        Span<byte> payloadStart = stackalloc byte[FileStreamPrefixBytes];
        while (client.State != ClientState.Closing)
        {
            bool awaitingName = client.State == ClientState.AwaitingName;
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

                if (next == FrameReadStatus.Frame && !IsFileStream(client, payloadStart[..startLength], nextLength))
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
                HandleName(client, payload, now);
            }
            else
            {
                HandleMessage(client, payload, now);
            }
        }

        return finishedAFrame;
    }

    /// <summary>How much of a payload tells a file stream frame and, for data, which transfer and where.</summary>
    /// <summary>The payload of a data frame carrying a whole chunk: the prefix and at least its base64.</summary>
    private static readonly int WholeChunkFrameBytes = FileTransferProtocol.DataPrefix.Length + (((FileTransferProtocol.ChunkBytes + 2) / 3) * 4);

    private const int FileStreamPrefixBytes = 48; // "/file data ", a 10-digit id, a 19-digit offset and the spaces between

    /// <summary>
    /// File data, and the acknowledgements a receiver owes for it, are paced by their transfer's
    /// window, not the message rate, so they pass while other frames are held back. Checked only
    /// when the rate is spent; a client has a few transfers at most.
    /// </summary>
    private static bool IsFileStream(ClientConnection client, ReadOnlySpan<byte> payloadStart, int declared)
    {
        if (client.State != ClientState.Chatting || client.Transfers is null)
        {
            return false;
        }

        if (payloadStart.StartsWith("/file data "u8))
        {
            // Whole chunks, and the file's last bytes, are free; a shorter frame costs a message, so it waits like one.
            if (!FileTransferProtocol.TryParseIdAndOffset(payloadStart[FileTransferProtocol.DataPrefix.Length..], out int id, out _, out _))
            {
                return false;
            }

            foreach (FileTransfer transfer in client.Transfers)
            {
                if (transfer.Id == id && transfer.Sender == client)
                {
                    return declared >= WholeChunkFrameBytes || transfer.Size - transfer.Relayed <= FileTransferProtocol.ChunkBytes;
                }
            }

            return false;
        }

        if (payloadStart.StartsWith("/file ack "u8))
        {
            foreach (FileTransfer transfer in client.Transfers)
            {
                if (transfer.Receiver == client && transfer.AcksOwed > 0)
                {
                    return true;
                }
            }
        }

        return false;
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
            SendNotice(client, Notices.SlowDown(_options.MessagesPerSecond, _options.MessageBurst), now);
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

    private void HandleName(ClientConnection client, ReadOnlySpan<byte> payload, long now)
    {
        string? problem = Username.Validate(payload, _options.MaxUsernameBytes);
        if (problem is not null)
        {
            Disconnect(client, CloseReason.NameRejected, Notices.NameRejected(problem), now, detail: problem);
            return;
        }

        string name = Encoding.UTF8.GetString(payload);
        bool registered = _accounts.ContainsKey(name);
        if (!registered && NameInUse(name)) // A registered name is taken by logging in, whoever holds it (ChatServer.Accounts.cs).
        {
            Disconnect(client, CloseReason.NameRejected, Notices.NameTaken(name, HeldName(name)), now, detail: $"'{name}' is taken");
            return;
        }

        if (BanOn(name) is { } ban)
        {
            Disconnect(client, CloseReason.Banned, Notices.Banned(ban.UtcUntil), now, detail: "name banned");
            return;
        }

        if (_options.RequireLogin && !registered)
        {
            Disconnect(client, CloseReason.NameRejected, Notices.NameRejected(Notices.RegisteredNamesOnly), now, detail: "not a registered name");
            return;
        }

        if (registered && !MakeRoomToClaim(name, now))
        {
            Disconnect(client, CloseReason.NameRejected, Notices.ClaimsBusy(name), now, detail: $"'{name}' has too many connections logging in");
            return;
        }

        SendNotice(client, Notices.Welcome(name, _byName.Keys), now); // Before adding: the list is of the others.
        client.AcceptName(name, loginFirst: registered);
        if (registered)
        {
            AwaitLogin(client, now);
            return;
        }

        Arrive(client, now);
    }

    /// <summary>A named (and, for a registered name, logged-in) client joins the chat: listed, in #lobby, shown its history, announced.</summary>
    private void Arrive(ClientConnection client, long now)
    {
        string name = client.Name!;
        client.State = ClientState.Chatting;
        _byName.Add(name, client);
        Room lobby = EnterRoom(client, Room.LobbyName);
        if (client.Rich)
        {
            SendEvent(client, UsersSnapshot(client), now); // Asked for before the login; the list is known only now.
        }

        if (_messageOfTheDay is not null)
        {
            SendNotice(client, Notices.MessageOfTheDay(_messageOfTheDay), now);
        }

        ReplayHistory(client, lobby, _options.HistoryOnJoin, now);
        Log.Info("#{Id} {User} joined from {Endpoint}", client.Id, name, client.Endpoint);
        bool announced = PresenceAnnounced(arrival: true, now);
        TellRichClientsOnlineChanged(RichEventTypes.Online, name, reason: null, except: client, now); // Online first, then in a room, as it happened.
        if (announced && lobby.Members.Count <= _options.AnnounceLimit)
        {
            AnnounceToRoom(lobby, Notices.Joined(name, _byName.Count),
                new RichEvent { Type = RichEventTypes.Entered, Name = name, Room = lobby.Name, Count = lobby.Members.Count }, except: client, now);
        }
    }

    /// <summary>
    /// Whether a join or leave is announced one by one. Past <see cref="PresenceChangesPerSecond"/>
    /// the server is busy: changes are counted for <see cref="SummarisePresence"/>, and rich clients
    /// are told once that the list is no longer followed (they ask with /users).
    /// </summary>
    private bool PresenceAnnounced(bool arrival, long now)
    {
        bool withinRate = _presenceRate.HasToken(PresenceChangesPerSecond, PresenceChangesBurst, now);
        _presenceRate.Take(PresenceChangesPerSecond);
        if (withinRate && !_presenceBusy)
        {
            return true;
        }

        if (!_presenceBusy)
        {
            _presenceBusy = true;
            Log.Info("Over {Rate} joins and leaves a second: counting them instead of announcing each, until a quiet {Seconds} s", PresenceChangesPerSecond, BufferSweepIntervalMilliseconds / 1000);
        }

        if (arrival)
        {
            _unannouncedArrivals++;
        }
        else
        {
            _unannouncedDepartures++;
        }

        return false;
    }

    /// <summary>Once per sweep while busy: one line for the joins and leaves not announced; a sweep without any ends the busy spell.</summary>
    private void SummarisePresence(long now)
    {
        if (!_presenceBusy)
        {
            return;
        }

        if (_unannouncedArrivals + _unannouncedDepartures == 0)
        {
            _presenceBusy = false;
            Log.Info("Joins and leaves are announced one by one again");
            return;
        }

        AnnounceToEveryone(Notices.PresenceSummary(_unannouncedArrivals, _unannouncedDepartures, BufferSweepIntervalMilliseconds / 1000, _byName.Count), richEvent: null, now);
        _unannouncedArrivals = _unannouncedDepartures = 0;
    }

    private void HandleMessage(ClientConnection client, ReadOnlySpan<byte> payload, long now)
    {
        if (_failNextMessageOf is not null && string.Equals(client.Name, _failNextMessageOf, StringComparison.OrdinalIgnoreCase))
        {
            _failNextMessageOf = null;
            throw new InvalidOperationException("a failure injected by a test");
        }

        bool valid = Utf8.IsValid(payload);
        if (valid && !payload.IsEmpty && payload[0] == (byte)'/' && client.State == ClientState.Chatting && TryHandleFileStream(client, payload, now))
        {
            return; // File data and acknowledgements are paced by the transfer's window, not by the message rate.
        }

        // Every other frame costs a message of the rate, refused ones too: refusing must not be free.
        client.Rate.Take(_options.MessagesPerSecond);
        if (payload.IsEmpty)
        {
            return; // Nothing to say; classic clients never send it, and relaying it would show a blank line.
        }

        if (!valid)
        {
            if (client.InvalidUtf8.Count(now, out int repeats))
            {
                Log.Info("#{Id} {User} sent a message that is not valid UTF-8 ({Bytes} bytes); refused{Repeats}", client.Id, client.Name, payload.Length,
                    repeats == 0 ? "" : $" ({repeats} more refused since the last line)");
            }

            SendError(client, Notices.InvalidUtf8, now);
            return;
        }

        if (ControlCharacters.Any(payload))
        {
            // Escape sequences and the like never reach another terminal; the rare message that has them is copied once, without them.
            EnsureCapacity(ref _cleanScratch, payload.Length);
            payload = _cleanScratch.AsSpan(0, ControlCharacters.Strip(payload, _cleanScratch));
            if (payload.IsEmpty)
            {
                return;
            }
        }

        if (client.State == ClientState.AwaitingLogin && payload[0] != (byte)'/')
        {
            SendError(client, Notices.LogInFirst, now);
            return;
        }

        if (payload[0] == (byte)'/')
        {
            if (payload.Length > 1 && payload[1] == (byte)'/')
            {
                if (!RefusedAsMuted(client, now))
                {
                    Relay(client, payload[1..], now); // "//text" is how a user says "/text" literally.
                }
            }
            else
            {
                RunCommand(client, Encoding.UTF8.GetString(payload), now);
            }

            return;
        }

        if (!RefusedAsMuted(client, now))
        {
            Relay(client, payload, now);
        }
    }

    // ---- Writing ------------------------------------------------------------------------

    /// <summary>Relays a message to the sender's room as [name frame][message frame], encoded once and copied to each recipient.</summary>
    private void Relay(ClientConnection sender, ReadOnlySpan<byte> message, long now)
    {
        if (Log.IsDebugEnabled)
        {
            Log.Debug("#{Id} {User} said {Bytes} bytes in {Room}", sender.Id, sender.Name, message.Length, sender.Room!.Name);
        }

        sender.LastMessageAt = now;
        SendToRoom(sender.Room!, sender.NameFrame, message, except: sender, now, from: sender.Name);
        Remember(sender.Room!, sender.Name!, message);
        _counters.MessagesRelayed++;
    }

    /// <summary>One pair to every member of a room but one (and but those who ignore <paramref name="from"/>): encoded once, then copied.</summary>
    private void SendToRoom(Room room, byte[] senderFrame, ReadOnlySpan<byte> message, ClientConnection? except, long now, string? from = null)
    {
        ReadOnlySpan<byte> pair = EncodePair(senderFrame, message);
        // A member dropped while this runs stays in the list until the close phase, marked closing, and is skipped.
        foreach (ClientConnection member in room.Members)
        {
            if (member != except && member.State == ClientState.Chatting && (from is null || member.Ignored?.Contains(from) != true))
            {
                Enqueue(member, pair, now);
            }
        }
    }

    /// <summary>Puts a chatting client into the named room, creating it if needed; returns the room.</summary>
    private Room EnterRoom(ClientConnection client, string roomName)
    {
        if (!_rooms.TryGetValue(roomName, out Room? room))
        {
            room = new Room(roomName, HistoryOf(roomName));
            _rooms.Add(roomName, room);
        }

        room.Members.Add(client);
        client.Room = room;
        return room;
    }

    /// <summary>Takes a client out of its room, which disappears once empty; returns the room it left.</summary>
    private Room LeaveRoom(ClientConnection client)
    {
        Room room = client.Room!;
        room.Members.Remove(client);
        client.Room = null;
        if (room.Members.Count == 0)
        {
            _rooms.Remove(room.Name);
        }

        return room;
    }

    private void SendNotice(ClientConnection client, string text, long now) =>
        Enqueue(client, Frame.EncodePair(ServerSender.Name, text), now);

    private static readonly byte[] ServerNameFrame = Frame.Encode(ServerSender.Name);

    private ReadOnlySpan<byte> EncodePair(byte[] nameFrame, ReadOnlySpan<byte> message)
    {
        int length = nameFrame.Length + Frame.EncodedLength(message.Length);
        EnsureCapacity(ref _relayScratch, length);

        nameFrame.CopyTo(_relayScratch, 0);
        Frame.Write(_relayScratch.AsSpan(nameFrame.Length), message);
        return _relayScratch.AsSpan(0, length);
    }

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
        bool wasChatting = client.State == ClientState.Chatting;
        RemoveClaimant(client);

        if (!client.MarkClosing(reason, now + (long)_options.CloseTimeout.TotalMilliseconds))
        {
            return;
        }

        Log.Log(CloseReasons.LogLevelFor(reason), "#{Id} {User} from {Endpoint} closed: {Reason}{Detail}",
            client.Id, client.Name ?? "(no name)", client.Endpoint, reason, (detail is null ? "" : " (" + detail + ")") +
            (client.InvalidUtf8.Unlogged == 0 ? "" : $" ({client.InvalidUtf8.Unlogged} more messages refused as invalid UTF-8 since the last line)"));

        if (notice is not null && !CloseReasons.AbortsAtOnce(reason))
        {
            Enqueue(client, Frame.EncodePair(ServerSender.Name, notice), now);
        }

        if (wasChatting)
        {
            _byName.Remove(client.Name!);
            _departures.Add(client);
        }

        _closing.Add(client);
    }

    private void RemoveConnection(ClientConnection client)
    {
        int last = _connections.Count - 1;
        ClientConnection moved = _connections[last];
        _connections[client.Index] = moved;
        moved.Index = client.Index;
        _connections.RemoveAt(last);
        _bySocket.Remove(client.Socket);
        ReleaseAddress(client);
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

    // ---- Helpers -------------------------------------------------------------------------

    private int MillisecondsToNextTimer(long now)
    {
        long next = long.MaxValue;
        // While reads are held for the history writer, name deadlines and the unfinished-frame check wait too
        // (RunTimers skips them), so they must not set the timeout: a deadline already past would make Select
        // return at once, over and over. The writer wakes the loop when it catches up.
        bool readsHeld = _store?.ReadsHeld == true;
        if (!readsHeld && _nameDeadlines.TryPeek(out ClientConnection? waiting))
        {
            next = waiting.NameDeadline;
        }

        if (_loginDeadlines.TryPeek(out ClientConnection? loggingIn))
        {
            next = Math.Min(next, loggingIn.LoginDeadline);
        }

        foreach (ClientConnection client in _closing)
        {
            next = Math.Min(next, client.CloseDeadline);
        }

        foreach (ClientConnection client in _readsPaused)
        {
            next = Math.Min(next, client.ReadsPausedUntil);
        }

        next = Math.Min(next, readsHeld ? _nextBufferSweep : Math.Min(_nextBufferSweep, _nextUnfinishedFrameCheck));
        next = Math.Min(next, NextTransferCheck);

        return next == long.MaxValue ? -1 : (int)Math.Clamp(next - now, 0, MaxSelectWaitMilliseconds);
    }

    /// <summary>Grows a reused scratch array, rarely: only when a message is longer than any before it.</summary>
    private static void EnsureCapacity(ref byte[] scratch, int length)
    {
        if (scratch.Length < length)
        {
            scratch = new byte[Math.Max(length, scratch.Length * 2)];
        }
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
