// Guest of TestBadInput: calls the host interface directly with bad pointers and lengths,
// garbage object bytes, unknown names, wrong handles and map tokens it does not own, and prints
// every result as NAME=VALUE. It exits 1 if a call that must fail succeeds; the test checks
// the exact errno values. At the end it shows that the runtime still works for it.
#include "wbpf.h"
#include "guest.h"

static const unsigned char obj_bytes[] = {
#embed "maps.bpf.o"
};

static int failures;

#define EXPECT_NEG(name, expr)                                                                  \
    do {                                                                                        \
        long long r_ = (long long)(expr);                                                       \
        printf("%s=%lld\n", name, r_);                                                          \
        if (r_ >= 0) {                                                                          \
            printf("SURPRISE %s succeeded\n", name);                                            \
            failures++;                                                                         \
        }                                                                                       \
    } while (0)

#define EXPECT_ZERO(name, expr)                                                                 \
    do {                                                                                        \
        long long r_ = (long long)(expr);                                                       \
        printf("%s=%lld\n", name, r_);                                                          \
        if (r_ != 0) {                                                                          \
            printf("SURPRISE %s not 0\n", name);                                                \
            failures++;                                                                         \
        }                                                                                       \
    } while (0)

static int on_sample(void *ctx, void *data, size_t size)
{
    (void)ctx;
    (void)data;
    (void)size;
    return 0;
}

