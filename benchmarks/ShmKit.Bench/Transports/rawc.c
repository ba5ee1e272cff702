/* raw-c: the hardware limit of shared-memory IPC on this machine, for benchmarks/ShmKit.Bench.
 * Two processes (this one and a fork()ed child) share one SysV segment that is IPC_RMIDed right after shmat, so
 * nothing is left even after a crash. The child dies with the parent (PR_SET_PDEATHSIG) and both have an alarm().
 *   rawc rtt  COUNT WARMUP CPU_PARENT CPU_CHILD OUTFILE   -> parent pings, child pongs; per-round-trip ns to OUTFILE
 *   rawc tput SIZE COUNT WARMUP CPU_PARENT CPU_CHILD      -> child produces, parent consumes and verifies
 *   rawc lock COUNT WARMUP CPU_PARENT CPU_CHILD           -> both increment one counter under a robust mutex
 * Prints "ok <elapsed_ns> <pinned 0|1>" (lock: "ok <elapsed_ns> <pinned 0|1> <parent's increments>") or
 * "fail <reason>". CPU -1 = do not pin.
 * The C# twin is RawCsTransport.cs: same layout, same message format, same verification; for lock, LockWorkload.cs. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIX 0x9E3779B97F4A7C15ull
/* Segment layout: each shared field in its own 128-byte block (adjacent-line prefetch pairs 64-byte lines).
 * Who writes / who reads / ordering (LOAD = acquire, STORE = release; aligned 8-byte accesses never tear):
 *   PING  words 0..6 plain, word 7 = sequence STOREd last; written by the parent (pinger), LOADed by the child, which
 *         ignores the payload until word 7 matches (a half-written ping has the old word 7).
 *   PONG  the same, child -> parent.
 *   HEAD  messages published; STOREd by the producer (child) after the slot's bytes, LOADed by the consumer (parent).
 *   TAIL  messages consumed; STOREd by the consumer after copying the slot out, LOADed by the producer.
 *   START the producer's timestamp, STOREd before its first timed message; the parent LOADs it after the last message.
 *   READY child -> parent: pinned (1) or not (2); GO parent -> child: warm-up drained, start timing.
 * lock (the lock-2p workload):
 *   MUTEX   a process-shared robust pthread_mutex_t (40 bytes on x86-64 glibc, 48 on aarch64), initialized by the
 *           parent before fork(); only pthread calls touch it.
 *   COUNTER word 0 = the counter, word 1 = the time of its last increment, word 2 = 1 once a lock was taken with
 *           EOWNERDEAD; all three read and written only while holding MUTEX (its lock/unlock order them).
 *   CHILD_OPS the child's timed increments: STOREd before it exits, LOADed by the parent after waitpid().
 *   READY2 child -> parent: warm-up done; GO2 parent -> child: start the timed part (the parent's clock started). */
#define PING 0
#define PONG 128
#define HEAD 256
#define TAIL 384
#define START 512
#define READY 640
#define GO 768
#define MUTEX 1024
#define COUNTER 1152
#define CHILD_OPS 1280
#define READY2 1408
#define GO2 1536
#define DATA 4096
#define SMALL_RING (256 * 1024)
#define LARGE_RING (4 * 1024 * 1024)

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static pid_t g_child; /* the parent checks now and then that the child still lives, so it never spins forever */

static void check_child(void)
{
    int status;
    if (g_child > 0 && waitpid(g_child, &status, WNOHANG) != 0) { printf("fail the child process died (status %d)\n", status); fflush(stdout); _exit(1); }
}

#define SPIN_UNTIL(cond) do { unsigned spins_ = 0; while (!(cond)) { relax(); if (++spins_ == (1u << 22)) { spins_ = 0; check_child(); } } } while (0)

_Static_assert(sizeof(pthread_mutex_t) <= 128, "the mutex fits its 128-byte block");

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

static int pin(int cpu)
{
    if (cpu < 0) return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
}

