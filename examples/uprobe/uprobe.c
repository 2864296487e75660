// uprobe: trace calls of a function in a program, with arguments and result, a wbpf C guest.
// The binary's path is the guest's, inside a directory granted with wbpf run --dir.
//
// usage: uprobe.wasm BINARY [FUNCTION]   (FUNCTION defaults to uprobed_add, which takes two
// ints and returns one, as in target.c)
#include <stdio.h>
#include <string.h>

#include "wbpf.h"
#include "uprobe.h" /* struct call, generated: wbpfgen header --type call */

static const unsigned char bpf_obj[] = {
#embed <uprobe.bpf.o>
};

static const char *func = "uprobed_add";

static int handle_call(void *ctx, void *data, size_t size)
{
    const struct call *c = data;

    (void)ctx;
    if (size < sizeof(*c))
        return 0;
    printf("%-7d %-16.16s %s(%lld, %lld) = %lld\n", c->pid, c->comm, func, c->a, c->b, c->ret);
    return 0;
}

int main(int argc, char **argv)
{
    struct bpf_buffer *rb = NULL;
    struct bpf_object *obj;
    char target[512];
    int err;

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear at once through a pipe */
    if (argc < 2 || argc > 3) {
        fprintf(stderr,
                "Trace calls of FUNCTION in BINARY, with arguments and result.\n"
                "usage: %s BINARY [FUNCTION]  (BINARY inside a directory granted with --dir)\n",
                argv[0]);
        return 2;
    }
    if (argc == 3)
        func = argv[2];
    snprintf(target, sizeof(target), "%s:%s", argv[1], func);

    obj = bpf_object__open_mem(bpf_obj, sizeof(bpf_obj), NULL);
    if (!obj) {
        fprintf(stderr, "open BPF object: %s\n", strerror(errno));
        return 1;
    }
    if ((err = bpf_object__load(obj))) {
        fprintf(stderr, "load BPF object: %s\n", strerror(-err));
        goto out;
    }
    const char *progs[] = {"uprobe_enter", "uprobe_return"};
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        /* The section says uprobe or uretprobe; the target says where. */
        if (!wbpf_program__attach_target(bpf_object__find_program_by_name(obj, progs[i]),
                                         target)) {
            err = -errno;
            fprintf(stderr, "attach %s to %s: %s\n", progs[i], target, strerror(errno));
            goto out;
        }
    }
    rb = bpf_buffer__new(bpf_object__find_map_by_name(obj, "calls"), NULL);
    if (!rb || (err = bpf_buffer__open(rb, handle_call, NULL, NULL))) {
        err = err ? err : -errno;
        fprintf(stderr, "ring buffer: %s\n", strerror(-err));
        goto out;
    }
    printf("Tracing %s... Hit Ctrl-C to end.\n", target);
    printf("%-7s %-16s %s\n", "PID", "COMM", "CALL");
    while ((err = bpf_buffer__poll(rb, 100)) >= 0)
        ;
    if (err == -EINTR) /* Ctrl-C */
        err = 0;
    else
        fprintf(stderr, "poll: %s\n", strerror(-err));
out:
    bpf_buffer__free(rb);
    bpf_object__close(obj);
    return err ? 1 : 0;
}
