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
#include "wbpf.h"

#define bench_ring struct bpf_buffer
#define bench_poll bpf_buffer__poll
static void die(const char *what, int err);
#include "../protocol.h"

static const unsigned char obj_bytes[] = {
#embed "bench.bpf.o"
};

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

    serve(rb, cfg, stats, kv);
    bpf_buffer__free(rb);
    bpf_object__close(obj);
    return (int)(sum & 0); /* sum keeps the callbacks' reads alive */
}
