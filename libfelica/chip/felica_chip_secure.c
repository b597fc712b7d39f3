/* felica_chip_secure.c: the chip's answers to idgw's secure commands
 * (Auth1, Auth2, Secure Read/Write, Create/Delete Area) over the chip side of
 * felica_sc, with the mode rules and the anti-replay sequence counter.
 *
 * Failure policy (docs/libfelica-chip.md):
 *  - a secure command addressed to this chip whose frame does not decode:
 *    session wiped, Mode 0, silence (a real chip does not answer garbage);
 *  - a MAC, cryptogram, counter, padding or security-level failure, a command
 *    outside its mode, a Secure Read/Write outside the authenticated area:
 *    session wiped, Mode 0, answered outside the channel (SF1 0xFF, SF2 0xC0
 *    auth/MAC/cryptogram/padding, 0xC1 counter, 0xC2 level, 0xC3 mode, 0xA5 area);
 *  - an authentic command the chip cannot carry out (bad payload, block out
 *    of range, area exists, KCV mismatch, write failure): answered inside the
 *    channel with the status, the session stays open. */
#include <string.h>
#include "felica_chip_internal.h"
#include "felica_crypto.h"
#include "felica_secure_cmd.h"

/* Largest plaintext payload of a secure command or response. */
#define PAYLOAD_CAP FELICA_MAX_FRAME

static uint8_t sf2_for_channel_error(int rc)
{
    switch (rc) {
    case FELICA_ERR_SEQUENCE:       return FELICA_SF2_SEQUENCE;
    case FELICA_ERR_SECURITY_LEVEL: return FELICA_SF2_SECURITY_LEVEL;
    case FELICA_ERR_STATE:          return FELICA_SF2_MODE;
    default:                        return FELICA_SF2_AUTH;
    }
}

/* Wipe the session, Mode 0, answer SF1 0xFF / sf2 outside the channel. */
static int fail_closed(felica_chip_t *chip, uint8_t code, uint8_t sf2,
                       uint8_t *resp, size_t cap, size_t *resp_len)
{
    chip_drop_session(chip);
    return felica_sc_error_response(chip->img.idm, code, 0xFF, sf2, resp, cap, resp_len);
}

/* Answer inside the channel; the session stays open. */
static int answer(felica_chip_t *chip, uint8_t code, uint8_t sf1, uint8_t sf2,
                  const uint8_t *payload, size_t payload_len,
                  uint8_t *resp, size_t cap, size_t *resp_len)
{
    int rc = felica_sc_chip_wrap(&chip->sc, code, sf1, sf2, payload, payload_len,
                                 resp, cap, resp_len);
    if (rc != FELICA_OK) {
        *resp_len = 0;
        return fail_closed(chip, code, FELICA_SF2_AUTH, resp, cap, resp_len);
    }
    return FELICA_OK;
}

static int do_auth1(felica_chip_t *chip, const felica_packet_t *pkt,
                    uint8_t *resp, size_t cap, size_t *resp_len)
{
    const uint16_t area = pkt->u.auth1.area;
    const felica_area_state_t *a;
    const felica_keyset_t *keys;
    int rc;

    /* a new Auth1 ends any session, whatever its outcome */
    chip_drop_session(chip);
    if (area != FELICA_AREA_SYSTEM) {
        a = felica_image_find_area_const(&chip->img, area);
        if (a == NULL || a->access != FELICA_ACCESS_KEYED)
            return fail_closed(chip, FELICA_CMD_AUTH1, FELICA_SF2_SERVICE_CODE, resp, cap, resp_len);
    }
    if (felica_image_find_keyset(&chip->img, area, pkt->u.auth1.kvn) == NULL)
        return fail_closed(chip, FELICA_CMD_AUTH1, FELICA_SF2_PARAM, resp, cap, resp_len);
    if (chip->img.seq_counter >= FELICA_CHIP_SEQ_MAX)
        return fail_closed(chip, FELICA_CMD_AUTH1, FELICA_SF2_SEQUENCE, resp, cap, resp_len);
    /* The counter is spent and persisted before any answer leaves the chip,
     * so a card challenge is never reused, even across a crash. */
    chip_begin_change(chip);
    chip->next.seq_counter++;
    if (chip_commit_change(chip) != FELICA_OK)
        return fail_closed(chip, FELICA_CMD_AUTH1, FELICA_SF2_WRITE_FAILED, resp, cap, resp_len);
    keys = felica_image_find_keyset(&chip->img, area, pkt->u.auth1.kvn);
    rc = felica_sc_chip_auth1(&chip->sc, pkt, keys, chip->img.seq_counter, resp, cap, resp_len);
    if (rc != FELICA_OK) {
        *resp_len = 0;
        return fail_closed(chip, FELICA_CMD_AUTH1, FELICA_SF2_AUTH, resp, cap, resp_len);
    }
    chip->mode = FELICA_MODE_1;
    return FELICA_OK;
}

