using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PollChat.Bench;

/// <summary>Everything one benchmark run is told.</summary>
public sealed record BenchOptions
{
    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 9000;

    public int Clients { get; init; } = 100;

    public int Senders { get; init; } = 10;

    public int PayloadBytes { get; init; } = 64;

    /// <summary>Total messages per second over all senders; null sends as fast as the window allows.</summary>
    public double? Rate { get; init; }

    /// <summary>Messages a sender may have in flight (sent but not yet received by everyone).</summary>
    public int Window { get; init; } = 16;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>When set, each sender stops after this many messages instead of after <see cref="Duration"/>.</summary>
    public long? CountPerSender { get; init; }

    /// <summary>Connect, hold and measure memory per connection; send one message to prove they are served.</summary>
    public bool Idle { get; init; }

    /// <summary>Every connection speaks TLS (.NET's SslStream client) to the server's TLS port.</summary>
    public bool Tls { get; init; }
}

/// <summary>
/// One run: connect every member (and separate senders, where the protocol has them), wait
/// until all are in the room, send for the duration, wait for the last deliveries, then check
/// and report. Receivers run as async receive loops (the runtime multiplexes them over epoll on
/// a few threads); senders are one async loop each.
/// </summary>
internal sealed class BenchRun : IDisposable
{
    /// <summary>How long the last messages may take to arrive after sending stops, before they count as lost.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Idle connections are held this long before memory is read: past PollServer's 5 s sweep of idle buffers, as a real idle room would be.</summary>
    private static readonly TimeSpan IdleHold = TimeSpan.FromSeconds(6);

    /// <summary>Connections opened at once: enough to connect thousands quickly without overflowing the server's backlog.</summary>
    private const int ConnectConcurrency = 64;

    private readonly BenchOptions _options;
    private readonly IBenchProtocol _protocol;
    private readonly List<BenchConnection> _members = [];
    private readonly List<BenchConnection> _senderConnections = [];
    private readonly CancellationTokenSource _stop = new();
    private int[][] _inFlight = [];
    private SemaphoreSlim[] _windows = [];
    private long[] _sent = [];
    private int _receiversPerMessage;
    private string? _failure;

    public BenchRun(BenchOptions options, IBenchProtocol protocol)
    {
        _options = options;
        _protocol = protocol;
    }

    /// <summary>Runs and returns the result; throws only when the room could not be set up at all.</summary>
    public async Task<BenchResult> RunAsync(ServerProcess? server)
    {
        int senders = _options.Idle ? 1 : _options.Senders;
        _sent = new long[senders];
        _inFlight = [.. Enumerable.Range(0, senders).Select(_ => new int[_options.Window])];
        _windows = [.. Enumerable.Range(0, senders).Select(_ => new SemaphoreSlim(_options.Window))];
        bool separate = _protocol.SendersAreSeparateConnections;
        _receiversPerMessage = separate ? _options.Clients : _options.Clients - 1;

        long rssBefore = server?.Memory().Current ?? 0;
        var connectClock = Stopwatch.StartNew();
        await ConnectAllAsync(_members, _options.Clients, senders, _protocol.MemberHandshake, waitForReady: _protocol.MemberWaitsForReady).ConfigureAwait(false);
        if (separate)
        {
            await ConnectAllAsync(_senderConnections, senders, senders, _protocol.SenderHandshake, waitForReady: _protocol.SenderWaitsForReady).ConfigureAwait(false);
        }

        TimeSpan connectTime = connectClock.Elapsed;
        if (_options.Idle)
        {
            await Task.Delay(IdleHold).ConfigureAwait(false);
        }

        long rssConnected = server?.Memory().Current ?? 0;
        List<BenchConnection> senderSockets = separate ? _senderConnections : _members;

        Dictionary<string, double>? countersBefore = server is { HasCounters: true } ? server.Counters() : null;
        bool timed = !_options.Idle && _options.CountPerSender is null;
        TimeSpan cpuBefore = server?.CpuTime() ?? TimeSpan.Zero;
        TimeSpan benchCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var sendingStop = new CancellationTokenSource(_options.Idle || _options.CountPerSender is not null ? Timeout.InfiniteTimeSpan : _options.Duration);
        long start = Stopwatch.GetTimestamp();
        Task[] sending = [.. Enumerable.Range(0, senders).Select(s => SendLoopAsync(s, senderSockets[s], start, sendingStop.Token))];
        if (countersBefore is not null && timed)
        {
            // Allocation is a steady-state figure: the first half warms up buffers and the JIT, the second half is measured.
            await Task.Delay(_options.Duration / 2).ConfigureAwait(false);
            countersBefore = server!.Counters();
        }

        await Task.WhenAll(sending).ConfigureAwait(false);
        Dictionary<string, double>? countersAfter = countersBefore is null ? null : server!.Counters();
        bool drained = await DrainAsync().ConfigureAwait(false);
        TimeSpan elapsed = clock.Elapsed;
        TimeSpan cpu = (server?.CpuTime() ?? TimeSpan.Zero) - cpuBefore;
        TimeSpan benchCpu = Process.GetCurrentProcess().TotalProcessorTime - benchCpuBefore;
        long rssPeak = server?.Memory().Peak ?? 0;

        _stop.Cancel();
        foreach (BenchConnection connection in _members.Concat(_senderConnections))
        {
            connection.Dispose();
        }

        return Summarise(connectTime, elapsed, drained, cpu, benchCpu, rssBefore, rssConnected, rssPeak, countersBefore, countersAfter);
    }

