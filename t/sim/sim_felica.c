/* sim_felica.c: the FeliCa server.  It runs libfelica's host side
 * (felica_issuance): it authenticates to the chip with keys diversified from
 * the master keys in IdgwSimDataDir/felica, encrypts and MACs the card data,
 * verifies every chip response and refuses one that does not verify.
 *
 * The session lives between HTTP requests as a sealed blob
 * (felica_issuance_save, AES-256-GCM under felica/seal.key) in one file per
 * operation, IdgwSimRunDir/felica-ops/<operationId>, so any child process
 * can continue it.  An exchange holds an exclusive lock on the file while it
 * loads, advances and rewrites the session: concurrent exchanges of one
 * operation are serialised.  The file goes when the operation ends (done or
 * failed); one older than OP_LIFETIME is refused and removed.  A WRITE_CARD
 * started goes in the ledger (sim_ledger.c) with its card id and chip. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>
#include <openssl/rand.h>
#include "sim.h"

#define OP_LIFETIME 600          /* seconds */
#define BLOB_MAX (FELICA_ISS_SAVED_MAX + 64)

static idgw_telegram_t *answer(sim_call_t *call, const char *result, const char *op_id)
{
    idgw_telegram_t *res = idgw_tg_new_response(call->r->pool, call->req, result);

    if (strcmp(result, IDGW_TG_R_OK) != 0)
        res->result_message = idgw_tg_result_text(result);
    if (op_id)
        idgw_tg_add(res, "operationId", op_id);
    return res;
}

static int unhex(const char *h, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(h);

    if (n % 2 || n / 2 > cap)
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2X", &v) != 1)
            return 0;
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return 1;
}

static const char *tohex(apr_pool_t *p, const uint8_t *in, size_t n)
{
    char *s = apr_palloc(p, 2 * n + 1);

    for (size_t i = 0; i < n; i++)
        sprintf(s + 2 * i, "%02X", in[i]);
    s[2 * n] = '\0';
    return s;
}

static const char *op_path(sim_call_t *call, const char *op_id)
{
    return apr_pstrcat(call->r->pool, call->sc->run_dir, "/felica-ops/", op_id, NULL);
}

/* Why a session failed, as a result code. */
static const char *result_of(int ferr)
{
    switch (ferr) {
    case FELICA_ERR_STATUS:
        return IDGW_TG_R_CHIP_STATUS;
    case FELICA_ERR_EXISTS:
    case FELICA_ERR_FULL:
    case FELICA_ERR_NOT_FOUND:
    case FELICA_ERR_STATE:
    case FELICA_ERR_BAD_PARAM:
        return IDGW_TG_R_CHIP_STATE;
    default:
        return IDGW_TG_R_CHIP_VERIFY;
    }
}

static int parse_op(const char *name, int *op)
{
    static const struct {
        const char *name;
        int op;
    } ops[] = {{"ISSUE_AREA", FELICA_ISS_ISSUE_AREA},   {"DELETE_AREA", FELICA_ISS_DELETE_AREA},
               {"WRITE_CARD", FELICA_ISS_WRITE_CARD},   {"UPDATE_CARD", FELICA_ISS_UPDATE_CARD},
               {"DELETE_CARD", FELICA_ISS_DELETE_CARD}, {"SET_MAIN", FELICA_ISS_SET_MAIN},
               {"READ_CARDS", FELICA_ISS_READ_CARDS}};

    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(ops[i].name, name) == 0) {
            *op = ops[i].op;
            return 1;
        }
    return 0;
}

/* The request's card fields into a libfelica record; 0 when missing. */
static int card_from_request(sim_call_t *call, felica_card_t *card)
{
    const idgw_telegram_t *q = call->req;
    const char *pan = idgw_tg_get(q, "pan"), *exp = idgw_tg_get(q, "expiry");
    const char *name = idgw_tg_get(q, "holderName"), *ver = idgw_tg_get(q, "brandVersion");
    const sim_issuer_t *is = sim_issuer_by_code(call->sc->data, idgw_tg_get(q, "issuerCode"));

    if (!pan || !exp || !name || !ver || !is || strlen(name) > FELICA_CARD_NAME_MAX
        || strtoul(ver, NULL, 10) > 0xFFFF)
        return 0;
    memset(card, 0, sizeof(*card));
    strcpy(card->pan, pan);          /* lengths checked by the telegram schema */
    strcpy(card->expiry, exp);
    strcpy(card->name, name);
    card->issuer_id = is->id;
    card->status = FELICA_CARD_ACTIVE;
    card->display.issuer_id = is->id;
    card->display.version = (uint16_t)strtoul(ver, NULL, 10);
    return 1;
}

