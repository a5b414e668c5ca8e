using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PollChat.Tests.Support;

/// <summary>
/// One of the real programs (PollServer, PollClient, or a Python peer) as a child process with
/// redirected standard streams. Output lines are collected as they come; tests wait for the line
/// they expect, with a timeout. Disposing kills the process if it is still running, by its PID.
/// </summary>
internal sealed partial class RunningProcess : IDisposable
{
    public const string SigInt = "INT";
    public const string SigTerm = "TERM";

    private readonly System.Diagnostics.Process _process; // Qualified: PollChat.Tests.Process, the process tests' namespace, hides the type here.
    private readonly BlockingCollection<string> _lines = [];
    private readonly ConcurrentQueue<string> _all = new();

    private RunningProcess(ProcessStartInfo info)
    {
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.Environment.TryAdd("POLLCHAT_LOG_DIR", Path.Combine(Path.GetTempPath(), "pollchat-test-logs")); // Unless a test sets its own, or "" for the default place.
        _process = new System.Diagnostics.Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Collect("out", e.Data);
        _process.ErrorDataReceived += (_, e) => Collect("err", e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    public int Id => _process.Id;

    public string Transcript => string.Join("\n", _all);

    public TextWriter Input => _process.StandardInput;

    /// <summary>PollServer, with a history file in a fresh directory of its own unless the arguments name one.</summary>
    public static RunningProcess Server(params string[] args) => Program("PollServer", WithDataDirectory(args));

    public static RunningProcess Client(params string[] args) => Program("PollClient", args);

    /// <summary>PollClient with extra environment variables (a config directory of its own, a password).</summary>
    public static RunningProcess Client(IReadOnlyDictionary<string, string> environment, params string[] args) => Program("PollClient", args, environment);

    public static RunningProcess Bench(params string[] args) => Program("PollBench", args);

    public static RunningProcess Python(string script, params string[] args)
    {
        var info = new ProcessStartInfo("python3") { ArgumentList = { "-u", Path.Combine(RepositoryRoot, "interop", script) } };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new RunningProcess(info);
    }

    /// <summary>Any command, for the rare test that needs a wrapper (setpriv to drop root).</summary>
    public static RunningProcess Command(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new RunningProcess(info);
    }

    /// <summary>SIGKILL, as a crash or an OOM kill: the process gets no chance to clean up.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>PollServer or PollClient with a pseudo-terminal as standard input and output, as when a person runs it; <see cref="Input"/> types into it.</summary>
    public static RunningProcess InTerminal(string program, params string[] args)
    {
        var info = new ProcessStartInfo("python3") { ArgumentList = { "-u", Path.Combine(RepositoryRoot, "UnitTests", "Support", "in_terminal.py"), ProgramPath(program) } };
        foreach (string arg in program == "PollServer" ? WithDataDirectory(args) : args)
        {
            info.ArgumentList.Add(arg);
        }

        return new RunningProcess(info);
    }

    /// <summary>Waits for an output line (stdout or stderr) that matches; returns it. Lines before it are consumed.</summary>
    public string WaitForLine(Func<string, bool> match, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? RawClient.DefaultTimeout);
        while (true)
        {
            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !_lines.TryTake(out string? line, left))
            {
                throw new TimeoutException("No matching output line. Output so far:\n" + Transcript);
            }

            if (match(line))
            {
                return line;
            }
        }
    }

    public string WaitForLine(string contains, TimeSpan? timeout = null) =>
        WaitForLine(l => l.Contains(contains, StringComparison.Ordinal), timeout);

    /// <summary>Waits for a server's "Listening on HOST:PORT" line (PollServer's, or "listening on" from the Python server) and returns the port.</summary>
    public int WaitForListeningPort() =>
        int.Parse(ListeningLine().Match(WaitForLine(l => ListeningLine().IsMatch(l))).Groups[1].Value, CultureInfo.InvariantCulture);

    /// <summary>Sends a POSIX signal by name (INT, TERM) to this process only, with the system's kill command.</summary>
    public void Signal(string signal)
    {
        using var kill = System.Diagnostics.Process.Start(new ProcessStartInfo("kill", ["-s", signal, _process.Id.ToString(CultureInfo.InvariantCulture)]))!;
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -s {signal} {_process.Id} failed with exit code {kill.ExitCode}");
        }
    }

    /// <summary>Waits for the process to exit and returns its exit code; throws if it is still running at the timeout.</summary>
    public int WaitForExit(TimeSpan? timeout = null)
    {
        if (!_process.WaitForExit(timeout ?? RawClient.DefaultTimeout))
        {
            throw new TimeoutException("The process did not exit. Output so far:\n" + Transcript);
        }

        _process.WaitForExit(); // Also waits for the output readers to reach the end of the streams.
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static RunningProcess Program(string name, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(ProgramPath(name));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return new RunningProcess(info);
    }

    private static string[] WithDataDirectory(string[] args) =>
        args.Contains("--data-dir") || args.Contains("--help") ? args : [.. args, "--data-dir", TestServer.NewDataDirectory()];

    public static string ProgramPath(string name) => Path.Combine(RepositoryRoot, name, "bin", Metadata("Configuration"), "net10.0", name);

    private void Collect(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }

        _all.Enqueue($"[{stream}] {line}");
        _lines.Add(line);
    }

    [GeneratedRegex(@"[Ll]istening on [^ ]+:(\d+)")]
    private static partial Regex ListeningLine();

    private static string Metadata(string key) =>
        typeof(RunningProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
