// Guest of TestGuestMetrics: exports Prometheus metrics through wbpf_metrics.h while it receives
// the events of events.bpf.o (sys_enter_getppid of the test's process, ring buffer). Per event:
// wbpfe2e_events_total{comm,tag} += 1, wbpfe2e_last_seq = seq, wbpfe2e_seq observes seq. Before
// that it checks the error results, and fills wbpfe2e_capped{n} past the cap the test sets (10
// label sets). Once it has N events it prints "ready" and polls until interrupted.
//
// usage: metrics.wasm TGID N
#include "wbpf.h"
#include "wbpf_metrics.h"
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

static int received, events_id, seq_id, hist_id;

static int on_event(void *ctx, void *data, size_t size)
{
    (void)ctx;
    (void)size;
    const struct event *e = data;
    char comm[17] = {0}, tag[17] = {0};
    memcpy(comm, e->comm, 16);
    memcpy(tag, e->tag, 16);
    const char *labels[] = {comm, tag};
    CHECK(wbpf_counter_add(events_id, 1, labels, 2) == 0, "counter add");
    CHECK(wbpf_gauge_set(seq_id, (double)e->seq, NULL, 0) == 0, "gauge set");
    CHECK(wbpf_histogram_observe(hist_id, (double)e->seq, 1, NULL, 0) == 0, "observe");
    received++;
    return 0;
}

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc == 3, "usage: %s TGID N", argv[0]);
    unsigned int tgid = (unsigned int)strtoul(argv[1], NULL, 10);
    int want = atoi(argv[2]);

    events_id = wbpf_counter("wbpfe2e_events", "Events by command and tag.", "comm,tag");
    CHECK(events_id > 0, "declare counter: %d", events_id);
    CHECK(wbpf_counter("wbpfe2e_events", "again", "comm,tag") == events_id, "same id again");
    CHECK(wbpf_gauge("wbpfe2e_events_total", "", "") == -EEXIST, "conflicting declaration");
    CHECK(wbpf_counter("bad name", "", "") == -EINVAL, "bad name");
    CHECK(wbpf_counter("wbpfe2e_x", "", "le,le") == -EINVAL, "label twice");
    seq_id = wbpf_gauge("wbpfe2e_last_seq", "The last sequence number.", "");
    CHECK(seq_id > 0, "declare gauge");
    const double buckets[] = {5, 10, 20};
    hist_id = wbpf_histogram("wbpfe2e_seq", "Sequence numbers.", "", buckets, 3);
    CHECK(hist_id > 0, "declare histogram");
    const double bad[] = {5, 1};
    CHECK(wbpf_histogram("wbpfe2e_bad", "", "", bad, 2) == -EINVAL, "descending buckets");

    const char *one[] = {"x"};
    CHECK(wbpf_counter_add(events_id, 1, one, 1) == -EINVAL, "one value for two labels");
    CHECK(wbpf_counter_add(events_id, -1, (const char *[]){"a", "b"}, 2) == -EINVAL, "decrement");
    CHECK(wbpf_gauge_set(events_id, 1, (const char *[]){"a", "b"}, 2) == -EINVAL, "set a counter");
    CHECK(wbpf_counter_add(999, 1, NULL, 0) == -EBADF, "unknown id");
    CHECK(wbpf_metric_add(seq_id, (const char *)0x7fffffff, 100, 1) == -WBPF_EFAULT, "bad pointer");

    int capped = wbpf_counter("wbpfe2e_capped", "Label sets past the cap.", "n");
    CHECK(capped > 0, "declare capped");
    int refused = 0;
    for (int i = 0; i < 15; i++) {
        char n[8];
        snprintf(n, sizeof(n), "%d", i);
        const char *l[] = {n};
        int err = wbpf_counter_add(capped, 1, l, 1);
        if (err == -ENOSPC)
            refused++;
        else
            CHECK(err == 0, "add %d: %d", i, err);
    }
    printf("capped_refused=%d\n", refused);

    struct bpf_object *obj = bpf_object__open_mem(obj_bytes, sizeof(obj_bytes), NULL);
    CHECK(obj, "open");
    CHECK(wbpf_object__set_global(obj, "target_tgid", &tgid, sizeof(tgid)) == 0, "set .rodata");
    char tag[16] = "metrics-e2e";
    CHECK(wbpf_object__set_global(obj, "tag", tag, sizeof(tag)) == 0, "set .data");
    CHECK(bpf_object__load(obj) == 0, "load");
    struct bpf_program *prog = bpf_object__find_program_by_name(obj, "wbpfe2e_rb_prog");
    CHECK(prog && bpf_program__attach(prog), "attach");
    struct bpf_buffer *buf = bpf_buffer__new(bpf_object__find_map_by_name(obj, "wbpfe2e_rb"), NULL);
    CHECK(buf && bpf_buffer__open(buf, on_event, NULL, NULL) == 0, "buffer");
    printf("attached\n");
    while (received < want) {
        int n = bpf_buffer__poll(buf, 100);
        CHECK(n >= 0, "poll: %d", n);
    }
    printf("ready received=%d\n", received);
    for (;;) {
        int n = bpf_buffer__poll(buf, 100);
        if (n == -EINTR)
            break;
        CHECK(n >= 0, "poll: %d", n);
    }
    bpf_buffer__free(buf);
    bpf_object__close(obj);
    printf("done received=%d\n", received);
    return 0;
}
