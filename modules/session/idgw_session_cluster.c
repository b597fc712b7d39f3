/*
 * idgw_session_cluster.c - mod_idgw_session's scripts on a Redis Cluster
 * (IdgwRedisCluster): each runs on the master of its keys' slot through the
 * per-child router (modules/redis/idgw_cluster.h), which follows MOVED, ASK,
 * TRYAGAIN and a promoted replica.  The retry policy is the single server's:
 * a script that was not run (UNAVAILABLE) or may have run (LOST) is never
 * sent again here; the request is answered 503 IDGW-SRV-001 and the terminal
 * retransmits (the session script recognises a retransmission).  A commit
 * confirmed in single mode (IdgwSessionWaitReplicas) is confirmed here the
 * same way: WAIT behind the script on the connection to its slot's master.
 */
#include "idgw_session_cfg.h"
#include "idgw_metrics.h"
#include "idgw_status_read.h"

#include <apr_strings.h>
#include <http_log.h>
#include <string.h>

APLOG_USE_MODULE(idgw_session);

/* What the router said of a call that did not come back DONE (logged). */
static int call_failed(request_rec *r, const char *what, const idgw_cluster_call *call)
{
    if (call->outcome == IDGW_CLUSTER_LOST)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0192: Redis Cluster connection lost "
                      "after %s was sent to slot %d (it may have run): %s", what, call->slot,
                      call->err);
    else
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0191: Redis Cluster did not run %s "
                      "(slot %d): %s", what, call->slot, call->err);
    return HTTP_SERVICE_UNAVAILABLE;
}

/* A plain command (no script to load) on slot's master; argv is kept
 * alive by the caller. */
static void command_call(idgw_cluster_call *call, int slot, int argc, const char **argv,
                         const size_t *lens)
{
    memset(call, 0, sizeof(*call));
    call->slot = slot;
    call->script = NULL;        /* a plain command: nothing to load */
    call->argc = argc;
    call->argv = argv;
    call->lens = lens;
}

/* Why a call did not come back DONE, for a partner's err. */
static void call_error(const idgw_cluster_call *call, char *err, size_t errlen)
{
    apr_snprintf(err, errlen, "%s (slot %d): %s", call->outcome == IDGW_CLUSTER_LOST
                 ? "connection lost, it may have run" : "not run", call->slot, call->err);
}

/* ---- companions: partners' per-request scripts (mod_idgw.h) ---------------- */

#define MAX_COMPANIONS 4
#define MAX_COMPANION_CALLS (MAX_COMPANIONS * IDGW_CLUSTER_COMPANION_CALLS)

static const idgw_cluster_companion *companions[MAX_COMPANIONS];
static int ncompanions;

apr_status_t idgw_session_cluster_companion_register(apr_pool_t *pconf,
                                                     const idgw_cluster_companion *c)
{
    (void)pconf;
    if (!c || !c->calls || !c->results)
        return APR_EINVAL;
    for (int i = 0; i < ncompanions; i++) {
        if (companions[i] == c)
            return APR_SUCCESS;     /* a second post_config (restart) */
    }
    if (ncompanions == MAX_COMPANIONS)
        return APR_ENOSPC;
    companions[ncompanions++] = c;
    return APR_SUCCESS;
}

typedef struct {
    int n;
    idgw_cluster_call calls[MAX_COMPANION_CALLS + 2];   /* and the session's, last (the
                                                           status read: two) */
    int count[MAX_COMPANIONS];                         /* calls per companion */
} companion_calls;

/* The companions' calls for r, first in cc->calls; -1 on a key layout error
 * (logged: a companion's script whose keys span slots). */
