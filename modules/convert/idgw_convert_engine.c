/*
 * idgw_convert_engine.c - the telegram mapping at work (idgw_convert_engine.h).
 */
#include "idgw_convert_engine.h"

#include <string.h>
#include <apr_strings.h>

#include "felica_frame.h"
#include "felica_relay.h"
#include "idgw_convert_errors.h"

static int failed(idgw_conv_fail *f, const idgw_error_def *e, const char *detail, int hostile)
{
    f->error = e;
    f->detail = detail;
    f->hostile = hostile;
    return -1;
}

/* ---- values ------------------------------------------------------------------ */

static const char *source_value(idgw_conv_env *env, const idgw_map_source *src,
                                const char *item, const idgw_sp_request *rq)
{
    switch (src->kind) {
    case IDGW_MAP_SRC_LITERAL:
        return src->name;
    case IDGW_MAP_SRC_ITEM:
        return item;
    case IDGW_MAP_SRC_CTX:
        return idgw_ctx_get(env->ctx, src->name);
    case IDGW_MAP_SRC_REQ:
        /* the password is read from the request at hand only: never kept */
        if (strcmp(src->name, "password") == 0)
            return rq ? rq->password : NULL;
        if (strcmp(src->name, "idm") == 0)
            return env->idm;
        return idgw_ctx_get(env->ctx, apr_pstrcat(env->p, "req.", src->name, NULL));
    }
    return NULL;
}

static const char *assign_value(idgw_conv_env *env, const idgw_map_assign *as, const char *item,
                                const idgw_sp_request *rq)
{
    for (int i = 0; i < as->nalts; i++) {
        const char *v = source_value(env, &as->alts[i], item, rq);

        if (v && *v)
            return v;
    }
    return NULL;
}

static idgw_telegram_t *build(idgw_conv_env *env, const idgw_map_call *call, const char *item,
                              const idgw_sp_request *rq, idgw_conv_fail *f)
{
    idgw_telegram_t *tg = idgw_tg_new(env->p, call->type, env->correlation_id);
    idgw_tg_error_t terr;

    for (int i = 0; i < call->assigns->nelts; i++) {
        const idgw_map_assign *as = &APR_ARRAY_IDX(call->assigns, i, idgw_map_assign);
        const char *v = assign_value(env, as, item, rq);

        if (v)
            idgw_tg_add(tg, as->field, v);
    }
    if (idgw_tg_validate(tg, &terr) != 0) {
        /* the schema's message names fields, never their values */
        failed(f, &IDGW_E_CNV_INTERNAL,
               apr_psprintf(env->p, "%s (map line %d) does not validate: %s",
                            idgw_tg_type_name(call->type), call->line, terr.msg), 0);
        return NULL;
    }
    return tg;
}

idgw_telegram_t *idgw_conv_build(idgw_conv_env *env, const idgw_map_call *call,
                                 const char *item, idgw_conv_fail *f)
{
    return build(env, call, item, NULL, f);
}

static void capture(idgw_conv_env *env, const apr_array_header_t *caps,
                    const idgw_telegram_t *res, const char *item)
{
    for (int i = 0; i < caps->nelts; i++) {
        const idgw_map_capture *c = &APR_ARRAY_IDX(caps, i, idgw_map_capture);
        const char *name = item ? apr_pstrcat(env->p, c->ctx_name, ".", item, NULL) : c->ctx_name;
        int n = idgw_tg_count(res, c->res_field);

        idgw_ctx_set(env->ctx, name, NULL);
        if (!c->all) {
            idgw_ctx_set(env->ctx, name, idgw_tg_get(res, c->res_field));
            continue;
        }
        /* an empty list is present but empty, so for= loops see "none" */
        if (n == 0)
            idgw_ctx_set(env->ctx, name, "");
        for (int k = 0; k < n; k++)
            idgw_ctx_append(env->ctx, name, idgw_tg_get_nth(res, c->res_field, k));
    }
}

/* ---- the proven identity ----------------------------------------------------------- */

static int check_user(idgw_conv_env *env, const char *user, idgw_conv_fail *f)
{
    if (!env->identity_check)
        return 0;
    return env->identity_check(env->identity_baton, "user", user, f);
}

/* req was answered 0000: if its type proves a user (identity line), that user
 * is the operation's, and access control has its say before anything else
 * is sent.  The value is the one the backend authenticated, never the app's
 * claim about itself. */