/* DELETE_CARD: the card the caller names (pan, optionally issuerCode); the
 * session refuses a slot that holds another one.  0 when malformed. */
static int expectation_from_request(sim_call_t *call, felica_card_t *card)
{
    const char *pan = idgw_tg_get(call->req, "pan"), *code = idgw_tg_get(call->req, "issuerCode");
    const sim_issuer_t *is = code ? sim_issuer_by_code(call->sc->data, code) : NULL;

    if (!pan)
        return code == NULL;         /* an issuer alone names no card */
    if (code && !is)
        return 0;
    memset(card, 0, sizeof(*card));
    strcpy(card->pan, pan);          /* length checked by the telegram schema */
    card->issuer_id = is ? is->id : 0;
    return 1;
}

static int save_blob(felica_issuance_t *s, const unsigned char *key, int fd)
{
    uint8_t blob[BLOB_MAX];
    size_t len;

    if (felica_issuance_save(s, key, blob, sizeof(blob), &len) != FELICA_OK)
        return 0;
    return ftruncate(fd, 0) == 0 && pwrite(fd, blob, len, 0) == (ssize_t)len;
}

/* The next command packet, saved session, CONTINUE answer. */
static idgw_telegram_t *continue_op(sim_call_t *call, felica_issuance_t *s, const char *op_id,
                                    int fd)
{
    uint8_t pkt[FELICA_MAX_FRAME];
    size_t len;
    idgw_telegram_t *res;

    if (felica_issuance_next(s, pkt, sizeof(pkt), &len) != FELICA_OK
        || !save_blob(s, call->sc->data->seal_key, fd))
        return NULL;
    res = answer(call, IDGW_TG_R_OK, op_id);
    idgw_tg_add(res, "state", "CONTINUE");
    idgw_tg_add(res, "packet", tohex(call->r->pool, pkt, len));
    return res;
}

static idgw_telegram_t *start(sim_call_t *call)
{
    felica_iss_request_t req;
    felica_issuance_t *s = NULL;
    uint8_t idm[FELICA_IDM_LEN], rnd[16];
    size_t idm_len;
    const char *slot = idgw_tg_get(call->req, "slot"), *mm = idgw_tg_get(call->req, "makeMain");
    const char *op_id, *path;
    idgw_telegram_t *res;
    int fd, rc;

    memset(&req, 0, sizeof(req));
    if (!unhex(idgw_tg_get(call->req, "idm"), idm, sizeof(idm), &idm_len)
        || !parse_op(idgw_tg_get(call->req, "operation"), &req.op))
        return answer(call, IDGW_TG_R_MALFORMED, NULL);
    /* A slot names the card to act on; only WRITE_CARD may leave it open. */
    if (!slot && (req.op == FELICA_ISS_UPDATE_CARD || req.op == FELICA_ISS_DELETE_CARD
                  || req.op == FELICA_ISS_SET_MAIN))
        return answer(call, IDGW_TG_R_MALFORMED, NULL);
    req.slot = slot ? (uint8_t)(slot[0] - '1')
                    : (req.op == FELICA_ISS_WRITE_CARD ? FELICA_ISS_ANY_SLOT : 0);
    req.make_main = mm && mm[0] == '1';
    if ((req.op == FELICA_ISS_WRITE_CARD || req.op == FELICA_ISS_UPDATE_CARD)
        && !card_from_request(call, &req.card))
        return answer(call, IDGW_TG_R_MALFORMED, NULL);
    if (req.op == FELICA_ISS_DELETE_CARD && !expectation_from_request(call, &req.card))
        return answer(call, IDGW_TG_R_MALFORMED, NULL);
    rc = felica_issuance_new(&s, idm, &call->sc->data->felica_keys, &req);
    felica_card_wipe(&req.card);
    if (rc != FELICA_OK)
        return answer(call, IDGW_TG_R_MALFORMED, NULL);
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        felica_issuance_free(s);
        return answer(call, IDGW_TG_R_SYSTEM, NULL);
    }
    op_id = tohex(call->r->pool, rnd, sizeof(rnd));
    path = op_path(call, op_id);
    fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    res = fd >= 0 ? continue_op(call, s, op_id, fd) : NULL;
    felica_issuance_free(s);
    if (fd >= 0)
        close(fd);
    if (!res) {
        unlink(path);
        return answer(call, IDGW_TG_R_SYSTEM, NULL);
    }
    /* Which card goes onto which chip, before the chip is touched */
    if (req.op == FELICA_ISS_WRITE_CARD)
        sim_ledger(call, "WRITE", NULL, idgw_tg_get(call->req, "cardId"),
                   idgw_tg_get(call->req, "idm"));
    return res;
}

