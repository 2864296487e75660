/* wbpf_metrics.h: Prometheus metrics from a C guest, through wbpf's wbpf_metrics import module
 * (served by `wbpf run --metrics ADDR` at http://ADDR/metrics).
 *
 *     int opens = wbpf_counter("opens", "File opens by process and result", "comm,ret");
 *     const char *labels[] = {e->comm, ret_str};
 *     wbpf_counter_add(opens, 1, labels, 2);
 *
 *     int lat = wbpf_histogram("runq_latency_usecs", "Run queue latency", "", buckets, n);
 *     wbpf_histogram_observe(lat, usecs, 1, NULL, 0);
 *
 * Declaring returns a metric id (> 0) or a negative errno; the same declaration again returns
 * the same id. Updates return 0 or a negative errno (errno set): -EINVAL for the wrong number
 * of label values or kind of metric, -ENOSPC for a new label set beyond the metric's cap (the
 * update is dropped and counted; wbpf says so once). A counter's name gets _total if it lacks
 * it. Without --metrics every call still succeeds, so a guest runs the same either way. The
 * original wasm-bpf runtime has no such module: a guest that uses it runs under wbpf only.
 */
#ifndef WBPF_METRICS_H
#define WBPF_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wbpf_core.h"

/* ==== BEGIN ABI TABLE (keep in step with the runtime's ABI table, runtime/abi/metrics.go) ==== */

#define WBPF_METRICS_IMPORT_MODULE "wbpf_metrics"

#define WBPF_METRICS_IMPORT(name)                                                               \
    __attribute__((import_module(WBPF_METRICS_IMPORT_MODULE), import_name(name)))

#define WBPF_METRIC_COUNTER 1
#define WBPF_METRIC_GAUGE 2
#define WBPF_METRIC_HISTOGRAM 3

/* (i32 kind, i32 name, i32 help, i32 labels, i32 buckets, i32 nbuckets) -> i32 id: labels are
 * label names separated by commas ("" for none); buckets are a histogram's upper bounds. */
WBPF_METRICS_IMPORT("wbpf_metric_declare")
int wbpf_metric_declare(int kind, const char *name, const char *help, const char *labels,
                        const double *buckets, int nbuckets);

/* (i32 id, i32 label_values, i32 label_values_len, f64 value) -> i32: label_values holds one
 * NUL-terminated value per label, label_values_len bytes in all. */
WBPF_METRICS_IMPORT("wbpf_metric_add")
int wbpf_metric_add(int id, const char *label_values, int label_values_len, double value);

WBPF_METRICS_IMPORT("wbpf_metric_set")
int wbpf_metric_set(int id, const char *label_values, int label_values_len, double value);

/* (i32 id, i32 label_values, i32 label_values_len, f64 value, i64 count) -> i32 */
WBPF_METRICS_IMPORT("wbpf_metric_observe")
int wbpf_metric_observe(int id, const char *label_values, int label_values_len, double value,
                        int64_t count);

/* ==== END ABI TABLE ==== */

/* The most bytes of label values one update passes (all values with their NULs). */
#define WBPF_METRIC_MAX_LABEL_BYTES 4096

static inline int wbpf_counter(const char *name, const char *help, const char *labels)
{
    return wbpf__ret(wbpf_metric_declare(WBPF_METRIC_COUNTER, name, help ? help : "",
                                         labels ? labels : "", NULL, 0));
}

static inline int wbpf_gauge(const char *name, const char *help, const char *labels)
{
    return wbpf__ret(wbpf_metric_declare(WBPF_METRIC_GAUGE, name, help ? help : "",
                                         labels ? labels : "", NULL, 0));
}

/* buckets: nbuckets ascending upper bounds (+Inf is implied); NULL and 0 for the defaults. */
static inline int wbpf_histogram(const char *name, const char *help, const char *labels,
                                 const double *buckets, int nbuckets)
{
    return wbpf__ret(wbpf_metric_declare(WBPF_METRIC_HISTOGRAM, name, help ? help : "",
                                         labels ? labels : "", buckets, nbuckets));
}

/* wbpf__pack_labels copies n strings, each with its NUL, into buf; the length, or -1 if they do
 * not fit. */
static inline int wbpf__pack_labels(char *buf, size_t size, const char *const *values, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(values[i]) + 1;
        if (l > size - len)
            return -1;
        memcpy(buf + len, values[i], l);
        len += l;
    }
    return (int)len;
}

#define WBPF__METRIC_UPDATE(call)                                                               \
    char buf_[WBPF_METRIC_MAX_LABEL_BYTES];                                                     \
    int len_ = wbpf__pack_labels(buf_, sizeof(buf_), labels, nlabels);                          \
    if (len_ < 0)                                                                               \
        return wbpf__fail(E2BIG);                                                               \
    return wbpf__ret(call)

/* wbpf_counter_add adds v (>= 0) to the series of counter id with label values labels[0..n). */
static inline int wbpf_counter_add(int id, double v, const char *const *labels, int nlabels)
{
    WBPF__METRIC_UPDATE(wbpf_metric_add(id, buf_, len_, v));
}

static inline int wbpf_gauge_set(int id, double v, const char *const *labels, int nlabels)
{
    WBPF__METRIC_UPDATE(wbpf_metric_set(id, buf_, len_, v));
}

static inline int wbpf_gauge_add(int id, double v, const char *const *labels, int nlabels)
{
    WBPF__METRIC_UPDATE(wbpf_metric_add(id, buf_, len_, v));
}

/* wbpf_histogram_observe records count observations of v (count > 1: pre-aggregated, such as a
 * log2 slot read from a map). */
static inline int wbpf_histogram_observe(int id, double v, uint64_t count,
                                         const char *const *labels, int nlabels)
{
    WBPF__METRIC_UPDATE(wbpf_metric_observe(id, buf_, len_, v, (int64_t)count));
}

#endif /* WBPF_METRICS_H */
