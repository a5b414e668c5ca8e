namespace PollChat.Server.Loop;

/// <summary>
/// Every deadline the server has, in one queue ordered by time (and, at the same time, by when it
/// was registered): the Select timeout is the time to the first, and a feature that needs to act
/// later registers a deadline here and nothing else. A timer is a callback with a state object,
/// both given by the caller; a static or cached callback and an existing object as state make
/// registering allocation-free (the queue's array is reused), which matters for the read pauses
/// fakelag registers per held-back message. Timers are not cancelled one by one: a callback looks
/// at its state and does nothing if it no longer applies, and a deadline given a
/// <c>moot</c> test (a name that arrived, a connection already gone) is dropped when it reaches
/// the head, so it never wakes the loop for nothing. Deadlines that act on what clients sent (a
/// name not sent in time, a frame left unfinished) wait while the history writer holds reads, in
/// their own queue: they must neither fire nor shorten Select's timeout then, or the loop would spin.
/// </summary>
internal sealed class Timers
{
    private readonly PriorityQueue<Entry, (long Deadline, long Order)> _always = new();
    private readonly PriorityQueue<Entry, (long Deadline, long Order)> _whileReading = new();

    // Registered while deadlines run: queued only after the pass, so a timer that registers itself again cannot spin.
    private readonly List<(bool WhileReading, Entry Entry, long Deadline)> _registeredWhileRunning = [];
    private bool _running;
    private long _registered;

    /// <summary>How many deadlines wait, in both queues.</summary>
    public int Count => _always.Count + _whileReading.Count;

    /// <summary>
    /// Runs <paramref name="callback"/>(<paramref name="state"/>, now) on the loop thread at or soon
    /// after <paramref name="deadline"/>, unless <paramref name="moot"/>(<paramref name="state"/>) says
    /// by then that it no longer applies.
    /// </summary>
    public void At(long deadline, Action<object?, long> callback, object? state = null, Func<object?, bool>? moot = null) =>
        Add(whileReading: false, new Entry(callback, state, moot), deadline);

    /// <summary>As <see cref="At"/>, for a deadline about clients' input: it waits while reads are held.</summary>
    public void AtWhileReading(long deadline, Action<object?, long> callback, object? state = null, Func<object?, bool>? moot = null) =>
        Add(whileReading: true, new Entry(callback, state, moot), deadline);

    /// <summary>The earliest deadline that may fire, or <see cref="long.MaxValue"/>; moot ones at the head are dropped on the way.</summary>
    public long Next(bool readsHeld)
    {
        long next = First(_always);
        return readsHeld ? next : Math.Min(next, First(_whileReading));
    }

    /// <summary>
    /// Runs every deadline due at <paramref name="now"/>, in order; one registered meanwhile waits for
    /// the next call. <paramref name="readsHeld"/> is asked after the others have run, since one of them
    /// (a held-back sender handed its frames) may have made the history writer hold reads.
    /// </summary>
    public void RunDue(long now, Func<bool> readsHeld)
    {
        _running = true;
        try
        {
            RunDue(_always, now);
            if (!readsHeld())
            {
                RunDue(_whileReading, now);
            }
        }
        finally
        {
            _running = false;
            foreach ((bool whileReading, Entry entry, long deadline) in _registeredWhileRunning)
            {
                Add(whileReading, entry, deadline);
            }

            _registeredWhileRunning.Clear();
        }
    }

    private void Add(bool whileReading, Entry entry, long deadline)
    {
        if (_running)
        {
            _registeredWhileRunning.Add((whileReading, entry, deadline));
        }
        else
        {
            (whileReading ? _whileReading : _always).Enqueue(entry, (deadline, _registered++));
        }
    }

    private static long First(PriorityQueue<Entry, (long Deadline, long Order)> queue)
    {
        while (queue.TryPeek(out Entry entry, out (long Deadline, long Order) first))
        {
            if (entry.Moot?.Invoke(entry.State) != true)
            {
                return first.Deadline;
            }

            queue.Dequeue();
        }

        return long.MaxValue;
    }

    private static void RunDue(PriorityQueue<Entry, (long Deadline, long Order)> queue, long now)
    {
        while (queue.TryPeek(out _, out (long Deadline, long Order) first) && first.Deadline <= now)
        {
            Entry entry = queue.Dequeue();
            if (entry.Moot?.Invoke(entry.State) != true)
            {
                entry.Callback(entry.State, now);
            }
        }
    }

    private readonly record struct Entry(Action<object?, long> Callback, object? State, Func<object?, bool>? Moot);
}
