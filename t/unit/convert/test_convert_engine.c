/* test_convert_engine.c: the shipped mapping and the engine drive whole
 * operations against fake backends and a real chip emulator: the FeliCa
 * server's part is libfelica's issuance session, the app's part relays the
 * packets to felica_chip.  The chip ends holding exactly the card the source
 * sent; forged, misdirected and replayed packets are refused; the answers
 * never carry the PAN or the expiry. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <libxml/parser.h>

#include "idgw_convert_answer.h"
#include "idgw_convert_engine.h"
#include "idgw_convert_errors.h"
#include "idgw_vault.h"
#include "iss_fixture.h"

#define PAN "4999990000001013"
#define PAN2 "3569990000004019"

static apr_pool_t *pool;
static idgw_map *map;
static felica_chip_t *chip;

/* ---- the fake backends ------------------------------------------------------ */

typedef struct fake {
    felica_issuance_t *iss;           /* the FeliCa server's operation */
    int written_ok, written_ng, calls;
    int fail_type;                    /* answer this type with fail_result */
    const char *fail_result;
} fake;

static fake fk;

static idgw_telegram_t *respond(apr_pool_t *p, const idgw_telegram_t *req, const char *result)
{
    return idgw_tg_new_response(p, req, result);
}

static char *hex(apr_pool_t *p, const uint8_t *b, size_t n)
{
    char *s = apr_palloc(p, 2 * n + 1);

    for (size_t i = 0; i < n; i++)
        sprintf(s + 2 * i, "%02X", b[i]);
    return s;
}

static void felica_next(apr_pool_t *p, idgw_telegram_t *res)
{
    uint8_t pkt[FELICA_MAX_FRAME];
    size_t len;
    uint8_t slot;

    idgw_tg_add(res, "operationId", "OP0123456789ABCDEF");
    if (felica_issuance_state(fk.iss) == FELICA_ISS_DONE) {
        idgw_tg_add(res, "state", "DONE");
        if (felica_issuance_result_slot(fk.iss, &slot) == FELICA_OK)
            idgw_tg_add(res, "cardSlot", slot ? "2" : "1");
        return;
    }
    ck_assert_int_eq(felica_issuance_next(fk.iss, pkt, sizeof pkt, &len), FELICA_OK);
    idgw_tg_add(res, "state", "CONTINUE");
    idgw_tg_add(res, "packet", hex(p, pkt, len));
}

static idgw_telegram_t *felica(apr_pool_t *p, const idgw_telegram_t *req)
{
    idgw_telegram_t *res = respond(p, req, IDGW_TG_R_OK);
    felica_iss_keys_t keys;
    felica_iss_request_t rq;
    const char *op = idgw_tg_get(req, "operation");

    if (req->type == IDGW_TG_FELICA_START_REQ) {
        memset(&rq, 0, sizeof rq);
        rq.op = strcmp(op, "ISSUE_AREA") == 0 ? FELICA_ISS_ISSUE_AREA : FELICA_ISS_WRITE_CARD;
        rq.slot = FELICA_ISS_ANY_SLOT;
        if (rq.op == FELICA_ISS_WRITE_CARD) {
            strcpy(rq.card.pan, idgw_tg_get(req, "pan"));
            strcpy(rq.card.expiry, idgw_tg_get(req, "expiry"));
            strcpy(rq.card.name, idgw_tg_get(req, "holderName"));
            rq.card.issuer_id = 1;
            rq.card.status = FELICA_CARD_ACTIVE;
            rq.card.display.issuer_id = 1;
            rq.card.display.version = 1;
        }
        fx_keys(&keys);
        felica_issuance_free(fk.iss);
        ck_assert_int_eq(felica_issuance_new(&fk.iss, fx_idm, &keys, &rq), FELICA_OK);
        felica_next(p, res);
        return res;
    }
    {
        uint8_t pkt[FELICA_MAX_FRAME];
        size_t len = strlen(idgw_tg_get(req, "packet")) / 2;

        for (size_t i = 0; i < len; i++)
            sscanf(idgw_tg_get(req, "packet") + 2 * i, "%2hhx", &pkt[i]);
        if (felica_issuance_consume(fk.iss, pkt, len) != FELICA_OK)
            return respond(p, req, felica_issuance_error(fk.iss) == FELICA_ERR_FULL
                                   ? IDGW_TG_R_CHIP_STATE : IDGW_TG_R_CHIP_VERIFY);
    }
    felica_next(p, res);
    return res;
}

