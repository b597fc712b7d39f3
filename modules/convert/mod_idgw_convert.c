/*
 * mod_idgw_convert.c - the content handler of the smartphone gateway.
 *
 * mod_idgw_session has already checked the request (token, binding,
 * sequence number, transition) and claimed the step; this handler parses the
 * app's XML (idgw_sp_request), runs the step's telegrams (idgw_convert_map
 * and _engine), relays chip packets, keeps the operation's context sealed in
 * the session vault, commits the answer through mod_idgw_session (so a
 * retransmission gets it again) and sends it.
 *
 *   <Location /idgw/v1>
 *       IdgwSession On
 *       SetHandler idgw-convert
 *   </Location>
 */
#include "idgw_convert_cfg.h"

#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_idgw.h"
#include "idgw_convert_acl.h"
#include "idgw_convert_answer.h"
#include "idgw_convert_ctx.h"
#include "idgw_convert_engine.h"
#include "idgw_convert_errors.h"
#include "idgw_convert_send.h"
#include "idgw_convert_settle.h"
#include "idgw_sp_request.h"
#include "idgw_xml_wipe.h"

static APR_OPTIONAL_FN_TYPE(idgw_session_get) *session_get;
static APR_OPTIONAL_FN_TYPE(idgw_session_commit) *session_commit;
static APR_OPTIONAL_FN_TYPE(idgw_session_body) *session_body;
static APR_OPTIONAL_FN_TYPE(idgw_vault_stage) *vault_stage;
static APR_OPTIONAL_FN_TYPE(idgw_vault_prefetch) *vault_prefetch;
static APR_OPTIONAL_FN_TYPE(idgw_vault_get) *vault_get;
static APR_OPTIONAL_FN_TYPE(idgw_session_strike) *session_strike;
static APR_OPTIONAL_FN_TYPE(idgw_reaper_register) *reaper_register;
static APR_OPTIONAL_FN_TYPE(idgw_session_unwatch) *session_unwatch;
static APR_OPTIONAL_FN_TYPE(idgw_session_step_budget) *step_budget;
static APR_OPTIONAL_FN_TYPE(idgw_session_prove) *session_prove;
static APR_OPTIONAL_FN_TYPE(idgw_unsettled_record) *unsettled_record;
static idgw_settle_fns settle_fns;
/* optional: without mod_idgw_acl there are no lists to check a user against */
static APR_OPTIONAL_FN_TYPE(idgw_acl_identity_check) *acl_identity_check;

#define CTX_ITEM "ctx"
/* the issuer display data of the operation (idgw_ctx_is_display): not card
 * data, kept apart from the card context and stored once, when fetched */
#define DISPLAY_ITEM "display"

/* Everything one request needs. */
typedef struct conv_req {
    request_rec *r;
    const idgw_convert_srv *conf;
    const idgw_session_info *info;
    idgw_conv_env env;
    idgw_send_baton baton;
    int left_to_reaper;     /* the reaper's watch could not be taken: the backends
                             * are its to tell, the operation is not ended here */
} conv_req;

/* ---- answers ------------------------------------------------------------------- */

/* An XML answer of ours (a NUL-terminated document). */
static int send_body(request_rec *r, int status, const char *body)
{
    return idgw_send_answer(r, status, IDGW_ANSWER_TYPE, body, strlen(body));
}

/* Why the step lost its claim (mod_idgw.h, IDGW_NOTE_STEP_LOST): the error
 * to answer instead of the step's own answer. */
static const idgw_error_def *lost_error(request_rec *r)
{
    const idgw_error_def *e = idgw_error_find(apr_table_get(r->notes, IDGW_NOTE_STEP_LOST));

    return e ? e : &IDGW_E_SRV_STORE;
}

static void tell_abort(conv_req *c, const char *why);

/* Commit an abort with e's answer; returns the error to send: e, or, when
 * the commit does not land (the step lost its claim, or Redis failed), the
 * reason: a retransmission must never meet another answer than the one sent. */
static const idgw_error_def *abort_commit(conv_req *c, const idgw_error_def *e)
{
    request_rec *r = c->r;
    const char *body;
    apr_status_t rv;

    /* the ABORT commit would drop the watch the reaper now needs */
    if (c->left_to_reaper)
        return lost_error(r);
    body = idgw_xml_error_body(r->pool, e->code, e->message);
    rv = session_commit(r, IDGW_COMMIT_ABORT, e->http_status, IDGW_ANSWER_TYPE, body,
                        strlen(body));

    /* APR_EAGAIN: stored, not yet confirmed by the replicas (IDGW-SRV-006):
     * the retransmission gets e once they have it */
    return rv == APR_ENOENT || rv == APR_EGENERAL || rv == APR_EAGAIN ? lost_error(r) : e;
}