static int prove_user(idgw_conv_env *env, const idgw_telegram_t *req, idgw_conv_fail *f)
{
    const char *field = idgw_map_identity(env->map, req->type);
    const char *user, *before;

    if (!field)
        return 0;
    user = idgw_tg_get(req, field);
    if (!user || !*user)
        return failed(f, &IDGW_E_CNV_INTERNAL,
                      apr_psprintf(env->p, "%s proved no user (field %s empty)",
                                   idgw_tg_type_name(req->type), field), 0);
    before = idgw_ctx_get(env->ctx, IDGW_CONV_CTX_USER);
    /* one operation acts for one cardholder */
    if (before && strcmp(before, user) != 0)
        return failed(f, &IDGW_E_CNV_INTERNAL, "a second user authenticated in one operation", 0);
    if (!idgw_ctx_set(env->ctx, IDGW_CONV_CTX_USER, user))
        return failed(f, &IDGW_E_CNV_INTERNAL, "operation context full", 0);
    return check_user(env, user, f);
}

/* ---- one telegram -------------------------------------------------------------- */

static int result_ok(idgw_conv_env *env, const idgw_telegram_t *res, idgw_conv_fail *f)
{
    if (res->result && strcmp(res->result, IDGW_TG_R_OK) == 0)
        return 0;
    return failed(f, idgw_map_error_for(env->map, env->op, res->result),
                  apr_psprintf(env->p, "%s answered result %s", idgw_tg_type_name(res->type),
                               res->result ? res->result : "(none)"),
                  res->result && strcmp(res->result, IDGW_TG_R_CHIP_VERIFY) == 0);
}

static int run_call(idgw_conv_env *env, const idgw_map_call *call, const char *item,
                    const idgw_sp_request *rq, idgw_telegram_t **out, idgw_conv_fail *f)
{
    idgw_telegram_t *req = build(env, call, item, rq, f), *res = NULL;

    if (!req)
        return -1;
    if (env->send(env->baton, env->p, call->backend, req, &res, f) != 0)
        return -1;
    if (result_ok(env, res, f) != 0)
        return -1;
    capture(env, call->captures, res, item);
    if (prove_user(env, req, f) != 0)
        return -1;
    if (out)
        *out = res;
    return 0;
}

/* A call for every element of a list, or just once. */
static int run_calls(idgw_conv_env *env, const apr_array_header_t *calls,
                     const idgw_sp_request *rq, idgw_telegram_t **last, idgw_conv_fail *f)
{
    for (int i = 0; i < calls->nelts; i++) {
        const idgw_map_call *call = &APR_ARRAY_IDX(calls, i, idgw_map_call);

        if (!call->for_each) {
            if (run_call(env, call, NULL, rq, last, f) != 0)
                return -1;
            continue;
        }
        for (int k = 0; k < idgw_ctx_list_count(env->ctx, call->for_each)
                        && k < IDGW_CONV_LIST_MAX; k++) {
            const char *item = idgw_ctx_list_item(env->p, env->ctx, call->for_each, k);

            if (item && *item && run_call(env, call, item, rq, NULL, f) != 0)
                return -1;
        }
    }
    return 0;
}

/* ---- chip packets -------------------------------------------------------------- */

static int idm_bytes(idgw_conv_env *env, uint8_t idm[FELICA_IDM_LEN], idgw_conv_fail *f)
{
    if (!env->idm || !idgw_sp_hex_decode(env->idm, idm, FELICA_IDM_LEN))
        return failed(f, &IDGW_E_CNV_INTERNAL, "session IDm unusable", 0);
    return 0;
}

/* Commands that change what the chip holds (the others only read or
 * authenticate). */
static int is_write_command(uint8_t code)
{
    return code == FELICA_CMD_SECURE_WRITE || code == FELICA_CMD_CREATE_AREA
        || code == FELICA_CMD_DELETE_AREA || code == FELICA_CMD_WRITE_WO_ENC;
}

/* A command from the FeliCa server on its way to the app: the server is
 * trusted more than the app, but a command outside the operation's classes
 * or for another chip is never handed out. */
