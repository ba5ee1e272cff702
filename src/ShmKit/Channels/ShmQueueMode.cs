namespace ShmKit;

/// <summary>Who may produce into and consume from a <see cref="ShmQueue"/>. Part of the layout (the header's flags): fixed at creation.</summary>
public enum ShmQueueMode
{
    /// <summary>
    /// One live producer and one live consumer at a time (roles claimed on creation of the handles, taken over from
    /// a holder that died). The fast path: no atomic read-modify-write per message, one index publication per commit
    /// or per batch, the other side's index re-read only when the ring looks full or empty.
    /// </summary>
    SingleProducerSingleConsumer = 0,

    /// <summary>
    /// Any number of producers and consumers, in any processes; each message reaches exactly one consumer (at least
    /// once for a message whose consumer died holding it, flagged <see cref="ShmQueueReadLease.IsRedelivery"/>).
    /// Producers and consumers each claim records under a short robust latch.
    /// </summary>
    MultiProducerMultiConsumer = 1,
}
