using System.Net;
using PollChat.Server;

namespace PollChat.Tests.Support;

/// <summary>A real <see cref="ChatServer"/> on 127.0.0.1 and a free port, its loop on its own thread.</summary>
internal sealed class TestServer : IDisposable
{
    private readonly ChatServer _server;
    private readonly Thread _loop;
    private Exception? _failure;

    private TestServer(ServerOptions options)
    {
        _server = new ChatServer(options);
        EndPoint = _server.Start();
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

    /// <summary>Starts on 127.0.0.1; on a free port unless <paramref name="port"/> names one (a restart on the same port).</summary>
    public static TestServer Start(ServerOptions? options = null, int port = 0) =>
        new((options ?? new ServerOptions()) with { Host = "127.0.0.1", Port = port });

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
    }
}
