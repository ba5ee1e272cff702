using System.Globalization;

namespace ShmKit.Tests.Synchronization;

/// <summary>SemaphoreSet across real processes: contention, SEM_UNDO after SIGKILL, the creation race, permissions, C interop.</summary>
public class SemaphoreProcessTests
{
    private static readonly TimeSpan s_generous = TimeSpan.FromSeconds(5);

    [Fact]
    public void Four_Processes_Increment_A_Shared_Counter_Under_The_Lock_Exactly()
    {
        const int processes = 4;
        const int iterations = 2000;
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        var set = SemaphoreSet.CreateNew(key, [1, 1]); // sem 0: lock; sem 1: start barrier
        cleanup.AddId('s', set.Id);

        var children = new List<ChildProcess>();
        try
        {
            for (int i = 0; i < processes; i++)
            {
                children.Add(ChildProcess.StartChild("sem-counter", key.ToString(), iterations.ToString(CultureInfo.InvariantCulture)));
            }

            foreach (var child in children)
            {
                child.WaitForLine("READY");
            }

            set.SetValue(1, 0); // everyone starts at once
            foreach (var child in children)
            {
                Assert.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(60)));
            }

            // Offset 0: incremented by the children inside the lock only; read here after all of them exited.
            using var attachment = segment.Attach();
            Assert.Equal((long)processes * iterations, attachment.Read<long>(0));
            Assert.Equal(1, set.GetValue(0));
        }
        finally
        {
            children.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void Lock_Held_By_A_Process_Killed_With_SIGKILL_Is_Given_Back_By_SEM_UNDO()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var set = SemaphoreSet.CreateNew(key, [1]);
        cleanup.AddId('s', set.Id);

        using var holder = ChildProcess.StartChild("sem-hold", key.ToString());
        holder.WaitForLine("LOCKED");
        Assert.Equal(0, set.GetValue(0));
        Assert.False(set.TryWait(0));

        holder.Kill(); // SIGKILL: no managed code runs, only the kernel's undo.
        set.Wait(0, 1, s_generous);
        Assert.Equal(0, set.GetValue(0));
        set.Release(0);
    }

    [Fact]
    public void Six_Processes_Racing_OpenOrCreate_Exactly_One_Creates_And_All_See_The_Initial_Values()
    {
        const int processes = 6;
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var barrier = SemaphoreSet.CreatePrivate([1]);
        cleanup.AddId('s', barrier.Id);

        var children = new List<ChildProcess>();
        try
        {
            for (int i = 0; i < processes; i++)
            {
                children.Add(ChildProcess.StartChild("sem-race", key.ToString(), barrier.Id.ToString(CultureInfo.InvariantCulture)));
            }

            foreach (var child in children)
            {
                child.WaitForLine("READY");
            }

            barrier.SetValue(0, 0);
            foreach (var child in children)
            {
                Assert.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(60)));
            }

            string[] outputs = [.. children.Select(c => c.StandardOutput)];
            Assert.Equal(1, outputs.Count(o => o.Contains("CREATED", StringComparison.Ordinal)));
            Assert.Equal(processes - 1, outputs.Count(o => o.Contains("OPENED", StringComparison.Ordinal)));
            Assert.All(outputs, o => Assert.Contains("SAW 3,7", o, StringComparison.Ordinal));

            // Nobody re-initialized the set after another had used it: all six increments are there.
            var set = SemaphoreSet.Open(key);
            cleanup.AddId('s', set.Id);
            Assert.Equal([3, processes, 7], set.GetValues());
        }
        finally
        {
            children.ForEach(c => c.Dispose());
        }
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Another_User_Is_Denied_The_Operations_Of_A_0600_Set()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var set = SemaphoreSet.CreateNew(key, [0]);
        cleanup.AddId('s', set.Id);

        // uid 65534 must be able to read the child program: copy it to a fresh 0755 directory.
        string dir = Directory.CreateTempSubdirectory("shmkit-nobody-").FullName;
        try
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1ED); // 0755
            foreach (string file in Directory.GetFiles(AppContext.BaseDirectory, "ShmKit*"))
            {
                string target = Path.Combine(dir, Path.GetFileName(file));
                File.Copy(file, target);
                File.SetUnixFileMode(target, (UnixFileMode)0x1A4); // 0644
            }

            var environment = new Dictionary<string, string> { ["HOME"] = dir, ["DOTNET_CLI_HOME"] = dir };
            string[] setpriv = ["--reuid=65534", "--regid=65534", "--clear-groups", ChildProcess.DotnetHost, Path.Combine(dir, "ShmKit.TestChild.dll"), "sem-foreign"];
            using (var child = ChildProcess.Start("setpriv", [.. setpriv, key.ToString(), set.Id.ToString(CultureInfo.InvariantCulture)], environment))
            {
                Assert.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(30)));
                // Opening asks for no permission (semget without mode bits, as C programs do); every operation does.
                Assert.Contains("OPEN OK", child.StandardOutput, StringComparison.Ordinal);
                Assert.Contains("RELEASE IpcAccessDeniedException", child.StandardOutput, StringComparison.Ordinal);
                Assert.Contains("REMOVE IpcAccessDeniedException", child.StandardOutput, StringComparison.Ordinal);
            }

            // Read for others (0604): it may open and look, but not change a value (semop needs write permission).
            set.SetMode((UnixFileMode)0x184);
            using (var child = ChildProcess.Start("setpriv", [.. setpriv, key.ToString(), set.Id.ToString(CultureInfo.InvariantCulture)], environment))
            {
                Assert.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(30)));
                Assert.Contains("OPEN OK", child.StandardOutput, StringComparison.Ordinal);
                Assert.Contains("RELEASE IpcAccessDeniedException", child.StandardOutput, StringComparison.Ordinal);
            }

            Assert.Equal(0, set.GetValue(0));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [EnvironmentFact(Needs.Gcc)]
    public void A_C_Program_And_ShmKit_Share_A_Set_In_Both_Directions()
    {
        const string source = """
            #include <stdio.h>
            #include <stdlib.h>
            #include <sys/sem.h>

            int main(int argc, char **argv)
            {
                int id = atoi(argv[1]);
                struct semid_ds ds;
                if (semctl(id, 0, IPC_STAT, &ds) < 0) { perror("IPC_STAT"); return 1; }
                printf("NSEMS %lu OTIME %ld\n", (unsigned long)ds.sem_nsems, (long)ds.sem_otime);
                printf("READY\n");
                fflush(stdout);
                struct sembuf take = { 0, -1, 0 };
                if (semop(id, &take, 1) < 0) { perror("semop take"); return 1; }
                printf("C-ACQUIRED\n");
                fflush(stdout);
                struct sembuf give = { 1, +1, 0 };
                if (semop(id, &give, 1) < 0) { perror("semop give"); return 1; }
                printf("C-RELEASED\n");
                fflush(stdout);
                return 0;
            }
            """;
        using var program = NativeProgram.Compile(source, "semwait");
        var set = SemaphoreSet.CreatePrivate([0, 0]);
        try
        {
            using var child = program.Start(set.Id.ToString(CultureInfo.InvariantCulture));
            string header = child.WaitForLine("NSEMS");
            var info = set.Stat();
            Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"NSEMS 2 OTIME {info.LastOperationTime!.Value.ToUnixTimeSeconds()}"), header);
            child.WaitForLine("READY");

            // C waits, ShmKit releases.
            SemaphoreSetTests.WaitUntil(() => set.GetWaitingForIncreaseCount(0) == 1, "the C program to block in semop");
            set.Release(0, 1, undo: false);
            child.WaitForLine("C-ACQUIRED");

            // ShmKit waits, C releases.
            set.Wait(1, 1, s_generous, undo: false);
            Assert.Equal(0, child.WaitForExit(s_generous));
            Assert.Equal([0, 0], set.GetValues());
            Assert.Equal(child.Id, set.GetLastProcessId(0)); // the C program took it last
            Assert.Equal(Environment.ProcessId, set.GetLastProcessId(1));
        }
        finally
        {
            set.Remove();
        }
    }
}
