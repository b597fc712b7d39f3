/*
 * idgw_session_shed.c - load shedding in front of the session script (see
 * idgw_session_shed.h): local limits per session and per address, and
 * session/status refused while Redis is slow.  Nothing here sends a Redis
 * command; the state is this child's (a limiter table, a moving average).
 */
#include "idgw_session_cfg.h"
#include "idgw_session_shed.h"

#include <apr_atomic.h>
#include <apr_strings.h>
#include <http_log.h>
#include <string.h>

#include "idgw_cidr.h"
#include "idgw_conf_parse.h"
#include "idgw_metrics.h"
#include "mod_idgw.h"

APLOG_USE_MODULE(idgw_session);

/* ---- configuration ------------------------------------------------------- */

void idgw_shed_dir_init(idgw_shed_dir *d)
{
    memset(d, 0, sizeof(*d));
    d->latency = IDGW_UNSET;
}

void idgw_shed_dir_merge(idgw_shed_dir *d, const idgw_shed_dir *base, const idgw_shed_dir *add)
{
    for (int k = 0; k < IDGW_SHED_KEYS; k++)
        d->limit[k] = add->limit[k].set ? add->limit[k] : base->limit[k];
    d->latency = idgw_merge_time(base->latency, add->latency);
}

const char *idgw_shed_set_limit(cmd_parms *cmd, void *dconf, const char *key,
                                const char *rate, const char *burst_text)
{
    idgw_shed_dir *d = &((idgw_session_dir *)dconf)->shed;
    idgw_shed_limit l;
    const char *err;
    long burst;
    int k = strcasecmp(key, "session") == 0 ? IDGW_SHED_SESSION
          : strcasecmp(key, "addr") == 0 ? IDGW_SHED_ADDR : -1;

    if (k < 0)
        return apr_psprintf(cmd->pool, "IdgwShedLocalLimit: key must be session or addr, "
                            "not '%s'", key);
    memset(&l, 0, sizeof(l));
    l.set = 1;
    if (strcasecmp(rate, "off") == 0) {
        if (burst_text)
            return "IdgwShedLocalLimit: 'off' takes no burst";
        d->limit[k] = l;
        return NULL;
    }
    if ((err = idgw_rate_parse(rate, &l.count, &l.period_us)) != NULL)
        return apr_pstrcat(cmd->pool, "IdgwShedLocalLimit: ", err, NULL);
    /* as IdgwAclRateLimit: the burst defaults to the count */
    burst = l.count > IDGW_GCRA_BURST_MAX ? IDGW_GCRA_BURST_MAX : (long)l.count;
    if (burst_text && idgw_parse_int(burst_text, 1, IDGW_GCRA_BURST_MAX, &burst))
        return "IdgwShedLocalLimit: BURST must be an integer between 1 and 1000000";
    l.burst = (uint32_t)burst;
    if ((err = idgw_gcra_init(&l.gcra, l.count, l.period_us, l.burst)) != NULL)
        return apr_pstrcat(cmd->pool, "IdgwShedLocalLimit: ", err, NULL);
    l.on = 1;
    d->limit[k] = l;
    return NULL;
}

const char *idgw_shed_set_latency(cmd_parms *cmd, void *dconf, const char *arg)
{
    idgw_shed_dir *d = &((idgw_session_dir *)dconf)->shed;
    const char *err;

    if (strcasecmp(arg, "off") == 0) {
        d->latency = 0;
        return NULL;
    }
    if ((err = idgw_parse_duration(arg, apr_time_from_msec(1), apr_time_from_sec(10),
                                   &d->latency)) != NULL)
        return apr_pstrcat(cmd->pool, "IdgwShedLatency: ", err, " (1ms..10s or off)", NULL);
    return NULL;
}

/* ---- this child's state ---------------------------------------------------- */

static idgw_limiter *table;               /* NULL: not created (limits pass) */

/* mod_idgw_acl's carrier NAT pools (NULL when it is not loaded) */
static APR_OPTIONAL_FN_TYPE(idgw_acl_nat_subscribers) *nat_subscribers;

/* Moving average of script round trips, microseconds (weight 1/4 per
 * sample: a handful of slow answers tip it, a handful of fast ones bring
 * it back), and when the last sample and the last probe were taken. */
