using System.Globalization;

namespace ShmKit;

/// <content>The opener's side: waiting for Ready, judging the initializer, poisoning or taking over.</content>
internal static unsafe partial class StructureHeader
{
    /// <summary>
    /// Waits until the header at <paramref name="offset"/> is Ready and validates it, or (with
    /// <see cref="HeaderClaimPolicy.ClaimOrTakeOver"/>) claims it for initialization when nobody has, or when its
    /// initializer died. Every loop iteration either returns, throws, or blocks in one futex wait on the state word
    /// (no slices: an idle opener has no wake-ups). While an initializer is known, the <see cref="LivenessMonitor"/>
    /// watches it first (pidfd; or its SEM_UNDO token from another pid namespace), then its liveness is checked, then
    /// the opener sleeps: its death interrupts the sleep, and the next iteration poisons or takes over. The deadline
    /// bounds the whole wait.
    /// </summary>
    /// <param name="lease">A lease on the region, held for the whole wait.</param>
    /// <param name="offset">The header's offset (64-byte aligned).</param>
    /// <param name="available">Bytes from <paramref name="offset"/> to the end of the space the structure may use.</param>
    /// <param name="kind">The kind the caller expects.</param>
    /// <param name="policy">Whether to claim or take over.</param>
    /// <param name="deadline">Absolute <see cref="MonotonicClock"/> deadline, or <see cref="MonotonicClock.Infinite"/>.</param>
    /// <param name="timeout">The timeout the deadline came from, for messages.</param>
    /// <param name="site">The segment, for messages.</param>
    /// <param name="what">What the structure is, for messages ("managed segment header").</param>
    /// <param name="cancellationToken">Wakes the wait (futex_waitv on the thread's interrupt word).</param>
    /// <param name="initializerToken">Where this structure's initializer records its SEM_UNDO liveness token (null: nowhere).</param>
    internal static HeaderAcquisition Acquire(in RegionLease lease, long offset, long available, ShmStructureKind kind, HeaderClaimPolicy policy,
        long deadline, TimeSpan? timeout, in ShmSite site, string what, CancellationToken cancellationToken, InitializerTokenField? initializerToken = null)
    {
        if (available < Size)
        {
            throw ShmErrors.Layout(site, offset, "size", string.Create(CultureInfo.InvariantCulture, $"at least {Size} bytes for a structure header"),
                string.Create(CultureInfo.InvariantCulture, $"{available} bytes"));
        }

        ref int state = ref lease.Ref<int>(offset + StateOffset);
        int* word = lease.Word(offset + StateOffset);
        var wait = new PeerWait(deadline, cancellationToken);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int s = Volatile.Read(ref state);
            int epoch = s >>> EpochShift;
            switch (s & LowByte)
            {
                case NotInitialized when s == 0:
                    if (policy == HeaderClaimPolicy.ClaimOrTakeOver)
                    {
                        if (TryClaimFrom(lease, offset, 0, 1, kind, previousPid: 0, out HeaderClaim claim))
                        {
                            return new HeaderAcquisition(default, claim);
                        }

                        continue;
                    }

                    SleepOrThrow(ref wait, word, s, null, default, null, site, offset, what, timeout, "nobody has started initializing it (the memory is all zero)");
                    continue;

                case Initializing when epoch != 0:
                    // Between a claimer's CAS and its identity (a few stores) nothing can be watched: a claimer that
                    // dies right there leaves its openers their timeout.
                    SleepOrThrow(ref wait, word, s, null, default, null, site, offset, what, timeout,
                        "a process is claiming its initialization and has not published its identity yet");
                    continue;

                case Initializing | IdentityBit when epoch != 0:
                case Initializing | IdentityBit | TokenBit when epoch != 0:
                {
                    CheckClaimedFields(lease, offset, site);
                    if (!TryReadInitializer(lease, offset, initializerToken, s, out ProcessIdentity creator, out LivenessToken? token))
                    {
                        continue; // the state moved on while we read: look again
                    }

                    using (LivenessWatch? watch = wait.Watch(creator, token)) // arm first, then check, then sleep
                    {
                        LivenessState liveness = ProcessLiveness.Check(creator, token);
                        if (liveness != LivenessState.Dead)
                        {
                            // Woken, changed, or interrupted by the creator's death: look again (and confirm it).
                            SleepOrThrow(ref wait, word, s, watch, creator, token, site, offset, what, timeout,
                                DescribeInitializer(creator.ProcessId, liveness, initializerToken is not null && (s & TokenBit) == 0));
                            continue;
                        }
                    }

                    if (policy == HeaderClaimPolicy.ClaimOrTakeOver)
                    {
                        if (TryClaimFrom(lease, offset, s, NextEpoch(epoch), kind, creator.ProcessId, out HeaderClaim claim))
                        {
                            return new HeaderAcquisition(default, claim);
                        }

                        continue;
                    }

                    if (Interlocked.CompareExchange(ref state, Poisoned, s) == s)
                    {
                        Futex.WakeAll(word);
                        throw ShmErrors.Poisoned(site, offset, what, creator.ProcessId);
                    }

                    continue;
                }

                case Ready when s == Ready:
                    return new HeaderAcquisition(Validate(lease, offset, available, kind, site), null);

                case Poisoned when s == Poisoned:
                {
                    int creatorPid = Volatile.Read(ref lease.Ref<int>(offset + CreatorPidOffset));
                    if (policy == HeaderClaimPolicy.ClaimOrTakeOver)
                    {
                        int next = NextEpoch(Volatile.Read(ref lease.Ref<int>(offset + LastEpochOffset)) & MaxEpoch);
                        if (TryClaimFrom(lease, offset, Poisoned, next, kind, creatorPid, out HeaderClaim claim))
                        {
                            return new HeaderAcquisition(default, claim);
                        }

                        continue;
                    }

                    throw ShmErrors.Poisoned(site, offset, what, creatorPid);
                }

                default:
                    throw ShmErrors.Layout(site, offset + StateOffset, "state",
                        "0 (not initialized), 1|flags|epoch<<8 (initializing), 2 (ready) or 3 (poisoned)",
                        string.Create(CultureInfo.InvariantCulture, $"0x{s:x8}"));
            }
        }
    }

    /// <summary>
    /// Reads the initializer's identity (the caller saw IdentityBit, acquire) and, when the state has TokenBit, its
    /// token from <paramref name="field"/>; false when the state no longer reads <paramref name="s"/> afterwards (the
    /// fields may then be another claimer's).
    /// </summary>
    private static bool TryReadInitializer(in RegionLease lease, long offset, InitializerTokenField? field, int s, out ProcessIdentity identity, out LivenessToken? token)
    {
        int pid = Volatile.Read(ref lease.Ref<int>(offset + CreatorPidOffset));
        long start = Volatile.Read(ref lease.Ref<long>(offset + CreatorStartTimeOffset));
        long ns = Volatile.Read(ref lease.Ref<long>(offset + CreatorNamespaceOffset));
        identity = new ProcessIdentity(pid, unchecked((ulong)start), unchecked((ulong)ns));
        token = (s & TokenBit) != 0 && field is { } f
            ? new LivenessToken(Volatile.Read(ref lease.Ref<int>(f.SetIdOffset)), Volatile.Read(ref lease.Ref<int>(f.IndexOffset)))
            : null;
        return Volatile.Read(ref lease.Ref<int>(offset + StateOffset)) == s;
    }

    /// <summary>
    /// A claimer writes magic and headerSize before it sets IdentityBit: a header that shows IdentityBit without them is
    /// garbage, not a creator at work (the checksum only comes with Ready).
    /// </summary>
    private static void CheckClaimedFields(in RegionLease lease, long offset, in ShmSite site)
    {
        CheckMagic(Volatile.Read(ref lease.Ref<uint>(offset + MagicOffset)), site, offset);
        CheckHeaderSize(Volatile.Read(ref lease.Ref<int>(offset + HeaderSizeOffset)), site, offset);
    }

    /// <summary>Blocks while the state reads <paramref name="s"/>; returns to look again; throws on timeout or cancellation.</summary>
    private static void SleepOrThrow(ref PeerWait wait, int* word, int s, LivenessWatch? watch, in ProcessIdentity creator, LivenessToken? token,
        in ShmSite site, long offset, string what, TimeSpan? timeout, string waitingFor)
    {
        if (!wait.Sleep(word, s, watch, creator, token))
        {
            throw ShmErrors.NotReady(site, offset, what, waitingFor, creator.ProcessId, timeout);
        }
    }

    private static string DescribeInitializer(int pid, LivenessState liveness, bool tokenPending) => liveness switch
    {
        LivenessState.Alive => string.Create(CultureInfo.InvariantCulture, $"process {pid} is still initializing it and is alive"),
        _ when tokenPending => string.Create(CultureInfo.InvariantCulture,
            $"process {pid} of another pid namespace is initializing it and has not recorded its liveness token yet (its death before it does cannot be seen from here)"),
        _ => string.Create(CultureInfo.InvariantCulture, $"process {pid} of another pid namespace is initializing it (its death cannot be seen from here)"),
    };
}
