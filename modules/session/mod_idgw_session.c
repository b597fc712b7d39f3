/*
 * mod_idgw_session.c - sessions and sequence management for the idgw gateway.
 *
 * Hooks: pre_config (forget script parts of the previous cycle), check_config
 * (check the settings: runs in httpd -t too; the vault keys are loaded by
 * their directive), post_config (assemble the per-request script),
 * child_init (the Redis pool: no socket exists before fork; the reaper's
 * thread, idgw_reaper.c), translate_name (the method: TRACE never reaches
 * fixups), fixups (the
 * session check: one Redis script per request), log_transaction (commit for a
 * handler that claimed a step and never answered it).  The handlers and the
 * exported functions live in idgw_session_http.c and idgw_session_exports.c,
 * request parsing in idgw_session_request.c, script runs in
 * idgw_session_redis.c, the process-wide state (idgw_g) and the per-request
 * state's getter in idgw_session_state.c.  This file calls those; none of
 * them calls back into it.
 *
 * Log ids IDGW01xx belong to this module.
 */
#include "idgw_session_cfg.h"
#include "idgw_lua_session.h"
#include "idgw_metrics.h"
#include "idgw_reaper.h"

#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <string.h>

APLOG_USE_MODULE(idgw_session);

/* ---- start-up ------------------------------------------------------------ */

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    /* the parts of the previous configuration cycle went with its pool; a
     * reaper handler registers again (its module may have been removed) */
    idgw_g.nparts = 0;
    idgw_g.reaper_fn = NULL;
    idgw_g.step_worst = 0;       /* the handler declares it again */
    idgw_g.step_worst_by = NULL;
    memset(idgw_g.prefetch, 0, sizeof(idgw_g.prefetch));   /* asked for again */
    return OK;
}

static int fail_start(server_rec *s, const char *msg)
{
    ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "IDGW0101: mod_idgw_session: %s", msg);
    return HTTP_INTERNAL_SERVER_ERROR;
}

static int build_scripts(apr_pool_t *pconf, server_rec *s)
{
    idgw_script_part_text texts[IDGW_SCRIPT_MAX_PARTS];
    char err[256];
    int i;

    for (i = 0; i < idgw_g.nparts; i++) {
        texts[i].name = idgw_g.parts[i]->name;
        texts[i].lua_body = idgw_g.parts[i]->lua_body;
        texts[i].after_core = idgw_g.parts[i]->after_core;
        texts[i].lua_setup = idgw_g.parts[i]->lua_setup;
    }
    /* EVAL text and function library (FCALL: definitions made once) */
    if (!idgw_script_compose(&idgw_g.request_script, pconf, "session",
                             idgw_lua_session_core_text(pconf), texts, idgw_g.nparts,
                             err, sizeof(err)))
        return fail_start(s, err);
    idgw_script_init(&idgw_g.commit_script, "commit", idgw_lua_commit);
    idgw_script_init(&idgw_g.strike_script, "strike", idgw_lua_strike);
    idgw_script_init(&idgw_g.vault_put_script, "vault_put", idgw_lua_vault_put);
    idgw_g.all_scripts[0] = &idgw_g.request_script;
    idgw_g.all_scripts[1] = &idgw_g.commit_script;
    idgw_g.all_scripts[2] = &idgw_g.strike_script;
    idgw_g.all_scripts[3] = &idgw_g.vault_put_script;
    idgw_script_init(&idgw_g.reap_claim_script, "reap_claim", idgw_lua_reap_claim);
    idgw_g.all_scripts[4] = &idgw_g.reap_claim_script;
    idgw_script_init(&idgw_g.reap_putback_script, "reap_putback", idgw_lua_reap_putback);
    idgw_g.all_scripts[5] = &idgw_g.reap_putback_script;
    idgw_script_init(&idgw_g.count_script, "count", idgw_lua_count);
    idgw_g.all_scripts[6] = &idgw_g.count_script;
    idgw_script_init(&idgw_g.unwatch_script, "unwatch", idgw_lua_unwatch);
    idgw_g.all_scripts[7] = &idgw_g.unwatch_script;
    return OK;
}

