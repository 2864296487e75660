// libbpf C consumer of the benchmarks (package bench): the original wasm-bpf runtime's reading
// loop without its Wasm engine. The original runs a guest's bpf_buffer__poll(rb, 100) as one C
// thread calling libbpf's ring_buffer__poll (epoll_wait, then the ring drained into a callback
// that enters WAMR per record); this program is that thread with the callback native, so the
// original costs at least what it costs. It is written as libbpf-tools consumers are: libbpf
// opens and loads the object, bpf_program__attach attaches each program by its SEC name, and
// ring_buffer__new/ring_buffer__poll read the ring.
//
// Usage:
//
//   bench OBJ              serve the line protocol of ../cguest/bench.c for bench.bpf.o:
//                          on TGID, off, batch K, sustain, live, stats, maps N, quit; the same
//                          answers, the same per-record work (on_event)
//   bench -bootstrap OBJ   the bootstrap example's start: load examples/bootstrap's object,
//                          attach it, print bootstrap's header line, then drain its ring in
//                          ring_buffer__poll(rb, 100) until SIGINT or SIGTERM
//
// Built by bench.Prepare with clang-19 against Debian's libbpf-dev (-lbpf).
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

struct event {
    uint64_t seq;
    uint32_t pid;
    uint32_t kind;
    char comm[16];
    uint64_t pad[2];
};

static uint64_t got, sum;
static int marker;

// The C guest's on_event, record for record.
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
    printf("FAIL %s: %d (%s)\n", what, err, strerror(err < 0 ? -err : err));
    exit(1);
}

// libbpf's warnings go to stderr, which the harness shows when a side fails; its debug output
// is dropped, as libbpf-tools do without --verbose.
static int print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    return vfprintf(stderr, format, args);
}

static struct bpf_object *open_and_attach(const char *path)
{
    struct bpf_object *obj = bpf_object__open_file(path, NULL);
    if (!obj)
        die("open", -errno);
    // A ring buffer declared with __type(value, ...) (the bootstrap example's rb, so that its
    // record type stays in BTF) has a value size the kernel refuses for a ring buffer; newer
    // libbpf and cilium/ebpf drop it, libbpf 1.1 does not.
    struct bpf_map *map;
    bpf_object__for_each_map(map, obj)
    {
        if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF && bpf_map__value_size(map) != 0 &&
            bpf_map__set_value_size(map, 0))
            die("ring buffer value size", -errno);
    }
    int err = bpf_object__load(obj);
    if (err)
        die("load", err);
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, obj)
    {
        if (!bpf_program__attach(prog))
            die(bpf_program__name(prog), -errno);
    }
    return obj;
}

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
    (void)sig;
    exiting = 1;
}

static int on_bootstrap_event(void *ctx, void *data, size_t size)
{
    (void)ctx;
    (void)data;
    (void)size;
    return 0;
}

// bootstrap is the start-to-attached counterpart of the bootstrap example's guest (and of
// bench.ServeNativeBootstrap): libbpf-bootstrap's bootstrap.c without its printing.
static int bootstrap(const char *path)
{
    struct bpf_object *obj = open_and_attach(path);
    struct ring_buffer *rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "rb"), on_bootstrap_event, NULL, NULL);
    if (!rb)
        die("ring buffer", -errno);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("%-8s %-5s %-16s %-7s %-7s %s\n", "TIME", "EVENT", "COMM", "PID", "PPID", "FILENAME/EXIT CODE");
    while (!exiting) {
        int err = ring_buffer__poll(rb, 100);
        if (err == -EINTR)
            break;
        if (err < 0)
            die("poll", err);
    }
    ring_buffer__free(rb);
    bpf_object__close(obj);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    libbpf_set_print(print_fn);
    if (argc == 3 && strcmp(argv[1], "-bootstrap") == 0)
        return bootstrap(argv[2]);
    if (argc != 2) {
        fprintf(stderr, "usage: %s OBJ | -bootstrap OBJ\n", argv[0]);
        return 2;
    }
    struct bpf_object *obj = open_and_attach(argv[1]);
    int cfg = bpf_object__find_map_fd_by_name(obj, "cfg");
    int stats = bpf_object__find_map_fd_by_name(obj, "stats");
    int kv = bpf_object__find_map_fd_by_name(obj, "kv");
    int events = bpf_object__find_map_fd_by_name(obj, "events");
    if (cfg < 0 || stats < 0 || kv < 0 || events < 0)
        die("maps", -ENOENT);
    struct ring_buffer *rb = ring_buffer__new(events, on_event, NULL, NULL);
    if (!rb)
        die("ring buffer", -errno);
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
            while (ring_buffer__poll(rb, 1) > 0)
                ;
            printf("ok\n");
        } else if (sscanf(line, "batch %llu", &n) == 1) {
            got = 0;
            long long t0 = now_ns();
            while (got < n) {
                int r = ring_buffer__poll(rb, 1000);
                if (r == -EINTR) // a signal (a tracer attaching): wait again
                    continue;
                if (r <= 0)
                    die("batch poll", r);
            }
            printf("%lld %llu\n", now_ns() - t0, (unsigned long long)got);
        } else if (strncmp(line, "sustain", 7) == 0) {
            got = 0;
            marker = 0;
            long long t0 = now_ns();
            while (!marker) {
                int r = ring_buffer__poll(rb, 1000);
                if (r == -EINTR) // a signal (a tracer attaching): wait again
                    continue;
                if (r < 0)
                    die("sustain poll", r);
            }
            printf("%lld %llu\n", now_ns() - t0, (unsigned long long)got);
        } else if (strncmp(line, "live", 4) == 0) {
            // An agent's loop, the one the original runs for a guest's bpf_buffer__poll(rb, 100).
            unsigned long long polls = 0;
            got = 0;
            marker = 0;
            while (!marker) {
                int r = ring_buffer__poll(rb, 100);
                if (r == -EINTR) // a signal (a tracer attaching): wait again
                    continue;
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
    ring_buffer__free(rb);
    bpf_object__close(obj);
    return (int)(sum & 0); /* sum keeps the callbacks' reads alive */
}
