// Guest of TestBufferFallback: libbpf-tools' bpf_buffer__new flow (compat.c) on
// perfback.bpf.o, whose events map is declared a ring buffer. "perf" takes compat.c's path for
// kernels without ring buffers: events becomes a perf event array with 4-byte keys and values
// (the program then builds events in the heap map); "ringbuf" takes the other path: the heap
// is switched off. Either way the events are read through wbpf.h's bpf_buffer. The guest
// prints what libbpf's getters say before the settings, after them and after load, and the
// errnos of bad input to the raw wbpf_config imports (bad_CASE=ERRNO, positive).
//
// usage: perfback.wasm ringbuf|perf TGID N
#include "wbpf.h"
#include "guest.h"

static const unsigned char obj_bytes[] = {
#embed "perfback.bpf.o"
};

struct event {
    unsigned int pid, seq;
    char comm[16];
    char pad[40];
};

static int received;
static unsigned int tgid;

static int on_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;
    (void)ctx;
    CHECK(size >= sizeof(*e), "event of %zu bytes, want %zu", size, sizeof(*e));
    CHECK(e->pid == tgid, "event pid %u, want %u", e->pid, tgid);
    received++;
    printf("event seq=%u comm=%.16s size=%zu\n", e->seq, e->comm, size);
    return 0;
}

/* compat_buffer_prepare is the map part of libbpf-tools' compat.c bpf_buffer__new, word for
 * word, with use_ringbuf standing for its probe_ringbuf(). */
static int compat_buffer_prepare(struct bpf_map *events, struct bpf_map *heap, bool use_ringbuf)
{
    int type;

    if (use_ringbuf) {
        bpf_map__set_autocreate(heap, false);
        type = BPF_MAP_TYPE_RINGBUF;
    } else {
        bpf_map__set_type(events, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
        bpf_map__set_key_size(events, sizeof(int));
        bpf_map__set_value_size(events, sizeof(int));
        type = BPF_MAP_TYPE_PERF_EVENT_ARRAY;
    }
    return type;
}

static void show(const char *when, struct bpf_map *m)
{
    printf("%s_%s=%d/%u/%u/%u\n", when, bpf_map__name(m), (int)bpf_map__type(m),
           bpf_map__key_size(m), bpf_map__value_size(m), bpf_map__max_entries(m));
}

#define BAD(name, call) printf("bad_%s=%d\n", name, -(call))

/* bad_input: the raw imports refuse what they must, before and after load. */
static void bad_input(void)
{
    uint64_t h = wbpf_open_bpf_object(obj_bytes, (int)sizeof(obj_bytes));
    CHECK(h, "wbpf_open_bpf_object failed");
    struct wbpf_map_info mi;
    struct wbpf_program_info pi;
    BAD("type_unknown_map", wbpf_map_set_type(h, "nosuch", BPF_MAP_TYPE_PERF_EVENT_ARRAY));
    BAD("type_0", wbpf_map_set_type(h, "wbpfe2e_fb_events", 0));
    BAD("type_256", wbpf_map_set_type(h, "wbpfe2e_fb_events", 256));
    BAD("type_rodata", wbpf_map_set_type(h, ".rodata", BPF_MAP_TYPE_HASH));
    BAD("type_bad_handle", wbpf_map_set_type(h + 1000, "wbpfe2e_fb_events", BPF_MAP_TYPE_HASH));
    BAD("key_unknown_map", wbpf_map_set_key_size(h, "nosuch", 4));
    BAD("key_0", wbpf_map_set_key_size(h, "wbpfe2e_fb_heap", 0));
    BAD("key_bss", wbpf_map_set_key_size(h, ".bss", 8));
    BAD("key_bad_name", wbpf_map_set_key_size(h, (const char *)0xfffffff0u, 4));
    BAD("info_unknown_map", wbpf_map_info(h, "nosuch", &mi));
    BAD("info_unknown_prog", wbpf_program_info(h, "nosuch", &pi));
    BAD("info_bad_ptr", wbpf_map_info(h, "wbpfe2e_fb_heap", (struct wbpf_map_info *)0xfffffff0u));
    BAD("info_bad_handle", wbpf_map_info(h + 1000, "wbpfe2e_fb_heap", &mi));
    BAD("off", wbpf_map_set_autocreate(h, "wbpfe2e_fb_heap", 0));
    BAD("load", wbpf_load_bpf_object(h));
    BAD("type_after_load", wbpf_map_set_type(h, "wbpfe2e_fb_events", BPF_MAP_TYPE_PERF_EVENT_ARRAY));
    BAD("key_after_load", wbpf_map_set_key_size(h, "wbpfe2e_fb_events", 4));
    BAD("info_off_after_load", wbpf_map_info(h, "wbpfe2e_fb_heap", &mi));
    BAD("info_after_load", wbpf_map_info(h, "wbpfe2e_fb_events", &mi));
    printf("raw_events=%u/%u/%u/%u\n", mi.type, mi.key_size, mi.value_size, mi.max_entries);
    wasm_close_bpf_object(h);
}

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc == 4, "usage: %s ringbuf|perf TGID N", argv[0]);
    bool use_ringbuf = strcmp(argv[1], "ringbuf") == 0;
    tgid = (unsigned int)strtoul(argv[2], NULL, 10);
    int want = atoi(argv[3]);

    struct bpf_object *obj = bpf_object__open_mem(obj_bytes, sizeof(obj_bytes), NULL);
    CHECK(obj, "open");
    struct bpf_map *events = bpf_object__find_map_by_name(obj, "wbpfe2e_fb_events");
    struct bpf_map *heap = bpf_object__find_map_by_name(obj, "wbpfe2e_fb_heap");
    struct bpf_program *prog = bpf_object__find_program_by_name(obj, "wbpfe2e_fb_prog");
    CHECK(events && heap && prog, "maps or program missing");
    unsigned int perf = !use_ringbuf;
    CHECK(wbpf_object__set_global(obj, "target_tgid", &tgid, sizeof(tgid)) == 0, "set target_tgid");
    CHECK(wbpf_object__set_global(obj, "use_perf", &perf, sizeof(perf)) == 0, "set use_perf");

    show("elf", events);
    show("elf", heap);
    int type = compat_buffer_prepare(events, heap, use_ringbuf);
    CHECK(type == (int)bpf_map__type(events), "compat type %d, bpf_map__type %d", type,
          (int)bpf_map__type(events));
    show("set", events);
    printf("set_heap_autocreate=%d\n", bpf_map__autocreate(heap));
    printf("prog_type=%d\n", (int)bpf_program__type(prog));

    struct bpf_buffer *buf = bpf_buffer__new(events, heap);
    CHECK(buf, "bpf_buffer__new");
    CHECK(bpf_object__load(obj) == 0, "load");
    show("loaded", events);
    show("loaded", heap); /* switched off on the ring buffer path: as set */
    printf("loaded_prog_type=%d\n", (int)bpf_program__type(prog));
    printf("heap_fd=%d\n", bpf_map__fd(heap) < 0 ? bpf_map__fd(heap) : 0);
    CHECK(bpf_buffer__open(buf, on_event, NULL, NULL) == 0, "bpf_buffer__open");
    CHECK(bpf_program__attach(prog), "attach");
    printf("attached\n");
    for (int i = 0; i < 100 && received < want; i++)
        CHECK(bpf_buffer__poll(buf, 100) >= 0, "poll");
    printf("events=%d\n", received);
    bpf_buffer__free(buf);
    bpf_object__close(obj);
    bad_input(); /* after: its own load would be in the kernel beside the object's */
    printf("closed\n");
    return 0;
}