static void log_refusal(conv_req *c, const idgw_error_def *e, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, c->r, "IDGW0410: %s %s/%s refused: %s: %s "
                  "(sid=%s)", e->code, idgw_op_name(c->info->op), idgw_step_name(c->info->step),
                  e->message, why ? why : "-", c->info->sid_log);
}

/* Commit, then send: a retransmission must find what the first attempt said,
 * and the app hears success only when the step's state is in Redis.  If the
 * commit did not land, the step is aborted (the backends are told where its
 * request stage or relay reached them; a completion has told them already)
 * and answered with the documented error instead. */
static int answer(conv_req *c, idgw_commit_outcome outcome, const char *body)
{
    apr_status_t rv;
    const idgw_error_def *e;

    if (c->left_to_reaper)   /* a close that could not tell: the operation stays open */
        return idgw_xml_error_send(c->r, lost_error(c->r));
    rv = session_commit(c->r, outcome, HTTP_OK, IDGW_ANSWER_TYPE, body, strlen(body));
    if (rv == APR_SUCCESS)
        return send_body(c->r, HTTP_OK, body);
    e = lost_error(c->r);
    if (rv == APR_EAGAIN)   /* stored, the replicas lag: retransmitted, it is replayed */
        return idgw_xml_error_send(c->r, e);
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, c->r, "IDGW0421: %s/%s not answered with its "
                  "result: %s %s (sid=%s)", idgw_op_name(c->info->op),
                  idgw_step_name(c->info->step), e->code, e->message, c->info->sid_log);
    if (c->env.ctx && c->info->op != IDGW_OP_CLOSE
        && (c->info->step == IDGW_STEP_REQUEST || c->info->step == IDGW_STEP_RELAY))
        tell_abort(c, "aborted: its result was not stored");
    if (rv == APR_EGENERAL)
        e = abort_commit(c, e);
    return idgw_xml_error_send(c->r, e);
}

static int refuse(conv_req *c, const idgw_error_def *e, const char *why)
{
    log_refusal(c, e, why);
    return idgw_xml_error_send(c->r, abort_commit(c, e));
}

/* An abort that left the operation's outcome open: backend notices not
 * sent, or the chip's final write unconfirmed.  NULL: settled. */
static const char *abort_unsettled(const idgw_abort_report *rep)
{
    if (rep->truth == IDGW_CHIP_UNCONFIRMED)
        return "chip-unconfirmed";
    return rep->skipped ? "abort-unsent" : NULL;
}

/* Left for reconciliation (mod_idgw.h, idgw_unsettled_record), with the
 * card and slot the operation's context names. */
static void record_unsettled(apr_pool_t *p, server_rec *s, const idgw_ctx *ctx,
                             idgw_unsettled *u)
{
    idgw_conv_card_ref(ctx, &u->card, &u->slot);
    idgw_conv_settle_ref(ctx, &u->source, &u->member, &u->issuer, &u->last4);
    unsettled_record(p, s, u);
}

/* After an abort stage (a step's or the reaper's): recorded when it left
 * the outcome open; u names the operation, the rest is filled here. */
static void record_open_abort(apr_pool_t *p, server_rec *s, const idgw_ctx *ctx,
                              const idgw_abort_report *rep, idgw_unsettled *u, const char *why)
{
    if (!(u->kind = abort_unsettled(rep)))
        return;
    u->chip = idgw_chip_truth_name(rep->truth);
    u->detail = rep->skipped ? rep->first_skip : why;
    record_unsettled(p, s, ctx, u);
}

/* The operation this request is in, as a record for reconciliation names it. */
static idgw_unsettled unsettled_of(const conv_req *c, idgw_op op)
{
    idgw_unsettled u = {
        .op = idgw_op_name(op), .step = idgw_step_name(c->info->step),
        .correlation_id = c->info->correlation_id, .terminal_id = c->info->terminal_id,
        .idm = c->info->idm
    };

    return u;
}

/* The operation's context is gone: nobody could tell the backends. */
static void context_lost_unsettled(conv_req *c, idgw_op op, const char *detail)
{
    idgw_unsettled u = unsettled_of(c, op);

    u.kind = "context-lost";
    u.detail = detail;
    record_unsettled(c->r->pool, c->r->server, c->env.ctx, &u);
}

