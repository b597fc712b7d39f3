/*
 * idgw_convert_settle.c - the gateway settles the phone's unsettled
 * operations by itself (idgw_convert_settle.h).
 *
 * Claim first, then send, then settle.  The notice (CARD_WRITTEN_REQ) is not
 * idempotent at the source, so "send, then mark settled" could send it twice
 * when two operations of the chip (two gateways, or a retried step) meet the
 * record at once, or when marking fails and the next operation finds the
 * record still open.  The claim is one script on the record that only one
 * caller wins, and it is dropped again only when the notice provably did not
 * act (not sent at all, or the source answered with a refusal); a notice
 * whose fate is unknown (a timeout, a reset) keeps the claim, and the record
 * is left to the operator: at most once, never twice.
 */
#include "idgw_convert_settle.h"

#include <string.h>
#include <apr_strings.h>
#include <http_log.h>

#include "idgw_convert_errors.h"
#include "idgw_metrics.h"

APLOG_USE_MODULE(idgw_convert);

#define BY "gateway"
/* open records of the chip read per operation (other members' records, other
 * kinds, are skipped without a telegram) */
#define LOOKUP_MAX 16

typedef struct settle_job {
    request_rec *r;
    const idgw_conv_env *env;
    const idgw_settle_fns *fn;
    const char *sid_log;
    const char *claimer;
} settle_job;

/* What became of the notices of one record. */
typedef enum notice_fate {
    NOTICE_ACCEPTED,
    NOTICE_REFUSED,        /* not sent, or refused by the source: nothing done there */
    NOTICE_UNKNOWN         /* sent, its answer lost: the source may have acted */
} notice_fate;