static idgw_telegram_t *card(apr_pool_t *p, const idgw_telegram_t *req)
{
    idgw_telegram_t *res;

    switch (req->type) {
    case IDGW_TG_CARD_AUTH_REQ:
        if (strcmp(idgw_tg_get(req, "password"), "docomo01") != 0)
            return respond(p, req, IDGW_TG_R_AUTH_FAILED);
        res = respond(p, req, IDGW_TG_R_OK);
        idgw_tg_add(res, "authTicket", "TICKET0123456789abcdef");
        idgw_tg_add(res, "cardId", "C101");
        idgw_tg_add(res, "cardId", "C102");
        return res;
    case IDGW_TG_CARD_DOWNLOAD_REQ:
        res = respond(p, req, IDGW_TG_R_OK);
        idgw_tg_add(res, "cardId", idgw_tg_get(req, "cardId"));
        idgw_tg_add(res, "issuerCode", "DCM");
        idgw_tg_add(res, "pan", strcmp(idgw_tg_get(req, "cardId"), "C102") == 0 ? PAN2 : PAN);
        idgw_tg_add(res, "expiry", "2911");
        idgw_tg_add(res, "holderName", "TARO YAMADA");
        idgw_tg_add(res, "brandVersion", "1");
        return res;
    case IDGW_TG_CARD_WRITTEN_REQ:
        if (strcmp(idgw_tg_get(req, "writeResult"), "OK") == 0)
            fk.written_ok++;
        else
            fk.written_ng++;
        return respond(p, req, IDGW_TG_R_OK);
    default:
        return respond(p, req, IDGW_TG_R_UNKNOWN_TYPE);
    }
}

static int fake_send(void *baton, apr_pool_t *p, idgw_map_backend be, const idgw_telegram_t *req,
                     idgw_telegram_t **res, idgw_conv_fail *f)
{
    idgw_tg_error_t err;

    fk.calls++;
    /* what the engine sends must be a valid telegram of the interface */
    ck_assert_msg(idgw_tg_validate(req, &err) == 0, "%s: %s", idgw_tg_type_name(req->type), err.msg);
    if ((int)req->type == fk.fail_type) {
        *res = respond(p, req, fk.fail_result);
        return 0;
    }
    switch (be) {
    case IDGW_MAP_BE_FELICA:
        *res = felica(p, req);
        return 0;
    case IDGW_MAP_BE_BRAND:
        *res = respond(p, req, IDGW_TG_R_OK);
        idgw_tg_add(*res, "issuerCode", idgw_tg_get(req, "issuerCode"));
        idgw_tg_add(*res, "version", "1");
        idgw_tg_add(*res, "unchanged", "0");
        idgw_tg_add(*res, "issuerName", "\xE3\x83\x89\xE3\x82\xB3\xE3\x83\xA2 iD");
        idgw_tg_add(*res, "message", "a, b & <c>");
        idgw_tg_add(*res, "message", "second");
        return 0;
    default:
        *res = card(p, req);
        return 0;
    }
}

/* ---- the app's side ------------------------------------------------------------- */

static void setup(void)
{
    felica_image_t img;

    apr_pool_create(&pool, NULL);
    ck_assert_ptr_null(idgw_map_load(pool, IDGW_SRCDIR "/conf.d/idgw-map.conf", &map));
    fx_image(&img);
    ck_assert_int_eq(felica_chip_new(&img, NULL, &chip), FELICA_OK);
    memset(&fk, 0, sizeof fk);
    fk.fail_type = -1;
}

static void teardown(void)
{
    felica_issuance_free(fk.iss);
    felica_chip_free(chip);
    apr_pool_destroy(pool);
}

static void env_for(idgw_conv_env *env, idgw_op op)
{
    static char idm[17];

    for (int i = 0; i < 8; i++)
        sprintf(idm + 2 * i, "%02X", fx_idm[i]);
    memset(env, 0, sizeof *env);
    env->p = pool;
    env->map = map;
    env->op = op;
    env->correlation_id = "idgw-0123456789abcdef";
    env->idm = idm;
    env->ctx = idgw_ctx_new(pool);
    env->send = fake_send;
}

/* Run a whole operation as the app would; returns 0 or the failing error. */
static const idgw_error_def *run_op(idgw_op op, const idgw_sp_request *rq, idgw_ctx **ctx_out)
{
    idgw_conv_env env;
    idgw_conv_fail f;
    const uint8_t *pkt;
    size_t len;
    int done = 0;

    env_for(&env, op);
    if (idgw_conv_request(&env, rq, &pkt, &len, &f) != 0)
        return f.error;
    while (!done) {
        uint8_t res[FELICA_MAX_FRAME];
        size_t res_len;
        /* between the app's requests the context lives only as its encoding */
        size_t enc_len;
        const char *enc = idgw_ctx_encode(pool, env.ctx, &enc_len);

        env.ctx = idgw_ctx_decode(pool, enc, enc_len);
        ck_assert_ptr_nonnull(env.ctx);
        fx_relay(chip, pkt, len, res, &res_len);
        if (idgw_conv_relay(&env, res, res_len, &done, &pkt, &len, &f) != 0) {
            idgw_conv_abort(&env);
            return f.error;
        }
    }
    if (idgw_conv_complete(&env, &f) != 0)
        return f.error;
    if (ctx_out)
        *ctx_out = env.ctx;
    return NULL;
}

