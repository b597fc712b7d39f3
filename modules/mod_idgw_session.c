/*
 * mod_idgw_session.c - sessions and sequence management for the idgw gateway.
 *
 * Hooks: pre_config (forget script parts of the previous cycle), post_config
 * (check the settings, load the vault keys, assemble the per-request script),
 * child_init (the Redis pool: no socket exists before fork), fixups (the
 * session check: one Redis script per request), log_transaction (commit for a
 * handler that claimed a step and never answered it).  The handlers and the
 * exported functions live in idgw_session_http.c and idgw_session_exports.c.
 *
 * Log ids IDGW01xx belong to this module.
 */
#include "idgw_session_cfg.h"

#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <string.h>

APLOG_USE_MODULE(idgw_session);

idgw_session_globals idgw_g;

idgw_session_req *idgw_session_req_get(request_rec *r)
{
    return ap_get_module_config(r->request_config, &idgw_session_module);
}

/* ---- start-up ------------------------------------------------------------ */

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    /* the parts of the previous configuration cycle went with its pool */
    idgw_g.nparts = 0;
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
    const char *text;
    int i;

    for (i = 0; i < idgw_g.nparts; i++) {
        texts[i].name = idgw_g.parts[i]->name;
        texts[i].lua_body = idgw_g.parts[i]->lua_body;
        texts[i].after_core = idgw_g.parts[i]->after_core;
    }
    text = idgw_script_assemble(pconf, texts, idgw_g.nparts, err, sizeof(err));
    if (!text)
        return fail_start(s, err);
    idgw_script_init(&idgw_g.request_script, "session", text);
    idgw_script_init(&idgw_g.commit_script, "commit", idgw_script_commit_text());
    idgw_script_init(&idgw_g.strike_script, "strike", idgw_script_strike_text());
    idgw_script_init(&idgw_g.vault_put_script, "vault_put", idgw_script_vault_put_text());
    idgw_g.all_scripts[0] = &idgw_g.request_script;
    idgw_g.all_scripts[1] = &idgw_g.commit_script;
    idgw_g.all_scripts[2] = &idgw_g.strike_script;
    idgw_g.all_scripts[3] = &idgw_g.vault_put_script;
    return OK;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    idgw_session_srv *c = ap_get_module_config(s->module_config, &idgw_session_module);
    const char *msg;
    char err[256];

    if ((msg = idgw_session_cfg_finish(pconf, s, c)))
        return fail_start(s, msg);
    idgw_g.srv = c;
    idgw_session_limits_get(c, &idgw_g.limits);
    idgw_g.vault_keys = NULL;
    if (c->vault_key_file) {
        /* read by the root parent: the children inherit the keys, the file can stay 0600 */
        if (idgw_vault_keys_load(pconf, c->vault_key_file, &idgw_g.vault_keys, err,
                                 sizeof(err)) != APR_SUCCESS)
            return fail_start(s, apr_psprintf(ptemp, "IdgwVaultKeyFile: %s", err));
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "IDGW0102: vault: %d key(s) loaded, the first one seals",
                     idgw_vault_key_count(idgw_g.vault_keys));
    } else {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "IDGW0103: IdgwVaultKeyFile not set: the vault refuses to store data");
    }
    return build_scripts(pconf, s);
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (!idgw_g.srv)
        return;
    rv = idgw_redis_pool_create(pchild, &idgw_g.srv->redis, idgw_g.all_scripts, 4,
                                &idgw_g.pool);
    if (rv != APR_SUCCESS) {
        idgw_g.pool = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "IDGW0106: cannot create the Redis connection pool");
    }
}

/* ---- running a script --------------------------------------------------- */

static void log_drain_errors(request_rec *r, idgw_redis_conn *conn)
{
    char err[200];
    int n;

    if (!conn->pending)
        return;
    n = idgw_redis_drain(conn, err, sizeof(err));
    if (n > 0)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "IDGW0114: %d earlier pipelined write(s) failed: %s", n, err);
}

