using System.Diagnostics;
using System.Globalization;

namespace ShmKit.Tests.Channels;

/// <summary>
/// C peers built against include/shmkit/shmkit_queue.h alone exchange messages with C# through ShmQueues in both
/// directions, and the header's offsets are the library's.
/// </summary>
public sealed class ShmQueueInteropTests
{
    private const string Peer = """
        #include <shmkit/shmkit_queue.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/ipc.h>
        #include <sys/shm.h>

        static uint32_t length_of(uint64_t seq) { return 8 + (uint32_t)((seq * 37) % 500); }

        static void fill(uint8_t *m, uint32_t len, uint64_t seq)
        {
            memcpy(m, &seq, 8);
            for (uint32_t i = 8; i < len; i++)
                m[i] = (uint8_t)(seq * 7 + i);
        }

        int main(int argc, char **argv)
        {
            if (argc != 5)
                return 2;
            int produce = strcmp(argv[1], "produce") == 0;
            int shmid = atoi(argv[2]);
            uint64_t count = strtoull(argv[4], NULL, 10);
            struct shmid_ds ds;
            void *base = shmat(shmid, NULL, 0);
            if (base == (void *)-1 || shmctl(shmid, IPC_STAT, &ds) != 0) {
                perror("shmat");
                return 2;
            }
            uint64_t offset;
            struct shmkit_spsc s;
            if (shmkit_find_queue(base, ds.shm_segsz, argv[3], &offset) != 0 || shmkit_spsc_open(base, ds.shm_segsz, offset, &s) != 0) {
                fprintf(stderr, "queue %s not found or not a valid SPSC queue\n", argv[3]);
                return 2;
            }
            if (shmkit_spsc_claim(&s, produce) != 0) {
                fprintf(stderr, "the %s role is held\n", produce ? "producer" : "consumer");
                return 2;
            }
            printf("READY %llu\n", (unsigned long long)offset);
            fflush(stdout);
            struct timespec slice = { 0, 100 * 1000 * 1000 };
            uint8_t message[600];
            int idle = 0;
            for (uint64_t seq = 0; seq < count;) {
                int r;
                uint32_t len = length_of(seq);
                if (produce) {
                    fill(message, len, seq);
                    r = shmkit_spsc_try_send(&s, message, len);
                } else {
                    uint32_t got = 0;
                    r = shmkit_spsc_try_receive(&s, message, sizeof message, &got);
                    if (r == 1) {
                        uint8_t expected[600];
                        fill(expected, len, seq);
                        if (got != len || memcmp(message, expected, len) != 0) {
                            fprintf(stderr, "message %llu: %u bytes, wrong contents\n", (unsigned long long)seq, got);
                            return 4;
                        }
                    }
                }
                if (r < 0) {
                    fprintf(stderr, "queue error at message %llu\n", (unsigned long long)seq);
                    return 3;
                }
                if (r == 0) {
                    if (shmkit_spsc_wait(&s, produce, &slice) == ETIMEDOUT && ++idle > 300) {
                        fprintf(stderr, "no progress for 30 s at message %llu\n", (unsigned long long)seq);
                        return 5;
                    }
                    continue;
                }
                idle = 0;
                seq++;
            }
            shmkit_spsc_release(&s, produce);
            printf("DONE %llu\n", (unsigned long long)count);
            return 0;
        }
        """;

    [EnvironmentFact(Needs.Gcc)]
    public void A_C_Producer_And_A_C_Consumer_Built_On_The_Header_Alone_Exchange_Messages_With_CSharp()
    {
        const int count = 20_000;
        using var program = NativeProgram.Compile(Peer, "queue_peer", "-std=gnu11", "-Wextra", "-Werror", "-I", IncludeDirectory());
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup, 4096, queues: 2);
        using var toC = ShmQueue.Create(segment, "cs2c", new ShmQueueOptions { Capacity = 4096 });
        using var fromC = ShmQueue.Create(segment, "c2cs", new ShmQueueOptions { Capacity = 4096 });
        string id = segment.Id.ToString(CultureInfo.InvariantCulture);
        string n = count.ToString(CultureInfo.InvariantCulture);
        using var consumerC = program.Start("consume", id, "cs2c", n);
        using var producerC = program.Start("produce", id, "c2cs", n);
        Assert.Equal($"READY {toC.Offset}", consumerC.WaitForLine("READY"));
        Assert.Equal($"READY {fromC.Offset}", producerC.WaitForLine("READY"));
        Assert.NotEqual(0, toC.GetStatistics().ConsumerProcessId); // the C peer holds the role by its pid
        Assert.Throws<ShmQueueRoleInUseException>(() => toC.CreateConsumer());

        var sender = Task.Run(() =>
        {
            using var producer = toC.CreateProducer();
            byte[] message = new byte[600];
            for (long seq = 0; seq < count; seq++)
            {
                int length = LengthOf(seq);
                Fill(message.AsSpan(0, length), seq);
                producer.Enqueue(message.AsSpan(0, length), TimeSpan.FromSeconds(30));
            }
        });

        using (var consumer = fromC.CreateConsumer())
        {
            byte[] expected = new byte[600];
            for (long seq = 0; seq < count; seq++)
            {
                using ShmQueueReadLease lease = consumer.Receive(TimeSpan.FromSeconds(30));
                int length = LengthOf(seq);
                Fill(expected.AsSpan(0, length), seq);
                Assert.True(lease.Span.SequenceEqual(expected.AsSpan(0, length)), $"message {seq} from C differs");
            }
        }

