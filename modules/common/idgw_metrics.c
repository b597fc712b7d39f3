/*
 * idgw_metrics.c - the shared table of counters and histograms.
 *
 * The table is an open-addressing hash of series in memory shared by every
 * httpd child.  Updates are GCC __atomic operations on that memory, which
 * work across processes because they are lock-free on the 64-bit targets we
 * build for (checked at compile time); apr_atomic's 64-bit functions may fall
 * back to a process-local mutex, which would be wrong here.
 *
 * A slot goes FREE -> WRITING (one CAS winner fills family and labels) ->
 * READY, and never back while the segment lives.  Readers only look at
 * READY slots, so a half-written slot is never rendered or matched.
 *
 * The header also keeps a ring of per-minute snapshots of a few totals
 * (idgw_metrics_tick, idgw_metrics_recent), each one written by the single
 * process that won the minute's compare-and-swap, under a sequence number
 * that readers check before and after copying it (a seqlock).
 */
#include "idgw_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
               "the counters need lock-free 64-bit atomics to be shared across processes");

#define METRICS_MAGIC   0x69646d74u   /* "idmt" */
#define METRICS_VERSION 2u      /* 2: the snapshot ring in the header */

enum { SLOT_FREE = 0, SLOT_WRITING = 1, SLOT_READY = 2 };

/* How long a reader waits for another process to finish claiming a slot
 * before treating it as taken by some other series (the writer may have
 * died between the CAS and the release store). */
#define CLAIM_SPINS 10000

typedef struct metrics_slot {
    uint32_t state;
    uint32_t family;
    uint32_t hash;
    uint32_t pad;
    char labels[IDGW_METRICS_MAX_LABELS][IDGW_METRICS_LABEL_MAX];
    uint64_t value;                            /* counter value */
    uint64_t sum_usec;                         /* histogram: sum of observations */
    uint64_t buckets[IDGW_METRICS_BUCKETS + 1]; /* histogram: per bucket, last is +Inf */
} metrics_slot;

#define SUMMARY_FIELDS (sizeof(idgw_metrics_summary) / sizeof(uint64_t))

/* One minute's totals.  seq: 0 never written, odd while being written. */
typedef struct metrics_snap {
    uint64_t seq;
    uint64_t minute;            /* apr_time_t / one minute */
    uint64_t time;              /* apr_time_t of the snapshot */
    uint64_t v[SUMMARY_FIELDS]; /* idgw_metrics_summary, field by field */
} metrics_snap;

struct idgw_metrics {
    uint32_t magic;
    uint32_t version;
    uint32_t nslots;            /* a power of 2 */
    uint32_t slot_size;
    uint64_t total_size;
    uint64_t created;           /* apr_time_t */
    uint64_t dropped;           /* series that found no free slot */
    uint64_t last_minute;       /* the newest minute with a snapshot (CAS) */
    metrics_snap history[IDGW_METRICS_HISTORY];   /* by minute % IDGW_METRICS_HISTORY */
    metrics_slot slots[];
};

