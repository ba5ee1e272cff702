/*
 * shmkit_queue.h - the byte layout of a ShmKit queue (ShmKit.ShmQueue) in a System V segment, for C peers.
 *
 * Header only, C11 + GCC/Clang atomics, Linux (futex). docs/CHANNELS.md describes the same layout in prose; the
 * tests compile a C producer and a C consumer against this file alone and exchange messages with C#.
 *
 * Everything is little-endian. A queue lives in a ShmKit managed segment (ShmKit.ManagedSegment): the segment starts
 * with a 64-byte structure header (kind 1), a control block, the participant table, the directory and the heap; the
 * queue is a directory entry whose offset points at the queue structure (128-byte aligned). shmkit_find_queue()
 * looks a queue up by name; ShmQueue.Offset gives the same offset to pass on a command line.
 *
 * What this header implements: the single-producer/single-consumer (SPSC) record protocol in both roles, with the
 * same validation the C# side does (every index and header read from shared memory is checked before use), the SPSC
 * role words, and the eventcounts for blocking waits. A C peer is not a participant of the managed segment (it holds
 * no SEM_UNDO liveness token): it claims a role with its pid in the role word, and ShmKit judges it dead when /proc
 * says so (pid reuse is then possible; keep C peers short-lived or supervised). The MPMC mode's record layout is
 * described below, but its claim protocol (robust latches keyed by participant owner ids) is not implemented here.
 *
 * Ordering (each pair with the C# side): the producer publishes tail with an atomic exchange (a full barrier:
 * release for the records below it, and the fence before it reads the NOT-EMPTY waiter count); the consumer reads
 * tail with an acquire load. The consumer publishes head with an atomic exchange after it has copied the record;
 * the producer reads head with an acquire load.
 */
#ifndef SHMKIT_QUEUE_H
#define SHMKIT_QUEUE_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The 64-byte structure header at the start of every ShmKit structure (and of the managed segment). ---- */

#define SHMKIT_MAGIC 0x4B4D4853u /* "SHMK" */
#define SHMKIT_LAYOUT_VERSION 1
#define SHMKIT_KIND_MANAGED_SEGMENT 1
#define SHMKIT_KIND_QUEUE 16
#define SHMKIT_STATE_READY 2 /* the low 8 bits of state; ready is exactly 2 */

struct shmkit_structure_header {
    uint32_t magic;             /*  0 */
    uint16_t layout_version;    /*  4 */
    uint16_t kind;              /*  6 */
    uint32_t state;             /*  8: futex word; 2 = ready (read with acquire before anything else) */
    uint32_t header_size;       /* 12: 64 */
    uint64_t total_size;        /* 16 */
    int32_t creator_pid;        /* 24 */
    uint32_t flags;             /* 28: queue mode: 0 SPSC, 1 MPMC */
    uint64_t creator_start;     /* 32 */
    uint64_t creator_pidns;     /* 40 */
    uint64_t kind_parameter;    /* 48: queue capacity; managed segment: participants | directory entries << 32 */
    uint32_t checksum;          /* 56: FNV-1a 32 of bytes 0..55 with state read as 0 */
    uint32_t identity_epoch;    /* 60 */
};
_Static_assert(sizeof(struct shmkit_structure_header) == 64, "structure header");
_Static_assert(offsetof(struct shmkit_structure_header, state) == 8, "state");
_Static_assert(offsetof(struct shmkit_structure_header, flags) == 28, "flags");
_Static_assert(offsetof(struct shmkit_structure_header, kind_parameter) == 48, "kind_parameter");
_Static_assert(offsetof(struct shmkit_structure_header, checksum) == 56, "checksum");

/* ---- The managed segment: control block and directory (enough to find a queue by name). ---- */

#define SHMKIT_DIRECTORY_OFFSET_FIELD 88 /* int32 in the control block: where the directory starts */
#define SHMKIT_ENTRY_READY 2

struct shmkit_directory_entry {
    uint32_t state;             /*  0: 2 = ready; the other fields are valid only then (acquire) */
    uint32_t claimer;           /*  4 */
    uint16_t kind;              /*  8 */
    uint16_t layout_version;    /* 10: the structure's own (queues: 1) */
    uint32_t name_length;       /* 12: 1..32 */
    uint64_t offset;            /* 16: from the segment's start, 128-byte aligned */
    uint64_t size;              /* 24 */
    char name[32];              /* 32: UTF-8, zero-padded */
};
_Static_assert(sizeof(struct shmkit_directory_entry) == 64, "directory entry");
_Static_assert(offsetof(struct shmkit_directory_entry, offset) == 16, "entry offset");
_Static_assert(offsetof(struct shmkit_directory_entry, name) == 32, "entry name");

