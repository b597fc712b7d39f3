/* idgw_acl_request: the per-request decisions of mod_idgw_acl
 * (see idgw_acl_request.h for the order of things). */
#include "idgw_acl_request.h"

#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "idgw_acl_bans.h"
#include "idgw_acl_errors.h"
#include "idgw_acl_natpool.h"
#include "idgw_acl_reply.h"
#include "idgw_acl_script.h"
#include "idgw_acl_shadow_check.h"
#include "idgw_log_limit.h"
#include "idgw_xml_error.h"

APLOG_USE_MODULE(idgw_acl);

idgw_acl_globals idgw_acl_g;

idgw_acl_req *idgw_acl_req_get(request_rec *r)
{
    return ap_get_module_config(r->request_config, &idgw_acl_module);
}

static int64_t now_ms(void)
{
    return (int64_t)(apr_time_now() / 1000);
}

/* ---- refusals ------------------------------------------------------------ */

/* The denial counter's label for a refusal (a fixed set, never request data). */
static const char *denial_reason(const idgw_error_def *e)
{
    if (e == &IDGW_E_ACL_BEARER)      return "bearer";
    if (e == &IDGW_E_ACL_BLOCKED)     return "blacklist";
    if (e == &IDGW_E_ACL_NOT_LISTED)  return "whitelist";
    if (e == &IDGW_E_ACL_RATE)        return "rate_limit";
    if (e == &IDGW_E_ACL_IDENTITY)    return "identity";
    return "unavailable";
}

static void count_denial(idgw_acl_req *q, const idgw_error_def *e)
{
    if (q == NULL || !q->counted) {
        IDGW_METRIC_COUNT(&idgw_acl_g.metrics, IDGW_M_ACL_DENIALS, denial_reason(e),
                          NULL, NULL, 1);
    }
    if (q != NULL) {
        q->counted = 1;
    }
}

/* Sends the XML error of a refusal (and counts it when mod_idgw_status is
 * loaded).  Returns DONE. */
static int refuse(request_rec *r, idgw_acl_req *q, const idgw_error_def *e)
{
    count_denial(q, e);
    return idgw_xml_error_send(r, e);
}

static int refuse_rate(request_rec *r, idgw_acl_req *q, int64_t retry_us)
{
    int64_t secs = (retry_us + 999999) / 1000000;

    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, secs < 1 ? 1 : secs));
    return refuse(r, q, &IDGW_E_ACL_RATE);
}

static const char *expiry_text(apr_pool_t *p, const idgw_acl_entry *e)
{
    if (e->expires_ms == 0) {
        return "permanent";
    }
    return apr_psprintf(p, "for another %" APR_INT64_T_FMT " s",
                        (e->expires_ms - now_ms() + 999) / 1000);
}

/* ---- the client and what it claims to be ---------------------------------- */

/* The address mod_remoteip settled on (never X-Forwarded-For ourselves).
 * An IPv6 client is limited and banned by its /64: a carrier hands each
 * phone a /64, and the phone may pick any address in it. */
static int client_address(request_rec *r, idgw_acl_req *q)
{
    idgw_cidr c;
    char buf[IDGW_CIDR_TEXT_MAX];
    const char *slash;

    if (!idgw_ip_from_sockaddr(r->useragent_addr, &q->id.ip) &&
        !idgw_ip_parse(r->useragent_ip, &q->id.ip)) {
        return 0;
    }
    memset(&c, 0, sizeof(c));
    memcpy(c.addr, q->id.ip.addr, sizeof(c.addr));
    c.family = q->id.ip.family;
    c.bits = c.family == 4 ? 32 : 128;
    idgw_cidr_format(&c, buf, sizeof(buf));
    q->id.has_ip = 1;
    q->id.v[IDGW_ACL_ADDR] = apr_pstrdup(r->pool, buf);      /* list form: a.b.c.d/32 */
    slash = strchr(buf, '/');
    q->addr_text = apr_pstrmemdup(r->pool, buf, (apr_size_t)(slash - buf));
    if (c.family == 4) {
        q->limit_addr = q->addr_text;
        q->ban_addr = q->id.v[IDGW_ACL_ADDR];
    }
    else {
        memset(c.addr + 8, 0, 8);
        c.bits = 64;
        q->ban_addr = apr_pstrdup(r->pool, idgw_cidr_format(&c, buf, sizeof(buf)));
        q->limit_addr = q->ban_addr;
    }
    return 1;
}

/* The identities a request may name itself: its terminal id and chip, both
 * bound to the session by mod_idgw_session.  A user is never taken from the
 * request: only a backend's authentication proves one (idgw_acl_identity_check). */
static const char *const identity_headers[IDGW_ACL_USER] = {
    IDGW_HEADER_TERMINAL, IDGW_HEADER_IDM
};

static int read_identities(request_rec *r, idgw_acl_req *q)
{
    for (int k = IDGW_ACL_TERMINAL; k < IDGW_ACL_USER; k++) {
        const char *h = apr_table_get(r->headers_in, identity_headers[k]);
        const char *norm, *err;

        if (h == NULL) {
            continue;
        }
        if ((err = idgw_acl_value_check(r->pool, (idgw_acl_kind)k, h, &norm)) != NULL) {
            /* The value is hostile: say which header, not what it held. */
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "IDGW0311: malformed %s header from %s: %s",
                          identity_headers[k], q->addr_text, err);
            return refuse(r, q, &IDGW_E_ACL_IDENTITY);
        }
        q->id.v[k] = norm;
    }
    if (apr_table_get(r->headers_in, IDGW_ACL_HEADER_USER) != NULL) {
        /* An app that names a user could name anyone: neither a ban nor the
         * whitelist may hang on it (nor is its value worth a log line). */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "IDGW0314: %s header ignored: the user is who a backend "
                      "authenticates", IDGW_ACL_HEADER_USER);
    }
    return OK;
}

/* The key of a dimension's value in this child's tables (the per-process
 * limiter, the leases): a terminal id counts where it comes from, since
 * whether it is proven only the fleet-wide check knows. */
