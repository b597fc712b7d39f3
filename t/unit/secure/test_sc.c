/* test_sc.c: the host end of the secure channel against the chip end, with no
 * emulator in between: authentication, secure commands both ways, and every
 * kind of tampering (wrong keys, forged cryptograms, single-byte flips of each
 * packet, replay, reorder, stale challenges, low security levels). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "felica_crypto.h"
#include "felica_frame.h"
#include "felica_sc.h"

static const uint8_t test_idm[8] = { 0x01, 0x2E, 0x4C, 0xD3, 0x00, 0x11, 0x22, 0x33 };
static const uint8_t other_idm[8] = { 0x01, 0x2E, 0x4C, 0xD3, 0x00, 0x11, 0x22, 0x34 };
static const uint8_t zero16[16];

/* Issuer master keys 40.., 50.., 60.. at KVN 0x30, diversified for an IDm. */
static void chip_keys_for(const uint8_t idm[8], felica_keyset_t *out)
{
    felica_keyset_t master;
    size_t i;

    for (i = 0; i < 16; i++) {
        master.enc[i] = (uint8_t)(0x40 + i);
        master.mac[i] = (uint8_t)(0x50 + i);
        master.dek[i] = (uint8_t)(0x60 + i);
    }
    master.kvn = 0x30;
    ck_assert_int_eq(felica_keys_diversify(&master, idm, out), FELICA_OK);
}

/* A session end is wiped: IDLE and no key material left. */
static void assert_wiped(const felica_sc_t *sc)
{
    ck_assert_int_eq(sc->state, FELICA_SC_IDLE);
    ck_assert_mem_eq(sc->s_enc, zero16, 16);
    ck_assert_mem_eq(sc->s_mac, zero16, 16);
    ck_assert_mem_eq(sc->s_rmac, zero16, 16);
    ck_assert_mem_eq(sc->dek, zero16, 16);
    ck_assert_mem_eq(sc->mac_chain, zero16, 16);
}

/* Every packet of one authentication, kept for the tampering tests. */
typedef struct auth_trace {
    uint8_t auth1[64], auth1_res[64], auth2[64], auth2_res[64];
    size_t auth1_len, auth1_res_len, auth2_len, auth2_res_len;
} auth_trace_t;

/* The chip's Auth1 handling as an emulator does it: decode, then answer. */
static int chip_answer_auth1(felica_sc_t *chip, const felica_keyset_t *keys, uint32_t seq,
                             const uint8_t *cmd, size_t cmd_len, uint8_t *out, size_t *out_len)
{
    felica_packet_t pkt;
    int rc = felica_decode(cmd, cmd_len, &pkt);

    if (rc != FELICA_OK)
        return rc;
    return felica_sc_chip_auth1(chip, &pkt, keys, seq, out, 64, out_len);
}

/* Host and chip up to (not including) Auth2. */
static void run_auth1(felica_sc_t *host, felica_sc_t *chip, const felica_keyset_t *host_keys,
                      const felica_keyset_t *chip_keys, uint32_t seq, auth_trace_t *t)
{
    ck_assert_int_eq(felica_sc_host_begin(host, test_idm, 0x1100, host_keys, NULL), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_auth1(host, t->auth1, sizeof t->auth1, &t->auth1_len),
                     FELICA_OK);
    ck_assert_uint_eq(t->auth1_len, 21);
    ck_assert_int_eq(chip_answer_auth1(chip, chip_keys, seq, t->auth1, t->auth1_len,
                                       t->auth1_res, &t->auth1_res_len), FELICA_OK);
    ck_assert_uint_eq(t->auth1_res_len, 34);
    ck_assert_int_eq(chip->state, FELICA_SC_AUTH1);
}

/* A full authentication at the given level; both ends OPEN. */
static void open_channel(felica_sc_t *host, felica_sc_t *chip, uint8_t level, uint32_t seq,
                         auth_trace_t *t)
{
    felica_keyset_t keys;

    chip_keys_for(test_idm, &keys);
    run_auth1(host, chip, &keys, &keys, seq, t);
    ck_assert_int_eq(felica_sc_host_auth1_done(host, t->auth1_res, t->auth1_res_len), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_auth2(host, level, t->auth2, sizeof t->auth2, &t->auth2_len),
                     FELICA_OK);
    ck_assert_uint_eq(t->auth2_len, 27);
    ck_assert_int_eq(felica_sc_chip_auth2(chip, t->auth2, t->auth2_len, t->auth2_res,
                                          sizeof t->auth2_res, &t->auth2_res_len), FELICA_OK);
    ck_assert_uint_eq(t->auth2_res_len, 22);
    ck_assert_int_eq(felica_sc_host_auth2_done(host, t->auth2_res, t->auth2_res_len), FELICA_OK);
    ck_assert_int_eq(host->state, FELICA_SC_OPEN);
    ck_assert_int_eq(chip->state, FELICA_SC_OPEN);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + 7 * i);
}

