using System.Net;
using PollChat.Common.Protocol;
using PollChat.Server;

namespace PollChat.Tests.Support;

/// <summary>
/// A chat already in progress, for integration tests: a <see cref="TestServer"/> and classic
/// <see cref="RawClient"/>s joined to it in order (alice, bob, carol... unless named), all in
/// #lobby. Each client has read its welcome and the join notices of those who came after it, so
/// every client's next read is what the test itself makes happen. Joins are announced one by one
/// only up to the server's presence limits, so this is for a handful of clients on a fresh server
/// (no message of the day, no history to replay); a test of those sets up by hand.
/// <code>
/// using var chat = ChatRoom.Start(3);
/// var (alice, bob, carol) = chat;
/// </code>
/// </summary>
internal sealed class ChatRoom : IDisposable
{
    /// <summary>The names <see cref="Start(int, ServerOptions?)"/> gives, in joining order.</summary>
    public static readonly IReadOnlyList<string> DefaultNames = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];

    private readonly List<RawClient> _clients = [];
    private readonly List<string> _names = [];

    private ChatRoom(TestServer server) => Server = server;

    public TestServer Server { get; }

    public IPEndPoint EndPoint => Server.EndPoint;

    /// <summary>The clients in joining order.</summary>
    public IReadOnlyList<RawClient> Clients => _clients;

    /// <summary>The client that joined as <paramref name="name"/>.</summary>
    public RawClient this[string name]
    {
        get
        {
            int index = _names.IndexOf(name);
            return index >= 0 ? _clients[index] : throw new KeyNotFoundException($"No client named '{name}' in this chat.");
        }
    }

    /// <summary>A server (with <paramref name="options"/>, if given) and <paramref name="clients"/> clients named from <see cref="DefaultNames"/>.</summary>
    public static ChatRoom Start(int clients, ServerOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(clients, DefaultNames.Count);
        return Start([.. DefaultNames.Take(clients)], options);
    }

    /// <summary>A server (with <paramref name="options"/>, if given) and one client per name, joined in the order given.</summary>
    public static ChatRoom Start(IReadOnlyList<string> names, ServerOptions? options = null)
    {
        var chat = new ChatRoom(TestServer.Start(options));
        try
        {
            foreach (string name in names)
            {
                chat.Join(name);
            }
        }
        catch
        {
            chat.Dispose();
            throw;
        }

        return chat;
    }

    public void Deconstruct(out RawClient first, out RawClient second)
    {
        ExpectClients(2);
        (first, second) = (_clients[0], _clients[1]);
    }

    public void Deconstruct(out RawClient first, out RawClient second, out RawClient third)
    {
        ExpectClients(3);
        (first, second, third) = (_clients[0], _clients[1], _clients[2]);
    }

    public void Deconstruct(out RawClient first, out RawClient second, out RawClient third, out RawClient fourth)
    {
        ExpectClients(4);
        (first, second, third, fourth) = (_clients[0], _clients[1], _clients[2], _clients[3]);
    }

    /// <summary>Clients first, then the server: as the <c>using</c> lines of a test set up by hand would.</summary>
    public void Dispose()
    {
        foreach (RawClient client in _clients)
        {
            client.Dispose();
        }

        Server.Dispose();
    }

    /// <summary>
    /// One more client joins as <paramref name="name"/>; returns once it has its welcome and
    /// everyone before it has read the notice of its arrival. Only while the room has said
    /// nothing (hence private): a later joiner is replayed what was said, a test's own business.
    /// </summary>
    private void Join(string name)
    {
        RawClient client = RawClient.Join(EndPoint, name);
        try
        {
            foreach (RawClient earlier in _clients)
            {
                earlier.ReadUntil(p => p.Sender == ServerSender.Name && p.Text.StartsWith($"{name} joined (", StringComparison.Ordinal));
            }
        }
        catch
        {
            client.Dispose();
            throw;
        }

        _clients.Add(client);
        _names.Add(name);
    }

    /// <summary>A deconstruction that named fewer or more clients than there are is a mistake in the test, not a shorter list.</summary>
    private void ExpectClients(int count)
    {
        if (_clients.Count != count)
        {
            throw new InvalidOperationException($"Deconstructed into {count} clients, but this chat has {_clients.Count}.");
        }
    }
}