static int classify_and_log(request_rec *r, const idgw_script *s, idgw_redis_conn *conn,
                            redisReply *reply)
{
    switch (idgw_redis_classify(reply)) {
    case IDGW_REDIS_OK:
        return OK;
    case IDGW_REDIS_READONLY:
        conn->readonly_seen = 1;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "IDGW0115: Redis answered READONLY to script %s: finding the master "
                      "again", s->name);
        return HTTP_SERVICE_UNAVAILABLE;
    case IDGW_REDIS_UNAVAILABLE:
        idgw_redis_pool_trip(idgw_g.pool);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "IDGW0112: Redis not serving (script %s): %.120s", s->name, reply->str);
        return HTTP_SERVICE_UNAVAILABLE;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "IDGW0112: Redis refused script %s: %.160s", s->name, reply->str);
        return HTTP_INTERNAL_SERVER_ERROR;
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
int idgw_session_run(request_rec *r, const idgw_script *s, idgw_script_args *a,
                     int parts_header, int pipelined, redisReply **reply)
{
    const char **argv;
    size_t *lens;
    int argc = idgw_script_args_argv(a, s, parts_header, &argv, &lens);
    int attempt;

    *reply = NULL;
    if (!idgw_g.pool) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0110: no Redis pool in this child");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    for (attempt = 0; attempt < 2; attempt++) {
        idgw_redis_conn *conn;
        char err[300];
        apr_status_t rv = idgw_redis_pool_acquire(idgw_g.pool, &conn, err, sizeof(err));
        int status, readonly;

        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "IDGW0110: Redis unavailable: %s", err);
            return HTTP_SERVICE_UNAVAILABLE;
        }
        log_drain_errors(r, conn);
        if (pipelined) {
            rv = idgw_redis_send(conn, argc, argv, lens);
            if (rv != APR_SUCCESS)
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0111: Redis write failed "
                              "(script %s): %s", s->name,
                              conn->ctx ? conn->ctx->errstr : "no connection");
            idgw_redis_pool_release(idgw_g.pool, conn);
            return rv == APR_SUCCESS ? OK : HTTP_SERVICE_UNAVAILABLE;
        }
        *reply = idgw_redis_evalsha(conn, s, argc, argv, lens);
        if (!*reply) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0111: Redis command failed "
                          "(script %s): %s", s->name,
                          conn->ctx ? conn->ctx->errstr : "no connection");
            idgw_redis_pool_release(idgw_g.pool, conn);
            return HTTP_SERVICE_UNAVAILABLE;
        }
        status = classify_and_log(r, s, conn, *reply);
        readonly = conn->readonly_seen;
        idgw_redis_pool_release(idgw_g.pool, conn);
        if (status == OK)
            return OK;
        freeReplyObject(*reply);
        *reply = NULL;
        if (!readonly)
            return status;
    }
    return HTTP_SERVICE_UNAVAILABLE;
}

/* ---- the per-request check ---------------------------------------------- */

/* ".../<a>/<b>": the operation and step this request asks for. */
static int parse_path(request_rec *r, idgw_session_request *rq)
{
    const char *uri = r->parsed_uri.path ? r->parsed_uri.path : r->uri;
    const char *end = uri + strlen(uri), *b, *a;
    char seg_a[32], seg_b[32];

    for (b = end; b > uri && b[-1] != '/'; b--)
        ;
    if (b == uri || b == end)
        return 0;
    for (a = b - 1; a > uri && a[-1] != '/'; a--)
        ;
    if ((size_t)(b - 1 - a) >= sizeof(seg_a) || (size_t)(end - b) >= sizeof(seg_b)
        || b - 1 == a)
        return 0;
    memcpy(seg_a, a, (size_t)(b - 1 - a));
    seg_a[b - 1 - a] = '\0';
    memcpy(seg_b, b, (size_t)(end - b));
    seg_b[end - b] = '\0';
    if (strcmp(seg_a, "session") == 0) {
        rq->step = IDGW_STEP_REQUEST;
        if (strcmp(seg_b, "open") == 0) {
            rq->op = IDGW_OP_OPEN;
            rq->mode = IDGW_MODE_OPEN;
        } else if (strcmp(seg_b, "close") == 0) {
            rq->op = IDGW_OP_CLOSE;
            rq->mode = IDGW_MODE_STEP;
        } else if (strcmp(seg_b, "status") == 0) {
            rq->op = IDGW_OP_STATUS;
            rq->step = IDGW_STEP_NONE;
            rq->mode = IDGW_MODE_STATUS;
        } else {
            return 0;
        }
        return 1;
    }
    rq->op = idgw_op_from_name(seg_a);
    rq->step = idgw_step_from_name(seg_b);
    rq->mode = IDGW_MODE_STEP;
    if (rq->op == IDGW_OP_OPEN || rq->op == IDGW_OP_CLOSE || rq->op == IDGW_OP_STATUS
        || rq->op == IDGW_OP_NONE || rq->step == IDGW_STEP_NONE)
        return 0;
    return 1;
}