static const char *field(apr_table_t *rec, const char *name)
{
    const char *v = apr_table_get(rec, name);

    return v && *v ? v : NULL;
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

/* A record this operation can settle: a card write whose outcome a chip
 * listing decides, of the member and source this operation authenticated. */
static int eligible(apr_table_t *rec, const char *source, const char *member)
{
    idgw_op op = idgw_op_from_name(or_dash(field(rec, "op")));

    if (!field(rec, "kind") || strcmp(field(rec, "kind"), "chip-unconfirmed") != 0)
        return 0;
    /* update_card rewrites a card that is there either way: the listing
     * (issuer, last four digits) cannot tell the old card from the new */
    if (op != IDGW_OP_ADD_CARD && op != IDGW_OP_RESTORE_CARD)
        return 0;
    if (!field(rec, "card") || !field(rec, "slot") || !field(rec, "issuer")
        || !field(rec, "last4") || !field(rec, "member") || !field(rec, "source"))
        return 0;
    return strcmp(field(rec, "source"), source) == 0 && strcmp(field(rec, "member"), member) == 0;
}

/* The record's correlation id when it is one (the source finds the notice
 * with the operation it settles), else this operation's. */
static const char *notice_cid(const settle_job *j, apr_table_t *rec)
{
    const char *cid = field(rec, "cid");
    size_t n = cid ? strlen(cid) : 0;

    if (n != 37 || strncmp(cid, "idgw-", 5) != 0)
        return j->env->correlation_id;
    for (size_t i = 5; i < n; i++)
        if (!((cid[i] >= '0' && cid[i] <= '9') || (cid[i] >= 'a' && cid[i] <= 'f')))
            return j->env->correlation_id;
    return cid;
}

/* The abort notices of the record's operation, as its abort stage would
 * have sent them knowing the chip: this operation's ticket, the record's
 * card and slot, writeResult OK or NG. */
static notice_fate send_notices(const settle_job *j, apr_table_t *rec, int written,
                                const char **why)
{
    idgw_conv_env senv = *j->env;
    idgw_op op = idgw_op_from_name(field(rec, "op"));
    const apr_array_header_t *calls = idgw_map_calls(senv.map, op, IDGW_MAP_ABORT);
    apr_pool_t *p = j->r->pool;

    senv.ctx = idgw_ctx_new(p);
    senv.correlation_id = notice_cid(j, rec);
    senv.identity_check = NULL;
    idgw_ctx_set(senv.ctx, "ticket", idgw_ctx_get(j->env->ctx, "ticket"));
    idgw_ctx_set(senv.ctx, "req.source", idgw_ctx_get(j->env->ctx, "req.source"));
    idgw_ctx_set(senv.ctx, "cardId", field(rec, "card"));
    idgw_ctx_set(senv.ctx, "slot", field(rec, "slot"));
    idgw_ctx_set(senv.ctx, "chipWrite", written ? "OK" : "NG");
    *why = "the map has no abort notice for it";
    if (!calls || calls->nelts == 0)
        return NOTICE_REFUSED;
    for (int i = 0; i < calls->nelts; i++) {
        const idgw_map_call *call = &APR_ARRAY_IDX(calls, i, idgw_map_call);
        idgw_telegram_t *tg, *res = NULL;
        idgw_conv_fail f;

        memset(&f, 0, sizeof(f));
        if (!(tg = idgw_conv_build(&senv, call, NULL, &f))) {
            *why = f.detail;
            return i == 0 ? NOTICE_REFUSED : NOTICE_UNKNOWN;
        }
        if (senv.send(senv.baton, p, call->backend, tg, &res, &f) != 0) {
            *why = f.detail;
            /* not connected, or no telegram built: it never left */
            return i == 0 && (f.error == &IDGW_E_CNV_UNREACHABLE
                              || f.error == &IDGW_E_CNV_INTERNAL)
                   ? NOTICE_REFUSED : NOTICE_UNKNOWN;
        }
        if (!res->result || strcmp(res->result, IDGW_TG_R_OK) != 0) {
            *why = apr_psprintf(p, "%s answered result %s", idgw_tg_type_name(res->type),
                                or_dash(res->result));
            return i == 0 ? NOTICE_REFUSED : NOTICE_UNKNOWN;
        }
    }
    return NOTICE_ACCEPTED;
}

static void log_settled(const settle_job *j, apr_table_t *rec, const char *outcome,
                        apr_status_t rv, const char *err)
{
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, j->r, "IDGW0461: settled %s (%s of %s, "
                  "correlation id %s) as %s by " BY ": the chip read in %s shows card %s %s "
                  "slot %s; its source was told (sid=%s)", field(rec, "id"),
                  field(rec, "kind"), field(rec, "op"), or_dash(field(rec, "cid")), outcome,
                  idgw_op_name(j->env->op), field(rec, "card"),
                  strcmp(outcome, "written") == 0 ? "in" : "not in", field(rec, "slot"),
                  j->sid_log);
    if (rv == APR_INCOMPLETE)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, j->r, "IDGW0465: settled %s, but its "
                      "index entries were not updated (%s): idgw-reconcile list may still "
                      "show it, with its outcome (sid=%s)", field(rec, "id"), or_dash(err),
                      j->sid_log);
    idgw_metrics_count_lookup(IDGW_M_UNSETTLED_SETTLED, outcome, BY, NULL, 1);
}

/* The notice was accepted: the record says so (claimed by us, so nobody
 * else settles it meanwhile). */
static int mark_settled(const settle_job *j, apr_table_t *rec, const char *outcome)
{
    const char *err = NULL;
    const char *note = apr_pstrcat(j->r->pool, "chip read in ", idgw_op_name(j->env->op),
                                   ", source told (correlation id ", j->env->correlation_id,
                                   ")", NULL);
    apr_status_t rv = j->fn->settle(j->r->pool, field(rec, "id"), j->env->idm, j->claimer,
                                    outcome, BY, note, &err);

    if (rv == APR_SUCCESS || rv == APR_INCOMPLETE) {
        log_settled(j, rec, outcome, rv, err);
        return 1;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, j->r, "IDGW0464: %s (%s of %s, correlation id "
                  "%s): its source was told %s, but the record was not marked settled (%s): "
                  "it stays claimed by %s for the operator (idgw-reconcile settle --outcome %s) "
                  "and is never told again (sid=%s)", field(rec, "id"), field(rec, "kind"),
                  field(rec, "op"), or_dash(field(rec, "cid")), outcome,
                  rv == APR_EBUSY ? "settled or claimed by another meanwhile" : or_dash(err),
                  j->claimer, outcome, j->sid_log);
    return 0;
}