    public void Dispose()
    {
        _stop.Dispose();
        foreach (SemaphoreSlim window in _windows)
        {
            window.Dispose();
        }
    }

    /// <summary>Called by a receive loop for every valid delivery: frees the sender's window slot once everyone has the message.</summary>
    internal void Delivered(int sender, long sequence)
    {
        if (Interlocked.Decrement(ref _inFlight[sender][sequence % _options.Window]) == 0)
        {
            _windows[sender].Release();
        }
    }

    internal void ConnectionFailed(BenchConnection connection, string why)
    {
        if (!_stop.IsCancellationRequested)
        {
            Interlocked.CompareExchange(ref _failure, $"a connection failed: {why}", null);
        }
    }

    private async Task ConnectAllAsync(List<BenchConnection> into, int count, int senders, Func<int, byte[]> handshake, bool waitForReady)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(_options.Host), _options.Port);
        using var gate = new SemaphoreSlim(ConnectConcurrency);
        var connections = new BenchConnection[count];
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(endPoint).ConfigureAwait(false);
                var connection = new BenchConnection(this, _protocol, socket, senders);
                connections[i] = connection;
                if (_options.Tls)
                {
                    await connection.StartTlsAsync().ConfigureAwait(false);
                }

                _ = connection.ReceiveLoopAsync(_stop.Token);
                byte[] hello = handshake(i);
                if (hello.Length > 0)
                {
                    await connection.SendAsync(hello).ConfigureAwait(false);
                }

                if (waitForReady)
                {
                    await connection.Ready.WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
                }
                else
                {
                    connection.MarkReady();
                }
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
        into.AddRange(connections);
    }

    private async Task SendLoopAsync(int sender, BenchConnection connection, long start, CancellationToken stop)
    {
        long limit = _options.Idle ? 1 : _options.CountPerSender ?? long.MaxValue;
        double? ticksBetween = _options.Rate is { } rate ? Stopwatch.Frequency * _windows.Length / rate : null;
        byte[] payload = new byte[_options.PayloadBytes];
        byte[] message = new byte[_protocol.MaxEncodedLength(_options.PayloadBytes)];
        for (long sequence = 0; sequence < limit && !stop.IsCancellationRequested && _failure is null; sequence++)
        {
            long timestamp;
            try
            {
                if (ticksBetween is { } between)
                {
                    // Paced: the intended send time is the timestamp, so a stall is counted as latency, not hidden.
                    timestamp = start + (long)(sequence * between) + (long)(sender * between / _windows.Length);
                    long wait = timestamp - Stopwatch.GetTimestamp();
                    if (wait > 0)
                    {
                        await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency), stop).ConfigureAwait(false);
                    }

                    await _windows[sender].WaitAsync(stop).ConfigureAwait(false);
                }
                else
                {
                    await _windows[sender].WaitAsync(stop).ConfigureAwait(false);
                    timestamp = Stopwatch.GetTimestamp();
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            BenchPayload.Write(payload, _options.PayloadBytes, sender, sequence, timestamp);
            int length = _protocol.EncodeMessage(message, payload);
            Volatile.Write(ref _inFlight[sender][sequence % _options.Window], _receiversPerMessage);
            // Not cancelled mid-message: a half-sent frame would corrupt the stream the checks read.
            await connection.SendAsync(message.AsMemory(0, length)).ConfigureAwait(false);
            _sent[sender] = sequence + 1;
        }
    }

    /// <summary>Waits until every window is whole again (everything sent was delivered to everyone) or the drain timeout.</summary>
    private async Task<bool> DrainAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < DrainTimeout && _failure is null)
        {
            if (_windows.All(w => w.CurrentCount == _options.Window))
            {
                return true;
            }

            await Task.Delay(5).ConfigureAwait(false);
        }

        return _windows.All(w => w.CurrentCount == _options.Window);
    }

    private BenchResult Summarise(TimeSpan connectTime, TimeSpan elapsed, bool drained, TimeSpan serverCpu, TimeSpan benchCpu,
        long rssBefore, long rssConnected, long rssPeak, Dictionary<string, double>? before, Dictionary<string, double>? after)
    {
        var latency = new LatencyHistogram();
        long deliveries = 0, outOfOrder = 0, foreign = 0, lost = 0, duplicated = 0;
        long sentTotal = _sent.Sum();
        bool separate = _protocol.SendersAreSeparateConnections;
        for (int m = 0; m < _members.Count; m++)
        {
            BenchConnection member = _members[m];
            latency.Add(member.Latency);
            deliveries += member.Deliveries;
            outOfOrder += member.OutOfOrder;
            foreign += member.Foreign;
            for (int s = 0; s < _sent.Length; s++)
            {
                long expected = !separate && m == s ? 0 : _sent[s]; // A member-sender does not hear itself.
                long got = member.ReceivedFrom[s];
                lost += Math.Max(0, expected - got);
                duplicated += Math.Max(0, got - expected);
            }
        }

        double? allocPerDelivery = null;
        double? ownAllocPerDelivery = null;
        string serverCounters = "";
        if (before is not null && after is not null)
        {
            double serverDeliveries = after["deliveries"] - before["deliveries"];
            double allocated = after["loop_alloc_bytes"] - before["loop_alloc_bytes"];
            double selects = after["selects"] - before["selects"];
            double ready = after.GetValueOrDefault("ready_sockets") - before.GetValueOrDefault("ready_sockets");
            allocPerDelivery = serverDeliveries > 0 ? allocated / serverDeliveries : 0;
            double inSelect = after.GetValueOrDefault("select_alloc_bytes") - before.GetValueOrDefault("select_alloc_bytes");
            ownAllocPerDelivery = serverDeliveries > 0 ? (allocated - inSelect) / serverDeliveries : 0;
            serverCounters = string.Create(CultureInfo.InvariantCulture,
                $"selects={selects:0} ready_per_select={(selects > 0 ? ready / selects : 0):0.0} bytes_in={after["bytes_in"] - before["bytes_in"]:0} " +
                $"bytes_out={after["bytes_out"] - before["bytes_out"]:0} loop_alloc_bytes={allocated:0} select_alloc_bytes={inSelect:0} " +
                $"gc0={after["gc0"] - before["gc0"]:0} gc1={after["gc1"] - before["gc1"]:0} gc2={after["gc2"] - before["gc2"]:0}");
        }

        return new BenchResult(_protocol.Name, _options, _members.Count, connectTime, elapsed, sentTotal, deliveries, latency,
            lost, duplicated, outOfOrder, foreign, drained, _failure, serverCpu, benchCpu, rssBefore, rssConnected, rssPeak,
            allocPerDelivery, ownAllocPerDelivery, serverCounters);
    }
}
