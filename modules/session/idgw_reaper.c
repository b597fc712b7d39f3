/*
 * idgw_reaper.c - the reaper's thread: claim abandoned operations, unseal
 * their context, hand them to the registered handler (idgw_reaper.h).
 */
#include "idgw_reaper.h"
#include "idgw_session_cfg.h"
#include "idgw_log_limit.h"
#include "idgw_metrics.h"

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <http_log.h>
#include <string.h>

APLOG_USE_MODULE(idgw_session);

/* Entries one claim takes at most: a backlog is worked off over several
 * intervals (and by several children) instead of in one long claim. */
#define CLAIM_MAX 16

typedef struct idgw_reaper {
    server_rec *s;
    apr_pool_t *pool;             /* the thread's own: only it makes subpools here */
    apr_thread_t *thread;
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    int stop;                     /* under lock */
    apr_uint32_t reaped;          /* operations this child reaped */
} idgw_reaper;

static const char *str_of(apr_pool_t *p, const redisReply *e)
{
    return e && e->type == REDIS_REPLY_STRING ? apr_pstrmemdup(p, e->str, e->len) : NULL;
}

const char *idgw_reaper_vhost_id(apr_pool_t *p, const server_rec *s)
{
    apr_port_t port = s->port ? s->port : s->addrs ? s->addrs->host_port : 0;

    /* the main server is "": the nodes of a fleet need not share its name */
    if (!s->is_virtual)
        return "";
    return apr_psprintf(p, "%s:%u", s->server_hostname ? s->server_hostname : "",
                        (unsigned)port);
}

/* The server the record names: the main server for "", else the first
 * vhost of that name; the main server (and a warning) for a name this
 * node's configuration does not have. */
static server_rec *vhost_of(idgw_reaper *rp, apr_pool_t *p, const char *id,
                            const char *sid_log)
{
    if (!id || !*id)
        return rp->s;
    for (server_rec *s = rp->s; s; s = s->next)
        if (s->is_virtual && strcmp(idgw_reaper_vhost_id(p, s), id) == 0)
            return s;
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, rp->s, "IDGW0156: abandoned operation of "
                 "sid=%s ran under virtual host '%s', which this node does not serve: the "
                 "main server's configuration tells the backends", sid_log, id);
    return rp->s;
}

/* One claimed entry {sid, 'reap', op, item, blob, idm, cid, vhost}: tell the
 * backends of the virtual host the operation ran under.  acked: replicas
 * that confirmed the claim (-1: IdgwSessionWaitReplicas off). */
static void reap_one(idgw_reaper *rp, apr_pool_t *p, const redisReply *e, int acked)
{
    const char *sid = str_of(p, e->element[0]);
    const char *op_name = str_of(p, e->element[2]);
    const char *item = str_of(p, e->element[3]);
    const redisReply *blob = e->element[4];
    const char *idm = str_of(p, e->element[5]);
    const char *cid = str_of(p, e->element[6]);
    const char *vhost = str_of(p, e->element[7]);
    server_rec *s;
    idgw_reaped_op op;
    unsigned char *plain;
    size_t plain_len;
    apr_status_t rv;
    int sent;

    memset(&op, 0, sizeof(op));
    op.sid = sid;
    op.sid_log = apr_pstrndup(p, sid, IDGW_SID_LOG_HEX);
    op.op = op_name ? idgw_op_from_name(op_name) : IDGW_OP_NONE;
    if (op.op == IDGW_OP_NONE || !item || !*item || blob->type != REDIS_REPLY_STRING
        || blob->len == 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, rp->s, "IDGW0152: abandoned operation "
                     "of sid=%s claimed, but its context is gone (expired before any node "
                     "claimed it): backends not told", op.sid_log);
        return;
    }
    rv = idgw_vault_unseal(p, idgw_g.vault_keys, sid, apr_pstrcat(p, "o:", item, NULL),
                           (const unsigned char *)blob->str, blob->len, &plain, &plain_len);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, rp->s, "IDGW0153: abandoned %s of sid=%s "
                     "claimed, but its context does not unseal (%s): backends not told",
                     op_name, op.sid_log,
                     rv == APR_ENOENT ? "no key with its id" : "tampered or malformed");
        return;
    }
    /* the session's own id, as its telegrams carried it (a record written
     * before correlation ids were drawn at open carried the old form) */
    op.correlation_id = cid && *cid ? cid : apr_pstrcat(p, "idgw-", sid, NULL);
    op.idm = idm;
    op.item = item;
    op.data = plain;
    op.len = plain_len;
    s = vhost_of(rp, p, vhost, op.sid_log);
    sent = idgw_g.reaper_fn(p, s, &op);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "IDGW0151: abandoned %s of sid=%s "
                 "reaped: its app never came back; %d backend notice(s) sent (reaped by "
                 "this child: %u%s)", op_name, op.sid_log, sent,
                 apr_atomic_inc32(&rp->reaped) + 1,
                 acked >= 0 ? apr_psprintf(p, "; claim confirmed by %d replica(s)", acked) : "");
}

