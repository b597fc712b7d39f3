/*
 * idgw_session_exports.c - the optional functions mod_idgw_session exports
 * (declared in mod_idgw.h): session view, commit, request body, vault, strike,
 * script parts, the Redis settings partner modules share.
 */
#include "idgw_session_cfg.h"
#include "idgw_reaper.h"

#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>
#include <string.h>

APLOG_USE_MODULE(idgw_session);

static const idgw_session_info *idgw_session_get(request_rec *r)
{
    idgw_session_req *req = idgw_session_req_get(r);

    return req && req->info.sid && !req->replay ? &req->info : NULL;
}

static apr_status_t idgw_session_body(request_rec *r, const char **body, apr_size_t *len)
{
    idgw_session_req *req = idgw_session_req_get(r);

    if (!req || !req->body)
        return APR_ENOENT;
    *body = req->body;
    *len = req->body_len;
    return APR_SUCCESS;
}

static void reaper_record_args(request_rec *r, idgw_script_args *a,
                               const idgw_session_info *in);

/* The items the step stores with its commit (ARGV 8 on: idgw_lua_commit). */
static void staged_args(request_rec *r, idgw_script_args *a, const idgw_session_req *req)
{
    const idgw_vault_staged *it = req->staged ? (const idgw_vault_staged *)req->staged->elts
                                              : NULL;
    int i, n = req->staged ? req->staged->nelts : 0, reaped = 0;

    idgw_script_args_int(a, n);
    for (i = 0; i < n; i++) {
        idgw_script_args_str(a, it[i].session_scope ? "s" : "o");
        idgw_script_args_str(a, it[i].name);
        idgw_script_args_arg(a, it[i].blob, it[i].len);
        idgw_script_args_str(a, it[i].reaped ? "1" : "0");
        reaped |= it[i].reaped;
    }
    if (reaped)
        reaper_record_args(r, a, &req->info);
}

static void commit_args(request_rec *r, idgw_script_args *a, const idgw_session_req *req,
                        idgw_commit_outcome outcome, const char *blob, size_t blob_len)
{
    const idgw_session_info *in = &req->info;
    /* the operation's card data goes when the operation ends */
    int drop = outcome == IDGW_COMMIT_ABORT || in->step == IDGW_STEP_COMPLETE
        || in->to.phase == IDGW_PHASE_READY || in->to.phase == IDGW_PHASE_CLOSED;

    idgw_script_args_init(a, r->pool);
    idgw_script_args_key(a, idgw_key_session(r->pool, idgw_g.limits.prefix, in->sid));
    idgw_script_args_key(a, idgw_key_vault_operation(r->pool, idgw_g.limits.prefix, in->sid));
    idgw_script_args_key(a, idgw_key_vault_session(r->pool, idgw_g.limits.prefix, in->sid));
    idgw_script_args_key(a, idgw_key_reap_set(r->pool, idgw_g.limits.prefix, in->sid));
    idgw_script_args_key(a, idgw_key_reap_record(r->pool, idgw_g.limits.prefix, in->sid));
    idgw_script_args_int(a, in->seq);
    idgw_script_args_str(a, outcome == IDGW_COMMIT_ABORT ? "abort" : "ok");
    idgw_script_args_arg(a, blob, blob_len);
    idgw_script_args_str(a, drop ? "1" : "0");
    idgw_script_args_str(a, in->sid);
    idgw_script_args_int(a, req->attempt);
    idgw_script_args_str(a, req->proof ? req->proof : "");
    /* an abort ends the operation: what the step meant to store goes unwritten */
    if (outcome != IDGW_COMMIT_ABORT)
        staged_args(r, a, req);
}

/* A write of the step was refused (reply: the code of why) or failed: note
 * the code to answer instead (IDGW_NOTE_STEP_LOST). */
