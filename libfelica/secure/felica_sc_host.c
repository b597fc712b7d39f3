/* felica_sc_host.c: the host (FeliCa server) end of the secure channel.
 *
 * Steps, all in state FELICA_SC_AUTH1 until Auth2's answer is verified:
 *   begin       static keys kept in s_enc / s_mac / dek, seq_counter 0, level 0
 *   auth1       packet only (may be rebuilt until auth1_done succeeds)
 *   auth1_done  seq_counter != 0 marks it done; s_enc / s_mac / s_rmac become
 *               the session keys (the chip's sequence counter is >= 1: it is
 *               incremented before every Auth1 answer)
 *   auth2       level != 0 marks it sent; mac_chain = Auth2's C-MAC
 *   auth2_done  state OPEN, counter 0
 * Any failure on received data wipes the session. */
#include <string.h>

#include "felica_crypto.h"
#include "felica_sc_internal.h"

int felica_sc_host_begin(felica_sc_t *sc, const uint8_t idm[8], uint16_t area,
                         const felica_keyset_t *chip_keys, const uint8_t *host_challenge)
{
    int rc = FELICA_OK;

    if (sc == NULL || idm == NULL || chip_keys == NULL)
        return FELICA_ERR_BAD_PARAM;
    felica_sc_wipe(sc);
    memcpy(sc->idm, idm, FELICA_IDM_LEN);
    sc->area = area;
    sc->kvn = chip_keys->kvn;
    if (host_challenge != NULL)
        memcpy(sc->host_challenge, host_challenge, 8);
    else
        rc = felica_random(sc->host_challenge, 8);
    if (rc != FELICA_OK)
        return sc_fail(sc, rc);
    /* static keys until auth1_done replaces them with the session keys */
    memcpy(sc->s_enc, chip_keys->enc, 16);
    memcpy(sc->s_mac, chip_keys->mac, 16);
    memcpy(sc->dek, chip_keys->dek, 16);
    sc->state = FELICA_SC_AUTH1;
    return FELICA_OK;
}

