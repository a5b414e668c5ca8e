using System.Globalization;
using System.Text;

namespace PollChat.Bench;

/// <summary>The figures of one run, and the two ways they are printed: for people, and one RESULT line for scripts.</summary>
internal sealed record BenchResult(
    string Protocol, BenchOptions Options, int Members, TimeSpan ConnectTime, TimeSpan Elapsed,
    long Sent, long Deliveries, LatencyHistogram Latency, long Lost, long Duplicated, long OutOfOrder, long Foreign,
    bool Drained, string? Failure, TimeSpan ServerCpu, TimeSpan BenchCpu, long RssBefore, long RssConnected, long RssPeak,
    double? AllocatedBytesPerDelivery, double? OwnAllocatedBytesPerDelivery, string ServerCounters)
{
    /// <summary>Nothing lost, duplicated or reordered, and no connection failed.</summary>
    public bool Correct => Lost == 0 && Duplicated == 0 && OutOfOrder == 0 && Failure is null;

    public double DeliveriesPerSecond => Deliveries / Elapsed.TotalSeconds;

    public double SendsPerSecond => Sent / Elapsed.TotalSeconds;

    public double RssPerConnection => Members == 0 ? 0 : (double)(RssConnected - RssBefore) / Members;

    public string ForPeople()
    {
        var text = new StringBuilder();
        string mode = Options.Idle ? "idle" : Options.Rate is { } rate ? $"fixed {rate:0} msg/s" : $"max (window {Options.Window})";
        text.AppendLine(Invariant($"PollBench {Protocol}{(Options.Tls ? " over TLS" : "")}: {Members} clients, {Options.Senders} senders, {Options.PayloadBytes} B payload, {mode}"));
        text.AppendLine(Invariant($"  connect:    {Members} clients in the room after {ConnectTime.TotalMilliseconds:0} ms"));
        text.AppendLine(Invariant($"  sent:       {Sent} messages in {Elapsed.TotalSeconds:0.00} s ({SendsPerSecond:0}/s)"));
        text.AppendLine(Invariant($"  delivered:  {Deliveries} ({DeliveriesPerSecond:0}/s)"));
        text.AppendLine(Invariant($"  latency µs: p50 {Latency.Percentile(0.5)}  p99 {Latency.Percentile(0.99)}  p99.9 {Latency.Percentile(0.999)}  max {Latency.Max}"));
        if (RssPeak > 0)
        {
            text.AppendLine(Invariant($"  server:     cpu {ServerCpu.TotalSeconds:0.00} s ({100 * ServerCpu.TotalSeconds / Elapsed.TotalSeconds:0}% of a core), peak RSS {RssPeak / 1048576.0:0.0} MiB, {RssPerConnection:0} B RSS per connection"));
        }

        text.AppendLine(Invariant($"  generator:  cpu {BenchCpu.TotalSeconds:0.00} s ({100 * BenchCpu.TotalSeconds / Elapsed.TotalSeconds:0}% of a core)"));
        if (AllocatedBytesPerDelivery is { } perDelivery)
        {
            text.AppendLine(Invariant($"  counters:   {ServerCounters}"));
            text.AppendLine(Invariant($"  allocation: {perDelivery:0.000} B per delivery on the loop thread, {OwnAllocatedBytesPerDelivery:0.000} B outside Socket.Select (second half of the sending)"));
        }

        text.AppendLine(Invariant($"  check:      {Lost} lost, {Duplicated} duplicated, {OutOfOrder} out of order{(Foreign > 0 ? $", {Foreign} foreign" : "")}{(Drained ? "" : ", not drained")}{(Failure is null ? "" : $", {Failure}")}: {(Correct ? "OK" : "FAILED")}"));
        return text.ToString();
    }

    /// <summary>One line of key=value pairs; bench/compare.sh reads these.</summary>
    public string ForScripts() => string.Create(CultureInfo.InvariantCulture,
        $"RESULT protocol={Protocol} tls={(Options.Tls ? 1 : 0)} clients={Members} senders={Options.Senders} payload={Options.PayloadBytes} " +
        $"mode={(Options.Idle ? "idle" : Options.Rate is null ? "max" : "rate")} sent={Sent} deliveries={Deliveries} " +
        $"deliveries_per_s={DeliveriesPerSecond:0} sends_per_s={SendsPerSecond:0} p50_us={Latency.Percentile(0.5)} " +
        $"p99_us={Latency.Percentile(0.99)} p999_us={Latency.Percentile(0.999)} max_us={Latency.Max} " +
        $"connect_ms={ConnectTime.TotalMilliseconds:0} server_cpu_s={ServerCpu.TotalSeconds:0.00} bench_cpu_s={BenchCpu.TotalSeconds:0.00} " +
        $"rss_peak_bytes={RssPeak} rss_per_conn_bytes={RssPerConnection:0} alloc_per_delivery={AllocatedBytesPerDelivery ?? -1:0.000} own_alloc_per_delivery={OwnAllocatedBytesPerDelivery ?? -1:0.000} " +
        $"lost={Lost} duplicated={Duplicated} out_of_order={OutOfOrder} ok={(Correct ? 1 : 0)}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