static apr_status_t step_lost(request_rec *r, const idgw_session_req *req, const char *what,
                              redisReply *reply)
{
    const idgw_error_def *e = reply && reply->type == REDIS_REPLY_STRING
        ? idgw_error_find(reply->str) : NULL;

    if (!reply) {
        apr_table_setn(r->notes, IDGW_NOTE_STEP_LOST, IDGW_E_SRV_STORE.code);
        return APR_EGENERAL;
    }
    if (!e)
        e = &IDGW_E_SRV_STORE;
    apr_table_setn(r->notes, IDGW_NOTE_STEP_LOST, e->code);
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0136: %s of %s/%s seq %" APR_INT64_T_FMT
                  " attempt %" APR_INT64_T_FMT " refused: %s %s (sid=%s)%s", what,
                  idgw_op_name(req->info.op), idgw_step_name(req->info.step), req->info.seq,
                  req->attempt, e->code, e->message, req->info.sid_log,
                  e == &IDGW_E_SEQ_RESTART ? ": a retry took the step over; this late "
                  "attempt is fenced out and aborts its own work" : "");
    return APR_ENOENT;
}

static apr_status_t idgw_session_commit(request_rec *r, idgw_commit_outcome outcome,
                                   int http_status, const char *content_type,
                                   const char *body, apr_size_t len)
{
    idgw_session_req *req = idgw_session_req_get(r);
    idgw_script_args a;
    redisReply *reply;
    const char *blob;
    size_t blob_len;
    apr_status_t rv;
    int confirmed;

    if (!req || !req->claimed || req->replay)
        return APR_EINVAL;
    if (req->committed)
        return APR_EEXIST;
    blob = idgw_answer_encode(r->pool, http_status, content_type, body, len, &blob_len);
    commit_args(r, &a, req, outcome, blob, blob_len);
    /* confirmed, not pipelined: the answer goes out only once its state is
     * in Redis (one more round trip per step; NOSCRIPT is handled there),
     * and, with IdgwSessionWaitReplicas, in its replicas */
    if (idgw_session_run_confirmed(r, &idgw_g.commit_script, &a, 0, &reply,
                                   &confirmed) != OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0130: answer of seq %" APR_INT64_T_FMT
                      " not stored (sid=%s): the step is answered %s, not with its result",
                      req->info.seq, req->info.sid_log, IDGW_E_SRV_STORE.code);
        /* not marked committed: the handler may try an abort (refused by
         * the script if this one landed after all) */
        return step_lost(r, req, "commit", NULL);
    }
    req->committed = 1;
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
        freeReplyObject(reply);
        if (confirmed)
            return APR_SUCCESS;
        /* stored on the master only: the retransmission gets it once the
         * replicas have it; the backends are not told anything */
        apr_table_setn(r->notes, IDGW_NOTE_STEP_LOST, IDGW_E_SRV_UNCONFIRMED.code);
        return APR_EAGAIN;
    }
    rv = step_lost(r, req, "commit", reply);
    freeReplyObject(reply);
    return rv;
}

void idgw_session_commit_abort(request_rec *r, int http_status, const char *body)
{
    idgw_session_commit(r, IDGW_COMMIT_ABORT, http_status, "application/xml; charset=UTF-8",
                        body, strlen(body));
}

void idgw_session_auto_commit(request_rec *r)
{
    idgw_session_req *req = idgw_session_req_get(r);
    int status = r->status >= 400 ? r->status : HTTP_INTERNAL_SERVER_ERROR;
    const char *body = idgw_xml_error_body(r->pool, IDGW_E_SRV_INTERNAL.code,
                                           IDGW_E_SRV_INTERNAL.message);

    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0131: the handler did not commit "
                  "%s/%s seq %" APR_INT64_T_FMT " (sid=%s): operation aborted", idgw_op_name(req->info.op),
                  idgw_step_name(req->info.step), req->info.seq, req->info.sid_log);
    idgw_session_commit(r, IDGW_COMMIT_ABORT, status, "application/xml; charset=UTF-8", body,
                   strlen(body));
}

/* ---- vault ---------------------------------------------------------------- */

static const char *vault_key(request_rec *r, idgw_vault_scope scope, const char *sid)
{
    return scope == IDGW_VAULT_SESSION
        ? idgw_key_vault_session(r->pool, idgw_g.limits.prefix, sid)
        : idgw_key_vault_operation(r->pool, idgw_g.limits.prefix, sid);
}