static const char *dim_key(apr_pool_t *p, const idgw_acl_req *q, idgw_acl_dim dim,
                           const char *value)
{
    int terminal = dim == IDGW_ACL_DIM_TERMINAL;

    return apr_pstrcat(p, idgw_acl_dim_name(dim), ":", value, terminal ? "@" : "",
                       terminal ? q->limit_addr : "", NULL);
}

static void collect_dims(apr_pool_t *p, idgw_acl_req *q)
{
    for (int d = 0; d < IDGW_ACL_DIMS; d++) {
        const idgw_acl_limit *l = idgw_acl_limit_get(q->conf, (idgw_acl_dim)d);
        const char *value = NULL;

        if (l == NULL) {
            continue;
        }
        switch (d) {
        case IDGW_ACL_DIM_ADDR:     value = q->limit_addr; break;
        case IDGW_ACL_DIM_TERMINAL: value = q->id.v[IDGW_ACL_TERMINAL]; break;
        default:                    value = l->endpoint; break;
        }
        if (value != NULL) {
            q->dims[q->ndims] = (idgw_acl_dim)d;
            q->dim_values[q->ndims] = value;
            q->dim_keys[q->ndims++] = dim_key(p, q, (idgw_acl_dim)d, value);
        }
    }
}

/* ---- decisions on this node ------------------------------------------------- */

/* A dimension's fleet-wide limit for this request: a carrier NAT address
 * gets the address limit of all the subscribers behind it. */
static idgw_gcra dim_gcra(const idgw_acl_req *q, const idgw_acl_limit *l, idgw_acl_dim dim)
{
    if (dim == IDGW_ACL_DIM_ADDR && q->nat_subscribers > 1) {
        return idgw_gcra_scaled(&l->gcra, l->count, l->period_us, l->burst,
                                q->nat_subscribers);
    }
    return l->gcra;
}

/* The per-process limit of a dimension: the fleet-wide one, widened by the
 * breach threshold when breaches earn a ban, so that enough refusals reach
 * Redis to be counted there (and for the terminal by a second burst, see
 * below); beyond that a flood stops here. */
static idgw_gcra local_gcra(const idgw_acl_req *q, const idgw_acl_limit *l,
                            idgw_acl_dim dim)
{
    idgw_gcra g = dim_gcra(q, l, dim);
    const idgw_acl_autoban *breaches = idgw_acl_autoban_get(q->conf, 0);

    if (breaches != NULL && idgw_acl_dim_ban_kind(dim) >= 0) {
        g.tolerance += (int64_t)breaches->count * g.interval;
    }
    if (dim == IDGW_ACL_DIM_TERMINAL) {
        /* fleet-wide, one client's requests fall under two budgets: the id as
         * merely named (before its session is proven) and the proven id;
         * this node cannot tell them apart, so it lets both bursts through */
        g.tolerance += l->gcra.tolerance + g.interval;
    }
    return g;
}

static int local_limits(request_rec *r, idgw_acl_req *q)
{
    apr_time_t now = apr_time_now();
    unsigned shadow = idgw_acl_shadow_dims(q->conf, q->ndims, q->dims);

    for (int i = 0; i < q->ndims; i++) {
        const idgw_acl_limit *l = idgw_acl_limit_get(q->conf, q->dims[i]);
        idgw_gcra g = local_gcra(q, l, q->dims[i]);
        const char *key = q->dim_keys[i];
        int64_t retry = 0;

        /* a limit in shadow mode refuses nothing: the fleet-wide check
         * alone says what it would have refused */
        if (shadow & (1u << i)) {
            continue;
        }
        if (!idgw_limiter_check(idgw_acl_g.limiter, &g, key, strlen(key),
                                (int64_t)now, &retry)) {
            apr_uint32_t n = apr_atomic_inc32(&idgw_acl_g.local_refusals) + 1;
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "IDGW0320: rate limit %s %u/%" APR_INT64_T_FMT "s burst %u "
                          "reached by %s (per-process limiter, refusals here: %u)",
                          idgw_acl_dim_name(q->dims[i]), l->count,
                          l->period_us / 1000000, l->burst, q->dim_values[i], n);
            return refuse_rate(r, q, retry);
        }
    }
    return OK;
}

/* The refusals the README tells operators to look for (IDGW0310, 0312,
 * 0313) are logged at warn, so Debian's default LogLevel warn shows them;
 * but a client can repeat them at will, so at most one warn line a second
 * per process and id, naming how many came since the last one; the others
 * go to info (nothing is lost for whoever logs at info). */
enum { REFUSAL_BEARER, REFUSAL_BLOCKED, REFUSAL_NOT_LISTED, REFUSAL_KINDS };
static idgw_log_limit refusal_log[REFUSAL_KINDS];

static void log_refusal(request_rec *r, int kind, const char *line)
{
    apr_uint32_t events = 0;

    if (!idgw_log_limit_pass(&refusal_log[kind], &events)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s", line);
    }
    else if (events > 1) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "%s; %u more since the last "
                      "warning (logged at info)", line, events - 1);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "%s", line);
    }
}

/* What this node's copy of the lists says: NULL (pass) or the refusal,
 * logged.  The copy is current within IdgwAclListsMaxAge (idgw_acl_sync.h). */
