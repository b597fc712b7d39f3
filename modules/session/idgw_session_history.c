/*
 * idgw_session_history.c - detected rollback (issue 14): hand the session
 * script the replication history of the master this request's connection
 * talks to, and log a session found rolled back.
 *
 * The history is the connection's (read once at connect: idgw_redis_history.c),
 * so it costs no round trip: the request takes the connection it would take
 * anyway (the request-scoped acquire lends the same one to idgw_session_run).
 */
#include "idgw_session_cfg.h"

#include <apr_strings.h>
#include <http_log.h>

APLOG_USE_MODULE(idgw_session);

void idgw_session_history_args(request_rec *r, idgw_session_request *rq)
{
    idgw_redis_conn *conn;
    char err[300];

    rq->replid = rq->replid2 = NULL;
    if (!idgw_g.pool
        || idgw_redis_pool_acquire_for(idgw_g.pool, r->pool, &conn, err, sizeof(err))
           != APR_SUCCESS)
        return;    /* idgw_session_run meets the same failure and reports it */
    if (conn->replid[0]) {
        rq->replid = apr_pstrdup(r->pool, conn->replid);
        rq->replid2 = apr_pstrdup(r->pool, conn->replid2);
    }
}

void idgw_session_log_rollback(request_rec *r, const idgw_session_request *rq)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0165: session rolled back: Redis lacks a "
                  "write the gateway acknowledged (failover or restart; %s/%s seq %"
                  APR_INT64_T_FMT ", sid=%.8s, master replid %.8s): session ended, operation "
                  "aborted, nothing run again; the terminal starts over (IDGW-SEQ-007)",
                  idgw_op_name(rq->op), idgw_step_name(rq->step), rq->seq, rq->sid,
                  rq->replid ? rq->replid : "unknown");
}
