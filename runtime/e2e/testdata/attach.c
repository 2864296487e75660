// Guest of TestAttach: loads the object chosen at build time (-DOBJ_ATTACH, -DOBJ_FENTRY or
// -DOBJ_LSM) with target_tgid set, attaches the programs named on the command line, prints
// "attached", waits for a line on stdin (the test triggers the events meanwhile), then prints
// every hits_* counter of .bss.
//
// usage: attach.wasm TGID PROG...
#include "wbpf.h"
#include "guest.h"

static const unsigned char obj_bytes[] = {
#if defined(OBJ_ATTACH)
#embed "attach.bpf.o"
#elif defined(OBJ_FENTRY)
#embed "fentry.bpf.o"
#elif defined(OBJ_LSM)
#embed "lsm.bpf.o"
#else
#error "build with -DOBJ_ATTACH, -DOBJ_FENTRY or -DOBJ_LSM"
#endif
};

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc >= 3, "usage: %s TGID PROG...", argv[0]);
    unsigned int tgid = (unsigned int)strtoul(argv[1], NULL, 10);

    struct bpf_object *obj = bpf_object__open_mem(obj_bytes, sizeof(obj_bytes), NULL);
    CHECK(obj, "open");
    CHECK(wbpf_object__set_global(obj, "target_tgid", &tgid, sizeof(tgid)) == 0, "set .rodata");
    CHECK(bpf_object__load(obj) == 0, "load");
    int failed = 0;
    for (int i = 2; i < argc; i++) {
        struct bpf_program *p = bpf_object__find_program_by_name(obj, argv[i]);
        CHECK(p, "find program %s", argv[i]);
        struct bpf_link *l = bpf_program__attach(p);
        printf("attach %s=%d\n", argv[i], l ? 0 : -errno);
        failed |= !l;
    }
    CHECK(!failed, "attach");
    printf("attached\n");

    char line[16];
    CHECK(fgets(line, sizeof(line), stdin), "read stdin");

    const char *vars[] = {"hits_rawtp", "hits_kprobe", "hits_ksyscall", "hits_fentry", "hits_lsm"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        unsigned long long v;
        if (wbpf_object__get_global(obj, vars[i], &v, sizeof(v)) == 0)
            printf("%s=%llu\n", vars[i], v);
    }
    bpf_object__close(obj);
    printf("closed\n");
    return 0;
}