static const idgw_error_def *lists_verdict(request_rec *r, idgw_acl_req *q)
{
    idgw_acl_entry e;
    idgw_acl_kind kind = IDGW_ACL_KINDS;
    idgw_acl_identity enforced, shadow;
    int64_t now = now_ms();

    idgw_acl_shadow_split(q->conf, &q->id, &enforced, &shadow);
    if (idgw_acl_cache_blocked(idgw_acl_g.cache, &enforced, now, r->pool, &e, &kind)) {
        log_refusal(r, REFUSAL_BLOCKED,
                    apr_psprintf(r->pool, "IDGW0312: refused: %s %s is blacklisted (%s, %s%s%s)",
                                 idgw_acl_kind_name(kind), e.value, e.source,
                                 expiry_text(r->pool, &e), *e.reason ? ": " : "", e.reason));
        return &IDGW_E_ACL_BLOCKED;
    }
    idgw_acl_shadow_lists(r, &q->shadow, &idgw_acl_g.metrics, idgw_acl_g.cache, &shadow,
                          &q->id, now);
    if (idgw_acl_whitelist_mode(q->conf) &&
        !idgw_acl_cache_whitelisted(idgw_acl_g.cache,
                                    q->conf->whitelist_set ? q->conf->whitelist : NULL,
                                    &q->id, now)) {
        const char *what = apr_psprintf(r->pool, "whitelist mode, terminal %s IDm %s not "
                                        "listed (client %s)",
                                        q->id.v[IDGW_ACL_TERMINAL] ? q->id.v[IDGW_ACL_TERMINAL]
                                                                   : "-",
                                        q->id.v[IDGW_ACL_IDM] ? q->id.v[IDGW_ACL_IDM] : "-",
                                        q->addr_text);
        if (idgw_acl_shadowed(q->conf, IDGW_ACL_SH_WHITELIST)) {
            idgw_acl_shadow_note(r, &q->shadow, &idgw_acl_g.metrics, IDGW_ACL_SH_WHITELIST,
                                 what);
            return NULL;
        }
        log_refusal(r, REFUSAL_NOT_LISTED, apr_pstrcat(r->pool, "IDGW0313: refused: ", what,
                                                       NULL));
        return &IDGW_E_ACL_NOT_LISTED;
    }
    return NULL;
}

/* The most tokens a lease of dims[i] may hold: IdgwAclLocalShare, and no
 * more than an eighth of the limit's burst, so that the tokens the children
 * hold unspent stay a small part of what a client may use. */
static unsigned lease_cap(const idgw_acl_req *q, int i)
{
    idgw_gcra g = dim_gcra(q, idgw_acl_limit_get(q->conf, q->dims[i]), q->dims[i]);
    int64_t eighth = (g.tolerance / g.interval + 1) / 8;

    return eighth < (int64_t)idgw_acl_g.share ? (unsigned)eighth : idgw_acl_g.share;
}

static void count_rate_decision(idgw_acl_dim d, const char *where)
{
    IDGW_METRIC_COUNT(&idgw_acl_g.metrics, IDGW_M_ACL_RATE_DECISIONS, idgw_acl_dim_name(d),
                      where, NULL, 1);
}

/* A dimension whose token this child holds (idgw_acl_lease.h) is decided
 * here and leaves the fleet-wide check; the others stay, each with how many
 * tokens to ask for.  Not for a limit in shadow mode: only the fleet-wide
 * check can say what it would have refused. */
static void take_leases(request_rec *r, idgw_acl_req *q)
{
    unsigned shadow = idgw_acl_shadow_dims(q->conf, q->ndims, q->dims);
    apr_time_t now = apr_time_now();
    int kept = 0;

    for (int i = 0; i < q->ndims; i++) {
        const char *key = q->dim_keys[i];
        unsigned want = 1;

        if (idgw_acl_g.leases != NULL && !(shadow & (1u << i)) &&
            idgw_acl_lease_take(idgw_acl_g.leases, key, strlen(key), now, lease_cap(q, i),
                                &want)) {
            count_rate_decision(q->dims[i], "lease");
            continue;
        }
        q->dims[kept] = q->dims[i];
        q->dim_values[kept] = q->dim_values[i];
        q->dim_keys[kept] = key;
        q->want[kept++] = want;
    }
    q->ndims = kept;
}

/* The `extra` tokens the fleet-wide check granted dims[i] beyond the
 * request's own, kept for the next requests (a grant of none is recorded
 * too: the next ask is smaller). */
static void keep_tokens(idgw_acl_req *q, int i, unsigned extra, apr_time_t now)
{
    if (q->want[i] > 1 && idgw_acl_g.leases != NULL) {
        idgw_acl_lease_grant(idgw_acl_g.leases, q->dim_keys[i], strlen(q->dim_keys[i]),
                             extra, now);
    }
}

/* Nothing for the fleet-wide check to decide or record: leases decided
 * every dimension and no shadow refusal waits to be recorded. */
static int fleet_check_idle(const idgw_acl_req *q)
{
    return q->ndims == 0 && (q->shadow.noted & ~q->shadow.sent) == 0;
}

static int check_lists(request_rec *r, idgw_acl_req *q)
{
    const idgw_error_def *e = lists_verdict(r, q);

    return e == NULL ? OK : refuse(r, q, e);
}

static int degraded(request_rec *r, idgw_acl_req *q, const char *why);
static void note_shadow_limit(request_rec *r, idgw_acl_req *q, int i, int recorded);

/* The lists' verdict on a copy confirmed within IdgwAclListsMaxAge: when the
 * listener has fallen behind, this request reads them first; when that
 * fails, IdgwAclRedisDown decides (fail open: the old copy decides). */
static int current_lists(request_rec *r, idgw_acl_req *q)
{
    char err[256] = "";

    if (idgw_acl_sync_ensure(idgw_acl_g.sync, r->pool, err, sizeof(err)) != APR_SUCCESS) {
        apr_interval_time_t age = idgw_acl_sync_age(idgw_acl_g.sync);
        int rc = degraded(r, q, age < 0
                          ? apr_psprintf(r->pool, "lists never read: %s", err)
                          : apr_psprintf(r->pool, "lists last confirmed %" APR_TIME_T_FMT
                                         " ms ago: %s", apr_time_as_msec(age), err));
        if (rc != OK) {
            return rc;
        }
    }
    return check_lists(r, q);
}

/* ---- the fleet-wide limits on a Redis Cluster -------------------------------------- */

/* The replies of SHADOW_RECORD calls (the caller frees them): failures
 * logged. */
static void record_replies(request_rec *r, redisReply **replies, int n, const char *err)
{
    for (int i = 0; i < n; i++) {
        if (replies[i] == NULL || replies[i]->type == REDIS_REPLY_ERROR) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0373: shadow refusal not "
                          "recorded in Redis: %s",
                          replies[i] ? apr_pstrndup(r->pool, replies[i]->str, 120)
                                     : *err ? err : "not run");
        }
    }
}