static void handle_entry(idgw_reaper *rp, apr_pool_t *p, const redisReply *e, int acked)
{
    const char *verdict;

    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 2)
        return;
    verdict = str_of(p, e->element[1]);
    if (verdict && strcmp(verdict, "reap") == 0 && e->elements == 8
        && e->element[0]->type == REDIS_REPLY_STRING) {
        apr_pool_t *q;

        /* the plaintext lives in q and is wiped when q goes */
        if (apr_pool_create(&q, p) != APR_SUCCESS)
            return;
        reap_one(rp, q, e, acked);
        apr_pool_destroy(q);
    } else if (verdict && strcmp(verdict, "drop") == 0) {
        const char *sid = str_of(p, e->element[0]);

        ap_log_error(APLOG_MARK, APLOG_INFO, 0, rp->s, "IDGW0155: reaper entry of sid=%.8s "
                     "dropped: its operation was ended by its own handler", sid ? sid : "-");
    }
}

/* The claim's arguments for the one set (shard < 0) or a Cluster shard. */
static void claim_args(idgw_script_args *a, apr_pool_t *p, int shard)
{
    const char *prefix = idgw_g.limits.prefix;

    idgw_script_args_init(a, p);
    idgw_script_args_key(a, shard < 0 ? idgw_key_reap_set(p, prefix, "")
                                      : idgw_key_reap_shard(p, prefix, (unsigned)shard));
    idgw_script_args_str(a, prefix);
    idgw_script_args_int(a, CLAIM_MAX);
    idgw_script_args_int(a, (apr_int64_t)apr_time_as_msec(idgw_g.reaper_grace));
    if (shard >= 0)
        idgw_script_args_str(a, apr_psprintf(p, "%d", shard));   /* the keys' tag */
}

static void handle_claimed(idgw_reaper *rp, apr_pool_t *p, const redisReply *reply, int acked)
{
    for (size_t i = 0; i < reply->elements; i++)
        handle_entry(rp, p, reply->element[i], acked);
}

/* The claim's script, and WAIT behind it when IdgwSessionWaitReplicas asks
 * for replicas: *acked is what WAIT answered (-1: not asked, or no answer). */
static redisReply *run_claim(idgw_redis_conn *conn, int argc, const char **argv,
                             const size_t *lens, int *acked)
{
    int want = idgw_g.srv->wait_replicas;

    *acked = -1;
    if (want <= 0)
        return idgw_redis_evalsha(conn, &idgw_g.reap_claim_script, argc, argv, lens);
    return idgw_redis_evalsha_confirmed(conn, &idgw_g.reap_claim_script, argc, argv, lens,
                                        want, idgw_g.srv->wait_timeout, acked);
}

/* An entry the reaper would act on: {sid, 'reap', op, item, blob, ...} with
 * a context to unseal (the others tell no backend). */
static int is_reapable(const redisReply *e)
{
    return e && e->type == REDIS_REPLY_ARRAY && e->elements == 8
        && e->element[0]->type == REDIS_REPLY_STRING
        && e->element[1]->type == REDIS_REPLY_STRING && strcmp(e->element[1]->str, "reap") == 0
        && e->element[4]->type == REDIS_REPLY_STRING && e->element[4]->len > 0;
}

