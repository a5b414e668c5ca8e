using System.Net.Sockets;
using NLog;
using PollChat.Common.Framing;
using PollChat.Common.Net;
using PollChat.Common.Protocol;
using PollChat.Server.Chat;

namespace PollChat.Server.Loop;

/// <summary>
/// The connections and everything that goes out to them: the registry, output queued within each
/// connection's limit and the server's output budget (Redis's output limits and maxmemory are the
/// model), the flush, and closing (mark once, tell the chat, flush a last notice, FIN or reset,
/// dispose). It reads nothing and decides no meaning: <see cref="FrameInput"/> reads, the chat
/// decides. This is the <see cref="IConnections"/> the chat sends through.
/// </summary>
internal sealed class Connections(ServerOptions options, ServerCounters counters, LoopClock clock, Timers timers, Admission admission) : IConnections
{
    /// <summary>Output memory let go since the most held, past which the loop asks the runtime to give it back to the system.</summary>
    private const long GiveBackThresholdBytes = 32L * 1024 * 1024;

    /// <summary>Giving memory back is a full, compacting collection that pauses the loop: at most once a minute.</summary>
    private const long GiveBackIntervalMilliseconds = 60_000;

    private static readonly Logger Log = LogManager.GetLogger(typeof(ChatServer).FullName!);

    /// <summary>A closing connection's deadline only has to wake the loop: the close phase looks at the time.</summary>
    private static readonly Action<object?, long> WakeOnly = (_, _) => { };

    /// <summary>A closing connection's deadline no longer applies once it is gone.</summary>
    private static readonly Func<object?, bool> Disposed = state => state is ClientConnection { IsDisposed: true };

    private readonly Dictionary<Socket, ClientConnection> _bySocket = [];

    // Marked in Close, handled at the end of the iteration, until disposed.
    private readonly List<ClientConnection> _closing = [];
    private List<ClientConnection> _pendingOutput = [];
    private List<ClientConnection> _stillPending = [];
    private readonly OutputMemory _outputMemory = new();
    private IConnectionHandler? _chat;
    private long _nextGiveBack;

    /// <summary>Every connection until it is disposed, closing ones included.</summary>
    public List<ClientConnection> All { get; } = [];

    /// <summary>Connections with output waiting, to be watched for writability.</summary>
    public IReadOnlyList<ClientConnection> PendingOutput => _pendingOutput;

    /// <summary>How many are closing and not yet disposed.</summary>
    public int ClosingCount => _closing.Count;

    /// <summary>The bytes all output buffers hold, for the counters line.</summary>
    public long OutputHeld => _outputMemory.Held;

    /// <summary>The chat, told when a connection starts closing and in the close phase; set once, after it is built around these connections.</summary>
    public void Attach(IConnectionHandler chat) => _chat = chat;

    /// <summary>A new connection's output budget comes from the server's.</summary>
    public ClientConnection Add(Socket socket, long id, long nameDeadline, PollChat.Common.Net.TlsChannel? tls)
    {
        var client = new ClientConnection(socket, id, clock.Now, nameDeadline, _outputMemory)
        {
            Tls = tls,
            AddressKey = AddressLimits.KeyOf(socket),
            Index = All.Count,
        };
        All.Add(client);
        _bySocket.Add(socket, client);
        return client;
    }

    public bool TryGet(Socket socket, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ClientConnection? client) => _bySocket.TryGetValue(socket, out client);

    // ---- Output ----------------------------------------------------------------------------

    /// <summary>
    /// Queues bytes for a client. A client that would exceed its output limit is dropped instead,
    /// so nobody waits for it; one whose buffer would take the server past its output budget makes
    /// room by dropping whoever holds the most (which may be itself).
    /// </summary>
    public void Send(ClientConnection client, ReadOnlySpan<byte> bytes, long now)
    {
        if (client.PeerGone || client.IsDisposed || client.Aborted)
        {
            return;
        }

        int growth = client.Outbound.GrowthFor(bytes.Length, options.MaxPendingOutputBytes);
        if (growth > 0 && _outputMemory.Held + growth > options.MaxOutputMemory && !MakeRoomForOutput(client, growth, now))
        {
            return;
        }

        if (!client.Outbound.TryAppend(bytes, options.MaxPendingOutputBytes))
        {
            DropAsNotReading(client, $"over {options.MaxPendingOutputBytes} bytes waiting to be sent", now);
            return;
        }

        counters.Deliveries++;
        ScheduleFlush(client);
    }

    /// <summary>A notice from the server, where the loop itself has something to say (slowing a sender down).</summary>
    public void SendNotice(ClientConnection client, string text, long now) => Send(client, Frame.EncodePair(ServerSender.Name, text), now);

    public void ChargeMessage(ClientConnection connection) => connection.Rate.Take(options.MessagesPerSecond);