int main(void)
{
    guest_init();
    uintptr_t memsize = __builtin_wasm_memory_size(0) * 65536;
    char *end = (char *)memsize;     /* one past the last byte of memory */
    char *oob = (char *)0xfffffff0u; /* far outside memory */
    char garbage[256];
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (char)(i * 7 + 3);
    unsigned int key = 1;
    unsigned long long value = 0;
    char data[64];
    int32_t cb = (int32_t)(uintptr_t)on_sample;

    /* Before this guest loads anything, no token and no handle is its own. */
    EXPECT_NEG("operate_token_0", wasm_bpf_map_operate(0, 1, &key, &value, NULL, 0));
    EXPECT_NEG("operate_token_1", wasm_bpf_map_operate(1, 1, &key, &value, NULL, 0));
    EXPECT_NEG("operate_token_2", wasm_bpf_map_operate(2, 1, &key, &value, NULL, 0));
    EXPECT_NEG("operate_token_1000", wasm_bpf_map_operate(1000, 1, &key, &value, NULL, 0));
    EXPECT_NEG("operate_token_neg", wasm_bpf_map_operate(-1, 1, &key, &value, NULL, 0));
    EXPECT_NEG("poll_no_object", wasm_bpf_buffer_poll(1, 0, cb, 0, data, sizeof(data), 10));
    EXPECT_NEG("attach_no_object", wasm_attach_bpf_program(1, "x", ""));
    EXPECT_NEG("fd_by_name_no_object", wasm_bpf_map_fd_by_name(1, "x"));
    EXPECT_ZERO("close_no_object", wasm_close_bpf_object(12345));

    /* Objects that cannot load. */
    EXPECT_ZERO("load_garbage", wasm_load_bpf_object(garbage, sizeof(garbage)));
    EXPECT_ZERO("load_truncated", wasm_load_bpf_object(obj_bytes, 200));
    EXPECT_ZERO("load_empty", wasm_load_bpf_object(obj_bytes, 0));
    EXPECT_ZERO("load_oob_ptr", wasm_load_bpf_object(oob, 100));
    EXPECT_ZERO("load_len_past_end", wasm_load_bpf_object(end - 100, 101));
    EXPECT_ZERO("load_negative_len", wasm_load_bpf_object(obj_bytes, -1));
    struct bpf_object *sdk = bpf_object__open_mem(garbage, sizeof(garbage), NULL);
    printf("sdk_open_garbage=%d\n", sdk ? 0 : -errno);
    if (sdk)
        failures++;

    uint64_t h = wasm_load_bpf_object(obj_bytes, sizeof(obj_bytes));
    printf("load_ok=%d\n", h != 0);
    CHECK(h != 0, "load maps.bpf.o");
    uint64_t wrong = h ^ 0x5a5a0000ull;

    /* Names and pointers. */
    EXPECT_NEG("attach_unknown_prog", wasm_attach_bpf_program(h, "no_such_prog", ""));
    EXPECT_NEG("attach_oob_name", wasm_attach_bpf_program(h, oob, ""));
    EXPECT_NEG("attach_oob_target", wasm_attach_bpf_program(h, "wbpfe2e_maps", oob));
    memcpy(end - 3, "abc", 3); /* a name that runs off the end of memory */
    EXPECT_NEG("attach_unterminated_name", wasm_attach_bpf_program(h, end - 3, ""));
    EXPECT_NEG("attach_wrong_handle", wasm_attach_bpf_program(wrong, "wbpfe2e_maps", ""));
    EXPECT_NEG("fd_by_name_unknown", wasm_bpf_map_fd_by_name(h, "no_such_map"));
    EXPECT_NEG("fd_by_name_oob", wasm_bpf_map_fd_by_name(h, oob));
    EXPECT_NEG("fd_by_name_wrong_handle", wasm_bpf_map_fd_by_name(wrong, "wbpfe2e_hash"));

    int fd = wasm_bpf_map_fd_by_name(h, "wbpfe2e_hash");
    printf("fd_ok=%d\n", fd >= 0);
    CHECK(fd >= 0, "fd of wbpfe2e_hash: %d", fd);
    EXPECT_NEG("operate_bad_cmd", wasm_bpf_map_operate(fd, 99, &key, &value, NULL, 0));
    EXPECT_NEG("operate_cmd_0", wasm_bpf_map_operate(fd, 0, &key, &value, NULL, 0));
    EXPECT_NEG("operate_oob_key", wasm_bpf_map_operate(fd, 1, oob, &value, NULL, 0));
    EXPECT_NEG("operate_key_past_end", wasm_bpf_map_operate(fd, 1, end - 2, &value, NULL, 0));
    EXPECT_NEG("operate_oob_value", wasm_bpf_map_operate(fd, 2, &key, oob, NULL, 0));
    EXPECT_NEG("operate_value_past_end", wasm_bpf_map_operate(fd, 2, &key, end - 4, NULL, 0));
    EXPECT_NEG("operate_oob_next_key", wasm_bpf_map_operate(fd, 4, NULL, NULL, oob, 0));
    EXPECT_NEG("operate_missing_key", wasm_bpf_map_operate(fd, 1, &key, &value, NULL, 0));
    EXPECT_NEG("operate_empty_iteration", wasm_bpf_map_operate(fd, 4, NULL, NULL, &key, 0));

    int rb = wasm_bpf_map_fd_by_name(h, "wbpfe2e_mrb");
    CHECK(rb >= 0, "fd of wbpfe2e_mrb: %d", rb);
    EXPECT_NEG("poll_not_a_buffer", wasm_bpf_buffer_poll(h, fd, cb, 0, data, sizeof(data), 10));
    EXPECT_NEG("poll_oob_data", wasm_bpf_buffer_poll(h, rb, cb, 0, oob, 64, 10));
    EXPECT_NEG("poll_data_past_end", wasm_bpf_buffer_poll(h, rb, cb, 0, end - 32, 64, 10));
    EXPECT_NEG("poll_wrong_handle", wasm_bpf_buffer_poll(wrong, rb, cb, 0, data, sizeof(data), 10));
    EXPECT_NEG("poll_foreign_token", wasm_bpf_buffer_poll(h, 1000, cb, 0, data, sizeof(data), 10));
    EXPECT_ZERO("close_wrong_handle", wasm_close_bpf_object(wrong));

    /* Still working: an update and a lookup through the same token. */
    value = 42;
    EXPECT_ZERO("update_after_errors", wasm_bpf_map_operate(fd, 2, &key, &value, NULL, 0));
    value = 0;
    EXPECT_ZERO("lookup_after_errors", wasm_bpf_map_operate(fd, 1, &key, &value, NULL, 0));
    printf("value_after_errors=%llu\n", value);
    if (value != 42)
        failures++;

    /* After close the token is no longer this guest's. */
    EXPECT_ZERO("close_ok", wasm_close_bpf_object(h));
    EXPECT_NEG("operate_after_close", wasm_bpf_map_operate(fd, 1, &key, &value, NULL, 0));
    EXPECT_NEG("fd_by_name_after_close", wasm_bpf_map_fd_by_name(h, "wbpfe2e_hash"));

    printf("failures=%d\n", failures);
    return failures ? 1 : 0;
}