/* ---- The queue structure. Each block is 128 bytes: fields one side writes never share a line pair with the other's. ---- */

#define SHMKIT_QUEUE_DATA_OFFSET 1024
#define SHMKIT_QUEUE_MIN_CAPACITY 4096u
#define SHMKIT_QUEUE_MAX_CAPACITY (1u << 30)

struct shmkit_queue {
    struct shmkit_structure_header header; /*    0: kind 16, flags = mode, kind_parameter = capacity */
    /* config [64,128): written by the creator before ready, never changed */
    uint64_t capacity;                     /*   64: power of two, 4 KiB .. 1 GiB */
    uint32_t max_message_length;           /*   72: at most capacity/2 - record header */
    uint32_t record_header_size;           /*   76: 8 SPSC, 16 MPMC */
    uint32_t record_alignment;             /*   80: 8 SPSC, 16 MPMC */
    uint32_t body_version;                 /*   84: 1 */
    uint64_t reserved0;                    /*   88 */
    uint64_t producer_role;                /*   96: SPSC role word (CAS): 0 free; owner id | tag << 32 (ShmKit); pid << 32 (C peer) */
    uint64_t consumer_role;                /*  104: the same for the consumer */
    uint64_t reserved1[2];                 /*  112 */
    /* producer block [128,256): written by producers only */
    uint64_t tail;                         /*  128: end of the last published record (MPMC: reserved) */
    uint64_t messages_in;                  /*  136 */
    uint64_t bytes_in;                     /*  144 */
    uint64_t full_waits;                   /*  152 */
    uint64_t producer_pad[12];             /*  160 */
    /* consumer block [256,384): written by consumers only */
    uint64_t head;                         /*  256: everything below is free for producers */
    uint64_t messages_out;                 /*  264 */
    uint64_t bytes_out;                    /*  272 */
    uint64_t empty_waits;                  /*  280 */
    uint64_t redeliveries;                 /*  288 */
    uint64_t leased_until;                 /*  296: SPSC: end of the last record handed out (written before use) */
    uint64_t abandoned_records;            /*  304: MPMC */
    uint64_t consumer_pad[9];              /*  312 */
    /* eventcounts: waiter count in the low 32 bits, epoch (the futex word, offset +4) in the high 32 */
    uint64_t not_empty;                    /*  384: consumers sleep here, producers wake */
    uint64_t not_empty_pad[15];
    uint64_t not_full;                     /*  512: producers sleep here, consumers wake */
    uint64_t not_full_pad[15];
    /* MPMC claim blocks */
    uint32_t producer_latch;               /*  640: owner id | 0x80000000 (waiters) */
    uint32_t producer_latch_pad[31];
    uint32_t consumer_latch;               /*  768 */
    uint32_t consumer_latch_pad;           /*  772 */
    uint64_t read_cursor;                  /*  776: first record no consumer has claimed */
    uint32_t redelivery_hint;              /*  784 */
    uint32_t consumer_claim_pad[27];       /*  788 */
    uint8_t reserved2[128];                /*  896 */
    /* [1024, 1024 + capacity): the ring (not part of the struct) */
};
_Static_assert(offsetof(struct shmkit_queue, capacity) == 64, "capacity");
_Static_assert(offsetof(struct shmkit_queue, producer_role) == 96, "producer_role");
_Static_assert(offsetof(struct shmkit_queue, consumer_role) == 104, "consumer_role");
_Static_assert(offsetof(struct shmkit_queue, tail) == 128, "tail");
_Static_assert(offsetof(struct shmkit_queue, full_waits) == 152, "full_waits");
_Static_assert(offsetof(struct shmkit_queue, head) == 256, "head");
_Static_assert(offsetof(struct shmkit_queue, leased_until) == 296, "leased_until");
_Static_assert(offsetof(struct shmkit_queue, abandoned_records) == 304, "abandoned_records");
_Static_assert(offsetof(struct shmkit_queue, not_empty) == 384, "not_empty");
_Static_assert(offsetof(struct shmkit_queue, not_full) == 512, "not_full");
_Static_assert(offsetof(struct shmkit_queue, producer_latch) == 640, "producer_latch");
_Static_assert(offsetof(struct shmkit_queue, consumer_latch) == 768, "consumer_latch");
_Static_assert(offsetof(struct shmkit_queue, read_cursor) == 776, "read_cursor");
_Static_assert(offsetof(struct shmkit_queue, redelivery_hint) == 784, "redelivery_hint");
_Static_assert(sizeof(struct shmkit_queue) == SHMKIT_QUEUE_DATA_OFFSET, "queue blocks");