/* httpd answers TRACE itself unless TraceEnable is off; the translate_name
 * hook refuses it first under IdgwSession, the warning is for the rest. */
static void warn_trace_enabled(server_rec *s)
{
    server_rec *sv;

    for (sv = s; sv; sv = sv->next) {
        idgw_session_srv *c = ap_get_module_config(sv->module_config, &idgw_session_module);
        core_server_config *core = ap_get_core_module_config(sv->module_config);

        if (c->used && core->trace_enable != AP_TRACE_DISABLE)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sv,
                         "IDGW0145: TraceEnable is not off for %s:%u, a server with "
                         "IdgwSession locations: set TraceEnable off (the gateway's "
                         "locations refuse TRACE, the server's others echo it)",
                         sv->server_hostname ? sv->server_hostname : "?",
                         (unsigned)sv->port);
    }
}

/* check_config runs in "httpd -t" too (post_config does not): whatever can
 * stop a start is checked here, so "apache2ctl configtest" fails first. */
static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    idgw_session_srv *c = ap_get_module_config(s->module_config, &idgw_session_module);
    const char *msg;

    if ((msg = idgw_session_cfg_finish(pconf, s, c)))
        return fail_start(s, msg);
    return OK;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    idgw_session_srv *c = ap_get_module_config(s->module_config, &idgw_session_module);

    /* check_config has run idgw_session_cfg_finish on c (same pconf) */
    idgw_g.srv = c;
    /* before fork: the children inherit the key layout and only read it */
    idgw_keys_cluster_layout(c->redis.nseeds > 0);
    /* a part's keys (access control's lists and limiters) lie on other slots
     * than the session's: one script over them would be refused CROSSSLOT
     * on every request, so refuse now, loudly, rather than per request */
    if (c->redis.nseeds && idgw_g.nparts)
        return fail_start(s, apr_psprintf(pconf, "IdgwRedisCluster: %s folds its checks "
                                          "into the per-request script, which a Redis "
                                          "Cluster cannot run yet (its keys lie on other "
                                          "slots than the session's); set IdgwAcl Off "
                                          "everywhere or use IdgwRedisServer / "
                                          "IdgwRedisSentinels", idgw_g.parts[0]->name));
    warn_trace_enabled(s);
    idgw_session_limits_get(c, &idgw_g.limits);
    idgw_g.reaper_grace = c->reaper_grace;
    idgw_g.reaper_interval = c->reaper_interval;
    /* loaded by the directive (idgw_session_cfg.c), in the root parent: the
     * children inherit the keys, the file can stay 0600 */
    idgw_g.vault_keys = c->vault_keys;
    if (c->vault_keys) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "IDGW0102: vault: %d key(s) loaded, the first one seals",
                     idgw_vault_key_count(idgw_g.vault_keys));
    } else {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "IDGW0103: IdgwVaultKeyFile not set: the vault refuses to store data");
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "IDGW0104: retry lease %" APR_TIME_T_FMT
                 " ms (a step may take %" APR_TIME_T_FMT " ms%s%s)",
                 apr_time_as_msec(c->pending_lease), apr_time_as_msec(idgw_g.step_worst),
                 idgw_g.step_worst_by ? ", declared by " : ": no handler declared it",
                 idgw_g.step_worst_by ? idgw_g.step_worst_by : "");
    return build_scripts(pconf, s);
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;
    const char *msg;

    if (!idgw_g.srv)
        return;
    /* without the table the local limits pass everything: say so loudly */
    if ((msg = idgw_shed_child_init(pchild)) != NULL)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "IDGW0172: load shedding's limiter "
                     "table: %s; IdgwShedLocalLimit is not enforced in this child", msg);
    /* a Cluster router connects nothing yet: the first call asks for the map */
    if (idgw_g.srv->redis.nseeds)
        rv = idgw_cluster_create(pchild, &idgw_g.srv->redis, idgw_g.srv->redis.seeds,
                                 idgw_g.srv->redis.nseeds, idgw_g.all_scripts,
                                 IDGW_SESSION_NSCRIPTS, &idgw_g.cluster);
    else
        rv = idgw_redis_pool_create(pchild, &idgw_g.srv->redis, idgw_g.all_scripts,
                                    IDGW_SESSION_NSCRIPTS, &idgw_g.pool);
    if (rv != APR_SUCCESS) {
        idgw_g.pool = NULL;
        idgw_g.cluster = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "%s", idgw_g.srv->redis.nseeds
                     ? "IDGW0194: cannot create the Redis Cluster router"
                     : "IDGW0106: cannot create the Redis connection pool");
        return;
    }
    idgw_session_read_child_init(pchild, s);
    idgw_reaper_start(pchild, s);
}

