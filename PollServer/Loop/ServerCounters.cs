using System.Globalization;

namespace PollChat.Server.Loop;

/// <summary>
/// What the loop has done since start. Plain fields, written only by the loop thread; a
/// snapshot is formatted on that thread too, so the allocation figure is the loop's own.
/// </summary>
internal sealed class ServerCounters
{
    public long BytesIn;
    public long BytesOut;
    public long FramesIn;
    public long MessagesRelayed;

    /// <summary>Pairs queued to recipients: one per recipient per relayed message or notice; each is two frames out.</summary>
    public long Deliveries;
    public long SelectCalls;
    public long ReadySockets;
    public long Accepted;

    /// <summary>Times a client's reads were paused for going over the byte rate.</summary>
    public long ReadPauses;

    /// <summary>Times a client began to be held back for going over the message rate (its messages waited instead of being dropped).</summary>
    public long HeldBack;

    /// <summary>Bytes allocated inside Socket.Select itself (its poll array, 8 B per listed socket past a small list), to tell the framework's share from the loop's own.</summary>
    public long SelectAllocatedBytes;

    /// <summary>TLS transport calls on another thread than the loop, summed over closed connections (live ones are added at each snapshot).</summary>
    public long TlsCallsOffLoop;

    /// <summary>TLS handshakes completed, and the loop time spent on handshakes (setting up the session and feeding it the peer's handshake bytes), in Stopwatch ticks: their ratio is what a handshake costs the loop.</summary>
    public long TlsHandshakes;
    public long TlsHandshakeTicks;

    /// <summary>Times a handshaking connection that was ready was left unread because the iteration's handshake budget was spent.</summary>
    public long TlsHandshakesDeferred;

    /// <summary>File bytes (decoded) passed from senders to receivers.</summary>
    public long FileBytesRelayed;

    /// <summary>Clients dropped because the output budget (--max-output-memory) was reached and they held the most.</summary>
    public long OutputBudgetDrops;

    /// <summary>Times handling a connection's input (or a worker's posted result) threw; each such connection was dropped and the loop went on.</summary>
    public long HandlerFailures;

    /// <summary>
    /// One line of key=value pairs that PollBench and scripts parse: cumulative since start, so
    /// two snapshots subtract to the figures of the interval between them.
    /// </summary>
    public string Snapshot(int connections, long historyNotStored, long tlsCallsOffLoopLive, long outputHeld) => string.Create(CultureInfo.InvariantCulture,
        $"Stats: connections={connections} accepted={Accepted} bytes_in={BytesIn} bytes_out={BytesOut} " +
        $"read_pauses={ReadPauses} held_back={HeldBack} frames_in={FramesIn} frames_out={2 * Deliveries} messages={MessagesRelayed} history_not_stored={historyNotStored} file_bytes={FileBytesRelayed} deliveries={Deliveries} selects={SelectCalls} " +
        $"ready_sockets={ReadySockets} ready_per_select={(SelectCalls == 0 ? 0 : (double)ReadySockets / SelectCalls):0.##} " +
        $"loop_alloc_bytes={GC.GetAllocatedBytesForCurrentThread()} select_alloc_bytes={SelectAllocatedBytes} gc0={GC.CollectionCount(0)} " +
        $"gc1={GC.CollectionCount(1)} gc2={GC.CollectionCount(2)} tls_calls_off_loop={TlsCallsOffLoop + tlsCallsOffLoopLive} " +
        $"tls_handshakes={TlsHandshakes} tls_handshake_ms={TlsHandshakeTicks * 1000.0 / System.Diagnostics.Stopwatch.Frequency:0.###} tls_handshakes_deferred={TlsHandshakesDeferred} " +
        $"handler_failures={HandlerFailures} output_held={outputHeld} output_budget_drops={OutputBudgetDrops}");
}
