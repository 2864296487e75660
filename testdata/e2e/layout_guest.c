/* C guest of the layout end-to-end test (btfgen/e2e): uses the skeleton and header that
 * `wbpfgen skeleton layout.bpf.o` generates, sets .rodata through skel->rodata before load,
 * prints every field of every struct lay_event it receives, then the .bss counter.
 *
 * usage: layout.wasm TGID MAGIC N */
#include "layout.skel.h"

#define CHECK(cond, what)                                                                       \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            printf("FAIL %s (errno %d: %s)\n", what, errno, strerror(errno));                   \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

static int received;

static int on_event(void *ctx, void *data, size_t size)
{
    const struct lay_event *e = data;
    (void)ctx;
    if (size < sizeof(*e)) {
        printf("FAIL short event: %zu bytes, want %zu\n", size, sizeof(*e));
        return -1;
    }
    received++;
    printf("event u32a=%u u64b=%llu name=%s s8=%d s16=%d ptr=%llu lng=%lld", e->u32a,
           (unsigned long long)e->u64b, e->name, e->s8, e->s16, (unsigned long long)e->ptr,
           (long long)e->lng);
    printf(" bf1=%u bf2=%u bf3=%d bf4=%llu", (unsigned)e->bf1, (unsigned)e->bf2, (int)e->bf3,
           (unsigned long long)e->bf4);
    printf(" ux=%u ub0=%u ub5=%u anon_u64=%llu anon_u16=%u", e->un.ux, e->un.ub[0], e->un.ub[5],
           (unsigned long long)e->anon_u64, e->anon_u16);
    printf(" n1=%u n2=%u inner_a=%u inner_b=%u inner_c=%u inners0_a=%u inners1_c=%u",
           e->nested_anon.n1, e->nested_anon.n2, e->inner.a, e->inner.b, e->inner.c,
           e->inners[0].a, e->inners[1].c);
    printf(" color=%u small=%u flag=%d pk_a=%u pk_b=%llu neg=%lld rodata_echo=%llu seq=%llu\n",
           (unsigned)e->color, (unsigned)e->small, (int)e->flag, e->pk.a,
           (unsigned long long)e->pk.b, (long long)e->neg, (unsigned long long)e->rodata_echo,
           (unsigned long long)e->seq);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK(argc == 4, "usage: layout.wasm TGID MAGIC N");
    int want = atoi(argv[3]);

    struct layout_bpf *skel = layout_bpf__open();
    CHECK(skel, "open");
    skel->rodata->target_tgid = (unsigned)strtoul(argv[1], NULL, 10);
    skel->rodata->magic = strtoull(argv[2], NULL, 10);
    CHECK(layout_bpf__load(skel) == 0, "load");
    CHECK(layout_bpf__attach(skel) == 0, "attach");

    struct bpf_buffer *buf = bpf_buffer__new(skel->maps.lay_events, NULL);
    CHECK(buf, "buffer");
    CHECK(bpf_buffer__open(buf, on_event, NULL, NULL) == 0, "buffer open");
    printf("attached\n");
    for (int i = 0; i < 100 && received < want; i++)
        CHECK(bpf_buffer__poll(buf, 100) >= 0, "poll");

    CHECK(layout_bpf__bss_read(skel) == 0, "read .bss");
    printf("hits=%llu\n", (unsigned long long)skel->bss->hits);
    printf("received=%d\n", received);
    bpf_buffer__free(buf);
    layout_bpf__destroy(skel);
    return received == want ? 0 : 1;
}