/* ---- the per-request check ---------------------------------------------- */

static void add_parts_args(request_rec *r, idgw_script_args *a)
{
    int i;

    for (i = 0; i < idgw_g.nparts; i++) {
        idgw_script_args_part(a);
        if (idgw_g.parts[i]->add_args)
            idgw_g.parts[i]->add_args(r, a);
    }
}

/* Every part hears of the call, also one that had nothing to do in it (no
 * result: NULL), e.g. when the call was the core alone. */
static int run_parts_results(request_rec *r, const idgw_session_result *res)
{
    int i, rc;

    for (i = 0; i < idgw_g.nparts; i++) {
        const redisReply *pr = i < res->nparts ? res->parts[i] : NULL;

        if (!idgw_g.parts[i]->on_result)
            continue;
        rc = idgw_g.parts[i]->on_result(r, pr && pr->type != REDIS_REPLY_NIL ? pr : NULL);
        if (rc != OK)
            return rc;
    }
    return OK;
}

/* The session script through the child's batcher, made for the history of
 * the connection the batcher last used; once more when the batch met
 * another (a failover, a restart).  DECLINED: the pool should run it. */
static int run_batched(request_rec *r, idgw_session_request *rq, idgw_script_args *a,
                       redisReply **reply)
{
    idgw_redis_batch_origin origin;
    char *replid = apr_pcalloc(r->pool, 41), *replid2 = apr_pcalloc(r->pool, 41);
    int rc, tries;

    if (!idgw_redis_batch_history(idgw_g.batch, replid, replid2))
        return DECLINED;    /* nothing known yet: the pool's connection tells */
    for (tries = 0; tries < 2; tries++) {
        rq->replid = replid;
        rq->replid2 = replid2;
        idgw_session_core_args_history(a, rq);
        rc = idgw_session_run_batched(r, &idgw_g.request_script, a, 1, replid, reply, &origin);
        if (rc != IDGW_SESSION_RUN_OTHER_HISTORY)
            return rc;
        replid = apr_pstrdup(r->pool, origin.replid);
        replid2 = apr_pstrdup(r->pool, origin.replid2);
    }
    return DECLINED;
}

/* The session script: through the batcher when nothing waits behind it
 * (a status, or any request while IdgwSessionWaitReplicas is 0), else (or
 * when the batch declined) on the request's connection, confirmed by the
 * replicas when IdgwSessionWaitReplicas asks for it (*confirmed). */