static int parse_seq(const char *s, apr_int64_t *out)
{
    apr_int64_t v = 0;
    size_t i;

    if (!s || !*s || *s == '0' || strlen(s) > 9)
        return 0;
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int read_body(request_rec *r, long max, const char **body, apr_size_t *len)
{
    char *buf;
    apr_size_t used = 0;
    int rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);

    *body = "";
    *len = 0;
    if (rc != OK)
        return rc;
    if (!ap_should_client_block(r))
        return OK;
    if (r->remaining > max)
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    buf = apr_palloc(r->pool, (apr_size_t)max + 1);
    for (;;) {
        long n = ap_get_client_block(r, buf + used, (apr_size_t)max + 1 - used);

        if (n < 0)
            return HTTP_BAD_REQUEST;
        if (n == 0)
            break;
        used += (apr_size_t)n;
        if (used > (apr_size_t)max)
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    buf[used] = '\0';
    *body = buf;
    *len = used;
    return OK;
}

static int refuse(request_rec *r, const idgw_error_def *e, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "IDGW0127: %s: %s", e->code, why);
    return idgw_xml_error_send(r, e);
}

/* Headers and body into rq/req; OK or the DONE of an error response. */
static int parse_request(request_rec *r, idgw_session_request *rq, idgw_session_req *req,
                         const char **token)
{
    const char *tid = apr_table_get(r->headers_in, IDGW_HEADER_TERMINAL);
    const char *idm = apr_table_get(r->headers_in, IDGW_HEADER_IDM);
    char *idm_norm = apr_palloc(r->pool, IDGW_IDM_HEX + 1);
    int rc;

    if (!parse_path(r, rq))
        return refuse(r, &IDGW_E_REQ_PATH, "no such operation/step");
    if (r->method_number != M_POST && !(rq->mode == IDGW_MODE_STATUS && r->method_number == M_GET)) {
        apr_table_setn(r->err_headers_out, "Allow", rq->mode == IDGW_MODE_STATUS ? "GET, POST" : "POST");
        return refuse(r, &IDGW_E_REQ_METHOD, r->method);
    }
    if (!tid || !idgw_terminal_id_valid(tid) || !idm || !idgw_idm_normalise(idm, idm_norm))
        return refuse(r, &IDGW_E_REQ_BINDING, "terminal id or IDm header");
    rq->terminal_id = tid;
    rq->idm = idm_norm;
    rq->client_addr = r->useragent_ip;
    *token = NULL;
    if (rq->mode != IDGW_MODE_OPEN) {
        *token = apr_table_get(r->headers_in, IDGW_HEADER_TOKEN);
        if (!*token || !idgw_token_valid(*token))
            return refuse(r, &IDGW_E_REQ_TOKEN, "token header");
    }
    if (rq->mode == IDGW_MODE_STEP
        && !parse_seq(apr_table_get(r->headers_in, IDGW_HEADER_SEQ), &rq->seq))
        return refuse(r, &IDGW_E_REQ_SEQ, "sequence header");
    rc = read_body(r, idgw_g.srv->max_body, &req->body, &req->body_len);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return refuse(r, &IDGW_E_REQ_BODY, "body");
    if (rc != OK)
        return rc;
    idgw_message_digest(idgw_op_name(rq->op), idgw_step_name(rq->step), req->body,
                        req->body_len, rq->digest);
    return OK;
}

static void add_parts_args(request_rec *r, idgw_script_args *a)
{
    int i;

    for (i = 0; i < idgw_g.nparts; i++) {
        idgw_script_args_part(a);
        if (idgw_g.parts[i]->add_args)
            idgw_g.parts[i]->add_args(r, a);
    }
}

static int run_parts_results(request_rec *r, const idgw_session_result *res)
{
    int i, rc;

    for (i = 0; i < idgw_g.nparts && i < res->nparts; i++) {
        const redisReply *pr = res->parts[i];

        if (!idgw_g.parts[i]->on_result)
            continue;
        rc = idgw_g.parts[i]->on_result(r, pr && pr->type != REDIS_REPLY_NIL ? pr : NULL);
        if (rc != OK)
            return rc;
    }
    return OK;
}

static apr_status_t free_reply(void *reply)
{
    freeReplyObject(reply);
    return APR_SUCCESS;
}

