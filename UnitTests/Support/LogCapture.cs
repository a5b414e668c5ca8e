using System.Collections.Concurrent;
using NLog;
using NLog.Config;
using NLog.Targets;

namespace PollChat.Tests;

/// <summary>For every test in the assembly (it sits in the root namespace), routes the in-process server's NLog output to memory, so tests can count what was logged.</summary>
[SetUpFixture]
public sealed class LogCapture
{
    private static readonly ConcurrentQueue<string> Captured = new();

    public static IReadOnlyList<string> Lines => [.. Captured];

    [OneTimeSetUp]
    public void RouteLogsToMemory()
    {
        var config = new LoggingConfiguration();
        var target = new MethodCallTarget("capture", (e, _) => Captured.Enqueue($"{e.Level} {e.FormattedMessage}"));
        config.AddRule(LogLevel.Debug, LogLevel.Fatal, target);
        LogManager.Configuration = config;
    }
}
