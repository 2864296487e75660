// xdp: count the packets an interface receives, by IP protocol, with XDP; a wbpf C guest.
// Every INTERVAL seconds it prints the totals so far.
//
// usage: xdp.wasm IFACE [INTERVAL]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wbpf.h"
#include "xdp.h" /* struct stats, generated: wbpfgen header --type stats */

static const unsigned char bpf_obj[] = {
#embed <xdp.bpf.o>
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

int main(int argc, char **argv)
{
    struct bpf_object *obj;
    int err, interval = 1;

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear at once through a pipe */
    if (argc < 2 || argc > 3 || (argc == 3 && (interval = atoi(argv[2])) <= 0)) {
        fprintf(stderr, "Count packets received on IFACE by IP protocol (XDP).\n"
                        "usage: %s IFACE [INTERVAL]\n",
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
    /* An XDP program's target is the interface. */
    if (!wbpf_program__attach_target(bpf_object__find_program_by_name(obj, "xdp_count"),
                                     argv[1])) {
        err = -errno;
        fprintf(stderr, "attach to %s: %s\n", argv[1], strerror(errno));
        goto out;
    }
    int fd = bpf_object__find_map_fd_by_name(obj, "stats");
    if (fd < 0) {
        err = fd;
        fprintf(stderr, "map stats: %s\n", strerror(-err));
        goto out;
    }
    printf("Counting packets received on %s... Hit Ctrl-C to end.\n", argv[1]);
    for (;;) {
        sleep((unsigned int)interval); /* Ctrl-C: wbpf ends the guest and detaches */
        char ts[16];
        time_t t = time(NULL);
        strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
        printf("%-8s %-8s %10s %12s\n", ts, "PROTO", "PACKETS", "BYTES");
        for (unsigned int key = 0; key <= NON_IP; key++) {
            struct stats s;
            if ((err = bpf_map_lookup_elem(fd, &key, &s)) < 0) {
                fprintf(stderr, "lookup: %s\n", strerror(-err));
                goto out;
            }
            if (s.packets)
                printf("%-8s %-8s %10llu %12llu\n", "", proto_name(key), s.packets, s.bytes);
        }
    }
out:
    bpf_object__close(obj);
    return err ? 1 : 0;
}