/* One script call: core + parts.  Fills res (reply kept alive in r->pool). */
static int call_script(request_rec *r, const idgw_session_request *rq,
                       idgw_session_result *res)
{
    idgw_script_args a;
    redisReply *reply;
    char err[200];
    int rc;

    idgw_script_args_init(&a, r->pool);
    idgw_session_core_args(&a, &idgw_g.limits, rq);
    add_parts_args(r, &a);
    rc = idgw_session_run(r, &idgw_g.request_script, &a, 1, 0, &reply);
    if (rc != OK)
        return rc;
    apr_pool_cleanup_register(r->pool, reply, free_reply, apr_pool_cleanup_null);
    if (idgw_session_parse_reply(r->pool, reply, res, err, sizeof(err)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0113: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
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
    in->correlation_id = apr_pstrcat(r->pool, "idgw-", rq->sid, NULL);
}

static int answer_refusal(request_rec *r, const idgw_session_request *rq,
                          const idgw_session_result *res)
{
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "IDGW0121: %s %s: %s/%s seq %" APR_INT64_T_FMT " refused: sid=%.8s terminal=%s%s%s",
                  res->error->code, res->error->message, idgw_op_name(rq->op),
                  idgw_step_name(rq->step), rq->seq, rq->sid, rq->terminal_id,
                  res->struck ? ", strike recorded" : "",
                  res->invalidated ? ", session invalidated" : "");
    return idgw_xml_error_send(r, res->error);
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

static int check_session(request_rec *r)
{
    idgw_session_request rq;
    idgw_session_result res;
    idgw_session_req *req = apr_pcalloc(r->pool, sizeof(*req));
    char *sid = apr_palloc(r->pool, IDGW_SID_HEX + 1);
    char *token = NULL;
    const char *tok_in = NULL;
    int rc, tries;

    memset(&rq, 0, sizeof(rq));
    ap_set_module_config(r->request_config, &idgw_session_module, req);
    if ((rc = parse_request(r, &rq, req, &tok_in)) != OK)
        return rc;
    rq.sid = sid;
    for (tries = 0; tries < 3; tries++) {
        if (rq.mode == IDGW_MODE_OPEN) {
            token = apr_palloc(r->pool, IDGW_TOKEN_HEX + 1);
            if (idgw_token_new(token) != APR_SUCCESS)
                return server_error(r, HTTP_INTERNAL_SERVER_ERROR);
            idgw_sid_from_token(token, sid);
        } else {
            idgw_sid_from_token(tok_in, sid);
        }
        if ((rc = call_script(r, &rq, &res)) != OK)
            return server_error(r, rc);
        if (res.outcome != IDGW_SESSION_COLLISION)
            break;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0135: new session id in use; "
                      "drawing another");
    }
    switch (res.outcome) {
    case IDGW_SESSION_DENIED:
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "IDGW0122: denied by script part %s: %s",
                      res.deny_part >= 1 && res.deny_part <= idgw_g.nparts
                      ? idgw_g.parts[res.deny_part - 1]->name : "?", res.deny_code);
        return idgw_xml_error_send_code(r, res.deny_status, res.deny_code, NULL);
    case IDGW_SESSION_REFUSED:
        if ((rc = run_parts_results(r, &res)) != OK)
            return rc;
        return answer_refusal(r, &rq, &res);
    case IDGW_SESSION_RETRANSMIT:
        if ((rc = run_parts_results(r, &res)) != OK)
            return rc;
        return prepare_replay(r, req, &rq, &res);
    case IDGW_SESSION_ACCEPTED:
        break;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0135: no free session id after 3 draws");
        return server_error(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    fill_info(r, req, &rq, &res, token);
    req->claimed = rq.mode == IDGW_MODE_STEP;
    if (res.addr_mismatch && idgw_g.limits.addr_policy == IDGW_ADDR_POLICY_LOG)
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "IDGW0120: client address changed "
                      "within session sid=%.8s terminal=%s", sid, rq.terminal_id);
    if (res.kind == IDGW_ACCEPT_RECLAIM)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0126: %s/%s seq %" APR_INT64_T_FMT " runs again: "
                      "its first attempt never answered (sid=%.8s)", idgw_op_name(rq.op),
                      idgw_step_name(rq.step), rq.seq, sid);
    if (rq.mode == IDGW_MODE_OPEN)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "IDGW0123: session opened sid=%.8s "
                      "terminal=%s", sid, rq.terminal_id);
    return run_parts_results(r, &res);
}

static int fixups(request_rec *r)
{
    idgw_session_dir *d = ap_get_module_config(r->per_dir_config, &idgw_session_module);

    /* subrequests and internal redirects (error documents) are not terminal messages */
    if (!idgw_session_dir_enabled(d) || r->main || r->prev)
        return DECLINED;
    return check_session(r);
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
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
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