static uint64_t prepare(uint64_t *w, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 2; i < n - 1; i++) { w[i] = (uint64_t)i * 0x0123456789ABCDEFull + 0x5555ull; x ^= w[i]; }
    return x;
}

static inline void stamp(uint64_t *w, size_t n, uint64_t seq, uint64_t mid)
{
    uint64_t t = seq * MIX;
    w[0] = seq; w[n - 1] = t; w[1] = seq ^ t ^ mid;
}

/* XOR of all words with two 32-byte vector accumulators, as MessageCodec.XorAll in C# does (written out with GCC vector
 * extensions: left to the auto-vectorizer, the loop stayed scalar once inlined into consume(), 8 bytes per cycle). */
typedef uint64_t v4u64 __attribute__((vector_size(32)));

static inline int verify(const uint64_t *w, size_t n, uint64_t seq)
{
    if (w[0] != seq || w[n - 1] != seq * MIX) return 0;
    v4u64 a = {0, 0, 0, 0}, b = {0, 0, 0, 0}, va, vb;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __builtin_memcpy(&va, w + i, 32);
        __builtin_memcpy(&vb, w + i + 4, 32);
        a ^= va;
        b ^= vb;
    }
    a ^= b;
    uint64_t x = a[0] ^ a[1] ^ a[2] ^ a[3];
    for (; i < n; i++) x ^= w[i];
    return x == 0;
}

/* The message copy, the same strategy as the C# side (MessageCodec.Copy, which follows .NET's own Buffer.Memmove):
 * up to 2 KiB inline 64-byte blocks (gcc emits vector moves; no call), above that glibc's memcpy (which uses
 * `rep movsb` on this CPU). Measured here, interleaved, one placement: 64 B messages 17 M/s with blocks vs 12 M/s with
 * memcpy; 4 KiB messages 11 GB/s with memcpy vs 6 GB/s with blocks; 1 MiB equal. */
static inline void copy_msg(void *restrict dst, const void *restrict src, size_t size)
{
    if (size > 2048) { memcpy(dst, src, size); return; }
    char *d = dst;
    const char *s = src;
    for (size_t i = 0; i < size; i += 64) __builtin_memcpy(d + i, s + i, 64);
}

static void ping_rounds(uint64_t *ping, uint64_t *pong, uint64_t first, uint64_t count, uint32_t *d)
{
    uint64_t prev = now_ns();
    for (uint64_t i = 0; i < count; i++) {
        uint64_t seq = first + i;
        for (int w = 0; w < 7; w++) ping[w] = seq + (uint64_t)w;
        STORE(&ping[7], seq);
        SPIN_UNTIL(LOAD(&pong[7]) == seq);
        if (pong[0] != seq) { printf("fail answer %llu carries another sequence\n", (unsigned long long)seq); exit(1); }
        if (d) { uint64_t t = now_ns(); d[i] = (uint32_t)(t - prev); prev = t; }
    }
}

static void pong_rounds(uint64_t *ping, uint64_t *pong, uint64_t first, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        uint64_t seq = first + i;
        while (LOAD(&ping[7]) != seq) relax();
        for (int w = 0; w < 7; w++) pong[w] = ping[w];
        STORE(&pong[7], seq);
    }
}

static void produce(char *b, size_t size, uint64_t slots, uint64_t first, uint64_t count, uint64_t *msg, uint64_t mid)
{
    uint64_t *head = (uint64_t *)(b + HEAD), *tail = (uint64_t *)(b + TAIL);
    uint64_t h = LOAD(head), ct = LOAD(tail);
    size_t n = size / 8;
    for (uint64_t i = 0; i < count; i++) {
        stamp(msg, n, first + i, mid);
        if (h - ct == slots) while (h - (ct = LOAD(tail)) == slots) relax();
        copy_msg(b + DATA + (h & (slots - 1)) * size, msg, size);
        STORE(head, ++h);
    }
}

