// lsm: deny rmdir of directories named NAME, anywhere, and report each attempt, with a BPF LSM
// program; a wbpf C guest.
//
// usage: lsm.wasm NAME
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wbpf.h"
#include "lsm.h" /* struct denial, generated: wbpfgen header --type denial */

static const unsigned char bpf_obj[] = {
#embed <lsm.bpf.o>
};

static int handle_denial(void *ctx, void *data, size_t size)
{
    const struct denial *d = data;
    char ts[16];
    time_t t = time(NULL);

    (void)ctx;
    if (size < sizeof(*d))
        return 0;
    strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
    printf("%s denied rmdir of %.*s by %.16s (pid %d)\n", ts, (int)sizeof(d->name), d->name,
           d->comm, d->pid);
    return 0;
}

int main(int argc, char **argv)
{
    struct bpf_buffer *rb = NULL;
    struct bpf_object *obj;
    char name[64] = {};
    int err;

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear at once through a pipe */
    if (argc != 2 || !argv[1][0] || strlen(argv[1]) >= sizeof(name) || strchr(argv[1], '/')) {
        fprintf(stderr, "Deny rmdir of directories named NAME (BPF LSM).\n"
                        "usage: %s NAME  (a file name, not a path; at most 63 bytes)\n",
                argv[0]);
        return 2;
    }
    strcpy(name, argv[1]);
    obj = bpf_object__open_mem(bpf_obj, sizeof(bpf_obj), NULL);
    if (!obj) {
        fprintf(stderr, "open BPF object: %s\n", strerror(errno));
        return 1;
    }
    if ((err = wbpf_object__set_global(obj, "dir_name", name, sizeof(name))) ||
        (err = bpf_object__load(obj))) {
        /* A kernel without BPF LSM refuses the load; wbpf printed its reason above. */
        fprintf(stderr, "load BPF object: %s\n", strerror(-err));
        goto out;
    }
    if (!bpf_program__attach(bpf_object__find_program_by_name(obj, "deny_rmdir"))) {
        err = -errno;
        fprintf(stderr, "attach: %s\n", strerror(errno));
        goto out;
    }
    rb = bpf_buffer__new(bpf_object__find_map_by_name(obj, "denials"), NULL);
    if (!rb || (err = bpf_buffer__open(rb, handle_denial, NULL, NULL))) {
        err = err ? err : -errno;
        fprintf(stderr, "ring buffer: %s\n", strerror(-err));
        goto out;
    }
    printf("Denying rmdir of directories named %s... Hit Ctrl-C to end.\n", name);
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