static const idgw_metric_desc descs[IDGW_M_COUNT] = {
    [IDGW_M_REQUESTS] = { "idgw_requests_total",
        "Gateway requests by operation, step and result.", 0, 3,
        { "op", "step", "result" } },
    [IDGW_M_REQUEST_SECONDS] = { "idgw_request_duration_seconds",
        "Gateway request latency from request line to log, by operation.", 1, 1,
        { "op" } },
    [IDGW_M_SEQUENCE_ERRORS] = { "idgw_sequence_errors_total",
        "Requests refused by sequence management or anti-replay, by reason.", 0, 1,
        { "reason" } },
    [IDGW_M_ACL_DENIALS] = { "idgw_acl_denials_total",
        "Requests denied by access control, by reason.", 0, 1,
        { "reason" } },
    [IDGW_M_DEGRADED] = { "idgw_degraded_decisions_total",
        "Decisions taken in a degraded mode (e.g. local limiter without Redis).", 0, 2,
        { "component", "decision" } },
    [IDGW_M_BACKEND_CALLS] = { "idgw_backend_calls_total",
        "Backend calls by backend and outcome.", 0, 2,
        { "backend", "result" } },
    [IDGW_M_BACKEND_SECONDS] = { "idgw_backend_duration_seconds",
        "Backend call latency by backend.", 1, 1,
        { "backend" } },
    [IDGW_M_REDIS_ERRORS] = { "idgw_redis_errors_total",
        "Redis failures by component and kind.", 0, 2,
        { "component", "kind" } },
    [IDGW_M_SHED] = { "idgw_shed_total",
        "Requests refused before Redis to protect it (local limits, Redis latency), "
        "by request class and reason.", 0, 2,
        { "class", "reason" } },
    [IDGW_M_ACL_SHADOW] = { "idgw_acl_shadow_refusals_total",
        "Requests an access-control rule in shadow mode would have refused (let through).",
        0, 2, { "layer", "rule" } },
    [IDGW_M_UNSETTLED] = { "idgw_unsettled_total",
        "Operations recorded for reconciliation (scripts/idgw-reconcile), by kind.",
        0, 1, { "kind" } },
    [IDGW_M_UNSETTLED_SETTLED] = { "idgw_unsettled_settled_total",
        "Operations left for reconciliation that the gateway settled itself when the phone "
        "came back (docs/reconcile.md), by outcome and who settled them.",
        0, 2, { "outcome", "by" } },
    [IDGW_M_ACL_LISTS_SYNCS] = { "idgw_acl_lists_syncs_total",
        "Reads of the access-control lists by the children, by what triggered them "
        "and their result.", 0, 2, { "trigger", "result" } },
    [IDGW_M_CLUSTER_EVENTS] = { "idgw_redis_cluster_events_total",
        "What the Redis Cluster router met: redirections (moved, ask), tryagain, "
        "clusterdown, and slot maps installed (map_refreshed).", 0, 1, { "event" } },
    [IDGW_M_ACL_RATE_DECISIONS] = { "idgw_acl_rate_decisions_total",
        "Fleet-wide rate-limit admissions by dimension and where they were decided: "
        "redis (the fleet-wide check) or lease (a token this child held).",
        0, 2, { "dimension", "where" } },
    [IDGW_M_SESSION_STATUS] = { "idgw_session_status_checks_total",
        "Session status checks by how Redis answered them: read (one pipelined read, "
        "no script) or script (the session script).", 0, 1, { "path" } },
    [IDGW_M_REDIS_BATCH] = { "idgw_redis_batched_total",
        "The per-child Redis batcher: round_trips it made and the calls they served "
        "(calls / round_trips: how many requests shared a round trip).", 0, 1, { "count" } },
};

static const apr_interval_time_t bounds[IDGW_METRICS_BUCKETS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000
};

const idgw_metric_desc *idgw_metrics_desc(idgw_metric id)
{
    if ((int)id < 0 || id >= IDGW_M_COUNT)
        return NULL;
    return &descs[id];
}

const apr_interval_time_t *idgw_metrics_bounds(void)
{
    return bounds;
}

static unsigned round_series(unsigned series)
{
    unsigned n = IDGW_METRICS_MIN_SERIES;

    if (series > IDGW_METRICS_MAX_SERIES)
        series = IDGW_METRICS_MAX_SERIES;
    while (n < series)
        n <<= 1;
    return n;
}

size_t idgw_metrics_size(unsigned series)
{
    return sizeof(idgw_metrics) + (size_t)round_series(series) * sizeof(metrics_slot);
}