static int accept_command(idgw_conv_env *env, const char *hex, const uint8_t **packet,
                          size_t *packet_len, idgw_conv_fail *f)
{
    uint8_t *buf = apr_palloc(env->p, FELICA_MAX_FRAME), idm[FELICA_IDM_LEN];
    size_t len;
    int rc;

    if (idm_bytes(env, idm, f) != 0)
        return -1;
    if (!hex || !idgw_sp_hex_decode_var(hex, buf, FELICA_MAX_FRAME, &len))
        return failed(f, &IDGW_E_CNV_TELEGRAM, "FeliCa server sent no usable chip command", 0);
    rc = felica_relay_check_command(buf, len, idm, idgw_map_relay_classes(env->map, env->op),
                                    env->max_packet);
    if (rc != FELICA_OK)
        return failed(f, &IDGW_E_CNV_TELEGRAM,
                      apr_psprintf(env->p, "FeliCa server command refused by relay check (%d)",
                                   rc), 0);
    idgw_ctx_set(env->ctx, "fc.cmd", hex);
    idgw_ctx_set(env->ctx, "fc.state", "CONTINUE");
    /* from here on the chip may hold the change even if its answer is lost */
    if (is_write_command(buf[1]))
        idgw_ctx_set(env->ctx, "fc.wrote", "1");
    *packet = buf;
    *packet_len = len;
    return 0;
}

/* The FeliCa server's START or EXCHANGE answer: the next command, or done. */
static int felica_answer(idgw_conv_env *env, const idgw_telegram_t *res, int *done,
                         const uint8_t **packet, size_t *packet_len, idgw_conv_fail *f)
{
    const char *state = idgw_tg_get(res, "state");
    const char *op_id = idgw_tg_get(res, "operationId");

    if (!op_id)
        return failed(f, &IDGW_E_CNV_TELEGRAM, "FeliCa server answer without operationId", 0);
    if (idgw_ctx_get(env->ctx, "fc.op") && strcmp(idgw_ctx_get(env->ctx, "fc.op"), op_id) != 0)
        return failed(f, &IDGW_E_CNV_TELEGRAM, "FeliCa server answered another operation", 0);
    idgw_ctx_set(env->ctx, "fc.op", op_id);
    if (state && strcmp(state, "DONE") == 0) {
        idgw_ctx_set(env->ctx, "fc.state", "DONE");
        idgw_ctx_set(env->ctx, "fc.cmd", NULL);
        capture(env, env->map->done[env->op], res, NULL);
        *done = 1;
        return 0;
    }
    *done = 0;
    if (idgw_tg_count(res, "packet") != 1)
        return failed(f, &IDGW_E_CNV_TELEGRAM, "FeliCa server must send one command at a time", 0);
    return accept_command(env, idgw_tg_get(res, "packet"), packet, packet_len, f);
}

static void keep_request(idgw_conv_env *env, const idgw_sp_request *rq)
{
    static const char digits[] = "12";

    if (rq->member)
        idgw_ctx_set(env->ctx, "req.member", rq->member);
    if (rq->issuer[0])
        idgw_ctx_set(env->ctx, "req.issuer", rq->issuer);
    if (rq->card_id)
        idgw_ctx_set(env->ctx, "req.cardId", rq->card_id);
    if (rq->slot == 0 || rq->slot == 1)
        idgw_ctx_set(env->ctx, "req.slot1", apr_pstrndup(env->p, digits + rq->slot, 1));
    if (rq->pmm[0])
        idgw_ctx_set(env->ctx, "req.pmm", rq->pmm);
    idgw_ctx_set(env->ctx, "req.main", rq->make_main ? "1" : "0");
    if (rq->source != IDGW_SP_SOURCE_NONE)
        idgw_ctx_set(env->ctx, "req.source", idgw_sp_source_name(rq->source));
}

int idgw_conv_request(idgw_conv_env *env, const idgw_sp_request *rq,
                      const uint8_t **packet, size_t *packet_len, idgw_conv_fail *f)
{
    const apr_array_header_t *calls = idgw_map_calls(env->map, env->op, IDGW_MAP_REQUEST);
    idgw_telegram_t *last = NULL;
    int done = 0;

    *packet = NULL;
    *packet_len = 0;
    keep_request(env, rq);
    if (run_calls(env, calls, rq, &last, f) != 0)
        return -1;
    if (!idgw_map_has_relay(env->map, env->op))
        return 0;
    if (felica_answer(env, last, &done, packet, packet_len, f) != 0)
        return -1;
    /* a chip operation that needs no chip access is not one we know */
    return done ? failed(f, &IDGW_E_CNV_TELEGRAM, "FeliCa server done before any packet", 0) : 0;
}