/* Before this request tells the backends itself: take the reaper's watch
 * (mod_idgw.h), so that they are told once.  0: the reaper will tell them
 * (c->left_to_reaper; logged). */
static int take_watch(conv_req *c, const char *why)
{
    apr_status_t rv;

    /* close claims the session as closed, and the reaper drops the watch of
     * a closed session without telling anyone: close always tells */
    if (c->info->op == IDGW_OP_CLOSE)
        return 1;
    if ((rv = session_unwatch(c->r)) == APR_SUCCESS)
        return 1;
    c->left_to_reaper = 1;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, c->r, "IDGW0424: %s %s: the reaper's watch "
                  "could not be taken (%s): its backends are left to the reaper, which tells "
                  "them once the app is gone; correlation id %s (sid=%s)",
                  idgw_op_name(c->env.op ? c->env.op : c->info->op), why,
                  rv == APR_EAGAIN ? "not confirmed by the replicas, put back"
                  : "Redis failed or the step lost its claim", c->info->correlation_id,
                  c->info->sid_log);
    return 0;
}

/* Run the map's abort calls for the operation in c->env and log what the
 * backends were told (why: "aborted" or "cancelled by close"). */
static void tell_abort(conv_req *c, const char *why)
{
    idgw_abort_report rep;
    idgw_unsettled u = unsettled_of(c, c->env.op);

    if (!take_watch(c, why))
        return;
    idgw_conv_abort_report(&c->env, &rep);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "IDGW0411: %s %s, chip %s, %d backend "
                  "notice(s) sent (sid=%s)", idgw_op_name(c->env.op), why,
                  idgw_chip_truth_name(rep.truth), rep.sent, c->info->sid_log);
    if (rep.skipped)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, c->r, "IDGW0417: %s %s: %d backend "
                      "notice(s) not sent (%s); chip %s; reconcile by correlation id %s",
                      idgw_op_name(c->env.op), why, rep.skipped, rep.first_skip,
                      idgw_chip_truth_name(rep.truth), c->info->correlation_id);
    record_open_abort(c->r->pool, c->r->server, c->env.ctx, &rep, &u, why);
}

/* A failed step: tell the backends, strike a forger, refuse. */
static int fail_step(conv_req *c, const idgw_conv_fail *f, int tell_backends)
{
    const idgw_error_def *e;

    if (tell_backends)
        tell_abort(c, "aborted");
    if (!f->hostile)
        return refuse(c, f->error, f->detail);
    /* the abort is committed while the session lives, then the strike ends
     * it: the forger hears what it did, a retransmission IDGW-SES-002 */
    log_refusal(c, f->error, f->detail);
    e = abort_commit(c, f->error);
    session_strike(c->r, f->error->code, 1);
    return idgw_xml_error_send(c->r, e);
}

/* ---- the user a backend authenticated ----------------------------------------------- */

/* idgw_conv_identity_fn: the engine found the user a backend proved (or the
 * one the operation's context remembers); access control decides now, on
 * the fleet-wide lists as this request's check brought them up to date.  A
 * refusal fails the step like any other (fail_step: the backends are told,
 * the operation aborts, the app gets the ACL's 403). */
static int identity_check(void *baton, const char *kind, const char *value, idgw_conv_fail *f)
{
    conv_req *c = baton;
    const idgw_error_def *refusal = NULL;

    if (!acl_identity_check || acl_identity_check(c->r, kind, value, &refusal) == OK) {
        /* a backend authenticated this user: the session answers for its
         * failures from now on (idgw_session_prove) */
        session_prove(c->r, "user");
        return 0;
    }
    /* the ACL logged who and why (IDGW0312/0313); refuse() logs IDGW0410 with
     * the ACL's code and this detail */
    f->error = refusal ? refusal : &IDGW_E_CNV_INTERNAL;
    f->detail = apr_pstrcat(c->r->pool, "authenticated ", kind, " refused by access control",
                            NULL);
    f->hostile = 0;
    return -1;
}

/* ---- the operation context in the vault ------------------------------------------ */

/* APR_SUCCESS, APR_ENOENT (no context in Redis) or APR_EGENERAL (Redis
 * failed, or the item does not unseal or decode). */
