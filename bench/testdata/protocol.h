// The consumer side of the benchmarks' line protocol, shared by the C guest (cguest/bench.c,
// under `wbpf run`) and the libbpf C consumer (libbpfc/bench.c): the same commands, answers and
// per-record work on both sides, so they differ only in what reads the ring. The protocol is
// cguest/bench.c's comment.
//
// The includer defines, before including it:
//   bench_ring          the ring reader's type (struct bpf_buffer, struct ring_buffer)
//   bench_poll(rb, ms)  one poll: the number of records consumed, or a negative errno
//   die(what, err)      prints "FAIL what: err" on stdout and exits 1
#ifndef BENCH_PROTOCOL_H
#define BENCH_PROTOCOL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct event {
    uint64_t seq;
    uint32_t pid;
    uint32_t kind;
    char comm[16];
    uint64_t pad[2];
};

static uint64_t got, sum;
static int marker;

static int on_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;
    (void)ctx;
    (void)size;
    if (e->kind == 1) {
        marker = 1;
        return 0;
    }
    got++;
    sum += e->seq;
    return 0;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// serve answers the commands on stdin until quit or end of input. cfg, stats and kv are the
// object's maps of those names, rb reads its events ring with on_event as the callback.
static void serve(bench_ring *rb, int cfg, int stats, int kv)
{
    char line[128];
    while (fgets(line, sizeof(line), stdin)) {
        unsigned long long n = 0;
        uint32_t zero = 0, one = 1;
        if (sscanf(line, "on %llu", &n) == 1) {
            uint32_t tgid = (uint32_t)n;
            if (bpf_map_update_elem(cfg, &zero, &tgid, BPF_ANY))
                die("on", -errno);
            printf("ok\n");
        } else if (strncmp(line, "off", 3) == 0) {
            uint32_t none = 0;
            if (bpf_map_update_elem(cfg, &zero, &none, BPF_ANY))
                die("off", -errno);
            while (bench_poll(rb, 1) > 0)
                ;
            printf("ok\n");
        } else if (sscanf(line, "batch %llu", &n) == 1) {
            got = 0;
            long long t0 = now_ns();
            while (got < n) {
                int r = bench_poll(rb, 1000);
                if (r <= 0)
                    die("batch poll", r);
            }
            printf("%lld %llu\n", now_ns() - t0, (unsigned long long)got);
        } else if (strncmp(line, "sustain", 7) == 0) {
            got = 0;
            marker = 0;
            long long t0 = now_ns();
            while (!marker) {
                int r = bench_poll(rb, 1000);
                if (r < 0)
                    die("sustain poll", r);
            }
            printf("%lld %llu\n", now_ns() - t0, (unsigned long long)got);
        } else if (strncmp(line, "live", 4) == 0) {
            unsigned long long polls = 0;
            got = 0;
            marker = 0;
            while (!marker) {
                int r = bench_poll(rb, 100);
                if (r < 0)
                    die("live poll", r);
                polls++;
            }
            printf("%llu %llu\n", (unsigned long long)got, polls);
        } else if (strncmp(line, "stats", 5) == 0) {
            uint64_t sent = 0, lost = 0;
            if (bpf_map_lookup_elem(stats, &zero, &sent) || bpf_map_lookup_elem(stats, &one, &lost))
                die("stats", -errno);
            printf("%llu %llu\n", (unsigned long long)sent, (unsigned long long)lost);
        } else if (sscanf(line, "maps %llu", &n) == 1) {
            uint64_t v = 0;
            long long t0 = now_ns();
            for (uint32_t k = 0; k < n; k++) {
                v = k;
                if (bpf_map_update_elem(kv, &k, &v, BPF_ANY))
                    die("update", -errno);
            }
            long long t1 = now_ns();
            for (uint32_t k = 0; k < n; k++)
                if (bpf_map_lookup_elem(kv, &k, &v))
                    die("lookup", -errno);
            long long t2 = now_ns();
            uint32_t key, next;
            unsigned long long keys = 0;
            for (int err = bpf_map_get_next_key(kv, NULL, &next); !err;
                 err = bpf_map_get_next_key(kv, &key, &next)) {
                if (bpf_map_lookup_elem(kv, &next, &v))
                    die("iterate lookup", -errno);
                sum += v;
                key = next;
                keys++;
            }
            long long t3 = now_ns();
            for (uint32_t k = 0; k < n; k++)
                if (bpf_map_delete_elem(kv, &k))
                    die("delete", -errno);
            printf("%lld %lld %lld %llu\n", t1 - t0, t2 - t1, t3 - t2, keys);
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        } else {
            die("unknown command", 0);
        }
    }
}

#endif
