/*
 * idgw_session_read.c - the status read on the child's batcher, or on a
 * Cluster through its router (when and why: idgw_status_read.h), and the upkeep of the table of sessions this
 * child refreshed a moment ago (idgw_session_touch.h).
 */
#include "idgw_session_cfg.h"
#include "idgw_metrics.h"
#include "idgw_status_read.h"

#include <http_log.h>

APLOG_USE_MODULE(idgw_session);

/* Sessions a child remembers having refreshed (a busy child polls fewer). */
#define TOUCH_SLOTS 8192

void idgw_session_read_child_init(apr_pool_t *pchild, server_rec *s)
{
    const char *msg;

    idgw_g.batch = NULL;
    idgw_g.touched = NULL;
    if (!idgw_g.pool && !idgw_g.cluster)
        return;     /* no pool: statuses go to the script */
    /* a Cluster reads through its router (idgw_session_cluster_status_read) */
    if ((msg = idgw_touch_table_create(&idgw_g.touched, pchild, TOUCH_SLOTS)) != NULL
        || (idgw_g.pool
            && idgw_redis_batch_create(pchild, idgw_g.pool, &idgw_g.batch) != APR_SUCCESS)) {
        idgw_g.batch = NULL;
        idgw_g.touched = NULL;
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "IDGW0169: status reads off in this "
                     "child (%s): every status runs the session script",
                     msg ? msg : "cannot create the batcher");
    }
}

int idgw_session_read_fresh(const idgw_session_request *rq)
{
    return rq->mode == IDGW_MODE_STATUS && (idgw_g.batch || idgw_g.cluster) && idgw_g.touched
           && idgw_touch_recent(idgw_g.touched, rq->sid, apr_time_now(),
                                IDGW_TOUCH_FRESH(idgw_g.limits.idle));
}

/* What the script did to the session's idle timer: an accepted request or
 * a retransmission refreshed it (as of when it was sent, at the latest);
 * a refusal may have ended the session. */
void idgw_session_read_after_script(const idgw_session_request *rq,
                                    const idgw_session_result *res, apr_time_t sent)
{
    if (!idgw_g.touched)
        return;
    if (res->outcome == IDGW_SESSION_ACCEPTED || res->outcome == IDGW_SESSION_RETRANSMIT)
        idgw_touch_record(idgw_g.touched, rq->sid, sent);
    else if (res->outcome == IDGW_SESSION_REFUSED)
        idgw_touch_forget(idgw_g.touched, rq->sid);
}

int idgw_session_status_read(request_rec *r, const idgw_session_request *rq,
                             idgw_session_result *res)
{
    idgw_status_read_cmds cmds;
    idgw_redis_batch_cmd bc[2];
    redisReply *replies[2];
    idgw_redis_batch_origin origin = { "", "", 0 };
    int rc;

    idgw_status_read_cmds_make(r->pool, idgw_g.limits.prefix, rq->sid, &cmds);
    if (idgw_g.cluster) {
        /* with the companions' checks; no history there (the rule is off);
         * a command that did not come back is left to the script, which
         * answers and logs what Redis said */
        if ((rc = idgw_session_cluster_read(r, &cmds, &replies[0], &replies[1])) != OK)
            return rc;
    }
    else {
        idgw_status_read_batch_cmds(&cmds, bc);
        /* DECLINED when the breaker is open: the script path answers and logs it */
        if ((rc = idgw_session_batch(r, "status read", NULL, 2, bc, NULL, replies, &origin))
            != OK)
            return rc;
    }
    if (replies[0])
        idgw_session_keep_reply(r, replies[0]);
    if (replies[1])
        idgw_session_keep_reply(r, replies[1]);
    if (!replies[0] || !replies[1]
        || !idgw_status_read_judge(replies[0], replies[1], rq, &idgw_g.limits, origin.replid,
                                   origin.replid2, res))
        return DECLINED;
    idgw_metrics_count_lookup(IDGW_M_SESSION_STATUS, "read", NULL, NULL, 1);
    return OK;
}