idgw_metrics *idgw_metrics_init(void *mem, size_t size, unsigned series, apr_time_t now)
{
    idgw_metrics *m = mem;
    unsigned n = round_series(series);

    if (!mem || size < idgw_metrics_size(n))
        return NULL;
    memset(mem, 0, idgw_metrics_size(n));
    m->version = METRICS_VERSION;
    m->nslots = n;
    m->slot_size = sizeof(metrics_slot);
    m->total_size = idgw_metrics_size(n);
    m->created = (uint64_t)now;
    __atomic_store_n(&m->magic, METRICS_MAGIC, __ATOMIC_RELEASE);
    return m;
}

idgw_metrics *idgw_metrics_attach(void *mem, size_t size)
{
    idgw_metrics *m = mem;

    if (!mem || size < sizeof(idgw_metrics))
        return NULL;
    if (__atomic_load_n(&m->magic, __ATOMIC_ACQUIRE) != METRICS_MAGIC
        || m->version != METRICS_VERSION || m->slot_size != sizeof(metrics_slot)
        || m->nslots < IDGW_METRICS_MIN_SERIES || m->nslots > IDGW_METRICS_MAX_SERIES
        || (m->nslots & (m->nslots - 1)) != 0
        || m->total_size != idgw_metrics_size(m->nslots) || m->total_size > size)
        return NULL;
    return m;
}