/* One dimension's CHECK, alone on the slot of its value.  A terminal counts
 * as named from this address (its claim key): whether its session is proven
 * lives on the session's slot, which this call cannot read. */
static idgw_script_args *cluster_check_args(request_rec *r, const idgw_acl_req *q, int i)
{
    idgw_script_args *a = apr_palloc(r->pool, sizeof(*a));
    idgw_acl_dim d = q->dims[i];
    idgw_gcra g = dim_gcra(q, idgw_acl_limit_get(q->conf, d), d);
    const idgw_acl_autoban *breaches = idgw_acl_autoban_get(q->conf, 0);
    int autoban = breaches != NULL && d == IDGW_ACL_DIM_ADDR && q->nat_subscribers == 0;
    const char *value = d == IDGW_ACL_DIM_TERMINAL
        ? apr_pstrcat(r->pool, q->dim_values[i], "@", q->limit_addr, NULL) : q->dim_values[i];

    idgw_script_args_init(a, r->pool);
    idgw_script_args_key(a, idgw_acl_key_rate(r->pool, idgw_acl_g.prefix, d, value));
    idgw_script_args_key(a, idgw_acl_key_breach(r->pool, idgw_acl_g.prefix, d, value));
    idgw_script_args_int(a, 1);
    idgw_script_args_int(a, g.interval);
    idgw_script_args_int(a, g.tolerance);
    /* breaches ban an address (never a carrier NAT one), not a terminal: here
     * it counts as merely named, and a claim earns no ban */
    idgw_script_args_int(a, autoban ? breaches->count : 0);
    idgw_script_args_int(a, autoban ? breaches->window_us / 1000 : 1000);
    idgw_script_args_int(a, q->want[i]);
    if (idgw_acl_shadow_dims(q->conf, 1, &d)) {
        /* a limit in shadow mode: CHECK lets the request through and says
         * so; the records are written apart (cluster_records: each
         * subject's is a slot of its own) */
        idgw_script_args_int(a, 0);     /* no dimension counts proven ids only */
        idgw_script_args_int(a, 1);     /* this dimension is in shadow mode */
        idgw_script_args_int(a, 0);     /* no subject keys */
        idgw_script_args_int(a, 0);     /* no rules noted */
        idgw_script_args_str(a, idgw_acl_shadow_field(r->pool, (idgw_acl_shadow_rule)
                                                      (IDGW_ACL_SH_RATELIMIT + d)));
    }
    return a;
}

/* The shadow refusals noted and not yet recorded, written now: one
 * SHADOW_RECORD per subject, each on its own slot, in one round trip.  Only
 * a request a shadow rule would refuse pays it.  Failures are logged
 * (IDGW0373), never fatal, as with one server. */
static void cluster_records(request_rec *r, idgw_acl_req *q)
{
    idgw_script_args *args[2];
    redisReply *replies[2] = { NULL, NULL };
    char err[256] = "";
    int n = idgw_acl_shadow_record_calls(r->pool, &q->shadow, idgw_acl_g.prefix,
                                         q->id.v[IDGW_ACL_TERMINAL], q->ban_addr, args);

    if (n == 0) {
        return;
    }
    if (idgw_acl_g.cluster_eval == NULL) {
        apr_cpystrn(err, "no Redis Cluster router in this process", sizeof(err));
    }
    else {
        idgw_acl_g.cluster_eval(r->pool, &idgw_acl_g.shadow_script, args, n, replies, err,
                                sizeof(err));
    }
    record_replies(r, replies, n, err);
    for (int i = 0; i < n; i++) {
        if (replies[i]) {
            freeReplyObject(replies[i]);
        }
    }
}

/* dims[i]'s limit is in shadow mode and would have refused: noted (the
 * record follows in cluster_records), and the shadow ban its breaches
 * earned written (idgw_acl_bans.c picks the shadow bans' hash). */
static void cluster_shadow_refused(request_rec *r, idgw_acl_req *q, int i,
                                   const idgw_acl_check_reply *rep)
{
    note_shadow_limit(r, q, i, 0);
    if (rep->shadow_banned) {
        idgw_acl_check_reply one = { .shadow_banned = 1u << i };

        idgw_acl_breach_bans(r, &idgw_acl_g, q, &one);
    }
}

/* The replies of the dimensions' checks (NULL: not run or lost, err says
 * why), in q->dims order.  They are decided apart: a request one dimension
 * refuses may have been charged by another (on a single Redis they pass
 * together or not at all).  Any refusal refuses; a check that did not come
 * back is decided by IdgwAclRedisDown. */
static int cluster_judge(request_rec *r, idgw_acl_req *q, redisReply **replies,
                         const char *err)
{
    idgw_acl_check_reply rep[IDGW_ACL_DIMS];
    const char *failure = NULL;
    apr_time_t now = apr_time_now();
    int n = q->ndims, refused = -1;

    for (int i = 0; i < n; i++) {
        const char *perr = replies[i] ? idgw_acl_reply_parse(replies[i], 1, &rep[i])
                                      : "not run";

        if (perr != NULL) {
            failure = replies[i] ? perr : apr_pstrdup(r->pool, err);
            continue;
        }
        if (rep[i].shadow_refused) {
            cluster_shadow_refused(r, q, i, &rep[i]);
        }
        if (rep[i].refused) {
            if (rep[i].banned) {
                /* this dimension's refusal earned its ban (its breach
                 * counter started again): written whichever refusal the
                 * request is answered with */
                idgw_acl_check_reply one = { .refused = i + 1, .banned = 1 };

                idgw_acl_breach_bans(r, &idgw_acl_g, q, &one);
            }
            if (refused < 0 || rep[i].retry_us > rep[refused].retry_us) {
                refused = i;
            }
        }
        else {
            /* charged whatever the other dimensions say: its tokens are this child's */
            keep_tokens(q, i, rep[i].extra[0], now);
        }
    }
    apr_atomic_inc32(&idgw_acl_g.fleet_checks);
    cluster_records(r, q);
    if (refused >= 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "IDGW0321: fleet-wide rate limit %s reached by %s",
                      idgw_acl_dim_name(q->dims[refused]), q->dim_values[refused]);
        return refuse_rate(r, q, rep[refused].retry_us);
    }
    if (failure != NULL) {
        return degraded(r, q, failure);
    }
    for (int i = 0; i < n; i++) {
        count_rate_decision(q->dims[i], "redis");
    }
    return OK;
}