static apr_status_t ctx_read(conv_req *c)
{
    const unsigned char *data;
    apr_size_t len;
    apr_status_t rv = vault_get(c->r, IDGW_VAULT_OPERATION, CTX_ITEM, &data, &len);

    if (rv != APR_SUCCESS)
        return rv == APR_ENOENT ? APR_ENOENT : APR_EGENERAL;
    c->env.ctx = idgw_ctx_decode(c->r->pool, (const char *)data, len);
    return c->env.ctx ? APR_SUCCESS : APR_EGENERAL;
}

static int ctx_load(conv_req *c)
{
    return ctx_read(c) == APR_SUCCESS;
}

/*
 * A relay or completion whose operation context is not in Redis although
 * the session says the operation is under way: Redis lost it (a failover to
 * a replica that lacked it, a restart, eviction at maxmemory).  The session
 * is rolled back: nothing is run from a guess, the operation is aborted and
 * the app starts over (IDGW-SEQ-007).  Without the context the backends
 * cannot be told: the correlation id is logged for reconciliation.
 */
static int ctx_lost(conv_req *c)
{
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, c->r, "IDGW0423: %s/%s: the operation's "
                  "context is gone from Redis (rolled back or evicted): aborted, backends not "
                  "notified; reconcile by correlation id %s (sid=%s)",
                  idgw_op_name(c->info->op), idgw_step_name(c->info->step),
                  c->info->correlation_id, c->info->sid_log);
    context_lost_unsettled(c, c->info->op, "operation context gone from Redis");
    return refuse(c, &IDGW_E_SEQ_ROLLBACK, "operation context gone");
}

/* The context into c->env.ctx, or the request answered (lost: IDGW-SEQ-007;
 * unreadable: IDGW-CNV internal error). */
static int ctx_need(conv_req *c, int *rc)
{
    apr_status_t rv = ctx_read(c);

    if (rv == APR_SUCCESS)
        return 1;
    *rc = rv == APR_ENOENT ? ctx_lost(c)
                           : refuse(c, &IDGW_E_CNV_INTERNAL, "operation context unreadable");
    return 0;
}

/* The card part only: display data stays out of the sealed card context
 * that every relay step rewrites (display_save).  Written by the step's
 * commit, with the answer that leads to it (no round trip of its own); a
 * commit that fails is handled in answer(). */
static int ctx_save(conv_req *c)
{
    size_t len;
    const char *blob = idgw_ctx_encode_part(c->r->pool, c->env.ctx, 0, &len);

    /* reaped: if the app vanishes after this step, the reaper aborts the operation */
    return blob && vault_stage(c->r, IDGW_VAULT_OPERATION, CTX_ITEM, blob, len, 1)
        == APR_SUCCESS;
}

/* The display part, when the request stage fetched one: an item of its own,
 * stored once and read back by the completion that answers it. */
static int display_save(conv_req *c)
{
    size_t len;
    const char *blob = idgw_ctx_encode_part(c->r->pool, c->env.ctx, 1, &len);

    if (!idgw_ctx_has_display(c->env.ctx))
        return 1;
    return blob && vault_stage(c->r, IDGW_VAULT_OPERATION, DISPLAY_ITEM, blob, len, 0)
        == APR_SUCCESS;
}

/* The display part into the loaded context; none stored is no error. */
static int display_load(conv_req *c)
{
    const unsigned char *data;
    apr_size_t len;
    idgw_ctx *d;
    apr_status_t rv = vault_get(c->r, IDGW_VAULT_OPERATION, DISPLAY_ITEM, &data, &len);

    if (rv == APR_ENOENT)
        return 1;
    if (rv != APR_SUCCESS)
        return 0;
    d = idgw_ctx_decode(c->r->pool, (const char *)data, len);
    return d && idgw_ctx_merge(c->env.ctx, d);
}

/* The reaper's handler (mod_idgw.h): an app vanished in the middle of op;
 * tell the backends what the map's abort stage says, with the chip's truth
 * from the context.  Runs in the reaper's thread, without a request. */