/*
 * SPSC record (8-byte aligned; a record never wraps: when it would cross the end, a padding record fills the ring
 * to its end exactly and the record starts at offset 0). Size in the ring: align8(8 + length).
 */
#define SHMKIT_SPSC_PADDING 1
struct shmkit_spsc_record {
    int32_t length; /* payload bytes: 0..max_message_length (padding: bytes to the end minus 8) */
    int32_t flags;  /* 0, or SHMKIT_SPSC_PADDING */
};
_Static_assert(sizeof(struct shmkit_spsc_record) == 8, "spsc record");

/*
 * MPMC record (16-byte aligned): control = state (bits 0..7) | flags (bits 8..15, 0x100 = redelivered) | owner id
 * (bits 32..59). States: 1 producing, 2 committed, 3 consuming, 4 consumed, 5 padding. Size: align16(16 + reserved).
 */
struct shmkit_mpmc_record {
    int32_t length;   /* payload bytes committed */
    int32_t reserved; /* payload bytes the record spans (fixed at reservation) */
    uint64_t control;
};
_Static_assert(sizeof(struct shmkit_mpmc_record) == 16, "mpmc record");
_Static_assert(offsetof(struct shmkit_mpmc_record, control) == 8, "mpmc control");

/* ---- Finding a queue in a managed segment by name (bounded: one pass over the directory). ---- */

/* Returns 0 and the queue's offset, or -1 (not a managed segment, no such ready queue, or garbage). */
static inline int shmkit_find_queue(const void *base, size_t segment_size, const char *name, uint64_t *offset)
{
    const uint8_t *b = (const uint8_t *)base;
    const struct shmkit_structure_header *h = (const struct shmkit_structure_header *)b;
    size_t name_length = strlen(name);
    if (segment_size < 128 || name_length == 0 || name_length > 32)
        return -1;
    if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) != SHMKIT_STATE_READY || h->magic != SHMKIT_MAGIC
        || h->kind != SHMKIT_KIND_MANAGED_SEGMENT || h->layout_version != SHMKIT_LAYOUT_VERSION)
        return -1;
    uint64_t entries = h->kind_parameter >> 32;
    int32_t directory;
    memcpy(&directory, b + SHMKIT_DIRECTORY_OFFSET_FIELD, sizeof directory);
    if (directory < 128 || entries == 0 || entries > 65535 || (uint64_t)directory + entries * 64 > segment_size)
        return -1;
    for (uint64_t i = 0; i < entries; i++) {
        const struct shmkit_directory_entry *e = (const struct shmkit_directory_entry *)(b + directory + i * 64);
        if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SHMKIT_ENTRY_READY || e->kind != SHMKIT_KIND_QUEUE)
            continue;
        if (e->name_length != name_length || memcmp(e->name, name, name_length) != 0)
            continue;
        if (e->offset % 128 != 0 || e->offset > segment_size || e->size > segment_size - e->offset)
            return -1;
        *offset = e->offset;
        return 0;
    }
    return -1;
}

/* ---- An SPSC endpoint (process memory). ---- */

struct shmkit_spsc {
    struct shmkit_queue *q;
    uint8_t *ring;
    uint64_t capacity, mask;
    uint32_t max_length;
    uint64_t position;    /* producer: local tail; consumer: local head */
    uint64_t published;   /* what the other side can see of ours */
    uint64_t cached;      /* the other side's index, last read */
    uint64_t role;        /* the role word we hold */
};

