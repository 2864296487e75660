/* A hostile guest for the sandbox tests (issue 17): it asks for what the default policy and
 * limits refuse and prints what the host answered, as NAME=VALUE (errnos negative, as the host
 * functions return them; handles as 1 for a loaded object and 0 for a refusal).
 *
 * usage: sandbox.wasm policy | storage | limits | e2big | reenter TGID | trap TGID DEPTH */
#include "wbpf.h"
#include "guest.h"

static const unsigned char tp_obj[] = {
#embed "sandbox_tp.bpf.o"
};
static const unsigned char sig_obj[] = {
#embed "sandbox_sig.bpf.o"
};
static const unsigned char net_obj[] = {
#embed "sandbox_net.bpf.o"
};
static const unsigned char sock_obj[] = {
#embed "sandbox_sock.bpf.o"
};
static const unsigned char store_obj[] = {
#embed "sandbox_store.bpf.o"
};
static const unsigned char big_obj[] = {
#embed "sandbox_big.bpf.o"
};

#define LOAD(bytes) wasm_load_bpf_object(bytes, sizeof(bytes))

/* load_tp loads sandbox_tp.bpf.o with target_tgid set, through the SDK (for .rodata). */
static struct bpf_object *load_tp(unsigned tgid)
{
    struct bpf_object *obj = bpf_object__open_mem(tp_obj, sizeof(tp_obj), NULL);
    CHECK(obj, "open");
    CHECK(wbpf_object__set_global(obj, "target_tgid", &tgid, sizeof(tgid)) == 0, "set .rodata");
    if (bpf_object__load(obj) != 0) {
        bpf_object__close(obj);
        return NULL;
    }
    return obj;
}

static void policy(void)
{
    printf("load_sendsig=%d\n", LOAD(sig_obj) != 0);
    uint64_t xdp = LOAD(net_obj);
    printf("load_xdp=%d\n", xdp != 0);
    if (xdp)
        printf("attach_xdp_lo=%d\n", wasm_attach_bpf_program(xdp, "wbpfsb_xdp", "lo"));
    uint64_t sock = LOAD(sock_obj);
    printf("load_sock=%d\n", sock != 0);
    printf("attach_sock_lo=%d\n", wasm_attach_bpf_program(sock, "wbpfsb_sock", "lo"));
    printf("attach_sock_none=%d\n", wasm_attach_bpf_program(sock, "wbpfsb_sock", "wbpf-no-such0"));
}

/* storage tries every element operation with the host's descriptors 0..14 as keys. */
static void storage(void)
{
    uint64_t obj = LOAD(store_obj);
    printf("load_store=%d\n", obj != 0);
    CHECK(obj, "load the storage maps");
    const char *maps[] = {"wbpfsb_sk", "wbpfsb_task", "wbpfsb_inode", "wbpfsb_cgrp"};
    for (int m = 0; m < 4; m++) {
        int fd = wasm_bpf_map_fd_by_name(obj, maps[m]);
        CHECK(fd > 0, "map %s", maps[m]);
        int other = 0, first = 0;
        for (int key = 0; key < 15; key++) {
            long value = 42;
            int rc[3] = {
                wasm_bpf_map_operate(fd, WBPF_CMD_MAP_UPDATE_ELEM, &key, &value, NULL, 0),
                wasm_bpf_map_operate(fd, WBPF_CMD_MAP_LOOKUP_ELEM, &key, &value, NULL, 0),
                wasm_bpf_map_operate(fd, WBPF_CMD_MAP_DELETE_ELEM, &key, NULL, NULL, 0),
            };
            if (key == 0)
                first = rc[0];
            for (int i = 0; i < 3; i++)
                if (rc[i] != first)
                    other++;
        }
        /* The errno is compared by the test: the host's numbers are not wasi-libc's. */
        printf("%s_errno=%d %s_other_answers=%d\n", maps[m] + 7, first, maps[m] + 7, other);
    }
}

/* Tracepoints to attach one program to: the kernel refuses the same program twice on one. */
static const char *syscalls[] = {
    "read", "write", "close", "newfstat", "lseek", "mmap", "mprotect", "munmap", "brk", "ioctl",
    "pread64", "pwrite64", "readv", "writev", "access", "pipe", "sched_yield", "mremap", "msync",
    "mincore", "madvise", "dup", "dup2", "nanosleep", "getpid", "socket", "connect", "accept",
};

static void limits(void)
{
    uint64_t objs[64];
    int n = 0;
    while (n < 64 && (objs[n] = LOAD(tp_obj)) != 0)
        n++;
    printf("objects=%d\n", n);
    for (int i = 1; i < n; i++)
        wasm_close_bpf_object(objs[i]);
    int attached = 0, rc = 0;
    for (int i = 0; i < 2 * (int)(sizeof syscalls / sizeof *syscalls) && rc == 0; i++) {
        char tp[64];
        snprintf(tp, sizeof tp, "syscalls/sys_%s_%s", i % 2 ? "exit" : "enter", syscalls[i / 2]);
        rc = wasm_attach_bpf_program(objs[0], "wbpfsb_enter", tp);
        if (rc == 0)
            attached++;
    }
    printf("attached=%d attach_err=%d\n", attached, rc);
    wasm_close_bpf_object(objs[0]);
    uint64_t big1 = LOAD(big_obj), big2 = LOAD(big_obj);
    printf("big1=%d big2=%d\n", big1 != 0, big2 != 0);
    wasm_close_bpf_object(big1);
    wasm_close_bpf_object(big2);
    printf("big_after_close=%d\n", LOAD(big_obj) != 0);
}

