/*
 * idgw_session_redis.c - mod_idgw_session's way of running a script on the
 * per-child pool: which failures are retried, which are not, and the log
 * lines that say so (see idgw_session_run in idgw_session_cfg.h).
 */
#include "idgw_session_cfg.h"
#include "idgw_log_limit.h"
#include "idgw_metrics.h"

#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <string.h>

APLOG_USE_MODULE(idgw_session);

/* at most one IDGW0166 line a second per process (a replica down for a
 * minute would otherwise log every step) */
static idgw_log_limit unconfirmed_log;

/* The pool read the replies of earlier pipelined commits; report failed ones. */
static void log_drain_errors(request_rec *r, idgw_redis_conn *conn)
{
    if (conn->drained_errors > 0)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "IDGW0114: %d earlier pipelined write(s) failed: %s",
                      conn->drained_errors, conn->drain_error);
    conn->drained_errors = 0;
}

/* IDGW0166: a write the master took that fewer replicas than asked acknowledged. */
static void log_unconfirmed(request_rec *r, const idgw_script *s, int acked)
{
    apr_uint32_t events;

    if (idgw_log_limit_pass(&unconfirmed_log, &events))
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0166: script %s not confirmed: "
                      "%d of %d replica(s) acknowledged within %" APR_TIME_T_FMT " ms; "
                      "answered IDGW-SRV-006 (a failover may lose the write); %u such "
                      "write(s) since the last line", s->name, acked < 0 ? 0 : acked,
                      idgw_g.srv->wait_replicas, apr_time_as_msec(idgw_g.srv->wait_timeout),
                      (unsigned)events);
}

/* A script that ran with WAIT behind it: confirmed when enough replicas
 * acknowledged; an unconfirmed write is counted and logged (IDGW0166),
 * whichever mode ran it.  An error reply wrote nothing to confirm. */
static void judge(request_rec *r, const idgw_script *s, const redisReply *reply,
                  int wait_replicas, int acked, int *confirmed)
{
    *confirmed = acked >= wait_replicas;
    if (reply && reply->type != REDIS_REPLY_ERROR && !*confirmed) {
        idgw_metrics_count_lookup(IDGW_M_REDIS_ERRORS, "session", "unconfirmed", NULL, 1);
        log_unconfirmed(r, s, acked);
    }
}

/* One try: the script (and WAIT behind it when wait_replicas > 0). */
static redisReply *send_script(request_rec *r, const idgw_script *s, idgw_redis_conn *conn,
                               int argc, const char **argv, const size_t *lens,
                               int wait_replicas, int *confirmed)
{
    redisReply *reply;
    int acked;

    if (!wait_replicas)
        return idgw_redis_evalsha(conn, s, argc, argv, lens);
    reply = idgw_redis_evalsha_confirmed(conn, s, argc, argv, lens, wait_replicas,
                                         idgw_g.srv->wait_timeout, &acked);
    judge(r, s, reply, wait_replicas, acked, confirmed);
    return reply;
}

/* Cluster: the script on its slot's master, confirmed there likewise. */
static int run_cluster(request_rec *r, const idgw_script *s, idgw_script_args *a,
                       int parts_header, redisReply **reply, int wait_replicas, int *confirmed)
{
    int acked, status = idgw_session_cluster_run(r, s, a, parts_header, reply, wait_replicas,
                                                 &acked);

    if (status == OK && wait_replicas)
        judge(r, s, *reply, wait_replicas, acked, confirmed);
    return status;
}

/*
 * A script without WAIT behind it goes through the child's batcher
 * (idgw_redis_batch.h): it shares a round trip with what the other threads
 * send at the same moment.  OK with *reply, or an error answered and
 * logged as run_script would; DECLINED when the script did not run and the
 * pool should run it: not sent (the breaker is open; expect_replid is not
 * the connection's history, *origin tells which it met:
 * IDGW_SESSION_RUN_OTHER_HISTORY), NOSCRIPT (the pool loads it) or READONLY
 * (the batch's connection is replaced; the pool finds the master).
 */
int idgw_session_batch(request_rec *r, const char *what, const char *name, int n,
                       const idgw_redis_batch_cmd *cmds, const char *expect_replid,
                       redisReply **replies, idgw_redis_batch_origin *origin)
{
    apr_time_t started = apr_time_now();
    char err[300];
    apr_status_t rv = idgw_redis_batch_call(idgw_g.batch, n, cmds, expect_replid, replies,
                                            origin, err, sizeof(err));

    /* the latency load shedding watches, as for the pool's calls */
    idgw_shed_observe(apr_time_now() - started);
    if (rv == APR_SUCCESS)
        return OK;
    if (rv == IDGW_REDIS_BATCH_OTHER_HISTORY)
        return IDGW_SESSION_RUN_OTHER_HISTORY;
    if (APR_STATUS_IS_EAGAIN(rv))
        return DECLINED;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "IDGW0111: Redis command failed (%s%s%s): %s",
                  what, name ? " " : "", name ? name : "", err);
    return HTTP_SERVICE_UNAVAILABLE;
}

