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

static void die(const char *what, int err);

#define bench_ring struct ring_buffer
// A signal (a tracer attaching) interrupts libbpf's epoll_wait: poll again.
static int bench_poll(struct ring_buffer *rb, int ms)
{
    int r;
    while ((r = ring_buffer__poll(rb, ms)) == -EINTR)
        ;
    return r;
}
#include "../protocol.h"

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

    serve(rb, cfg, stats, kv);
    ring_buffer__free(rb);
    bpf_object__close(obj);
    return (int)(sum & 0); /* sum keeps the callbacks' reads alive */
}
