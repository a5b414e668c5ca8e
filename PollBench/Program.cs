using System.CommandLine;
using PollChat.Bench;

// Program only turns the command line into BenchOptions, picks the protocol driver and the server to watch, and prints the result.
var server = new Option<string>("--server") { Description = "Protocol of the server under test: classic (PollServer or a tutorial server), redis, irc", DefaultValueFactory = _ => "classic" };
var host = new Option<string>("--host") { Description = "Server address (loopback only for load tests)", DefaultValueFactory = _ => "127.0.0.1" };
var port = new Option<int>("--port") { Description = "Server port (ignored with --spawn-server)", DefaultValueFactory = _ => 9000 };
var clients = new Option<int>("--clients", "-c") { Description = "Members of the room (receivers)", DefaultValueFactory = _ => 100 };
var senders = new Option<int>("--senders", "-s") { Description = "How many of them send (separate publisher connections for redis)", DefaultValueFactory = _ => 10 };
var payload = new Option<int>("--payload", "-P") { Description = $"Payload bytes per message (at least {BenchPayload.MinimumSize})", DefaultValueFactory = _ => 64 };
var rate = new Option<double?>("--rate") { Description = "Total messages per second over all senders; omitted: as fast as the window allows" };
var window = new Option<int>("--window") { Description = "Messages per sender in flight (sent, not yet received by everyone)", DefaultValueFactory = _ => 16 };
var duration = new Option<double>("--duration", "-d") { Description = "Seconds of sending", DefaultValueFactory = _ => 10 };
var count = new Option<long?>("--count", "-n") { Description = "Messages per sender; overrides --duration" };
var idle = new Option<bool>("--idle") { Description = "Connect the clients, measure server memory per connection, send one message to prove they are served" };
var serverPid = new Option<int?>("--server-pid") { Description = "PID of the server, to report its CPU time and memory from /proc" };
var spawn = new Option<string?>("--spawn-server") { Description = "Path of a PollServer executable to start on a free loopback port; also reports its own counters" };
var probeSelect = new Option<bool>("--probe-select") { Description = "Only measure what Socket.Select itself allocates per call for 10 to 5000 sockets, and exit" };
var tls = new Option<bool>("--tls") { Description = "Connect every client with TLS: to the TLS port of a spawned PollServer (started with --tls-port), or to --port, which must then be a TLS port" };
var readyOnConnect = new Option<bool>("--classic-no-welcome") { Description = "With --server classic: the server sends no welcome (a tutorial server); members count as joined once connected" };

var root = new RootCommand("PollBench: fan-out chat load with per-message checks of loss, duplication and order.")
{
    server, host, port, clients, senders, payload, rate, window, duration, count, idle, serverPid, spawn, readyOnConnect, probeSelect, tls,
};
root.SetAction(async (result, _) =>
{
    if (result.GetValue(probeSelect))
    {
        SelectProbe.Run(Console.Out);
        return 0;
    }

    IBenchProtocol protocol = result.GetValue(server) switch
    {
        "classic" => new ClassicProtocol(result.GetValue(readyOnConnect)),
        "redis" => new RedisProtocol(),
        "irc" => new IrcProtocol(),
        var other => throw new ArgumentException($"unknown --server '{other}': classic, redis or irc"),
    };
    if (result.GetValue(payload) < BenchPayload.MinimumSize)
    {
        Console.Error.WriteLine($"PollBench: --payload must be at least {BenchPayload.MinimumSize} bytes.");
        return 2;
    }

    int members = result.GetValue(clients);
    bool overTls = result.GetValue(tls);
    using ServerProcess? watched = result.GetValue(spawn) is { } path ? ServerProcess.Spawn(path, members + result.GetValue(senders) + 16, overTls)
        : result.GetValue(serverPid) is { } pid ? ServerProcess.Attach(pid) : null;
    var options = new BenchOptions
    {
        Host = result.GetValue(host)!,
        Port = (overTls ? watched?.TlsPort : watched?.Port) ?? result.GetValue(port),
        Clients = members,
        Senders = result.GetValue(senders),
        PayloadBytes = result.GetValue(payload),
        Rate = result.GetValue(rate),
        Window = result.GetValue(window),
        Duration = TimeSpan.FromSeconds(result.GetValue(duration)),
        CountPerSender = result.GetValue(count),
        Idle = result.GetValue(idle),
        Tls = overTls,
    };

    using var run = new BenchRun(options, protocol);
    BenchResult outcome;
    try
    {
        outcome = await run.RunAsync(watched);
    }
    catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException)
    {
        // The room could not be set up (refused, reset or never ready): one line for people and scripts alike.
        Console.Error.WriteLine($"PollBench: the room could not be set up: {e.Message}");
        return 1;
    }

    Console.Write(outcome.ForPeople());
    Console.WriteLine(outcome.ForScripts());
    return outcome.Correct ? 0 : 1;
});
return await root.Parse(args).InvokeAsync();