/* Validates the queue at offset (ready, kind, SPSC, sane config inside the segment). 0, or -1. */
static inline int shmkit_spsc_open(void *base, size_t segment_size, uint64_t offset, struct shmkit_spsc *s)
{
    memset(s, 0, sizeof *s);
    if (offset % 128 != 0 || offset > segment_size || segment_size - offset < SHMKIT_QUEUE_DATA_OFFSET)
        return -1;
    struct shmkit_queue *q = (struct shmkit_queue *)((uint8_t *)base + offset);
    if (__atomic_load_n(&q->header.state, __ATOMIC_ACQUIRE) != SHMKIT_STATE_READY || q->header.magic != SHMKIT_MAGIC
        || q->header.kind != SHMKIT_KIND_QUEUE || q->header.flags != 0)
        return -1;
    uint64_t capacity = q->header.kind_parameter;
    if (capacity < SHMKIT_QUEUE_MIN_CAPACITY || capacity > SHMKIT_QUEUE_MAX_CAPACITY || (capacity & (capacity - 1)) != 0
        || q->capacity != capacity || q->record_header_size != 8 || q->record_alignment != 8
        || q->max_message_length > capacity / 2 - 8 || segment_size - offset - SHMKIT_QUEUE_DATA_OFFSET < capacity)
        return -1;
    s->q = q;
    s->ring = (uint8_t *)q + SHMKIT_QUEUE_DATA_OFFSET;
    s->capacity = capacity;
    s->mask = capacity - 1;
    s->max_length = q->max_message_length;
    return 0;
}

