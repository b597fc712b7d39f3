/* felica_issuance.c: the issuance session's state machine: one command out,
 * one verified response in, until the plan (felica_issuance_plan.c) is done.
 * Any failure is final: the session wipes its keys and data and never builds
 * another command. */
#include <stdlib.h>
#include <string.h>
#include "felica_issuance_int.h"
#include "felica_crypto.h"

static int fail(struct felica_issuance *s, int err)
{
    s->state = FELICA_ISS_FAILED;
    s->error = err;
    s->awaiting = 0;
    felica_sc_wipe(&s->sc);
    felica_card_wipe(&s->card);
    felica_wipe(s->create, sizeof s->create);
    felica_wipe(s->pending, sizeof s->pending);
    s->pending_len = 0;
    felica_wipe(s->blocks, sizeof s->blocks);
    s->have = 0;
    return err;
}

static int request_valid(const felica_iss_request_t *req)
{
    if (!iss_op_valid(req->op) || req->make_main > 1)
        return 0;
    if (!iss_is_card_op(req->op))
        return 1;
    if (req->slot >= FELICA_CARD_SLOTS
        && !(req->op == FELICA_ISS_WRITE_CARD && req->slot == FELICA_ISS_ANY_SLOT))
        return 0;
    if (req->op == FELICA_ISS_WRITE_CARD || req->op == FELICA_ISS_UPDATE_CARD)
        return felica_card_validate(&req->card) == FELICA_OK;
    if (req->op == FELICA_ISS_DELETE_CARD && req->card.pan[0] != '\0')
        return memchr(req->card.pan, '\0', sizeof req->card.pan) != NULL
               && felica_card_pan_valid(req->card.pan);
    return 1;
}

/* Create Area payload: the iD area's per-chip keys wrapped under the system K-DEK. */
static int build_create(struct felica_issuance *s, const felica_keyset_t *sys,
                        const felica_keyset_t *area)
{
    felica_create_area_t ca;
    size_t len = 0;
    memset(&ca, 0, sizeof ca);
    ca.area = FELICA_ID_AREA;
    ca.n_blocks = FELICA_ID_AREA_BLOCKS;
    ca.kvn = area->kvn;
    int rc = felica_key_wrap(sys->dek, area->enc, ca.wrapped_enc);
    if (rc == FELICA_OK) rc = felica_key_wrap(sys->dek, area->mac, ca.wrapped_mac);
    if (rc == FELICA_OK) rc = felica_key_wrap(sys->dek, area->dek, ca.wrapped_dek);
    if (rc == FELICA_OK) rc = felica_kcv(area->enc, ca.kcv_enc);
    if (rc == FELICA_OK) rc = felica_kcv(area->mac, ca.kcv_mac);
    if (rc == FELICA_OK) rc = felica_kcv(area->dek, ca.kcv_dek);
    if (rc == FELICA_OK) rc = felica_create_area_encode(&ca, s->create, sizeof s->create, &len);
    if (rc == FELICA_OK && len != sizeof s->create)
        rc = FELICA_ERR_BAD_PARAM;
    felica_wipe(&ca, sizeof ca);
    return rc;
}

/* Diversify the keys this operation needs and prepare the secure channel. */
static int setup_channel(struct felica_issuance *s, const felica_iss_keys_t *keys)
{
    felica_keyset_t sys, area;
    memset(&sys, 0, sizeof sys);
    int rc = felica_keys_diversify(&keys->area_master, s->idm, &area);
    if (rc == FELICA_OK && iss_is_card_op(s->op)) {
        rc = felica_sc_host_begin(&s->sc, s->idm, FELICA_ID_AREA, &area, NULL);
    } else if (rc == FELICA_OK) {
        rc = felica_keys_diversify(&keys->system_master, s->idm, &sys);
        if (rc == FELICA_OK && s->op == FELICA_ISS_ISSUE_AREA)
            rc = build_create(s, &sys, &area);
        if (rc == FELICA_OK)
            rc = felica_sc_host_begin(&s->sc, s->idm, FELICA_AREA_SYSTEM, &sys, NULL);
    }
    felica_wipe(&sys, sizeof sys);
    felica_wipe(&area, sizeof area);
    return rc;
}