static int run_request_script(request_rec *r, idgw_session_request *rq, idgw_script_args *a,
                              redisReply **reply, int *confirmed)
{
    int rc = DECLINED;

    if (idgw_g.batch && (rq->mode == IDGW_MODE_STATUS || !idgw_g.srv->wait_replicas)
        && (rc = run_batched(r, rq, a, reply)) != DECLINED)
        return rc;
    if (idgw_g.batch) {
        /* the history of the connection the pool lends this request */
        idgw_session_history_args(r, rq);
        idgw_session_core_args_history(a, rq);
    }
    if (rq->mode == IDGW_MODE_STATUS)
        return idgw_session_run(r, &idgw_g.request_script, a, 1, reply);
    return idgw_session_run_confirmed(r, &idgw_g.request_script, a, 1, reply, confirmed);
}

/* One script call: core + parts.  Fills res (reply kept alive in r->pool).
 * Every request but status advances the session: its write is confirmed by
 * the replicas when IdgwSessionWaitReplicas asks for it (*confirmed). */
static int call_script(request_rec *r, idgw_session_request *rq,
                       idgw_session_result *res, int *confirmed)
{
    idgw_script_args a;
    redisReply *reply;
    char err[200];
    int rc;
    apr_time_t sent;

    /* Cluster: partners' scripts a refused open or step must not outrun go
     * first; a status takes them along in its own round trip */
    if (idgw_g.cluster && rq->mode != IDGW_MODE_STATUS &&
        (rc = idgw_session_cluster_companions_first(r)) != OK)
        return rc;
    idgw_script_args_init(&a, r->pool);
    /* with a batcher the history is known once the call's path is */
    if (!idgw_g.batch)
        idgw_session_history_args(r, rq);
    idgw_session_core_args(&a, &idgw_g.limits, rq);
    add_parts_args(r, &a);
    *confirmed = 1;
    /* a status whose parts have nothing to do, of a session this child
     * refreshed a moment ago: one read when it can (idgw_status_read.h) */
    if (idgw_session_read_fresh(rq) && idgw_script_args_parts_idle(&a)
        && (rc = idgw_session_status_read(r, rq, res)) != DECLINED)
        return rc;
    if (rq->mode == IDGW_MODE_STATUS)
        idgw_metrics_count_lookup(IDGW_M_SESSION_STATUS, "script", NULL, NULL, 1);
    sent = apr_time_now();
    if ((rc = run_request_script(r, rq, &a, &reply, confirmed)) != OK)
        return rc;
    idgw_session_keep_reply(r, reply);
    if (idgw_session_parse_reply(r->pool, reply, res, err, sizeof(err)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0113: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    idgw_session_read_after_script(rq, res, sent);
    return OK;
}

/* Waits for an answer committed a moment ago (5, 10, 20, 40 ms: 75 ms at most). */
#define PENDING_WAITS 4

/* A retransmission of a step whose answer is not in Redis yet (IDGW-SEQ-004). */
static int answer_in_flight(const idgw_session_result *res)
{
    return res->outcome == IDGW_SESSION_REFUSED && res->error == &IDGW_E_SEQ_PENDING;
}

static int server_error(request_rec *r, int rc)
{
    if (rc == HTTP_SERVICE_UNAVAILABLE)
        return idgw_xml_error_send(r, &IDGW_E_SRV_REDIS);
    if (rc == HTTP_INTERNAL_SERVER_ERROR)
        return idgw_xml_error_send(r, &IDGW_E_SRV_INTERNAL);
    return rc;
}

static void fill_info(request_rec *r, idgw_session_req *req, const idgw_session_request *rq,
                      const idgw_session_result *res, const char *token)
{
    idgw_session_info *in = &req->info;

    in->sid = rq->sid;
    in->sid_log = apr_pstrndup(r->pool, rq->sid, IDGW_SID_LOG_HEX);
    in->token = rq->mode == IDGW_MODE_OPEN ? token : NULL;
    in->op = rq->op;
    in->step = rq->step;
    in->from = res->from;
    in->to = res->to;
    in->seq = res->seq;
    in->relays = res->relays;
    in->reclaimed = res->kind == IDGW_ACCEPT_RECLAIM;
    in->terminal_id = rq->terminal_id;
    in->idm = rq->idm;
    in->client_addr = rq->client_addr;
    in->created = apr_time_from_msec(res->created_ms);
    in->deadline = apr_time_from_msec(res->deadline_ms);
    in->correlation_id = apr_pstrdup(r->pool, res->correlation_id);
    req->attempt = res->attempt;
}

/* The items the claim read for the handler (rq->prefetch, in its order);
 * they point into the reply, which lives as long as the request. */
static void keep_prefetched(request_rec *r, idgw_session_req *req,
                            const idgw_session_request *rq, const idgw_session_result *res)
{
    char *names, *name, *last;
    size_t i = 0;

    if (!rq->prefetch || !res->prefetched)
        return;
    req->prefetched = apr_array_make(r->pool, 2, sizeof(idgw_vault_prefetched));
    names = apr_pstrdup(r->pool, rq->prefetch);
    for (name = apr_strtok(names, " ", &last); name && i < res->prefetched->elements;
         name = apr_strtok(NULL, " ", &last), i++) {
        const redisReply *v = res->prefetched->element[i];
        idgw_vault_prefetched *it = apr_array_push(req->prefetched);

        it->name = name;
        it->blob = v->type == REDIS_REPLY_STRING ? v->str : NULL;
        it->len = v->type == REDIS_REPLY_STRING ? v->len : 0;
    }
}

static int answer_refusal(request_rec *r, const idgw_session_request *rq,
                          const idgw_session_result *res)
{
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "IDGW0121: %s %s: %s/%s seq %" APR_INT64_T_FMT " refused: sid=%.8s terminal=%s%s%s",
                  res->error->code, res->error->message, idgw_op_name(rq->op),
                  idgw_step_name(rq->step), rq->seq, rq->sid, rq->terminal_id,
                  !res->struck ? ""
                  : res->strike_scope == IDGW_STRIKE_SESSION
                  ? ", strike recorded (terminal and address)"
                  : ", strike recorded (address only: nothing proved the terminal id)",
                  res->invalidated ? ", session invalidated" : "");
    if (res->error == &IDGW_E_SEQ_ROLLBACK) {
        idgw_session_log_rollback(r, rq);
        idgw_session_unsettled_rollback(r, rq, res->correlation_id);
    }
    return idgw_xml_error_send(r, res->error);
}

/*
 * The master took the open, claim or close, but not IdgwSessionWaitReplicas
 * replicas (IDGW0166 logged).  Nothing may run on a state a failover could
 * take back: a claimed step is aborted before its handler called anyone (the
 * abort is its stored answer: the retransmission gets IDGW-SRV-006 replayed,
 * i.e. start the operation over), an open's token is never handed out (the
 * session idles out), a close is answered IDGW-SRV-006 (retry it).
 */
static int answer_unconfirmed(request_rec *r, idgw_session_req *req,
                              const idgw_session_request *rq)
{
    if (rq->mode == IDGW_MODE_STEP) {
        const char *body = idgw_xml_error_body(r->pool, IDGW_E_SRV_UNCONFIRMED.code,
                                               IDGW_E_SRV_UNCONFIRMED.message);

        idgw_session_commit_abort(r, IDGW_E_SRV_UNCONFIRMED.http_status, body);
    }
    req->claimed = 0;
    return idgw_xml_error_send(r, &IDGW_E_SRV_UNCONFIRMED);
}

static int prepare_replay(request_rec *r, idgw_session_req *req,
                          const idgw_session_request *rq, const idgw_session_result *res)
{
    if (!idgw_answer_decode(r->pool, res->answer, res->answer_len, &req->replay_status,
                            &req->replay_type, &req->replay_body, &req->replay_len)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0113: stored answer malformed");
        return idgw_xml_error_send(r, &IDGW_E_SRV_INTERNAL);
    }
    req->replay = 1;
    r->handler = IDGW_SESSION_HANDLER;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "IDGW0125: retransmission of %s/%s seq %" APR_INT64_T_FMT " answered from the session "
                  "(sid=%.8s)", idgw_op_name(rq->op), idgw_step_name(rq->step), rq->seq, rq->sid);
    return OK;
}

