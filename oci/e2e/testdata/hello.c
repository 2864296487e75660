// Guest of the OCI end-to-end test, pushed to a registry and run by reference: attaches a
// tracepoint on getppid for process TGID and prints a greeting for the first call it sees.
//
// usage: hello.wasm TGID
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wbpf.h"

static const unsigned char obj_bytes[] = {
#embed "hello.bpf.o"
};

struct event {
    unsigned int pid;
    char comm[16];
};

static int seen;

static int on_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;
    if (size < sizeof(*e) || seen++)
        return 0;
    printf("hello from the kernel: getppid by pid %u (%.16s)\n", e->pid, e->comm);
    return 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "hello: %s: %s\n", what, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: %s TGID\n", argv[0]);
        return 2;
    }
    unsigned int tgid = (unsigned int)strtoul(argv[1], NULL, 10);

    struct bpf_object *obj = bpf_object__open_mem(obj_bytes, sizeof(obj_bytes), NULL);
    if (!obj)
        return fail("open");
    if (wbpf_object__set_global(obj, "target_tgid", &tgid, sizeof(tgid)) != 0)
        return fail("set target_tgid");
    if (bpf_object__load(obj) != 0)
        return fail("load");
    struct bpf_program *prog = bpf_object__find_program_by_name(obj, "wbpfoci_hello");
    if (!prog || !bpf_program__attach(prog))
        return fail("attach");
    struct bpf_buffer *buf = bpf_buffer__new(bpf_object__find_map_by_name(obj, "wbpfoci_rb"), NULL);
    if (!buf || bpf_buffer__open(buf, on_event, NULL, NULL) != 0)
        return fail("ring buffer");
    printf("attached\n");
    for (int i = 0; i < 100 && !seen; i++)
        if (bpf_buffer__poll(buf, 100) < 0)
            return fail("poll");
    bpf_buffer__free(buf);
    bpf_object__close(obj);
    if (!seen) {
        fprintf(stderr, "hello: no getppid from pid %u within 10s\n", tgid);
        return 1;
    }
    return 0;
}