int felica_issuance_new(felica_issuance_t **out, const uint8_t idm[FELICA_IDM_LEN],
                        const felica_iss_keys_t *keys, const felica_iss_request_t *req)
{
    if (out == NULL)
        return FELICA_ERR_BAD_PARAM;
    *out = NULL;
    if (idm == NULL || keys == NULL || req == NULL || !request_valid(req))
        return FELICA_ERR_BAD_PARAM;
    struct felica_issuance *s = calloc(1, sizeof *s);
    if (s == NULL)
        return FELICA_ERR_NOMEM;
    s->op = (uint8_t)req->op;
    s->slot = iss_is_card_op(req->op) ? req->slot : 0;
    s->make_main = req->make_main;
    s->result_slot = FELICA_CARD_NO_SLOT;
    s->step = ISS_STEP_AUTH1;
    s->state = FELICA_ISS_RUNNING;
    memcpy(s->idm, idm, FELICA_IDM_LEN);
    if (req->op == FELICA_ISS_WRITE_CARD || req->op == FELICA_ISS_UPDATE_CARD) {
        s->card = req->card;
        /* output-only fields never travel */
        memset(s->card.last4, 0, sizeof s->card.last4);
        s->card.is_main = 0;
        s->card.last_op = 0;
        s->card.last_seq = 0;
    } else if (req->op == FELICA_ISS_DELETE_CARD && req->card.pan[0] != '\0') {
        /* the card the caller means: only its PAN and issuer */
        memcpy(s->card.pan, req->card.pan, sizeof s->card.pan);
        s->card.issuer_id = req->card.issuer_id;
    }
    int rc = setup_channel(s, keys);
    if (rc != FELICA_OK) {
        felica_issuance_free(s);
        return rc;
    }
    *out = s;
    return FELICA_OK;
}

void felica_issuance_free(felica_issuance_t *s)
{
    if (s == NULL)
        return;
    felica_wipe(s, sizeof *s);
    free(s);
}

/* Wrap a secure command's plaintext payload into s->pending. */
static int wrap(struct felica_issuance *s, uint8_t code, const uint8_t *payload, size_t len)
{
    return felica_sc_host_wrap(&s->sc, code, payload, len, s->pending, sizeof s->pending,
                               &s->pending_len);
}

static int build_change(struct felica_issuance *s)
{
    uint8_t payload[FELICA_MAX_FRAME];
    size_t len = 0;
    int rc;
    if (s->op == FELICA_ISS_ISSUE_AREA)
        return wrap(s, FELICA_CMD_CREATE_AREA, s->create, sizeof s->create);
    if (s->op == FELICA_ISS_DELETE_AREA) {
        rc = felica_delete_area_encode(FELICA_ID_AREA, payload, sizeof payload, &len);
        return rc == FELICA_OK ? wrap(s, FELICA_CMD_DELETE_AREA, payload, len) : rc;
    }
    felica_secure_rw_t rw;
    rc = iss_plan_write(s, &rw);
    if (rc == FELICA_OK)
        rc = felica_secure_write_encode(&rw, payload, sizeof payload, &len);
    if (rc == FELICA_OK)
        rc = wrap(s, FELICA_CMD_SECURE_WRITE, payload, len);
    felica_wipe(&rw, sizeof rw);
    felica_wipe(payload, sizeof payload);
    return rc;
}

static int build_command(struct felica_issuance *s)
{
    uint8_t payload[FELICA_MAX_FRAME];
    size_t len = 0;
    felica_secure_rw_t rw;
    int rc;
    switch (s->step) {
    case ISS_STEP_AUTH1:
        return felica_sc_host_auth1(&s->sc, s->pending, sizeof s->pending, &s->pending_len);
    case ISS_STEP_AUTH2:
        return felica_sc_host_auth2(&s->sc, FELICA_SL_FULL, s->pending, sizeof s->pending,
                                    &s->pending_len);
    case ISS_STEP_READ_A:
    case ISS_STEP_READ_B:
        iss_read_list(s, s->step, &rw);
        rc = felica_secure_read_encode(&rw, payload, sizeof payload, &len);
        return rc == FELICA_OK ? wrap(s, FELICA_CMD_SECURE_READ, payload, len) : rc;
    case ISS_STEP_CHANGE:
        return build_change(s);
    default:
        return FELICA_ERR_STATE;
    }
}