/* One command from host to chip and its answer back, payloads checked. */
static void round_trip(felica_sc_t *host, felica_sc_t *chip, uint8_t code,
                       const uint8_t *cmd_payload, size_t cmd_len,
                       const uint8_t *res_payload, size_t res_len)
{
    uint8_t pkt[FELICA_MAX_FRAME], got[FELICA_MAX_FRAME], got_code = 0, sf1 = 9, sf2 = 9;
    size_t pkt_len = 0, got_len = 0;

    ck_assert_int_eq(felica_sc_host_wrap(host, code, cmd_payload, cmd_len, pkt, sizeof pkt,
                                         &pkt_len), FELICA_OK);
    ck_assert_int_eq(felica_sc_chip_unwrap(chip, pkt, pkt_len, &got_code, got, sizeof got,
                                           &got_len), FELICA_OK);
    ck_assert_uint_eq(got_code, code);
    ck_assert_uint_eq(got_len, cmd_len);
    if (cmd_len != 0)
        ck_assert_mem_eq(got, cmd_payload, cmd_len);
    ck_assert_int_eq(felica_sc_chip_wrap(chip, code, 0, 0, res_payload, res_len, pkt, sizeof pkt,
                                         &pkt_len), FELICA_OK);
    ck_assert_uint_eq(pkt[1], code + 1);
    ck_assert_int_eq(felica_sc_host_unwrap(host, pkt, pkt_len, got, sizeof got, &got_len,
                                           &sf1, &sf2), FELICA_OK);
    ck_assert_uint_eq(sf1, 0);
    ck_assert_uint_eq(sf2, 0);
    ck_assert_uint_eq(got_len, res_len);
    if (res_len != 0)
        ck_assert_mem_eq(got, res_payload, res_len);
}

START_TEST(full_session_round_trips)
{
    felica_sc_t host, chip;
    auth_trace_t t;
    felica_keyset_t keys;
    uint8_t big[223], small[3], read_res[193];

    open_channel(&host, &chip, FELICA_SL_FULL, 1, &t);
    chip_keys_for(test_idm, &keys);
    /* both ends hold the same session keys, and K-DEK for key wrapping */
    ck_assert_mem_eq(host.s_enc, chip.s_enc, 16);
    ck_assert_mem_eq(host.s_mac, chip.s_mac, 16);
    ck_assert_mem_eq(host.s_rmac, chip.s_rmac, 16);
    ck_assert_mem_eq(host.dek, keys.dek, 16);
    ck_assert_mem_eq(chip.dek, keys.dek, 16);
    ck_assert_mem_ne(host.s_enc, keys.enc, 16);
    ck_assert_mem_ne(host.s_mac, host.s_rmac, 16);
    ck_assert_uint_eq(host.seq_counter, 1);
    ck_assert_uint_eq(chip.area, 0x1100);

    fill(big, sizeof big, 0x11);
    fill(small, sizeof small, 0x22);
    fill(read_res, sizeof read_res, 0x33);
    round_trip(&host, &chip, FELICA_CMD_SECURE_WRITE, big, sizeof big, NULL, 0);
    round_trip(&host, &chip, FELICA_CMD_SECURE_READ, small, sizeof small, read_res, sizeof read_res);
    round_trip(&host, &chip, FELICA_CMD_DELETE_AREA, small, 2, NULL, 0);
    round_trip(&host, &chip, FELICA_CMD_CREATE_AREA, big, 16, small, 1);
    round_trip(&host, &chip, FELICA_CMD_SECURE_READ, NULL, 0, read_res, 16);
    ck_assert_uint_eq(host.counter, 5);
    ck_assert_uint_eq(chip.counter, 5);
    ck_assert_mem_eq(host.mac_chain, chip.mac_chain, 16);
}
END_TEST

/* The wire bytes equal what the header comment specifies, computed here from
 * the primitives alone: ICVs, CBC encryption, chained C-MAC and R-MAC. */