static void add_card_request(idgw_sp_request *rq, const char *password, const char *card_id)
{
    memset(rq, 0, sizeof *rq);
    rq->op = IDGW_OP_ADD_CARD;
    rq->step = IDGW_STEP_REQUEST;
    rq->source = IDGW_SP_SOURCE_CREMO;
    rq->member = "DCM0001";
    rq->password = password;
    rq->card_id = card_id;
    rq->slot = IDGW_SP_SLOT_ANY;
}

static void issue_area(void)
{
    idgw_sp_request rq;

    memset(&rq, 0, sizeof rq);
    rq.op = IDGW_OP_ISSUE_AREA;
    rq.slot = -1;
    ck_assert_ptr_null(run_op(IDGW_OP_ISSUE_AREA, &rq, NULL));
    ck_assert_ptr_nonnull(fx_area(chip));
}

START_TEST(add_card_end_to_end)
{
    idgw_sp_request rq;
    idgw_ctx *ctx = NULL;
    const char *ans;
    felica_card_area_t area;
    const felica_area_state_t *a;

    issue_area();
    add_card_request(&rq, "docomo01", NULL);
    ck_assert_ptr_null(run_op(IDGW_OP_ADD_CARD, &rq, &ctx));
    ck_assert_int_eq(fk.written_ok, 1);
    /* the chip holds exactly the card the source sent */
    a = fx_area(chip);
    ck_assert_int_eq(felica_card_area_decode((const uint8_t (*)[FELICA_BLOCK_LEN])a->blocks,
                                             &area), FELICA_OK);
    ck_assert_str_eq(area.card[0].pan, PAN);
    ck_assert_str_eq(area.card[0].expiry, "2911");
    felica_card_area_wipe(&area);
    /* the answer: last four and display data, never the PAN or expiry */
    ans = idgw_ans_complete(pool, IDGW_OP_ADD_CARD, ctx);
    ck_assert_ptr_nonnull(strstr(ans, "<last4>1013</last4>"));
    ck_assert_ptr_nonnull(strstr(ans, "<slot>0</slot>"));
    ck_assert_ptr_nonnull(strstr(ans, "<message>a, b &amp; &lt;c&gt;</message><message>second"));
    ck_assert_ptr_nonnull(strstr(ans, "\xE3\x83\x89"));
    ck_assert_ptr_null(strstr(ans, PAN));
    ck_assert_ptr_null(strstr(ans, "2911"));
}
END_TEST

START_TEST(third_card_is_refused)
{
    idgw_sp_request rq;

    issue_area();
    add_card_request(&rq, "docomo01", "C101");
    ck_assert_ptr_null(run_op(IDGW_OP_ADD_CARD, &rq, NULL));
    add_card_request(&rq, "docomo01", "C102");
    ck_assert_ptr_null(run_op(IDGW_OP_ADD_CARD, &rq, NULL));
    /* a third card: the chip has no free slot, the source hears NG */
    add_card_request(&rq, "docomo01", "C101");
    ck_assert_ptr_eq(run_op(IDGW_OP_ADD_CARD, &rq, NULL), &IDGW_E_CNV_FULL);
    ck_assert_int_eq(fk.written_ok, 2);
    ck_assert_int_eq(fk.written_ng, 1);
}
END_TEST

START_TEST(wrong_password_sends_nothing_else)
{
    idgw_sp_request rq;

    issue_area();
    fk.calls = 0;
    add_card_request(&rq, "wrong-pw", NULL);
    ck_assert_ptr_eq(run_op(IDGW_OP_ADD_CARD, &rq, NULL), &IDGW_E_CNV_AUTH);
    /* the auth, then an abort notice that cannot be built (no ticket): nothing more */
    ck_assert_int_eq(fk.calls, 1);
    ck_assert_int_eq(fk.written_ng, 0);
}
END_TEST

/* ---- the user a backend proved ------------------------------------------------------ */

/* A stand-in for mod_idgw_acl: refuses one user, counts what it was asked. */
static const idgw_error_def fake_refusal = { "IDGW-ACL-002", 403, "access refused" };
static struct {
    const char *banned;
    int asked;
    char last_kind[16], last_user[32];
} acl;