/* The results of a finished operation into the DONE answer. */
static idgw_telegram_t *done(sim_call_t *call, felica_issuance_t *s, const char *op_id)
{
    idgw_telegram_t *res = answer(call, IDGW_TG_R_OK, op_id);
    felica_card_masked_t m[FELICA_CARD_SLOTS];
    uint8_t slot;
    int main_slot = 0;
    static const char *const status_names[] = {"", "ACTIVE", "SUSPENDED", "DEPOSITED"};

    idgw_tg_add(res, "state", "DONE");
    if (felica_issuance_result_slot(s, &slot) == FELICA_OK)
        idgw_tg_add(res, "cardSlot", slot == 0 ? "1" : "2");
    if (felica_issuance_result_masked(s, m) != FELICA_OK)
        return res;
    for (int i = 0; i < FELICA_CARD_SLOTS; i++) {
        const sim_issuer_t *is;
        if (m[i].status == FELICA_CARD_EMPTY || m[i].status > FELICA_CARD_DEPOSITED)
            continue;
        is = sim_issuer_by_id(call->sc->data, m[i].issuer_id);
        idgw_tg_add(res, "cardSlot", i == 0 ? "1" : "2");
        idgw_tg_add(res, "cardStatus", status_names[m[i].status]);
        idgw_tg_add(res, "issuerCode", is ? is->code
                                          : apr_psprintf(call->r->pool, "ID%u", m[i].issuer_id));
        idgw_tg_add(res, "last4", m[i].last4);
        idgw_tg_add(res, "brandVersion", apr_psprintf(call->r->pool, "%u", m[i].display.version));
        if (m[i].is_main)
            main_slot = i + 1;
    }
    idgw_tg_add(res, "mainSlot", main_slot == 1 ? "1" : main_slot == 2 ? "2" : "0");
    return res;
}

static idgw_telegram_t *advance(sim_call_t *call, const char *op_id, int fd)
{
    uint8_t blob[BLOB_MAX], resp[FELICA_MAX_FRAME];
    size_t resp_len;
    ssize_t n = pread(fd, blob, sizeof(blob), 0);
    felica_issuance_t *s = NULL;
    idgw_telegram_t *res;
    int rc;

    if (n <= 0 || felica_issuance_load(&s, call->sc->data->seal_key, blob, (size_t)n) != FELICA_OK)
        return answer(call, IDGW_TG_R_NO_OPERATION, op_id);
    if (idgw_tg_count(call->req, "packet") != 1
        || !unhex(idgw_tg_get(call->req, "packet"), resp, sizeof(resp), &resp_len)) {
        /* Not a chip response at all: the operation stays where it was. */
        felica_issuance_free(s);
        return answer(call, IDGW_TG_R_MALFORMED, op_id);
    }
    rc = felica_issuance_consume(s, resp, resp_len);
    if (rc != FELICA_OK)
        res = answer(call, result_of(rc), op_id);
    else if (felica_issuance_state(s) == FELICA_ISS_DONE)
        res = done(call, s, op_id);
    else
        res = continue_op(call, s, op_id, fd);
    if (!res)
        res = answer(call, IDGW_TG_R_SYSTEM, op_id);
    /* Finished, failed or broken: the operation is over. */
    if (felica_issuance_state(s) != FELICA_ISS_RUNNING || strcmp(res->result, IDGW_TG_R_OK) != 0)
        unlink(op_path(call, op_id));
    felica_issuance_free(s);
    return res;
}

static idgw_telegram_t *exchange(sim_call_t *call)
{
    const char *op_id = idgw_tg_get(call->req, "operationId");
    const char *path = op_path(call, op_id);
    struct stat st;
    idgw_telegram_t *res;
    int fd = open(path, O_RDWR);

    if (fd < 0)
        return answer(call, IDGW_TG_R_NO_OPERATION, op_id);
    if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
        close(fd);
        return answer(call, IDGW_TG_R_SYSTEM, op_id);
    }
    if (st.st_nlink == 0 || st.st_mtime + OP_LIFETIME < apr_time_sec(apr_time_now())) {
        /* Ended by the exchange we waited for, or abandoned. */
        if (st.st_nlink)
            unlink(path);
        close(fd);
        return answer(call, IDGW_TG_R_NO_OPERATION, op_id);
    }
    res = advance(call, op_id, fd);
    close(fd);
    return res;
}

idgw_telegram_t *sim_felica_handle(sim_call_t *call)
{
    switch (call->req->type) {
    case IDGW_TG_FELICA_START_REQ:
        return start(call);
    case IDGW_TG_FELICA_EXCHANGE_REQ:
        return exchange(call);
    default:
        return answer(call, IDGW_TG_R_UNKNOWN_TYPE, NULL);
    }
}