START_TEST(wire_format_matches_spec)
{
    felica_sc_t host, chip;
    auth_trace_t t;
    uint8_t payload[20], pkt[FELICA_MAX_FRAME], buf[FELICA_MAX_FRAME];
    uint8_t block[16], icv[16], padded[32], mac[16], chain_before[16], code = 0, res[5];
    size_t len = 0, n = 0;
    uint8_t sf1, sf2;

    open_channel(&host, &chip, FELICA_SL_FULL, 7, &t);
    /* Auth2's C-MAC chains from 16 zero bytes over LEN..host cryptogram */
    memset(buf, 0, 16);
    memcpy(buf + 16, t.auth2, t.auth2_len - 8);
    ck_assert_int_eq(felica_aes_cmac(host.s_mac, 16, buf, 16 + t.auth2_len - 8, mac), FELICA_OK);
    ck_assert_mem_eq(t.auth2 + t.auth2_len - 8, mac, 8);
    ck_assert_mem_eq(host.mac_chain, mac, 16);

    fill(payload, sizeof payload, 0x5A);
    memcpy(chain_before, host.mac_chain, 16);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_WRITE, payload, sizeof payload,
                                         pkt, sizeof pkt, &len), FELICA_OK);
    /* LEN CODE IDm CTR(0001) ENC(32) C-MAC(8) */
    ck_assert_uint_eq(len, 10 + 2 + 32 + 8);
    ck_assert_uint_eq(pkt[0], len);
    ck_assert_uint_eq(pkt[10], 0x00);
    ck_assert_uint_eq(pkt[11], 0x01);
    memset(block, 0, 16);
    block[15] = 0x01;
    ck_assert_int_eq(felica_aes_block(host.s_enc, block, icv), FELICA_OK);
    memset(padded, 0, sizeof padded);
    memcpy(padded, payload, sizeof payload);
    padded[sizeof payload] = 0x80;
    ck_assert_int_eq(felica_aes_cbc_encrypt(host.s_enc, icv, padded, 32, padded), FELICA_OK);
    ck_assert_mem_eq(pkt + 12, padded, 32);
    memcpy(buf, chain_before, 16);
    memcpy(buf + 16, pkt, len - 8);
    ck_assert_int_eq(felica_aes_cmac(host.s_mac, 16, buf, 16 + len - 8, mac), FELICA_OK);
    ck_assert_mem_eq(pkt + len - 8, mac, 8);
    ck_assert_mem_eq(host.mac_chain, mac, 16);

    ck_assert_int_eq(felica_sc_chip_unwrap(&chip, pkt, len, &code, buf, sizeof buf, &n), FELICA_OK);
    fill(res, sizeof res, 0xC0);
    ck_assert_int_eq(felica_sc_chip_wrap(&chip, FELICA_CMD_SECURE_WRITE + 1, 0, 0, res, sizeof res,
                                         pkt, sizeof pkt, &len), FELICA_OK);
    /* LEN CODE IDm SF1 SF2 CTR ENC(16) R-MAC(8), ICV from 0x80 || counter */
    ck_assert_uint_eq(len, 10 + 2 + 2 + 16 + 8);
    ck_assert_uint_eq(pkt[1], FELICA_CMD_SECURE_WRITE + 1);
    ck_assert_uint_eq(pkt[13], 0x01);
    memset(block, 0, 16);
    block[0] = 0x80;
    block[15] = 0x01;
    ck_assert_int_eq(felica_aes_block(host.s_enc, block, icv), FELICA_OK);
    ck_assert_int_eq(felica_aes_cbc_decrypt(host.s_enc, icv, pkt + 14, 16, padded), FELICA_OK);
    ck_assert_mem_eq(padded, res, sizeof res);
    ck_assert_uint_eq(padded[sizeof res], 0x80);
    memcpy(buf, host.mac_chain, 16);
    memcpy(buf + 16, pkt, len - 8);
    ck_assert_int_eq(felica_aes_cmac(host.s_rmac, 16, buf, 16 + len - 8, mac), FELICA_OK);
    ck_assert_mem_eq(pkt + len - 8, mac, 8);
    ck_assert_int_eq(felica_sc_host_unwrap(&host, pkt, len, buf, sizeof buf, &n, &sf1, &sf2),
                     FELICA_OK);
    ck_assert_uint_eq(n, sizeof res);
}
END_TEST

START_TEST(authenticated_error_keeps_channel)
{
    felica_sc_t host, chip;
    auth_trace_t t;
    uint8_t pkt[FELICA_MAX_FRAME], buf[FELICA_MAX_FRAME], code, sf1 = 0, sf2 = 0, p[4] = { 1, 2, 3, 4 };
    size_t len, n;

    open_channel(&host, &chip, FELICA_SL_FULL, 2, &t);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_READ, p, 4, pkt, sizeof pkt, &len),
                     FELICA_OK);
    ck_assert_int_eq(felica_sc_chip_unwrap(&chip, pkt, len, &code, buf, sizeof buf, &n), FELICA_OK);
    /* an error carries no data */
    ck_assert_int_eq(felica_sc_chip_wrap(&chip, code, 0xFF, FELICA_SF2_ACCESS, p, 4, pkt, sizeof pkt,
                                         &len), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_sc_chip_wrap(&chip, code, 0xFF, FELICA_SF2_ACCESS, NULL, 0, pkt,
                                         sizeof pkt, &len), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_unwrap(&host, pkt, len, buf, sizeof buf, &n, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf1, 0xFF);
    ck_assert_uint_eq(sf2, FELICA_SF2_ACCESS);
    ck_assert_int_eq(host.state, FELICA_SC_OPEN);
    round_trip(&host, &chip, FELICA_CMD_SECURE_READ, p, 4, p, 4);
}
END_TEST

START_TEST(wrong_chip_keys_fail_card_cryptogram)
{
    felica_sc_t host, chip;
    auth_trace_t t;
    felica_keyset_t right, wrong;

    /* the chip holds another chip's keys: the challenge check fails first */
    chip_keys_for(test_idm, &right);
    chip_keys_for(other_idm, &wrong);
    run_auth1(&host, &chip, &right, &wrong, 1, &t);
    ck_assert_int_eq(felica_sc_host_auth1_done(&host, t.auth1_res, t.auth1_res_len),
                     FELICA_ERR_CRYPTOGRAM);
    assert_wiped(&host);

    /* only K-MAC differs: the challenge passes, the card cryptogram does not */
    wrong = right;
    wrong.mac[5] ^= 0x10;
    run_auth1(&host, &chip, &right, &wrong, 1, &t);
    ck_assert_int_eq(felica_sc_host_auth1_done(&host, t.auth1_res, t.auth1_res_len),
                     FELICA_ERR_CRYPTOGRAM);
    assert_wiped(&host);
}
END_TEST

