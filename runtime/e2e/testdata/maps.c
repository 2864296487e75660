// Guest of TestMaps: update, lookup, iterate from a NULL key, delete on a hash map and an
// array; per-CPU array and hash values written per CPU and checked by their sums.
//
// usage: maps.wasm NCPUS|sysfs   (the host's number of possible CPUs, or read it from a granted
// /sys/devices/system/cpu)
#include "wbpf.h"
#include "guest.h"

static const unsigned char obj_bytes[] = {
#embed "maps.bpf.o"
};

struct pair {
    unsigned int a;
    unsigned int b;
    unsigned long long c;
};

static int map_fd(struct bpf_object *obj, const char *name)
{
    struct bpf_map *m = bpf_object__find_map_by_name(obj, name);
    CHECK(m, "find map %s", name);
    int fd = bpf_map__fd(m);
    CHECK(fd >= 0, "map fd %s: %d", name, fd);
    return fd;
}

static void test_hash(int fd)
{
    for (unsigned int k = 1; k <= 5; k++) {
        unsigned long long v = k * 100ULL;
        CHECK(bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST) == 0, "update %u", k);
    }
    unsigned int k = 3;
    unsigned long long v = 0;
    CHECK(bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST) == -EEXIST, "NOEXIST on existing key");
    CHECK(bpf_map_lookup_elem(fd, &k, &v) == 0 && v == 300, "lookup 3: %llu", v);

    /* Iterate from the first key (NULL) to -ENOENT. */
    unsigned int cur, next, seen = 0, n = 0;
    int err;
    const void *prev = NULL;
    while ((err = bpf_map_get_next_key(fd, prev, &next)) == 0) {
        CHECK(next >= 1 && next <= 5 && !(seen & (1u << next)), "iterated key %u", next);
        seen |= 1u << next;
        n++;
        cur = next;
        prev = &cur;
    }
    printf("hash_iter_end=%d\n", err);
    CHECK(err == -ENOENT && errno == ENOENT, "end of iteration: %d", err);
    printf("hash_keys=%u\n", n);
    CHECK(n == 5, "iterated %u keys", n);

    k = 2;
    CHECK(bpf_map_delete_elem(fd, &k) == 0, "delete 2");
    err = bpf_map_lookup_elem(fd, &k, &v);
    printf("hash_lookup_deleted=%d\n", err);
    CHECK(err == -ENOENT, "lookup deleted: %d", err);
    err = bpf_map_delete_elem(fd, &k);
    CHECK(err == -ENOENT, "delete deleted: %d", err);
    n = 0;
    for (prev = NULL; bpf_map_get_next_key(fd, prev, &next) == 0; prev = &cur, cur = next)
        n++;
    printf("hash_keys_after_delete=%u\n", n);
    CHECK(n == 4, "keys after delete: %u", n);
}

static void test_array(int fd)
{
    for (unsigned int k = 0; k < 8; k++) {
        struct pair p = {k, k * 2, k * 1000ULL};
        CHECK(bpf_map_update_elem(fd, &k, &p, BPF_ANY) == 0, "array update %u", k);
    }
    unsigned int k = 8;
    struct pair p = {0};
    int err = bpf_map_update_elem(fd, &k, &p, BPF_ANY);
    CHECK(err == -E2BIG, "update past max_entries: %d", err);
    err = bpf_map_lookup_elem(fd, &k, &p);
    CHECK(err == -ENOENT, "lookup past max_entries: %d", err);
    k = 5;
    CHECK(bpf_map_lookup_elem(fd, &k, &p) == 0 && p.a == 5 && p.b == 10 && p.c == 5000,
          "array lookup 5: %u %u %llu", p.a, p.b, p.c);
    unsigned long long sum = 0;
    unsigned int cur, next, n = 0;
    const void *prev = NULL;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        CHECK(next == n, "array key %u at step %u", next, n);
        CHECK(bpf_map_lookup_elem(fd, &next, &p) == 0, "lookup %u", next);
        sum += p.c;
        n++;
        cur = next;
        prev = &cur;
    }
    printf("array_keys=%u array_sum=%llu\n", n, sum);
    CHECK(n == 8 && sum == 28000, "array iteration");
    err = bpf_map_delete_elem(fd, &k);
    printf("array_delete=%d\n", err);
    CHECK(err == -EINVAL, "array delete: %d", err);
}