/* e2big attaches programs of fresh objects to raw_syscalls/sys_enter until the kernel says no
 * (it holds 64 programs per tracepoint). */
static void e2big(void)
{
    int attached = 0, rc = 0;
    while (attached < 200) {
        uint64_t obj = LOAD(tp_obj);
        CHECK(obj, "load %d", attached);
        if ((rc = wasm_attach_bpf_program(obj, "wbpfsb_enter", "")) != 0)
            break;
        attached++;
    }
    printf("attached=%d attach_err=%d\n", attached, rc);
}

static uint64_t handle;
static int token, inner;
static char data[64];

/* on_sample polls the very buffer it is being called from. */
static int on_sample(void *ctx, void *d, size_t size)
{
    inner = wasm_bpf_buffer_poll(handle, token, (int32_t)(uintptr_t)on_sample, 0, data, sizeof data, 0);
    return -1; /* one sample is enough */
}

static int on_plain(void *ctx, void *d, size_t size) { return 0; }

static void reenter(unsigned tgid)
{
    struct bpf_object *obj = load_tp(tgid);
    CHECK(obj, "load");
    CHECK(wasm_attach_bpf_program(obj->handle, "wbpfsb_enter", "") == 0, "attach");
    handle = obj->handle;
    token = wasm_bpf_map_fd_by_name(handle, "wbpfsb_rb");
    CHECK(token > 0, "map");
    int n = 0;
    for (int i = 0; i < 50 && n == 0; i++)
        n = wasm_bpf_buffer_poll(handle, token, (int32_t)(uintptr_t)on_sample, 0, data, sizeof data, 100);
    printf("outer=%d reenter=%d\n", n, inner);
    /* The buffer is free again once the outer poll returned. */
    n = 0;
    for (int i = 0; i < 50 && n == 0; i++)
        n = wasm_bpf_buffer_poll(handle, token, (int32_t)(uintptr_t)on_plain, 0, data, sizeof data, 100);
    printf("after=%d\n", n > 0);
}

/* trap nests polls through a chain of objects, each with its own ring buffer (the callback of
 * level k polls the buffer of object k+1), and traps at the last level. */
static uint64_t chain[64];
static int chain_tokens[64], chain_len;

static int on_chain(void *ctx, void *d, size_t size)
{
    int level = (int)(uintptr_t)ctx;
    if (level + 1 >= chain_len) {
        printf("trapping at depth=%d\n", level + 1);
        fflush(stdout);
        __builtin_trap();
    }
    int n = 0;
    for (int i = 0; i < 50 && n == 0; i++)
        n = wasm_bpf_buffer_poll(chain[level + 1], chain_tokens[level + 1], (int32_t)(uintptr_t)on_chain,
                                 (uint32_t)(level + 1), data, sizeof data, 100);
    printf("level %d: poll=%d\n", level + 1, n);
    return -1;
}

static void trap(unsigned tgid, int depth)
{
    CHECK(depth > 0 && depth <= 64, "depth %d", depth);
    for (chain_len = 0; chain_len < depth; chain_len++) {
        struct bpf_object *obj = load_tp(tgid);
        CHECK(obj, "load %d", chain_len);
        CHECK(wasm_attach_bpf_program(obj->handle, "wbpfsb_enter", "") == 0, "attach");
        chain[chain_len] = obj->handle;
        chain_tokens[chain_len] = wasm_bpf_map_fd_by_name(obj->handle, "wbpfsb_rb");
    }
    int n = 0;
    for (int i = 0; i < 50 && n == 0; i++)
        n = wasm_bpf_buffer_poll(chain[0], chain_tokens[0], (int32_t)(uintptr_t)on_chain, 0, data, sizeof data, 100);
    printf("not trapped: %d\n", n);
}

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc >= 2, "usage");
    unsigned tgid = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 0;
    if (strcmp(argv[1], "policy") == 0)
        policy();
    else if (strcmp(argv[1], "storage") == 0)
        storage();
    else if (strcmp(argv[1], "limits") == 0)
        limits();
    else if (strcmp(argv[1], "e2big") == 0)
        e2big();
    else if (strcmp(argv[1], "reenter") == 0)
        reenter(tgid);
    else if (strcmp(argv[1], "trap") == 0 && argc == 4)
        trap(tgid, atoi(argv[3]));
    else
        CHECK(0, "mode %s", argv[1]);
    printf("done\n");
    return 0;
}