static int do_auth2(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                    uint8_t *resp, size_t cap, size_t *resp_len)
{
    int rc;

    if (chip->mode != FELICA_MODE_1)
        return fail_closed(chip, FELICA_CMD_AUTH2, FELICA_SF2_MODE, resp, cap, resp_len);
    rc = felica_sc_chip_auth2(&chip->sc, cmd, len, resp, cap, resp_len);
    if (rc != FELICA_OK) {
        *resp_len = 0;
        return fail_closed(chip, FELICA_CMD_AUTH2, sf2_for_channel_error(rc), resp, cap, resp_len);
    }
    chip->mode = chip->sc.area == FELICA_AREA_SYSTEM ? FELICA_MODE_3 : FELICA_MODE_2;
    return FELICA_OK;
}

/* Secure Read / Write: only in the area channel, only its own area. */
static int do_secure_rw(felica_chip_t *chip, uint8_t code, const uint8_t *payload, size_t len,
                        uint8_t *resp, size_t cap, size_t *resp_len)
{
    uint8_t out[PAYLOAD_CAP];
    felica_secure_rw_t rw;
    const felica_area_state_t *a;
    size_t out_len = 0, idx;
    uint8_t i;
    int rc;

    if (chip->mode != FELICA_MODE_2)
        return fail_closed(chip, code, FELICA_SF2_ACCESS, resp, cap, resp_len);
    rc = code == FELICA_CMD_SECURE_READ ? felica_secure_read_decode(payload, len, &rw)
                                        : felica_secure_write_decode(payload, len, &rw);
    if (rc != FELICA_OK)
        return answer(chip, code, 0xFF, FELICA_SF2_PARAM, NULL, 0, resp, cap, resp_len);
    if (rw.area != chip->sc.area)
        return fail_closed(chip, code, FELICA_SF2_ACCESS, resp, cap, resp_len);
    a = felica_image_find_area_const(&chip->img, rw.area);
    if (a == NULL)   /* deleted by another session since this one opened */
        return answer(chip, code, 0xFF, FELICA_SF2_SERVICE_CODE, NULL, 0, resp, cap, resp_len);
    for (i = 0; i < rw.n; i++)
        if (rw.block[i] >= a->n_blocks)
            return answer(chip, code, (uint8_t)(i + 1), FELICA_SF2_BLOCK_NUMBER, NULL, 0,
                          resp, cap, resp_len);
    if (code == FELICA_CMD_SECURE_READ) {
        for (i = 0; i < rw.n; i++)
            memcpy(rw.data[i], a->blocks[rw.block[i]], FELICA_BLOCK_LEN);
        rc = felica_secure_read_res_encode(&rw, out, sizeof(out), &out_len);
        felica_wipe(&rw, sizeof(rw));
        if (rc != FELICA_OK)
            return answer(chip, code, 0xFF, FELICA_SF2_PARAM, NULL, 0, resp, cap, resp_len);
        rc = answer(chip, code, 0x00, 0x00, out, out_len, resp, cap, resp_len);
        felica_wipe(out, sizeof(out));
        return rc;
    }
    /* all or nothing: every block goes into the copy, the copy is persisted */
    idx = (size_t)(a - chip->img.areas);
    chip_begin_change(chip);
    for (i = 0; i < rw.n; i++)
        memcpy(chip->next.areas[idx].blocks[rw.block[i]], rw.data[i], FELICA_BLOCK_LEN);
    felica_wipe(&rw, sizeof(rw));
    if (chip_commit_change(chip) != FELICA_OK)
        return answer(chip, code, 0xFF, FELICA_SF2_WRITE_FAILED, NULL, 0, resp, cap, resp_len);
    return answer(chip, code, 0x00, 0x00, NULL, 0, resp, cap, resp_len);
}

/* Unwrap one key under the session's K-DEK and check its KCV. */
static int unwrap_checked(const uint8_t dek[16], const uint8_t wrapped[16], const uint8_t kcv[3],
                          uint8_t key[16])
{
    uint8_t got[3];

    if (felica_key_unwrap(dek, wrapped, key) != FELICA_OK || felica_kcv(key, got) != FELICA_OK)
        return 0;
    return felica_memeq(got, kcv, 3);
}