static int fake_acl(void *baton, const char *kind, const char *value, idgw_conv_fail *f)
{
    (void)baton;
    acl.asked++;
    snprintf(acl.last_kind, sizeof acl.last_kind, "%s", kind);
    snprintf(acl.last_user, sizeof acl.last_user, "%s", value);
    if (acl.banned && strcmp(value, acl.banned) == 0) {
        f->error = &fake_refusal;
        f->detail = "refused";
        f->hostile = 0;
        return -1;
    }
    return 0;
}

/* The request stage of op under the fake access control (banned: the user
 * it refuses, or NULL); the engine's result. */
typedef struct acl_run {
    idgw_conv_env env;
    idgw_conv_fail f;
    const uint8_t *pkt;
    size_t len;
} acl_run;

static int request_under_acl(acl_run *ar, idgw_op op, const idgw_sp_request *rq,
                             const char *banned)
{
    memset(&acl, 0, sizeof acl);
    acl.banned = banned;
    env_for(&ar->env, op);
    ar->env.identity_check = fake_acl;
    return idgw_conv_request(&ar->env, rq, &ar->pkt, &ar->len, &ar->f);
}

START_TEST(banned_user_is_stopped_after_the_login)
{
    idgw_sp_request rq;
    acl_run ar;

    issue_area();
    fk.calls = 0;
    add_card_request(&rq, "docomo01", NULL);
    ck_assert_int_ne(request_under_acl(&ar, IDGW_OP_ADD_CARD, &rq, "DCM0001"), 0);
    ck_assert_ptr_eq(ar.f.error, &fake_refusal);
    /* asked once, about the member CREMO authenticated, right after the login */
    ck_assert_int_eq(acl.asked, 1);
    ck_assert_str_eq(acl.last_kind, "user");
    ck_assert_str_eq(acl.last_user, "DCM0001");
    ck_assert_int_eq(fk.calls, 1);              /* no download, no brand, no FeliCa start */
    ck_assert_ptr_null(idgw_ctx_get(ar.env.ctx, "pan"));
    /* the abort notices run as for any failure: here none can be built */
    ck_assert_int_eq(idgw_conv_abort(&ar.env), 0);
    ck_assert_int_eq(fk.written_ng, 0);
}
END_TEST

START_TEST(failed_login_proves_nobody)
{
    idgw_sp_request rq;
    acl_run ar;

    add_card_request(&rq, "wrong-pw", NULL);
    ck_assert_int_ne(request_under_acl(&ar, IDGW_OP_ADD_CARD, &rq, NULL), 0);
    ck_assert_ptr_eq(ar.f.error, &IDGW_E_CNV_AUTH);
    ck_assert_int_eq(acl.asked, 0);
    ck_assert_ptr_null(idgw_ctx_get(ar.env.ctx, IDGW_CONV_CTX_USER));
}
END_TEST

/* The lists are fleet-wide and change at any time: a user banned after the
 * login is stopped at the next relay round trip, before the chip's answer
 * reaches the FeliCa server and before its next command reaches the app. */
START_TEST(ban_during_the_relay_stops_the_chip_work)
{
    idgw_sp_request rq;
    acl_run ar;
    size_t enc_len, res_len;
    uint8_t res[FELICA_MAX_FRAME];
    const char *enc;
    int done = 0, calls;

    issue_area();
    add_card_request(&rq, "docomo01", NULL);
    ck_assert_int_eq(request_under_acl(&ar, IDGW_OP_ADD_CARD, &rq, NULL), 0);
    ck_assert_int_eq(acl.asked, 1);
    /* the proven user travels with the sealed context */
    enc = idgw_ctx_encode(pool, ar.env.ctx, &enc_len);
    ar.env.ctx = idgw_ctx_decode(pool, enc, enc_len);
    ck_assert_str_eq(idgw_ctx_get(ar.env.ctx, IDGW_CONV_CTX_USER), "DCM0001");
    fx_relay(chip, ar.pkt, ar.len, res, &res_len);
    ck_assert_int_eq(idgw_conv_relay(&ar.env, res, res_len, &done, &ar.pkt, &ar.len, &ar.f), 0);
    ck_assert_int_eq(acl.asked, 2);

    acl.banned = "DCM0001";
    calls = fk.calls;
    fx_relay(chip, ar.pkt, ar.len, res, &res_len);
    ck_assert_int_ne(idgw_conv_relay(&ar.env, res, res_len, &done, &ar.pkt, &ar.len, &ar.f), 0);
    ck_assert_ptr_eq(ar.f.error, &fake_refusal);
    ck_assert_int_eq(fk.calls, calls);          /* the FeliCa server heard nothing more */
    /* nothing was written: the abort notice says NG */
    ck_assert_int_eq(idgw_conv_chip_truth(ar.env.ctx), IDGW_CHIP_NOT_WRITTEN);
}
END_TEST

