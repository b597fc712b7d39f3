/*
 * idgw_session_unwatch.c - the handler takes the reaper's watch of its
 * operation before it tells the backends itself (mod_idgw.h,
 * idgw_session_unwatch).
 *
 * Whoever removes the watch tells the backends, once.  Before this, a
 * handler told them first and removed the watch with its commit; when that
 * commit was lost (Redis cut off, a failover), the watch stayed, the session
 * idled out and the reaper told them a second time (the fault campaign's
 * net-loss runs).  Now the watch goes first, confirmed by the replicas when
 * IdgwSessionWaitReplicas asks for them; a watch taken but not confirmed is
 * put back (idgw_lua_reap_putback), so the reaper, not this request, tells
 * the backends once the app is gone.
 */
#include "idgw_session_cfg.h"
#include "idgw_session_keys.h"
#include "idgw_reaper.h"

#include <apr_strings.h>
#include <string.h>
#include <http_log.h>

APLOG_USE_MODULE(idgw_session);

/* Nobody may tell this operation's backends now: left for reconciliation
 * (IDGW0450, or IDGW0451 naming it when Redis cannot take the record). */
static void record_untold(request_rec *r, const idgw_session_info *in)
{
    APR_OPTIONAL_FN_TYPE(idgw_unsettled_record) *record =
        APR_RETRIEVE_OPTIONAL_FN(idgw_unsettled_record);
    idgw_unsettled u;

    memset(&u, 0, sizeof(u));
    u.kind = "abort-unsent";
    u.op = idgw_op_name(in->op);
    u.step = idgw_step_name(in->step);
    u.correlation_id = in->correlation_id;
    u.terminal_id = in->terminal_id;
    u.idm = in->idm;
    u.detail = "the reaper's watch was taken unconfirmed and could not be put back: "
               "neither the step nor the reaper tells the backends";
    if (record)
        record(r->pool, r->server, &u);
}

/* The watch this request took, back as it was (due when its session idles out). */
static void put_back(request_rec *r, const idgw_session_info *in, const redisReply *rec)
{
    idgw_script_args a;
    redisReply *reply = NULL;

    idgw_reaper_putback_args(&a, r->pool, in->sid, rec->element + 1);
    if (idgw_session_run(r, &idgw_g.reap_putback_script, &a, 0, &reply) != OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0167: the reaper's watch of %s "
                      "(sid=%s) was taken unconfirmed and could not be put back: unless a "
                      "failover undoes the take, nobody tells its backends; reconcile by "
                      "correlation id %s", idgw_op_name(in->op), in->sid_log,
                      in->correlation_id);
        record_untold(r, in);
    }
    if (reply)
        freeReplyObject(reply);
}

/* A reply of idgw_lua_unwatch: {1, 6 record fields} or {0}. */
static int well_formed(const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1
        || reply->element[0]->type != REDIS_REPLY_INTEGER)
        return 0;
    if (reply->element[0]->integer == 0)
        return 1;
    if (reply->elements != 7)
        return 0;
    for (size_t i = 1; i < 7; i++)
        if (reply->element[i]->type != REDIS_REPLY_STRING)
            return 0;
    return 1;
}

apr_status_t idgw_session_unwatch(request_rec *r)
{
    const idgw_session_req *req = idgw_session_req_get(r);
    const idgw_session_info *in = req ? &req->info : NULL;
    idgw_script_args a;
    redisReply *reply = NULL;
    int confirmed = 1;
    apr_status_t rv = APR_EGENERAL;

    if (!req || !req->info.sid || req->replay || !req->claimed)
        return APR_EINVAL;
    if (!idgw_g.reaper_fn || idgw_g.reaper_interval <= 0)
        return APR_SUCCESS;     /* no reaper: nobody else could tell them */
    idgw_script_args_init(&a, r->pool);
    idgw_script_args_key(&a, idgw_key_session(r->pool, idgw_g.limits.prefix, in->sid));
    idgw_script_args_key(&a, idgw_key_reap_set(r->pool, idgw_g.limits.prefix, in->sid));
    idgw_script_args_key(&a, idgw_key_reap_record(r->pool, idgw_g.limits.prefix, in->sid));
    idgw_script_args_int(&a, req->attempt);
    idgw_script_args_str(&a, in->sid);
    if (idgw_session_run_confirmed(r, &idgw_g.unwatch_script, &a, 0, &reply, &confirmed) != OK)
        goto out;
    if (!well_formed(reply)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0168: the reaper's watch of %s "
                      "(sid=%s) not taken: %.80s", idgw_op_name(in->op), in->sid_log,
                      reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_ERROR
                      ? reply->str : "unexpected reply");
        goto out;
    }
    if (!confirmed && reply->element[0]->integer == 1) {
        put_back(r, in, reply);
        rv = APR_EAGAIN;
        goto out;
    }
    rv = APR_SUCCESS;
out:
    if (reply)
        freeReplyObject(reply);
    return rv;
}
