namespace PollChat.Server;

/// <summary>
/// Admission by address: the loop's side of <see cref="Server.AddressLimits"/>. A connection from
/// an address that holds <c>--max-per-address</c> connections, or opens them faster than
/// <c>--connects-per-minute</c>, gets one notice and is closed; a run of such refusals is logged
/// once when it starts and then with a count once a minute, never once per connection.
/// </summary>
public sealed partial class ChatServer
{
    private AddressLimits? _addressLimits;

    private AddressLimits AddressLimits => _addressLimits ??= new AddressLimits(_options.MaxPerAddress, _options.ConnectsPerMinute);

    /// <summary>Counts a new connection against its address; if the address is over a limit, tells it why, closes it and returns false.</summary>
    private bool AdmittedFromAddress(ClientConnection client, long now)
    {
        AddressLimits.Refusal refusal = AddressLimits.TryConnect(client.AddressKey, now, out long wait);
        if (refusal == AddressLimits.Refusal.None)
        {
            client.CountedAtAddress = true;
            return true;
        }

        string why = refusal == AddressLimits.Refusal.TooMany
            ? $"{_options.MaxPerAddress} connections at once (--max-per-address)"
            : $"more than {_options.ConnectsPerMinute} new connections a minute (--connects-per-minute)";
        if (AddressLimits.CountRefusal(client.AddressKey, now))
        {
            Log.Warn("Refusing connections from {Address}: {Why}; further refusals are counted and logged once a minute", client.AddressKey, why);
        }

        string notice = refusal == AddressLimits.Refusal.TooMany
            ? Notices.TooManyFromAddress(_options.MaxPerAddress)
            : Notices.ConnectingTooOften(_options.ConnectsPerMinute, wait);
        Disconnect(client, CloseReason.AddressLimit, notice, now, detail: why);
        return false;
    }

    /// <summary>Where a connection is removed: its address holds one fewer.</summary>
    private void ReleaseAddress(ClientConnection client)
    {
        if (client.CountedAtAddress)
        {
            client.CountedAtAddress = false;
            AddressLimits.Closed(client.AddressKey, Environment.TickCount64);
        }
    }

    /// <summary>With the buffer sweep: the counts of refusals, and forgetting addresses that hold nothing.</summary>
    private void SweepAddressLimits(long now) =>
        _addressLimits?.Sweep(now, (address, refused, milliseconds) =>
            Log.Warn("Refused {Count} more connections from {Address} in the last {Seconds:0} s", refused, address, milliseconds / 1000.0));
}