/* Re-encode an Auth2 with another cryptogram or level and a C-MAC that is
 * valid for it, as only a holder of S-MAC could: the chip must still refuse. */
static size_t forge_auth2(const felica_sc_t *host, const uint8_t *auth2, size_t len,
                          int flip_cryptogram, uint8_t level, uint8_t *out)
{
    felica_packet_t pkt;
    uint8_t buf[16 + 64], mac[16];
    size_t out_len = 0;

    ck_assert_int_eq(felica_decode(auth2, len, &pkt), FELICA_OK);
    if (flip_cryptogram)
        pkt.u.secure.payload[3] ^= 0x01;
    pkt.u.secure.level = level;
    ck_assert_int_eq(felica_encode(&pkt, out, 64, &out_len), FELICA_OK);
    memset(buf, 0, 16);
    memcpy(buf + 16, out, out_len - 8);
    ck_assert_int_eq(felica_aes_cmac(host->s_mac, 16, buf, 16 + out_len - 8, mac), FELICA_OK);
    memcpy(out + out_len - 8, mac, 8);
    return out_len;
}

START_TEST(tampered_host_cryptogram_refused)
{
    felica_sc_t host, chip;
    auth_trace_t t;
    felica_keyset_t keys;
    uint8_t forged[64], res[64];
    size_t len, res_len;

    chip_keys_for(test_idm, &keys);
    run_auth1(&host, &chip, &keys, &keys, 1, &t);
    ck_assert_int_eq(felica_sc_host_auth1_done(&host, t.auth1_res, t.auth1_res_len), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_auth2(&host, FELICA_SL_FULL, t.auth2, sizeof t.auth2,
                                          &t.auth2_len), FELICA_OK);
    len = forge_auth2(&host, t.auth2, t.auth2_len, 1, FELICA_SL_FULL, forged);
    ck_assert_int_eq(felica_sc_chip_auth2(&chip, forged, len, res, sizeof res, &res_len),
                     FELICA_ERR_CRYPTOGRAM);
    assert_wiped(&chip);
    /* the genuine Auth2 no longer helps: the chip's session is gone */
    ck_assert_int_eq(felica_sc_chip_auth2(&chip, t.auth2, t.auth2_len, res, sizeof res, &res_len),
                     FELICA_ERR_STATE);
}
END_TEST

/* Deliver every single-byte corruption (two bit patterns per byte) of pkt to
 * a copy of the receiver; each must be refused and leave the copy wiped. */
typedef int (*deliver_fn)(felica_sc_t *rx, const uint8_t *pkt, size_t len);

static void flip_every_byte(const felica_sc_t *rx, const uint8_t *pkt, size_t len, deliver_fn fn)
{
    static const uint8_t masks[] = { 0x01, 0x80, 0xFF };
    uint8_t bad[FELICA_MAX_FRAME];
    size_t pos, m;

    for (pos = 0; pos < len; pos++) {
        for (m = 0; m < sizeof masks; m++) {
            felica_sc_t copy = *rx;
            int rc;

            memcpy(bad, pkt, len);
            bad[pos] ^= masks[m];
            rc = fn(&copy, bad, len);
            ck_assert_msg(rc != FELICA_OK && rc != FELICA_ERR_BUFFER,
                          "byte %zu ^ %02x accepted (rc %d)", pos, masks[m], rc);
            assert_wiped(&copy);
        }
    }
    /* and a truncated packet */
    {
        felica_sc_t copy = *rx;
        ck_assert_int_ne(fn(&copy, pkt, len - 1), FELICA_OK);
        assert_wiped(&copy);
    }
}

static int deliver_auth1_res(felica_sc_t *rx, const uint8_t *p, size_t n)
{
    return felica_sc_host_auth1_done(rx, p, n);
}

static int deliver_auth2(felica_sc_t *rx, const uint8_t *p, size_t n)
{
    uint8_t out[64];
    size_t len;

    return felica_sc_chip_auth2(rx, p, n, out, sizeof out, &len);
}

static int deliver_auth2_res(felica_sc_t *rx, const uint8_t *p, size_t n)
{
    return felica_sc_host_auth2_done(rx, p, n);
}

static int deliver_command(felica_sc_t *rx, const uint8_t *p, size_t n)
{
    uint8_t out[FELICA_MAX_FRAME], code;
    size_t len;

    return felica_sc_chip_unwrap(rx, p, n, &code, out, sizeof out, &len);
}

static int deliver_response(felica_sc_t *rx, const uint8_t *p, size_t n)
{
    uint8_t out[FELICA_MAX_FRAME], sf1, sf2;
    size_t len;

    return felica_sc_host_unwrap(rx, p, n, out, sizeof out, &len, &sf1, &sf2);
}

