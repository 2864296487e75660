// C consumer of the benchmarks (package bench), built with the documented guest command and
// run by `wbpf run`. It loads bench.bpf.o, attaches both programs, opens the ring buffer with
// the SDK's bpf_buffer, prints "attached", then serves one command per line on stdin and
// answers with one line on stdout (the protocol of bench/protocol.go):
//
//   on TGID     count TGID's getppid calls from now on           -> ok
//   off         stop counting, drop what is still in the ring    -> ok
//   batch K     consume exactly K records                        -> NS K
//   sustain     consume until the marker record                  -> NS RECORDS
//   live        an agent's loop: bpf_buffer__poll(rb, 100) until the marker record
//                                                                -> RECORDS POLLS
//   stats       the BPF side's counters                          -> SENT LOST
//   maps N      N updates, N lookups, one iteration (next key + lookup per key), N deletes
//                                                                -> UPDATE_NS LOOKUP_NS ITERATE_NS KEYS
//   quit        close everything and exit 0
#include <stdint.h>
#include <time.h>

#include "wbpf.h"

static const unsigned char obj_bytes[] = {
#embed "bench.bpf.o"
};

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

static void die(const char *what, int err)
{
    printf("FAIL %s: %d\n", what, err);
    exit(1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct bpf_object *obj = bpf_object__open_mem(obj_bytes, sizeof(obj_bytes), NULL);
    if (!obj || bpf_object__load(obj))
        die("load", -errno);
    const char *progs[] = {"bench_event", "bench_marker"};
    for (int i = 0; i < 2; i++)
        if (!bpf_program__attach(bpf_object__find_program_by_name(obj, progs[i])))
            die(progs[i], -errno);
    int cfg = bpf_object__find_map_fd_by_name(obj, "cfg");
    int stats = bpf_object__find_map_fd_by_name(obj, "stats");
    int kv = bpf_object__find_map_fd_by_name(obj, "kv");
    struct bpf_buffer *rb = bpf_buffer__new(bpf_object__find_map_by_name(obj, "events"), NULL);
    if (cfg < 0 || stats < 0 || kv < 0 || !rb || bpf_buffer__open(rb, on_event, NULL, NULL))
        die("maps", -errno);
    printf("attached\n");

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
            while (bpf_buffer__poll(rb, 1) > 0)
                ;
            printf("ok\n");
        } else if (sscanf(line, "batch %llu", &n) == 1) {
            got = 0;
            long long t0 = now_ns();
            while (got < n) {
                int r = bpf_buffer__poll(rb, 1000);
                if (r <= 0)
                    die("batch poll", r);
            }
            printf("%lld %llu\n", now_ns() - t0, (unsigned long long)got);
        } else if (strncmp(line, "sustain", 7) == 0) {
            got = 0;
            marker = 0;
            long long t0 = now_ns();
            while (!marker) {
                int r = bpf_buffer__poll(rb, 1000);
                if (r < 0)
                    die("sustain poll", r);
            }
            printf("%lld %llu\n", now_ns() - t0, (unsigned long long)got);
        } else if (strncmp(line, "live", 4) == 0) {
            unsigned long long polls = 0;
            got = 0;
            marker = 0;
            while (!marker) {
                int r = bpf_buffer__poll(rb, 100);
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
    bpf_buffer__free(rb);
    bpf_object__close(obj);
    return (int)(sum & 0); /* sum keeps the callbacks' reads alive */
}