static int consume(char *b, size_t size, uint64_t slots, uint64_t first, uint64_t count, uint64_t *buf)
{
    uint64_t *head = (uint64_t *)(b + HEAD), *tail = (uint64_t *)(b + TAIL);
    uint64_t t = LOAD(tail), ch = LOAD(head);
    size_t n = size / 8;
    for (uint64_t i = 0; i < count; i++) {
        if (t == ch) SPIN_UNTIL((ch = LOAD(head)) != t);
        copy_msg(buf, b + DATA + (t & (slots - 1)) * size, size);
        STORE(tail, ++t);
        if (!verify(buf, n, first + i)) { printf("fail message %llu failed verification\n", (unsigned long long)(first + i)); return 0; }
    }
    return 1;
}

/* lock-2p: takes the robust mutex. EOWNERDEAD (the other process died holding it) makes the state consistent again,
 * as a robust user must, and marks the round failed: the counter may have lost the dead holder's increment. */
static void take(pthread_mutex_t *m, uint64_t *c)
{
    int r = pthread_mutex_lock(m);
    if (r == EOWNERDEAD) {
        pthread_mutex_consistent(m);
        c[2] = 1;
    } else if (r != 0) {
        printf("fail pthread_mutex_lock: %s\n", strerror(r));
        fflush(stdout);
        _exit(1);
    }
}

/* Lock, increment the counter unless it reached limit, unlock; until it reached limit. Whoever makes the last
 * increment stores the time with it. Returns this process's increments. The plain accesses to c[] are ordered by
 * the lock and unlock calls (the compiler cannot move memory accesses across an external call). */
static uint64_t hammer(pthread_mutex_t *m, uint64_t *c, uint64_t limit)
{
    uint64_t mine = 0;
    for (;;) {
        take(m, c);
        uint64_t v = c[0];
        if (v >= limit) { pthread_mutex_unlock(m); return mine; }
        c[0] = v + 1;
        if (v + 1 == limit) c[1] = now_ns();
        pthread_mutex_unlock(m);
        mine++;
    }
}

static int init_mutex(pthread_mutex_t *m)
{
    pthread_mutexattr_t attr;
    if (pthread_mutexattr_init(&attr) != 0) return 0;
    int ok = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) == 0
        && pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) == 0
        && pthread_mutex_init(m, &attr) == 0;
    pthread_mutexattr_destroy(&attr);
    return ok;
}

