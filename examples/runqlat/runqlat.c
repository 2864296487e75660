// runqlat: summarize run queue (scheduler) latency as a log2 histogram (after libbpf-tools'
// runqlat), a wbpf C guest. Every interval it reads the histograms from the map hists, prints
// them and deletes them, so each table covers one interval.
//
// usage: runqlat.wasm [-m] [-P] [-p PID] [INTERVAL [COUNT]]
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wbpf.h"
#include "runqlat.h" /* struct hist, generated: wbpfgen header --type hist */

static const unsigned char bpf_obj[] = {
#embed <runqlat.bpf.o>
};

#define MAX_SLOTS (sizeof(((struct hist *)0)->slots) / sizeof(unsigned int))

static void print_stars(unsigned int val, unsigned int val_max, int width)
{
    int num_stars = (int)((unsigned long long)(val < val_max ? val : val_max) * width / val_max);
    for (int i = 0; i < width; i++)
        putchar(i < num_stars ? '*' : ' ');
    if (val > val_max)
        putchar('+');
}

/* print_log2_hist prints the table of libbpf-tools' trace_helpers.c. */
static void print_log2_hist(const unsigned int *vals, int vals_size, const char *val_type)
{
    int idx_max = -1;
    unsigned int val_max = 0;

    for (int i = 0; i < vals_size; i++) {
        if (vals[i] > 0)
            idx_max = i;
        if (vals[i] > val_max)
            val_max = vals[i];
    }
    if (idx_max < 0)
        return;
    printf("%*s%-*s : count    distribution\n", 5, "", 19, val_type);
    for (int i = 0; i <= idx_max; i++) {
        unsigned long long low = (1ULL << (i + 1)) >> 1, high = (1ULL << (i + 1)) - 1;
        if (low == high)
            low -= 1;
        printf("%*llu -> %-*llu : %-8u |", 10, low, 10, high, vals[i]);
        print_stars(vals[i], val_max, 40);
        printf("|\n");
    }
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "Summarize run queue (scheduler) latency as a histogram.\n"
            "usage: %s [-m] [-P] [-p PID] [INTERVAL [COUNT]]\n"
            "  -m      milliseconds instead of microseconds\n"
            "  -P      one histogram per process\n"
            "  -p PID  only this process\n"
            "examples:\n"
            "  runqlat          summarize until Ctrl-C, every 99999999 seconds\n"
            "  runqlat 1 10     print 1 second summaries, 10 times\n",
            prog);
}

int main(int argc, char **argv)
{
    bool ms = false, per_process = false;
    int tgid = 0, opt, err;
    long interval = 99999999, count = 99999999;
    struct bpf_object *obj;

    setvbuf(stdout, NULL, _IOLBF, 0); /* tables appear at once through a pipe */
    while ((opt = getopt(argc, argv, "mPp:h")) != -1) {
        switch (opt) {
        case 'm':
            ms = true;
            break;
        case 'P':
            per_process = true;
            break;
        case 'p':
            tgid = atoi(optarg);
            break;
        default:
            usage(argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind < argc)
        interval = strtol(argv[optind++], NULL, 10);
    if (optind < argc)
        count = strtol(argv[optind++], NULL, 10);
    if (optind < argc || interval <= 0 || count <= 0) {
        usage(argv[0]);
        return 2;
    }

    obj = bpf_object__open_mem(bpf_obj, sizeof(bpf_obj), NULL);
    if (!obj) {
        fprintf(stderr, "open BPF object: %s\n", strerror(errno));
        return 1;
    }
    /* .rodata, before load: the verifier drops the branches these switch off. */
    if ((err = wbpf_object__set_global(obj, "targ_ms", &ms, sizeof(ms))) ||
        (err = wbpf_object__set_global(obj, "targ_per_process", &per_process,
                                       sizeof(per_process))) ||
        (err = wbpf_object__set_global(obj, "targ_tgid", &tgid, sizeof(tgid))) ||
        (err = bpf_object__load(obj))) {
        fprintf(stderr, "load BPF object: %s\n", strerror(-err));
        goto out;
    }
    const char *progs[] = {"handle_sched_wakeup", "handle_sched_wakeup_new",
                           "handle_sched_switch"};
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        if (!bpf_program__attach(bpf_object__find_program_by_name(obj, progs[i]))) {
            err = -errno;
            fprintf(stderr, "attach %s: %s\n", progs[i], strerror(errno));
            goto out;
        }
    }
    int fd = bpf_object__find_map_fd_by_name(obj, "hists");
    if (fd < 0) {
        err = fd;
        fprintf(stderr, "map hists: %s\n", strerror(-err));
        goto out;
    }

    printf("Tracing run queue latency... Hit Ctrl-C to end.\n");
    while (count-- > 0) {
        sleep((unsigned int)interval); /* returns early on Ctrl-C; wbpf then ends the guest */
        printf("\n");

        unsigned int key, next;
        struct hist hist;
        const unsigned int *prev = NULL;
        while (bpf_map_get_next_key(fd, prev, &next) == 0) {
            if ((err = bpf_map_lookup_elem(fd, &next, &hist)) < 0) {
                fprintf(stderr, "lookup: %s\n", strerror(-err));
                goto out;
            }
            if (per_process)
                printf("\npid = %u %.16s\n", next, hist.comm);
            print_log2_hist(hist.slots, (int)MAX_SLOTS, ms ? "msecs" : "usecs");
            key = next;
            prev = &key;
        }
        /* Clear: each table covers one interval. Always delete the first key, until none. */
        while (bpf_map_get_next_key(fd, NULL, &next) == 0)
            if ((err = bpf_map_delete_elem(fd, &next)) < 0 && err != -ENOENT) {
                fprintf(stderr, "delete: %s\n", strerror(-err));
                goto out;
            }
        err = 0;
    }
out:
    bpf_object__close(obj);
    return err ? 1 : 0;
}
