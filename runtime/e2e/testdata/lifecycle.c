// Guest of TestNoLeaks: loads events.bpf.o, attaches both programs, opens both buffers, prints
// "attached", then ends as told:
//   close  closes the object and returns 0
//   exit   calls exit(3) with everything still attached
//   trap   traps (unreachable) with everything still attached
//   wait   polls until a poll is interrupted (-EINTR), then prints "interrupted" and exits 5
//   cbexit TGID, cbtrap TGID
//          poll for getppid calls of TGID; the first sample's callback calls exit(4), or traps
#include "wbpf.h"
#include "guest.h"

static const unsigned char obj_bytes[] = {
#embed "events.bpf.o"
};

static int in_callback; // 1: exit(4) in the callback, 2: trap there

static int on_event(void *ctx, void *data, size_t size)
{
    (void)ctx;
    (void)data;
    (void)size;
    if (in_callback == 1)
        exit(4);
    if (in_callback == 2)
        __builtin_trap();
    return 0;
}

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc >= 2, "usage: %s close|exit|trap|wait|cbexit TGID|cbtrap TGID", argv[0]);
    const char *mode = argv[1];

    struct bpf_object *obj = bpf_object__open_mem(obj_bytes, sizeof(obj_bytes), NULL);
    CHECK(obj, "open");
    if (strcmp(mode, "cbexit") == 0 || strcmp(mode, "cbtrap") == 0) {
        CHECK(argc == 3, "%s TGID", mode);
        unsigned int tgid = (unsigned int)strtoul(argv[2], NULL, 10);
        CHECK(wbpf_object__set_global(obj, "target_tgid", &tgid, sizeof(tgid)) == 0, "set .rodata");
        in_callback = strcmp(mode, "cbexit") == 0 ? 1 : 2;
    }
    CHECK(bpf_object__load(obj) == 0, "load");
    const char *progs[] = {"wbpfe2e_rb_prog", "wbpfe2e_pb_prog"};
    const char *maps[] = {"wbpfe2e_rb", "wbpfe2e_pb"};
    struct bpf_buffer *bufs[2];
    for (int i = 0; i < 2; i++) {
        struct bpf_program *p = bpf_object__find_program_by_name(obj, progs[i]);
        CHECK(p && bpf_program__attach(p), "attach %s", progs[i]);
        bufs[i] = bpf_buffer__new(bpf_object__find_map_by_name(obj, maps[i]), NULL);
        CHECK(bufs[i] && bpf_buffer__open(bufs[i], on_event, NULL, NULL) == 0, "buffer %s", maps[i]);
    }
    printf("attached\n");

    if (strcmp(mode, "close") == 0) {
        bpf_object__close(obj);
        printf("closed\n");
        return 0;
    }
    if (strcmp(mode, "exit") == 0)
        exit(3);
    if (strcmp(mode, "trap") == 0)
        __builtin_trap();

    for (;;) {
        int n = bpf_buffer__poll(bufs[0], 100);
        if (n == -EINTR) {
            printf("interrupted\n");
            return 5;
        }
        CHECK(n >= 0, "poll: %d", n);
    }
}