START_TEST(every_byte_flip_rejected_and_wipes)
{
    felica_sc_t host, chip;
    auth_trace_t t;
    felica_keyset_t keys;
    uint8_t payload[40], res_payload[33], pkt[FELICA_MAX_FRAME], out[FELICA_MAX_FRAME];
    uint8_t code, sf1, sf2;
    size_t len, n, i;
    static const uint8_t codes[] = { FELICA_CMD_SECURE_WRITE, FELICA_CMD_SECURE_READ,
                                     FELICA_CMD_DELETE_AREA };

    chip_keys_for(test_idm, &keys);
    run_auth1(&host, &chip, &keys, &keys, 1, &t);
    flip_every_byte(&host, t.auth1_res, t.auth1_res_len, deliver_auth1_res);
    ck_assert_int_eq(felica_sc_host_auth1_done(&host, t.auth1_res, t.auth1_res_len), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_auth2(&host, FELICA_SL_FULL, t.auth2, sizeof t.auth2,
                                          &t.auth2_len), FELICA_OK);
    flip_every_byte(&chip, t.auth2, t.auth2_len, deliver_auth2);
    ck_assert_int_eq(felica_sc_chip_auth2(&chip, t.auth2, t.auth2_len, t.auth2_res,
                                          sizeof t.auth2_res, &t.auth2_res_len), FELICA_OK);
    flip_every_byte(&host, t.auth2_res, t.auth2_res_len, deliver_auth2_res);
    ck_assert_int_eq(felica_sc_host_auth2_done(&host, t.auth2_res, t.auth2_res_len), FELICA_OK);

    for (i = 0; i < sizeof codes; i++) {
        size_t res_len = i == 1 ? sizeof res_payload : 0;

        fill(payload, sizeof payload, (uint8_t)i);
        fill(res_payload, sizeof res_payload, (uint8_t)(0x90 + i));
        ck_assert_int_eq(felica_sc_host_wrap(&host, codes[i], payload, sizeof payload, pkt,
                                             sizeof pkt, &len), FELICA_OK);
        flip_every_byte(&chip, pkt, len, deliver_command);
        ck_assert_int_eq(felica_sc_chip_unwrap(&chip, pkt, len, &code, out, sizeof out, &n),
                         FELICA_OK);
        ck_assert_int_eq(felica_sc_chip_wrap(&chip, code, 0, 0, res_payload, res_len, pkt,
                                             sizeof pkt, &len), FELICA_OK);
        flip_every_byte(&host, pkt, len, deliver_response);
        ck_assert_int_eq(felica_sc_host_unwrap(&host, pkt, len, out, sizeof out, &n, &sf1, &sf2),
                         FELICA_OK);
        ck_assert_uint_eq(n, res_len);
    }
}
END_TEST

START_TEST(replay_rejected)
{
    felica_sc_t host, chip, host2, chip2;
    auth_trace_t t, t2;
    uint8_t c1[FELICA_MAX_FRAME], c2[FELICA_MAX_FRAME], out[FELICA_MAX_FRAME], code, p[8] = { 0 };
    size_t l1, l2, n;

    open_channel(&host, &chip, FELICA_SL_FULL, 10, &t);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_WRITE, p, 8, c1, sizeof c1, &l1),
                     FELICA_OK);
    ck_assert_int_eq(felica_sc_chip_unwrap(&chip, c1, l1, &code, out, sizeof out, &n), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_WRITE, p, 8, c2, sizeof c2, &l2),
                     FELICA_OK);
    ck_assert_int_eq(felica_sc_chip_unwrap(&chip, c2, l2, &code, out, sizeof out, &n), FELICA_OK);
    {
        felica_sc_t copy = chip;
        ck_assert_int_eq(felica_sc_chip_unwrap(&copy, c1, l1, &code, out, sizeof out, &n),
                         FELICA_ERR_SEQUENCE);
        assert_wiped(&copy);
        copy = chip;
        ck_assert_int_eq(felica_sc_chip_unwrap(&copy, c2, l2, &code, out, sizeof out, &n),
                         FELICA_ERR_SEQUENCE);
        assert_wiped(&copy);
    }
    /* a command of an earlier session, counter right for the new one */
    open_channel(&host2, &chip2, FELICA_SL_FULL, 11, &t2);
    ck_assert_int_eq(felica_sc_chip_unwrap(&chip2, c1, l1, &code, out, sizeof out, &n),
                     FELICA_ERR_MAC);
    assert_wiped(&chip2);
    /* an Auth1 answer of the earlier session, replayed to a new host */
    {
        felica_keyset_t keys;
        chip_keys_for(test_idm, &keys);
        ck_assert_int_eq(felica_sc_host_begin(&host2, test_idm, 0x1100, &keys, NULL), FELICA_OK);
        ck_assert_int_eq(felica_sc_host_auth1_done(&host2, t.auth1_res, t.auth1_res_len),
                         FELICA_ERR_CRYPTOGRAM);
        assert_wiped(&host2);
    }
}
END_TEST

