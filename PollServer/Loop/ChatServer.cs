using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using NLog;
using PollChat.Common.Net;
using PollChat.Common.Protocol;
using PollChat.Server.Chat;

namespace PollChat.Server.Loop;

/// <summary>
/// The loop: one thread, one <see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>
/// over the listeners, every client and a wake-up socket. Each iteration, in order: build the
/// lists, wait (until the first deadline in <see cref="Timers"/>), read the clock, run what other
/// threads posted, accept, read (<see cref="FrameInput"/>, which hands whole frames to the chat),
/// flush (<see cref="Connections"/>), run the deadlines that are due, and close what was marked.
/// It owns the listeners and the iteration; it never decides what a frame means (the chat does,
/// behind <see cref="IConnectionHandler"/>) nor holds a connection's state
/// (<see cref="ClientConnection"/> does). Other threads talk to it only through <see cref="Post"/>.
/// </summary>
public sealed class ChatServer : IDisposable, ILoop
{
    /// <summary>Accepting a burst of connections is bounded, so chat keeps flowing during a connect storm.</summary>
    private const int MaxAcceptsPerIteration = 256;

    /// <summary>How often idle output buffers are let go, refusals by address summed up, and a storm of joins and leaves summarised.</summary>
    internal const long BufferSweepIntervalMilliseconds = 5_000;

    /// <summary>
    /// The kernel's send buffer per client (Linux doubles it for its own bookkeeping). Left to
    /// autotuning it grows to 4 MiB for a reader that stopped, beside the 1 MiB we hold ourselves.
    /// 64 KiB was tried: a reader on a busy machine then fell behind a sender with no rate limit by
    /// more than its own limit and was dropped, so 256 KiB keeps that slack while bounding the rest.
    /// </summary>
    private const int SocketSendBufferBytes = 256 * 1024;

    /// <summary>Select takes microseconds in an int; waits are capped well below its overflow.</summary>
    private const int MaxSelectWaitMilliseconds = 60_000;

    private static readonly Logger Log = LogManager.GetCurrentClassLogger();

    private readonly ServerOptions _options;
    private readonly LoopClock _clock;
    private readonly WakeSignal _wake = new();
    private readonly ConcurrentQueue<Action> _posted = new();
    private readonly ServerCounters _counters = new();
    private readonly Timers _timers = new();
    private readonly Admission _admission;
    private readonly TlsSessions _tls;
    private readonly Connections _connections;
    private readonly FrameInput _input;

    // The interface, not ChatService: the loop reaches the chat through it alone, whatever is behind it.
#pragma warning disable CA1859
    private readonly IConnectionHandler _chat;
#pragma warning restore CA1859

    // Select rewrites the lists it is given, so they are rebuilt every iteration from these reused objects.
    private readonly List<Socket> _readList = [];
    private readonly List<Socket> _writeList = [];
    private readonly Action<object?, long> _sweep;
    private readonly Func<bool> _readsHeld;

    private Socket? _listener;
    private Socket? _tlsListener;
    private long _nextConnectionId;
    private bool _shuttingDown;
    private bool _stopped;

    /// <summary>A server with the chat of <see cref="ChatService"/> behind its loop: the one place the two are put together.</summary>
    public ChatServer(ServerOptions options)
        : this(options, new LoopClock())
    {
    }

    /// <summary>As the public constructor, with a clock tests can move.</summary>
    internal ChatServer(ServerOptions options, LoopClock clock)
    {
        _options = options;
        _clock = clock;
        var addressLimits = new AddressLimits(options.MaxPerAddress, options.ConnectsPerMinute);
        _admission = new Admission(options, addressLimits);
        _tls = new TlsSessions(options, _counters);
        _connections = new Connections(options, _counters, clock, _timers, _admission);
        _chat = new ChatService(options, _connections, this, clock, _timers, _counters, addressLimits);
        _connections.Attach(_chat);
        _input = new FrameInput(options, _counters, clock, _timers, _connections, _tls, _chat);
        _sweep = (_, now) => Sweep(now);
        _readsHeld = () => _input.InputDeadlinesWait;
        _timers.At(clock.Now + BufferSweepIntervalMilliseconds, _sweep);
    }

