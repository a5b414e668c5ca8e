using System.Net;
using PollChat.Server;

namespace PollChat.Tests.Support;

/// <summary>A real <see cref="ChatServer"/> on 127.0.0.1 and a free port, its loop on its own thread.</summary>
internal sealed class TestServer : IDisposable
{
    private readonly ChatServer _server;
    private readonly Thread _loop;
    private Exception? _failure;
    private string? _ownDataDirectory;
    private string? _dataDirectory;

    /// <summary>Milliseconds the server's clock runs ahead of the system's: tests move time instead of sleeping.</summary>
    private long _skipped;

    private TestServer(ServerOptions options)
    {
        _server = new ChatServer(options, new LoopClock(() => Environment.TickCount64 + Interlocked.Read(ref _skipped)));
        EndPoint = _server.Start();
        TlsEndPoint = _server.TlsEndPoint;
        _loop = new Thread(() =>
        {
            try
            {
                _server.Run();
            }
            catch (Exception e)
            {
                _failure = e;
            }
        }) { IsBackground = true, Name = "test server loop" };
        _loop.Start();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The TLS listener, when the options asked for one.</summary>
    public IPEndPoint? TlsEndPoint { get; }

    /// <summary>The server's history file.</summary>
    public string DataFile => Path.Combine(_dataDirectory!, "pollchat.db");

    /// <summary>
    /// Starts on 127.0.0.1; on a free port unless <paramref name="port"/> names one (a restart on
    /// the same port). Its history file goes in a directory of its own, removed with it, unless
    /// the options name one (a restart on the same history). Test clients all come from
    /// 127.0.0.1 unless they say otherwise, so the per-address connection limits (which are
    /// there to keep one host from taking the server) are off unless <paramref name="addressLimits"/>:
    /// a test of the limits asks for them, and connects from other 127.0.0.x addresses.
    /// </summary>
    public static TestServer Start(ServerOptions? options = null, int port = 0, bool addressLimits = false)
    {
        options ??= new ServerOptions();
        if (!addressLimits)
        {
            options = options with { MaxPerAddress = 0, ConnectsPerMinute = 0 };
        }

        bool ownDirectory = options.DataDirectory == ServerOptions.DefaultDataDirectory;
        string? dataDirectory = ownDirectory ? NewDataDirectory() : options.DataDirectory;
        return new(options with { Host = "127.0.0.1", Port = port, DataDirectory = dataDirectory }) { _ownDataDirectory = ownDirectory ? dataDirectory : null, _dataDirectory = dataDirectory };
    }

    /// <summary>A fresh, empty directory for a history file.</summary>
    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "pollchat-test-data", Guid.NewGuid().ToString("N"));

    /// <summary>Runs an operator console command in the loop and returns its answer, line by line.</summary>
    public IReadOnlyList<string> Operator(string line)
    {
        var answer = new List<string>();
        using var answered = new ManualResetEventSlim();
        _server.RunOperatorCommand(line, answer.Add);
        _server.Post(answered.Set); // Posted actions run in order, so the command has answered by then.
        if (!answered.Wait(RawClient.DefaultTimeout))
        {
            throw new TimeoutException($"The loop did not run the operator command '{line}'.");
        }

        return answer;
    }

    /// <summary>
    /// Moves the server's clock ahead, as if <paramref name="time"/> had passed, and returns once
    /// the loop has run an iteration on the new time: idle times, deadlines and rates see it.
    /// </summary>
    public void SkipAhead(TimeSpan time)
    {
        Interlocked.Add(ref _skipped, (long)time.TotalMilliseconds);
        using var ticked = new ManualResetEventSlim();
        _server.Post(ticked.Set); // The iteration that runs it read the clock after the skip.
        if (!ticked.Wait(RawClient.DefaultTimeout))
        {
            throw new TimeoutException("The loop did not run an iteration after the clock was moved.");
        }
    }

    /// <summary>Runs <paramref name="action"/> on the loop thread.</summary>
    public void Post(Action action) => _server.Post(action);

    /// <summary>The next message from <paramref name="name"/> makes the server's handler throw, as a bug would.</summary>
    public void FailNextHandlingOf(string name) => _server.FailNextMessageOf(name);

    /// <summary>Waits for the loop to end by itself (after /quit); true if it did within the timeout.</summary>
    public bool WaitUntilStopped(TimeSpan timeout) => _loop.Join(timeout);

    /// <summary>Asks the loop to shut down and waits for it; true if it stopped within the timeout.</summary>
    public bool Stop(TimeSpan timeout)
    {
        _server.RequestShutdown();
        bool stopped = _loop.Join(timeout);
        if (_failure is not null)
        {
            throw new InvalidOperationException("The server loop failed.", _failure);
        }

        return stopped;
    }

    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(10));
        _server.Dispose();
        if (_ownDataDirectory is not null)
        {
            Directory.Delete(_ownDataDirectory, recursive: true);
        }
    }
}
