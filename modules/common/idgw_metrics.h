/*
 * idgw_metrics.h - counters an operator can read, shared by all httpd children.
 *
 * One fixed-size table of series lives in a shared memory segment that
 * mod_idgw_status creates in post_config (the children inherit it across
 * fork).  A series is a metric family plus up to three label values, e.g.
 *     idgw_requests_total{op="add_card",step="relay",result="ok"}
 * Series are claimed on first use with a compare-and-swap and updated with
 * atomic adds: no lock on the request path.  When the table is full, further
 * new series are counted in idgw_metrics_series_dropped_total instead.
 *
 * Two ways in:
 *  - the core functions below take the table explicitly (tests, the module);
 *  - the other idgw modules reach the status module's optional functions
 *    (bottom of this file) and call them only when mod_idgw_status is loaded:
 *        static idgw_metrics_fns metrics;            (zeroed: all no-ops)
 *        ... in an optional_fn_retrieve hook:
 *        idgw_metrics_fns_retrieve(&metrics);
 *        ... on the request path:
 *        IDGW_METRIC_COUNT(&metrics, IDGW_M_ACL_DENIALS, "blacklist", NULL, NULL, 1);
 *
 * Label values are identifiers chosen by the caller from fixed sets (an
 * operation name, an error code, a backend name), never request data.  They
 * are cut to IDGW_METRICS_LABEL_MAX - 1 bytes and any byte outside
 * [A-Za-z0-9_.:/-] becomes '_', so the rendered page is always well formed.
 */
#ifndef IDGW_METRICS_H
#define IDGW_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <apr_optional.h>
#include <apr_time.h>

/* ---- request notes (for the access log) ---------------------------------
 * Set by the idgw modules on r->notes; an access log can show them, e.g.
 *   LogFormat "%h %t \"%r\" %>s %D %{idgw-session}n %{idgw-op}n %{idgw-step}n %{idgw-result}n" idgw
 * idgw-session is the session's log handle (first 8 hex digits of the hash
 * of the token), never the token itself.  The status module counts every
 * request that carries IDGW_NOTE_OP in idgw_requests_total. */
#define IDGW_NOTE_SESSION "idgw-session"
#define IDGW_NOTE_OP      "idgw-op"
#define IDGW_NOTE_STEP    "idgw-step"
#define IDGW_NOTE_RESULT  "idgw-result"
/* The stable code of the XML error a request was answered with (e.g.
 * IDGW-SEQ-001), set where the error is sent.  The status module takes it as
 * the result when no module set one, and counts IDGW-SEQ-* codes in
 * idgw_sequence_errors_total (reason = the code). */
#define IDGW_NOTE_ERROR   "idgw-error"

/* ---- the metric families ---------------------------------------------- */
typedef enum idgw_metric {
    IDGW_M_REQUESTS = 0,     /* counter   {op, step, result}   gateway requests */
    IDGW_M_REQUEST_SECONDS,  /* histogram {op}                 gateway request latency */
    IDGW_M_SEQUENCE_ERRORS,  /* counter   {reason}             sequence/anti-replay refusals */
    IDGW_M_ACL_DENIALS,      /* counter   {reason}             access-control denials */
    IDGW_M_DEGRADED,         /* counter   {component, decision} decisions taken without Redis */
    IDGW_M_BACKEND_CALLS,    /* counter   {backend, result}    backend calls by outcome */
    IDGW_M_BACKEND_SECONDS,  /* histogram {backend}            backend call latency */
    IDGW_M_REDIS_ERRORS,     /* counter   {component, kind}    Redis failures */
    IDGW_M_SHED,             /* counter   {class, reason}      refused before Redis (load shedding) */
    IDGW_M_ACL_SHADOW,       /* counter   {layer, rule}        what shadow rules would refuse */
    IDGW_M_UNSETTLED,        /* counter   {kind}               operations left for reconciliation */
    IDGW_M_UNSETTLED_SETTLED,/* counter   {outcome, by}        of those, settled by the gateway */
    IDGW_M_ACL_LISTS_SYNCS,  /* counter   {trigger, result}    reads of the access-control lists */
    IDGW_M_CLUSTER_EVENTS,   /* counter   {event}              Redis Cluster redirections, map refreshes */
    IDGW_M_ACL_RATE_DECISIONS,/* counter  {dimension, where}   fleet-wide limits: in Redis or on a lease */
    IDGW_M_SESSION_STATUS,   /* counter   {path}               session status checks: read or script */
    IDGW_M_REDIS_BATCH,      /* counter   {count}              the batcher: round trips and the calls they served */
    IDGW_M_COUNT
} idgw_metric;

#define IDGW_METRICS_MAX_LABELS 3
#define IDGW_METRICS_LABEL_MAX  32            /* bytes, with the NUL */
#define IDGW_METRICS_BUCKETS    14            /* histogram upper bounds, plus +Inf */
#define IDGW_METRICS_DEFAULT_SERIES 1024
#define IDGW_METRICS_MIN_SERIES 16
#define IDGW_METRICS_MAX_SERIES 65536