/* The sealed item's associated data names session, scope and item. */
static const char *aad_name(request_rec *r, idgw_vault_scope scope, const char *name)
{
    return apr_pstrcat(r->pool, scope == IDGW_VAULT_SESSION ? "s:" : "o:", name, NULL);
}

static const idgw_session_info *vault_session(request_rec *r, const char *name)
{
    const idgw_session_info *in = idgw_session_get(r);

    if (!in || !idgw_g.vault_keys || !name || !idgw_vault_item_name_valid(name))
        return NULL;
    return in;
}

/* The item as this step's claim read it (idgw_vault_prefetch), or NULL when
 * the claim did not read it (or this request wrote it since). */
static idgw_vault_prefetched *prefetched(request_rec *r, idgw_vault_scope scope,
                                         const char *name)
{
    const idgw_session_req *req = idgw_session_req_get(r);
    idgw_vault_prefetched *it;
    int i;

    if (scope != IDGW_VAULT_OPERATION || !req || !req->prefetched)
        return NULL;
    it = (idgw_vault_prefetched *)req->prefetched->elts;
    for (i = 0; i < req->prefetched->nelts; i++)
        if (it[i].name && strcmp(it[i].name, name) == 0)
            return &it[i];
    return NULL;
}

/* This request writes the item: the next get asks Redis. */
static void prefetch_forget(request_rec *r, idgw_vault_scope scope, const char *name)
{
    idgw_vault_prefetched *it = prefetched(r, scope, name);

    if (it)
        it->name = NULL;
}

static apr_status_t seal_item(request_rec *r, const idgw_session_info *in,
                              idgw_vault_scope scope, const char *name, const void *data,
                              apr_size_t len, unsigned char **blob, size_t *blob_len)
{
    apr_status_t rv = idgw_vault_seal(r->pool, idgw_g.vault_keys, in->sid,
                                      aad_name(r, scope, name), data, len, blob, blob_len);

    if (rv != APR_SUCCESS)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "IDGW0133: vault: cannot seal item %s",
                      name);
    return rv;
}

/* What the reaper's record needs, in the order idgw_lua_vault_put and
 * idgw_lua_commit both take it: hold ms, session id, operation, IDm,
 * correlation id, virtual host.  The record keeps the same sealed bytes as
 * the vault: the reaper unseals them with the same AAD. */
static void reaper_record_args(request_rec *r, idgw_script_args *a,
                               const idgw_session_info *in)
{
    idgw_script_args_int(a, (apr_int64_t)apr_time_as_msec(idgw_g.limits.idle
                                                          + idgw_g.reaper_grace));
    idgw_script_args_str(a, in->sid);
    idgw_script_args_str(a, idgw_op_name(in->op));
    idgw_script_args_str(a, in->idm);
    idgw_script_args_str(a, in->correlation_id);
    idgw_script_args_str(a, idgw_reaper_vhost_id(r->pool, r->server));
}

static int reaper_on(void)
{
    return idgw_g.reaper_fn != NULL && idgw_g.reaper_interval > 0;
}

static apr_status_t vault_put(request_rec *r, idgw_vault_scope scope, const char *name,
                              const void *data, apr_size_t len, int reaped)
{
    const idgw_session_info *in = vault_session(r, name);
    const idgw_session_req *req = idgw_session_req_get(r);
    unsigned char *blob;
    size_t blob_len;
    idgw_script_args a;
    redisReply *reply;
    apr_status_t rv;

    if (!in)
        return APR_EINVAL;
    rv = seal_item(r, in, scope, name, data, len, &blob, &blob_len);
    if (rv != APR_SUCCESS)
        return rv;
    prefetch_forget(r, scope, name);
    idgw_script_args_init(&a, r->pool);
    idgw_script_args_key(&a, idgw_key_session(r->pool, idgw_g.limits.prefix, in->sid));
    idgw_script_args_key(&a, vault_key(r, scope, in->sid));
    idgw_script_args_str(&a, name);
    idgw_script_args_arg(&a, (const char *)blob, blob_len);
    idgw_script_args_int(&a, req->attempt);
    if (reaped) {
        idgw_script_args_key(&a, idgw_key_reap_set(r->pool, idgw_g.limits.prefix, in->sid));
        idgw_script_args_key(&a, idgw_key_reap_record(r->pool, idgw_g.limits.prefix, in->sid));
        reaper_record_args(r, &a, in);
    }
    if (idgw_session_run(r, &idgw_g.vault_put_script, &a, 0, &reply) != OK)
        return step_lost(r, req, "vault write", NULL);
    rv = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1 ? APR_SUCCESS
         : step_lost(r, req, "vault write", reply);
    freeReplyObject(reply);
    return rv;
}

