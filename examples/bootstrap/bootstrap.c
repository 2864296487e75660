// bootstrap: trace process exec and exit (after libbpf-bootstrap), a wbpf C guest.
//
// usage: bootstrap.wasm [-d MIN_DURATION_MS]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wbpf.h"
#include "bootstrap.h" /* struct event as BTF lays it out: wbpfgen header --type event */

static const unsigned char bpf_obj[] = {
#embed <bootstrap.bpf.o>
};

static int handle_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;
    char ts[16];
    time_t t = time(NULL);

    (void)ctx;
    if (size < sizeof(*e))
        return 0;
    strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
    if (e->exit_event) {
        printf("%-8s %-5s %-16.16s %-7d %-7d [%u]", ts, "EXIT", e->comm, e->pid, e->ppid,
               e->exit_code);
        if (e->duration_ns)
            printf(" (%llums)", e->duration_ns / 1000000);
        printf("\n");
    } else {
        printf("%-8s %-5s %-16.16s %-7d %-7d %.127s\n", ts, "EXEC", e->comm, e->pid, e->ppid,
               e->filename);
    }
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "Trace process exec and exit, with how long each process lived.\n"
            "usage: %s [-d MIN_DURATION_MS]\n"
            "  -d MS  only processes that lived at least MS milliseconds (hides execs)\n",
            prog);
}

int main(int argc, char **argv)
{
    unsigned long long min_duration_ns = 0;
    struct bpf_object *obj;
    struct bpf_buffer *rb;
    int opt, err;

    setvbuf(stdout, NULL, _IOLBF, 0); /* events appear at once through a pipe */
    while ((opt = getopt(argc, argv, "d:h")) != -1) {
        switch (opt) {
        case 'd':
            min_duration_ns = strtoull(optarg, NULL, 10) * 1000000ULL;
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
    /* .rodata is set before load: the verifier then sees it as a constant. */
    err = wbpf_object__set_global(obj, "min_duration_ns", &min_duration_ns,
                                  sizeof(min_duration_ns));
    if (!err)
        err = bpf_object__load(obj);
    if (err) {
        fprintf(stderr, "load BPF object: %s\n", strerror(-err));
        goto out;
    }
    const char *progs[] = {"handle_exec", "handle_exit"};
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        if (!bpf_program__attach(bpf_object__find_program_by_name(obj, progs[i]))) {
            err = -errno;
            fprintf(stderr, "attach %s: %s\n", progs[i], strerror(errno));
            goto out;
        }
    }
    rb = bpf_buffer__new(bpf_object__find_map_by_name(obj, "rb"), NULL);
    if (!rb || (err = bpf_buffer__open(rb, handle_event, NULL, NULL))) {
        err = err ? err : -errno;
        fprintf(stderr, "ring buffer: %s\n", strerror(-err));
        goto out;
    }

    printf("%-8s %-5s %-16s %-7s %-7s %s\n", "TIME", "EVENT", "COMM", "PID", "PPID",
           "FILENAME/EXIT CODE");
    while ((err = bpf_buffer__poll(rb, 100)) >= 0)
        ;
    if (err == -EINTR) /* Ctrl-C */
        err = 0;
    else
        fprintf(stderr, "poll: %s\n", strerror(-err));
    bpf_buffer__free(rb);
out:
    bpf_object__close(obj);
    return err ? 1 : 0;
}