typedef struct idgw_metrics idgw_metrics;

/* Static description of a family (name without _total / _bucket suffixes). */
typedef struct idgw_metric_desc {
    const char *name;        /* "idgw_requests_total", "idgw_request_duration_seconds" */
    const char *help;
    int histogram;           /* 0: counter */
    int nlabels;
    const char *labels[IDGW_METRICS_MAX_LABELS];
} idgw_metric_desc;

/* The family's description; NULL when id is out of range. */
const idgw_metric_desc *idgw_metrics_desc(idgw_metric id);

/* Histogram upper bounds in microseconds (IDGW_METRICS_BUCKETS of them). */
const apr_interval_time_t *idgw_metrics_bounds(void);

/* Bytes needed for a table of `series` series (rounded up to a power of 2). */
size_t idgw_metrics_size(unsigned series);

/* Format mem (size bytes, from idgw_metrics_size) as an empty table. */
idgw_metrics *idgw_metrics_init(void *mem, size_t size, unsigned series, apr_time_t now);

/* Reuse a table formatted by this code (same layout version and size);
 * NULL when mem does not hold one (e.g. a segment from an older module). */
idgw_metrics *idgw_metrics_attach(void *mem, size_t size);

/* Add n to a counter.  l1..l3: the family's label values (NULL for a label
 * the family does not have; a missing value renders as "none").
 * Returns 0, or -1 when id is not a counter or the table is full. */
int idgw_metrics_add(idgw_metrics *m, idgw_metric id, const char *l1, const char *l2,
                     const char *l3, uint64_t n);

/* Record one observation of a histogram, in microseconds (negative: 0). */
int idgw_metrics_observe(idgw_metrics *m, idgw_metric id, const char *l1, const char *l2,
                         const char *l3, apr_interval_time_t usec);

/* Current value of a counter series, or the count of a histogram series;
 * 0 when the series does not exist. */
uint64_t idgw_metrics_value(const idgw_metrics *m, idgw_metric id, const char *l1,
                            const char *l2, const char *l3);

/* Sum of a counter family over all its series. */
uint64_t idgw_metrics_family_total(const idgw_metrics *m, idgw_metric id);

/* Estimated quantile q (0..1) of a histogram series in microseconds, by
 * linear interpolation inside the bucket; -1 when it has no observations. */
apr_interval_time_t idgw_metrics_quantile(const idgw_metrics *m, idgw_metric id,
                                          const char *l1, const char *l2, const char *l3,
                                          double q);

unsigned idgw_metrics_series_used(const idgw_metrics *m);
unsigned idgw_metrics_series_capacity(const idgw_metrics *m);
uint64_t idgw_metrics_dropped(const idgw_metrics *m);
apr_time_t idgw_metrics_created(const idgw_metrics *m);

/* ---- recent activity -------------------------------------------------------
 * The counters are cumulative; "what failed in the last minutes" is the
 * difference between now and a snapshot taken then.  The table keeps one
 * snapshot of a few totals per minute, for the last IDGW_METRICS_HISTORY
 * minutes that saw any activity, in the same shared memory as the counters
 * (so every child sees the same history, and it survives graceful restarts
 * with them).  Whoever calls idgw_metrics_tick first in a new minute wins a
 * compare-and-swap and writes that minute's snapshot (one scan of the table,
 * once a minute); everyone else returns after one atomic load.  A snapshot
 * is written under a sequence number (odd while written), so a reader never
 * uses a half-written one. */
#define IDGW_METRICS_HISTORY 16               /* minutes of snapshots kept */

typedef struct idgw_metrics_summary {
    uint64_t requests;          /* idgw_requests_total */
    uint64_t request_errors;    /*   ... whose result is neither "ok" nor "replay" */
    uint64_t backend_calls;     /* idgw_backend_calls_total */
    uint64_t backend_failures;  /*   ... whose result is not "ok" */
    uint64_t sequence_errors;   /* idgw_sequence_errors_total */
    uint64_t acl_denials;       /* idgw_acl_denials_total */
    uint64_t degraded;          /* idgw_degraded_decisions_total */
    uint64_t redis_errors;      /* idgw_redis_errors_total */
} idgw_metrics_summary;

/* The totals now (one scan of the table). */
void idgw_metrics_summarize(const idgw_metrics *m, idgw_metrics_summary *out);

/* Record the snapshot of now's minute unless one exists; cheap when it does.
 * Returns 1 when this call wrote it, 0 otherwise. */
int idgw_metrics_tick(idgw_metrics *m, apr_time_t now);