static volatile apr_uint32_t avg_us;
static volatile apr_uint64_t last_sample, last_probe;

const char *idgw_shed_child_init(apr_pool_t *pchild)
{
    avg_us = 0;
    last_sample = last_probe = 0;
    nat_subscribers = APR_RETRIEVE_OPTIONAL_FN(idgw_acl_nat_subscribers);
    return idgw_limiter_create(&table, pchild, IDGW_SHED_TABLE_SLOTS);
}

void idgw_shed_observe(apr_interval_time_t elapsed)
{
    apr_uint32_t old, upd;
    apr_int64_t sample = elapsed < 0 ? 0 : elapsed > 4000000000LL ? 4000000000LL : elapsed;
    apr_uint64_t now = (apr_uint64_t)apr_time_now();
    /* an average older than a probe interval says nothing about Redis now:
     * the fresh sample replaces it (a probe ends shedding at once) */
    int stale = now > apr_atomic_read64(&last_sample) + (apr_uint64_t)IDGW_SHED_PROBE_AFTER;

    do {
        old = apr_atomic_read32(&avg_us);
        upd = stale ? (apr_uint32_t)sample
                    : (apr_uint32_t)((apr_int64_t)old + (sample - (apr_int64_t)old) / 4);
    } while (apr_atomic_cas32(&avg_us, upd, old) != old);
    apr_atomic_set64(&last_sample, now);
}

/* ---- refusals: counted, logged at most once a second per kind --------------- */

typedef enum { WHY_SESSION = 0, WHY_ADDR, WHY_LATENCY, WHY_COUNT } shed_why;

static const char *const why_label[WHY_COUNT] = {
    "session_limit", "address_limit", "redis_latency"
};

static volatile apr_uint64_t log_next[WHY_COUNT];
static volatile apr_uint32_t log_skipped[WHY_COUNT];

/* 1 when this refusal may log (and *skipped says how many did not since). */
static int may_log(shed_why why, apr_time_t now, apr_uint32_t *skipped)
{
    apr_uint64_t next = apr_atomic_read64(&log_next[why]);

    if ((apr_uint64_t)now < next
        || apr_atomic_cas64(&log_next[why], (apr_uint64_t)now + apr_time_from_sec(1),
                            next) != next) {
        apr_atomic_inc32(&log_skipped[why]);
        return 0;
    }
    *skipped = apr_atomic_xchg32(&log_skipped[why], 0);
    return 1;
}

static const char *request_class(const idgw_session_request *rq)
{
    return rq->mode == IDGW_MODE_STATUS ? "status"
         : rq->mode == IDGW_MODE_OPEN ? "open" : "step";
}

static int refuse(request_rec *r, const idgw_session_request *rq, shed_why why,
                  const idgw_error_def *e, int64_t retry_us)
{
    int64_t secs = (retry_us + 999999) / 1000000;

    idgw_metrics_count_lookup(IDGW_M_SHED, request_class(rq), why_label[why], NULL, 1);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, secs < 1 ? 1 : secs));
    return idgw_xml_error_send(r, e);
}

/* ---- local limits ------------------------------------------------------------- */

/* The address key: the family and the address, an IPv6 client by its /64
 * (a carrier hands each phone a /64, and the phone may pick any address in it). */
static apr_size_t addr_key(request_rec *r, char key[18])
{
    idgw_ip ip;

    if (!idgw_ip_from_sockaddr(r->useragent_addr, &ip) && !idgw_ip_parse(r->useragent_ip, &ip))
        return 0;
    key[0] = 'a';
    key[1] = (char)ip.family;
    memcpy(key + 2, ip.addr, ip.family == 4 ? 4 : 8);
    return ip.family == 4 ? 6 : 10;
}

/* The limit for this request's key: a carrier NAT pool address
 * (IdgwAclNatPool) gets the address limit of all its subscribers, as in the
 * ACL; one flooding session among them is the per-session limit's job. */
static idgw_gcra key_gcra(request_rec *r, const idgw_shed_limit *l, shed_why why)
{
    uint32_t n = why == WHY_ADDR && nat_subscribers ? nat_subscribers(r) : 0;

    return n > 1 ? idgw_gcra_scaled(&l->gcra, l->count, l->period_us, l->burst, n) : l->gcra;
}