static apr_status_t idgw_vault_put(request_rec *r, idgw_vault_scope scope, const char *name,
                                   const void *data, apr_size_t len)
{
    return vault_put(r, scope, name, data, len, 0);
}

/* Without a reaper (IdgwSessionReaper off, or no handler registered) this
 * is a plain operation-scope put. */
static apr_status_t idgw_vault_put_reaped(request_rec *r, const char *name, const void *data,
                                          apr_size_t len)
{
    return vault_put(r, IDGW_VAULT_OPERATION, name, data, len, reaper_on());
}

/* Sealed now, written by the commit (staged_args). */
static apr_status_t idgw_vault_stage(request_rec *r, idgw_vault_scope scope, const char *name,
                                     const void *data, apr_size_t len, int reaped)
{
    const idgw_session_info *in = vault_session(r, name);
    idgw_session_req *req = idgw_session_req_get(r);
    idgw_vault_staged *it;
    unsigned char *blob;
    size_t blob_len;
    apr_status_t rv;

    if (!in || !req->claimed || req->committed
        || (reaped && scope != IDGW_VAULT_OPERATION))
        return APR_EINVAL;
    rv = seal_item(r, in, scope, name, data, len, &blob, &blob_len);
    if (rv != APR_SUCCESS)
        return rv;
    if (!req->staged)
        req->staged = apr_array_make(r->pool, 2, sizeof(idgw_vault_staged));
    it = apr_array_push(req->staged);
    it->session_scope = scope == IDGW_VAULT_SESSION;
    it->name = name;
    it->blob = (const char *)blob;
    it->len = blob_len;
    it->reaped = reaped && reaper_on();
    return APR_SUCCESS;
}

/* Appended to the step kind's list, once per name and configuration cycle
 * (pre_config clears the lists). */
static apr_status_t idgw_vault_prefetch(apr_pool_t *pconf, idgw_step step, const char *name)
{
    const char *have;
    size_t n;

    if (step <= IDGW_STEP_NONE || step >= IDGW_STEP_COUNT || !idgw_vault_item_name_valid(name))
        return APR_EINVAL;
    have = idgw_g.prefetch[step];
    n = strlen(name);
    for (; have && *have; have += strcspn(have, " "), have += *have == ' ')
        if (strncmp(have, name, n) == 0 && (have[n] == ' ' || have[n] == '\0'))
            return APR_SUCCESS;
    idgw_g.prefetch[step] = idgw_g.prefetch[step]
        ? apr_pstrcat(pconf, idgw_g.prefetch[step], " ", name, NULL)
        : apr_pstrdup(pconf, name);
    return APR_SUCCESS;
}

static apr_status_t idgw_reaper_register(apr_pool_t *pconf, idgw_reaper_fn fn)
{
    (void)pconf;
    if (!fn)
        return APR_EINVAL;
    if (idgw_g.reaper_fn && idgw_g.reaper_fn != fn)
        return APR_EEXIST;
    idgw_g.reaper_fn = fn;
    return APR_SUCCESS;
}

/* An error reply to a plain command: logged and freed. */
static redisReply *refused(request_rec *r, const char *verb, redisReply *reply)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0112: Redis refused %s: %.120s", verb,
                  reply->str);
    freeReplyObject(reply);
    return NULL;
}

