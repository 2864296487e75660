// Guest of TestMigration: C written for the original wasm-bpf C SDK, the way its examples are
// (libbpf-wasm.h, NAME_bpf__open/__load/__attach/__destroy, skel->rodata before load, the
// 3-argument bpf_buffer__open returning the buffer, bpf_buffer__poll), built unchanged on the
// skeleton `wbpfgen skeleton` generates for events.bpf.o instead of `bpftool gen skeleton -j`.
//
// usage: migrate.wasm TGID N
#ifndef VIA_SKELETON /* the original's examples get libbpf-wasm.h through their skeleton */
#include "libbpf-wasm.h"
#endif
#include "events.skel.h"
#include "guest.h"

/* The tool's own definition of its event, as the original's examples keep it in a header
 * shared with the BPF side: the skeleton prints only its own types, so nothing clashes. */
struct event {
    unsigned int pid;
    unsigned int tid;
    unsigned long long seq;
    char tag[16];
    char comm[16];
};

static int received;

static int handle_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;
    (void)ctx;
    CHECK(size >= sizeof(*e), "event size %zu", size);
    received++;
    printf("event pid=%u seq=%llu tag=%s\n", e->pid, (unsigned long long)e->seq, e->tag);
    return 0;
}

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc == 3, "usage: %s TGID N", argv[0]);
    int want = atoi(argv[2]);

    struct events_bpf *skel = events_bpf__open();
    CHECK(skel, "open");
    skel->rodata->target_tgid = (unsigned)strtoul(argv[1], NULL, 10);
    strcpy(skel->data->tag, "migrated");
    CHECK(bpf_program__set_autoload(skel->progs.wbpfe2e_pb_prog, false) == 0, "set_autoload");
    CHECK(events_bpf__load(skel) == 0, "load");
    CHECK(events_bpf__attach(skel) == 0, "attach");

    struct bpf_buffer *rb = bpf_buffer__open(skel->maps.wbpfe2e_rb, handle_event, NULL);
    CHECK(rb, "bpf_buffer__open");
    printf("attached\n");
    for (int i = 0; i < 100 && received < want; i++) {
        int err = bpf_buffer__poll(rb, 100);
        CHECK(err >= 0, "poll: %d", err);
    }
    printf("received=%d\n", received);
    bpf_buffer__free(rb);
    events_bpf__destroy(skel);
    return 0;
}
