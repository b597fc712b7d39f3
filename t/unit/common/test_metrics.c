/* Check tests of the shared counter table (modules/idgw_metrics.c): counting
 * from several threads and several processes, series claiming, a full table,
 * label cleaning, histograms and quantiles, the Prometheus and HTML renderers. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_hooks.h>

#include "idgw_metrics.h"

#define NOW ((apr_time_t)1700000000 * APR_USEC_PER_SEC)

static void *mem;
static size_t mem_size;

static idgw_metrics *fresh(unsigned series)
{
    mem_size = idgw_metrics_size(series);
    /* shared like the httpd segment, so forked children update the same table */
    mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(mem, MAP_FAILED);
    return idgw_metrics_init(mem, mem_size, series, NOW);
}

static void release(void)
{
    munmap(mem, mem_size);
}

/* A growing buffer for the renderers. */
typedef struct buf {
    char data[256 * 1024];
    size_t len;
    size_t limit;      /* fail writes beyond this many bytes (0: no limit) */
} buf;

static int buf_write(void *ctx, const char *data, size_t len)
{
    buf *b = ctx;

    if ((b->limit && b->len + len > b->limit) || b->len + len >= sizeof(b->data))
        return -1;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

START_TEST(size_rounds_to_power_of_two_and_bounds)
{
    ck_assert_uint_eq(idgw_metrics_size(100), idgw_metrics_size(128));
    ck_assert_uint_gt(idgw_metrics_size(129), idgw_metrics_size(128));
    ck_assert_uint_eq(idgw_metrics_size(1), idgw_metrics_size(IDGW_METRICS_MIN_SERIES));
    ck_assert_uint_eq(idgw_metrics_size(1u << 30), idgw_metrics_size(IDGW_METRICS_MAX_SERIES));

    idgw_metrics *m = fresh(100);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(idgw_metrics_series_capacity(m), 128);
    ck_assert_uint_eq(idgw_metrics_series_used(m), 0);
    ck_assert_int_eq(idgw_metrics_created(m), NOW);
    /* too small a buffer is refused */
    ck_assert_ptr_null(idgw_metrics_init(mem, mem_size - 1, 100, NOW));
    release();
}
END_TEST

START_TEST(attach_accepts_own_table_only)
{
    idgw_metrics *m = fresh(64);

    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_ACL_DENIALS, "blacklist", NULL, NULL, 3), 0);
    idgw_metrics *again = idgw_metrics_attach(mem, mem_size);
    ck_assert_ptr_eq(again, m);
    ck_assert_uint_eq(idgw_metrics_value(again, IDGW_M_ACL_DENIALS, "blacklist", NULL, NULL), 3);
    /* a smaller segment than the table says it needs */
    ck_assert_ptr_null(idgw_metrics_attach(mem, mem_size - 1));
    /* garbage */
    memset(mem, 0xa5, 64);
    ck_assert_ptr_null(idgw_metrics_attach(mem, mem_size));
    memset(mem, 0, mem_size);
    ck_assert_ptr_null(idgw_metrics_attach(mem, mem_size));
    ck_assert_ptr_null(idgw_metrics_attach(NULL, mem_size));
    release();
}
END_TEST

START_TEST(counters_by_labels)
{
    idgw_metrics *m = fresh(64);

    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_REQUESTS, "add_card", "relay", "ok", 1), 0);
    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_REQUESTS, "add_card", "relay", "ok", 2), 0);
    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_REQUESTS, "add_card", "relay", "error", 1), 0);
    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_SEQUENCE_ERRORS, "order", NULL, NULL, 5), 0);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_REQUESTS, "add_card", "relay", "ok"), 3);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_REQUESTS, "add_card", "relay", "error"), 1);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_REQUESTS, "add_card", "request", "ok"), 0);
    /* same label text in another family is another series */
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_ACL_DENIALS, "order", NULL, NULL), 0);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_SEQUENCE_ERRORS, "order", NULL, NULL), 5);
    ck_assert_uint_eq(idgw_metrics_family_total(m, IDGW_M_REQUESTS), 4);
    ck_assert_uint_eq(idgw_metrics_series_used(m), 3);
    /* labels beyond the family's are ignored: still the same series */
    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_SEQUENCE_ERRORS, "order", "x", "y", 1), 0);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_SEQUENCE_ERRORS, "order", NULL, NULL), 6);
    ck_assert_uint_eq(idgw_metrics_series_used(m), 3);
    /* wrong kind or family */
    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_BACKEND_SECONDS, "felica", NULL, NULL, 1), -1);
    ck_assert_int_eq(idgw_metrics_observe(m, IDGW_M_REQUESTS, "a", "b", "c", 10), -1);
    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_COUNT, "a", NULL, NULL, 1), -1);
    ck_assert_int_eq(idgw_metrics_add(NULL, IDGW_M_REQUESTS, "a", "b", "c", 1), -1);
    release();
}
END_TEST

