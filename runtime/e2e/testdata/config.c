// Guest of TestConfigKernel (config_test.go), on the skeleton wbpfgen generates for
// config.bpf.o. First the bad input: raw wbpf_config calls on an opened handle, each result
// printed as bad_CASE=ERRNO (positive; the test compares them with runtime/abi), and through
// the skeleton a map switched off that a program still uses (skel_used_off=ERRNO). Then the
// real run: retargets wbpfe2e_cf_btf to sys_enter, retypes wbpfe2e_cf_typed (tc) to SOCKET_FILTER,
// resizes wbpfe2e_cf_vs (value_size 24, max_entries 99), switches wbpfe2e_cf_off off with its
// one user, loads, attaches, prints "attached" and waits for the test's N getppid calls.
//
// usage: config.wasm TGID NR_GETPPID N
#include <time.h>

#include "config.skel.h"
#include "guest.h"

#define BAD(name, call) printf("bad_%s=%d\n", name, -(call))

static void bad_input(void)
{
    size_t sz;
    const void *elf = config_bpf__elf_bytes(&sz);
    uint64_t h = wbpf_open_bpf_object(elf, (int)sz);
    CHECK(h, "wbpf_open_bpf_object");
    /* tp_btf may be refused by the kernel: this part is about the setters, not about it. */
    CHECK(wbpf_program_set_autoload(h, "wbpfe2e_cf_btf", 0) == 0, "autoload off");
    CHECK(wbpf_program_set_autoload(h, "wbpfe2e_cf_typed", 0) == 0, "autoload off"); /* sched_cls */
    BAD("unknown_map", wbpf_map_set_value_size(h, "no_such_map", 8));
    BAD("unknown_prog", wbpf_program_set_type(h, "no_such_prog", 3));
    BAD("unknown_autocreate", wbpf_map_set_autocreate(h, "no_such_map", 0));
    BAD("value_size_0", wbpf_map_set_value_size(h, "wbpfe2e_cf_vs", 0));
    BAD("resize_rodata", wbpf_map_set_value_size(h, ".rodata", 64));
    BAD("type_0", wbpf_program_set_type(h, "wbpfe2e_cf_typed", 0));
    BAD("type_1000", wbpf_program_set_type(h, "wbpfe2e_cf_typed", 1000));
    BAD("empty_target", wbpf_program_set_attach_target(h, "wbpfe2e_cf_btf", ""));
    BAD("bad_handle", wbpf_map_set_autocreate(h + 1000, "wbpfe2e_cf_off", 0));
    CHECK(wbpf_map_set_autocreate(h, "wbpfe2e_cf_off", 0) == 0, "autocreate off");
    BAD("used_off", wbpf_load_bpf_object(h));
    CHECK(wbpf_program_set_autoload(h, "wbpfe2e_cf_offuser", 0) == 0, "autoload off");
    BAD("load", wbpf_load_bpf_object(h));
    BAD("after_load", wbpf_map_set_value_size(h, "wbpfe2e_cf_vs", 16));
    BAD("load_again", wbpf_load_bpf_object(h));
    wasm_close_bpf_object(h);

    struct config_bpf *skel = config_bpf__open();
    CHECK(skel, "open");
    CHECK(bpf_program__set_autoload(skel->progs.wbpfe2e_cf_btf, false) == 0, "autoload off");
    CHECK(bpf_program__set_autoload(skel->progs.wbpfe2e_cf_typed, false) == 0, "autoload off");
    CHECK(bpf_map__set_autocreate(skel->maps.wbpfe2e_cf_off, false) == 0, "autocreate off");
    printf("skel_used_off=%d\n", -config_bpf__load(skel));
    config_bpf__destroy(skel);
}

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc == 4, "usage: %s TGID NR_GETPPID N", argv[0]);
    bad_input();

    struct config_bpf *skel = config_bpf__open();
    CHECK(skel, "open");
    skel->rodata->target_tgid = (unsigned)strtoul(argv[1], NULL, 10);
    skel->rodata->nr_getppid = strtoull(argv[2], NULL, 10);
    unsigned long long want = strtoull(argv[3], NULL, 10);

    CHECK(bpf_program__set_attach_target(skel->progs.wbpfe2e_cf_btf, 0, "sys_enter") == 0, "set_attach_target");
    CHECK(bpf_program__set_type(skel->progs.wbpfe2e_cf_typed, BPF_PROG_TYPE_SOCKET_FILTER) == 0, "set_type");
    CHECK(bpf_map__set_value_size(skel->maps.wbpfe2e_cf_vs, 24) == 0, "set_value_size");
    CHECK(bpf_map__set_max_entries(skel->maps.wbpfe2e_cf_vs, 99) == 0, "set_max_entries");
    CHECK(bpf_map__set_autocreate(skel->maps.wbpfe2e_cf_off, false) == 0, "set_autocreate");
    CHECK(!bpf_map__autocreate(skel->maps.wbpfe2e_cf_off), "autocreate still on");
    CHECK(bpf_program__set_autoload(skel->progs.wbpfe2e_cf_offuser, false) == 0, "set_autoload");
    int err = config_bpf__load(skel);
    CHECK(err == 0, "load: %d", err);

    /* The map switched off has no token: -ENOENT, for the skeleton's field and by name. */
    printf("off_fd=%d\n", -bpf_map__fd(skel->maps.wbpfe2e_cf_off));
    printf("off_find_fd=%d\n", -bpf_object__find_map_fd_by_name(skel->obj, "wbpfe2e_cf_off"));

    /* The resized map takes 24-byte values. */
    int vs = bpf_map__fd(skel->maps.wbpfe2e_cf_vs);
    CHECK(vs >= 0, "wbpfe2e_cf_vs fd");
    unsigned key = 7;
    unsigned char in[24], out[24] = {0};
    for (int i = 0; i < 24; i++)
        in[i] = (unsigned char)(i + 1);
    CHECK(bpf_map_update_elem(vs, &key, in, BPF_ANY) == 0, "update 24 bytes");
    CHECK(bpf_map_lookup_elem(vs, &key, out) == 0 && memcmp(in, out, 24) == 0, "lookup 24 bytes");

    err = config_bpf__attach(skel);
    CHECK(err == 0, "attach: %d", err);
    CHECK(skel->links.wbpfe2e_cf_btf && !skel->links.wbpfe2e_cf_offuser, "links");
    printf("attached\n");

    int cnt = bpf_map__fd(skel->maps.wbpfe2e_cf_cnt);
    CHECK(cnt >= 0, "wbpfe2e_cf_cnt fd");
    unsigned long long n = 0;
    for (int i = 0; i < 200 && n < want; i++) {
        unsigned zero = 0;
        CHECK(bpf_map_lookup_elem(cnt, &zero, &n) == 0, "lookup");
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("btf=%llu\n", n);
    config_bpf__destroy(skel);
    printf("closed\n");
    return 0;
}