/* What happened over about the last `minutes` minutes (1 ..
 * IDGW_METRICS_HISTORY - 1): now's totals minus the newest snapshot taken
 * at least `minutes` whole minutes ago (or zero at the table's creation when
 * there is none, e.g. a young table).  Returns the span the figures cover,
 * which is between `minutes` and `minutes` + 1 minutes when every minute
 * saw a tick, more after idle minutes, less for a younger table. */
apr_interval_time_t idgw_metrics_recent(const idgw_metrics *m, apr_time_t now, int minutes,
                                        idgw_metrics_summary *delta);

/* Rendering goes through a writer so the same code serves httpd (ap_rwrite)
 * and the tests (a buffer).  Returns the writer's first non-zero result. */
typedef int (*idgw_metrics_write_fn)(void *ctx, const char *data, size_t len);

/* Prometheus text exposition format 0.0.4: # HELP / # TYPE, counters,
 * histograms as cumulative _bucket{le=..} / _sum (seconds) / _count. */
int idgw_metrics_render_prometheus(const idgw_metrics *m, idgw_metrics_write_fn w, void *ctx);

/* The human page's tables: one HTML table per family, in the families'
 * order, rows sorted by their label values (byte order, first label first),
 * so a series keeps its place from one reload to the next; histograms show
 * count, mean, p50 and p99 in milliseconds.  Label values are HTML-escaped.
 * Styling is left to the page (classes "metric", "hist"). */
int idgw_metrics_render_html(const idgw_metrics *m, idgw_metrics_write_fn w, void *ctx);

/* ---- optional functions exported by mod_idgw_status ---------------------- */
struct request_rec;

/* Add n to a counter series. */
APR_DECLARE_OPTIONAL_FN(void, idgw_metrics_count,
                        (int metric, const char *l1, const char *l2, const char *l3,
                         apr_uint64_t n));
/* One backend call: idgw_backend_calls_total{backend,result} and, for
 * every call, idgw_backend_duration_seconds{backend}. */
APR_DECLARE_OPTIONAL_FN(void, idgw_metrics_backend_call,
                        (const char *backend, const char *result,
                         apr_interval_time_t elapsed));
/* Set the request's notes (any argument may be NULL: left as it is).  The
 * status module counts the request when it is logged. */
APR_DECLARE_OPTIONAL_FN(void, idgw_metrics_request_note,
                        (struct request_rec *r, const char *session_log, const char *op,
                         const char *step, const char *result));

/* The functions a module retrieved; a NULL member means "not loaded". */
typedef struct idgw_metrics_fns {
    APR_OPTIONAL_FN_TYPE(idgw_metrics_count) *count;
    APR_OPTIONAL_FN_TYPE(idgw_metrics_backend_call) *backend_call;
    APR_OPTIONAL_FN_TYPE(idgw_metrics_request_note) *request_note;
} idgw_metrics_fns;

/* Fill f from the registered optional functions (call from an
 * optional_fn_retrieve hook; members stay NULL without the status module). */
static inline void idgw_metrics_fns_retrieve(idgw_metrics_fns *f)
{
    f->count = APR_RETRIEVE_OPTIONAL_FN(idgw_metrics_count);
    f->backend_call = APR_RETRIEVE_OPTIONAL_FN(idgw_metrics_backend_call);
    f->request_note = APR_RETRIEVE_OPTIONAL_FN(idgw_metrics_request_note);
}

/* For library code without an optional_fn_retrieve hook of its own (the
 * Redis pool, the backend call path): look the function up at the call
 * (one hash lookup; cheap next to a Redis or backend round trip) and call it
 * when the status module is loaded. */
static inline void idgw_metrics_count_lookup(int metric, const char *l1, const char *l2,
                                             const char *l3, apr_uint64_t n)
{
    APR_OPTIONAL_FN_TYPE(idgw_metrics_count) *fn = APR_RETRIEVE_OPTIONAL_FN(idgw_metrics_count);

    if (fn)
        fn(metric, l1, l2, l3, n);
}

static inline void idgw_metrics_backend_call_lookup(const char *backend, const char *result,
                                                    apr_interval_time_t elapsed)
{
    APR_OPTIONAL_FN_TYPE(idgw_metrics_backend_call) *fn =
        APR_RETRIEVE_OPTIONAL_FN(idgw_metrics_backend_call);

    if (fn)
        fn(backend, result, elapsed);
}

/* Calls that do nothing when the status module is not loaded. */
#define IDGW_METRIC_COUNT(f, metric, l1, l2, l3, n) \
    do { if ((f)->count) (f)->count((metric), (l1), (l2), (l3), (n)); } while (0)
#define IDGW_METRIC_BACKEND(f, backend, result, elapsed) \
    do { if ((f)->backend_call) (f)->backend_call((backend), (result), (elapsed)); } while (0)
#define IDGW_METRIC_NOTE(f, r, session_log, op, step, result) \
    do { if ((f)->request_note) (f)->request_note((r), (session_log), (op), (step), (result)); } while (0)

#endif
