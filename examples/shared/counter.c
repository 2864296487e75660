// counter: load counter.bpf.o, attach it, and share it: publish it to the other guests of the run
// and, with --pin, pin it under the --pin-dir grant for other processes. A wbpf C guest.
//
// usage: counter.wasm [-n NAME] [--pin] [-d SECONDS]
//   -n NAME   the name to publish (and pin) under (default "syscalls")
//   --pin     also pin the maps and the link: they outlive this guest until `wbpf unpin`
//   -d SECS   end after SECS seconds (default: run until Ctrl-C)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counter.skel.h"
#include "wbpf_share.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* nap sleeps one second; false if wbpf cut it short (the run was interrupted). */
static int nap(void)
{
    double start = now();
    struct timespec ts = {.tv_sec = 1};
    nanosleep(&ts, NULL);
    return now() - start >= 0.999;
}

int main(int argc, char **argv)
{
    const char *name = "syscalls";
    int pin = 0, secs = -1, err;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            name = argv[++i];
        else if (!strcmp(argv[i], "--pin"))
            pin = 1;
        else if (!strcmp(argv[i], "-d") && i + 1 < argc)
            secs = atoi(argv[++i]);
        else {
            fprintf(stderr, "Count system calls and share the counts.\n"
                            "usage: %s [-n NAME] [--pin] [-d SECONDS]\n", argv[0]);
            return 2;
        }
    }
    struct counter_bpf *skel = counter_bpf__open_and_load();
    if (!skel) {
        fprintf(stderr, "load BPF object: %s\n", strerror(errno));
        return 1;
    }
    if ((err = counter_bpf__attach(skel))) {
        fprintf(stderr, "attach: %s\n", strerror(-err));
        goto out;
    }
    /* Readers only read: no WBPF_SHARE_WRITABLE. */
    if ((err = wbpf_object__publish(skel->obj, name, 0))) {
        fprintf(stderr, "publish %s: %s\n", name, strerror(-err));
        goto out;
    }
    if (pin && (err = wbpf_object__pin(skel->obj, name, 0))) {
        fprintf(stderr, "pin %s: %s%s\n", name, strerror(-err),
                err == -EACCES ? " (run with --pin-dir DIR on a bpffs)" : "");
        goto out;
    }
    printf("counting system calls, published as %s%s\n", name, pin ? " and pinned" : "");
    for (int t = 0; secs < 0 || t < secs; t++)
        if (!nap())
            break; /* Ctrl-C */
    err = 0;
out:
    /* With readers still holding it, the object lives on until the last one closes it. */
    counter_bpf__destroy(skel);
    return err ? 1 : 0;
}