/* Where no session check took the checks along (idgw_acl_cluster_companion):
 * on their own, one round trip. */
static int cluster_limits(request_rec *r, idgw_acl_req *q)
{
    idgw_script_args *args[IDGW_ACL_DIMS] = { NULL };
    redisReply *replies[IDGW_ACL_DIMS] = { NULL };
    char err[256] = "";
    int rc;

    q->cluster_pending = 0;
    if (q->ndims == 0) {
        cluster_records(r, q);
        return OK;
    }
    if (idgw_acl_g.cluster_eval == NULL) {
        return degraded(r, q, "no Redis Cluster router in this process");
    }
    for (int i = 0; i < q->ndims; i++) {
        args[i] = cluster_check_args(r, q, i);
    }
    idgw_acl_g.cluster_eval(r->pool, &idgw_acl_g.check_script, args, q->ndims, replies, err,
                            sizeof(err));
    rc = cluster_judge(r, q, replies, err);
    for (int i = 0; i < q->ndims; i++) {
        if (replies[i]) {
            freeReplyObject(replies[i]);
        }
    }
    return rc;
}

/* The session module's companion: the checks go with its script (status)
 * or in the round trip just before it (open, steps). */
static int companion_calls(request_rec *r, const idgw_script **scripts,
                           idgw_script_args **args, int max)
{
    idgw_acl_req *q = idgw_acl_req_get(r);

    /* the shadow refusals the lists revealed are recorded in the same
     * round trip, whatever the session check answers */
    if (q == NULL || !q->cluster_pending || q->ndims + 2 > max) {
        return 0;
    }
    q->cluster_pending = 0;
    for (int i = 0; i < q->ndims; i++) {
        scripts[i] = &idgw_acl_g.check_script;
        args[i] = cluster_check_args(r, q, i);
    }
    q->cluster_records = idgw_acl_shadow_record_calls(r->pool, &q->shadow, idgw_acl_g.prefix,
                                                      q->id.v[IDGW_ACL_TERMINAL], q->ban_addr,
                                                      args + q->ndims);
    for (int i = 0; i < q->cluster_records; i++) {
        scripts[q->ndims + i] = &idgw_acl_g.shadow_script;
    }
    return q->ndims + q->cluster_records;
}

static int companion_results(request_rec *r, redisReply **replies, int n, const char *err)
{
    idgw_acl_req *q = idgw_acl_req_get(r);

    if (q == NULL || n != q->ndims + q->cluster_records) {
        return OK;
    }
    record_replies(r, replies + q->ndims, q->cluster_records, err);
    if (q->ndims == 0) {
        return OK;
    }
    return cluster_judge(r, q, replies, err);
}

/* The session check refused with a strike: count it (idgw_acl_bans.h). */
static void companion_struck(request_rec *r)
{
    idgw_acl_req *q = idgw_acl_req_get(r);

    if (q != NULL) {
        idgw_acl_strike(r, &idgw_acl_g, q);
    }
}

const idgw_cluster_companion idgw_acl_cluster_companion = {
    "acl_check", companion_calls, companion_results, companion_struck
};

int idgw_acl_access(request_rec *r)
{
    idgw_acl_dir_conf *conf = ap_get_module_config(r->per_dir_config, &idgw_acl_module);
    idgw_acl_req *q;
    int rc;

    if (!idgw_acl_enabled(conf) || r->main || r->prev) {
        return DECLINED;
    }
    q = apr_pcalloc(r->pool, sizeof(*q));
    q->conf = conf;
    ap_set_module_config(r->request_config, &idgw_acl_module, q);
    if (idgw_acl_g.limiter == NULL || idgw_acl_g.cache == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "IDGW0303: access control not initialised in this process");
        return refuse(r, q, &IDGW_E_ACL_UNAVAILABLE);
    }
    if (!client_address(r, q)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      "IDGW0301: client address is neither IPv4 nor IPv6: refused");
        return refuse(r, q, &IDGW_E_ACL_BEARER);
    }
    if (!conf->carriers_set) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "IDGW0302: IdgwAcl On but no IdgwAclCarrierNetworks applies to %s: "
                      "refused", ap_escape_logitem(r->pool, r->uri));
        return refuse(r, q, &IDGW_E_ACL_BEARER);
    }
    if (!conf->carriers_any && idgw_cidr_set_find(conf->carriers, &q->id.ip) < 0) {
        if (idgw_acl_shadowed(conf, IDGW_ACL_SH_CARRIER)) {
            idgw_acl_shadow_note(r, &q->shadow, &idgw_acl_g.metrics, IDGW_ACL_SH_CARRIER,
                                 apr_psprintf(r->pool, "%s is not on a carrier network",
                                              q->addr_text));
        }
        else {
            log_refusal(r, REFUSAL_BEARER, apr_psprintf(r->pool, "IDGW0310: refused: %s is "
                                                        "not on a carrier network",
                                                        q->addr_text));
            return refuse(r, q, &IDGW_E_ACL_BEARER);
        }
    }
    q->nat_subscribers = idgw_acl_natpool_subscribers(conf->nat_pools, &q->id.ip);
    if ((rc = read_identities(r, q)) != OK) {
        return rc;
    }
    collect_dims(r->pool, q);
    /* the per-process limiter first, as before the lists: a flood costs
     * neither a look-up nor, with an old copy, a read of the lists */
    if ((rc = local_limits(r, q)) != OK || (rc = current_lists(r, q)) != OK) {
        return rc;
    }
    take_leases(r, q);
    if (idgw_acl_g.cluster) {
        /* sent with the session's script (companion) or in fixups_late */
        q->fleet_done = 1;
        q->cluster_pending = q->ndims > 0 || (q->shadow.noted & ~q->shadow.sent) != 0;
    }
    ap_add_output_filter(IDGW_ACL_OUT_FILTER, q, r, r->connection);
    /* DECLINED, not OK: OK from check_access_ex would skip authn/authz, and
     * the operator's Require rules must still apply. */
    return DECLINED;
}

