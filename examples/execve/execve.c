// execve: print every execve(2) with its arguments (after libbpf-tools' execsnoop), a wbpf C guest.
//
// usage: execve.wasm
#include <stdio.h>
#include <string.h>

#include "wbpf.h"
#include "execve.h" /* struct event, generated: wbpfgen header --type event */

static const unsigned char bpf_obj[] = {
#embed <execve.bpf.o>
};

/* print_arg prints one argument, in double quotes (with \" and \\ escaped) if the shell would
 * split or expand it. */
static void print_arg(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (n && strcspn(s, " \t\n'\"\\$*?;&|<>()`") >= n) {
        printf(" %.*s", (int)n, s);
        return;
    }
    printf(" \"");
    for (size_t i = 0; i < n; i++)
        printf(s[i] == '"' || s[i] == '\\' ? "\\%c" : "%c", s[i]);
    printf("\"");
}

static int handle_event(void *ctx, void *data, size_t size)
{
    const struct event *e = data;

    (void)ctx;
    if (size < sizeof(*e))
        return 0;
    printf("%-7d %-7d %-16.16s %.*s", e->pid, e->ppid, e->comm, (int)sizeof(e->filename),
           e->filename);
    for (int i = 1; i < e->argc && i < (int)(sizeof(e->argv) / sizeof(e->argv[0])); i++)
        print_arg(e->argv[i], sizeof(e->argv[i]));
    printf("%s\n", e->more ? " ..." : "");
    return 0;
}

int main(int argc, char **argv)
{
    struct bpf_buffer *rb = NULL;
    struct bpf_object *obj;
    int err;

    (void)argv;
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear at once through a pipe */
    if (argc > 1) {
        fprintf(stderr, "Print every execve(2) with its arguments.\nusage: %s\n", argv[0]);
        return 2;
    }
    obj = bpf_object__open_mem(bpf_obj, sizeof(bpf_obj), NULL);
    if (!obj) {
        fprintf(stderr, "open BPF object: %s\n", strerror(errno));
        return 1;
    }
    if ((err = bpf_object__load(obj))) {
        fprintf(stderr, "load BPF object: %s\n", strerror(-err));
        goto out;
    }
    if (!bpf_program__attach(bpf_object__find_program_by_name(obj, "trace_execve"))) {
        err = -errno;
        fprintf(stderr, "attach: %s\n", strerror(errno));
        goto out;
    }
    rb = bpf_buffer__new(bpf_object__find_map_by_name(obj, "events"), NULL);
    if (!rb || (err = bpf_buffer__open(rb, handle_event, NULL, NULL))) {
        err = err ? err : -errno;
        fprintf(stderr, "ring buffer: %s\n", strerror(-err));
        goto out;
    }
    printf("%-7s %-7s %-16s %s\n", "PID", "PPID", "COMM", "ARGS");
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