int main(int argc, char **argv)
{
    alarm(120);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* die with the benchmark */
    int rtt = argc == 7 && strcmp(argv[1], "rtt") == 0;
    int tput = argc == 7 && strcmp(argv[1], "tput") == 0;
    int lock = argc == 6 && strcmp(argv[1], "lock") == 0;
    if (!rtt && !tput && !lock) { printf("fail usage\n"); return 2; }
    size_t size = tput ? strtoull(argv[2], 0, 10) : 64;
    int a = tput ? 3 : 2;
    uint64_t count = strtoull(argv[a], 0, 10), warm = strtoull(argv[a + 1], 0, 10);
    int cpu_parent = atoi(argv[a + 2]), cpu_child = atoi(argv[a + 3]);
    uint64_t ring = size >= (1u << 20) ? LARGE_RING : SMALL_RING, slots = ring / size;

    int id = shmget(IPC_PRIVATE, DATA + LARGE_RING, IPC_CREAT | 0600);
    if (id < 0) { printf("fail shmget\n"); return 1; }
    char *b = shmat(id, 0, 0);
    shmctl(id, IPC_RMID, 0);
    if (b == (char *)-1) { printf("fail shmat\n"); return 1; }
    uint64_t *msg = aligned_alloc(64, size < 64 ? 64 : size);
    memset(msg, 0, size);
    uint64_t mid = prepare(msg, size / 8);
    pthread_mutex_t *mutex = (pthread_mutex_t *)(b + MUTEX);
    uint64_t *counter = (uint64_t *)(b + COUNTER);
    if (lock && !init_mutex(mutex)) { printf("fail pthread_mutex_init (process-shared, robust)\n"); return 1; }
    fflush(stdout);

    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) { printf("fail fork\n"); return 1; }
    g_child = child;
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        int ok = pin(cpu_child) || cpu_child < 0;
        STORE((uint64_t *)(b + READY), ok ? 1ull : 2ull);
        if (rtt) {
            pong_rounds((uint64_t *)(b + PING), (uint64_t *)(b + PONG), 1, warm + count);
        } else if (lock) {
            hammer(mutex, counter, warm);
            STORE((uint64_t *)(b + READY2), 1ull);
            while (LOAD((uint64_t *)(b + GO2)) == 0) relax();   /* the parent's clock started */
            STORE((uint64_t *)(b + CHILD_OPS), hammer(mutex, counter, warm + count));
        } else {
            produce(b, size, slots, 1, warm, msg, mid);
            while (LOAD((uint64_t *)(b + GO)) == 0) relax();   /* the parent drained the warm-up */
            STORE((uint64_t *)(b + START), now_ns());
            produce(b, size, slots, 1 + warm, count, msg, mid);
        }
        _exit(0);
    }

    int pinned = pin(cpu_parent);
    uint64_t r;
    SPIN_UNTIL((r = LOAD((uint64_t *)(b + READY))) != 0);
    pinned = pinned && r == 1;
    uint64_t elapsed = 0, parent_ops = 0;
    if (lock) {
        hammer(mutex, counter, warm);
        SPIN_UNTIL(LOAD((uint64_t *)(b + READY2)) != 0);      /* both done with the warm-up: the counter is at warm */
        uint64_t t0 = now_ns();
        STORE((uint64_t *)(b + GO2), 1ull);
        parent_ops = hammer(mutex, counter, warm + count);
        take(mutex, counter);                                  /* the last increment and its time, under the lock */
        uint64_t total = counter[0], end = counter[1], abandoned = counter[2];
        pthread_mutex_unlock(mutex);
        elapsed = end - t0;
        int status = 0;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { printf("fail child status %d\n", status); return 1; }
        uint64_t child_ops = LOAD((uint64_t *)(b + CHILD_OPS));
        if (abandoned) { printf("fail the lock was abandoned by a dead process (EOWNERDEAD)\n"); return 1; }
        if (total != warm + count || parent_ops + child_ops != count) {
            printf("fail counter %llu after %llu + %llu increments, expected %llu\n", (unsigned long long)(total - warm),
                (unsigned long long)parent_ops, (unsigned long long)child_ops, (unsigned long long)count);
            return 1;
        }
        printf("ok %llu %d %llu\n", (unsigned long long)elapsed, pinned, (unsigned long long)parent_ops);
        return 0;
    }
    if (rtt) {
        uint32_t *d = malloc(count * sizeof *d);
        if (!d) { printf("fail malloc\n"); return 1; }
        memset(d, 0xff, count * sizeof *d); /* fault the pages in before the timed loop (0xff: gcc turns malloc+memset 0 into calloc, which touches nothing) */
        ping_rounds((uint64_t *)(b + PING), (uint64_t *)(b + PONG), 1, warm, 0);
        uint64_t t0 = now_ns();
        ping_rounds((uint64_t *)(b + PING), (uint64_t *)(b + PONG), 1 + warm, count, d);
        elapsed = 0;
        for (uint64_t i = 0; i < count; i++) elapsed += d[i];
        (void)t0;
        FILE *f = fopen(argv[6], "wb");
        if (!f || fwrite(d, sizeof *d, count, f) != count) { printf("fail write %s\n", argv[6]); return 1; }
        fclose(f);
    } else {
        if (!consume(b, size, slots, 1, warm, msg)) { kill(child, SIGKILL); return 1; }
        STORE((uint64_t *)(b + GO), 1ull);
        if (!consume(b, size, slots, 1 + warm, count, msg)) { kill(child, SIGKILL); return 1; }
        uint64_t end = now_ns();
        elapsed = end - LOAD((uint64_t *)(b + START));
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { printf("fail child status %d\n", status); return 1; }
    printf("ok %llu %d\n", (unsigned long long)elapsed, pinned);
    return 0;
}
