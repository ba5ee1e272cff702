using System.Globalization;
using ShmKit.Interop;
using Xunit.Abstractions;
using static ShmKit.Tests.Synchronization.SyncTestSupport;

namespace ShmKit.Tests.Synchronization;

/// <summary>
/// SIGKILL of a ShmMutex holder at random moments, in a loop: every trial must end with another process holding the
/// lock and told it was abandoned, nothing may hang, and nothing may leak. Several lanes (one mutex each) run at once;
/// two long-lived waiter processes (one with sync Lock, one with LockAsync) serve every lane, so only the victims are
/// started per trial. The time from the SIGKILL to the next owner's acquisition (the waiter's own CLOCK_MONOTONIC
/// reading) is printed, never asserted. The default run has 100 trials; the stress run (environment variable
/// SHMKIT_STRESS=1; README: "Stress tests") has 1,000. SHMKIT_KILL_LANES=1 runs one lane at a time, for latency figures
/// that the other lanes' victims (starting while one is killed) do not disturb.
/// </summary>
public class ShmMutexKillTrials(ITestOutputHelper output)
{
    /// <summary>Lanes run at once (default 4: fast; SHMKIT_KILL_LANES=1 measures latencies without the other lanes' load).</summary>
    private static readonly int Lanes = int.TryParse(Environment.GetEnvironmentVariable("SHMKIT_KILL_LANES"), out int lanes) && lanes is >= 1 and <= 8 ? lanes : 4;

    private static readonly ShmWaitStrategy[] s_strategies = [ShmWaitStrategy.SpinThenBlock, ShmWaitStrategy.SpinThenBlock, ShmWaitStrategy.Block, ShmWaitStrategy.SpinThenYield];

    [Fact]
    public void A_Holder_Killed_At_Random_Moments_Is_Always_Recovered_And_Reported_100_Trials() => Run(100);

    [StressFact]
    public void A_Holder_Killed_At_Random_Moments_Is_Always_Recovered_And_Reported_1000_Trials() => Run(1000);