static int gather(request_rec *r, companion_calls *cc)
{
    cc->n = 0;
    for (int i = 0; i < ncompanions; i++) {
        const idgw_script *scripts[IDGW_CLUSTER_COMPANION_CALLS];
        idgw_script_args *args[IDGW_CLUSTER_COMPANION_CALLS];
        int k = companions[i]->calls(r, scripts, args, IDGW_CLUSTER_COMPANION_CALLS);

        cc->count[i] = k < 0 ? 0 : k > IDGW_CLUSTER_COMPANION_CALLS
                                 ? IDGW_CLUSTER_COMPANION_CALLS : k;
        for (int j = 0; j < cc->count[i]; j++) {
            if (idgw_cluster_call_prepare(&cc->calls[cc->n++], args[j], scripts[j], 0) < 0) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0190: script %s of %s: its "
                              "keys are not all in one Redis Cluster slot", scripts[j]->name,
                              companions[i]->name);
                return -1;
            }
        }
    }
    return cc->n;
}

/* Hands each companion its replies (freed here): OK, or the first refusal. */
static int deliver(request_rec *r, companion_calls *cc)
{
    int at = 0, rc = OK;

    for (int i = 0; i < ncompanions; i++) {
        redisReply *replies[IDGW_CLUSTER_COMPANION_CALLS];
        char err[256] = "";

        for (int j = 0; j < cc->count[i]; j++) {
            idgw_cluster_call *c = &cc->calls[at + j];

            replies[j] = c->outcome == IDGW_CLUSTER_DONE ? c->reply : NULL;
            if (!replies[j] && !*err)
                call_error(c, err, sizeof(err));
        }
        if (cc->count[i] > 0 && rc == OK)
            rc = companions[i]->results(r, replies, cc->count[i], err);
        for (int j = 0; j < cc->count[i]; j++) {
            if (replies[j])
                freeReplyObject(replies[j]);
        }
        at += cc->count[i];
    }
    return rc;
}

void idgw_session_cluster_companions_struck(request_rec *r)
{
    for (int i = 0; i < ncompanions; i++) {
        if (companions[i]->struck)
            companions[i]->struck(r);
    }
}

int idgw_session_cluster_companions_first(request_rec *r)
{
    companion_calls cc;
    int n = gather(r, &cc);

    if (n <= 0)
        return n < 0 ? HTTP_INTERNAL_SERVER_ERROR : OK;
    idgw_cluster_run(idgw_g.cluster, r->pool, cc.calls, n);
    return deliver(r, &cc);
}

