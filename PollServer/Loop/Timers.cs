namespace PollChat.Server.Loop;

/// <summary>
/// Every deadline the server has, in one queue ordered by time: the Select timeout is the time to
/// the first, and a feature that needs to act later registers a deadline here and nothing else.
/// A timer is a callback with a state object, both given by the caller; a static callback and an
/// existing object as state make registering allocation-free (the queue's array is reused), which
/// matters for the read pauses fakelag registers per held-back message. Timers are never cancelled:
/// a callback looks at its state and does nothing if it no longer applies, which costs less than
/// finding it in the queue. Deadlines that act on what clients sent (a name not sent in time, a frame
/// left unfinished) wait while the history writer holds reads, in their own queue: they must neither
/// fire nor shorten Select's timeout then, or the loop would spin.
/// </summary>
internal sealed class Timers
{
    private readonly PriorityQueue<(Action<object?, long> Callback, object? State), long> _always = new();
    private readonly PriorityQueue<(Action<object?, long> Callback, object? State), long> _whileReading = new();

    // Registered while deadlines run: queued only after the pass, so a timer that registers itself again cannot spin.
    private readonly List<(bool WhileReading, Action<object?, long> Callback, object? State, long Deadline)> _registeredWhileRunning = [];
    private bool _running;

    /// <summary>How many deadlines wait, in both queues (for tests and the counters).</summary>
    public int Count => _always.Count + _whileReading.Count;

    /// <summary>Runs <paramref name="callback"/>(<paramref name="state"/>, now) on the loop thread at or soon after <paramref name="deadline"/>.</summary>
    public void At(long deadline, Action<object?, long> callback, object? state = null) => Add(whileReading: false, deadline, callback, state);

    /// <summary>As <see cref="At"/>, for a deadline about clients' input: it waits while reads are held.</summary>
    public void AtWhileReading(long deadline, Action<object?, long> callback, object? state = null) => Add(whileReading: true, deadline, callback, state);

    private void Add(bool whileReading, long deadline, Action<object?, long> callback, object? state)
    {
        if (_running)
        {
            _registeredWhileRunning.Add((whileReading, callback, state, deadline));
        }
        else
        {
            (whileReading ? _whileReading : _always).Enqueue((callback, state), deadline);
        }
    }

    /// <summary>The earliest deadline that may fire, or <see cref="long.MaxValue"/>.</summary>
    public long Next(bool readsHeld)
    {
        long next = _always.TryPeek(out _, out long first) ? first : long.MaxValue;
        if (!readsHeld && _whileReading.TryPeek(out _, out long reading))
        {
            next = Math.Min(next, reading);
        }

        return next;
    }

    /// <summary>Runs every deadline due at <paramref name="now"/>; one registered meanwhile waits for the next call, so a timer that registers itself again cannot spin.</summary>
    public void RunDue(long now, bool readsHeld)
    {
        _running = true;
        try
        {
            RunDue(_always, now);
            if (!readsHeld)
            {
                RunDue(_whileReading, now);
            }
        }
        finally
        {
            _running = false;
            foreach ((bool whileReading, Action<object?, long> callback, object? state, long deadline) in _registeredWhileRunning)
            {
                Add(whileReading, deadline, callback, state);
            }

            _registeredWhileRunning.Clear();
        }
    }

    private static void RunDue(PriorityQueue<(Action<object?, long> Callback, object? State), long> queue, long now)
    {
        while (queue.TryPeek(out _, out long first) && first <= now)
        {
            (Action<object?, long> callback, object? state) = queue.Dequeue();
            callback(state, now);
        }
    }
}