/* The same on a Redis Cluster: the router has followed the redirections. */
static redisReply *cluster_plain_command(request_rec *r, int argc, const char **argv,
                                         const size_t *lens)
{
    char err[300];
    redisReply *reply = idgw_session_cluster_command(r->pool, argc, argv, lens, err,
                                                     sizeof(err));

    if (reply && reply->type != REDIS_REPLY_ERROR)
        return reply;
    if (reply)
        return refused(r, argv[0], reply);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0191: Redis Cluster did not run %s: %s",
                  argv[0], err);
    return NULL;
}

/* A plain command (HGET/HDEL): safe to send again, so one retry on a fresh connection. */
static redisReply *plain_command(request_rec *r, int argc, const char **argv,
                                 const size_t *lens)
{
    int attempt;

    if (idgw_g.cluster)
        return cluster_plain_command(r, argc, argv, lens);

    for (attempt = 0; attempt < 2 && idgw_g.pool; attempt++) {
        idgw_redis_conn *conn;
        char err[300];
        redisReply *reply;

        if (idgw_redis_pool_acquire_for(idgw_g.pool, r->pool, &conn, err, sizeof(err))
            != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0110: Redis unavailable: %s", err);
            return NULL;
        }
        reply = idgw_redis_command(conn, argc, argv, lens);
        if (reply && reply->type != REDIS_REPLY_ERROR)
            return reply;
        if (reply)
            return refused(r, argv[0], reply);
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0111: Redis %s failed", argv[0]);
    return NULL;
}

/* VERB (HGET or HDEL) on one field of the session's vault hash. */
static redisReply *vault_field_command(request_rec *r, const char *verb, idgw_vault_scope scope,
                                       const idgw_session_info *in, const char *name)
{
    const char *argv[3];
    size_t lens[3];

    argv[0] = verb;
    argv[1] = vault_key(r, scope, in->sid);
    argv[2] = name;
    lens[0] = strlen(verb); lens[1] = strlen(argv[1]); lens[2] = strlen(name);
    return plain_command(r, 3, argv, lens);
}

static apr_status_t idgw_vault_get(request_rec *r, idgw_vault_scope scope, const char *name,
                              const unsigned char **data, apr_size_t *len)
{
    const idgw_session_info *in = vault_session(r, name);
    const idgw_vault_prefetched *pre;
    redisReply *reply = NULL;
    const char *blob;
    size_t blob_len;
    unsigned char *plain;
    size_t plain_len;
    apr_status_t rv;

    if (!in)
        return APR_EINVAL;
    if ((pre = prefetched(r, scope, name)) != NULL) {
        /* read with the step's claim: no round trip */
        if (!pre->blob)
            return APR_ENOENT;
        blob = pre->blob;
        blob_len = pre->len;
    } else {
        reply = vault_field_command(r, "HGET", scope, in, name);
        if (!reply)
            return APR_EGENERAL;
        if (reply->type != REDIS_REPLY_STRING) {
            freeReplyObject(reply);
            return APR_ENOENT;
        }
        blob = reply->str;
        blob_len = reply->len;
    }
    rv = idgw_vault_unseal(r->pool, idgw_g.vault_keys, in->sid, aad_name(r, scope, name),
                           (const unsigned char *)blob, blob_len, &plain, &plain_len);
    if (reply)
        freeReplyObject(reply);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0134: vault item %s of sid=%s does "
                      "not unseal (%s)", name, in->sid_log,
                      rv == APR_ENOENT ? "no key with its id" : "tampered or malformed");
        return APR_EGENERAL;
    }
    *data = plain;
    *len = plain_len;
    return APR_SUCCESS;
}

static apr_status_t idgw_vault_delete(request_rec *r, idgw_vault_scope scope, const char *name)
{
    const idgw_session_info *in = vault_session(r, name);
    redisReply *reply;

    if (!in)
        return APR_EINVAL;
    prefetch_forget(r, scope, name);
    reply = vault_field_command(r, "HDEL", scope, in, name);
    if (!reply)
        return APR_EGENERAL;
    freeReplyObject(reply);
    return APR_SUCCESS;
}