/* The operation could not be put back: no node will tell its backends. */
static void record_lost_claim(idgw_reaper *rp, apr_pool_t *p, const redisReply *e,
                              const char *why)
{
    APR_OPTIONAL_FN_TYPE(idgw_unsettled_record) *record =
        APR_RETRIEVE_OPTIONAL_FN(idgw_unsettled_record);
    idgw_unsettled u;

    memset(&u, 0, sizeof(u));
    u.kind = "abort-unsent";
    u.op = str_of(p, e->element[2]);
    u.idm = str_of(p, e->element[5]);
    u.correlation_id = str_of(p, e->element[6]);
    u.detail = "the reaper's claim was not confirmed by the replicas and could not be "
               "put back: the abandoned operation's backends were not told";
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, rp->s, "IDGW0158: abandoned %s of sid=%.8s: "
                 "unconfirmed claim not put back (%s): unless a failover undoes the "
                 "claim its backends are never told; left for reconciliation", u.op ? u.op : "-", e->element[0]->str, why);
    if (record)
        record(p, rp->s, &u);
}

void idgw_reaper_putback_args(idgw_script_args *a, apr_pool_t *p, const char *sid,
                              redisReply *const *fields)
{
    idgw_script_args_init(a, p);
    idgw_script_args_key(a, idgw_key_reap_set(p, idgw_g.limits.prefix, sid));
    idgw_script_args_key(a, idgw_key_reap_record(p, idgw_g.limits.prefix, sid));
    idgw_script_args_str(a, sid);
    for (int i = 0; i < 6; i++)
        idgw_script_args_arg(a, fields[i]->type == REDIS_REPLY_STRING ? fields[i]->str : "",
                             fields[i]->type == REDIS_REPLY_STRING ? fields[i]->len : 0);
    idgw_script_args_int(a, (apr_int64_t)apr_time_as_msec(idgw_g.limits.idle
                                                          + idgw_g.reaper_grace));
}

/* The put-back script: on the claim's connection (one server), or through
 * the Cluster router on its slot's master (the shard and the record share
 * the session's tag), its connection tied to held.  NULL: why says why. */
static redisReply *run_putback(apr_pool_t *p, apr_pool_t *held, idgw_redis_conn *conn,
                               idgw_script_args *a, const char **why)
{
    idgw_cluster_call call;
    const char **argv;
    size_t *lens;
    int argc;

    if (!idgw_g.cluster) {
        argc = idgw_script_args_argv(a, &idgw_g.reap_putback_script, 0, &argv, &lens);
        *why = "connection lost";
        return idgw_redis_evalsha(conn, &idgw_g.reap_putback_script, argc, argv, lens);
    }
    if (idgw_cluster_call_prepare(&call, a, &idgw_g.reap_putback_script, 0) < 0) {
        *why = "its keys are not in one Redis Cluster slot";
        return NULL;
    }
    idgw_cluster_eval(idgw_g.cluster, held, &call);
    *why = apr_pstrdup(p, call.err);
    return call.outcome == IDGW_CLUSTER_DONE ? call.reply : NULL;
}

/* Put one unconfirmed claim back (idgw_lua_reap_putback) where it was claimed. */
static void put_back(idgw_reaper *rp, apr_pool_t *p, apr_pool_t *held, idgw_redis_conn *conn,
                     const redisReply *e)
{
    idgw_script_args a;
    const char *why;
    redisReply *reply;

    idgw_reaper_putback_args(&a, p, str_of(p, e->element[0]), e->element + 2);
    reply = run_putback(p, held, conn, &a, &why);
    if (!reply || reply->type != REDIS_REPLY_INTEGER)
        record_lost_claim(rp, p, e, reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                                    : why);
    if (reply)
        freeReplyObject(reply);
}

/*
 * A claim the replicas did not acknowledge: a failover now could bring the
 * claimed records back on the new master, where another node would claim
 * them again after this one told their backends (a notice sent twice).  So
 * nothing is told: the operations are put back, due at once, and the next
 * claim tries again.  The entries that tell no backend (drops) are handled.
 */