static int check_answer(idgw_conv_env *env, const uint8_t *answer, size_t answer_len,
                        idgw_conv_fail *f)
{
    const char *cmd_hex = idgw_ctx_get(env->ctx, "fc.cmd");
    uint8_t cmd[2], idm[FELICA_IDM_LEN];
    int rc;

    if (!cmd_hex || strlen(cmd_hex) < 4 || !idgw_sp_hex_decode(apr_pstrndup(env->p, cmd_hex, 4),
                                                                 cmd, 2))
        return failed(f, &IDGW_E_CNV_UNEXPECTED, "no chip command awaits an answer", 1);
    if (idm_bytes(env, idm, f) != 0)
        return -1;
    rc = felica_relay_check_response(answer, answer_len, idm, cmd[1], env->max_packet);
    switch (rc) {
    case FELICA_OK:
        return 0;
    case FELICA_ERR_WRONG_IDM:
        return failed(f, &IDGW_E_CNV_WRONG_IDM, "chip answer from another IDm", 1);
    case FELICA_ERR_BAD_CODE:
        return failed(f, &IDGW_E_CNV_UNEXPECTED, "chip answer to another command", 1);
    default:
        return failed(f, &IDGW_E_CNV_PACKET,
                      apr_psprintf(env->p, "chip answer malformed (%d)", rc), 0);
    }
}

int idgw_conv_relay(idgw_conv_env *env, const uint8_t *answer, size_t answer_len,
                    int *done, const uint8_t **packet, size_t *packet_len, idgw_conv_fail *f)
{
    idgw_map_call call;
    idgw_telegram_t *req, *res = NULL;
    const char *op_id = idgw_ctx_get(env->ctx, "fc.op");
    const char *state = idgw_ctx_get(env->ctx, "fc.state");
    const char *user = idgw_ctx_get(env->ctx, IDGW_CONV_CTX_USER);
    char *hex;

    *done = 0;
    *packet = NULL;
    *packet_len = 0;
    if (!op_id || !state || strcmp(state, "CONTINUE") != 0)
        return failed(f, &IDGW_E_CNV_UNEXPECTED, "no chip relay in progress", 1);
    /* the lists are fleet-wide: a ban since the login stops the chip work here */
    if (user && check_user(env, user, f) != 0)
        return -1;
    if (check_answer(env, answer, answer_len, f) != 0)
        return -1;
    hex = apr_palloc(env->p, 2 * answer_len + 1);
    for (size_t i = 0; i < answer_len; i++)
        apr_snprintf(hex + 2 * i, 3, "%02X", answer[i]);
    memset(&call, 0, sizeof(call));
    call.type = IDGW_TG_FELICA_EXCHANGE_REQ;
    call.backend = IDGW_MAP_BE_FELICA;
    req = idgw_tg_new(env->p, call.type, env->correlation_id);
    idgw_tg_add(req, "operationId", op_id);
    idgw_tg_add(req, "packet", hex);
    if (env->send(env->baton, env->p, IDGW_MAP_BE_FELICA, req, &res, f) != 0)
        return -1;
    if (result_ok(env, res, f) != 0)
        return -1;
    return felica_answer(env, res, done, packet, packet_len, f);
}

int idgw_conv_complete(idgw_conv_env *env, idgw_conv_fail *f)
{
    const char *state = idgw_ctx_get(env->ctx, "fc.state");

    if (idgw_map_has_relay(env->map, env->op) && (!state || strcmp(state, "DONE") != 0))
        return failed(f, &IDGW_E_CNV_UNEXPECTED, "complete before the chip work is done", 0);
    return run_calls(env, idgw_map_calls(env->map, env->op, IDGW_MAP_COMPLETE), NULL, NULL, f);
}

idgw_chip_truth idgw_conv_chip_truth(const idgw_ctx *ctx)
{
    const char *state = idgw_ctx_get(ctx, "fc.state");
    const char *wrote = idgw_ctx_get(ctx, "fc.wrote");

    if (state && strcmp(state, "DONE") == 0)
        return IDGW_CHIP_WRITTEN;
    if (wrote && strcmp(wrote, "1") == 0)
        return IDGW_CHIP_UNCONFIRMED;
    return IDGW_CHIP_NOT_WRITTEN;
}

