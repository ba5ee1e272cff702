using System.Globalization;
using ShmKit.Tests.Segments;

namespace ShmKit.Tests.Memory;

/// <summary>
/// The participant table's dead-peer detection with real processes: SIGKILL (seen by /proc and by the SEM_UNDO
/// token), pid reuse (a live pid with another start time), and a peer in another pid namespace (token only).
/// </summary>
public class ParticipantLivenessTests
{
    [Fact]
    public void A_Participant_Killed_With_SIGKILL_Is_Dead_By_Proc_And_By_Token_And_Its_Slot_Is_Reclaimed()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var segment = ManagedSegment.Create(key, 16 * 1024, ManagedSegmentTestSupport.Small);
        int slot;
        long generation;
        using (var child = ChildProcess.StartChild("managed-join", key.ToString()))
        {
            string[] joined = child.WaitForLine("JOINED").Split(' ');
            slot = int.Parse(joined[1], CultureInfo.InvariantCulture);
            generation = long.Parse(joined[2], CultureInfo.InvariantCulture);
            ManagedSegmentParticipant alive = segment.GetParticipants().Single(p => p.Slot == slot);
            Assert.Equal((child.Id, generation, ShmParticipantLiveness.Alive, false), (alive.ProcessId, alive.Generation, alive.Liveness, alive.IsCurrentProcess));
            Assert.Equal(1, segment.LivenessTokens.GetValue(slot));
            Assert.Equal(LivenessState.Alive, ProcessLiveness.Check(Identity(alive)));
            Assert.Equal(ShmParticipantLiveness.Alive, segment.CheckOwner(alive.OwnerId));

            child.Kill(); // SIGKILL: no managed code runs; the kernel undoes the token

            ManagedSegmentParticipant dead = segment.GetParticipants().Single(p => p.Slot == slot);
            Assert.Equal(ShmParticipantLiveness.Dead, dead.Liveness);
            Assert.Equal(0, segment.LivenessTokens.GetValue(slot));
            Assert.Equal(LivenessState.Dead, ProcessLiveness.Check(Identity(dead)));
            Assert.Equal(ShmParticipantLiveness.Dead, segment.CheckOwner(dead.OwnerId));
        }

        using var next = ChildProcess.StartChild("managed-join", key.ToString());
        string[] reclaimed = next.WaitForLine("JOINED").Split(' ');
        Assert.Equal(slot.ToString(CultureInfo.InvariantCulture), reclaimed[1]);
        Assert.Equal((generation + 1).ToString(CultureInfo.InvariantCulture), reclaimed[2]);
        var participants = segment.GetParticipants();
        Assert.Equal(2, participants.Count);
        Assert.All(participants, p => Assert.Equal(ShmParticipantLiveness.Alive, p.Liveness));

        next.StandardInput.WriteLine("EXIT");
        next.StandardInput.Flush();
        Assert.Equal(0, next.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.True(Assert.Single(segment.GetParticipants()).IsCurrentProcess);
        Assert.Equal(0, segment.LivenessTokens.GetValue(slot));
    }

    [Fact]
    public void A_Record_With_A_Live_Pid_But_Another_Start_Time_Is_Dead_And_Its_Slot_Is_Reclaimed()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var segment = ManagedSegment.Create(key, 16 * 1024, ManagedSegmentTestSupport.Small);
        ProcessIdentity self = ProcessIdentity.Current;
        using (var raw = segment.Segment.Attach())
        {
            // Slot 1: this very pid, started at another time (what a reused pid looks like). Slot 2: the real identity.
            // Both hold a token (taken here with SEM_UNDO), so only /proc's start time can tell them apart.
            ManagedSegmentTestSupport.WriteParticipant(raw, 1, self.ProcessId, (long)self.StartTime + 1, (long)self.PidNamespaceInode);
            ManagedSegmentTestSupport.WriteParticipant(raw, 2, self.ProcessId, (long)self.StartTime, (long)self.PidNamespaceInode);
        }

        segment.LivenessTokens.Release(1, 1, undo: true);
        segment.LivenessTokens.Release(2, 1, undo: true);
        try
        {
            var participants = segment.GetParticipants().ToDictionary(p => p.Slot);
            Assert.Equal(ShmParticipantLiveness.Dead, participants[1].Liveness);
            Assert.Equal(ShmParticipantLiveness.Alive, participants[2].Liveness);
            Assert.Equal(ShmParticipantLiveness.Alive, participants[0].Liveness);

            using var next = ManagedSegment.Open(key);
            Assert.Equal(new ParticipantRef(1, 2), next.Participant);
        }
        finally
        {
            segment.LivenessTokens.TryWait(1, 1, undo: true);
            segment.LivenessTokens.TryWait(2, 1, undo: true);
        }
    }

    [Fact]
    public void A_Record_Of_A_Pid_That_Does_Not_Exist_Is_Dead_Even_With_A_Token()
    {
        using var cleanup = new IpcCleanup();
        using var segment = ManagedSegment.Create(cleanup.NewKey(), 16 * 1024, ManagedSegmentTestSupport.Small);
        ProcessIdentity self = ProcessIdentity.Current;
        int missing = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), CultureInfo.InvariantCulture) + 1;
        using (var raw = segment.Segment.Attach())
        {
            ManagedSegmentTestSupport.WriteParticipant(raw, 3, missing, (long)self.StartTime, (long)self.PidNamespaceInode);
        }

        segment.LivenessTokens.Release(3, 1, undo: true);
        try
        {
            Assert.Equal(ShmParticipantLiveness.Dead, segment.GetParticipants().Single(p => p.Slot == 3).Liveness);
        }
        finally
        {
            segment.LivenessTokens.TryWait(3, 1, undo: true);
        }
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void A_Participant_In_Another_Pid_Namespace_Is_Alive_By_Its_Token_And_Dead_Once_Killed()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var segment = ManagedSegment.Create(key, 16 * 1024, ManagedSegmentTestSupport.Small);
        using var child = ChildProcess.Start("unshare", ["--pid", "--fork", "--kill-child", ChildProcess.DotnetHost, ChildProcess.TestChildDll, "managed-join", key.ToString()]);
        string[] joined = child.WaitForLine("JOINED").Split(' ');
        int slot = int.Parse(joined[1], CultureInfo.InvariantCulture);
        Assert.Equal("1", joined[3]); // pid 1 of its own namespace: meaningless here

        ManagedSegmentParticipant foreign = segment.GetParticipants().Single(p => p.Slot == slot);
        Assert.NotEqual((long)ProcessIdentity.Current.PidNamespaceInode, foreign.PidNamespaceInode);
        Assert.Equal(LivenessState.Unknown, ProcessLiveness.Check(Identity(foreign)));
        Assert.Equal(ShmParticipantLiveness.Alive, foreign.Liveness);
        Assert.Equal(1, segment.LivenessTokens.GetValue(slot));

        child.Kill(); // SIGKILL to unshare and, through the process tree and --kill-child, to the namespace's init

        // Kill waits for unshare only; the namespace's init may still be exiting. Its exit releases the token: block
        // until it does (semop wait-for-zero, no polling), then the table must call it dead.
        segment.LivenessTokens.WaitForZero(slot, TimeSpan.FromSeconds(30));
        Assert.Equal(ShmParticipantLiveness.Dead, segment.GetParticipants().Single(p => p.Slot == slot).Liveness);
        Assert.Equal(0, segment.LivenessTokens.GetValue(slot));
    }

    private static ProcessIdentity Identity(in ManagedSegmentParticipant p) => new(p.ProcessId, (ulong)p.StartTime, (ulong)p.PidNamespaceInode);
}
