// sockfilter: print the protocol, addresses and ports of the IPv4 packets on an interface,
// reported by a socket filter (after libbpf-bootstrap's sockfilter); a wbpf C guest.
//
// usage: sockfilter.wasm IFACE
#include <stdio.h>
#include <string.h>

#include "wbpf.h"
#include "sockfilter.h" /* struct so_event, generated: wbpfgen header --type so_event */

static const unsigned char bpf_obj[] = {
#embed <sockfilter.bpf.o>
};

static const char *proto_name(unsigned int p)
{
    static char buf[16];
    switch (p) {
    case 1:
        return "ICMP";
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    }
    snprintf(buf, sizeof(buf), "proto-%u", p);
    return buf;
}

static const char *pkt_type_name(unsigned int t)
{
    /* <linux/if_packet.h> PACKET_*: the direction of the packet as the socket saw it. */
    static const char *names[] = {"in", "broadcast", "multicast", "otherhost", "out"};
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* addr formats an IPv4 address held in network byte order. */
static const char *addr(unsigned int a, char *buf, size_t size)
{
    const unsigned char *b = (const unsigned char *)&a;
    snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return buf;
}

static int handle_event(void *ctx, void *data, size_t size)
{
    const struct so_event *e = data;
    char src[16], dst[16];

    (void)ctx;
    if (size < sizeof(*e))
        return 0;
    addr(e->src_addr, src, sizeof(src));
    addr(e->dst_addr, dst, sizeof(dst));
    if (e->src_port || e->dst_port)
        printf("%-9s %-4s %s:%u -> %s:%u len=%u\n", pkt_type_name(e->pkt_type),
               proto_name(e->ip_proto), src, e->src_port, dst, e->dst_port, e->len);
    else
        printf("%-9s %-4s %s -> %s len=%u\n", pkt_type_name(e->pkt_type),
               proto_name(e->ip_proto), src, dst, e->len);
    return 0;
}

int main(int argc, char **argv)
{
    struct bpf_buffer *rb = NULL;
    struct bpf_object *obj;
    int err;

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear at once through a pipe */
    if (argc != 2) {
        fprintf(stderr, "Print protocol and ports of IPv4 packets on IFACE (socket filter).\n"
                        "usage: %s IFACE\n",
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
    /* A guest cannot open a packet socket: for a socket filter, the target is an interface
     * and wbpf opens an AF_PACKET socket bound to it, with the filter attached. */
    if (!wbpf_program__attach_target(bpf_object__find_program_by_name(obj, "socket_handler"),
                                     argv[1])) {
        err = -errno;
        fprintf(stderr, "attach to %s: %s\n", argv[1], strerror(errno));
        goto out;
    }
    rb = bpf_buffer__new(bpf_object__find_map_by_name(obj, "rb"), NULL);
    if (!rb || (err = bpf_buffer__open(rb, handle_event, NULL, NULL))) {
        err = err ? err : -errno;
        fprintf(stderr, "ring buffer: %s\n", strerror(-err));
        goto out;
    }
    printf("Watching IPv4 packets on %s... Hit Ctrl-C to end.\n", argv[1]);
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