static int reap_abandoned(apr_pool_t *p, server_rec *s, const idgw_reaped_op *op)
{
    const idgw_convert_srv *conf = ap_get_module_config(s->module_config,
                                                        &idgw_convert_module);
    idgw_conv_env env;
    idgw_send_baton baton;
    idgw_abort_report rep;
    idgw_unsettled u = { .op = idgw_op_name(op->op), .correlation_id = op->correlation_id,
                         .idm = op->idm };

    if (!conf || !conf->map || strcmp(op->item, CTX_ITEM) != 0)
        return 0;
    memset(&env, 0, sizeof(env));
    memset(&baton, 0, sizeof(baton));
    env.ctx = idgw_ctx_decode(p, (const char *)op->data, op->len);
    if (!env.ctx) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "IDGW0418: abandoned %s of sid=%s: its "
                     "context is malformed: backends not told", idgw_op_name(op->op),
                     op->sid_log);
        return 0;
    }
    baton.be = conf->be;
    baton.ctx = env.ctx;
    env.p = p;
    env.map = conf->map;
    env.op = op->op;
    env.correlation_id = op->correlation_id;
    env.idm = op->idm;
    env.send = idgw_convert_send;
    env.baton = &baton;
    env.max_packet = idgw_convert_max_packet(conf);
    idgw_conv_abort_report(&env, &rep);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "IDGW0411: %s abandoned by its app, chip %s, "
                 "%d backend notice(s) sent (sid=%s)", idgw_op_name(op->op),
                 idgw_chip_truth_name(rep.truth), rep.sent, op->sid_log);
    if (rep.skipped)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "IDGW0417: %s abandoned by its app: "
                     "%d backend notice(s) not sent (%s); chip %s; reconcile by correlation "
                     "id %s", idgw_op_name(op->op), rep.skipped, rep.first_skip,
                     idgw_chip_truth_name(rep.truth), op->correlation_id);
    record_open_abort(p, s, env.ctx, &rep, &u, "abandoned by its app");
    return rep.sent;
}

/* ---- request checks ------------------------------------------------------------------ */

/* application/xml, with no charset or charset=utf-8 */
static int content_type_ok(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    const char *semi, *cs;
    size_t n;

    if (!ct)
        return 0;
    semi = strchr(ct, ';');
    n = semi ? (size_t)(semi - ct) : strlen(ct);
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n != strlen("application/xml") || strncasecmp(ct, "application/xml", n) != 0)
        return 0;
    if (!semi)
        return 1;
    cs = ap_strcasestr(semi, "charset=");
    if (!cs)
        return 1;
    cs += strlen("charset=");
    if (*cs == '"')
        cs++;
    return strncasecmp(cs, "utf-8", 5) == 0 && (cs[5] == '\0' || cs[5] == '"' || cs[5] == ';'
                                                || cs[5] == ' ');
}

static const idgw_error_def *xml_error(const idgw_sp_result *res)
{
    if (res->status == IDGW_SP_BAD_XML) {
        switch (res->xml_status) {
        case IDGW_SP_XML_DOCTYPE:
            return &IDGW_E_CNV_DOCTYPE;
        case IDGW_SP_XML_TOO_LARGE:
        case IDGW_SP_XML_TOO_DEEP:
        case IDGW_SP_XML_TOO_MANY:
            return &IDGW_E_CNV_LIMITS;
        case IDGW_SP_XML_INTERNAL:
            return &IDGW_E_CNV_INTERNAL;
        default:
            return &IDGW_E_CNV_XML;
        }
    }
    return res->status == IDGW_SP_BAD_PACKET ? &IDGW_E_CNV_PACKET : &IDGW_E_CNV_FIELD;
}

static int parse_body(conv_req *c, idgw_sp_request *rq)
{
    const char *body;
    apr_size_t len;
    idgw_sp_xml_limits lim;
    idgw_sp_result res;

    if (session_body(c->r, &body, &len) != APR_SUCCESS)
        body = "", len = 0;
    idgw_convert_xml_limits(c->conf, &lim);
    idgw_sp_request_decode(c->r->pool, c->info->op, c->info->step, body, len, &lim, rq, &res);
    if (res.status == IDGW_SP_OK)
        return OK;
    return refuse(c, xml_error(&res),
                  res.status == IDGW_SP_BAD_XML ? idgw_sp_xml_status_name(res.xml_status)
                  : res.status == IDGW_SP_BAD_ROOT ? "root element or version"
                  : apr_pstrcat(c->r->pool, "field ", res.field, NULL));
}

/* ---- the steps ------------------------------------------------------------------------- */

static int step_open(conv_req *c, const idgw_sp_request *rq)
{
    /* the envelope and the body must name the same terminal and chip */
    if (strcmp(rq->terminal, c->info->terminal_id) != 0 || strcmp(rq->idm, c->info->idm) != 0)
        return refuse(c, &IDGW_E_CNV_FIELD, "body disagrees with the envelope");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "IDGW0412: session opened for app %s "
                  "(sid=%s)", rq->app_version, c->info->sid_log);
    return send_body(c->r, HTTP_OK,
                     idgw_ans_session(c->r->pool, c->info->token, c->info->seq,
                                      (long)apr_time_sec(c->info->deadline - apr_time_now())));
}

