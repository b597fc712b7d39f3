/* felica_sc_chip.c: the chip end of the secure channel (used by the emulator).
 *
 * Auth1 starts a new session (the old one is wiped), Auth2 opens it, then each
 * secure command must carry exactly the next counter and a C-MAC chained from
 * the previous one.  Every failure on a received packet wipes the session; the
 * caller answers with felica_sc_error_response and drops the chip to Mode 0. */
#include <string.h>

#include "felica_crypto.h"
#include "felica_sc_internal.h"

#define SC_SEQ_MAX 0xFFFFFFu

int felica_sc_chip_auth1(felica_sc_t *sc, const felica_packet_t *cmd,
                         const felica_keyset_t *keys, uint32_t seq_counter,
                         uint8_t *out, size_t cap, size_t *len)
{
    felica_packet_t res;
    int rc;

    if (sc == NULL || cmd == NULL || keys == NULL || out == NULL || len == NULL)
        return sc_fail(sc, FELICA_ERR_BAD_PARAM);
    felica_sc_wipe(sc);                   /* a new Auth1 ends any session */
    if (cmd->code != FELICA_CMD_AUTH1)
        return FELICA_ERR_BAD_CODE;
    if (cmd->u.auth1.kvn != keys->kvn)    /* the caller picked the wrong key set */
        return FELICA_ERR_BAD_PARAM;
    /* the caller increments before answering, so 0 never appears; a chip
     * whose 24-bit counter is used up can no longer authenticate */
    if (seq_counter == 0 || seq_counter > SC_SEQ_MAX)
        return FELICA_ERR_BAD_PARAM;
    memcpy(sc->idm, cmd->idm, FELICA_IDM_LEN);
    sc->area = cmd->u.auth1.area;
    sc->kvn = keys->kvn;
    sc->seq_counter = seq_counter;
    memcpy(sc->host_challenge, cmd->u.auth1.host_challenge, 8);
    memcpy(sc->dek, keys->dek, 16);

    memset(&res, 0, sizeof res);
    res.code = FELICA_CMD_AUTH1 + 1;
    memcpy(res.idm, sc->idm, FELICA_IDM_LEN);
    res.u.auth1_res.kvn = keys->kvn;
    res.u.auth1_res.scp_id = FELICA_SCP_ID;
    res.u.auth1_res.scp_i = FELICA_SCP_I;
    res.u.auth1_res.seq_counter = seq_counter;
    rc = sc_card_challenge(keys->enc, seq_counter, sc->idm, sc->area, sc->card_challenge);
    if (rc == FELICA_OK)
        rc = sc_derive_session_keys(sc, keys->enc, keys->mac);
    if (rc == FELICA_OK)
        rc = sc_cryptogram(sc, FELICA_KDF_CARD_CRYPTOGRAM, res.u.auth1_res.card_cryptogram);
    if (rc == FELICA_OK) {
        memcpy(res.u.auth1_res.card_challenge, sc->card_challenge, 8);
        rc = felica_encode(&res, out, cap, len);
    }
    if (rc != FELICA_OK)
        return sc_fail(sc, rc);
    sc->state = FELICA_SC_AUTH1;
    return FELICA_OK;
}