/* Operations without a login prove nobody and ask nothing. */
START_TEST(no_login_no_identity)
{
    idgw_sp_request rq;
    acl_run ar;

    memset(&rq, 0, sizeof rq);
    rq.op = IDGW_OP_ISSUE_AREA;
    rq.slot = -1;
    ck_assert_int_eq(request_under_acl(&ar, IDGW_OP_ISSUE_AREA, &rq, "DCM0001"), 0);
    ck_assert_int_eq(acl.asked, 0);
}
END_TEST

START_TEST(backend_results_map_to_errors)
{
    idgw_sp_request rq;

    issue_area();
    add_card_request(&rq, "docomo01", NULL);
    fk.fail_type = IDGW_TG_CARD_DOWNLOAD_REQ;
    fk.fail_result = IDGW_TG_R_EXPIRED;
    ck_assert_ptr_eq(run_op(IDGW_OP_ADD_CARD, &rq, NULL), &IDGW_E_CNV_EXPIRED);
    fk.fail_type = IDGW_TG_CARD_AUTH_REQ;
    fk.fail_result = IDGW_TG_R_SUSPENDED;
    ck_assert_ptr_eq(run_op(IDGW_OP_ADD_CARD, &rq, NULL), &IDGW_E_CNV_SUSPENDED);
    fk.fail_type = IDGW_TG_BRAND_DOWNLOAD_REQ;
    fk.fail_result = IDGW_TG_R_SYSTEM;
    ck_assert_ptr_eq(run_op(IDGW_OP_ADD_CARD, &rq, NULL), &IDGW_E_CNV_BACKEND);
}
END_TEST

/* Start an add_card and return the env with the first command pending. */
static void start_add(idgw_conv_env *env, const uint8_t **pkt, size_t *len)
{
    idgw_sp_request rq;
    idgw_conv_fail f;

    issue_area();
    add_card_request(&rq, "docomo01", NULL);
    env_for(env, IDGW_OP_ADD_CARD);
    ck_assert_int_eq(idgw_conv_request(env, &rq, pkt, len, &f), 0);
}

START_TEST(forged_and_misdirected_packets)
{
    idgw_conv_env env;
    idgw_conv_fail f;
    const uint8_t *pkt, *next;
    size_t len, next_len, res_len;
    uint8_t res[FELICA_MAX_FRAME], bad[FELICA_MAX_FRAME];
    int done;

    start_add(&env, &pkt, &len);
    fx_relay(chip, pkt, len, res, &res_len);
    ck_assert_uint_gt(res_len, 10);
    /* another chip's IDm */
    memcpy(bad, res, res_len);
    bad[2] ^= 0x01;
    ck_assert_int_ne(idgw_conv_relay(&env, bad, res_len, &done, &next, &next_len, &f), 0);
    ck_assert_ptr_eq(f.error, &IDGW_E_CNV_WRONG_IDM);
    ck_assert_int_eq(f.hostile, 1);
    /* an answer to another command (the command itself sent back) */
    ck_assert_int_ne(idgw_conv_relay(&env, pkt, len, &done, &next, &next_len, &f), 0);
    ck_assert_ptr_eq(f.error, &IDGW_E_CNV_UNEXPECTED);
    /* truncated, and too long */
    ck_assert_int_ne(idgw_conv_relay(&env, res, res_len - 1, &done, &next, &next_len, &f), 0);
    ck_assert_ptr_eq(f.error, &IDGW_E_CNV_PACKET);
    env.max_packet = 8;
    ck_assert_int_ne(idgw_conv_relay(&env, res, res_len, &done, &next, &next_len, &f), 0);
    ck_assert_ptr_eq(f.error, &IDGW_E_CNV_PACKET);
    env.max_packet = 0;
    /* a tampered body: the envelope passes, the FeliCa server's check does not */
    memcpy(bad, res, res_len);
    bad[res_len - 1] ^= 0x80;
    ck_assert_int_ne(idgw_conv_relay(&env, bad, res_len, &done, &next, &next_len, &f), 0);
    ck_assert_ptr_eq(f.error, &IDGW_E_CNV_CHIP_VERIFY);
    ck_assert_int_eq(f.hostile, 1);
}
END_TEST