static inline int shmkit_futex(uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
    return (int)syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

/* After a full barrier: wake the sleepers of an eventcount if any registered (resetting the count, bumping the epoch). */
static inline void shmkit_eventcount_notify(uint64_t *word)
{
    uint64_t w = __atomic_load_n(word, __ATOMIC_RELAXED);
    if ((uint32_t)w == 0)
        return;
    for (int i = 0; i < 16; i++) {
        uint64_t next = (w & 0xFFFFFFFF00000000ull) + (1ull << 32);
        if (__atomic_compare_exchange_n(word, &w, next, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            break;
        if (i == 15)
            __atomic_fetch_add(word, 1ull << 32, __ATOMIC_SEQ_CST);
    }
    shmkit_futex((uint32_t *)word + 1, FUTEX_WAKE, INT_MAX, NULL);
}

/* Claims a role word with this process's pid (C peers are not participants). 0, or -1 when it is held. */
static inline int shmkit_spsc_claim(struct shmkit_spsc *s, int producer)
{
    uint64_t *word = producer ? &s->q->producer_role : &s->q->consumer_role;
    uint64_t expected = 0;
    uint64_t me = (uint64_t)(uint32_t)getpid() << 32;
    if (!__atomic_compare_exchange_n(word, &expected, me, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return -1;
    s->role = me;
    uint64_t head = __atomic_load_n(&s->q->head, __ATOMIC_ACQUIRE);
    uint64_t tail = __atomic_load_n(&s->q->tail, __ATOMIC_ACQUIRE);
    if ((head | tail) & 7 || tail < head || tail - head > s->capacity) {
        __atomic_compare_exchange_n(word, &me, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        return -1;
    }
    if (producer) {
        s->position = s->published = tail;
        s->cached = head;
    } else {
        s->position = s->published = s->cached = head;
    }
    return 0;
}

static inline void shmkit_spsc_release(struct shmkit_spsc *s, int producer)
{
    uint64_t *word = producer ? &s->q->producer_role : &s->q->consumer_role;
    uint64_t me = s->role;
    if (!producer)
        __atomic_store_n(&s->q->leased_until, s->published, __ATOMIC_RELAXED);
    __atomic_compare_exchange_n(word, &me, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* Producer: copies a message in and publishes it. 1 sent, 0 full, -1 too long or head corrupted. */
static inline int shmkit_spsc_try_send(struct shmkit_spsc *s, const void *message, uint32_t length)
{
    if (length > s->max_length)
        return -1;
    uint64_t need = ((uint64_t)length + 8 + 7) & ~7ull;
    uint64_t t = s->position, offset = t & s->mask;
    uint64_t pad = offset + need > s->capacity ? s->capacity - offset : 0;
    uint64_t end = t + pad + need;
    if (end - s->cached > s->capacity) {
        uint64_t h = __atomic_load_n(&s->q->head, __ATOMIC_ACQUIRE); /* pairs with the consumer's exchange of head */
        if (h < s->cached || h > s->published || (h & 7) != 0)
            return -1;
        s->cached = h;
        if (end - h > s->capacity)
            return 0;
    }
    if (pad != 0) {
        struct shmkit_spsc_record *p = (struct shmkit_spsc_record *)(s->ring + offset);
        p->length = (int32_t)(pad - 8);
        p->flags = SHMKIT_SPSC_PADDING;
    }
    struct shmkit_spsc_record *r = (struct shmkit_spsc_record *)(s->ring + ((t + pad) & s->mask));
    memcpy(r + 1, message, length);
    r->length = (int32_t)length;
    r->flags = 0;
    s->position = end;
    s->q->messages_in += 1;
    s->q->bytes_in += length;
    __atomic_exchange_n(&s->q->tail, end, __ATOMIC_SEQ_CST); /* release the record; full barrier before the waiter check */
    s->published = end;
    shmkit_eventcount_notify(&s->q->not_empty);
    return 1;
}

/* Consumer: copies the next message out and releases it. 1 received (*length set), 0 empty, -1 corrupted or buffer too short. */
static inline int shmkit_spsc_try_receive(struct shmkit_spsc *s, void *buffer, uint32_t buffer_size, uint32_t *length)
{
    uint64_t h = s->position;
    for (int step = 0; step < 2; step++) {
        if (h == s->cached) {
            uint64_t t = __atomic_load_n(&s->q->tail, __ATOMIC_ACQUIRE); /* pairs with the producer's exchange of tail */
            if (t < s->cached || t - h > s->capacity || (t & 7) != 0)
                return -1;
            s->cached = t;
            if (t == h) {
                s->position = h;
                if (h != s->published) { /* skipped padding: give it back */
                    __atomic_exchange_n(&s->q->head, h, __ATOMIC_SEQ_CST);
                    s->published = h;
                    shmkit_eventcount_notify(&s->q->not_full);
                }
                return 0;
            }
        }
        uint64_t offset = h & s->mask;
        const struct shmkit_spsc_record *r = (const struct shmkit_spsc_record *)(s->ring + offset);
        int32_t len = r->length, flags = r->flags;
        uint64_t size = ((uint64_t)(uint32_t)len + 8 + 7) & ~7ull;
        uint64_t available = s->cached - h;
        if (flags == SHMKIT_SPSC_PADDING) {
            if (len < 0 || size != s->capacity - offset || size > available)
                return -1;
            h += size;
            continue;
        }
        if (flags != 0 || (uint32_t)len > s->max_length || size > s->capacity - offset || size > available)
            return -1;
        if ((uint32_t)len > buffer_size)
            return -1;
        __atomic_store_n(&s->q->leased_until, h + size, __ATOMIC_RELAXED);
        memcpy(buffer, r + 1, (uint32_t)len);
        *length = (uint32_t)len;
        h += size;
        s->position = h;
        s->q->messages_out += 1;
        s->q->bytes_out += (uint32_t)len;
        __atomic_exchange_n(&s->q->head, h, __ATOMIC_SEQ_CST); /* our copy is done; full barrier before the waiter check */
        s->published = h;
        shmkit_eventcount_notify(&s->q->not_full);
        return 1;
    }
    return -1;
}

/*
 * Sleeps until the other side publishes (for_room: producer waiting for room; else consumer waiting for a
 * message), or the relative timeout. Register (atomic increment: full barrier), re-check, FUTEX_WAIT on the epoch,
 * withdraw. Returns 0 (woken or the condition holds), or ETIMEDOUT.
 */
static inline int shmkit_spsc_wait(struct shmkit_spsc *s, int for_room, const struct timespec *timeout)
{
    uint64_t *word = for_room ? &s->q->not_full : &s->q->not_empty;
    uint64_t w = __atomic_add_fetch(word, 1, __ATOMIC_SEQ_CST);
    uint32_t epoch = (uint32_t)(w >> 32);
    int ready = for_room ? __atomic_load_n(&s->q->head, __ATOMIC_ACQUIRE) != s->cached
                         : __atomic_load_n(&s->q->tail, __ATOMIC_ACQUIRE) != s->position;
    int result = 0;
    if (!ready && shmkit_futex((uint32_t *)word + 1, FUTEX_WAIT, epoch, timeout) == -1 && errno == ETIMEDOUT)
        result = ETIMEDOUT;
    for (int i = 0; i < 16; i++) { /* withdraw, unless a wake has consumed the registration */
        w = __atomic_load_n(word, __ATOMIC_RELAXED);
        if ((uint32_t)(w >> 32) != epoch || (uint32_t)w == 0)
            break;
        if (__atomic_compare_exchange_n(word, &w, w - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            break;
    }
    return result;
}

#ifdef __cplusplus
}
#endif

#endif /* SHMKIT_QUEUE_H */