int felica_sc_host_auth1(felica_sc_t *sc, uint8_t *out, size_t cap, size_t *len)
{
    felica_packet_t pkt;

    if (sc == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (sc->state != FELICA_SC_AUTH1 || sc->seq_counter != 0)
        return FELICA_ERR_STATE;
    memset(&pkt, 0, sizeof pkt);
    pkt.code = FELICA_CMD_AUTH1;
    memcpy(pkt.idm, sc->idm, FELICA_IDM_LEN);
    pkt.u.auth1.kvn = sc->kvn;
    pkt.u.auth1.area = sc->area;
    memcpy(pkt.u.auth1.host_challenge, sc->host_challenge, 8);
    return felica_encode(&pkt, out, cap, len);
}

/* Everything auth1_done checks; the caller wipes on failure. */
static int check_auth1_response(felica_sc_t *sc, const uint8_t *res, size_t len)
{
    felica_packet_t pkt;
    uint8_t k_enc[16], k_mac[16], expect[8];
    int rc = felica_decode(res, len, &pkt);

    if (rc != FELICA_OK)
        return rc;
    if (pkt.code != FELICA_CMD_AUTH1 + 1)
        return FELICA_ERR_BAD_CODE;
    if (!felica_memeq(pkt.idm, sc->idm, FELICA_IDM_LEN))
        return FELICA_ERR_WRONG_IDM;
    if (pkt.u.auth1_res.sf1 != 0)
        return FELICA_ERR_STATUS;
    /* no MAC covers this answer: every byte must be exactly as expected */
    if (pkt.u.auth1_res.sf2 != 0)
        return FELICA_ERR_BAD_PARAM;
    if (pkt.u.auth1_res.kvn != sc->kvn || pkt.u.auth1_res.scp_id != FELICA_SCP_ID
        || pkt.u.auth1_res.scp_i != FELICA_SCP_I || pkt.u.auth1_res.seq_counter == 0)
        return FELICA_ERR_BAD_PARAM;
    memcpy(k_enc, sc->s_enc, 16);
    memcpy(k_mac, sc->s_mac, 16);
    /* The challenge must be the one the chip's keys give for this counter:
     * a stale or invented counter cannot pass, and the host learns the
     * counter it can compare with the last one it saw. */
    rc = sc_card_challenge(k_enc, pkt.u.auth1_res.seq_counter, sc->idm, sc->area, expect);
    if (rc == FELICA_OK && !felica_memeq(expect, pkt.u.auth1_res.card_challenge, 8))
        rc = FELICA_ERR_CRYPTOGRAM;
    if (rc == FELICA_OK) {
        memcpy(sc->card_challenge, pkt.u.auth1_res.card_challenge, 8);
        rc = sc_derive_session_keys(sc, k_enc, k_mac);
    }
    if (rc == FELICA_OK)
        rc = sc_cryptogram(sc, FELICA_KDF_CARD_CRYPTOGRAM, expect);
    if (rc == FELICA_OK && !felica_memeq(expect, pkt.u.auth1_res.card_cryptogram, 8))
        rc = FELICA_ERR_CRYPTOGRAM;
    if (rc == FELICA_OK)
        sc->seq_counter = pkt.u.auth1_res.seq_counter;
    felica_wipe(k_enc, sizeof k_enc);
    felica_wipe(k_mac, sizeof k_mac);
    return rc;
}

int felica_sc_host_auth1_done(felica_sc_t *sc, const uint8_t *res, size_t len)
{
    int rc;

    if (sc == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (sc->state != FELICA_SC_AUTH1 || sc->seq_counter != 0)
        return sc_fail(sc, FELICA_ERR_STATE);
    rc = check_auth1_response(sc, res, len);
    return rc == FELICA_OK ? FELICA_OK : sc_fail(sc, rc);
}

int felica_sc_host_auth2(felica_sc_t *sc, uint8_t level, uint8_t *out, size_t cap, size_t *len)
{
    static const uint8_t zero_chain[16];
    felica_packet_t pkt;
    uint8_t chain[16];
    int rc;

    if (sc == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (sc->state != FELICA_SC_AUTH1 || sc->seq_counter == 0 || sc->level != 0)
        return FELICA_ERR_STATE;
    if (!sc_level_supported(level))
        return FELICA_ERR_SECURITY_LEVEL;
    memset(&pkt, 0, sizeof pkt);
    pkt.code = FELICA_CMD_AUTH2;
    memcpy(pkt.idm, sc->idm, FELICA_IDM_LEN);
    pkt.u.secure.level = level;
    pkt.u.secure.payload_len = SC_CRYPTOGRAM_LEN;
    rc = sc_cryptogram(sc, FELICA_KDF_HOST_CRYPTOGRAM, pkt.u.secure.payload);
    if (rc == FELICA_OK)      /* the first C-MAC chains from 16 zero bytes */
        rc = sc_encode_with_mac(&pkt, sc->s_mac, zero_chain, out, cap, len, chain);
    if (rc != FELICA_OK)
        return rc;
    memcpy(sc->mac_chain, chain, 16);
    sc->level = level;
    return FELICA_OK;
}

/* A response inside the channel, decoded, with its R-MAC verified. */
static int check_response(felica_sc_t *sc, const uint8_t *res, size_t len,
                          felica_packet_t *pkt, uint8_t *sf1, uint8_t *sf2)
{
    int rc = felica_decode(res, len, pkt);

    if (rc != FELICA_OK)
        return rc;
    if (!(pkt->code & 1) || !felica_code_is_secure(pkt->code)
        || pkt->code == FELICA_CMD_AUTH1 + 1)
        return FELICA_ERR_BAD_CODE;
    if (!felica_memeq(pkt->idm, sc->idm, FELICA_IDM_LEN))
        return FELICA_ERR_WRONG_IDM;
    if (sf1 != NULL)
        *sf1 = pkt->u.secure_res.sf1;
    if (sf2 != NULL)
        *sf2 = pkt->u.secure_res.sf2;
    /* SF1 SF2 alone: the chip closed the channel (it answers like this only
     * after a failure), so this end closes it too. */
    if (!pkt->u.secure_res.has_mac)
        return FELICA_ERR_STATUS;
    rc = sc_verify_mac(sc->s_rmac, sc->mac_chain, res, len, NULL);
    if (rc != FELICA_OK)
        return rc;
    if (pkt->u.secure_res.counter != sc->counter)
        return FELICA_ERR_SEQUENCE;
    return FELICA_OK;
}

int felica_sc_host_auth2_done(felica_sc_t *sc, const uint8_t *res, size_t len)
{
    felica_packet_t pkt;
    int rc;

    if (sc == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (sc->state != FELICA_SC_AUTH1 || sc->level == 0)
        return sc_fail(sc, FELICA_ERR_STATE);
    rc = check_response(sc, res, len, &pkt, NULL, NULL);
    if (rc == FELICA_OK && pkt.code != FELICA_CMD_AUTH2 + 1)
        rc = FELICA_ERR_BAD_CODE;
    if (rc == FELICA_OK && pkt.u.secure_res.sf1 != 0)
        rc = FELICA_ERR_STATUS;
    if (rc == FELICA_OK && pkt.u.secure_res.payload_len != 0)
        rc = FELICA_ERR_BAD_PARAM;
    if (rc != FELICA_OK)
        return sc_fail(sc, rc);
    sc->state = FELICA_SC_OPEN;
    sc->counter = 0;
    return FELICA_OK;
}

static int is_wrapped_command(uint8_t code)
{
    return code == FELICA_CMD_SECURE_READ || code == FELICA_CMD_SECURE_WRITE
        || code == FELICA_CMD_CREATE_AREA || code == FELICA_CMD_DELETE_AREA;
}

int felica_sc_host_wrap(felica_sc_t *sc, uint8_t code, const uint8_t *payload, size_t payload_len,
                        uint8_t *out, size_t cap, size_t *len)
{
    felica_packet_t pkt;
    uint8_t icv[16], chain[16];
    uint16_t counter;
    int rc;

    if (sc == NULL || out == NULL || len == NULL || (payload == NULL && payload_len != 0))
        return FELICA_ERR_BAD_PARAM;
    if (sc->state != FELICA_SC_OPEN)
        return FELICA_ERR_STATE;
    if (!is_wrapped_command(code))
        return FELICA_ERR_BAD_CODE;
    if (payload_len > SC_MAX_PAYLOAD)
        return FELICA_ERR_OVERSIZE;
    if (sc->counter == UINT16_MAX)      /* exhausted: authenticate again */
        return FELICA_ERR_SEQUENCE;
    counter = (uint16_t)(sc->counter + 1);
    memset(&pkt, 0, sizeof pkt);
    pkt.code = code;
    memcpy(pkt.idm, sc->idm, FELICA_IDM_LEN);
    pkt.u.secure.counter = counter;
    rc = sc_command_icv(sc, counter, icv);
    if (rc == FELICA_OK)
        rc = sc_seal(sc, icv, (sc->level & FELICA_SL_CDEC) != 0, payload, payload_len,
                     pkt.u.secure.payload, &pkt.u.secure.payload_len);
    if (rc == FELICA_OK)
        rc = sc_encode_with_mac(&pkt, sc->s_mac, sc->mac_chain, out, cap, len, chain);
    felica_wipe(&pkt, sizeof pkt);
    if (rc != FELICA_OK)
        return rc;
    memcpy(sc->mac_chain, chain, 16);
    sc->counter = counter;
    return FELICA_OK;
}

int felica_sc_host_unwrap(felica_sc_t *sc, const uint8_t *res, size_t len,
                          uint8_t *payload, size_t cap, size_t *payload_len,
                          uint8_t *sf1, uint8_t *sf2)
{
    felica_packet_t pkt;
    uint8_t icv[16];
    int rc;

    if (sc == NULL || payload_len == NULL || (payload == NULL && cap != 0))
        return FELICA_ERR_BAD_PARAM;
    *payload_len = 0;
    if (sc->state != FELICA_SC_OPEN || sc->counter == 0)
        return sc_fail(sc, FELICA_ERR_STATE);
    rc = check_response(sc, res, len, &pkt, sf1, sf2);
    if (rc == FELICA_OK && pkt.code == FELICA_CMD_AUTH2 + 1)
        rc = FELICA_ERR_BAD_CODE;
    if (rc != FELICA_OK)
        return sc_fail(sc, rc);
    /* An authenticated error status: the command failed, the channel holds. */
    if (pkt.u.secure_res.sf1 != 0)
        return FELICA_ERR_STATUS;
    if (pkt.u.secure_res.payload_len == 0)
        return FELICA_OK;
    rc = sc_response_icv(sc, sc->counter, icv);
    if (rc == FELICA_OK)
        rc = sc_open(sc, icv, (sc->level & FELICA_SL_RENC) != 0, pkt.u.secure_res.payload,
                     pkt.u.secure_res.payload_len, payload, cap, payload_len);
    felica_wipe(&pkt, sizeof pkt);
    return rc == FELICA_OK ? FELICA_OK : sc_fail(sc, rc);
}