static int check_session(request_rec *r, const idgw_session_dir *d)
{
    idgw_session_request rq;
    idgw_session_result res;
    idgw_session_req *req = apr_pcalloc(r->pool, sizeof(*req));
    char *sid = apr_palloc(r->pool, IDGW_SID_HEX + 1);
    char *token = NULL, *cid = NULL;
    const char *tok_in = NULL;
    int rc, tries, pending_waits = 0, confirmed = 1;

    memset(&rq, 0, sizeof(rq));
    ap_set_module_config(r->request_config, &idgw_session_module, req);
    if ((rc = idgw_session_parse_request(r, &rq, req, &tok_in)) != OK)
        return rc;
    /* a flood is cut here, before it costs Redis a command */
    if ((rc = idgw_shed_check(r, &d->shed, &rq, tok_in)) != OK)
        return rc;
    rq.sid = sid;
    if (rq.mode == IDGW_MODE_STEP && rq.step > IDGW_STEP_NONE && rq.step < IDGW_STEP_COUNT)
        rq.prefetch = idgw_g.prefetch[rq.step];
    for (tries = 0; tries < 3; tries++) {
        if (rq.mode == IDGW_MODE_OPEN) {
            token = apr_palloc(r->pool, IDGW_TOKEN_HEX + 1);
            if (idgw_token_new(token) != APR_SUCCESS)
                return server_error(r, HTTP_INTERNAL_SERVER_ERROR);
            idgw_sid_from_token(token, sid);
            cid = apr_palloc(r->pool, IDGW_CORRELATION_LEN + 1);
            if (idgw_correlation_new(cid) != APR_SUCCESS)
                return server_error(r, HTTP_INTERNAL_SERVER_ERROR);
            rq.correlation_id = cid;
        } else {
            idgw_sid_from_token(tok_in, sid);
        }
        if ((rc = call_script(r, &rq, &res, &confirmed)) != OK)
            return server_error(r, rc);
        if (answer_in_flight(&res) && pending_waits < PENDING_WAITS) {
            /* The first attempt's answer was written to Redis before its HTTP
             * answer left, but Redis (busy or descheduled) may read this
             * retransmission's script first.  The refused check changed
             * nothing, so wait a moment and ask again instead of answering
             * the terminal "retry". */
            apr_sleep(apr_time_from_msec(5 << pending_waits++));
            tries--;
            continue;
        }
        if (res.outcome != IDGW_SESSION_COLLISION)
            break;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0135: new session id in use; "
                      "drawing another");
    }
    switch (res.outcome) {
    case IDGW_SESSION_DENIED: {
        const idgw_script_part *part = res.deny_part >= 1 && res.deny_part <= idgw_g.nparts
                                       ? idgw_g.parts[res.deny_part - 1] : NULL;

        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "IDGW0122: denied by script part %s: %s",
                      part ? part->name : "?", res.deny_code);
        if (part && part->on_deny)
            part->on_deny(r, res.deny_detail);
        return idgw_xml_error_send_code(r, res.deny_status, res.deny_code, NULL);
    }
    case IDGW_SESSION_REFUSED:
        /* the ACL strikes part logs whom its bans name from this note */
        if (res.struck)
            apr_table_setn(r->notes, IDGW_NOTE_STRIKE,
                           res.strike_scope == IDGW_STRIKE_SESSION ? "session" : "address");
        /* Cluster: the script left the counters (other slots) to us; a second
         * round trip, on refusals only (IDGW0193 when it fails) */
        if (res.struck && idgw_g.cluster) {
            idgw_session_cluster_strikes(r, rq.terminal_id, rq.client_addr,
                                         res.strike_scope == IDGW_STRIKE_SESSION);
            idgw_session_cluster_companions_struck(r);
        }
        if ((rc = run_parts_results(r, &res)) != OK)
            return rc;
        return answer_refusal(r, &rq, &res);
    case IDGW_SESSION_RETRANSMIT:
        if ((rc = run_parts_results(r, &res)) != OK)
            return rc;
        /* an answer the replicas may not have yet is not given out: once
         * a failover lost it, the step would have two histories */
        if (!confirmed)
            return idgw_xml_error_send(r, &IDGW_E_SRV_UNCONFIRMED);
        return prepare_replay(r, req, &rq, &res);
    case IDGW_SESSION_ACCEPTED:
        break;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0135: no free session id after 3 draws");
        return server_error(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    fill_info(r, req, &rq, &res, token);
    req->claimed = rq.mode == IDGW_MODE_STEP;
    keep_prefetched(r, req, &rq, &res);
    if (!confirmed)
        return answer_unconfirmed(r, req, &rq);
    if (res.addr_mismatch && idgw_g.limits.addr_policy == IDGW_ADDR_POLICY_LOG)
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "IDGW0120: client address changed "
                      "within session sid=%.8s terminal=%s", sid, rq.terminal_id);
    if (res.kind == IDGW_ACCEPT_RECLAIM)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0126: %s/%s seq %" APR_INT64_T_FMT
                      " taken over (attempt %" APR_INT64_T_FMT "): its first attempt never "
                      "answered within the retry lease (sid=%.8s)", idgw_op_name(rq.op),
                      idgw_step_name(rq.step), rq.seq, res.attempt, sid);
    if (rq.mode == IDGW_MODE_OPEN)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "IDGW0123: session opened sid=%.8s "
                      "terminal=%s", sid, rq.terminal_id);
    return run_parts_results(r, &res);
}

