using System.Globalization;

namespace ShmKit.Tests.Synchronization;

/// <summary>The server/client handshake and in-place updates under the lock, across processes.</summary>
public class SharedMemoryRendezvousTests
{
    private static readonly TimeSpan s_generous = TimeSpan.FromSeconds(5);

    [Fact]
    public void Client_Started_Before_The_Server_Finishes_Never_Sees_Partial_Data_And_Both_See_Single_Record_Updates()
    {
        const int records = 40;
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var client = ChildProcess.StartChild("rdv-client", key.ToString(), records.ToString(CultureInfo.InvariantCulture));
        client.WaitForLine("STARTED"); // the client is retrying Open: nothing exists yet

        using var server = SharedMemoryRendezvous.Create(key, (records + 1) * 8);
        Assert.True(server.IsOwner);
        Assert.False(server.IsReady);
        client.WaitForLine("OPENED");
        SemaphoreSetTests.WaitUntil(
            () => server.Semaphores.GetWaitingForIncreaseCount(SharedMemoryRendezvous.ReadyGate) == 1,
            "the client to block on the ready gate");

        // Records (long at i * 8) and the checksum after them: this server writes them before MarkReady; the client
        // reads them after WaitReady, which the gate's semop orders after these writes. Later single-record updates
        // by either side happen only inside the lock (sem 1), which orders them the same way.
        // Slow on purpose: a client that did not wait would see zeros or a wrong checksum.
        long sum = 0;
        for (int i = 0; i < records; i++)
        {
            server.Attachment.Write(i * 8L, RecordValue(i));
            sum = unchecked(sum + RecordValue(i));
            Thread.Sleep(5);
        }

        server.Attachment.Write(records * 8L, sum);
        server.MarkReady();
        Assert.True(server.IsReady);
        client.WaitForLine("VERIFIED");
        client.WaitForLine("UPDATED");

        using (server.Lock(s_generous))
        {
            for (int i = 0; i < records; i++)
            {
                Assert.Equal(i == records / 2 ? -1L : RecordValue(i), server.Attachment.Read<long>(i * 8L));
            }

            server.Attachment.Write(3 * 8L, 12345L);
        }

        client.StandardInput.WriteLine("go");
        client.StandardInput.Flush();
        long[] seen = [.. client.WaitForLine("RECORDS").Split(' ').Skip(1).Select(s => long.Parse(s, CultureInfo.InvariantCulture))];
        Assert.Equal(records, seen.Length);
        for (int i = 0; i < records; i++)
        {
            long expected = i switch
            {
                3 => 12345L,
                records / 2 => -1L,
                _ => RecordValue(i),
            };
            Assert.Equal(expected, seen[i]);
        }

        Assert.Equal(0, client.WaitForExit(s_generous));
    }

    [Fact]
    public void Server_Dispose_Removes_Both_Objects_And_Wakes_Clients()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var server = SharedMemoryRendezvous.Create(key, 64);
        using var client = SharedMemoryRendezvous.Open(key, s_generous);
        Assert.False(client.IsOwner);
        Assert.Equal(64, client.Size);
        Assert.Throws<IpcObjectExistsException>(() => SharedMemoryRendezvous.Create(key, 64));

