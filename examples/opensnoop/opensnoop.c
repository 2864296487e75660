// opensnoop: trace file opens (after libbpf-tools' opensnoop), a wbpf C guest.
//
// usage: opensnoop.wasm [-p PID] [-n NAME] [-x]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wbpf.h"
#include "opensnoop.h" /* struct event, generated: wbpfgen header --type event */

static const unsigned char bpf_obj[] = {
#embed <opensnoop.bpf.o>
};

static const char *name_filter;
static int failed_only;

static int handle_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;

    (void)ctx;
    if (size < sizeof(*e)) /* perf samples come padded to 8 bytes: size may be larger */
        return 0;
    if (name_filter && !strstr(e->comm, name_filter))
        return 0;
    if (failed_only && e->ret >= 0)
        return 0;
    int fd = e->ret >= 0 ? e->ret : -1, err = e->ret >= 0 ? 0 : -e->ret;
    printf("%-7d %-16.16s %3d %3d %.*s\n", e->pid, e->comm, fd, err, (int)sizeof(e->fname),
           e->fname);
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "Trace file opens (openat).\n"
            "usage: %s [-p PID] [-n NAME] [-x]\n"
            "  -p PID   only this process (filtered in the kernel)\n"
            "  -n NAME  only commands whose name contains NAME\n"
            "  -x       only failed opens\n",
            prog);
}

int main(int argc, char **argv)
{
    struct bpf_buffer *pb = NULL;
    struct bpf_object *obj;
    int opt, err, pid = 0;

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear at once through a pipe */
    while ((opt = getopt(argc, argv, "p:n:xh")) != -1) {
        switch (opt) {
        case 'p':
            pid = atoi(optarg);
            break;
        case 'n':
            name_filter = optarg;
            break;
        case 'x':
            failed_only = 1;
            break;
        default:
            usage(argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    obj = bpf_object__open_mem(bpf_obj, sizeof(bpf_obj), NULL);
    if (!obj) {
        fprintf(stderr, "open BPF object: %s\n", strerror(errno));
        return 1;
    }
    err = wbpf_object__set_global(obj, "target_pid", &pid, sizeof(pid));
    if (!err)
        err = bpf_object__load(obj);
    if (err) {
        fprintf(stderr, "load BPF object: %s\n", strerror(-err));
        goto out;
    }
    const char *progs[] = {"trace_enter", "trace_exit"};
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        if (!bpf_program__attach(bpf_object__find_program_by_name(obj, progs[i]))) {
            err = -errno;
            fprintf(stderr, "attach %s: %s\n", progs[i], strerror(errno));
            goto out;
        }
    }
    /* A perf event array: the same buffer API as a ring buffer. */
    pb = bpf_buffer__new(bpf_object__find_map_by_name(obj, "events"), NULL);
    if (!pb || (err = bpf_buffer__open(pb, handle_event, NULL, NULL))) {
        err = err ? err : -errno;
        fprintf(stderr, "perf buffer: %s\n", strerror(-err));
        goto out;
    }
    printf("%-7s %-16s %3s %3s %s\n", "PID", "COMM", "FD", "ERR", "PATH");
    while ((err = bpf_buffer__poll(pb, 100)) >= 0)
        ;
    if (err == -EINTR) /* Ctrl-C */
        err = 0;
    else
        fprintf(stderr, "poll: %s\n", strerror(-err));
out:
    bpf_buffer__free(pb);
    bpf_object__close(obj);
    return err ? 1 : 0;
}
