// Guest of TestSetAutoload, on the skeleton wbpfgen generates for autoload.bpf.o: switches
// wbpfe2e_al_off off and resizes wbpfe2e_al_hash before load, attaches with the skeleton, then
// waits until the test's N getppid calls were counted and prints both counters.
//
// usage: autoload.wasm TGID N
#include <time.h>

#include "autoload.skel.h"
#include "guest.h"

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc == 3, "usage: %s TGID N", argv[0]);
    struct autoload_bpf *skel = autoload_bpf__open();
    CHECK(skel, "open");
    skel->rodata->target_tgid = (unsigned)strtoul(argv[1], NULL, 10);
    int want = atoi(argv[2]);

    CHECK(bpf_program__set_autoload(skel->progs.wbpfe2e_al_off, false) == 0, "set_autoload");
    CHECK(!bpf_program__autoload(skel->progs.wbpfe2e_al_off), "autoload still on");
    CHECK(bpf_map__set_max_entries(skel->maps.wbpfe2e_al_hash, 77) == 0, "set_max_entries");
    CHECK(autoload_bpf__load(skel) == 0, "load");
    CHECK(bpf_program__set_autoload(skel->progs.wbpfe2e_al_on, false) == -EBUSY, "set_autoload after load");
    CHECK(autoload_bpf__attach(skel) == 0, "attach");
    CHECK(skel->links.wbpfe2e_al_on && !skel->links.wbpfe2e_al_off, "links %p %p",
          (void *)skel->links.wbpfe2e_al_on, (void *)skel->links.wbpfe2e_al_off);
    CHECK(!bpf_program__attach(skel->progs.wbpfe2e_al_off) && errno == ENOENT,
          "a program switched off attached");
    printf("attached\n");

    int fd = bpf_map__fd(skel->maps.wbpfe2e_al_cnt);
    CHECK(fd >= 0, "map fd");
    unsigned long long on = 0, off = 0;
    for (int i = 0; i < 200 && (int)on < want; i++) {
        unsigned key = 0;
        CHECK(bpf_map_lookup_elem(fd, &key, &on) == 0, "lookup");
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    unsigned key = 1;
    CHECK(bpf_map_lookup_elem(fd, &key, &off) == 0, "lookup");
    printf("on=%llu off=%llu\n", on, off);
    autoload_bpf__destroy(skel);
    printf("closed\n");
    return 0;
}