START_TEST(reorder_rejected)
{
    felica_sc_t host, chip;
    auth_trace_t t;
    uint8_t c1[FELICA_MAX_FRAME], c2[FELICA_MAX_FRAME], out[FELICA_MAX_FRAME], code, p[8] = { 0 };
    size_t l1, l2, n;

    open_channel(&host, &chip, FELICA_SL_FULL, 3, &t);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_WRITE, p, 8, c1, sizeof c1, &l1),
                     FELICA_OK);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_READ, p, 8, c2, sizeof c2, &l2),
                     FELICA_OK);
    ck_assert_int_eq(felica_sc_chip_unwrap(&chip, c2, l2, &code, out, sizeof out, &n),
                     FELICA_ERR_SEQUENCE);
    assert_wiped(&chip);
    ck_assert_int_eq(felica_sc_chip_unwrap(&chip, c1, l1, &code, out, sizeof out, &n),
                     FELICA_ERR_STATE);
}
END_TEST

/* Re-encode the Auth1 answer with another counter or challenge. */
START_TEST(card_challenge_bound_to_counter)
{
    felica_sc_t host, chip;
    auth_trace_t t;
    felica_keyset_t keys;
    felica_packet_t pkt;
    uint8_t forged[64];
    size_t len;

    chip_keys_for(test_idm, &keys);
    run_auth1(&host, &chip, &keys, &keys, 5, &t);
    ck_assert_int_eq(felica_decode(t.auth1_res, t.auth1_res_len, &pkt), FELICA_OK);
    ck_assert_uint_eq(pkt.u.auth1_res.seq_counter, 5);
    pkt.u.auth1_res.seq_counter = 4;
    ck_assert_int_eq(felica_encode(&pkt, forged, sizeof forged, &len), FELICA_OK);
    {
        felica_sc_t copy = host;
        ck_assert_int_eq(felica_sc_host_auth1_done(&copy, forged, len), FELICA_ERR_CRYPTOGRAM);
        assert_wiped(&copy);
    }
    /* the challenge of counter 4, announced with counter 4, still needs the
     * card cryptogram of this session: a genuine answer of counter 4 fails */
    {
        felica_sc_t chip4, copy = host;
        uint8_t res4[64];
        size_t len4;
        ck_assert_int_eq(chip_answer_auth1(&chip4, &keys, 4, t.auth1, t.auth1_len, res4, &len4),
                         FELICA_OK);
        ck_assert_int_eq(felica_sc_host_auth1_done(&copy, res4, len4), FELICA_OK);
        ck_assert_uint_eq(copy.seq_counter, 4);
    }
    /* counter 0 never comes from a chip */
    pkt.u.auth1_res.seq_counter = 0;
    ck_assert_int_eq(felica_encode(&pkt, forged, sizeof forged, &len), FELICA_OK);
    {
        felica_sc_t copy = host;
        ck_assert_int_eq(felica_sc_host_auth1_done(&copy, forged, len), FELICA_ERR_BAD_PARAM);
        assert_wiped(&copy);
    }
    /* wrong KVN or SCP parameter i */
    pkt.u.auth1_res.seq_counter = 5;
    pkt.u.auth1_res.scp_i = 0x00;
    ck_assert_int_eq(felica_encode(&pkt, forged, sizeof forged, &len), FELICA_OK);
    {
        felica_sc_t copy = host;
        ck_assert_int_eq(felica_sc_host_auth1_done(&copy, forged, len), FELICA_ERR_BAD_PARAM);
        assert_wiped(&copy);
    }
    ck_assert_int_eq(felica_sc_host_auth1_done(&host, t.auth1_res, t.auth1_res_len), FELICA_OK);
}
END_TEST

START_TEST(low_level_opens_but_refuses_card_data)
{
    static const uint8_t low_levels[] = { 0x11, 0x13 };
    size_t i;

    for (i = 0; i < sizeof low_levels; i++) {
        felica_sc_t host, chip;
        auth_trace_t t;
        uint8_t pkt[FELICA_MAX_FRAME], out[FELICA_MAX_FRAME], code, p[19] = { 0 };
        size_t len, n;

        open_channel(&host, &chip, low_levels[i], 1, &t);
        ck_assert_uint_eq(chip.level, low_levels[i]);
        ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_WRITE, p, sizeof p, pkt,
                                             sizeof pkt, &len), FELICA_OK);
        ck_assert_int_eq(felica_sc_chip_unwrap(&chip, pkt, len, &code, out, sizeof out, &n),
                         FELICA_ERR_SECURITY_LEVEL);
        ck_assert_uint_eq(n, 0);
        assert_wiped(&chip);
    }
}
END_TEST

START_TEST(unsupported_levels_refused)
{
    static const uint8_t bad_levels[] = { 0x00, 0x01, 0x03, 0x10, 0x31, 0x37, 0xFF };
    felica_sc_t host, chip;
    felica_keyset_t keys;
    auth_trace_t t;
    uint8_t forged[64], res[64];
    size_t i, len, res_len;

    chip_keys_for(test_idm, &keys);
    run_auth1(&host, &chip, &keys, &keys, 1, &t);
    ck_assert_int_eq(felica_sc_host_auth1_done(&host, t.auth1_res, t.auth1_res_len), FELICA_OK);
    for (i = 0; i < sizeof bad_levels; i++) {
        felica_sc_t copy = host;
        ck_assert_int_eq(felica_sc_host_auth2(&copy, bad_levels[i], forged, sizeof forged, &len),
                         FELICA_ERR_SECURITY_LEVEL);
    }
    ck_assert_int_eq(felica_sc_host_auth2(&host, FELICA_SL_FULL, t.auth2, sizeof t.auth2,
                                          &t.auth2_len), FELICA_OK);
    for (i = 0; i < sizeof bad_levels; i++) {
        felica_sc_t copy = chip;
        len = forge_auth2(&host, t.auth2, t.auth2_len, 0, bad_levels[i], forged);
        ck_assert_int_eq(felica_sc_chip_auth2(&copy, forged, len, res, sizeof res, &res_len),
                         FELICA_ERR_SECURITY_LEVEL);
        assert_wiped(&copy);
    }
}
END_TEST