void idgw_conv_card_ref(const idgw_ctx *ctx, const char **card, const char **slot)
{
    const char *c = ctx ? idgw_ctx_get(ctx, "cardId") : NULL;
    const char *s = ctx ? idgw_ctx_get(ctx, "slot") : NULL;
    const char *pan = ctx ? idgw_ctx_get(ctx, "pan") : NULL;

    if (ctx && !c)
        c = idgw_ctx_get(ctx, "req.cardId");
    if (ctx && !s)
        s = idgw_ctx_get(ctx, "req.slot1");
    *card = c && idgw_sp_card_id_valid(c) && !(pan && strcmp(c, pan) == 0) ? c : NULL;
    *slot = s && s[0] >= '1' && s[0] <= '9' && !s[1] ? s : NULL;
}

idgw_map_backend idgw_conv_card_backend(const idgw_ctx *ctx)
{
    const char *src = ctx ? idgw_ctx_get(ctx, "req.source") : NULL;

    return src && strcmp(src, "dlc") == 0 ? IDGW_MAP_BE_DLC : IDGW_MAP_BE_CREMO;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return s[n] == '\0';
}

void idgw_conv_settle_ref(const idgw_ctx *ctx, const char **source, const char **member,
                          const char **issuer, const char **last4)
{
    const char *pan = ctx ? idgw_ctx_get(ctx, "pan") : NULL;
    const char *is = ctx ? idgw_ctx_get(ctx, "issuer") : NULL;
    size_t n = pan ? strlen(pan) : 0;

    *member = ctx ? idgw_ctx_get(ctx, IDGW_CONV_CTX_USER) : NULL;
    *source = *member ? idgw_map_backend_name(idgw_conv_card_backend(ctx)) : NULL;
    /* an issuer code is a few letters and digits, as the card source sent it */
    *issuer = is && idgw_sp_card_id_valid(is) && strlen(is) <= 8 ? is : NULL;
    *last4 = n >= 12 && all_digits(pan, n) ? pan + n - 4 : NULL;
}

int idgw_conv_chip_holds(apr_pool_t *p, const idgw_ctx *ctx, const char *slot,
                         const char *issuer, const char *last4)
{
    int n = idgw_ctx_list_count(ctx, "slots");

    /* an empty listing (no card on the chip) is a listing: "" */
    if (!idgw_ctx_get(ctx, "slots") || idgw_ctx_list_count(ctx, "issuers") != n
        || idgw_ctx_list_count(ctx, "last4s") != n)
        return -1;
    for (int i = 0; i < n; i++) {
        const char *s = idgw_ctx_list_item(p, ctx, "slots", i);
        const char *is = idgw_ctx_list_item(p, ctx, "issuers", i);
        const char *l4 = idgw_ctx_list_item(p, ctx, "last4s", i);

        if (s && is && l4 && strcmp(s, slot) == 0 && strcmp(is, issuer) == 0
            && strcmp(l4, last4) == 0)
            return 1;
    }
    return 0;
}

const char *idgw_chip_truth_name(idgw_chip_truth t)
{
    switch (t) {
    case IDGW_CHIP_WRITTEN:     return "written";
    case IDGW_CHIP_UNCONFIRMED: return "written-unconfirmed";
    default:                    return "not-written";
    }
}

/* The value the abort notices' writeResult takes (ctx.chipWrite in the map). */
static const char *chip_write_value(idgw_chip_truth t)
{
    switch (t) {
    case IDGW_CHIP_WRITTEN:     return "OK";
    case IDGW_CHIP_UNCONFIRMED: return "UNCONFIRMED";
    default:                    return "NG";
    }
}

int idgw_conv_abort_report(idgw_conv_env *env, idgw_abort_report *rep)
{
    const apr_array_header_t *calls = idgw_map_calls(env->map, env->op, IDGW_MAP_ABORT);

    memset(rep, 0, sizeof(*rep));
    rep->truth = idgw_conv_chip_truth(env->ctx);
    idgw_ctx_set(env->ctx, "chipWrite", chip_write_value(rep->truth));
    for (int i = 0; i < calls->nelts; i++) {
        const idgw_map_call *call = &APR_ARRAY_IDX(calls, i, idgw_map_call);
        idgw_conv_fail f;

        memset(&f, 0, sizeof(f));
        if (run_call(env, call, NULL, NULL, NULL, &f) == 0) {
            rep->sent++;
        } else {
            rep->skipped++;
            if (!rep->first_skip)
                rep->first_skip = apr_psprintf(env->p, "%s: %s", idgw_tg_type_name(call->type),
                                               f.detail ? f.detail : "not sent");
        }
    }
    return rep->sent;
}

int idgw_conv_abort(idgw_conv_env *env)
{
    idgw_abort_report rep;

    return idgw_conv_abort_report(env, &rep);
}