static int step_close(conv_req *c)
{
    int cancelled = c->info->from.phase == IDGW_PHASE_REQUESTED
                    || c->info->from.phase == IDGW_PHASE_RELAYING;

    if (cancelled) {
        c->env.op = c->info->from.op;
        /* the session script keeps the operation's vault items through the
         * close until this request commits (mod_idgw.h), so the context is
         * here unless it expired with an idle session */
        if (ctx_load(c)) {
            c->baton.ctx = c->env.ctx;
            tell_abort(c, "cancelled by close");
        } else {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, c->r, "IDGW0414: close cancels %s, "
                          "its context is gone: backends not notified (sid=%s)",
                          idgw_op_name(c->env.op), c->info->sid_log);
            context_lost_unsettled(c, c->env.op, "cancelled by close, context gone");
        }
    }
    return answer(c, IDGW_COMMIT_OK, idgw_ans_closed(c->r->pool, cancelled));
}

/* The operation's context could not be sealed for the commit to store.
 * Abort what this step started and answer the reason, never a 500.  (When
 * the commit that stores it fails, the step lost its claim or Redis failed:
 * answer() aborts.) */
static int context_lost(conv_req *c)
{
    idgw_conv_fail f;

    f.error = lost_error(c->r);
    f.detail = "operation context not stored";
    f.hostile = 0;
    return fail_step(c, &f, 1);
}

static int step_request(conv_req *c, const idgw_sp_request *rq)
{
    const uint8_t *pkt;
    size_t len;
    idgw_conv_fail f;

    c->env.ctx = idgw_ctx_new(c->r->pool);
    c->baton.ctx = c->env.ctx;
    if (idgw_conv_request(&c->env, rq, &pkt, &len, &f) != 0)
        return fail_step(c, &f, 1);
    if (!idgw_map_has_relay(c->conf->map, c->info->op))
        return answer(c, IDGW_COMMIT_OK, idgw_ans_complete(c->r->pool, c->info->op, c->env.ctx));
    if (!ctx_save(c) || !display_save(c))
        return context_lost(c);
    return answer(c, IDGW_COMMIT_OK, idgw_ans_relay(c->r->pool, c->info->op, pkt, len));
}

static int step_relay(conv_req *c, const idgw_sp_request *rq)
{
    const uint8_t *pkt;
    size_t len;
    int done;
    idgw_conv_fail f;
    int rc;

    if (!ctx_need(c, &rc))
        return rc;
    c->baton.ctx = c->env.ctx;
    if (idgw_conv_relay(&c->env, rq->packet, rq->packet_len, &done, &pkt, &len, &f) != 0)
        return fail_step(c, &f, 1);
    /* the FeliCa server verified the chip's answer (result 0000): only the
     * chip's diversified keys make one, so the session's chip is proven */
    session_prove(c->r, "chip");
    if (!ctx_save(c))
        return context_lost(c);
    return answer(c, IDGW_COMMIT_OK, done ? idgw_ans_relay_done(c->r->pool, c->info->op)
                                          : idgw_ans_relay(c->r->pool, c->info->op, pkt, len));
}

static int step_complete(conv_req *c)
{
    idgw_conv_fail f;
    int rc;

    if (!ctx_need(c, &rc))
        return rc;
    if (!display_load(c))
        return refuse(c, &IDGW_E_CNV_INTERNAL, "display data not readable");
    c->baton.ctx = c->env.ctx;
    /* the completion tells the backends the card is written */
    if (!take_watch(c, "completing"))
        return idgw_xml_error_send(c->r, lost_error(c->r));
    /* the chip's cards were read: what an earlier operation left open may
     * be settled now, before this one's own notices (never failing it) */
    idgw_convert_settle(c->r, &c->env, &settle_fns, c->info->sid_log);
    if (idgw_conv_complete(&c->env, &f) != 0)
        return fail_step(c, &f, 0);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "IDGW0415: %s complete (sid=%s)",
                  idgw_op_name(c->info->op), c->info->sid_log);
    return answer(c, IDGW_COMMIT_OK, idgw_ans_complete(c->r->pool, c->info->op, c->env.ctx));
}