static void test_percpu_array(int fd, int ncpus)
{
    size_t vsz = wbpf_percpu_value_size(sizeof(unsigned long long), ncpus);
    unsigned long long *v = calloc(1, vsz);
    CHECK(v, "calloc");
    for (unsigned int k = 0; k < 4; k++) {
        for (int c = 0; c < ncpus; c++)
            v[c] = (k + 1) * 10ULL + (unsigned long long)c;
        CHECK(bpf_map_update_elem(fd, &k, v, BPF_ANY) == 0, "percpu array update %u", k);
    }
    for (unsigned int k = 0; k < 4; k++) {
        memset(v, 0, vsz);
        CHECK(bpf_map_lookup_elem(fd, &k, v) == 0, "percpu array lookup %u", k);
        unsigned long long sum = 0, want = 0;
        for (int c = 0; c < ncpus; c++) {
            sum += v[c];
            want += (k + 1) * 10ULL + (unsigned long long)c;
        }
        printf("percpu_array key=%u sum=%llu\n", k, sum);
        CHECK(sum == want, "percpu array sum %llu, want %llu", sum, want);
    }
    free(v);
}

static void test_percpu_hash(int fd, int ncpus)
{
    /* value_size 4: every CPU's slot is 8 bytes, the value in its first 4. */
    size_t vsz = wbpf_percpu_value_size(sizeof(unsigned int), ncpus);
    CHECK(vsz == 8u * (size_t)ncpus, "percpu value size %zu", vsz);
    unsigned char *v = calloc(1, vsz);
    CHECK(v, "calloc");
    unsigned int k = 7;
    for (int c = 0; c < ncpus; c++) {
        unsigned int x = 1000u + (unsigned int)c;
        memcpy(v + 8 * c, &x, sizeof(x));
    }
    CHECK(bpf_map_update_elem(fd, &k, v, BPF_ANY) == 0, "percpu hash update");
    memset(v, 0xff, vsz);
    CHECK(bpf_map_lookup_elem(fd, &k, v) == 0, "percpu hash lookup");
    unsigned long long sum = 0, want = 0;
    for (int c = 0; c < ncpus; c++) {
        unsigned int x;
        memcpy(&x, v + 8 * c, sizeof(x));
        sum += x;
        want += 1000u + (unsigned int)c;
    }
    printf("percpu_hash sum=%llu\n", sum);
    CHECK(sum == want, "percpu hash sum %llu, want %llu", sum, want);
    unsigned int next;
    CHECK(bpf_map_get_next_key(fd, NULL, &next) == 0 && next == 7, "percpu hash first key");
    CHECK(bpf_map_get_next_key(fd, &next, &next) == -ENOENT, "percpu hash end");
    CHECK(bpf_map_delete_elem(fd, &k) == 0, "percpu hash delete");
    CHECK(bpf_map_get_next_key(fd, NULL, &next) == -ENOENT, "percpu hash empty");
    free(v);
}

int main(int argc, char **argv)
{
    guest_init();
    CHECK(argc == 2, "usage: %s NCPUS|sysfs", argv[0]);
    int ncpus;
    if (strcmp(argv[1], "sysfs") == 0) {
        /* The user granted /sys/devices/system/cpu: the SDK reads "possible" there. */
        ncpus = libbpf_num_possible_cpus();
        printf("possible_cpus=%d\n", ncpus);
    } else {
        ncpus = atoi(argv[1]);
        wbpf_set_num_possible_cpus(ncpus);
        CHECK(libbpf_num_possible_cpus() == ncpus, "possible cpus");
    }
    CHECK(ncpus > 0, "ncpus %d", ncpus);

    struct bpf_object *obj = bpf_object__open_mem(obj_bytes, sizeof(obj_bytes), NULL);
    CHECK(obj, "open");
    CHECK(bpf_object__find_map_by_name(obj, "wbpfe2e_hash"), "find map before load");
    CHECK(bpf_map__fd(bpf_object__find_map_by_name(obj, "wbpfe2e_hash")) == -EINVAL,
          "fd before load");
    CHECK(!bpf_object__find_map_by_name(obj, "no_such_map") && errno == ENOENT, "unknown map");
    CHECK(!bpf_object__find_program_by_name(obj, "no_such_prog") && errno == ENOENT,
          "unknown program");
    CHECK(bpf_object__load(obj) == 0, "load");

    test_hash(map_fd(obj, "wbpfe2e_hash"));
    printf("hash ok\n");
    test_array(map_fd(obj, "wbpfe2e_array"));
    printf("array ok\n");
    test_percpu_array(map_fd(obj, "wbpfe2e_pcpu_a"), ncpus);
    printf("percpu array ok\n");
    test_percpu_hash(map_fd(obj, "wbpfe2e_pcpu_h"), ncpus);
    printf("percpu hash ok\n");

    /* A ring buffer holds no elements. */
    int rb = map_fd(obj, "wbpfe2e_mrb");
    unsigned int k = 0;
    unsigned long long v;
    int err = bpf_map_lookup_elem(rb, &k, &v);
    printf("ringbuf_lookup=%d\n", err);
    CHECK(err < 0, "lookup in a ring buffer succeeded");

    bpf_object__close(obj);
    printf("closed\n");
    return 0;
}