int felica_issuance_next(felica_issuance_t *s, uint8_t *out, size_t cap, size_t *len)
{
    if (s == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (s->state != FELICA_ISS_RUNNING)
        return FELICA_ERR_STATE;
    if (!s->awaiting) {
        int rc = build_command(s);
        if (rc != FELICA_OK)
            return fail(s, rc);
        s->awaiting = 1;
    }
    if (cap < s->pending_len)
        return FELICA_ERR_BUFFER;               /* the packet stays due: ask again */
    memcpy(out, s->pending, s->pending_len);
    *len = s->pending_len;
    return FELICA_OK;
}

/* A chip error status in the caller's terms: the area exists already (Create
 * Area), or the area is missing (Auth1 to it, Delete Area). */
static int status_error(int rc, const uint8_t *res, size_t len)
{
    felica_packet_t pkt;
    if (rc != FELICA_ERR_STATUS || felica_decode(res, len, &pkt) != FELICA_OK)
        return rc;
    uint8_t sf2 = pkt.code == FELICA_CMD_AUTH1 + 1 ? pkt.u.auth1_res.sf2 : pkt.u.secure_res.sf2;
    if (sf2 == FELICA_SF2_SERVICE_EXISTS)
        return FELICA_ERR_EXISTS;
    if (sf2 == FELICA_SF2_SERVICE_CODE)
        return FELICA_ERR_NOT_FOUND;
    return rc;
}

static int consume_read(struct felica_issuance *s, const uint8_t *res, size_t len)
{
    uint8_t payload[FELICA_MAX_FRAME], sf1 = 0, sf2 = 0;
    size_t plen = 0;
    felica_secure_rw_t asked, got;
    iss_read_list(s, s->step, &asked);
    int rc = felica_sc_host_unwrap(&s->sc, res, len, payload, sizeof payload, &plen, &sf1, &sf2);
    if (rc == FELICA_OK && (sf1 != 0 || sf2 != 0))
        rc = FELICA_ERR_STATUS;
    if (rc == FELICA_OK)
        rc = felica_secure_read_res_decode(payload, plen, &got);
    if (rc == FELICA_OK && got.n != asked.n)
        rc = FELICA_ERR_BAD_PARAM;
    for (unsigned i = 0; rc == FELICA_OK && i < asked.n; i++) {
        memcpy(s->blocks[asked.block[i]], got.data[i], FELICA_BLOCK_LEN);
        s->have = (uint16_t)(s->have | 1u << asked.block[i]);
    }
    if (rc == FELICA_OK)
        rc = iss_check_reads(s);
    felica_wipe(payload, sizeof payload);
    felica_wipe(&got, sizeof got);
    return rc;
}

static int consume_change(struct felica_issuance *s, const uint8_t *res, size_t len)
{
    uint8_t payload[FELICA_MAX_FRAME], sf1 = 0, sf2 = 0;
    size_t plen = 0;
    int rc = felica_sc_host_unwrap(&s->sc, res, len, payload, sizeof payload, &plen, &sf1, &sf2);
    if (rc == FELICA_OK && (sf1 != 0 || sf2 != 0))
        rc = FELICA_ERR_STATUS;
    if (rc == FELICA_OK && plen != 0)
        rc = FELICA_ERR_BAD_PARAM;              /* an update answers nothing */
    return rc;
}

/* Envelope checks before any cryptography: the answer to our command, from our chip. */
static int check_envelope(const struct felica_issuance *s, const uint8_t *res, size_t len)
{
    felica_frame_t f;
    int rc = felica_frame_split(res, len, &f);
    if (rc != FELICA_OK)
        return rc;
    if (f.code != (uint8_t)(s->pending[1] + 1))
        return FELICA_ERR_BAD_CODE;
    if (!f.has_idm || !felica_memeq(f.idm, s->idm, FELICA_IDM_LEN))
        return FELICA_ERR_WRONG_IDM;
    return FELICA_OK;
}

int felica_issuance_consume(felica_issuance_t *s, const uint8_t *res, size_t len)
{
    if (s == NULL || (res == NULL && len != 0))
        return FELICA_ERR_BAD_PARAM;
    if (s->state != FELICA_ISS_RUNNING)
        return FELICA_ERR_STATE;
    if (!s->awaiting)
        return fail(s, FELICA_ERR_STATE);       /* a response nobody asked for */
    /* silence from the chip (or a lost answer) ends the session too */
    int rc = len == 0 ? FELICA_ERR_TRUNCATED : check_envelope(s, res, len);
    if (rc == FELICA_OK) {
        switch (s->step) {
        case ISS_STEP_AUTH1: rc = felica_sc_host_auth1_done(&s->sc, res, len); break;
        case ISS_STEP_AUTH2: rc = felica_sc_host_auth2_done(&s->sc, res, len); break;
        case ISS_STEP_READ_A:
        case ISS_STEP_READ_B: rc = consume_read(s, res, len); break;
        default: rc = consume_change(s, res, len); break;
        }
    }
    if (rc != FELICA_OK)
        return fail(s, status_error(rc, res, len));
    s->steps++;
    s->awaiting = 0;
    felica_wipe(s->pending, sizeof s->pending);
    s->pending_len = 0;
    s->step = iss_step_after(s, s->step);
    if (s->step == ISS_STEP_END) {
        s->state = FELICA_ISS_DONE;
        felica_sc_wipe(&s->sc);
        felica_card_wipe(&s->card);
        felica_wipe(s->create, sizeof s->create);
    }
    return FELICA_OK;
}

int felica_issuance_state(const felica_issuance_t *s)
{
    return s->state;
}

int felica_issuance_error(const felica_issuance_t *s)
{
    return s->error;
}

int felica_issuance_op(const felica_issuance_t *s)
{
    return s->op;
}

void felica_issuance_idm(const felica_issuance_t *s, uint8_t idm[FELICA_IDM_LEN])
{
    memcpy(idm, s->idm, FELICA_IDM_LEN);
}

unsigned felica_issuance_steps(const felica_issuance_t *s)
{
    return s->steps;
}