/* A retry took over a step whose first attempt never answered within the
 * retry lease (it died, or its result never reached Redis).  request, relay
 * and complete are not idempotent towards the backends (a second
 * FELICA_START_REQ would orphan the first FeliCa operation; a relay answer
 * sent twice breaks the secure channel): never run them again.  Abort the
 * operation where its saved context says it stands and tell the app to start
 * it over (IDGW-SEQ-006; the session is back in ready). */
static int step_taken_over(conv_req *c)
{
    c->env.op = c->info->op;
    if (ctx_load(c)) {
        c->baton.ctx = c->env.ctx;
        tell_abort(c, "aborted: its step was taken over by a retry");
    } else if (c->info->step != IDGW_STEP_REQUEST) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, c->r, "IDGW0422: %s/%s taken over, its "
                      "context is gone: backends not notified; reconcile by correlation id %s "
                      "(sid=%s)", idgw_op_name(c->info->op), idgw_step_name(c->info->step),
                      c->info->correlation_id, c->info->sid_log);
        context_lost_unsettled(c, c->info->op, "taken over, context gone");
    }
    return refuse(c, &IDGW_E_SEQ_RESTART, "first attempt never answered within the lease");
}

static int dispatch(conv_req *c)
{
    idgw_sp_request rq;
    int rc;

    if (c->info->op == IDGW_OP_STATUS) {
        char st[IDGW_STATE_NAME_MAX];

        if (!idgw_state_format(&c->info->to, st, sizeof(st)))
            apr_cpystrn(st, "unknown", sizeof(st));
        return send_body(c->r, HTTP_OK, idgw_ans_status(c->r->pool, st, c->info->seq));
    }
    if (!content_type_ok(c->r))
        return refuse(c, &IDGW_E_CNV_CTYPE, "content type");
    if ((rc = parse_body(c, &rq)) != OK)
        return rc;
    if (c->info->reclaimed && c->info->op != IDGW_OP_CLOSE)
        return step_taken_over(c);
    switch (c->info->op) {
    case IDGW_OP_OPEN:
        return step_open(c, &rq);
    case IDGW_OP_CLOSE:
        return step_close(c);
    default:
        break;
    }
    switch (c->info->step) {
    case IDGW_STEP_REQUEST:
        return step_request(c, &rq);
    case IDGW_STEP_RELAY:
        return step_relay(c, &rq);
    case IDGW_STEP_COMPLETE:
        return step_complete(c);
    default:
        return refuse(c, &IDGW_E_CNV_INTERNAL, "no such step");
    }
}

static int convert_handler(request_rec *r)
{
    conv_req c;

    if (!r->handler || strcmp(r->handler, IDGW_CONVERT_HANDLER) != 0)
        return DECLINED;
    if (idgw_convert_acl_request(r) != OK)
        return DONE;
    memset(&c, 0, sizeof(c));
    c.r = r;
    c.conf = ap_get_module_config(r->server->module_config, &idgw_convert_module);
    c.info = session_get ? session_get(r) : NULL;
    if (!c.info || !c.conf->map) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0416: handler %s without %s here "
                      "(IdgwSession On and IdgwConvertMap are needed)", IDGW_CONVERT_HANDLER,
                      !c.info ? "a checked session" : "a mapping");
        return idgw_xml_error_send(r, &IDGW_E_CNV_INTERNAL);
    }
    c.baton.be = c.conf->be;
    c.env.p = r->pool;
    c.env.map = c.conf->map;
    c.env.op = c.info->op;
    c.env.correlation_id = c.info->correlation_id;
    c.env.idm = c.info->idm;
    c.env.send = idgw_convert_send;
    c.env.baton = &c.baton;
    c.env.max_packet = idgw_convert_max_packet(c.conf);
    c.env.identity_check = identity_check;
    c.env.identity_baton = &c;
    return dispatch(&c);
}

/* Before the session check (fixups, middle), so no token is issued where
 * the handler would refuse: access control neither on nor explicitly off. */
static int fixups_first(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, IDGW_CONVERT_HANDLER) != 0)
        return DECLINED;
    return idgw_convert_acl_request(r) == OK ? DECLINED : DONE;
}

/* ---- start-up ----------------------------------------------------------------------------- */

/* check_config runs in "httpd -t" too (post_config does not): the map and
 * its contents, the backends' CA, certificate and key are loaded here, once
 * per configuration cycle, into pconf; post_config and the children use them. */