static void put_back_unconfirmed(idgw_reaper *rp, apr_pool_t *p, apr_pool_t *held,
                                 idgw_redis_conn *conn, redisReply *reply)
{
    static idgw_log_limit unconfirmed_log;
    apr_uint32_t events;
    int n = 0;

    for (size_t i = 0; i < reply->elements; i++)
        if (is_reapable(reply->element[i])) {
            put_back(rp, p, held, conn, reply->element[i]);
            freeReplyObject(reply->element[i]);
            reply->element[i] = NULL;
            n++;
        }
    if (!n)
        return;
    idgw_metrics_count_lookup(IDGW_M_REDIS_ERRORS, "session", "unconfirmed", NULL, 1);
    if (idgw_log_limit_pass(&unconfirmed_log, &events))
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, rp->s, "IDGW0157: reaper: claim of %d "
                     "abandoned operation(s) not confirmed by %d replica(s) within %"
                     APR_TIME_T_FMT " ms: put back, their backends not told yet (a failover "
                     "could undo the claim); %u such claim(s) since the last line", n,
                     idgw_g.srv->wait_replicas, apr_time_as_msec(idgw_g.srv->wait_timeout),
                     (unsigned)events);
}

/* One claim: the entries due now, taken out of the fleet's set atomically. */
static void claim(idgw_reaper *rp)
{
    apr_pool_t *p, *held;
    idgw_script_args a;
    const char **argv;
    size_t *lens;
    int argc, acked;
    idgw_redis_conn *conn;
    redisReply *reply;
    char err[300];

    if (apr_pool_create(&p, rp->pool) != APR_SUCCESS)
        return;
    /* no request here: the connection is tied to a pool of its own, destroyed
     * as soon as the claim has answered (the entries are handled without it) */
    if (apr_pool_create(&held, p) != APR_SUCCESS) {
        apr_pool_destroy(p);
        return;
    }
    claim_args(&a, p, -1);
    argc = idgw_script_args_argv(&a, &idgw_g.reap_claim_script, 0, &argv, &lens);
    if (idgw_redis_pool_acquire_for(idgw_g.pool, held, &conn, err, sizeof(err)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, rp->s, "IDGW0154: reaper: Redis "
                     "unavailable (%s): trying again in the next interval", err);
        apr_pool_destroy(p);
        return;
    }
    reply = run_claim(conn, argc, argv, lens, &acked);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, rp->s, "IDGW0154: reaper: claim failed "
                     "(%.120s): trying again in the next interval",
                     reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                     : conn->ctx ? conn->ctx->errstr : "no connection");
        if (reply && idgw_redis_classify(reply) == IDGW_REDIS_UNAVAILABLE)
            idgw_redis_pool_trip(idgw_g.pool);
    } else if (idgw_g.srv->wait_replicas > 0 && acked < idgw_g.srv->wait_replicas) {
        put_back_unconfirmed(rp, p, held, conn, reply);
    }
    apr_pool_destroy(held);
    if (reply && reply->type == REDIS_REPLY_ARRAY)
        handle_claimed(rp, p, reply, acked);
    if (reply)
        freeReplyObject(reply);
    apr_pool_destroy(p);
}

/* Shards claimed in one round trip (idgw_cluster_run). */
#define SHARD_BATCH 64

