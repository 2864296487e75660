// Guest of TestCompatHeader: written against libbpf-wasm.h, the original wasm-bpf C SDK's
// interface, with a skeleton shaped like the ones its generator emits (written by hand here).
// It sets .rodata through the skeleton before load, attaches every program, and counts the
// ring buffer's events.
//
// usage: compat.wasm TGID N
#include "libbpf-wasm.h"
#include "guest.h"

static unsigned char obj_bytes[] = {
#embed "events.bpf.o"
};

struct events_bpf {
    struct bpf_object_skeleton *skeleton;
    struct {
        struct bpf_map *wbpfe2e_rb;
        struct bpf_map *wbpfe2e_pb;
        struct bpf_map *rodata;
    } maps;
    struct {
        struct bpf_program *wbpfe2e_rb_prog;
        struct bpf_program *wbpfe2e_pb_prog;
    } progs;
    struct events_bpf__rodata {
        unsigned int target_tgid;
    } *rodata;
};

static int events_bpf__create_skeleton(struct events_bpf *obj)
{
    struct bpf_object_skeleton *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    obj->skeleton = s;
    s->sz = sizeof(*s);
    s->name = "events_bpf";
    s->map_cnt = 3;
    s->map_skel_sz = sizeof(*s->maps);
    s->maps = calloc((size_t)s->map_cnt, (size_t)s->map_skel_sz);
    s->prog_cnt = 2;
    s->prog_skel_sz = sizeof(*s->progs);
    s->progs = calloc((size_t)s->prog_cnt, (size_t)s->prog_skel_sz);
    if (!s->maps || !s->progs)
        return -ENOMEM;
    s->maps[0].name = "wbpfe2e_rb";
    s->maps[0].map = &obj->maps.wbpfe2e_rb;
    s->maps[1].name = "wbpfe2e_pb";
    s->maps[1].map = &obj->maps.wbpfe2e_pb;
    s->maps[2].name = "events_b.rodata";
    s->maps[2].map = &obj->maps.rodata;
    s->maps[2].mmaped = (void **)&obj->rodata;
    s->progs[0].name = "wbpfe2e_rb_prog";
    s->progs[0].prog = &obj->progs.wbpfe2e_rb_prog;
    s->progs[1].name = "wbpfe2e_pb_prog";
    s->progs[1].prog = &obj->progs.wbpfe2e_pb_prog;
    s->data = obj_bytes;
    s->data_sz = sizeof(obj_bytes);
    return 0;
}

static int received;

static int handle_event(void *ctx, void *data, size_t size)
{
    (void)ctx;
    unsigned int pid;
    CHECK(size >= 48, "event size %zu", size);
    memcpy(&pid, data, sizeof(pid));
    received++;
    printf("event pid=%u\n", pid);
    return 0;
}

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc == 3, "usage: %s TGID N", argv[0]);
    unsigned int tgid = (unsigned int)strtoul(argv[1], NULL, 10);
    int want = atoi(argv[2]);

    struct events_bpf *skel = calloc(1, sizeof(*skel));
    CHECK(skel && events_bpf__create_skeleton(skel) == 0, "create skeleton");
    CHECK(bpf_object__open_skeleton(skel->skeleton, NULL) == 0, "open skeleton");
    CHECK(skel->rodata, "skeleton .rodata pointer");
    skel->rodata->target_tgid = tgid;
    CHECK(bpf_object__load_skeleton(skel->skeleton) == 0, "load skeleton");
    CHECK(bpf_object__attach_skeleton(skel->skeleton) == 0, "attach skeleton");

    struct bpf_buffer *rb = bpf_buffer__open(skel->maps.wbpfe2e_rb, handle_event, NULL);
    CHECK(rb, "buffer open");
    CHECK(bpf_buffer__poll(rb, 0) >= 0, "first poll");
    printf("attached\n");
    for (int i = 0; i < 100 && received < want; i++) {
        int err = bpf_buffer__poll(rb, 100);
        CHECK(err >= 0, "poll: %d", err);
    }
    printf("received=%d\n", received);
    CHECK(received == want, "received %d, want %d", received, want);

    int fd = bpf_map__fd(skel->maps.wbpfe2e_rb);
    unsigned int key = 0, next;
    int err = bpf_map_get_next_key(fd, NULL, &next);
    printf("ringbuf_next_key=%d\n", err);
    CHECK(err < 0, "get_next_key on a ring buffer succeeded");
    (void)key;
    /* The original runtime (libbpf) knew .rodata by libbpf's name "<obj>.rodata" too. */
    printf("rodata_fd_by_libbpf_name=%d\n", bpf_map__fd(skel->maps.rodata));

    bpf_buffer__free(rb);
    bpf_object__destroy_skeleton(skel->skeleton);
    free(skel);
    printf("closed\n");
    return 0;
}
