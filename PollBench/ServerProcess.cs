using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PollChat.Bench;

/// <summary>
/// The server under test, seen from outside: CPU time and memory from /proc for any server
/// (by PID), and for a PollServer that PollBench started itself, its own counters line, asked
/// for with SIGUSR1 and read from its log on stderr.
/// </summary>
internal sealed partial class ServerProcess : IDisposable
{
    private readonly Process? _spawned;
    private string? _dataDirectory;
    private readonly BlockingQueue _statsLines = new();

    private ServerProcess(int pid, Process? spawned)
    {
        Pid = pid;
        _spawned = spawned;
    }

    public int Pid { get; }

    public int? Port { get; private set; }

    /// <summary>The TLS listener's port, when spawned with one.</summary>
    public int? TlsPort { get; private set; }

    public bool HasCounters => _spawned is not null;

    public static ServerProcess Attach(int pid) => new(pid, null);

    /// <summary>Starts PollServer on a free loopback port (and a TLS one, with <paramref name="tls"/>) and waits until it listens.</summary>
    public static ServerProcess Spawn(string executable, int maxClients, bool tls = false)
    {
        // The history file is part of the server's work, so it is written as in real use, to a directory removed afterwards.
        string dataDirectory = Path.Combine(Path.GetTempPath(), "pollbench-data", Guid.NewGuid().ToString("N"));
        var info = new ProcessStartInfo(executable)
        {
            // A benchmark floods by design, all from 127.0.0.1: the per-connection message and byte limits and the per-address limits are off.
            ArgumentList = { "--port", "0", "--host", "127.0.0.1", "--max-clients", maxClients.ToString(CultureInfo.InvariantCulture), "--message-rate", "0", "--byte-rate", "0", "--max-per-address", "0", "--connects-per-minute", "0", "--data-dir", dataDirectory, "--log-level", "Info" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (tls)
        {
            info.ArgumentList.Add("--tls-port");
            info.ArgumentList.Add("0"); // Its certificate is made in the data directory on first run, removed with it.
        }

        info.Environment["POLLCHAT_LOG_DIR"] = Path.Combine(Path.GetTempPath(), "pollbench-logs");
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {executable}");
        var server = new ServerProcess(process.Id, process) { _dataDirectory = dataDirectory };
        var listening = new TaskCompletionSource<int>();
        var tlsListening = new TaskCompletionSource<int>();
        if (!tls)
        {
            tlsListening.SetResult(0);
        }

        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException("the server exited before listening"));
                tlsListening.TrySetException(new InvalidOperationException("the server exited before listening"));
                return;
            }

            Match port = ListeningLine().Match(e.Data);
            if (port.Success)
            {
                (port.Groups[2].Success ? tlsListening : listening).TrySetResult(int.Parse(port.Groups[1].Value, CultureInfo.InvariantCulture));
            }
            else if (e.Data.Contains("Stats: ", StringComparison.Ordinal))
            {
                server._statsLines.Add(e.Data);
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        if (!Task.WhenAll(listening.Task, tlsListening.Task).Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException("the server did not start listening within 30 s");
        }

        server.Port = listening.Task.Result;
        server.TlsPort = tls ? tlsListening.Task.Result : null;
        return server;
    }

    /// <summary>User plus system CPU time consumed so far.</summary>
    public TimeSpan CpuTime()
    {
        // Fields 14 and 15 of /proc/PID/stat, after the parenthesised command name, in clock ticks (100 per second on Linux).
        string stat = File.ReadAllText($"/proc/{Pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>Resident memory now and at its peak, in bytes.</summary>
    public (long Current, long Peak) Memory()
    {
        long current = 0;
        long peak = 0;
        foreach (string line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                current = Kilobytes(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line);
            }
        }

        return (current, peak);
    }

    /// <summary>PollServer's counters now (a spawned server only), as key/value pairs.</summary>
    public Dictionary<string, double> Counters()
    {
        Signal("USR1");
        string line = _statsLines.Take(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException("the server logged no counters");
        return StatsPair().Matches(line).ToDictionary(m => m.Groups[1].Value, m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        if (_spawned is null)
        {
            return;
        }

        if (!_spawned.HasExited)
        {
            Signal("TERM");
            if (!_spawned.WaitForExit(TimeSpan.FromSeconds(15)))
            {
                _spawned.Kill();
            }
        }

        _spawned.Dispose();
        if (_dataDirectory is not null && Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private void Signal(string name)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", name, Pid.ToString(CultureInfo.InvariantCulture)]))!;
        kill.WaitForExit();
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    [GeneratedRegex(@"Listening on 127\.0\.0\.1:(\d+)( with TLS)?")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"(\w+)=([0-9.]+)")]
    private static partial Regex StatsPair();

    /// <summary>Lines from the stderr reader thread to the caller, one at a time.</summary>
    private sealed class BlockingQueue
    {
        private readonly System.Collections.Concurrent.BlockingCollection<string> _lines = [];

        public void Add(string line) => _lines.Add(line);

        public string? Take(TimeSpan timeout) => _lines.TryTake(out string? line, timeout) ? line : null;
    }
}