/* Everything Auth2 checks, and its answer; the caller wipes on failure. */
static int answer_auth2(felica_sc_t *sc, const uint8_t *cmd, size_t cmd_len,
                        uint8_t *out, size_t cap, size_t *len)
{
    static const uint8_t zero_chain[16];
    felica_packet_t pkt, res;
    uint8_t expect[8], chain[16], unused[16];
    int rc = felica_decode(cmd, cmd_len, &pkt);

    if (rc != FELICA_OK)
        return rc;
    if (pkt.code != FELICA_CMD_AUTH2)
        return FELICA_ERR_BAD_CODE;
    if (!felica_memeq(pkt.idm, sc->idm, FELICA_IDM_LEN))
        return FELICA_ERR_WRONG_IDM;
    if (pkt.u.secure.payload_len != SC_CRYPTOGRAM_LEN)
        return FELICA_ERR_BAD_PARAM;
    rc = sc_cryptogram(sc, FELICA_KDF_HOST_CRYPTOGRAM, expect);
    if (rc == FELICA_OK && !felica_memeq(expect, pkt.u.secure.payload, SC_CRYPTOGRAM_LEN))
        rc = FELICA_ERR_CRYPTOGRAM;
    if (rc == FELICA_OK)
        rc = sc_verify_mac(sc->s_mac, zero_chain, cmd, cmd_len, chain);
    /* checked after the MAC, so the level refused is the one the host sent */
    if (rc == FELICA_OK && !sc_level_supported(pkt.u.secure.level))
        rc = FELICA_ERR_SECURITY_LEVEL;
    if (rc != FELICA_OK)
        return rc;

    memset(&res, 0, sizeof res);
    res.code = FELICA_CMD_AUTH2 + 1;
    memcpy(res.idm, sc->idm, FELICA_IDM_LEN);
    res.u.secure_res.has_mac = 1;
    rc = sc_encode_with_mac(&res, sc->s_rmac, chain, out, cap, len, unused);
    if (rc != FELICA_OK)
        return rc;
    memcpy(sc->mac_chain, chain, 16);
    sc->level = pkt.u.secure.level;
    sc->counter = 0;
    sc->state = FELICA_SC_OPEN;
    return FELICA_OK;
}

int felica_sc_chip_auth2(felica_sc_t *sc, const uint8_t *cmd, size_t cmd_len,
                         uint8_t *out, size_t cap, size_t *len)
{
    int rc;

    if (sc == NULL || cmd == NULL || out == NULL || len == NULL)
        return sc_fail(sc, FELICA_ERR_BAD_PARAM);
    if (sc->state != FELICA_SC_AUTH1)
        return sc_fail(sc, FELICA_ERR_STATE);
    rc = answer_auth2(sc, cmd, cmd_len, out, cap, len);
    return rc == FELICA_OK ? FELICA_OK : sc_fail(sc, rc);
}

static int is_wrapped_command(uint8_t code)
{
    return code == FELICA_CMD_SECURE_READ || code == FELICA_CMD_SECURE_WRITE
        || code == FELICA_CMD_CREATE_AREA || code == FELICA_CMD_DELETE_AREA;
}

/* Everything a secure command must pass; the caller wipes on failure. */
static int open_command(felica_sc_t *sc, const uint8_t *cmd, size_t cmd_len,
                        uint8_t *code, uint8_t *payload, size_t cap, size_t *payload_len)
{
    felica_packet_t pkt;
    uint8_t chain[16], icv[16];
    int rc = felica_decode(cmd, cmd_len, &pkt);

    if (rc != FELICA_OK)
        return rc;
    if (!is_wrapped_command(pkt.code))
        return FELICA_ERR_BAD_CODE;
    if (!felica_memeq(pkt.idm, sc->idm, FELICA_IDM_LEN))
        return FELICA_ERR_WRONG_IDM;
    /* exactly last + 1: a replayed, skipped or reordered command stops here */
    if (sc->counter == UINT16_MAX || pkt.u.secure.counter != sc->counter + 1)
        return FELICA_ERR_SEQUENCE;
    rc = sc_verify_mac(sc->s_mac, sc->mac_chain, cmd, cmd_len, chain);
    if (rc != FELICA_OK)
        return rc;
    /* every secure command reads or writes card data or keys */
    if (sc->level != FELICA_SL_FULL)
        return FELICA_ERR_SECURITY_LEVEL;
    rc = sc_command_icv(sc, pkt.u.secure.counter, icv);
    if (rc == FELICA_OK)
        rc = sc_open(sc, icv, 1, pkt.u.secure.payload, pkt.u.secure.payload_len,
                     payload, cap, payload_len);
    if (rc == FELICA_OK) {
        memcpy(sc->mac_chain, chain, 16);
        sc->counter = (uint16_t)(sc->counter + 1);
        *code = pkt.code;
    }
    felica_wipe(&pkt, sizeof pkt);
    return rc;
}