START_TEST(replayed_packet_is_refused)
{
    idgw_conv_env env;
    idgw_conv_fail f;
    const uint8_t *pkt;
    size_t len, res_len, first_len;
    uint8_t res[FELICA_MAX_FRAME], first[FELICA_MAX_FRAME];
    int done;

    start_add(&env, &pkt, &len);
    fx_relay(chip, pkt, len, first, &first_len);
    ck_assert_int_eq(idgw_conv_relay(&env, first, first_len, &done, &pkt, &len, &f), 0);
    ck_assert_int_eq(done, 0);
    /* the Auth1 answer again where the Auth2 answer belongs */
    ck_assert_int_ne(idgw_conv_relay(&env, first, first_len, &done, &pkt, &len, &f), 0);
    ck_assert_ptr_eq(f.error, &IDGW_E_CNV_UNEXPECTED);
    (void)res;
    (void)res_len;
}
END_TEST

START_TEST(server_command_outside_classes_is_not_relayed)
{
    idgw_conv_env env;
    idgw_conv_fail f;
    idgw_sp_request rq;
    const uint8_t *pkt;
    size_t len;

    /* issue_area's Create Area is not a command an add_card may relay: the
     * engine checks what the server sends against the operation's classes */
    memset(&rq, 0, sizeof rq);
    rq.slot = -1;
    env_for(&env, IDGW_OP_ISSUE_AREA);
    ck_assert_int_eq(idgw_conv_request(&env, &rq, &pkt, &len, &f), 0);
    env.op = IDGW_OP_ADD_CARD;
    {
        uint8_t res[FELICA_MAX_FRAME];
        size_t res_len;
        int done;

        fx_relay(chip, pkt, len, res, &res_len);
        ck_assert_int_eq(idgw_conv_relay(&env, res, res_len, &done, &pkt, &len, &f), 0);
        fx_relay(chip, pkt, len, res, &res_len);
        /* the next command is Create Area: refused before it reaches the app */
        ck_assert_int_ne(idgw_conv_relay(&env, res, res_len, &done, &pkt, &len, &f), 0);
        ck_assert_ptr_eq(f.error, &IDGW_E_CNV_TELEGRAM);
    }
}
END_TEST

START_TEST(complete_before_done_and_relay_without_operation)
{
    idgw_conv_env env;
    idgw_conv_fail f;
    const uint8_t *pkt;
    size_t len;
    int done;
    uint8_t junk[12] = { 12, 0x11 };

    start_add(&env, &pkt, &len);
    ck_assert_int_ne(idgw_conv_complete(&env, &f), 0);
    ck_assert_ptr_eq(f.error, &IDGW_E_CNV_UNEXPECTED);
    env.ctx = idgw_ctx_new(pool);
    ck_assert_int_ne(idgw_conv_relay(&env, junk, sizeof junk, &done, &pkt, &len, &f), 0);
    ck_assert_ptr_eq(f.error, &IDGW_E_CNV_UNEXPECTED);
}
END_TEST

START_TEST(context_round_trip)
{
    idgw_ctx *c = idgw_ctx_new(pool), *d;
    const char *enc;
    size_t len;

    ck_assert_int_eq(idgw_ctx_set(c, "a", "1"), 1);
    ck_assert_int_eq(idgw_ctx_append(c, "list", "x"), 1);
    ck_assert_int_eq(idgw_ctx_append(c, "list", "y z"), 1);
    ck_assert_int_eq(idgw_ctx_set(c, "a", "2"), 1);
    enc = idgw_ctx_encode(pool, c, &len);
    d = idgw_ctx_decode(pool, enc, len);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(idgw_ctx_get(d, "a"), "2");
    ck_assert_int_eq(idgw_ctx_list_count(d, "list"), 2);
    ck_assert_str_eq(idgw_ctx_list_item(pool, d, "list", 1), "y z");
    ck_assert_ptr_null(idgw_ctx_list_item(pool, d, "list", 2));
    ck_assert_ptr_null(idgw_ctx_decode(pool, enc, len - 1));
    ck_assert_ptr_null(idgw_ctx_decode(pool, "XX1\n", 4));
    ck_assert_ptr_null(idgw_ctx_decode(pool, "IC1\n\0v", 6));
    ck_assert_int_eq(idgw_ctx_count(d), 2);
}
END_TEST

/* Display data (the brand center's name, messages, logo, logo type, and
 * their for= captures) is not card data: it encodes apart from the card
 * part, and the schema's largest logo fits one part (and one vault item). */