/* ---- proof of identity ------------------------------------------------------ */

/* Remembered in this request and written by its commit (no round trip of its
 * own): from then on the session's terminal id and IDm earn strikes, breaches
 * and bans (the session core and the access checks read the field). */
static apr_status_t idgw_session_prove(request_rec *r, const char *how)
{
    idgw_session_req *req = idgw_session_req_get(r);

    if (!req || !req->claimed || req->replay || req->committed || !how
        || (strcmp(how, "chip") != 0 && strcmp(how, "user") != 0))
        return APR_EINVAL;
    if (!req->proof) {
        req->proof = how;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "IDGW0160: session sid=%s proven by "
                      "the %s: its terminal %s and chip now answer for its failures",
                      req->info.sid_log, strcmp(how, "chip") == 0
                      ? "chip (secure channel verified by the FeliCa server)"
                      : "user a backend authenticated", req->info.terminal_id);
    }
    return APR_SUCCESS;
}

/* ---- strikes ---------------------------------------------------------------- */

static apr_status_t idgw_session_strike(request_rec *r, const char *reason, int invalidate)
{
    const idgw_session_info *in = idgw_session_get(r);
    const idgw_session_req *req = idgw_session_req_get(r);
    const char *tid = in ? in->terminal_id : apr_table_get(r->headers_in, IDGW_HEADER_TERMINAL);
    idgw_script_args a;
    redisReply *reply;
    const char *sid = in ? in->sid : "none";
    int whole;

    if (!tid || !idgw_terminal_id_valid(tid))
        tid = "unknown";
    idgw_script_args_init(&a, r->pool);
    if (idgw_g.cluster) {
        /* the counters lie on other slots: ARGV 6 keeps the script off KEYS 1
         * and 2, which hold the session key so that every key is on its slot */
        idgw_script_args_key(&a, idgw_key_session(r->pool, idgw_g.limits.prefix, sid));
        idgw_script_args_key(&a, idgw_key_session(r->pool, idgw_g.limits.prefix, sid));
    } else {
        idgw_script_args_key(&a, idgw_key_strike_terminal(r->pool, idgw_g.limits.prefix, tid));
        idgw_script_args_key(&a, idgw_key_strike_address(r->pool, idgw_g.limits.prefix,
                                                         r->useragent_ip));
    }
    idgw_script_args_key(&a, idgw_key_session(r->pool, idgw_g.limits.prefix, sid));
    idgw_script_args_key(&a, idgw_key_vault_operation(r->pool, idgw_g.limits.prefix, sid));
    idgw_script_args_key(&a, idgw_key_vault_session(r->pool, idgw_g.limits.prefix, sid));
    idgw_script_args_key(&a, idgw_key_reap_set(r->pool, idgw_g.limits.prefix, sid));
    idgw_script_args_key(&a, idgw_key_reap_record(r->pool, idgw_g.limits.prefix, sid));
    idgw_script_args_int(&a, apr_time_as_msec(idgw_g.limits.strike_window));
    idgw_script_args_str(&a, invalidate && in ? "1" : "0");
    idgw_script_args_int(&a, apr_time_as_msec(idgw_g.limits.idle));
    /* only a proven session answers for its terminal id (the script reads
     * pv); a claim is not struck */
    idgw_script_args_str(&a, !in ? "0" : req && req->proof ? "2" : "1");
    idgw_script_args_str(&a, sid);
    /* Cluster: the counters lie on other slots; counted below */
    idgw_script_args_str(&a, idgw_g.cluster ? "1" : "0");
    if (in)
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "IDGW0132: strike against terminal %s "
                      "(if its session is proven) and address: %s%s", tid,
                      reason ? reason : "no reason given",
                      invalidate ? " (session invalidated)" : "");
    else
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "IDGW0132: strike against address %s "
                      "only (no checked session): %s", r->useragent_ip,
                      reason ? reason : "no reason given");
    /* confirmed (NOSCRIPT handled): a strike lost silently would spare a forger */
    if (idgw_session_run(r, &idgw_g.strike_script, &a, 0, &reply) != OK)
        return APR_EGENERAL;
    /* the script says whom it would have counted: 2 the terminal too */
    whole = reply->type == REDIS_REPLY_INTEGER && reply->integer == 2;
    freeReplyObject(reply);
    if (idgw_g.cluster)
        return idgw_session_cluster_strikes(r, tid, r->useragent_ip, whole);
    return APR_SUCCESS;
}

