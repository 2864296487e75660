// tc: count the packets an interface receives, by IP protocol, in the tc ingress hook (tcx),
// and drop UDP and TCP packets to PORT with -d; a wbpf C guest.
// Every INTERVAL seconds it prints the totals so far.
//
// usage: tc.wasm [-d PORT] IFACE [INTERVAL]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wbpf.h"
#include "tc.h" /* struct stats, generated: wbpfgen header --type stats */

static const unsigned char bpf_obj[] = {
#embed <tc.bpf.o>
};

#define NON_IP 256

static const char *proto_name(unsigned int p)
{
    switch (p) {
    case 0:
        return "HOPOPT"; /* IPv6 hop-by-hop options: MLD reports, for one */
    case 1:
        return "ICMP";
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 58:
        return "ICMPv6";
    case NON_IP:
        return "non-IP";
    }
    static char buf[16];
    snprintf(buf, sizeof(buf), "proto-%u", p);
    return buf;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "Count packets received on IFACE by IP protocol (tc ingress), drop some on request.\n"
            "usage: %s [-d PORT] IFACE [INTERVAL]\n"
            "  -d PORT  drop IPv4 UDP and TCP packets to PORT\n",
            prog);
}

int main(int argc, char **argv)
{
    struct bpf_object *obj;
    unsigned short drop_port = 0;
    int opt, err, interval = 1;

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear at once through a pipe */
    while ((opt = getopt(argc, argv, "d:h")) != -1) {
        switch (opt) {
        case 'd':
            drop_port = (unsigned short)atoi(optarg);
            break;
        default:
            usage(argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (argc - optind < 1 || argc - optind > 2 ||
        (argc - optind == 2 && (interval = atoi(argv[optind + 1])) <= 0)) {
        usage(argv[0]);
        return 2;
    }
    const char *iface = argv[optind];
    obj = bpf_object__open_mem(bpf_obj, sizeof(bpf_obj), NULL);
    if (!obj) {
        fprintf(stderr, "open BPF object: %s\n", strerror(errno));
        return 1;
    }
    /* .rodata before load: with 0, the verifier removes the drop path. */
    if ((err = wbpf_object__set_global(obj, "drop_port", &drop_port, sizeof(drop_port))) ||
        (err = bpf_object__load(obj))) {
        fprintf(stderr, "load BPF object: %s\n", strerror(-err));
        goto out;
    }
    /* A tc program's target is the interface, ":egress" for the other direction; wbpf
     * attaches with tcx, which goes away with the guest. */
    if (!wbpf_program__attach_target(bpf_object__find_program_by_name(obj, "tc_count"), iface)) {
        err = -errno;
        fprintf(stderr, "attach to %s: %s\n", iface, strerror(errno));
        goto out;
    }
    int fd = bpf_object__find_map_fd_by_name(obj, "stats");
    if (fd < 0) {
        err = fd;
        fprintf(stderr, "map stats: %s\n", strerror(-err));
        goto out;
    }
    if (drop_port)
        printf("Counting packets received on %s, dropping port %u... Hit Ctrl-C to end.\n",
               iface, drop_port);
    else
        printf("Counting packets received on %s... Hit Ctrl-C to end.\n", iface);
    for (;;) {
        sleep((unsigned int)interval); /* Ctrl-C: wbpf ends the guest and detaches */
        char ts[16];
        time_t t = time(NULL);
        strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
        printf("%-8s %-8s %10s %12s %10s\n", ts, "PROTO", "PACKETS", "BYTES", "DROPPED");
        for (unsigned int key = 0; key <= NON_IP; key++) {
            struct stats s;
            if ((err = bpf_map_lookup_elem(fd, &key, &s)) < 0) {
                fprintf(stderr, "lookup: %s\n", strerror(-err));
                goto out;
            }
            if (s.packets)
                printf("%-8s %-8s %10llu %12llu %10llu\n", "", proto_name(key), s.packets,
                       s.bytes, s.dropped);
        }
    }
out:
    bpf_object__close(obj);
    return err ? 1 : 0;
}