        var waiter = Task.Run(() => client.WaitReady(TimeSpan.FromSeconds(30)));
        SemaphoreSetTests.WaitUntil(() => server.Semaphores.GetWaitingForIncreaseCount(SharedMemoryRendezvous.ReadyGate) == 1, "the client to wait");
        server.Dispose();
        Assert.True(((IAsyncResult)waiter).AsyncWaitHandle.WaitOne(s_generous));
        Assert.Throws<IpcObjectRemovedException>(() => waiter.GetAwaiter().GetResult());
        Assert.Throws<IpcObjectRemovedException>(() => client.Lock(s_generous));
        Assert.Null(SemaphoreSet.FindId(key));
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));

        // The client's mapping stays usable until it detaches.
        client.Attachment.Write(0, 7L);
        Assert.Equal(7L, client.Attachment.Read<long>(0));
        server.Dispose();
    }

    [Fact]
    public void A_Failed_Create_Removes_Its_Segment_And_Throws_The_Original_Error()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var squatter = SemaphoreSet.CreateNew(key, [0]);
        cleanup.AddId('s', squatter.Id);

        // The set's key is taken, so Create fails after it made and attached the segment: the segment goes again.
        var e = Assert.Throws<IpcObjectExistsException>(() => SharedMemoryRendezvous.Create(key, 64));
        Assert.Equal("semget", e.Operation);
        Assert.Null(e.Data[FailureCleanup.DataKey]);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
    }

    [Fact]
    public void A_Cleanup_That_Fails_Too_Is_Attached_To_The_Original_Error_Not_Thrown_Instead()
    {
        var original = new IpcObjectExistsException("semget failed");
        var later = new InvalidOperationException("the second step still ran");
        var ranAfterFailure = false;
        try
        {
            try
            {
                throw original;
            }
            catch (Exception e)
            {
                FailureCleanup.Run(
                    e,
                    () => throw new IpcObjectRemovedException("shmctl(IPC_RMID) failed"),
                    () =>
                    {
                        ranAfterFailure = true;
                        throw later;
                    });
                throw;
            }
        }
        catch (Exception thrown)
        {
            Assert.Same(original, thrown);
            var failures = Assert.IsType<AggregateException>(thrown.Data[FailureCleanup.DataKey]);
            Assert.Collection(
                failures.InnerExceptions,
                f => Assert.IsType<IpcObjectRemovedException>(f),
                f => Assert.Same(later, f));
        }

        Assert.True(ranAfterFailure);
    }

    [Fact]
    public void Timeouts_Cancellation_And_Stale_Leftovers()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var nobody = Assert.Throws<TimeoutException>(() => SharedMemoryRendezvous.Open(key, TimeSpan.FromMilliseconds(100)));
        Assert.Contains("Is the server running", nobody.Message, StringComparison.Ordinal);
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
        {
            Assert.ThrowsAny<OperationCanceledException>(() => SharedMemoryRendezvous.Open(key, TimeSpan.FromSeconds(30), cts.Token));
        }

        using (var server = SharedMemoryRendezvous.Create(key, 16))
        {
            using var client = SharedMemoryRendezvous.Open(key, s_generous);
            var notReady = Assert.Throws<TimeoutException>(() => client.WaitReady(TimeSpan.FromMilliseconds(100)));
            Assert.Contains("not marked ready", notReady.Message, StringComparison.Ordinal);
            using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
            {
                Assert.ThrowsAny<OperationCanceledException>(() => client.WaitReady(TimeSpan.FromSeconds(30), cts.Token));
            }

            using (client.Lock(s_generous))
            {
                Assert.Throws<TimeoutException>(() => server.Lock(TimeSpan.FromMilliseconds(50)));
            }

            server.MarkReady();
            server.MarkReady();
            client.WaitReady(TimeSpan.Zero);
            Assert.Equal(1, server.Semaphores.GetValue(SharedMemoryRendezvous.ReadyGate));
        }

        // A crashed server's leftovers: Remove(key) clears them so a new server can start.
        var segment = SharedMemorySegment.CreateNew(key, 16);
        var set = SemaphoreSet.CreateNew(key, [0, 1]);
        Assert.True(SharedMemoryRendezvous.Remove(key));
        Assert.False(SharedMemoryRendezvous.Remove(key));
        Assert.Throws<IpcObjectRemovedException>(() => set.Stat());
        Assert.Throws<IpcObjectRemovedException>(() => segment.Stat());
    }

    [EnvironmentFact(Needs.Gcc)]
    public void A_C_Client_Follows_The_Documented_Protocol()
    {
        const string source = """
            #include <stdio.h>
            #include <stdlib.h>
            #include <sys/sem.h>
            #include <sys/shm.h>

            int main(int argc, char **argv)
            {
                key_t key = (key_t)strtoul(argv[1], NULL, 16);
                int semid = semget(key, 2, 0);
                int shmid = shmget(key, 0, 0);
                if (semid < 0 || shmid < 0) { perror("get"); return 1; }
                long *data = shmat(shmid, NULL, 0);
                if (data == (void *)-1) { perror("shmat"); return 1; }
                printf("READY\n");
                fflush(stdout);
                struct sembuf gate[2] = { { 0, -1, 0 }, { 0, +1, 0 } };
                if (semop(semid, gate, 2) < 0) { perror("gate"); return 1; }
                struct sembuf lock = { 1, -1, SEM_UNDO }, unlock = { 1, +1, SEM_UNDO };
                if (semop(semid, &lock, 1) < 0) { perror("lock"); return 1; }
                printf("VALUE %ld\n", data[1]);
                data[2] = data[1] + 1;
                if (semop(semid, &unlock, 1) < 0) { perror("unlock"); return 1; }
                shmdt(data);
                return 0;
            }
            """;
        using var program = NativeProgram.Compile(source, "rdvclient");
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var server = SharedMemoryRendezvous.Create(key, 64);
        using var client = program.Start(key.ToString());
        client.WaitForLine("READY");
        SemaphoreSetTests.WaitUntil(
            () => server.Semaphores.GetWaitingForIncreaseCount(SharedMemoryRendezvous.ReadyGate) == 1,
            "the C client to block on the gate");

        // Offset 8: written by the server before MarkReady, read by the C client after its gate semop.
        // Offset 16: written by the C client inside the lock, read here inside the lock after it exited.
        server.Attachment.Write(8, 41L);
        server.MarkReady();
        Assert.Equal(0, client.WaitForExit(s_generous));
        Assert.Contains("VALUE 41", client.StandardOutput, StringComparison.Ordinal);
        using (server.Lock(s_generous))
        {
            Assert.Equal(42L, server.Attachment.Read<long>(16));
        }
    }

    private static long RecordValue(int index) => unchecked((index + 1) * 0x1F2E3D4C5B6A7988L);
}