static uint8_t create_area(felica_chip_t *chip, const felica_create_area_t *ca)
{
    felica_keyset_t ks;
    uint8_t sf2 = FELICA_SF2_OK;
    int rc;

    if (!felica_area_code_valid(ca->area))
        return FELICA_SF2_PARAM;
    if (felica_image_find_area_const(&chip->img, ca->area) != NULL)
        return FELICA_SF2_SERVICE_EXISTS;
    memset(&ks, 0, sizeof(ks));
    ks.kvn = ca->kvn;
    if (!unwrap_checked(chip->sc.dek, ca->wrapped_enc, ca->kcv_enc, ks.enc)
        || !unwrap_checked(chip->sc.dek, ca->wrapped_mac, ca->kcv_mac, ks.mac)
        || !unwrap_checked(chip->sc.dek, ca->wrapped_dek, ca->kcv_dek, ks.dek)) {
        felica_wipe(&ks, sizeof(ks));
        return FELICA_SF2_KEY_CHANGE;
    }
    chip_begin_change(chip);
    rc = felica_image_add_area(&chip->next, ca->area, FELICA_ACCESS_KEYED, ca->n_blocks);
    if (rc == FELICA_OK)
        rc = felica_image_add_keyset(&chip->next, ca->area, &ks);
    felica_wipe(&ks, sizeof(ks));
    if (rc != FELICA_OK) {
        felica_wipe(&chip->next, sizeof(chip->next));
        return FELICA_SF2_PARAM;     /* no room: too many areas or blocks */
    }
    if (chip_commit_change(chip) != FELICA_OK)
        sf2 = FELICA_SF2_WRITE_FAILED;
    return sf2;
}

static uint8_t delete_area(felica_chip_t *chip, uint16_t area)
{
    if (felica_image_find_area_const(&chip->img, area) == NULL)
        return FELICA_SF2_SERVICE_CODE;
    chip_begin_change(chip);
    if (felica_image_delete_area(&chip->next, area) != FELICA_OK) {
        felica_wipe(&chip->next, sizeof(chip->next));
        return FELICA_SF2_SERVICE_CODE;
    }
    return chip_commit_change(chip) == FELICA_OK ? FELICA_SF2_OK : FELICA_SF2_WRITE_FAILED;
}

/* Create / Delete Area: only in the system channel (Mode 3). */
static int do_area_admin(felica_chip_t *chip, uint8_t code, const uint8_t *payload, size_t len,
                         uint8_t *resp, size_t cap, size_t *resp_len)
{
    felica_create_area_t ca;
    uint16_t area = 0;
    uint8_t sf2;
    int rc;

    if (chip->mode != FELICA_MODE_3)
        return fail_closed(chip, code, FELICA_SF2_MODE, resp, cap, resp_len);
    if (code == FELICA_CMD_CREATE_AREA) {
        rc = felica_create_area_decode(payload, len, &ca);
        sf2 = rc == FELICA_OK ? create_area(chip, &ca) : FELICA_SF2_PARAM;
        felica_wipe(&ca, sizeof(ca));
    } else {
        rc = felica_delete_area_decode(payload, len, &area);
        sf2 = rc == FELICA_OK ? delete_area(chip, area) : FELICA_SF2_PARAM;
    }
    return answer(chip, code, sf2 == FELICA_SF2_OK ? 0x00 : 0xFF, sf2, NULL, 0,
                  resp, cap, resp_len);
}

static int do_wrapped(felica_chip_t *chip, const uint8_t *cmd, size_t len, uint8_t code,
                      uint8_t *resp, size_t cap, size_t *resp_len)
{
    uint8_t payload[PAYLOAD_CAP];
    uint8_t inner = 0;
    size_t payload_len = 0;
    int rc;

    if (chip->mode != FELICA_MODE_2 && chip->mode != FELICA_MODE_3)
        return fail_closed(chip, code, FELICA_SF2_MODE, resp, cap, resp_len);
    rc = felica_sc_chip_unwrap(&chip->sc, cmd, len, &inner, payload, sizeof(payload), &payload_len);
    if (rc != FELICA_OK)
        return fail_closed(chip, code, sf2_for_channel_error(rc), resp, cap, resp_len);
    if (code == FELICA_CMD_SECURE_READ || code == FELICA_CMD_SECURE_WRITE)
        rc = do_secure_rw(chip, code, payload, payload_len, resp, cap, resp_len);
    else
        rc = do_area_admin(chip, code, payload, payload_len, resp, cap, resp_len);
    felica_wipe(payload, sizeof(payload));
    return rc;
}

int chip_secure(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                uint8_t *resp, size_t cap, size_t *resp_len)
{
    felica_packet_t pkt;
    int rc;

    /* Garbage addressed to this chip in a secure exchange: fail closed, silently. */
    if (felica_decode(cmd, len, &pkt) != FELICA_OK) {
        chip_drop_session(chip);
        return FELICA_OK;
    }
    switch (pkt.code) {
    case FELICA_CMD_AUTH1:
        rc = do_auth1(chip, &pkt, resp, cap, resp_len);
        break;
    case FELICA_CMD_AUTH2:
        rc = do_auth2(chip, cmd, len, resp, cap, resp_len);
        break;
    default:
        rc = do_wrapped(chip, cmd, len, pkt.code, resp, cap, resp_len);
        break;
    }
    felica_wipe(&pkt, sizeof(pkt));
    return rc;
}