    public void RefundBytes(ClientConnection connection, int bytes) => connection.Bytes.Refund(bytes, options.ByteBurst);

    /// <summary>A client that does not read loses its output and is reset at once: nothing more goes to it, so no frame is ever cut and then followed by another.</summary>
    private void DropAsNotReading(ClientConnection client, string detail, long now)
    {
        client.Abort();
        Close(client, CloseReason.OutputOverflow, notice: null, now, detail: detail);
    }

    /// <summary>
    /// The output budget is reached: drops the clients holding the most output until
    /// <paramref name="growth"/> more fits. Rare (only past the budget), so a scan of the
    /// connections is fine. Returns false if <paramref name="client"/> itself had to go.
    /// </summary>
    private bool MakeRoomForOutput(ClientConnection client, int growth, long now)
    {
        while (_outputMemory.Held + growth > options.MaxOutputMemory)
        {
            ClientConnection? largest = null;
            foreach (ClientConnection candidate in All)
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

            counters.OutputBudgetDrops++;
            DropAsNotReading(largest, $"the server's output buffers reached --max-output-memory ({options.MaxOutputMemory} bytes) and this client held the most ({largest.Outbound.Capacity} bytes)", now);
            if (largest == client)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Puts a client in the list flushed at the end of the iteration (and watched for writability), once.</summary>
    public void ScheduleFlush(ClientConnection client)
    {
        if (!client.InPendingList)
        {
            client.InPendingList = true;
            _pendingOutput.Add(client);
        }
    }

    /// <summary>Sends what waits, to every client with output, until its socket would block.</summary>
    public void Flush()
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
            counters.BytesOut += bytesSent;
            DisconnectKind kind = Disconnects.Classify(error);
            if (error != SocketError.Success && kind != DisconnectKind.WouldBlock)
            {
                client.PeerGone = true;
                Close(client, kind == DisconnectKind.Reset ? CloseReason.ConnectionReset : CloseReason.SocketError, notice: null, clock.Now, detail: error.ToString());
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

    /// <summary>With the loop's sweep: idle output buffers are let go, and after a large drop the memory goes back to the system.</summary>
    public void Sweep(long now)
    {
        foreach (ClientConnection client in All)
        {
            client.Outbound.SweepIfIdle();
        }

        GiveMemoryBack(now);
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

    // ---- Closing ---------------------------------------------------------------------------

    /// <summary>
    /// Marks a client for closing, once: tells the chat (which frees its name), logs the reason,
    /// queues a last notice for it if there is one, and leaves the socket to <see cref="CloseMarked"/>.
    /// Never disposes anything, so it is safe in the middle of any loop.
    /// </summary>
    public void Close(ClientConnection client, CloseReason reason, string? notice, long now, string? detail = null)
    {
        if (!client.MarkClosing(reason, now + (long)options.CloseTimeout.TotalMilliseconds))
        {
            return;
        }

        string? note = _chat?.Closing(client, reason, now); // Its name is free from here on; its room is told in the close phase.
        Log.Log(CloseReasons.LogLevelFor(reason), "#{Id} {User} from {Endpoint} closed: {Reason}{Detail}",
            client.Id, client.Name ?? "(no name)", client.Endpoint, reason, (detail is null ? "" : " (" + detail + ")") + (note is null ? "" : " (" + note + ")"));

        if (notice is not null && !CloseReasons.AbortsAtOnce(reason))
        {
            SendNotice(client, notice, now);
        }

        _closing.Add(client);
        timers.At(client.CloseDeadline, WakeOnly, client, Disposed);
    }

    /// <summary>
    /// The one place connections end. The chat tells departures first; then clients whose goodbye
    /// is out are half-closed, and those that are done (peer gone, FIN exchanged, or out of time)
    /// are disposed.
    /// </summary>
    public void CloseMarked(long now)
    {
        _chat?.EndOfIteration(now); // Telling departures can overflow another client and add it here.

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
                Remove(client, now);
            }
            else
            {
                _closing[kept++] = client;
            }
        }

        _closing.RemoveRange(kept, _closing.Count - kept);
    }

    private void Remove(ClientConnection client, long now)
    {
        int last = All.Count - 1;
        ClientConnection moved = All[last];
        All[client.Index] = moved;
        moved.Index = client.Index;
        All.RemoveAt(last);
        _bySocket.Remove(client.Socket);
        admission.Release(client, now);
        counters.TlsCallsOffLoop += client.Tls?.CallsOffOwnerThread ?? 0;
        client.Dispose();
    }

    /// <summary>After the loop: every socket closed, whatever state it was in.</summary>
    public void DisposeAll()
    {
        foreach (ClientConnection client in All)
        {
            client.Dispose();
        }
    }
}
