namespace PollChat.Server.Loop;

/// <summary>
/// Backpressure from whatever must keep up with what clients say (the history writer): how much
/// the loop may read from a client so that everything it could complete is sure to be kept, and
/// whether reads are held altogether. The loop obeys; it does not know why.
/// </summary>
internal interface IInputGate
{
    /// <summary>Whether no client may be read until the gate catches up.</summary>
    bool ReadsHeld { get; }

    /// <summary>How many of <paramref name="wanted"/> bytes may be received from a client with <paramref name="bufferedBytes"/> already waiting; 0 holds reads.</summary>
    int StorableReadBytes(int bufferedBytes, bool tls, int wanted, long now);

    /// <summary>Whether frames already waiting (held back for the message rate) may be handed on now.</summary>
    bool CanStoreBuffered(int bufferedBytes, long now);

    /// <summary>Once per iteration: resumes reads if the gate caught up; returns how long they were held (0 if they were not).</summary>
    long ResumeReadsIfCaughtUp(long now);
}