static void log_redis(const settle_job *j, const char *what, const char *err)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, j->r, "IDGW0463: unsettled records of chip %s: "
                  "%s failed in Redis (%s): left unsettled, the operation goes on (sid=%s)",
                  j->env->idm, what, or_dash(err), j->sid_log);
}

/* One record: decide from the chip, claim, tell the source, settle. */
static int settle_one(const settle_job *j, apr_table_t *rec)
{
    const char *id = field(rec, "id"), *err = NULL, *why = NULL;
    int written = idgw_conv_chip_holds(j->r->pool, j->env->ctx, field(rec, "slot"),
                                       field(rec, "issuer"), field(rec, "last4"));
    const char *outcome = written ? "written" : "not-written";
    apr_status_t rv;

    if (written < 0)
        return 0;
    rv = j->fn->claim(j->r->pool, id, j->claimer, &err);
    if (rv == APR_EBUSY)        /* another operation has it, or it was just settled */
        return 0;
    if (rv != APR_SUCCESS) {
        log_redis(j, apr_pstrcat(j->r->pool, "the claim of ", id, NULL), err);
        return 0;
    }
    switch (send_notices(j, rec, written, &why)) {
    case NOTICE_ACCEPTED:
        return mark_settled(j, rec, outcome);
    case NOTICE_REFUSED:
        rv = j->fn->release(j->r->pool, id, j->claimer, &err);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, j->r, "IDGW0462: %s (%s of %s, "
                      "correlation id %s): the chip shows it %s, but its source was not told "
                      "(%s): left unsettled%s (sid=%s)", id, field(rec, "kind"),
                      field(rec, "op"), or_dash(field(rec, "cid")), outcome, or_dash(why),
                      rv == APR_SUCCESS ? ", tried again at the member's next operation"
                      : apr_pstrcat(j->r->pool, ", claimed (the claim was not dropped: ",
                                    or_dash(err), ") for the operator", NULL), j->sid_log);
        return 0;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, j->r, "IDGW0464: %s (%s of %s, correlation "
                      "id %s): the notice that the chip shows it %s may have reached its "
                      "source, its answer did not come back (%s): it stays claimed by %s for "
                      "the operator and is never sent again (sid=%s)", id, field(rec, "kind"),
                      field(rec, "op"), or_dash(field(rec, "cid")), outcome, or_dash(why),
                      j->claimer, j->sid_log);
        return 0;
    }
}

int idgw_convert_settle(request_rec *r, const idgw_conv_env *env, const idgw_settle_fns *fn,
                        const char *sid_log)
{
    const char *source, *member, *issuer, *last4, *err = NULL;
    apr_array_header_t *recs;
    settle_job j = { r, env, fn, sid_log, NULL };
    int settled = 0;

    /* an operation that authenticated at a source (a member, a ticket) and
     * read the chip's cards (a listing: chip_holds is not -1 for any card) */
    idgw_conv_settle_ref(env->ctx, &source, &member, &issuer, &last4);
    if (!fn->of_chip || !source || !idgw_ctx_get(env->ctx, "ticket") || !env->idm
        || idgw_conv_chip_holds(r->pool, env->ctx, "1", "-", "-") < 0)
        return 0;
    if (fn->of_chip(r->pool, env->idm, LOOKUP_MAX, &recs, &err) != APR_SUCCESS) {
        log_redis(&j, "the look-up", err);
        return 0;
    }
    j.claimer = apr_pstrcat(r->pool, BY " ", env->correlation_id, NULL);
    for (int i = 0, tried = 0; i < recs->nelts && tried < IDGW_CONV_SETTLE_MAX; i++) {
        apr_table_t *rec = APR_ARRAY_IDX(recs, i, apr_table_t *);

        if (!eligible(rec, source, member))
            continue;
        tried++;
        settled += settle_one(&j, rec);
    }
    return settled;
}