        Assert.True(sender.Wait(TimeSpan.FromSeconds(60)));
        sender.GetAwaiter().GetResult();
        foreach (ChildProcess peer in new[] { consumerC, producerC })
        {
            Assert.True(peer.WaitForExit(TimeSpan.FromSeconds(30)) == 0, peer.StandardError);
        }

        Assert.Equal(0, toC.GetStatistics().ConsumerProcessId); // given back
        Assert.Equal(count, toC.GetStatistics().MessagesOut);
        Assert.Equal(count, fromC.GetStatistics().MessagesIn);
    }

    [EnvironmentFact(Needs.Gcc)]
    public void The_Header_Offsets_Are_The_Library_Layout()
    {
        const string source = """
            #include <shmkit/shmkit_queue.h>
            #include <stdio.h>
            #define P(f) printf(#f " %zu\n", offsetof(struct shmkit_queue, f))
            int main(void)
            {
                P(capacity); P(max_message_length); P(record_header_size); P(record_alignment); P(body_version);
                P(producer_role); P(consumer_role); P(tail); P(messages_in); P(bytes_in); P(full_waits); P(head);
                P(messages_out); P(bytes_out); P(empty_waits); P(redeliveries); P(leased_until); P(abandoned_records);
                P(not_empty); P(not_full); P(producer_latch); P(consumer_latch); P(read_cursor); P(redelivery_hint);
                printf("data %zu\n", sizeof(struct shmkit_queue));
                printf("kind %d\n", SHMKIT_KIND_QUEUE);
                return 0;
            }
            """;
        using var program = NativeProgram.Compile(source, "queue_layout", "-std=gnu11", "-Wextra", "-Werror", "-I", IncludeDirectory());
        var (code, stdout, stderr) = program.Run();
        Assert.True(code == 0, stderr);
        Dictionary<string, long> c = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));
        var expected = new Dictionary<string, long>
        {
            ["capacity"] = QueueLayout.CapacityOffset,
            ["max_message_length"] = QueueLayout.MaxMessageLengthOffset,
            ["record_header_size"] = QueueLayout.RecordHeaderSizeOffset,
            ["record_alignment"] = QueueLayout.RecordAlignmentOffset,
            ["body_version"] = QueueLayout.BodyVersionOffset,
            ["producer_role"] = QueueLayout.ProducerRoleOffset,
            ["consumer_role"] = QueueLayout.ConsumerRoleOffset,
            ["tail"] = QueueLayout.TailOffset,
            ["messages_in"] = QueueLayout.MessagesInOffset,
            ["bytes_in"] = QueueLayout.BytesInOffset,
            ["full_waits"] = QueueLayout.FullWaitsOffset,
            ["head"] = QueueLayout.HeadOffset,
            ["messages_out"] = QueueLayout.MessagesOutOffset,
            ["bytes_out"] = QueueLayout.BytesOutOffset,
            ["empty_waits"] = QueueLayout.EmptyWaitsOffset,
            ["redeliveries"] = QueueLayout.RedeliveriesOffset,
            ["leased_until"] = QueueLayout.LeasedUntilOffset,
            ["abandoned_records"] = QueueLayout.AbandonedRecordsOffset,
            ["not_empty"] = QueueLayout.NotEmptyOffset,
            ["not_full"] = QueueLayout.NotFullOffset,
            ["producer_latch"] = QueueLayout.ProducerLatchOffset,
            ["consumer_latch"] = QueueLayout.ConsumerLatchOffset,
            ["read_cursor"] = QueueLayout.ReadCursorOffset,
            ["redelivery_hint"] = QueueLayout.RedeliveryHintOffset,
            ["data"] = QueueLayout.DataOffset,
            ["kind"] = (long)ShmStructureKind.Queue,
        };
        Assert.Equal(expected.OrderBy(e => e.Key), c.OrderBy(e => e.Key));
    }

    [EnvironmentFact(Needs.Aarch64Gcc)]
    public void The_Header_Compiles_With_Its_Static_Asserts_For_Arm64()
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory("shmkit-h-").FullName, "check.c");
        File.WriteAllText(file, "#include <shmkit/shmkit_queue.h>\nint main(void) { return 0; }\n");
        using var gcc = Process.Start(new ProcessStartInfo("aarch64-linux-gnu-gcc", ["-fsyntax-only", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I", IncludeDirectory(), file])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        string errors = gcc.StandardError.ReadToEnd();
        Assert.True(gcc.WaitForExit(60_000));
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        Assert.True(gcc.ExitCode == 0, errors);
    }

    private static int LengthOf(long seq) => 8 + (int)((seq * 37) % 500);

    private static void Fill(Span<byte> message, long seq)
    {
        BitConverter.TryWriteBytes(message, (ulong)seq);
        for (int i = 8; i < message.Length; i++)
        {
            message[i] = (byte)((seq * 7) + i);
        }
    }

    /// <summary>include/ at the root of the repository (found upwards from the test assembly).</summary>
    private static string IncludeDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "include");
            if (File.Exists(Path.Combine(candidate, "shmkit", "shmkit_queue.h")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("include/shmkit/shmkit_queue.h not found above " + AppContext.BaseDirectory);
    }
}
