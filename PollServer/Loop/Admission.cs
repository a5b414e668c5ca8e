using NLog;

namespace PollChat.Server.Loop;

/// <summary>
/// Admission by address: the loop's side of <see cref="Loop.AddressLimits"/>. A connection from
/// an address that holds <c>--max-per-address</c> connections, or opens them faster than
/// <c>--connects-per-minute</c>, is refused with one notice; a run of such refusals is logged
/// once when it starts and then with a count once a minute, never once per connection. It does
/// not close anything itself: the loop does, with the notice given.
/// </summary>
internal sealed class Admission(ServerOptions options, AddressLimits limits)
{
    private static readonly Logger Log = LogManager.GetLogger(typeof(ChatServer).FullName!);

    /// <summary>Counts a new connection against its address; if the address is over a limit, returns false with the notice for it and why (for the close line).</summary>
    public bool Admit(ClientConnection client, long now, out string notice, out string why)
    {
        AddressLimits.Refusal refusal = limits.TryConnect(client.AddressKey, now, out long wait);
        if (refusal == AddressLimits.Refusal.None)
        {
            client.CountedAtAddress = true;
            notice = why = "";
            return true;
        }

        why = refusal == AddressLimits.Refusal.TooMany
            ? $"{options.MaxPerAddress} connections at once (--max-per-address)"
            : $"more than {options.ConnectsPerMinute} new connections a minute (--connects-per-minute)";
        if (limits.CountRefusal(client.AddressKey, now))
        {
            Log.Warn("Refusing connections from {Address}: {Why}; further refusals are counted and logged once a minute", client.AddressKey, why);
        }

        notice = refusal == AddressLimits.Refusal.TooMany
            ? Chat.Notices.TooManyFromAddress(options.MaxPerAddress)
            : Chat.Notices.ConnectingTooOften(options.ConnectsPerMinute, wait);
        return false;
    }

    /// <summary>Where a connection is removed: its address holds one fewer.</summary>
    public void Release(ClientConnection client, long now)
    {
        if (client.CountedAtAddress)
        {
            client.CountedAtAddress = false;
            limits.Closed(client.AddressKey, now);
        }
    }

    /// <summary>With the loop's sweep: the counts of refusals, and forgetting addresses that hold nothing.</summary>
    public void Sweep(long now) =>
        limits.Sweep(now, (address, refused, milliseconds) =>
            Log.Warn("Refused {Count} more connections from {Address} in the last {Seconds:0} s", refused, address, milliseconds / 1000.0));
}