/* The lists' verdict on one identity a partner module has learnt (a user a
 * backend authenticated), on its own: the terminal or chip that let the
 * request in does not vouch for the user it logs in as, so in whitelist
 * mode the user must be listed too.  Logs a refusal; NULL: pass. */
static const idgw_error_def *identity_verdict(request_rec *r, idgw_acl_req *q,
                                              idgw_acl_kind kind, const char *value)
{
    idgw_acl_identity one;
    idgw_acl_entry e;
    idgw_acl_kind hit = kind;
    int64_t now = now_ms();

    memset(&one, 0, sizeof(one));
    one.v[kind] = value;
    if (idgw_acl_shadowed(q->conf, (idgw_acl_shadow_rule)(IDGW_ACL_SH_BLACKLIST + kind))) {
        idgw_acl_shadow_lists(r, &q->shadow, &idgw_acl_g.metrics, idgw_acl_g.cache, &one,
                              &one, now);
    }
    else if (idgw_acl_cache_blocked(idgw_acl_g.cache, &one, now, r->pool, &e, &hit)) {
        log_refusal(r, REFUSAL_BLOCKED,
                    apr_psprintf(r->pool, "IDGW0312: refused: %s %s is blacklisted (%s, %s%s%s)",
                                 idgw_acl_kind_name(hit), e.value, e.source,
                                 expiry_text(r->pool, &e), *e.reason ? ": " : "", e.reason));
        return &IDGW_E_ACL_BLOCKED;
    }
    if (idgw_acl_whitelist_mode(q->conf) &&
        !idgw_acl_cache_whitelisted(idgw_acl_g.cache,
                                    q->conf->whitelist_set ? q->conf->whitelist : NULL,
                                    &one, now)) {
        if (idgw_acl_shadowed(q->conf, IDGW_ACL_SH_WHITELIST)) {
            idgw_acl_shadow_note(r, &q->shadow, &idgw_acl_g.metrics, IDGW_ACL_SH_WHITELIST,
                                 apr_psprintf(r->pool, "whitelist mode, authenticated %s "
                                              "%s not listed", idgw_acl_kind_name(kind),
                                              value));
            return NULL;
        }
        log_refusal(r, REFUSAL_NOT_LISTED,
                    apr_psprintf(r->pool, "IDGW0313: refused: whitelist mode, authenticated "
                                 "%s %s not listed (terminal %s, client %s)",
                                 idgw_acl_kind_name(kind), value,
                                 q->id.v[IDGW_ACL_TERMINAL] ? q->id.v[IDGW_ACL_TERMINAL] : "-",
                                 q->addr_text));
        return &IDGW_E_ACL_NOT_LISTED;
    }
    return NULL;
}

int idgw_acl_identity_check(request_rec *r, const char *kind_name, const char *value,
                            const idgw_error_def **refusal)
{
    idgw_acl_req *q = idgw_acl_req_get(r);
    int kind = idgw_acl_kind_parse(kind_name);
    const idgw_error_def *e;
    const char *norm, *err;

    *refusal = NULL;
    if (kind < 0 || kind == IDGW_ACL_ADDR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "IDGW0304: idgw_acl_identity_check: unknown kind");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (q == NULL) {
        return OK;
    }
    if ((err = idgw_acl_value_check(r->pool, (idgw_acl_kind)kind, value, &norm)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "IDGW0311: malformed %s from %s: %s",
                      kind_name, q->addr_text, err);
        e = &IDGW_E_ACL_IDENTITY;
    }
    else if ((e = identity_verdict(r, q, (idgw_acl_kind)kind, norm)) == NULL) {
        return OK;
    }
    /* counted here; the caller commits and sends the answer */
    count_denial(q, e);
    *refusal = e;
    return e->http_status;
}

/* ---- the fleet-wide check ------------------------------------------------------- */

/* The terminal dimension counts a terminal id only for a proven session
 * (idgw_session_prove): pushes which dimension that is and its key for a
 * mere claim (idgw_acl_script.h).  Without it, anyone could exhaust or get
 * banned any terminal by naming it in session/open. */
static void claim_args(request_rec *r, idgw_acl_req *q, idgw_script_args *a)
{
    for (int i = 0; q && i < q->ndims; i++) {
        if (q->dims[i] == IDGW_ACL_DIM_TERMINAL) {
            idgw_script_args_key(a, idgw_acl_key_rate_claim(r->pool, idgw_acl_g.prefix,
                                                            q->dim_values[i], q->limit_addr));
            idgw_script_args_int(a, i + 1);
            return;
        }
    }
    idgw_script_args_int(a, 0);
}

/* Pushes CHECK's KEYS and ARGV (idgw_acl_script.h).  Nothing at all when
 * there is nothing to decide or record: access control off here (q NULL),
 * or every dimension decided on a lease; the folded part is then not run. */
