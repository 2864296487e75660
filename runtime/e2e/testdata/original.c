// Guest of TestOriginalGuests: written as the original wasm-bpf project's C examples are, on
// original.h (its header's raw imports), with their loops, their errno checks and their stdout
// left as wasi-libc sets it up (no setvbuf, no fflush). usage: original.wasm MODE
//   bootstrap  poll until -EINTR, then print a summary and return 0 (its bootstrap.c)
//   opensnoop  poll on, ignoring -EINTR, until stopped (its opensnoop.c: exiting never set)
//   runqlat    sleep(1) in a loop, printing a line each time, until stopped (its runqlat.c)
//   ret        main returns -1
//   errno      one line per host error a guest can provoke, compared with <errno.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "original.h"

static unsigned char events_obj[] = {
#embed "events.bpf.o"
};
static unsigned char maps_obj[] = {
#embed "maps.bpf.o"
};

static volatile int exiting; // set by a signal handler in the original; WASI has none

static int handle_event(void *ctx, void *data, size_t size)
{
    (void)ctx, (void)data, (void)size;
    return 0;
}

static uint64_t load_events(struct bpf_buffer *b)
{
    uint64_t obj = wasm_load_bpf_object(events_obj, sizeof(events_obj));
    if (!obj) {
        printf("load failed\n");
        exit(10);
    }
    int err = wasm_attach_bpf_program(obj, "wbpfe2e_rb_prog", "");
    if (err < 0) {
        printf("attach failed: %d\n", err);
        exit(11);
    }
    b->obj = obj;
    b->fd = wasm_bpf_map_fd_by_name(obj, "wbpfe2e_rb");
    b->fn = handle_event;
    b->ctx = NULL;
    printf("attached\n");
    return obj;
}

static int check(const char *what, int got, int want)
{
    printf("%s %s got %d want %d\n", got == want ? "ok" : "FAIL", what, got, want);
    return got == want;
}

static int errnos(void)
{
    int ok = 1;
    uint64_t obj = wasm_load_bpf_object(maps_obj, sizeof(maps_obj));
    if (!obj)
        return printf("load failed\n"), 10;
    int hash = wasm_bpf_map_fd_by_name(obj, "wbpfe2e_hash");
    int rb = wasm_bpf_map_fd_by_name(obj, "wbpfe2e_mrb");
    uint32_t key = 7;
    uint64_t value = 1;
    ok &= check("map_fd_by_name unknown map", wasm_bpf_map_fd_by_name(obj, "nope"), -ENOENT);
    ok &= check("map_fd_by_name bad handle", wasm_bpf_map_fd_by_name(obj + 1000, "wbpfe2e_hash"), -EBADF);
    ok &= check("attach unknown program", wasm_attach_bpf_program(obj, "nope", ""), -ENOENT);
    ok &= check("attach name out of bounds", wasm_attach_bpf_program(obj, (const char *)0xfffffff0, ""), -EFAULT);
    ok &= check("map_operate bad token", wasm_bpf_map_operate(12345, BPF_MAP_LOOKUP_ELEM, &key, &value, NULL, 0), -EBADF);
    ok &= check("map_operate bad command", wasm_bpf_map_operate(hash, 99, &key, &value, NULL, 0), -EINVAL);
    ok &= check("map_operate key out of bounds", wasm_bpf_map_operate(hash, BPF_MAP_LOOKUP_ELEM, (void *)0xfffffffe, &value, NULL, 0), -EFAULT);
    ok &= check("lookup missing key", wasm_bpf_map_operate(hash, BPF_MAP_LOOKUP_ELEM, &key, &value, NULL, 0), -ENOENT);
    ok &= check("update", wasm_bpf_map_operate(hash, BPF_MAP_UPDATE_ELEM, &key, &value, NULL, 0), 0);
    ok &= check("update NOEXIST existing (kernel EEXIST)", wasm_bpf_map_operate(hash, BPF_MAP_UPDATE_ELEM, &key, &value, NULL, BPF_NOEXIST), -EEXIST);
    ok &= check("update bad flags (kernel EINVAL)", wasm_bpf_map_operate(hash, BPF_MAP_UPDATE_ELEM, &key, &value, NULL, 99), -EINVAL);
    ok &= check("ring buffer lookup (kernel ENOTSUPP)", wasm_bpf_map_operate(rb, BPF_MAP_LOOKUP_ELEM, &key, &value, NULL, 0), -ENOTSUP);
    ok &= check("delete", wasm_bpf_map_operate(hash, BPF_MAP_DELETE_ELEM, &key, NULL, NULL, 0), 0);
    ok &= check("delete missing key (kernel ENOENT)", wasm_bpf_map_operate(hash, BPF_MAP_DELETE_ELEM, &key, NULL, NULL, 0), -ENOENT);
    struct bpf_buffer b = {obj, hash, handle_event, NULL};
    ok &= check("poll a hash map", bpf_buffer__poll(&b, 10), -EINVAL);
    b.fd = rb;
    b.fn = (bpf_buffer_sample_fn)12345;
    ok &= check("poll bad callback", bpf_buffer__poll(&b, 10), -EINVAL);
    wasm_close_bpf_object(obj);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return printf("usage: %s MODE\n", argv[0]), 2;
    const char *mode = argv[1];
    if (!strcmp(mode, "ret"))
        return -1;
    if (!strcmp(mode, "errno"))
        return errnos();

    if (!strcmp(mode, "runqlat")) {
        struct bpf_buffer b;
        load_events(&b);
        printf("Tracing run queue latency... Hit Ctrl-C to end.\n");
        for (int i = 0;; i++) {
            sleep(1);
            printf("tick %d\n", i);
        }
    }

    struct bpf_buffer b;
    uint64_t obj = load_events(&b);
    int err = 0;
    if (!strcmp(mode, "bootstrap")) {
        while (!exiting) {
            err = bpf_buffer__poll(&b, POLL_TIMEOUT_MS);
            if (err == -EINTR) { /* Ctrl-C will cause -EINTR */
                err = 0;
                break;
            }
            if (err < 0) {
                printf("Error polling perf buffer: %d\n", err);
                break;
            }
        }
        printf("summary: exiting cleanly\n");
    } else if (!strcmp(mode, "opensnoop")) {
        while (!exiting) {
            err = bpf_buffer__poll(&b, POLL_TIMEOUT_MS);
            if (err < 0 && err != -EINTR) {
                printf("error polling perf buffer: %s\n", strerror(-err));
                goto cleanup;
            }
            /* reset err to return 0 if exiting */
            err = 0;
        }
    }
cleanup:
    wasm_close_bpf_object(obj);
    return err < 0 ? -err : 0;
}