    private void Run(int trials)
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup, new ManagedSegmentOptions { ParticipantCapacity = 32, DirectoryCapacity = 32 });
        var mutexes = Enumerable.Range(0, Lanes).Select(l => ShmMutex.OpenOrCreate(segment, Lane(l))).ToArray();
        var waiters = new[] { "sync", "async" }
            .Select(mode => new ChildLines(ChildProcess.StartChild("mutex-trial-waiter", segment.Arg(), Lanes.ToString(CultureInfo.InvariantCulture), mode)))
            .ToArray();
        var latencies = new List<double>();
        long started = MonotonicClock.Now;
        try
        {
            foreach (ChildLines w in waiters)
            {
                w.Wait(w.Expect("READY"), "READY");
            }

            var lanes = Enumerable.Range(0, Lanes).Select(lane => Task.Factory.StartNew(
                () => RunLane(segment, waiters, lane, Enumerable.Range(0, trials).Where(t => t % Lanes == lane).ToArray()),
                TaskCreationOptions.LongRunning)).ToArray();
            Assert.True(Task.WaitAll(lanes, TimeSpan.FromSeconds(trials * 2 + 60)), "a lane hung");
            foreach (var lane in lanes)
            {
                latencies.AddRange(lane.Result);
            }

            foreach (ChildLines w in waiters)
            {
                w.Send("EXIT");
                Assert.Equal(0, w.Child.WaitForExit(Generous));
            }

            for (int lane = 0; lane < Lanes; lane++)
            {
                int laneTrials = Enumerable.Range(0, trials).Count(t => t % Lanes == lane);
                Assert.Equal(2L * laneTrials, segment.ReadLong(segment.FindBlock("count" + lane.ToString(CultureInfo.InvariantCulture))!.Value.Offset));
                ShmMutexState state = mutexes[lane].GetState();
                Assert.Equal((false, false, false, laneTrials), (state.IsHeld, state.IsAbandoned, state.IsNotRecoverable, state.AbandonedCount));
            }

            // The dead victims' registrations are reclaimed, not leaked: only this process is left.
            Assert.All(segment.GetParticipants(), p => Assert.True(p.IsCurrentProcess || p.Liveness == ShmParticipantLiveness.Dead));
        }
        finally
        {
            foreach (ChildLines w in waiters)
            {
                w.Dispose();
            }

            foreach (ShmMutex m in mutexes)
            {
                m.Dispose();
            }
        }

        latencies.Sort();
        double seconds = (MonotonicClock.Now - started) / 1e9;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; {latencies.Count} trials in {seconds:0.0} s ({Lanes} lanes): SIGKILL → next owner's acquisition median {latencies[latencies.Count / 2]:0.00} ms, p90 {latencies[latencies.Count * 9 / 10]:0.00} ms, worst {latencies[^1]:0.00} ms, best {latencies[0]:0.00} ms"));
    }

    /// <summary>One lane's trials in turn; returns the latencies in ms.</summary>
    private static List<double> RunLane(ManagedSegment segment, ChildLines[] waiters, int lane, int[] trials)
    {
        var random = new Random(lane * 7919 + trials.Length);
        var latencies = new List<double>(trials.Length);
        foreach (int trial in trials)
        {
            using var victim = ChildProcess.StartChild("mutex-hold", segment.Arg(), Lane(lane), "spin");
            string held = victim.WaitForLine("HELD", Generous);
            Assert.Equal("HELD 0", held[..6]);

            string key = string.Create(CultureInfo.InvariantCulture, $"{lane} {trial}");
            var waiting = waiters.Select(w => w.Expect("WAITING " + key)).ToArray();
            var acquired = waiters.Select(w => w.Expect("ACQ " + key)).ToArray();
            for (int i = 0; i < waiters.Length; i++)
            {
                ShmWaitStrategy strategy = s_strategies[random.Next(s_strategies.Length)];
                waiters[i].Send(string.Create(CultureInfo.InvariantCulture, $"T {lane} {trial} {strategy} {random.Next(0, 2000)}"));
            }

            for (int i = 0; i < waiters.Length; i++)
            {
                waiters[i].Wait(waiting[i], "WAITING " + key);
            }

            // A random moment: waiters may still be starting their Lock, spinning, arming their watch or asleep.
            SpinFor(random.Next(0, 3000));
            long killedAt = MonotonicClock.Now;
            Assert.Equal(0, ProcessCalls.kill(victim.Id, ProcessCalls.SIGKILL));

            var lines = acquired.Select((a, i) => waiters[i].Wait(a, "ACQ " + key).Split(' ')).ToArray();
            var abandoned = lines.Where(p => p[3] == "1").ToArray();
            Assert.True(abandoned.Length == 1, $"trial {trial}: exactly one waiter must be told of the abandonment: {string.Join(" | ", lines.Select(l => string.Join(' ', l)))}");
            long firstAcquired = lines.Min(p => long.Parse(p[4], CultureInfo.InvariantCulture));
            Assert.Equal(firstAcquired, long.Parse(abandoned[0][4], CultureInfo.InvariantCulture)); // the first owner after the death was told
            latencies.Add((firstAcquired - killedAt) / 1e6);
            victim.WaitForExit(Generous);
        }

        return latencies;
    }

    private static string Lane(int lane) => "lane" + lane.ToString(CultureInfo.InvariantCulture);

    private static void SpinFor(int microseconds)
    {
        long end = MonotonicClock.Now + (microseconds * 1000L);
        while (MonotonicClock.Now < end)
        {
            Thread.SpinWait(20);
        }
    }
}

/// <summary>A [Fact] that runs only in the stress run (environment variable SHMKIT_STRESS=1), and is skipped with that reason otherwise.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class StressFactAttribute : FactAttribute
{
    internal const string Variable = "SHMKIT_STRESS";

    public StressFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
        {
            Skip = $"a stress test: runs with {Variable}=1 (see README, \"Stress tests\")";
        }
    }
}