START_TEST(labels_are_cleaned_and_cut)
{
    idgw_metrics *m = fresh(64);
    buf *b = calloc(1, sizeof(*b));

    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_ACL_DENIALS, "a\"b}\n<x>", NULL, NULL, 1), 0);
    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_DEGRADED, NULL, "local", NULL, 1), 0);
    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_ACL_DENIALS,
                                      "0123456789012345678901234567890123456789", NULL, NULL, 1), 0);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_ACL_DENIALS, "a_b___x_", NULL, NULL), 1);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_DEGRADED, "none", "local", NULL), 1);
    /* cut to 31 bytes: any longer text with the same first 31 bytes is the same series */
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_ACL_DENIALS,
                                         "0123456789012345678901234567890", NULL, NULL), 1);
    ck_assert_int_eq(idgw_metrics_render_prometheus(m, buf_write, b), 0);
    ck_assert_ptr_nonnull(strstr(b->data, "idgw_acl_denials_total{reason=\"a_b___x_\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(b->data,
        "idgw_acl_denials_total{reason=\"0123456789012345678901234567890\"} 1\n"));
    ck_assert_ptr_null(strstr(b->data, "<x>"));
    free(b);
    release();
}
END_TEST

START_TEST(full_table_drops_and_counts)
{
    idgw_metrics *m = fresh(IDGW_METRICS_MIN_SERIES);
    char name[16];
    unsigned i;

    for (i = 0; i < IDGW_METRICS_MIN_SERIES; i++) {
        snprintf(name, sizeof(name), "r%u", i);
        ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_ACL_DENIALS, name, NULL, NULL, 1), 0);
    }
    ck_assert_uint_eq(idgw_metrics_series_used(m), IDGW_METRICS_MIN_SERIES);
    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_ACL_DENIALS, "one_more", NULL, NULL, 1), -1);
    ck_assert_int_eq(idgw_metrics_observe(m, IDGW_M_BACKEND_SECONDS, "felica", NULL, NULL, 9), -1);
    ck_assert_uint_eq(idgw_metrics_dropped(m), 2);
    /* existing series still count when the table is full */
    ck_assert_int_eq(idgw_metrics_add(m, IDGW_M_ACL_DENIALS, "r7", NULL, NULL, 4), 0);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_ACL_DENIALS, "r7", NULL, NULL), 5);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_ACL_DENIALS, "one_more", NULL, NULL), 0);
    release();
}
END_TEST