/* ---- script parts ------------------------------------------------------------ */

static apr_status_t idgw_script_part_register(apr_pool_t *pconf, const idgw_script_part *part)
{
    if (!part || !part->name || !part->lua_body)
        return APR_EINVAL;
    if (idgw_g.nparts == IDGW_SCRIPT_MAX_PARTS)
        return APR_ENOSPC;
    idgw_g.parts[idgw_g.nparts++] = part;
    return APR_SUCCESS;
}

static void idgw_session_step_budget(server_rec *s, const char *who, apr_interval_time_t worst)
{
    (void)s;
    if (worst > idgw_g.step_worst) {
        idgw_g.step_worst = worst;
        idgw_g.step_worst_by = who;
    }
}

/* Whether the main server's configuration names a Redis Cluster: read from
 * the directives as parsed, so a partner's check_config can refuse what a
 * Cluster cannot run before httpd -t passes. */
static int idgw_session_redis_cluster(server_rec *s)
{
    idgw_session_srv *c = ap_get_module_config(s->module_config, &idgw_session_module);

    return c && c->redis.nseeds > 0;
}

static redisReply *idgw_session_cluster_key_command(apr_pool_t *owner, int key_arg, int argc,
                                                    const char **argv, const size_t *lens,
                                                    char *err, size_t errlen)
{
    return idgw_session_cluster_command_at(owner, key_arg, argc, argv, lens, err, errlen);
}

static const idgw_redis_cfg *idgw_session_redis(const char **key_prefix)
{
    if (!idgw_g.srv)
        return NULL;
    *key_prefix = idgw_g.srv->key_prefix;
    return &idgw_g.srv->redis;
}

void idgw_session_register_exports(void)
{
    APR_REGISTER_OPTIONAL_FN(idgw_session_get);
    APR_REGISTER_OPTIONAL_FN(idgw_session_commit);
    APR_REGISTER_OPTIONAL_FN(idgw_session_body);
    APR_REGISTER_OPTIONAL_FN(idgw_vault_put);
    APR_REGISTER_OPTIONAL_FN(idgw_vault_get);
    APR_REGISTER_OPTIONAL_FN(idgw_vault_delete);
    APR_REGISTER_OPTIONAL_FN(idgw_session_strike);
    APR_REGISTER_OPTIONAL_FN(idgw_session_prove);
    APR_REGISTER_OPTIONAL_FN(idgw_vault_put_reaped);
    APR_REGISTER_OPTIONAL_FN(idgw_vault_stage);
    APR_REGISTER_OPTIONAL_FN(idgw_vault_prefetch);
    APR_REGISTER_OPTIONAL_FN(idgw_reaper_register);
    APR_REGISTER_OPTIONAL_FN(idgw_session_unwatch);
    APR_REGISTER_OPTIONAL_FN(idgw_script_part_register);
    APR_REGISTER_OPTIONAL_FN(idgw_session_redis);
    APR_REGISTER_OPTIONAL_FN(idgw_session_redis_cluster);
    APR_REGISTER_OPTIONAL_FN(idgw_session_cluster_eval_script);
    APR_REGISTER_OPTIONAL_FN(idgw_session_cluster_eval_scripts);
    APR_REGISTER_OPTIONAL_FN(idgw_session_cluster_companion_register);
    APR_REGISTER_OPTIONAL_FN(idgw_session_cluster_key_command);
    APR_REGISTER_OPTIONAL_FN(idgw_session_step_budget);
    idgw_session_unsettled_register();
    idgw_session_settle_register();
}