/* Copy a label value into out, cut and restricted to [A-Za-z0-9_.:/-]. */
static void clean_label(char out[IDGW_METRICS_LABEL_MAX], const char *in)
{
    size_t i = 0;

    if (!in)
        in = "none";
    for (; in[i] && i < IDGW_METRICS_LABEL_MAX - 1; i++) {
        unsigned char c = (unsigned char)in[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                 || c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
        out[i] = ok ? (char)c : '_';
    }
    out[i] = '\0';
}

/* The family's labels cleaned; labels the family does not have are empty. */
static void make_key(idgw_metric id, const char *l1, const char *l2, const char *l3,
                     char key[IDGW_METRICS_MAX_LABELS][IDGW_METRICS_LABEL_MAX])
{
    const char *in[IDGW_METRICS_MAX_LABELS] = { l1, l2, l3 };
    int i;

    for (i = 0; i < IDGW_METRICS_MAX_LABELS; i++) {
        if (i < descs[id].nlabels)
            clean_label(key[i], in[i]);
        else
            key[i][0] = '\0';
    }
}

/* FNV-1a over the family and the cleaned labels. */
static uint32_t key_hash(idgw_metric id,
                         char key[IDGW_METRICS_MAX_LABELS][IDGW_METRICS_LABEL_MAX])
{
    uint32_t h = 2166136261u;
    int i;

    h = (h ^ (uint32_t)id) * 16777619u;
    for (i = 0; i < IDGW_METRICS_MAX_LABELS; i++) {
        const unsigned char *s = (const unsigned char *)key[i];
        for (; *s; s++)
            h = (h ^ *s) * 16777619u;
        h = (h ^ 0x1fu) * 16777619u;
    }
    return h;
}

static int slot_matches(const metrics_slot *s, idgw_metric id, uint32_t h,
                        char key[IDGW_METRICS_MAX_LABELS][IDGW_METRICS_LABEL_MAX])
{
    int i;

    if (s->hash != h || s->family != (uint32_t)id)
        return 0;
    for (i = 0; i < IDGW_METRICS_MAX_LABELS; i++)
        if (strcmp(s->labels[i], key[i]) != 0)
            return 0;
    return 1;
}

/* Wait (bounded) until a slot leaves WRITING; returns its state then. */
static uint32_t settle(const metrics_slot *s)
{
    uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
    int spins;

    for (spins = 0; st == SLOT_WRITING && spins < CLAIM_SPINS; spins++) {
        sched_yield();
        st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
    }
    return st;
}

/* The series' slot, claimed when create is set; NULL when absent / full. */
static metrics_slot *find_slot(idgw_metrics *m, idgw_metric id, const char *l1,
                               const char *l2, const char *l3, int create)
{
    char key[IDGW_METRICS_MAX_LABELS][IDGW_METRICS_LABEL_MAX];
    uint32_t h, mask = m->nslots - 1, i;

    make_key(id, l1, l2, l3, key);
    h = key_hash(id, key);
    for (i = 0; i < m->nslots; i++) {
        metrics_slot *s = &m->slots[(h + i) & mask];
        uint32_t st = settle(s);

        if (st == SLOT_FREE) {
            uint32_t expected = SLOT_FREE;
            if (!create)
                return NULL;     /* probing stops at the first free slot */
            if (__atomic_compare_exchange_n(&s->state, &expected, SLOT_WRITING, 0,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                s->family = (uint32_t)id;
                s->hash = h;
                memcpy(s->labels, key, sizeof(key));
                __atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
                return s;
            }
            st = settle(s);      /* lost the race: see who won */
        }
        if (st == SLOT_READY && slot_matches(s, id, h, key))
            return s;
    }
    if (create)
        __atomic_fetch_add(&m->dropped, 1, __ATOMIC_RELAXED);
    return NULL;
}

int idgw_metrics_add(idgw_metrics *m, idgw_metric id, const char *l1, const char *l2,
                     const char *l3, uint64_t n)
{
    metrics_slot *s;

    if (!m || !idgw_metrics_desc(id) || descs[id].histogram)
        return -1;
    s = find_slot(m, id, l1, l2, l3, 1);
    if (!s)
        return -1;
    __atomic_fetch_add(&s->value, n, __ATOMIC_RELAXED);
    return 0;
}

static int bucket_of(apr_interval_time_t usec)
{
    int b;

    for (b = 0; b < IDGW_METRICS_BUCKETS; b++)
        if (usec <= bounds[b])
            return b;
    return IDGW_METRICS_BUCKETS;
}

int idgw_metrics_observe(idgw_metrics *m, idgw_metric id, const char *l1, const char *l2,
                         const char *l3, apr_interval_time_t usec)
{
    metrics_slot *s;

    if (!m || !idgw_metrics_desc(id) || !descs[id].histogram)
        return -1;
    if (usec < 0)
        usec = 0;
    s = find_slot(m, id, l1, l2, l3, 1);
    if (!s)
        return -1;
    __atomic_fetch_add(&s->buckets[bucket_of(usec)], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->sum_usec, (uint64_t)usec, __ATOMIC_RELAXED);
    return 0;
}

static uint64_t load(const uint64_t *v)
{
    return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* Histogram count: the sum of its buckets, so _count always equals the
 * +Inf bucket even while other processes are adding. */
static uint64_t slot_count(const metrics_slot *s, uint64_t cum[IDGW_METRICS_BUCKETS + 1])
{
    uint64_t total = 0;
    int b;

    for (b = 0; b <= IDGW_METRICS_BUCKETS; b++) {
        total += load(&s->buckets[b]);
        if (cum)
            cum[b] = total;
    }
    return total;
}

uint64_t idgw_metrics_value(const idgw_metrics *m, idgw_metric id, const char *l1,
                            const char *l2, const char *l3)
{
    const metrics_slot *s;

    if (!m || !idgw_metrics_desc(id))
        return 0;
    s = find_slot((idgw_metrics *)m, id, l1, l2, l3, 0);
    if (!s)
        return 0;
    return descs[id].histogram ? slot_count(s, NULL) : load(&s->value);
}

static int slot_ready(const metrics_slot *s, idgw_metric id)
{
    return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_READY
           && s->family == (uint32_t)id;
}

uint64_t idgw_metrics_family_total(const idgw_metrics *m, idgw_metric id)
{
    uint64_t total = 0;
    uint32_t i;

    if (!m || !idgw_metrics_desc(id))
        return 0;
    for (i = 0; i < m->nslots; i++)
        if (slot_ready(&m->slots[i], id))
            total += descs[id].histogram ? slot_count(&m->slots[i], NULL)
                                         : load(&m->slots[i].value);
    return total;
}

static apr_interval_time_t slot_quantile(const metrics_slot *s, double q)
{
    uint64_t cum[IDGW_METRICS_BUCKETS + 1], total = slot_count(s, cum), prev = 0;
    double rank;
    int b;

    if (total == 0)
        return -1;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    rank = q * (double)total;
    for (b = 0; b <= IDGW_METRICS_BUCKETS; b++) {
        if ((double)cum[b] >= rank && cum[b] > prev) {
            double lo = b == 0 ? 0 : (double)bounds[b - 1];
            double hi;
            if (b == IDGW_METRICS_BUCKETS)   /* beyond the last bound: say so */
                return bounds[IDGW_METRICS_BUCKETS - 1];
            hi = (double)bounds[b];
            return (apr_interval_time_t)(lo + (hi - lo) * (rank - (double)prev)
                                         / (double)(cum[b] - prev));
        }
        prev = cum[b];
    }
    return bounds[IDGW_METRICS_BUCKETS - 1];
}

apr_interval_time_t idgw_metrics_quantile(const idgw_metrics *m, idgw_metric id,
                                          const char *l1, const char *l2, const char *l3,
                                          double q)
{
    const metrics_slot *s;

    if (!m || !idgw_metrics_desc(id) || !descs[id].histogram)
        return -1;
    s = find_slot((idgw_metrics *)m, id, l1, l2, l3, 0);
    return s ? slot_quantile(s, q) : -1;
}

unsigned idgw_metrics_series_used(const idgw_metrics *m)
{
    unsigned used = 0;
    uint32_t i;

    for (i = 0; m && i < m->nslots; i++)
        if (__atomic_load_n(&m->slots[i].state, __ATOMIC_ACQUIRE) == SLOT_READY)
            used++;
    return used;
}

unsigned idgw_metrics_series_capacity(const idgw_metrics *m)
{
    return m ? m->nslots : 0;
}

uint64_t idgw_metrics_dropped(const idgw_metrics *m)
{
    return m ? load(&m->dropped) : 0;
}

apr_time_t idgw_metrics_created(const idgw_metrics *m)
{
    return m ? (apr_time_t)m->created : 0;
}

/* ---- recent activity ------------------------------------------------------ */

#define USEC_PER_MINUTE ((apr_time_t)60 * APR_USEC_PER_SEC)

_Static_assert(sizeof(idgw_metrics_summary) == SUMMARY_FIELDS * sizeof(uint64_t),
               "idgw_metrics_summary holds only uint64_t fields");

static int is_label(const metrics_slot *s, int label, const char *a, const char *b)
{
    return strcmp(s->labels[label], a) == 0 || (b && strcmp(s->labels[label], b) == 0);
}

void idgw_metrics_summarize(const idgw_metrics *m, idgw_metrics_summary *out)
{
    uint32_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; m && i < m->nslots; i++) {
        const metrics_slot *s = &m->slots[i];
        uint64_t v;

        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY)
            continue;
        v = load(&s->value);
        switch ((idgw_metric)s->family) {
        case IDGW_M_REQUESTS:
            out->requests += v;
            if (!is_label(s, 2, "ok", "replay"))
                out->request_errors += v;
            break;
        case IDGW_M_BACKEND_CALLS:
            out->backend_calls += v;
            if (!is_label(s, 1, "ok", NULL))
                out->backend_failures += v;
            break;
        case IDGW_M_SEQUENCE_ERRORS: out->sequence_errors += v; break;
        case IDGW_M_ACL_DENIALS:     out->acl_denials += v; break;
        case IDGW_M_DEGRADED:        out->degraded += v; break;
        case IDGW_M_REDIS_ERRORS:    out->redis_errors += v; break;
        default: break;              /* histograms: not in the summary */
        }
    }
}

int idgw_metrics_tick(idgw_metrics *m, apr_time_t now)
{
    uint64_t minute, last, seq;
    idgw_metrics_summary sum;
    const uint64_t *v = (const uint64_t *)&sum;
    metrics_snap *snap;
    size_t f;

    if (!m || now < 0)
        return 0;
    minute = (uint64_t)(now / USEC_PER_MINUTE);
    last = __atomic_load_n(&m->last_minute, __ATOMIC_ACQUIRE);
    if (last >= minute)      /* done this minute (or the clock went back) */
        return 0;
    if (!__atomic_compare_exchange_n(&m->last_minute, &last, minute, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return 0;            /* another process writes this minute's */
    idgw_metrics_summarize(m, &sum);
    snap = &m->history[minute % IDGW_METRICS_HISTORY];
    seq = __atomic_load_n(&snap->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&snap->seq, seq | 1u, __ATOMIC_RELAXED);      /* odd: being written */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&snap->minute, minute, __ATOMIC_RELAXED);
    __atomic_store_n(&snap->time, (uint64_t)now, __ATOMIC_RELAXED);
    for (f = 0; f < SUMMARY_FIELDS; f++)
        __atomic_store_n(&snap->v[f], v[f], __ATOMIC_RELAXED);
    __atomic_store_n(&snap->seq, (seq | 1u) + 1, __ATOMIC_RELEASE); /* even: complete */
    return 1;
}

/* A consistent copy of a snapshot; 0 when it is empty or being written. */
static int snap_read(const metrics_snap *snap, uint64_t *minute, uint64_t *time,
                     uint64_t v[SUMMARY_FIELDS])
{
    uint64_t s1 = __atomic_load_n(&snap->seq, __ATOMIC_ACQUIRE), s2;
    size_t f;

    if (s1 == 0 || (s1 & 1u))
        return 0;
    *minute = __atomic_load_n(&snap->minute, __ATOMIC_RELAXED);
    *time = __atomic_load_n(&snap->time, __ATOMIC_RELAXED);
    for (f = 0; f < SUMMARY_FIELDS; f++)
        v[f] = __atomic_load_n(&snap->v[f], __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    s2 = __atomic_load_n(&snap->seq, __ATOMIC_RELAXED);
    return s1 == s2;
}

apr_interval_time_t idgw_metrics_recent(const idgw_metrics *m, apr_time_t now, int minutes,
                                        idgw_metrics_summary *delta)
{
    uint64_t base[SUMMARY_FIELDS] = { 0 }, best_minute = 0, target;
    uint64_t *d = (uint64_t *)delta;
    apr_time_t since;
    int i, found = 0;
    size_t f;

    idgw_metrics_summarize(m, delta);
    if (!m || now < 0)
        return 0;
    if (minutes < 1)
        minutes = 1;
    if (minutes > IDGW_METRICS_HISTORY - 1)
        minutes = IDGW_METRICS_HISTORY - 1;
    since = (apr_time_t)m->created;          /* no snapshot: zero at creation */
    target = (uint64_t)(now / USEC_PER_MINUTE);
    target = target >= (uint64_t)minutes ? target - (uint64_t)minutes : 0;
    for (i = 0; i < IDGW_METRICS_HISTORY; i++) {
        uint64_t minute, time, v[SUMMARY_FIELDS];
        if (!snap_read(&m->history[i], &minute, &time, v) || minute > target
            || (found && minute <= best_minute))
            continue;
        found = 1;
        best_minute = minute;
        since = (apr_time_t)time;
        memcpy(base, v, sizeof(base));
    }
    for (f = 0; f < SUMMARY_FIELDS; f++)     /* counters only grow; never wrap below 0 */
        d[f] = d[f] >= base[f] ? d[f] - base[f] : 0;
    return now > since ? now - since : 0;
}

/* ---- rendering ------------------------------------------------------------ */

typedef struct out {
    idgw_metrics_write_fn w;
    void *ctx;
    int rc;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->rc == 0 && n > 0)
        o->rc = o->w(o->ctx, s, n);
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putf(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(out *o, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 && o->rc == 0)
        o->rc = -1;
    else
        put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* `name{a="x",b="y"` (the caller closes the brace, maybe after more labels). */
static void put_labels(out *o, const metrics_slot *s, const idgw_metric_desc *d)
{
    int i;

    for (i = 0; i < d->nlabels; i++)
        putf(o, "%s%s=\"%s\"", i ? "," : "", d->labels[i], s->labels[i]);
}

/* Seconds from microseconds, exactly (no floating point rounding). */
static void put_seconds(out *o, uint64_t usec)
{
    putf(o, "%llu.%06llu", (unsigned long long)(usec / 1000000),
         (unsigned long long)(usec % 1000000));
}

static void prom_histogram(out *o, const metrics_slot *s, const idgw_metric_desc *d,
                           const char *base)
{
    uint64_t cum[IDGW_METRICS_BUCKETS + 1], total = slot_count(s, cum);
    int b;

    for (b = 0; b <= IDGW_METRICS_BUCKETS; b++) {
        putf(o, "%s_bucket{", base);
        put_labels(o, s, d);
        puts_(o, d->nlabels ? ",le=\"" : "le=\"");
        if (b < IDGW_METRICS_BUCKETS)
            put_seconds(o, (uint64_t)bounds[b]);
        else
            puts_(o, "+Inf");
        putf(o, "\"} %llu\n", (unsigned long long)cum[b]);
    }
    putf(o, "%s_sum{", base);
    put_labels(o, s, d);
    puts_(o, "} ");
    put_seconds(o, load(&s->sum_usec));
    putf(o, "\n%s_count{", base);
    put_labels(o, s, d);
    putf(o, "} %llu\n", (unsigned long long)total);
}

int idgw_metrics_render_prometheus(const idgw_metrics *m, idgw_metrics_write_fn w, void *ctx)
{
    out o = { w, ctx, 0 };
    int id;
    uint32_t i;

    if (!m)
        return -1;
    for (id = 0; id < IDGW_M_COUNT; id++) {
        const idgw_metric_desc *d = &descs[id];
        putf(&o, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help, d->name,
             d->histogram ? "histogram" : "counter");
        for (i = 0; i < m->nslots; i++) {
            const metrics_slot *s = &m->slots[i];
            if (!slot_ready(s, (idgw_metric)id))
                continue;
            if (d->histogram) {
                prom_histogram(&o, s, d, d->name);
            } else {
                putf(&o, "%s{", d->name);
                put_labels(&o, s, d);
                putf(&o, "} %llu\n", (unsigned long long)load(&s->value));
            }
        }
    }
    putf(&o, "# HELP idgw_metrics_series_used Series slots in use.\n"
             "# TYPE idgw_metrics_series_used gauge\n"
             "idgw_metrics_series_used %u\n"
             "# HELP idgw_metrics_series_capacity Series slots in the table.\n"
             "# TYPE idgw_metrics_series_capacity gauge\n"
             "idgw_metrics_series_capacity %u\n"
             "# HELP idgw_metrics_series_dropped_total Updates lost because the table was full.\n"
             "# TYPE idgw_metrics_series_dropped_total counter\n"
             "idgw_metrics_series_dropped_total %llu\n",
         idgw_metrics_series_used(m), m->nslots,
         (unsigned long long)idgw_metrics_dropped(m));
    return o.rc;
}

/* Text for an HTML element or a quoted attribute.  Label values are already
 * restricted to [A-Za-z0-9_.:/-] when stored; escaping anyway keeps the page
 * well formed should that rule ever change. */
static void put_html(out *o, const char *s)
{
    const char *run = s;

    for (; *s; s++) {
        const char *ent;
        switch (*s) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        default: continue;
        }
        put(o, run, (size_t)(s - run));
        puts_(o, ent);
        run = s + 1;
    }
    put(o, run, (size_t)(s - run));
}

static int cmp_slot_labels(const void *a, const void *b)
{
    const metrics_slot *x = *(const metrics_slot *const *)a;
    const metrics_slot *y = *(const metrics_slot *const *)b;
    int i, c;

    for (i = 0; i < IDGW_METRICS_MAX_LABELS; i++)
        if ((c = strcmp(x->labels[i], y->labels[i])) != 0)
            return c;
    return 0;
}

/* The family's ready series, sorted by label values; *n of them.  NULL
 * when there are none (*n 0) or no memory (the render fails: -1). */
static const metrics_slot **sorted_family(const idgw_metrics *m, idgw_metric id, size_t *n)
{
    const metrics_slot **rows = NULL;
    uint32_t i;

    *n = 0;
    for (i = 0; i < m->nslots; i++) {
        if (!slot_ready(&m->slots[i], id))
            continue;
        if (!rows && !(rows = malloc(sizeof(*rows) * m->nslots))) {
            *n = (size_t)-1;
            return NULL;
        }
        rows[(*n)++] = &m->slots[i];
    }
    if (*n > 1)
        qsort(rows, *n, sizeof(*rows), cmp_slot_labels);
    return rows;
}

static void put_ms(out *o, apr_interval_time_t usec)
{
    if (usec < 0)
        puts_(o, "<td>-</td>");
    else
        putf(o, "<td>%lld.%03lld</td>", (long long)(usec / 1000), (long long)(usec % 1000));
}

int idgw_metrics_render_html(const idgw_metrics *m, idgw_metrics_write_fn w, void *ctx)
{
    out o = { w, ctx, 0 };
    int id, l;

    if (!m)
        return -1;
    for (id = 0; id < IDGW_M_COUNT; id++) {
        const idgw_metric_desc *d = &descs[id];
        size_t n, i;
        const metrics_slot **rows = sorted_family(m, (idgw_metric)id, &n);

        if (n == (size_t)-1)
            return -1;
        putf(&o, "<section class=\"metric\" id=\"%s\">\n<h2>%s</h2>\n<p>%s</p>\n"
                 "<table class=\"%s\">\n<tr>",
             d->name, d->name, d->help, d->histogram ? "hist" : "counter");
        for (l = 0; l < d->nlabels; l++)
            putf(&o, "<th>%s</th>", d->labels[l]);
        puts_(&o, d->histogram ? "<th>count</th><th>mean ms</th><th>p50 ms</th>"
                                 "<th>p99 ms</th></tr>\n"
                               : "<th>value</th></tr>\n");
        if (n == 0)
            putf(&o, "<tr class=\"none\"><td colspan=\"%d\">none counted yet</td></tr>\n",
                 d->nlabels + (d->histogram ? 4 : 1));
        for (i = 0; i < n; i++) {
            const metrics_slot *s = rows[i];
            puts_(&o, "<tr>");
            for (l = 0; l < d->nlabels; l++) {
                puts_(&o, "<td>");
                put_html(&o, s->labels[l]);
                puts_(&o, "</td>");
            }
            if (d->histogram) {
                uint64_t count = slot_count(s, NULL);
                putf(&o, "<td>%llu</td>", (unsigned long long)count);
                put_ms(&o, count ? (apr_interval_time_t)(load(&s->sum_usec) / count) : -1);
                put_ms(&o, slot_quantile(s, 0.5));
                put_ms(&o, slot_quantile(s, 0.99));
            } else {
                putf(&o, "<td>%llu</td>", (unsigned long long)load(&s->value));
            }
            puts_(&o, "</tr>\n");
        }
        puts_(&o, "</table>\n</section>\n");
        free(rows);
    }
    putf(&o, "<p>series: %u of %u used, %llu updates dropped (table full)</p>\n",
         idgw_metrics_series_used(m), m->nslots,
         (unsigned long long)idgw_metrics_dropped(m));
    return o.rc;
}
