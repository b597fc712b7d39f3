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

/* Why a call did not come back DONE, for a partner's err. */
static void call_error(const idgw_cluster_call *call, char *err, size_t errlen)
{
    apr_snprintf(err, errlen, "%s (slot %d): %s", call->outcome == IDGW_CLUSTER_LOST
                 ? "connection lost, it may have run" : "not run", call->slot, call->err);
}

int idgw_session_cluster_run(request_rec *r, const idgw_script *s, idgw_script_args *a,
                             int parts_header, redisReply **reply, int wait_replicas,
                             int *acked)
{
    idgw_cluster_call call;
    apr_time_t started;
    int status;

    *reply = NULL;
    *acked = -1;
    if (idgw_cluster_call_prepare(&call, a, s, parts_header) < 0) {
        /* a key layout error, not a Redis failure: Redis would say CROSSSLOT */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0190: script %s: its %d key(s) are "
                      "not all in one Redis Cluster slot (a script part registered by "
                      "another module?)", s->name, a->keys_used);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    call.wait_replicas = wait_replicas;
    call.wait_timeout = idgw_g.srv->wait_timeout;
    started = apr_time_now();
    idgw_cluster_eval(idgw_g.cluster, r->pool, &call);
    idgw_shed_observe(apr_time_now() - started);
    *acked = call.acked;
    if (call.outcome != IDGW_CLUSTER_DONE)
        return call_failed(r, s->name, &call);
    status = idgw_session_reply_status(r, s, NULL, call.reply);
    if (status != OK) {
        freeReplyObject(call.reply);
        return status;
    }
    *reply = call.reply;
    return OK;
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

    memset(&call, 0, sizeof(call));
    if (!idgw_g.cluster || key_arg < 1 || key_arg >= argc) {
        apr_snprintf(err, errlen, !idgw_g.cluster ? "no Redis Cluster router in this child"
                     : "no key to route the command by");
        return NULL;
    }
    call.slot = idgw_cluster_key_slot(argv[key_arg], lens[key_arg]);
    call.script = NULL;     /* a plain command: nothing to load */
    call.argc = argc;
    call.argv = argv;
    call.lens = lens;
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