static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    const char *err;

    if (!APR_RETRIEVE_OPTIONAL_FN(idgw_session_get)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "IDGW0400: mod_idgw_convert needs "
                     "mod_idgw_session (LoadModule idgw_session_module before "
                     "idgw_convert_module)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* access control on, or off on purpose, wherever the handler serves;
     * the explicit Offs are told here in a config test, at start in post_config */
    if ((err = idgw_convert_acl_startup(ptemp, s,
                                        ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST))) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    idgw_tg_init();
    if ((err = idgw_convert_setup(pconf, s, &idgw_convert_module))) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "IDGW0402: mod_idgw_convert: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* the session module's retry lease must outlast the longest step: declared
     * here, so its check (its check_config runs last) is part of "httpd -t" */
    step_budget = APR_RETRIEVE_OPTIONAL_FN(idgw_session_step_budget);
    if (step_budget)
        step_budget(s, "mod_idgw_convert", idgw_convert_step_worst(s, &idgw_convert_module));
    return OK;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    const char *err;

    session_get = APR_RETRIEVE_OPTIONAL_FN(idgw_session_get);
    session_commit = APR_RETRIEVE_OPTIONAL_FN(idgw_session_commit);
    session_body = APR_RETRIEVE_OPTIONAL_FN(idgw_session_body);
    vault_stage = APR_RETRIEVE_OPTIONAL_FN(idgw_vault_stage);
    vault_prefetch = APR_RETRIEVE_OPTIONAL_FN(idgw_vault_prefetch);
    vault_get = APR_RETRIEVE_OPTIONAL_FN(idgw_vault_get);
    session_strike = APR_RETRIEVE_OPTIONAL_FN(idgw_session_strike);
    session_prove = APR_RETRIEVE_OPTIONAL_FN(idgw_session_prove);
    reaper_register = APR_RETRIEVE_OPTIONAL_FN(idgw_reaper_register);
    session_unwatch = APR_RETRIEVE_OPTIONAL_FN(idgw_session_unwatch);
    acl_identity_check = APR_RETRIEVE_OPTIONAL_FN(idgw_acl_identity_check);
    unsettled_record = APR_RETRIEVE_OPTIONAL_FN(idgw_unsettled_record);
    settle_fns.of_chip = APR_RETRIEVE_OPTIONAL_FN(idgw_unsettled_of_chip);
    settle_fns.claim = APR_RETRIEVE_OPTIONAL_FN(idgw_unsettled_claim);
    settle_fns.release = APR_RETRIEVE_OPTIONAL_FN(idgw_unsettled_release);
    settle_fns.settle = APR_RETRIEVE_OPTIONAL_FN(idgw_unsettled_settle);
    if (!session_get || !session_commit || !session_body || !vault_stage || !vault_get
        || !vault_prefetch
        || !session_strike || !session_prove || !reaper_register
        || !session_unwatch
        || !unsettled_record || !settle_fns.of_chip || !settle_fns.claim
        || !settle_fns.release || !settle_fns.settle) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "IDGW0400: mod_idgw_convert needs "
                     "mod_idgw_session (LoadModule idgw_session_module before "
                     "idgw_convert_module)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* check_config found the configuration acceptable: this tells the
     * explicit "IdgwAcl Off" locations in the error log at every start */
    if ((err = idgw_convert_acl_startup(ptemp, s, 1))) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* every relay and completion reads the context, a completion the
     * display data: read with the step's claim (one round trip less) */
    if (vault_prefetch(pconf, IDGW_STEP_RELAY, CTX_ITEM) != APR_SUCCESS
        || vault_prefetch(pconf, IDGW_STEP_COMPLETE, CTX_ITEM) != APR_SUCCESS
        || vault_prefetch(pconf, IDGW_STEP_COMPLETE, DISPLAY_ITEM) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "IDGW0400: mod_idgw_convert: the session "
                     "module refused the vault items its steps read");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (reaper_register(pconf, reap_abandoned) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "IDGW0400: mod_idgw_convert: another "
                     "module already handles abandoned operations");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* telegrams carry card data, app requests passwords: libxml2 clears
     * every block before it frees it (idgw_xml_wipe.h) */
    if (idgw_xml_wipe_install(pconf) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "IDGW0419: another module "
                     "replaced libxml2's allocator: memory that held card data or "
                     "passwords is freed without being cleared");
    return OK;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    idgw_convert_child_setup(pchild, s, &idgw_convert_module);
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    idgw_xml_error_hooks();
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(fixups_first, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(convert_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(idgw_convert) = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    idgw_convert_create_srv,
    idgw_convert_merge_srv,
    idgw_convert_cmds,
    register_hooks
};