static apr_status_t free_reply(void *reply)
{
    freeReplyObject(reply);
    return APR_SUCCESS;
}

void idgw_session_keep_reply(request_rec *r, redisReply *reply)
{
    apr_pool_cleanup_register(r->pool, reply, free_reply, apr_pool_cleanup_null);
}

int idgw_session_run_batched(request_rec *r, const idgw_script *s, idgw_script_args *a,
                             int parts_header, const char *expect_replid, redisReply **reply,
                             idgw_redis_batch_origin *origin)
{
    const char **argv;
    size_t *lens;
    int argc = idgw_script_args_argv(a, s, parts_header, &argv, &lens);
    idgw_redis_batch_cmd cmd = { argc, argv, lens };
    int rc = idgw_session_batch(r, "script", s->name, 1, &cmd, expect_replid, reply, origin);

    if (rc != OK)
        return rc;
    switch (idgw_redis_classify(*reply)) {
    case IDGW_REDIS_NOSCRIPT:
    case IDGW_REDIS_READONLY:
        freeReplyObject(*reply);
        *reply = NULL;
        return DECLINED;
    case IDGW_REDIS_OK:
        return OK;
    default: {
        int status = idgw_session_reply_status(r, s, NULL, *reply);

        freeReplyObject(*reply);
        *reply = NULL;
        return status;
    }
    }
}

/*
 * Retry policy: a command is sent at most once per connection attempt.
 * After an I/O error or a timeout nobody knows whether Redis ran the script,
 * so it is NOT sent again (the terminal retransmits; the script recognises
 * the retransmission).  READONLY is retried once on a fresh connection to the
 * re-resolved master: on a replica the script's first write failed and no
 * write happened.  NOSCRIPT is retried inside idgw_redis_evalsha: the script
 * did not run.
 */
static int run_script(request_rec *r, const idgw_script *s, idgw_script_args *a,
                      int parts_header, redisReply **reply, int wait_replicas, int *confirmed)
{
    const char **argv;
    size_t *lens;
    int argc = idgw_script_args_argv(a, s, parts_header, &argv, &lens);
    int attempt;

    *reply = NULL;
    *confirmed = 1;
    if (idgw_g.cluster)
        return run_cluster(r, s, a, parts_header, reply, wait_replicas, confirmed);
    /* (the session script's own call, which carries a history, batches in
     * call_script; the others carry none) */
    if (!wait_replicas && idgw_g.batch && s != &idgw_g.request_script) {
        idgw_redis_batch_origin origin;
        int rc = idgw_session_run_batched(r, s, a, parts_header, NULL, reply, &origin);

        if (rc != DECLINED)
            return rc;
    }
    if (!idgw_g.pool) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0110: no Redis pool in this child");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    for (attempt = 0; attempt < 2; attempt++) {
        idgw_redis_conn *conn;
        char err[300];
        apr_status_t rv = idgw_redis_pool_acquire_for(idgw_g.pool, r->pool, &conn, err,
                                                      sizeof(err));
        int status, readonly;
        apr_time_t started;

        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "IDGW0110: Redis unavailable: %s", err);
            return HTTP_SERVICE_UNAVAILABLE;
        }
        log_drain_errors(r, conn);
        started = apr_time_now();
        *reply = send_script(r, s, conn, argc, argv, lens, wait_replicas, confirmed);
        /* the latency load shedding watches (a timeout counts as what it cost) */
        idgw_shed_observe(apr_time_now() - started);
        if (!*reply) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0111: Redis command failed "
                          "(script %s): %s", s->name,
                          conn->ctx ? conn->ctx->errstr : "no connection");
            return HTTP_SERVICE_UNAVAILABLE;
        }
        status = idgw_session_reply_status(r, s, conn, *reply);
        readonly = conn->readonly_seen;
        if (status == OK)
            return OK;
        freeReplyObject(*reply);
        *reply = NULL;
        if (!readonly)
            return status;
    }
    return HTTP_SERVICE_UNAVAILABLE;
}

int idgw_session_run(request_rec *r, const idgw_script *s, idgw_script_args *a,
                     int parts_header, redisReply **reply)
{
    int confirmed;

    return run_script(r, s, a, parts_header, reply, 0, &confirmed);
}

int idgw_session_run_confirmed(request_rec *r, const idgw_script *s, idgw_script_args *a,
                               int parts_header, redisReply **reply, int *confirmed)
{
    return run_script(r, s, a, parts_header, reply, idgw_g.srv->wait_replicas, confirmed);
}