int idgw_session_cluster_run(request_rec *r, const idgw_script *s, idgw_script_args *a,
                             int parts_header, redisReply **reply, int wait_replicas,
                             int *acked)
{
    companion_calls cc;
    idgw_cluster_call *call;
    apr_time_t started;
    int status, n = 0;

    *reply = NULL;
    *acked = -1;
    /* the per-request script: what the companions have left is sent with it
     * (call_script handed them over first where that is not safe) */
    if (parts_header && (n = gather(r, &cc)) < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    call = &cc.calls[n];
    if (idgw_cluster_call_prepare(call, a, s, parts_header) < 0) {
        /* a key layout error, not a Redis failure: Redis would say CROSSSLOT */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0190: script %s: its %d key(s) are "
                      "not all in one Redis Cluster slot (a script part registered by "
                      "another module?)", s->name, a->keys_used);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    call->wait_replicas = wait_replicas;
    call->wait_timeout = idgw_g.srv->wait_timeout;
    started = apr_time_now();
    /* alone, it shares a round trip with the other threads' calls to its
     * master, as one server's scripts do (unless it waits for replicas) */
    if (n > 0)
        idgw_cluster_run(idgw_g.cluster, r->pool, cc.calls, n + 1);
    else
        idgw_cluster_eval_shared(idgw_g.cluster, r->pool, call);
    idgw_shed_observe(apr_time_now() - started);
    if (n > 0 && (status = deliver(r, &cc)) != OK) {
        if (call->outcome == IDGW_CLUSTER_DONE)
            freeReplyObject(call->reply);
        return status;
    }
    *acked = call->acked;
    if (call->outcome != IDGW_CLUSTER_DONE)
        return call_failed(r, s->name, call);
    status = idgw_session_reply_status(r, s, NULL, call->reply);
    if (status != OK) {
        freeReplyObject(call->reply);
        return status;
    }
    *reply = call->reply;
    return OK;
}

/*
 * The read alone, on the batcher of the session's master: the reads of this
 * child's threads to that master that arrive together share one round trip,
 * as on one server (idgw_redis_batch.h).  A failure leaves the status to the
 * script, whose call follows a failover; a MOVED comes back as HMGET's
 * error reply, which the judge refuses, and the script's call corrects the
 * map.
 */
static void batched_read(idgw_redis_batch *b, idgw_status_read_cmds *cmds,
                         redisReply **hm_reply, redisReply **tm_reply)
{
    idgw_redis_batch_cmd bc[2];
    redisReply *replies[2];
    idgw_redis_batch_origin origin;
    char err[200];
    apr_time_t started = apr_time_now();
    apr_status_t rv;

    idgw_status_read_batch_cmds(cmds, bc);
    rv = idgw_redis_batch_call(b, 2, bc, NULL, replies, &origin, err, sizeof(err));
    idgw_shed_observe(apr_time_now() - started);
    if (rv == APR_SUCCESS) {
        *hm_reply = replies[0];
        *tm_reply = replies[1];
    }
}

/* A read's reply for the caller (NULL: it did not come back), freed here
 * when a companion refused the request (status not OK). */
static redisReply *keep_read(idgw_cluster_call *call, int status)
{
    if (call->outcome != IDGW_CLUSTER_DONE)
        return NULL;
    if (status == OK)
        return call->reply;
    freeReplyObject(call->reply);
    return NULL;
}

int idgw_session_cluster_read(request_rec *r, idgw_status_read_cmds *cmds,
                              redisReply **hm_reply, redisReply **tm_reply)
{
    companion_calls cc;
    idgw_cluster_call *hm, *tm;
    idgw_redis_batch *b;
    apr_time_t started;
    int n, slot, status = OK;

    *hm_reply = *tm_reply = NULL;
    if ((n = gather(r, &cc)) < 0)
        return HTTP_INTERNAL_SERVER_ERROR;
    slot = idgw_cluster_key_slot(cmds->hmget[1], cmds->hmget_lens[1]);
    if (n == 0 && (b = idgw_cluster_slot_batch(idgw_g.cluster, slot)) != NULL) {
        batched_read(b, cmds, hm_reply, tm_reply);
        return OK;      /* nothing refused: a read that failed goes to the script */
    }
    /* with the companions' scripts: HMGET and TIME on the session's slot,
     * the same master, one connection, pipelined behind the scripts
     * (idgw_cluster_run) */
    hm = &cc.calls[n];
    tm = &cc.calls[n + 1];
    command_call(hm, slot, 2 + IDGW_SR_NFIELDS, cmds->hmget, cmds->hmget_lens);
    command_call(tm, slot, 1, cmds->time, cmds->time_lens);
    started = apr_time_now();
    idgw_cluster_run(idgw_g.cluster, r->pool, cc.calls, n + 2);
    idgw_shed_observe(apr_time_now() - started);
    /* the companions' verdicts stand whatever the read found: a refusal is
     * sent, and the checks are not sent again on the script's path */
    if (n > 0)
        status = deliver(r, &cc);
    *hm_reply = keep_read(hm, status);
    *tm_reply = keep_read(tm, status);
    return status;
}

redisReply *idgw_session_cluster_command(apr_pool_t *owner, int argc, const char **argv,
                                         const size_t *lens, char *err, size_t errlen)
{
    return idgw_session_cluster_command_at(owner, 1, argc, argv, lens, err, errlen);
}

redisReply *idgw_session_cluster_command_at(apr_pool_t *owner, int key_arg, int argc,
                                            const char **argv, const size_t *lens, char *err,
                                            size_t errlen)
{
    idgw_cluster_call call;

    if (!idgw_g.cluster || key_arg < 1 || key_arg >= argc) {
        apr_snprintf(err, errlen, !idgw_g.cluster ? "no Redis Cluster router in this child"
                     : "no key to route the command by");
        return NULL;
    }
    command_call(&call, idgw_cluster_key_slot(argv[key_arg], lens[key_arg]), argc, argv, lens);
    idgw_cluster_eval(idgw_g.cluster, owner, &call);
    if (call.outcome != IDGW_CLUSTER_DONE) {
        call_error(&call, err, errlen);
        return NULL;
    }
    return call.reply;
}

redisReply *idgw_session_cluster_eval_script(apr_pool_t *owner, const idgw_script *s,
                                             idgw_script_args *a, char *err, size_t errlen)
{
    idgw_cluster_call call;

    if (!idgw_g.cluster) {
        apr_snprintf(err, errlen, "no Redis Cluster router in this child");
        return NULL;
    }
    if (idgw_cluster_call_prepare(&call, a, s, 0) < 0) {
        apr_snprintf(err, errlen, "script %s: its keys are not in one slot", s->name);
        return NULL;
    }
    idgw_cluster_eval(idgw_g.cluster, owner, &call);
    if (call.outcome != IDGW_CLUSTER_DONE) {
        call_error(&call, err, errlen);
        return NULL;
    }
    return call.reply;
}

int idgw_session_cluster_eval_scripts(apr_pool_t *owner, const idgw_script *s,
                                      idgw_script_args *const *args, int n,
                                      redisReply **replies, char *err, size_t errlen)
{
    idgw_cluster_call *calls;
    int i, done = 0;

    *err = '\0';
    if (!idgw_g.cluster || n <= 0) {
        apr_snprintf(err, errlen, !idgw_g.cluster ? "no Redis Cluster router in this child"
                     : "no script to run");
        return 0;
    }
    calls = apr_pcalloc(owner, sizeof(*calls) * (apr_size_t)n);
    for (i = 0; i < n; i++) {
        replies[i] = NULL;
        if (idgw_cluster_call_prepare(&calls[i], args[i], s, 0) < 0) {
            apr_snprintf(err, errlen, "script %s: its keys are not in one slot", s->name);
            return 0;
        }
    }
    idgw_cluster_run(idgw_g.cluster, owner, calls, n);
    for (i = 0; i < n; i++) {
        if (calls[i].outcome == IDGW_CLUSTER_DONE) {
            replies[i] = calls[i].reply;
            done++;
        }
        else if (*err == '\0') {
            call_error(&calls[i], err, errlen);
        }
    }
    return done;
}

/* One counter's call: the count script on the counter's key. */
static void counter_call(request_rec *r, idgw_cluster_call *call, const char *key)
{
    idgw_script_args a;

    idgw_script_args_init(&a, r->pool);
    idgw_script_args_key(&a, key);
    idgw_script_args_int(&a, (apr_int64_t)apr_time_as_msec(idgw_g.limits.strike_window));
    idgw_cluster_call_prepare(call, &a, &idgw_g.count_script, 0);
}

apr_status_t idgw_session_cluster_strikes(request_rec *r, const char *tid, const char *addr,
                                          int terminal)
{
    idgw_cluster_call calls[2];
    int i, n = 0, failed = 0;

    if (!idgw_g.cluster)
        return APR_EGENERAL;
    counter_call(r, &calls[n++], idgw_key_strike_address(r->pool, idgw_g.limits.prefix,
                                                        addr));
    if (terminal && tid)
        counter_call(r, &calls[n++], idgw_key_strike_terminal(r->pool, idgw_g.limits.prefix,
                                                             tid));
    /* both counters in one round trip (two slots, maybe two masters) */
    idgw_cluster_run(idgw_g.cluster, r->pool, calls, n);
    for (i = 0; i < n; i++) {
        const redisReply *rp = calls[i].outcome == IDGW_CLUSTER_DONE ? calls[i].reply : NULL;

        if (!rp || rp->type != REDIS_REPLY_INTEGER) {
            failed++;
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0193: a strike counter was not "
                          "written (Redis Cluster slot %d): %.160s", calls[i].slot,
                          !rp ? calls[i].err : rp->type == REDIS_REPLY_ERROR ? rp->str
                          : "unexpected reply");
        }
        if (calls[i].reply)
            freeReplyObject(calls[i].reply);
    }
    return failed ? APR_EGENERAL : APR_SUCCESS;
}