/* Cluster: the shards first .. first + n - 1, one call each, in one round trip. */
static void claim_shards(idgw_reaper *rp, int first, int n)
{
    idgw_cluster_call calls[SHARD_BATCH];
    apr_pool_t *p, *held;
    int i, failed = 0, first_failed = -1, want = idgw_g.srv->wait_replicas;

    if (apr_pool_create(&p, rp->pool) != APR_SUCCESS)
        return;
    if (apr_pool_create(&held, p) != APR_SUCCESS) {
        apr_pool_destroy(p);
        return;
    }
    for (i = 0; i < n; i++) {
        idgw_script_args a;

        claim_args(&a, p, first + i);
        idgw_cluster_call_prepare(&calls[i], &a, &idgw_g.reap_claim_script, 0);
        /* each shard's claim confirmed by the replicas of the master that ran it */
        calls[i].wait_replicas = want;
        calls[i].wait_timeout = idgw_g.srv->wait_timeout;
    }
    idgw_cluster_run(idgw_g.cluster, held, calls, n);
    for (i = 0; i < n && want > 0; i++)
        if (calls[i].outcome == IDGW_CLUSTER_DONE && calls[i].reply->type == REDIS_REPLY_ARRAY
            && calls[i].acked < want)
            put_back_unconfirmed(rp, p, held, NULL, calls[i].reply);
    apr_pool_destroy(held);     /* the connections go back before the backends are told */
    for (i = 0; i < n; i++) {
        const redisReply *reply = calls[i].reply;

        if (calls[i].outcome == IDGW_CLUSTER_DONE && reply->type == REDIS_REPLY_ARRAY)
            handle_claimed(rp, p, reply, want > 0 ? calls[i].acked : -1);
        else if (failed++ == 0)
            first_failed = i;
    }
    if (failed)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, rp->s, "IDGW0154: reaper: claim of %d "
                     "of %d shard(s) failed (shard %d: %.120s): trying again in the next "
                     "interval", failed, n, first + first_failed,
                     calls[first_failed].outcome != IDGW_CLUSTER_DONE ? calls[first_failed].err
                     : calls[first_failed].reply->type == REDIS_REPLY_ERROR
                     ? calls[first_failed].reply->str : "unexpected reply");
    for (i = 0; i < n; i++)
        if (calls[i].reply)
            freeReplyObject(calls[i].reply);
    apr_pool_destroy(p);
}

/* Cluster: every shard of the set, each in its own slot (its sessions' slot). */
static void claim_cluster(idgw_reaper *rp)
{
    int first;

    for (first = 0; first < IDGW_REAP_SHARDS; first += SHARD_BATCH)
        claim_shards(rp, first, IDGW_REAP_SHARDS - first < SHARD_BATCH
                                ? IDGW_REAP_SHARDS - first : SHARD_BATCH);
}

static void *APR_THREAD_FUNC reaper_main(apr_thread_t *t, void *data)
{
    idgw_reaper *rp = data;

    apr_thread_mutex_lock(rp->lock);
    while (!rp->stop) {
        apr_thread_cond_timedwait(rp->wake, rp->lock, idgw_g.reaper_interval);
        if (rp->stop)
            break;
        apr_thread_mutex_unlock(rp->lock);
        if (idgw_g.cluster)
            claim_cluster(rp);
        else
            claim(rp);
        apr_thread_mutex_lock(rp->lock);
    }
    apr_thread_mutex_unlock(rp->lock);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* A pre-cleanup of the child's pool: runs before its subpools (the thread's,
 * the reaper's) are destroyed, so the thread is joined while all it uses is
 * still there.  A claim in progress finishes first (bounded by the backend
 * client's timeouts). */
static apr_status_t reaper_stop(void *data)
{
    idgw_reaper *rp = data;
    apr_status_t trv;

    apr_thread_mutex_lock(rp->lock);
    rp->stop = 1;
    apr_thread_cond_signal(rp->wake);
    apr_thread_mutex_unlock(rp->lock);
    apr_thread_join(&trv, rp->thread);
    return APR_SUCCESS;
}

void idgw_reaper_start(apr_pool_t *pchild, server_rec *s)
{
    idgw_reaper *rp;
    apr_status_t rv;

    if (!idgw_g.reaper_fn || idgw_g.reaper_interval <= 0 || !idgw_g.vault_keys
        || (!idgw_g.pool && !idgw_g.cluster))
        return;
    rp = apr_pcalloc(pchild, sizeof(*rp));
    rp->s = s;
    if ((rv = apr_pool_create(&rp->pool, pchild)) != APR_SUCCESS
        || (rv = apr_thread_mutex_create(&rp->lock, APR_THREAD_MUTEX_DEFAULT, pchild))
           != APR_SUCCESS
        || (rv = apr_thread_cond_create(&rp->wake, pchild)) != APR_SUCCESS
        || (rv = apr_thread_create(&rp->thread, NULL, reaper_main, rp, pchild))
           != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "IDGW0150: cannot start the reaper "
                     "thread: vanished apps' operations are not aborted by this child");
        return;
    }
    apr_pool_pre_cleanup_register(pchild, rp, reaper_stop);
}