static void check_args(request_rec *r, idgw_acl_req *q, idgw_script_args *a)
{
    const char *prefix = idgw_acl_g.prefix;
    const idgw_acl_autoban *breaches = q ? idgw_acl_autoban_get(q->conf, 0) : NULL;
    int n = q ? q->ndims : 0;

    if (q == NULL || fleet_check_idle(q)) {
        return;
    }
    idgw_script_args_int(a, n);
    for (int i = 0; i < n; i++) {
        idgw_acl_dim d = q->dims[i];
        const idgw_acl_limit *l = idgw_acl_limit_get(q->conf, d);
        idgw_gcra g = dim_gcra(q, l, d);
        int ban_kind = idgw_acl_dim_ban_kind(d);
        /* a carrier NAT address is shared: its breaches ban nobody */
        int autoban = breaches != NULL && ban_kind >= 0 &&
                      !(ban_kind == IDGW_ACL_ADDR && q->nat_subscribers > 0);

        idgw_script_args_key(a, idgw_acl_key_rate(r->pool, prefix, d, q->dim_values[i]));
        idgw_script_args_key(a, idgw_acl_key_breach(r->pool, prefix, d, q->dim_values[i]));
        idgw_script_args_int(a, g.interval);
        idgw_script_args_int(a, g.tolerance);
        idgw_script_args_int(a, autoban ? breaches->count : 0);
        idgw_script_args_int(a, autoban ? breaches->window_us / 1000 : 1000);
        idgw_script_args_int(a, q->want[i]);
    }
    claim_args(r, q, a);
    if (q) {
        idgw_acl_shadow_check_args(r->pool, &q->shadow, prefix, q->id.v[IDGW_ACL_TERMINAL],
                                   q->ban_addr, idgw_acl_shadow_dims(q->conf, n, q->dims),
                                   n, q->dims, a);
    }
}

/* The limit of dims[i], in shadow mode, would have refused the request:
 * logged and counted (idgw_acl_shadow_note); recorded already when
 * recorded is set (CHECK on one server), else by cluster_records. */
static void note_shadow_limit(request_rec *r, idgw_acl_req *q, int i, int recorded)
{
    const idgw_acl_limit *l = idgw_acl_limit_get(q->conf, q->dims[i]);
    idgw_acl_shadow_rule rule = (idgw_acl_shadow_rule)(IDGW_ACL_SH_RATELIMIT + q->dims[i]);

    if (l == NULL) {
        return;
    }
    if (recorded) {
        q->shadow.sent |= 1u << rule;
    }
    idgw_acl_shadow_note(r, &q->shadow, &idgw_acl_g.metrics, rule,
                         apr_psprintf(r->pool, "fleet-wide rate limit %s %u/%"
                                      APR_INT64_T_FMT "s burst %u reached by %s",
                                      idgw_acl_dim_name(q->dims[i]), l->count,
                                      l->period_us / 1000000, l->burst, q->dim_values[i]));
}

/* The limits in shadow mode that would have refused (CHECK recorded them
 * already); the shadow bans their breaches earned are idgw_acl_bans.c's. */
static void shadow_reply(request_rec *r, idgw_acl_req *q, const idgw_acl_check_reply *rep)
{
    for (int i = 0; i < q->ndims; i++) {
        if (rep->shadow_refused & (1u << i)) {
            note_shadow_limit(r, q, i, 1);
        }
    }
}

static int apply_reply(request_rec *r, idgw_acl_req *q, const idgw_acl_check_reply *rep)
{
    if (q == NULL) {
        return OK;
    }
    q->fleet_done = 1;
    shadow_reply(r, q, rep);
    idgw_acl_breach_bans(r, &idgw_acl_g, q, rep);
    if (!rep->refused) {
        apr_time_t now = apr_time_now();

        for (int i = 0; i < q->ndims; i++) {
            count_rate_decision(q->dims[i], "redis");
            keep_tokens(q, i, rep->extra[i], now);
        }
    }
    else {
        int i = rep->refused - 1;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "IDGW0321: fleet-wide rate limit %s reached by %s",
                      idgw_acl_dim_name(q->dims[i]), q->dim_values[i]);
        return refuse_rate(r, q, rep->retry_us);
    }
    return OK;
}

/* Redis could not answer: the IdgwAclRedisDown policy decides, and every
 * such decision is counted and logged. */
static int degraded(request_rec *r, idgw_acl_req *q, const char *why)
{
    int fail_open = idgw_acl_redis_down_policy(q->conf) == IDGW_ACL_REDIS_DOWN_OPEN &&
               idgw_acl_any_limit(q->conf);
    apr_uint32_t n;

    /* one decision per request: served on an old copy of the lists, its
     * fleet-wide check may fail too */
    if (q->degraded && fail_open) {
        return OK;
    }
    q->degraded = 1;
    n = apr_atomic_inc32(&idgw_acl_g.degraded) + 1;

    IDGW_METRIC_COUNT(&idgw_acl_g.metrics, IDGW_M_DEGRADED, "acl",
                      fail_open ? "open" : "closed", NULL, 1);
    if (fail_open) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "IDGW0341: Redis unavailable (%s): serving %s within the "
                      "per-process limiter (fail open); degraded decisions in this "
                      "process: %u", why, q->addr_text, n);
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  "IDGW0340: Redis unavailable (%s): refusing %s (fail closed); "
                  "degraded decisions in this process: %u", why, q->addr_text, n);
    return refuse(r, q, &IDGW_E_ACL_UNAVAILABLE);
}