START_TEST(error_response_outside_channel)
{
    felica_sc_t host, chip;
    auth_trace_t t;
    felica_packet_t pkt;
    uint8_t out[64], buf[FELICA_MAX_FRAME], sf1 = 0, sf2 = 0, p[2] = { 0, 0 };
    size_t len, n;

    ck_assert_int_eq(felica_sc_error_response(test_idm, FELICA_CMD_SECURE_WRITE, 0xFF,
                                              FELICA_SF2_AUTH, out, sizeof out, &len), FELICA_OK);
    ck_assert_uint_eq(len, 12);
    ck_assert_uint_eq(out[0], 12);
    ck_assert_uint_eq(out[1], FELICA_CMD_SECURE_WRITE + 1);
    ck_assert_mem_eq(out + 2, test_idm, 8);
    ck_assert_uint_eq(out[10], 0xFF);
    ck_assert_uint_eq(out[11], FELICA_SF2_AUTH);
    ck_assert_int_eq(felica_decode(out, len, &pkt), FELICA_OK);
    ck_assert_int_eq(pkt.u.secure_res.has_mac, 0);
    ck_assert_int_eq(felica_sc_error_response(test_idm, FELICA_CMD_AUTH1, 0xFF, FELICA_SF2_AUTH,
                                              out, sizeof out, &len), FELICA_OK);
    ck_assert_uint_eq(len, 12);
    ck_assert_uint_eq(out[1], FELICA_CMD_AUTH1 + 1);
    ck_assert_int_eq(felica_sc_error_response(test_idm, FELICA_CMD_SECURE_WRITE, 0x00, 0x00,
                                              out, sizeof out, &len), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_sc_error_response(test_idm, FELICA_CMD_READ_WO_ENC, 0xFF, 0xA5,
                                              out, sizeof out, &len), FELICA_ERR_BAD_CODE);

    /* the host closes its end when the chip answers outside the channel */
    open_channel(&host, &chip, FELICA_SL_FULL, 1, &t);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_DELETE_AREA, p, 2, buf, sizeof buf, &n),
                     FELICA_OK);
    ck_assert_int_eq(felica_sc_error_response(test_idm, FELICA_CMD_DELETE_AREA, 0xFF,
                                              FELICA_SF2_SEQUENCE, out, sizeof out, &len), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_unwrap(&host, out, len, buf, sizeof buf, &n, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf1, 0xFF);
    ck_assert_uint_eq(sf2, FELICA_SF2_SEQUENCE);
    assert_wiped(&host);
}
END_TEST

START_TEST(states_and_counter_limits)
{
    felica_sc_t host, chip;
    auth_trace_t t;
    uint8_t pkt[FELICA_MAX_FRAME], out[FELICA_MAX_FRAME], code, p[224] = { 0 };
    size_t len, n;

    memset(&host, 0, sizeof host);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_READ, p, 4, pkt, sizeof pkt, &len),
                     FELICA_ERR_STATE);
    open_channel(&host, &chip, FELICA_SL_FULL, 1, &t);
    /* nothing to answer yet; unknown codes; oversize payloads */
    ck_assert_int_eq(felica_sc_chip_wrap(&chip, FELICA_CMD_SECURE_READ, 0, 0, NULL, 0, pkt,
                                         sizeof pkt, &len), FELICA_ERR_STATE);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_AUTH2, p, 4, pkt, sizeof pkt, &len),
                     FELICA_ERR_BAD_CODE);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_WRITE, p, 224, pkt, sizeof pkt,
                                         &len), FELICA_ERR_OVERSIZE);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_WRITE, p, 16, pkt, 40, &len),
                     FELICA_ERR_BUFFER);
    ck_assert_int_eq(host.counter, 0);              /* a failed build consumes nothing */
    /* the 16-bit counter runs out: the host must authenticate again */
    host.counter = chip.counter = 0xFFFE;
    round_trip(&host, &chip, FELICA_CMD_SECURE_READ, p, 4, p, 4);
    ck_assert_int_eq(felica_sc_host_wrap(&host, FELICA_CMD_SECURE_READ, p, 4, pkt, sizeof pkt, &len),
                     FELICA_ERR_SEQUENCE);
    /* a chip command while only Auth1 was answered */
    run_auth1(&host, &chip, &(felica_keyset_t){ 0 }, &(felica_keyset_t){ 0 }, 1, &t);
    ck_assert_int_eq(felica_sc_chip_unwrap(&chip, pkt, 30, &code, out, sizeof out, &n),
                     FELICA_ERR_STATE);
    assert_wiped(&chip);
}
END_TEST

