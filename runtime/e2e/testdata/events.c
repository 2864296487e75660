// Guest of TestRingBuffer/TestPerfBuffer: loads events.bpf.o with .rodata (target_tgid) and
// .data (tag) patched before load, attaches the ring buffer or perf program, prints every event
// it receives, expects exactly N, then reads and writes the .bss counter through its map.
//
// usage: events.wasm ringbuf|perf TGID N [SAMPLE_SIZE]
// With SAMPLE_SIZE, the callback gets at most that many bytes of each event.
#include "wbpf.h"
#include "guest.h"

static const unsigned char obj_bytes[] = {
#embed "events.bpf.o"
};

struct event {
    unsigned int pid;
    unsigned int tid;
    unsigned long long seq;
    char tag[16];
    char comm[16];
};

static int received, ring;

static size_t sample_size; /* 0: the SDK's default */

static int on_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;
    CHECK(ctx && strcmp(ctx, "ctx-ok") == 0, "callback context %p", ctx);
    if (sample_size && sample_size < sizeof(*e)) {
        /* Cut samples: only pid, tid and seq (the first 16 bytes) arrived. */
        CHECK(size == sample_size, "cut event size %zu, want %zu", size, sample_size);
        received++;
        printf("event pid=%u tid=%u seq=%llu size=%zu\n", e->pid, e->tid, e->seq, size);
        return 0;
    }
    /* A ring buffer sample has the size the program reserved; a perf sample's raw size also
     * counts the padding that aligns it (with its 4-byte size field) to 8 bytes. */
    if (ring)
        CHECK(size == sizeof(*e), "ring buffer event size %zu, want %zu", size, sizeof(*e));
    else
        CHECK(size >= sizeof(*e) && size < sizeof(*e) + 8, "perf event size %zu for %zu", size,
              sizeof(*e));
    received++;
    printf("event pid=%u tid=%u seq=%llu tag=%.16s comm=%.16s\n", e->pid, e->tid, e->seq, e->tag,
           e->comm);
    return 0;
}

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc == 4 || argc == 5, "usage: %s ringbuf|perf TGID N [SAMPLE_SIZE]", argv[0]);
    if (argc == 5)
        sample_size = (size_t)atoi(argv[4]);
    ring = strcmp(argv[1], "ringbuf") == 0;
    unsigned int tgid = (unsigned int)strtoul(argv[2], NULL, 10);
    int want = atoi(argv[3]);

    struct bpf_object *obj = bpf_object__open_mem(obj_bytes, sizeof(obj_bytes), NULL);
    CHECK(obj, "open");
    CHECK(wbpf_object__set_global(obj, "target_tgid", &tgid, sizeof(tgid)) == 0, "set .rodata");
    char tag[16] = "hello-e2e";
    CHECK(wbpf_object__set_global(obj, "tag", tag, sizeof(tag)) == 0, "set .data");
    unsigned long long zero = 0;
    CHECK(wbpf_object__set_global(obj, "counter", &zero, sizeof(zero)) == -EOPNOTSUPP,
          ".bss before load");
    CHECK(wbpf_object__set_global(obj, "tag", tag, 3) == -EINVAL, "wrong size");
    CHECK(wbpf_object__set_global(obj, "no_such_var", tag, 3) == -ENOENT, "unknown variable");
    CHECK(bpf_object__load(obj) == 0, "load");
    CHECK(bpf_object__load(obj) == -EBUSY, "second load");

    const char *pname = ring ? "wbpfe2e_rb_prog" : "wbpfe2e_pb_prog";
    struct bpf_program *prog = bpf_object__find_program_by_name(obj, pname);
    CHECK(prog, "find program %s", pname);
    CHECK(strcmp(bpf_program__section_name(prog), "tracepoint/syscalls/sys_enter_getppid") == 0,
          "section %s", bpf_program__section_name(prog));
    struct bpf_link *link = bpf_program__attach(prog);
    CHECK(link, "attach %s", pname);

    struct bpf_map *map = bpf_object__find_map_by_name(obj, ring ? "wbpfe2e_rb" : "wbpfe2e_pb");
    CHECK(map, "find map");
    struct bpf_buffer *buf = bpf_buffer__new(map, NULL);
    CHECK(buf, "buffer new");
    if (sample_size)
        CHECK(wbpf_buffer__set_sample_size(buf, sample_size) == 0, "sample size");
    CHECK(bpf_buffer__open(buf, on_event, NULL, "ctx-ok") == 0, "buffer open");
    printf("attached\n");

    for (int i = 0; i < 100 && received < want; i++) {
        int n = bpf_buffer__poll(buf, 100);
        CHECK(n >= 0, "poll: %d", n);
    }
    int n = bpf_buffer__poll(buf, 300); /* nothing more may come */
    CHECK(n >= 0, "poll: %d", n);
    printf("received=%d\n", received);
    CHECK(received == want, "received %d events, want %d", received, want);
    printf("truncated=%llu\n", (unsigned long long)wbpf_buffer__truncated(buf));

    unsigned long long counter = 0;
    CHECK(wbpf_object__get_global(obj, "counter", &counter, sizeof(counter)) == 0, "get .bss");
    printf("counter=%llu\n", counter);
    counter = 1000;
    CHECK(wbpf_object__set_global(obj, "counter", &counter, sizeof(counter)) == 0, "set .bss");
    counter = 0;
    CHECK(wbpf_object__get_global(obj, "counter", &counter, sizeof(counter)) == 0, "get .bss");
    printf("counter_after_set=%llu\n", counter);
    struct bpf_map *bss = bpf_object__find_map_by_name(obj, "events_b.bss"); /* libbpf's name */
    CHECK(bss && bpf_map__fd(bss) >= 0, "find .bss by libbpf's name");
    memset(tag, 0, sizeof(tag));
    CHECK(wbpf_object__get_global(obj, "tag", tag, sizeof(tag)) == 0, "get .data");
    printf("tag=%.16s\n", tag);
    unsigned int got = 0;
    CHECK(wbpf_object__get_global(obj, "target_tgid", &got, sizeof(got)) == 0, "get .rodata");
    printf("target_tgid=%u\n", got);
    int err = wbpf_object__set_global(obj, "target_tgid", &got, sizeof(got));
    printf("rodata_set_after_load=%d\n", err);
    CHECK(err < 0, "writing frozen .rodata after load succeeded");

    CHECK(bpf_link__destroy(link) == -EOPNOTSUPP, "link destroy");
    bpf_buffer__free(buf);
    bpf_object__close(obj);
    printf("closed\n");
    return 0;
}