START_TEST(histogram_buckets_sum_and_quantiles)
{
    idgw_metrics *m = fresh(64);
    int i;

    /* 100 observations: 1..100 ms */
    for (i = 1; i <= 100; i++)
        ck_assert_int_eq(idgw_metrics_observe(m, IDGW_M_BACKEND_SECONDS, "felica", NULL, NULL,
                                              (apr_interval_time_t)i * 1000), 0);
    ck_assert_int_eq(idgw_metrics_observe(m, IDGW_M_BACKEND_SECONDS, "cremo", NULL, NULL, -5), 0);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_BACKEND_SECONDS, "felica", NULL, NULL), 100);
    ck_assert_uint_eq(idgw_metrics_value(m, IDGW_M_BACKEND_SECONDS, "cremo", NULL, NULL), 1);
    /* p50 falls in the 25..50 ms bucket, p99 in 50..100 ms */
    apr_interval_time_t p50 = idgw_metrics_quantile(m, IDGW_M_BACKEND_SECONDS, "felica",
                                                    NULL, NULL, 0.5);
    apr_interval_time_t p99 = idgw_metrics_quantile(m, IDGW_M_BACKEND_SECONDS, "felica",
                                                    NULL, NULL, 0.99);
    ck_assert_int_gt(p50, 25000);
    ck_assert_int_le(p50, 50000);
    ck_assert_int_gt(p99, 50000);
    ck_assert_int_le(p99, 100000);
    ck_assert_int_eq(idgw_metrics_quantile(m, IDGW_M_BACKEND_SECONDS, "brand", NULL, NULL, 0.5), -1);
    ck_assert_int_eq(idgw_metrics_quantile(m, IDGW_M_REQUESTS, "a", "b", "c", 0.5), -1);
    /* beyond the last bound: reported as the last bound */
    ck_assert_int_eq(idgw_metrics_observe(m, IDGW_M_REQUEST_SECONDS, "open", NULL, NULL,
                                          60 * APR_USEC_PER_SEC), 0);
    ck_assert_int_eq(idgw_metrics_quantile(m, IDGW_M_REQUEST_SECONDS, "open", NULL, NULL, 0.5),
                     idgw_metrics_bounds()[IDGW_METRICS_BUCKETS - 1]);
    release();
}
END_TEST