    /// <summary>The address the listener is bound to; set by <see cref="Start"/>.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>
    /// Binds and listens. Port 0 picks a free port; <see cref="LocalEndPoint"/> tells which.
    /// </summary>
    /// <exception cref="SocketException">The address cannot be bound (in use, not local, no permission).</exception>
    /// <exception cref="Storage.DataDirectoryException">The history file cannot be opened or written.</exception>
    public IPEndPoint Start()
    {
        _input.SetGate(_chat.Open());
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
            BuildSelectLists(_clock.Now);
            WaitForReadiness();
            long now = _clock.Tick();
            _input.ResumeReadsIfCaughtUp(now); // With the time just read: how long reads were held counts in full.
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

            _input.ReadReady(_readList, now);
            _connections.Flush();
            _timers.RunDue(now, _readsHeld);
            _connections.CloseMarked(now);
            _stopped = _shuttingDown && _connections.All.Count == 0;
        }

        _chat.Stopped(_clock.Tick());
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
    public string StatsLine() => _counters.Snapshot(_connections.All.Count, _chat.NotStored, TlsSessions.CallsOffLoopLive(_connections.All), _connections.OutputHeld);

    /// <summary>Stops accepting, tells every client the server is going, flushes for at most the close timeout, then lets <see cref="Run"/> return. Safe from any thread.</summary>
    public void RequestShutdown() => Post(BeginShutdown);

    void ILoop.Shutdown() => BeginShutdown();

    bool ILoop.ShuttingDown => _shuttingDown;

    /// <summary>Closes every socket, then lets the history writer commit what it was handed and close the file.</summary>
    public void Dispose()
    {
        _connections.DisposeAll();
        _listener?.Dispose();
        _tlsListener?.Dispose();
        _chat.Close();
        _wake.Dispose();
    }

    // ---- One iteration, in order -------------------------------------------------------

    private void BuildSelectLists(long now)
    {
        _input.NoteListing();
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

        foreach (ClientConnection client in _connections.All)
        {
            if (_input.WantsRead(client, now))
            {
                _readList.Add(client.Socket);
            }
        }

        foreach (ClientConnection client in _connections.PendingOutput)
        {
            if (!client.IsDisposed && !client.PeerGone && !client.Aborted)
            {
                _writeList.Add(client.Socket);
            }
        }
    }

    /// <summary>
    /// Waits for a socket or the first deadline. The wait is measured from the system clock read
    /// here, not the iteration's instant, so a long iteration does not make every deadline late;
    /// the iteration's work sees only <see cref="LoopClock.Now"/>.
    /// </summary>
    private void WaitForReadiness()
    {
        long next = _timers.Next(_input.ReadsHeld);
        int microseconds = next == long.MaxValue ? -1 : (int)Math.Clamp(next - _clock.Peek(), 0, MaxSelectWaitMilliseconds) * 1000;
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
            ClientConnection client = _connections.Add(socket, ++_nextConnectionId, now + (long)_options.NameTimeout.TotalMilliseconds, listener == _tlsListener ? _tls.NewSession() : null);
            Log.Debug("Connection #{Id} from {Endpoint}", client.Id, client.Endpoint);

            if (_connections.All.Count - _connections.ClosingCount > _options.MaxClients)
            {
                _connections.Close(client, CloseReason.ServerFull, Notices.ServerFull(_options.MaxClients), now);
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
                    _input.Accepted(client);
                }
                else
                {
                    _connections.Close(client, CloseReason.AddressLimit, notice, now, detail: why);
                }
            }
        }
    }

    /// <summary>Every few seconds: idle buffers let go, memory given back, refusals summed up, and the chat's own sweep.</summary>
    private void Sweep(long now)
    {
        _connections.Sweep(now);
        _admission.Sweep(now);
        _chat.Sweep(now);
        _timers.At(now + BufferSweepIntervalMilliseconds, _sweep);
    }

    private void BeginShutdown()
    {
        if (_shuttingDown)
        {
            return;
        }

        _shuttingDown = true;
        long now = _clock.Now;
        // Connections already queued in the backlog would be reset by closing the listener; take them so they get the notice too.
        AcceptNewConnections(_listener, now);
        AcceptNewConnections(_tlsListener, now);
        Log.Info("Shutting down: closing the listeners and {Count} connections", _connections.All.Count);
        _listener?.Dispose();
        _listener = null;
        _tlsListener?.Dispose();
        _tlsListener = null;
        foreach (ClientConnection client in _connections.All)
        {
            _connections.Close(client, CloseReason.ServerShutdown, ServerSender.ShuttingDownNotice, now);
        }
    }

    // ---- Helpers -------------------------------------------------------------------------

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