static int limit_one(request_rec *r, const idgw_session_request *rq, const idgw_shed_limit *l,
                     shed_why why, const char *key, apr_size_t keylen, const char *sid)
{
    apr_time_t now = apr_time_now();
    int64_t retry = 0;
    apr_uint32_t skipped;
    idgw_gcra g;

    if (!l->on || keylen == 0)
        return OK;
    g = key_gcra(r, l, why);
    if (idgw_limiter_check(table, &g, key, keylen, now, &retry))
        return OK;
    if (may_log(why, now, &skipped))
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      "IDGW0170: local limit per %s %u/%" APR_INT64_T_FMT "s burst %u "
                      "reached: %s refused before Redis (sid=%.8s client %s; %u such "
                      "refusals in this process not logged since the last line)",
                      why == WHY_SESSION ? "session" : "address", l->count,
                      l->period_us / 1000000, l->burst, request_class(rq),
                      sid ? sid : "-", r->useragent_ip, skipped);
    return refuse(r, rq, why, &IDGW_E_SRV_LOCAL_LIMIT, retry);
}

static int local_limits(request_rec *r, const idgw_shed_dir *d, const idgw_session_request *rq,
                        const char *token)
{
    char sid[IDGW_SID_HEX + 1], key[IDGW_SID_HEX + 2], akey[18];
    const char *log_sid = NULL;
    int rc;

    if (table == NULL)
        return OK;
    if (token != NULL && d->limit[IDGW_SHED_SESSION].on) {
        idgw_sid_from_token(token, sid);
        key[0] = 's';
        memcpy(key + 1, sid, IDGW_SID_HEX + 1);
        log_sid = sid;
        if ((rc = limit_one(r, rq, &d->limit[IDGW_SHED_SESSION], WHY_SESSION, key,
                            IDGW_SID_HEX + 1, log_sid)) != OK)
            return rc;
    }
    if (d->limit[IDGW_SHED_ADDR].on)
        return limit_one(r, rq, &d->limit[IDGW_SHED_ADDR], WHY_ADDR, akey, addr_key(r, akey),
                         log_sid);
    return OK;
}

/* ---- latency shedding ------------------------------------------------------------ */

/* 1 when Redis is slower than the bound; a stale average lets one request
 * through per IDGW_SHED_PROBE_AFTER to measure again. */
static int redis_slow(apr_interval_time_t bound, apr_time_t now)
{
    apr_uint64_t sample = apr_atomic_read64(&last_sample);
    apr_uint64_t probe = apr_atomic_read64(&last_probe);
    apr_uint64_t newest = sample > probe ? sample : probe;

    if ((apr_interval_time_t)apr_atomic_read32(&avg_us) <= bound)
        return 0;
    if ((apr_uint64_t)now > newest + (apr_uint64_t)IDGW_SHED_PROBE_AFTER
        && apr_atomic_cas64(&last_probe, (apr_uint64_t)now, probe) == probe)
        return 0;
    return 1;
}

static int shed_status(request_rec *r, const idgw_shed_dir *d, const idgw_session_request *rq)
{
    apr_time_t now;
    apr_uint32_t skipped;

    if (rq->mode != IDGW_MODE_STATUS || d->latency <= 0)
        return OK;
    now = apr_time_now();
    if (!redis_slow(d->latency, now))
        return OK;
    if (may_log(WHY_LATENCY, now, &skipped))
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "IDGW0171: Redis round trips average %u ms, above IdgwShedLatency %"
                      APR_TIME_T_FMT " ms: session/status shed, provisioning steps go on "
                      "(%u such refusals in this process not logged since the last line)",
                      (unsigned)(apr_atomic_read32(&avg_us) / 1000),
                      apr_time_as_msec(d->latency), skipped);
    return refuse(r, rq, WHY_LATENCY, &IDGW_E_SRV_SHED, IDGW_SHED_PROBE_AFTER);
}

int idgw_shed_check(request_rec *r, const idgw_shed_dir *d, const idgw_session_request *rq,
                    const char *token)
{
    int rc;

    /* shed first: a shed status request should not spend its session's budget */
    if ((rc = shed_status(r, d, rq)) != OK)
        return rc;
    return local_limits(r, d, rq, token);
}
