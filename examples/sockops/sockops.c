// sockops: print the TCP connections of the processes in a cgroup v2 as they are established
// and closed, from a sockops program; a wbpf C guest.
//
// usage: sockops.wasm CGROUP_DIR   (inside a directory granted with wbpf run --dir)
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wbpf.h"
#include "sockops.h" /* struct conn, generated: wbpfgen header --type conn */

static const unsigned char bpf_obj[] = {
#embed <sockops.bpf.o>
};

/* addr formats an IPv4 address (network byte order) and a port. */
static const char *addr(unsigned int a, unsigned short port, char *buf, size_t size)
{
    const unsigned char *b = (const unsigned char *)&a;
    snprintf(buf, size, "%u.%u.%u.%u:%u", b[0], b[1], b[2], b[3], port);
    return buf;
}

static int handle_conn(void *ctx, void *data, size_t size)
{
    const struct conn *c = data;
    char local[24], remote[24], ts[16];
    time_t t = time(NULL);

    (void)ctx;
    if (size < sizeof(*c))
        return 0;
    strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
    addr(c->local_ip4, c->local_port, local, sizeof(local));
    addr(c->remote_ip4, c->remote_port, remote, sizeof(remote));
    switch (c->event) {
    case 1:
        printf("%-8s %-8s %-21s -> %s\n", ts, "CONNECT", local, remote);
        break;
    case 2:
        printf("%-8s %-8s %-21s <- %s\n", ts, "ACCEPT", local, remote);
        break;
    case 3:
        printf("%-8s %-8s %-21s -- %s sent=%llu received=%llu srtt=%uus\n", ts, "CLOSE", local,
               remote, c->bytes_acked, c->bytes_received, c->srtt_us);
        break;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bpf_buffer *rb = NULL;
    struct bpf_object *obj;
    int err;

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear at once through a pipe */
    if (argc != 2) {
        fprintf(stderr,
                "Print the TCP connections of the processes in a cgroup v2.\n"
                "usage: %s CGROUP_DIR  (inside a directory granted with wbpf run --dir)\n",
                argv[0]);
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
    /* A cgroup program's target is a cgroup v2 directory, which wbpf resolves only inside
     * the directories the user granted. */
    if (!wbpf_program__attach_target(bpf_object__find_program_by_name(obj, "sockops_conn"),
                                     argv[1])) {
        err = -errno;
        fprintf(stderr, "attach to cgroup %s: %s\n", argv[1], strerror(errno));
        goto out;
    }
    rb = bpf_buffer__new(bpf_object__find_map_by_name(obj, "conns"), NULL);
    if (!rb || (err = bpf_buffer__open(rb, handle_conn, NULL, NULL))) {
        err = err ? err : -errno;
        fprintf(stderr, "ring buffer: %s\n", strerror(-err));
        goto out;
    }
    printf("Tracing TCP connections in cgroup %s... Hit Ctrl-C to end.\n", argv[1]);
    printf("%-8s %-8s %-21s    %s\n", "TIME", "EVENT", "LOCAL", "REMOTE");
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