START_TEST(prometheus_format)
{
    idgw_metrics *m = fresh(64);
    buf *b = calloc(1, sizeof(*b));

    idgw_metrics_add(m, IDGW_M_REQUESTS, "session", "status", "ok", 7);
    idgw_metrics_observe(m, IDGW_M_BACKEND_SECONDS, "felica", NULL, NULL, 700);
    idgw_metrics_observe(m, IDGW_M_BACKEND_SECONDS, "felica", NULL, NULL, 3000000);
    ck_assert_int_eq(idgw_metrics_render_prometheus(m, buf_write, b), 0);

    ck_assert_ptr_nonnull(strstr(b->data,
        "# HELP idgw_requests_total Gateway requests by operation, step and result.\n"
        "# TYPE idgw_requests_total counter\n"
        "idgw_requests_total{op=\"session\",step=\"status\",result=\"ok\"} 7\n"));
    ck_assert_ptr_nonnull(strstr(b->data, "# TYPE idgw_backend_duration_seconds histogram\n"));
    /* cumulative buckets: 0 below 0.5 ms, 1 from 1 ms, 2 from 5 s, +Inf == count */
    ck_assert_ptr_nonnull(strstr(b->data,
        "idgw_backend_duration_seconds_bucket{backend=\"felica\",le=\"0.000500\"} 0\n"
        "idgw_backend_duration_seconds_bucket{backend=\"felica\",le=\"0.001000\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(b->data,
        "idgw_backend_duration_seconds_bucket{backend=\"felica\",le=\"2.500000\"} 1\n"
        "idgw_backend_duration_seconds_bucket{backend=\"felica\",le=\"5.000000\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(b->data,
        "idgw_backend_duration_seconds_bucket{backend=\"felica\",le=\"+Inf\"} 2\n"
        "idgw_backend_duration_seconds_sum{backend=\"felica\"} 3.000700\n"
        "idgw_backend_duration_seconds_count{backend=\"felica\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(b->data, "idgw_metrics_series_used 2\n"));
    ck_assert_ptr_nonnull(strstr(b->data, "idgw_metrics_series_capacity 64\n"));
    ck_assert_ptr_nonnull(strstr(b->data, "idgw_metrics_series_dropped_total 0\n"));
    /* every family is announced even without series */
    for (int id = 0; id < IDGW_M_COUNT; id++) {
        char line[128];
        snprintf(line, sizeof(line), "# TYPE %s ", idgw_metrics_desc(id)->name);
        ck_assert_msg(strstr(b->data, line) != NULL, "missing %s", line);
    }
    /* every non-comment line is `name{...} value` or `name value` */
    char *save = NULL;
    for (char *line = strtok_r(b->data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *sp = strrchr(line, ' ');
        ck_assert_ptr_nonnull(sp);
        ck_assert_msg(strspn(sp + 1, "0123456789.") == strlen(sp + 1), "bad value: %s", line);
        ck_assert_msg(strncmp(line, "idgw_", 5) == 0, "bad name: %s", line);
    }
    free(b);
    release();
}
END_TEST

START_TEST(render_stops_on_writer_error)
{
    idgw_metrics *m = fresh(64);
    buf *b = calloc(1, sizeof(*b));

    idgw_metrics_add(m, IDGW_M_REQUESTS, "open", "request", "ok", 1);
    b->limit = 100;
    ck_assert_int_eq(idgw_metrics_render_prometheus(m, buf_write, b), -1);
    ck_assert_uint_le(b->len, 100);
    b->len = 0;
    ck_assert_int_eq(idgw_metrics_render_html(m, buf_write, b), -1);
    ck_assert_int_eq(idgw_metrics_render_prometheus(NULL, buf_write, b), -1);
    free(b);
    release();
}
END_TEST

START_TEST(html_format)
{
    idgw_metrics *m = fresh(64);
    buf *b = calloc(1, sizeof(*b));

    idgw_metrics_add(m, IDGW_M_ACL_DENIALS, "network", NULL, NULL, 2);
    for (int i = 0; i < 10; i++)
        idgw_metrics_observe(m, IDGW_M_REQUEST_SECONDS, "add_card", NULL, NULL, 2000);
    ck_assert_int_eq(idgw_metrics_render_html(m, buf_write, b), 0);
    ck_assert_ptr_nonnull(strstr(b->data, "<h2>idgw_acl_denials_total</h2>"));
    ck_assert_ptr_nonnull(strstr(b->data, "<tr><td>network</td><td>2</td></tr>"));
    /* count 10, mean 2 ms, p50 and p99 inside the 1..2.5 ms bucket */
    ck_assert_ptr_nonnull(strstr(b->data, "<tr><td>add_card</td><td>10</td><td>2.000</td><td>1."));
    ck_assert_ptr_nonnull(strstr(b->data, "series: 2 of 64 used, 0 updates dropped"));
    free(b);
    release();
}
END_TEST

START_TEST(html_rows_sorted_by_labels)
{
    idgw_metrics *m = fresh(64);
    buf *b = calloc(1, sizeof(*b));
    const char *names[] = { "whitelist", "bearer", "rate_limit", "blacklist" };
    char *a, *c, *d, *e;

    for (int i = 0; i < 4; i++)
        idgw_metrics_add(m, IDGW_M_ACL_DENIALS, names[i], NULL, NULL, 1);
    ck_assert_int_eq(idgw_metrics_render_html(m, buf_write, b), 0);
    a = strstr(b->data, "<td>bearer</td>");
    c = strstr(b->data, "<td>blacklist</td>");
    d = strstr(b->data, "<td>rate_limit</td>");
    e = strstr(b->data, "<td>whitelist</td>");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(e);
    ck_assert(a < c && c < d && d < e);
    /* a family without series says so rather than showing an empty table */
    ck_assert_ptr_nonnull(strstr(b->data, "none counted yet"));
    /* a hostile value cannot reach the page as markup */
    idgw_metrics_add(m, IDGW_M_ACL_DENIALS, "<script>\"x'&", NULL, NULL, 1);
    b->len = 0;
    ck_assert_int_eq(idgw_metrics_render_html(m, buf_write, b), 0);
    ck_assert_ptr_null(strstr(b->data, "<script"));
    ck_assert_ptr_null(strstr(b->data, "'&"));
    free(b);
    release();
}
END_TEST

#define MIN ((apr_time_t)60 * APR_USEC_PER_SEC)

START_TEST(summary_classifies_results)
{
    idgw_metrics *m = fresh(64);
    idgw_metrics_summary s;

    idgw_metrics_add(m, IDGW_M_REQUESTS, "open", "request", "ok", 10);
    idgw_metrics_add(m, IDGW_M_REQUESTS, "add_card", "relay", "replay", 2);
    idgw_metrics_add(m, IDGW_M_REQUESTS, "add_card", "relay", "IDGW-SEQ-001", 3);
    idgw_metrics_add(m, IDGW_M_REQUESTS, "probe", NULL, "server_error", 1);
    idgw_metrics_add(m, IDGW_M_BACKEND_CALLS, "brand", "ok", NULL, 7);
    idgw_metrics_add(m, IDGW_M_BACKEND_CALLS, "brand", "timeout", NULL, 2);
    idgw_metrics_add(m, IDGW_M_SEQUENCE_ERRORS, "IDGW-SEQ-001", NULL, NULL, 3);
    idgw_metrics_add(m, IDGW_M_ACL_DENIALS, "blacklist", NULL, NULL, 4);
    idgw_metrics_add(m, IDGW_M_DEGRADED, "acl", "open", NULL, 5);
    idgw_metrics_add(m, IDGW_M_REDIS_ERRORS, "pool", "connect", NULL, 6);
    idgw_metrics_observe(m, IDGW_M_BACKEND_SECONDS, "brand", NULL, NULL, 100);
    idgw_metrics_summarize(m, &s);
    ck_assert_uint_eq(s.requests, 16);
    ck_assert_uint_eq(s.request_errors, 4);
    ck_assert_uint_eq(s.backend_calls, 9);
    ck_assert_uint_eq(s.backend_failures, 2);
    ck_assert_uint_eq(s.sequence_errors, 3);
    ck_assert_uint_eq(s.acl_denials, 4);
    ck_assert_uint_eq(s.degraded, 5);
    ck_assert_uint_eq(s.redis_errors, 6);
    release();
}
END_TEST

START_TEST(recent_uses_the_snapshot_of_minutes_ago)
{
    idgw_metrics *m = fresh(64);
    idgw_metrics_summary d;
    apr_time_t t0 = NOW, span;

    /* a young table: everything since creation */
    idgw_metrics_add(m, IDGW_M_REQUESTS, "open", "request", "ok", 100);
    span = idgw_metrics_recent(m, t0 + 2 * MIN, 5, &d);
    ck_assert_uint_eq(d.requests, 100);
    ck_assert_int_eq(span, 2 * MIN);

    /* one snapshot per minute, once: the first tick of a minute wins */
    for (int min = 1; min <= 20; min++) {
        ck_assert_int_eq(idgw_metrics_tick(m, t0 + min * MIN + 1), 1);
        ck_assert_int_eq(idgw_metrics_tick(m, t0 + min * MIN + 2), 0);
        idgw_metrics_add(m, IDGW_M_REQUESTS, "open", "request", "ok", 10);
        idgw_metrics_add(m, IDGW_M_REQUESTS, "open", "request", "denied", 1);
    }
    /* the clock going back writes nothing */
    ck_assert_int_eq(idgw_metrics_tick(m, t0 + 3 * MIN), 0);
    /* at minute 20 (+30 s): the snapshot of minute 15 holds the totals
     * before minute 15's traffic: minutes 15..20 = 6 minutes of traffic */
    span = idgw_metrics_recent(m, t0 + 20 * MIN + 30 * APR_USEC_PER_SEC, 5, &d);
    ck_assert_uint_eq(d.requests, 66);
    ck_assert_uint_eq(d.request_errors, 6);
    ck_assert_int_eq(span, 5 * MIN + 30 * APR_USEC_PER_SEC - 1);
    span = idgw_metrics_recent(m, t0 + 20 * MIN + 30 * APR_USEC_PER_SEC, 15, &d);
    ck_assert_uint_eq(d.requests, 16 * 11);
    /* after idle minutes the newest old-enough snapshot covers more */
    span = idgw_metrics_recent(m, t0 + 40 * MIN, 5, &d);
    ck_assert_uint_eq(d.requests, 11);
    ck_assert_int_eq(span, 20 * MIN - 1);
    release();
}
END_TEST

/* Many processes ticking the same minutes: one snapshot per minute, and
 * every reader sees a consistent one. */
START_TEST(processes_tick_once_per_minute)
{
    idgw_metrics *m = fresh(64);
    int wrote = 0;
    int *shared_wins = mmap(NULL, sizeof(int) * 32, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    ck_assert_ptr_ne(shared_wins, MAP_FAILED);
    memset(shared_wins, 0, sizeof(int) * 32);
    for (int p = 0; p < 4; p++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            for (int min = 1; min <= 30; min++)
                for (int k = 0; k < 200; k++) {
                    if (idgw_metrics_tick(m, NOW + min * MIN + k))
                        __atomic_fetch_add(&shared_wins[min], 1, __ATOMIC_RELAXED);
                    idgw_metrics_add(m, IDGW_M_REQUESTS, "open", "request", "ok", 1);
                }
            _exit(0);
        }
    }
    for (int p = 0; p < 4; p++) {
        int st;
        wait(&st);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    for (int min = 1; min <= 30; min++)
        wrote += shared_wins[min];
    /* processes race ahead of each other: a minute one of them left may
     * have been skipped by the rest, never written twice */
    ck_assert_int_le(wrote, 30);
    for (int min = 1; min <= 30; min++)
        ck_assert_int_le(shared_wins[min], 1);
    idgw_metrics_summary d;
    idgw_metrics_recent(m, NOW + 31 * MIN, 5, &d);
    ck_assert_uint_le(d.requests, 4 * 30 * 200);
    munmap(shared_wins, sizeof(int) * 32);
    release();
}
END_TEST

/* ---- concurrency ---------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 50000

static idgw_metrics *shared;

static void *hammer(void *arg)
{
    long t = (long)arg;
    char own[16];

    snprintf(own, sizeof(own), "t%ld", t);
    for (int i = 0; i < PER_THREAD; i++) {
        idgw_metrics_add(shared, IDGW_M_REQUESTS, "session", "status", "ok", 1);
        idgw_metrics_add(shared, IDGW_M_ACL_DENIALS, own, NULL, NULL, 1);
        /* every thread claims the same new series at the same time */
        if (i % 1000 == 0) {
            char fresh_name[16];
            snprintf(fresh_name, sizeof(fresh_name), "n%d", i / 1000);
            idgw_metrics_add(shared, IDGW_M_SEQUENCE_ERRORS, fresh_name, NULL, NULL, 1);
        }
        idgw_metrics_observe(shared, IDGW_M_REQUEST_SECONDS, "session", NULL, NULL, i % 3000);
    }
    return NULL;
}

START_TEST(threads_lose_no_update)
{
    pthread_t th[THREADS];

    shared = fresh(256);
    for (long t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, hammer, (void *)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    ck_assert_uint_eq(idgw_metrics_value(shared, IDGW_M_REQUESTS, "session", "status", "ok"),
                      THREADS * PER_THREAD);
    ck_assert_uint_eq(idgw_metrics_value(shared, IDGW_M_REQUEST_SECONDS, "session", NULL, NULL),
                      THREADS * PER_THREAD);
    for (int t = 0; t < THREADS; t++) {
        char own[16];
        snprintf(own, sizeof(own), "t%d", t);
        ck_assert_uint_eq(idgw_metrics_value(shared, IDGW_M_ACL_DENIALS, own, NULL, NULL),
                          PER_THREAD);
    }
    /* 50 names claimed concurrently by 4 threads: one series each, 4 counts each */
    ck_assert_uint_eq(idgw_metrics_family_total(shared, IDGW_M_SEQUENCE_ERRORS),
                      THREADS * (PER_THREAD / 1000));
    ck_assert_uint_eq(idgw_metrics_series_used(shared), 1 + 1 + THREADS + PER_THREAD / 1000);
    ck_assert_uint_eq(idgw_metrics_dropped(shared), 0);
    release();
}
END_TEST

START_TEST(processes_share_the_table)
{
    pid_t kids[3];

    shared = fresh(64);
    for (int k = 0; k < 3; k++) {
        kids[k] = fork();
        ck_assert_int_ge(kids[k], 0);
        if (kids[k] == 0) {
            for (int i = 0; i < 20000; i++)
                idgw_metrics_add(shared, IDGW_M_BACKEND_CALLS, "felica", "ok", NULL, 1);
            _exit(0);
        }
    }
    for (int k = 0; k < 3; k++) {
        int st;
        ck_assert_int_eq(waitpid(kids[k], &st, 0), kids[k]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    ck_assert_uint_eq(idgw_metrics_value(shared, IDGW_M_BACKEND_CALLS, "felica", "ok", NULL),
                      60000);
    ck_assert_uint_eq(idgw_metrics_series_used(shared), 1);
    release();
}
END_TEST

/* ---- the optional-function helpers --------------------------------------- */

static int calls;
static int last_metric;
static char last_l1[32];
static apr_uint64_t last_n;
static apr_interval_time_t last_elapsed;

/* stand-ins with the status module's names, registered as it registers them */
static void idgw_metrics_count(int metric, const char *l1, const char *l2, const char *l3,
                               apr_uint64_t n)
{
    calls++;
    last_metric = metric;
    snprintf(last_l1, sizeof(last_l1), "%s", l1 ? l1 : "");
    last_n = n;
}

static void idgw_metrics_backend_call(const char *backend, const char *result,
                                      apr_interval_time_t elapsed)
{
    calls++;
    snprintf(last_l1, sizeof(last_l1), "%s/%s", backend, result);
    last_elapsed = elapsed;
}

START_TEST(lookup_helpers_call_only_when_registered)
{
    apr_pool_t *p;
    idgw_metrics_fns fns = { 0 };

    ck_assert_int_eq(apr_initialize(), APR_SUCCESS);
    ck_assert_int_eq(apr_pool_create(&p, NULL), APR_SUCCESS);
    apr_hook_global_pool = p;
    calls = 0;
    /* nothing registered yet: no-ops */
    idgw_metrics_count_lookup(IDGW_M_REDIS_ERRORS, "pool", "io", NULL, 1);
    idgw_metrics_fns_retrieve(&fns);
    ck_assert_ptr_null(fns.count);
    IDGW_METRIC_COUNT(&fns, IDGW_M_DEGRADED, "acl", "open", NULL, 1);
    ck_assert_int_eq(calls, 0);

    APR_REGISTER_OPTIONAL_FN(idgw_metrics_count);
    APR_REGISTER_OPTIONAL_FN(idgw_metrics_backend_call);
    idgw_metrics_count_lookup(IDGW_M_REDIS_ERRORS, "pool", "io", NULL, 3);
    ck_assert_int_eq(calls, 1);
    ck_assert_int_eq(last_metric, IDGW_M_REDIS_ERRORS);
    ck_assert_str_eq(last_l1, "pool");
    ck_assert_uint_eq(last_n, 3);
    idgw_metrics_backend_call_lookup("felica", "timeout", 1234);
    ck_assert_int_eq(calls, 2);
    ck_assert_str_eq(last_l1, "felica/timeout");
    ck_assert_int_eq(last_elapsed, 1234);
    idgw_metrics_fns_retrieve(&fns);
    ck_assert_ptr_nonnull(fns.count);
    ck_assert_ptr_null(fns.request_note);      /* not registered here */
    IDGW_METRIC_COUNT(&fns, IDGW_M_DEGRADED, "acl", "open", NULL, 1);
    ck_assert_int_eq(calls, 3);
    ck_assert_int_eq(last_metric, IDGW_M_DEGRADED);
    apr_pool_destroy(p);
    apr_terminate();
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("table");

    tcase_add_test(tc, size_rounds_to_power_of_two_and_bounds);
    tcase_add_test(tc, attach_accepts_own_table_only);
    tcase_add_test(tc, counters_by_labels);
    tcase_add_test(tc, labels_are_cleaned_and_cut);
    tcase_add_test(tc, full_table_drops_and_counts);
    tcase_add_test(tc, histogram_buckets_sum_and_quantiles);
    tcase_add_test(tc, prometheus_format);
    tcase_add_test(tc, render_stops_on_writer_error);
    tcase_add_test(tc, html_format);
    tcase_add_test(tc, html_rows_sorted_by_labels);
    tcase_add_test(tc, summary_classifies_results);
    tcase_add_test(tc, recent_uses_the_snapshot_of_minutes_ago);
    tcase_add_test(tc, lookup_helpers_call_only_when_registered);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, threads_lose_no_update);
    tcase_add_test(tc, processes_tick_once_per_minute);
    tcase_add_test(tc, processes_share_the_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