START_TEST(display_data_is_kept_apart)
{
    idgw_ctx *c = idgw_ctx_new(pool), *card, *disp;
    char *logo = apr_palloc(pool, 98304 + 1);
    const char *enc;
    size_t len;

    memset(logo, 'Q', 98304);
    logo[98304] = '\0';
    ck_assert(idgw_ctx_set(c, "pan", "4980000000001013"));
    ck_assert(idgw_ctx_set(c, "issuerName", "DOCOMO"));
    ck_assert(idgw_ctx_append(c, "messages", "m1"));
    ck_assert(idgw_ctx_set(c, "logo", logo));
    ck_assert(idgw_ctx_set(c, "logoType", "image/png"));
    ck_assert(idgw_ctx_set(c, "logo.SKR", "AAAA"));
    ck_assert(idgw_ctx_set(c, "logos", "not display"));
    ck_assert_int_eq(idgw_ctx_is_display("logo.SKR"), 1);
    ck_assert_int_eq(idgw_ctx_is_display("logos"), 0);
    ck_assert_int_eq(idgw_ctx_has_display(c), 1);
    enc = idgw_ctx_encode_part(pool, c, 0, &len);
    ck_assert_ptr_nonnull(enc);
    ck_assert_uint_lt(len, 100);
    card = idgw_ctx_decode(pool, enc, len);
    ck_assert_str_eq(idgw_ctx_get(card, "pan"), "4980000000001013");
    ck_assert_str_eq(idgw_ctx_get(card, "logos"), "not display");
    ck_assert_ptr_null(idgw_ctx_get(card, "logo"));
    ck_assert_int_eq(idgw_ctx_has_display(card), 0);
    enc = idgw_ctx_encode_part(pool, c, 1, &len);
    ck_assert_ptr_nonnull(enc);
    ck_assert_uint_le(len, IDGW_CTX_MAX_BYTES);
    ck_assert_uint_le(len, IDGW_VAULT_MAX_ITEM);
    disp = idgw_ctx_decode(pool, enc, len);
    ck_assert_ptr_nonnull(disp);
    ck_assert_ptr_null(idgw_ctx_get(disp, "pan"));
    ck_assert_str_eq(idgw_ctx_get(disp, "logo"), logo);
    ck_assert(idgw_ctx_merge(card, disp));
    ck_assert_str_eq(idgw_ctx_get(card, "logo"), logo);
    ck_assert_str_eq(idgw_ctx_get(card, "logo.SKR"), "AAAA");
    ck_assert_str_eq(idgw_ctx_get(card, "pan"), "4980000000001013");
}
END_TEST

/* What a record for reconciliation names (idgw_conv_card_ref): the source's
 * card reference and the chip slot, captured before the app's, unknown when
 * absent or malformed, and never a card reference that is the PAN. */
START_TEST(card_ref_names_the_card_never_the_pan)
{
    idgw_ctx *c = idgw_ctx_new(pool);
    const char *card = "x", *slot = "x";

    idgw_conv_card_ref(NULL, &card, &slot);
    ck_assert_ptr_null(card);
    ck_assert_ptr_null(slot);
    card = slot = "x";
    idgw_conv_card_ref(c, &card, &slot);
    ck_assert_ptr_null(card);
    ck_assert_ptr_null(slot);
    ck_assert(idgw_ctx_set(c, "req.cardId", "C101"));
    ck_assert(idgw_ctx_set(c, "req.slot1", "2"));
    idgw_conv_card_ref(c, &card, &slot);
    ck_assert_str_eq(card, "C101");
    ck_assert_str_eq(slot, "2");
    ck_assert(idgw_ctx_set(c, "cardId", "C102"));
    ck_assert(idgw_ctx_set(c, "slot", "1"));
    idgw_conv_card_ref(c, &card, &slot);
    ck_assert_str_eq(card, "C102");
    ck_assert_str_eq(slot, "1");
    ck_assert(idgw_ctx_set(c, "slot", "12"));
    ck_assert(idgw_ctx_set(c, "cardId", "C 102"));
    idgw_conv_card_ref(c, &card, &slot);
    ck_assert_ptr_null(card);
    ck_assert_ptr_null(slot);
    ck_assert(idgw_ctx_set(c, "slot", "0"));
    ck_assert(idgw_ctx_set(c, "cardId", "4980000000001013"));
    ck_assert(idgw_ctx_set(c, "pan", "4980000000001013"));
    idgw_conv_card_ref(c, &card, &slot);
    ck_assert_ptr_null(card);
    ck_assert_ptr_null(slot);
}
END_TEST

/* What lets the gateway settle a record itself (idgw_conv_settle_ref): the
 * source and member only when a member was authenticated, the issuer code,
 * and of the card number its last four digits only. */