static int fixups(request_rec *r)
{
    idgw_session_dir *d = ap_get_module_config(r->per_dir_config, &idgw_session_module);
    int rc;

    /* subrequests and internal redirects (error documents) are not terminal messages */
    if (!idgw_session_dir_enabled(d) || r->main || r->prev)
        return DECLINED;
    /* again here: the directory walk after translate_name may have changed
     * the section's settings, and no token may be issued in clear */
    if ((rc = idgw_session_check_tls(r, d)) != OK)
        return rc;
    return check_session(r, d);
}

/* Before map_to_storage, where httpd's core answers TRACE (with the request
 * headers, the session token among them): the location walk has run, so
 * IdgwSession is known here. */
static int translate_name(request_rec *r)
{
    idgw_session_dir *d = ap_get_module_config(r->per_dir_config, &idgw_session_module);
    int rc;

    if (!idgw_session_dir_enabled(d) || r->main || r->prev)
        return DECLINED;
    /* TLS first: nothing of a plain-HTTP request is looked at */
    if ((rc = idgw_session_check_tls(r, d)) != OK)
        return rc;
    rc = idgw_session_check_method(r);
    return rc == OK ? DECLINED : rc;
}

static int log_transaction(request_rec *r)
{
    idgw_session_req *req = idgw_session_req_get(r);

    if (req && req->claimed && !req->committed && !r->main)
        idgw_session_auto_commit(r);
    return DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    idgw_session_register_exports();
    idgw_xml_error_hooks();
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* last: the handler declares its worst step time in its own check_config
     * (idgw_session_step_budget), and the lease is checked against it */
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    idgw_session_body_hooks();
    ap_hook_translate_name(translate_name, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_fixups(fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(idgw_session_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA idgw_session_module = {
    STANDARD20_MODULE_STUFF,
    idgw_session_create_dir,
    idgw_session_merge_dir,
    idgw_session_create_srv,
    idgw_session_merge_srv,
    idgw_session_cmds,
    register_hooks
};
