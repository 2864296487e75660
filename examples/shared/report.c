// report: print the system-call counts another guest counts, every second, without loading
// anything: the object comes from a guest of the same run (wbpf_object__open_shared) or from pins
// of another process (--pinned). A wbpf C guest.
//
// usage: report.wasm [-n NAME] [--pinned] [--unpin] [-c COUNT] [-t TOP]
//   -n NAME    the publication or pin to read (default "syscalls")
//   --pinned   open the pins under the --pin-dir grant instead of a guest of this run
//   --unpin    remove the pins when done (with --pinned)
//   -c COUNT   print COUNT reports, then end (default: until Ctrl-C)
//   -t TOP     list the TOP busiest syscalls (default 5)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wbpf.h"
#include "wbpf_share.h"

#define MAX_NR 1024

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int nap(void)
{
    double start = now();
    struct timespec ts = {.tv_sec = 1};
    nanosleep(&ts, NULL);
    return now() - start >= 0.999;
}

struct count {
    uint32_t nr;
    uint64_t n;
};

static int by_count(const void *a, const void *b)
{
    const struct count *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : (int)x->nr - (int)y->nr;
}

/* report prints the total and the top syscalls; -errno on a failed read. */
static int report(int counts_fd, int bss_fd, int top)
{
    static struct count all[MAX_NR];
    uint64_t total = 0;
    uint32_t zero = 0, key, next;
    int n = 0, err;

    if ((err = bpf_map_lookup_elem(bss_fd, &zero, &total)))
        return err;
    for (err = bpf_map_get_next_key(counts_fd, NULL, &next); !err && n < MAX_NR;
         err = bpf_map_get_next_key(counts_fd, &key, &next)) {
        key = next;
        if (bpf_map_lookup_elem(counts_fd, &key, &all[n].n) == 0)
            all[n++].nr = key;
    }
    if (err && err != -ENOENT)
        return err;
    qsort(all, n, sizeof(all[0]), by_count);
    time_t t = time(NULL);
    char when[16];
    strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
    printf("%s total=%llu syscalls=%d\n", when, (unsigned long long)total, n);
    for (int i = 0; i < n && i < top; i++)
        printf("  nr=%u count=%llu\n", all[i].nr, (unsigned long long)all[i].n);
    return 0;
}

int main(int argc, char **argv)
{
    const char *name = "syscalls";
    int pinned = 0, unpin = 0, count = -1, top = 5, err = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            name = argv[++i];
        else if (!strcmp(argv[i], "--pinned"))
            pinned = 1;
        else if (!strcmp(argv[i], "--unpin"))
            unpin = 1;
        else if (!strcmp(argv[i], "-c") && i + 1 < argc)
            count = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            top = atoi(argv[++i]);
        else {
            fprintf(stderr, "Print the system-call counts another guest shares.\n"
                            "usage: %s [-n NAME] [--pinned] [--unpin] [-c COUNT] [-t TOP]\n",
                    argv[0]);
            return 2;
        }
    }
    /* The guests of one run start together: wait up to 10 s for the publication. */
    struct bpf_object *obj = pinned ? wbpf_object__open_pinned(name, 0)
                                    : wbpf_object__open_shared(name, 0, 10000);
    if (!obj) {
        fprintf(stderr, "open %s %s: %s%s\n", pinned ? "pinned" : "shared", name, strerror(errno),
                errno == EACCES && pinned ? " (run with --pin-dir DIR)" : "");
        return 1;
    }
    int counts_fd = bpf_object__find_map_fd_by_name(obj, "counts");
    int bss_fd = bpf_object__find_map_fd_by_name(obj, ".bss");
    if (counts_fd < 0 || bss_fd < 0) {
        fprintf(stderr, "open %s: no counts or .bss map: %s\n", name, strerror(errno));
        err = 1;
        goto out;
    }
    for (int i = 0; count < 0 || i < count; i++) {
        int interrupted = !nap();
        if ((err = report(counts_fd, bss_fd, top))) {
            fprintf(stderr, "read counts: %s\n", strerror(-err));
            err = 1;
            goto out;
        }
        if (interrupted)
            break;
    }
out:
    bpf_object__close(obj);
    if (unpin && pinned && wbpf_unpin(name)) {
        fprintf(stderr, "unpin %s: %s\n", name, strerror(errno));
        err = 1;
    }
    return err;
}