START_TEST(settle_ref_keeps_four_digits_only)
{
    idgw_ctx *c = idgw_ctx_new(pool);
    const char *source = "x", *member = "x", *issuer = "x", *last4 = "x";

    idgw_conv_settle_ref(NULL, &source, &member, &issuer, &last4);
    ck_assert(!source && !member && !issuer && !last4);
    ck_assert(idgw_ctx_set(c, "pan", "4980000000001013"));
    ck_assert(idgw_ctx_set(c, "issuer", "DCM"));
    idgw_conv_settle_ref(c, &source, &member, &issuer, &last4);
    ck_assert_ptr_null(source);             /* nobody authenticated */
    ck_assert_ptr_null(member);
    ck_assert_str_eq(issuer, "DCM");
    ck_assert_str_eq(last4, "1013");
    ck_assert(idgw_ctx_set(c, IDGW_CONV_CTX_USER, "DCM0001"));
    ck_assert(idgw_ctx_set(c, "req.source", "dlc"));
    idgw_conv_settle_ref(c, &source, &member, &issuer, &last4);
    ck_assert_str_eq(source, "dlc");
    ck_assert_str_eq(member, "DCM0001");
    ck_assert(idgw_ctx_set(c, "pan", "49800000X0001013"));
    ck_assert(idgw_ctx_set(c, "issuer", "D C M"));
    idgw_conv_settle_ref(c, &source, &member, &issuer, &last4);
    ck_assert_ptr_null(issuer);
    ck_assert_ptr_null(last4);
}
END_TEST

/* Whether the chip listing an operation read shows a card in a slot
 * (idgw_conv_chip_holds): slot, issuer and last four digits must all agree;
 * no listing is "cannot tell", an empty one "not there". */
START_TEST(chip_holds_reads_the_listing)
{
    idgw_ctx *c = idgw_ctx_new(pool);

    ck_assert_int_eq(idgw_conv_chip_holds(pool, c, "1", "DCM", "1013"), -1);
    ck_assert(idgw_ctx_set(c, "slots", ""));
    ck_assert(idgw_ctx_set(c, "issuers", ""));
    ck_assert(idgw_ctx_set(c, "last4s", ""));
    ck_assert_int_eq(idgw_conv_chip_holds(pool, c, "1", "DCM", "1013"), 0);
    ck_assert(idgw_ctx_set(c, "slots", NULL));
    ck_assert(idgw_ctx_append(c, "slots", "1"));
    ck_assert(idgw_ctx_append(c, "slots", "2"));
    ck_assert(idgw_ctx_set(c, "issuers", NULL));
    ck_assert(idgw_ctx_append(c, "issuers", "DCM"));
    ck_assert(idgw_ctx_append(c, "issuers", "SKR"));
    ck_assert(idgw_ctx_set(c, "last4s", NULL));
    ck_assert(idgw_ctx_append(c, "last4s", "1013"));
    ck_assert_int_eq(idgw_conv_chip_holds(pool, c, "1", "DCM", "1013"), -1);  /* lists disagree */
    ck_assert(idgw_ctx_append(c, "last4s", "4019"));
    ck_assert_int_eq(idgw_conv_chip_holds(pool, c, "1", "DCM", "1013"), 1);
    ck_assert_int_eq(idgw_conv_chip_holds(pool, c, "2", "SKR", "4019"), 1);
    ck_assert_int_eq(idgw_conv_chip_holds(pool, c, "2", "DCM", "1013"), 0);   /* other slot */
    ck_assert_int_eq(idgw_conv_chip_holds(pool, c, "1", "DCM", "1021"), 0);   /* other card */
    ck_assert_int_eq(idgw_conv_chip_holds(pool, c, "1", "SKR", "1013"), 0);   /* other issuer */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("convert_engine");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    apr_initialize();
    idgw_tg_init();
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, add_card_end_to_end);
    tcase_add_test(tc, third_card_is_refused);
    tcase_add_test(tc, wrong_password_sends_nothing_else);
    tcase_add_test(tc, backend_results_map_to_errors);
    tcase_add_test(tc, forged_and_misdirected_packets);
    tcase_add_test(tc, replayed_packet_is_refused);
    tcase_add_test(tc, server_command_outside_classes_is_not_relayed);
    tcase_add_test(tc, complete_before_done_and_relay_without_operation);
    tcase_add_test(tc, context_round_trip);
    tcase_add_test(tc, banned_user_is_stopped_after_the_login);
    tcase_add_test(tc, failed_login_proves_nobody);
    tcase_add_test(tc, ban_during_the_relay_stops_the_chip_work);
    tcase_add_test(tc, no_login_no_identity);
    tcase_add_test(tc, display_data_is_kept_apart);
    tcase_add_test(tc, card_ref_names_the_card_never_the_pan);
    tcase_add_test(tc, settle_ref_keeps_four_digits_only);
    tcase_add_test(tc, chip_holds_reads_the_listing);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