START_TEST(chip_checks_auth1_input)
{
    felica_sc_t chip;
    felica_keyset_t keys;
    felica_packet_t cmd;
    uint8_t out[64];
    size_t len;

    chip_keys_for(test_idm, &keys);
    memset(&cmd, 0, sizeof cmd);
    cmd.code = FELICA_CMD_AUTH1;
    memcpy(cmd.idm, test_idm, 8);
    cmd.u.auth1.kvn = keys.kvn;
    cmd.u.auth1.area = FELICA_AREA_SYSTEM;
    ck_assert_int_eq(felica_sc_chip_auth1(&chip, &cmd, &keys, 0, out, sizeof out, &len),
                     FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_sc_chip_auth1(&chip, &cmd, &keys, 0x1000000, out, sizeof out, &len),
                     FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_sc_chip_auth1(&chip, &cmd, &keys, 0xFFFFFF, out, sizeof out, &len),
                     FELICA_OK);
    ck_assert_uint_eq(out[len - 3], 0xFF);
    cmd.u.auth1.kvn = (uint8_t)(keys.kvn + 1);
    ck_assert_int_eq(felica_sc_chip_auth1(&chip, &cmd, &keys, 2, out, sizeof out, &len),
                     FELICA_ERR_BAD_PARAM);
    assert_wiped(&chip);
}
END_TEST

/* The worked example of docs/libfelica-secure-channel.md, pinned byte for
 * byte (values cross-checked with an independent CMAC implementation). */
static void assert_hex(const uint8_t *p, size_t len, const char *hex)
{
    char buf[2 * FELICA_MAX_FRAME + 1];
    size_t i;

    ck_assert_uint_eq(len * 2, strlen(hex));
    for (i = 0; i < len; i++)
        snprintf(buf + 2 * i, 3, "%02X", p[i]);
    ck_assert_str_eq(buf, hex);
}

START_TEST(doc_worked_example)
{
    static const uint8_t hc[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    felica_keyset_t keys;
    felica_sc_t host, chip;
    uint8_t a[64], b[64];
    size_t al, bl;

    chip_keys_for(test_idm, &keys);
    assert_hex(keys.enc, 16, "6416A302593E738D5C4B4A423670A7F8");
    assert_hex(keys.mac, 16, "1F45A9CD758CC49803D149AFD51B6304");
    assert_hex(keys.dek, 16, "1E53FC0DAD361DFBD31C219D48D994F1");
    ck_assert_int_eq(felica_sc_host_begin(&host, test_idm, 0x1100, &keys, hc), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_auth1(&host, a, sizeof a, &al), FELICA_OK);
    assert_hex(a, al, "15A0012E4CD3001122333000110001020304050607");
    ck_assert_int_eq(chip_answer_auth1(&chip, &keys, 1, a, al, b, &bl), FELICA_OK);
    assert_hex(b, bl, "22A1012E4CD30011223300003003100ADE11920B40E8CB60A14798F564FAF1000001");
    ck_assert_int_eq(felica_sc_host_auth1_done(&host, b, bl), FELICA_OK);
    assert_hex(host.s_enc, 16, "D8894926AE4DB87218D25FF8B1EEB1A9");
    assert_hex(host.s_mac, 16, "9C37E4E51AB898C5E9C02CD7EB643AAB");
    assert_hex(host.s_rmac, 16, "2B683406B1BF755C373D4ADE53822429");
    ck_assert_int_eq(felica_sc_host_auth2(&host, FELICA_SL_FULL, a, sizeof a, &al), FELICA_OK);
    assert_hex(a, al, "1BA2012E4CD300112233338D9F834ADD032948FD47A00463AF40A4");
    ck_assert_int_eq(felica_sc_chip_auth2(&chip, a, al, b, sizeof b, &bl), FELICA_OK);
    assert_hex(b, bl, "16A3012E4CD300112233000000005927BF36FAD18A57");
    ck_assert_int_eq(felica_sc_host_auth2_done(&host, b, bl), FELICA_OK);
}
END_TEST

static Suite *sc_suite(void)
{
    Suite *s = suite_create("felica_sc");
    TCase *tc = tcase_create("secure_channel");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, full_session_round_trips);
    tcase_add_test(tc, wire_format_matches_spec);
    tcase_add_test(tc, authenticated_error_keeps_channel);
    tcase_add_test(tc, wrong_chip_keys_fail_card_cryptogram);
    tcase_add_test(tc, tampered_host_cryptogram_refused);
    tcase_add_test(tc, every_byte_flip_rejected_and_wipes);
    tcase_add_test(tc, replay_rejected);
    tcase_add_test(tc, reorder_rejected);
    tcase_add_test(tc, card_challenge_bound_to_counter);
    tcase_add_test(tc, low_level_opens_but_refuses_card_data);
    tcase_add_test(tc, unsupported_levels_refused);
    tcase_add_test(tc, error_response_outside_channel);
    tcase_add_test(tc, states_and_counter_limits);
    tcase_add_test(tc, chip_checks_auth1_input);
    tcase_add_test(tc, doc_worked_example);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sc_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