int idgw_acl_fixups_late(request_rec *r)
{
    idgw_acl_req *q = idgw_acl_req_get(r);
    idgw_script_args a;
    idgw_acl_check_reply rep;
    idgw_redis_conn *c = NULL;
    redisReply *reply;
    const char **argv;
    size_t *lens;
    char err[256] = "";
    const char *perr;
    int argc, rc;
    apr_status_t rv;

    if (q != NULL && q->cluster_pending && !r->main && !r->prev &&
        (rc = cluster_limits(r, q)) != OK) {
        return rc;
    }
    if (q != NULL && q->fleet_done && !r->main && !r->prev) {
        if (idgw_acl_g.cluster) {
            cluster_records(r, q);
        }
        else {
            idgw_acl_shadow_late_record(r, &q->shadow, idgw_acl_g.pool,
                                        &idgw_acl_g.shadow_script, idgw_acl_g.prefix,
                                        q->id.v[IDGW_ACL_TERMINAL], q->ban_addr);
        }
    }
    /* Only where no session check folded CHECK into its script, and only
     * when leases left it something to decide or record. */
    if (q == NULL || q->fleet_done || r->main || r->prev || fleet_check_idle(q)) {
        return DECLINED;
    }
    if (idgw_acl_g.pool == NULL) {
        return degraded(r, q, "no Redis connection pool in this process");
    }
    idgw_script_args_init(&a, r->pool);
    check_args(r, q, &a);
    argc = idgw_script_args_argv(&a, &idgw_acl_g.check_script, 0, &argv, &lens);
    rv = idgw_redis_pool_acquire_for(idgw_acl_g.pool, r->pool, &c, err, sizeof(err));
    if (rv != APR_SUCCESS) {
        return degraded(r, q, rv == APR_EAGAIN ? "failing fast after a recent failure"
                                               : apr_pstrdup(r->pool, err));
    }
    reply = idgw_redis_evalsha(c, &idgw_acl_g.check_script, argc, argv, lens);
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        const char *why = reply ? apr_pstrndup(r->pool, reply->str, 120)
                                : "connection lost";
        if (reply && idgw_redis_classify(reply) == IDGW_REDIS_UNAVAILABLE) {
            idgw_redis_pool_trip(idgw_acl_g.pool);
        }
        if (reply) {
            freeReplyObject(reply);
        }
        return degraded(r, q, why);
    }
    apr_atomic_inc32(&idgw_acl_g.fleet_checks);
    if ((perr = idgw_acl_reply_parse(reply, q->ndims, &rep)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0333: unexpected reply from "
                      "the access check script: %s", perr);
        freeReplyObject(reply);
        return degraded(r, q, "unexpected script reply");
    }
    rc = apply_reply(r, q, &rep);
    freeReplyObject(reply);
    if (rc == OK) {
        /* the same connection, already held by this request */
        idgw_acl_shadow_late_record(r, &q->shadow, idgw_acl_g.pool,
                                    &idgw_acl_g.shadow_script, idgw_acl_g.prefix,
                                    q->id.v[IDGW_ACL_TERMINAL], q->ban_addr);
    }
    return rc == OK ? DECLINED : rc;
}

/* ---- the parts folded into mod_idgw_session's script ------------------------------ */

static void check_part_args(request_rec *r, idgw_script_args *a)
{
    check_args(r, idgw_acl_req_get(r), a);
}

static int check_part_result(request_rec *r, const struct redisReply *result)
{
    idgw_acl_req *q = idgw_acl_req_get(r);
    idgw_acl_check_reply rep;
    const char *perr;

    if (result == NULL && (q == NULL || q->ndims == 0)) {
        /* nothing was sent (check_args): leases decided every dimension */
        if (q != NULL) {
            q->fleet_done = 1;
        }
        return OK;
    }
    perr = idgw_acl_reply_parse(result, q ? q->ndims : 0, &rep);

    apr_atomic_inc32(&idgw_acl_g.fleet_checks);
    if (perr != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0333: unexpected reply from "
                      "the access check part: %s", perr);
        return q ? degraded(r, q, "unexpected script reply") : OK;
    }
    return apply_reply(r, q, &rep);
}

/* The folded CHECK denied (a fleet-wide limit): the session module sends
 * the 429; a ban the refusal earned is written here. */
static void check_part_denied(request_rec *r, const struct redisReply *detail)
{
    idgw_acl_req *q = idgw_acl_req_get(r);
    idgw_acl_check_reply rep;

    if (q == NULL || detail == NULL) {
        return;
    }
    if (idgw_acl_reply_parse(detail, q->ndims, &rep) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0333: unexpected detail in the "
                      "access check part's refusal");
        return;
    }
    q->fleet_done = 1;
    shadow_reply(r, q, &rep);
    idgw_acl_breach_bans(r, &idgw_acl_g, q, &rep);
}

/* After the session core: a strike it noted is counted by STRIKES, a second
 * round trip paid only by the refused request (the part carries nothing). */
static int strikes_part_result(request_rec *r, const struct redisReply *result)
{
    idgw_acl_req *q = idgw_acl_req_get(r);

    (void)result;
    if (q != NULL) {
        idgw_acl_strike(r, &idgw_acl_g, q);
    }
    return OK;
}

const idgw_script_part idgw_acl_check_part = {
    "acl_check", idgw_acl_lua_part, 0, check_part_args, check_part_result,
    idgw_acl_lua_part_setup, check_part_denied
};

const idgw_script_part idgw_acl_strikes_part = {
    "acl_strikes", "return 0", 1, NULL, strikes_part_result, NULL, NULL
};

/* ---- refusals the session module sent for us ------------------------------------ */

/* A folded refusal is sent by mod_idgw_session (its DENY): add the
 * Retry-After of a 429. */
/* 1 when a 429 passing the filter is the folded fleet-wide CHECK's refusal
 * (IDGW-ACL-004, sent by the session module for us).  Another module's 429,
 * e.g. the session module's load shedding (IDGW-SRV-004, counted in
 * idgw_shed_total), is not an access-control denial. */
static int refused_by_acl_rate(request_rec *r)
{
    const char *code = apr_table_get(r->notes, IDGW_NOTE_ERROR);

    return code != NULL && strcmp(code, IDGW_E_ACL_RATE.code) == 0;
}

apr_status_t idgw_acl_out_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    idgw_acl_req *q = f->ctx;

    if (q != NULL && r->status == HTTP_TOO_MANY_REQUESTS && refused_by_acl_rate(r)) {
        count_denial(q, &IDGW_E_ACL_RATE);
    }
    if (q != NULL && r->status == HTTP_TOO_MANY_REQUESTS &&
        apr_table_get(r->err_headers_out, "Retry-After") == NULL &&
        apr_table_get(r->headers_out, "Retry-After") == NULL) {
        /* A refused request is due again within one interval of its
         * strictest dimension: T bounds the wait. */
        int64_t wait = 0;
        for (int i = 0; i < q->ndims; i++) {
            const idgw_acl_limit *l = idgw_acl_limit_get(q->conf, q->dims[i]);
            if (l && l->gcra.interval > wait) {
                wait = l->gcra.interval;
            }
        }
        wait = (wait + 999999) / 1000000;
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, wait < 1 ? 1 : wait));
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}