int felica_sc_chip_unwrap(felica_sc_t *sc, const uint8_t *cmd, size_t cmd_len,
                          uint8_t *code, uint8_t *payload, size_t cap, size_t *payload_len)
{
    int rc;

    if (sc == NULL || cmd == NULL || code == NULL || payload_len == NULL
        || (payload == NULL && cap != 0))
        return sc_fail(sc, FELICA_ERR_BAD_PARAM);
    *payload_len = 0;
    if (sc->state != FELICA_SC_OPEN)
        return sc_fail(sc, FELICA_ERR_STATE);
    rc = open_command(sc, cmd, cmd_len, code, payload, cap, payload_len);
    if (rc != FELICA_OK) {
        *payload_len = 0;
        return sc_fail(sc, rc);
    }
    return FELICA_OK;
}

static int is_wrapped_response(uint8_t code)
{
    return (code & 1) && is_wrapped_command((uint8_t)(code - 1));
}

int felica_sc_chip_wrap(felica_sc_t *sc, uint8_t code, uint8_t sf1, uint8_t sf2,
                        const uint8_t *payload, size_t payload_len,
                        uint8_t *out, size_t cap, size_t *len)
{
    felica_packet_t res;
    uint8_t icv[16], unused[16];
    uint8_t res_code = sc_response_code(code);
    int rc = FELICA_OK;

    if (sc == NULL || out == NULL || len == NULL || (payload == NULL && payload_len != 0))
        return FELICA_ERR_BAD_PARAM;
    if (sc->state != FELICA_SC_OPEN || sc->counter == 0)
        return FELICA_ERR_STATE;       /* nothing accepted yet to answer */
    if (!is_wrapped_response(res_code))
        return FELICA_ERR_BAD_CODE;
    if (sf1 != 0 && payload_len != 0)  /* an error carries no data */
        return FELICA_ERR_BAD_PARAM;
    if (payload_len > SC_MAX_PAYLOAD)
        return FELICA_ERR_OVERSIZE;
    memset(&res, 0, sizeof res);
    res.code = res_code;
    memcpy(res.idm, sc->idm, FELICA_IDM_LEN);
    res.u.secure_res.sf1 = sf1;
    res.u.secure_res.sf2 = sf2;
    res.u.secure_res.counter = sc->counter;
    res.u.secure_res.has_mac = 1;
    /* no data, no cipher block (as SCP03 leaves an empty response clear) */
    if (payload_len != 0) {
        rc = sc_response_icv(sc, sc->counter, icv);
        if (rc == FELICA_OK)
            rc = sc_seal(sc, icv, (sc->level & FELICA_SL_RENC) != 0, payload, payload_len,
                         res.u.secure_res.payload, &res.u.secure_res.payload_len);
    }
    if (rc == FELICA_OK)
        rc = sc_encode_with_mac(&res, sc->s_rmac, sc->mac_chain, out, cap, len, unused);
    felica_wipe(&res, sizeof res);
    return rc;
}

int felica_sc_error_response(const uint8_t idm[8], uint8_t code, uint8_t sf1, uint8_t sf2,
                             uint8_t *out, size_t cap, size_t *len)
{
    felica_packet_t res;
    uint8_t res_code = sc_response_code(code);

    if (idm == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (sf1 == 0)                      /* outside the channel only errors exist */
        return FELICA_ERR_BAD_PARAM;
    if (res_code != FELICA_CMD_AUTH1 + 1 && res_code != FELICA_CMD_AUTH2 + 1
        && !is_wrapped_response(res_code))
        return FELICA_ERR_BAD_CODE;
    memset(&res, 0, sizeof res);
    res.code = res_code;
    memcpy(res.idm, idm, FELICA_IDM_LEN);
    if (res_code == FELICA_CMD_AUTH1 + 1) {
        res.u.auth1_res.sf1 = sf1;
        res.u.auth1_res.sf2 = sf2;
    } else {
        res.u.secure_res.sf1 = sf1;
        res.u.secure_res.sf2 = sf2;
        res.u.secure_res.has_mac = 0;
    }
    return felica_encode(&res, out, cap, len);
}
