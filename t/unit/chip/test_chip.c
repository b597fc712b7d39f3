/* test_chip.c: the chip emulator on its own: public commands and their status
 * flags, the secure commands driven by the host side of felica_sc, mode
 * transitions, tampering, replay, the persisted sequence counter and
 * all-or-nothing persistence. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "felica_chip.h"
#include "felica_chip_internal.h"
#include "felica_crypto.h"
#include "felica_frame.h"
#include "felica_image.h"
#include "felica_image_fault.h"
#include "felica_sc.h"
#include "felica_secure_cmd.h"

#define INFO_AREA 0x0040        /* plain read-only, 1 block */
#define PLAIN_AREA 0x0080       /* plain read/write, 2 blocks */
#define KEYED_AREA 0x2000       /* keyed from the start, 4 blocks */
#define NEW_AREA 0x1000         /* created through the system channel */

static const uint8_t IDM[8] = { 0x01, 0x2E, 0x4C, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t PMM[8] = { 0x00, 0xF1, 0x00, 0x00, 0x00, 0x01, 0x43, 0x00 };
static const uint8_t INFO[16] = "idgw test chip 1";

static felica_keyset_t sys_keys, keyed_keys, new_keys;   /* diversified for IDM */
static char tmpdir[256], image_path[300];

static felica_keyset_t master(uint8_t kvn, uint8_t fill)
{
    felica_keyset_t m;
    int i;

    m.kvn = kvn;
    for (i = 0; i < 16; i++) {
        m.enc[i] = (uint8_t)(fill + i);
        m.mac[i] = (uint8_t)(fill + 0x40 + i);
        m.dek[i] = (uint8_t)(fill + 0x80 + i);
    }
    return m;
}

static void setup(void)
{
    felica_keyset_t m;
    const char *base = getenv("TMPDIR");

    m = master(1, 0x00);
    ck_assert_int_eq(felica_keys_diversify(&m, IDM, &sys_keys), FELICA_OK);
    m = master(2, 0x10);
    ck_assert_int_eq(felica_keys_diversify(&m, IDM, &keyed_keys), FELICA_OK);
    m = master(3, 0x20);
    ck_assert_int_eq(felica_keys_diversify(&m, IDM, &new_keys), FELICA_OK);
    snprintf(tmpdir, sizeof(tmpdir), "%s/idgw-chip-XXXXXX", base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(image_path, sizeof(image_path), "%s/chip.img", tmpdir);
}

static void teardown(void)
{
    unlink(image_path);
    rmdir(tmpdir);
}

static void sample_image(felica_image_t *img)
{
    felica_image_init(img, IDM, PMM, 0x88B4);
    ck_assert_int_eq(felica_image_add_keyset(img, FELICA_AREA_SYSTEM, &sys_keys), FELICA_OK);
    ck_assert_int_eq(felica_image_add_area(img, INFO_AREA, FELICA_ACCESS_PLAIN_RO, 1), FELICA_OK);
    memcpy(felica_image_find_area(img, INFO_AREA)->blocks[0], INFO, 16);
    ck_assert_int_eq(felica_image_add_area(img, PLAIN_AREA, FELICA_ACCESS_PLAIN_RW, 2), FELICA_OK);
    ck_assert_int_eq(felica_image_add_area(img, KEYED_AREA, FELICA_ACCESS_KEYED, 4), FELICA_OK);
    ck_assert_int_eq(felica_image_add_keyset(img, KEYED_AREA, &keyed_keys), FELICA_OK);
}

/* A chip in memory (path NULL) or persisted to image_path. */
static felica_chip_t *make_chip(int persisted)
{
    static felica_image_t img;
    felica_chip_t *chip = NULL;

    sample_image(&img);
    if (persisted) {
        ck_assert_int_eq(felica_image_save(image_path, &img), FELICA_OK);
        ck_assert_int_eq(felica_chip_open(image_path, &chip), FELICA_OK);
    } else {
        ck_assert_int_eq(felica_chip_new(&img, NULL, &chip), FELICA_OK);
    }
    return chip;
}

static size_t xchg(felica_chip_t *chip, const uint8_t *cmd, size_t len, uint8_t *resp)
{
    size_t rlen = 99;

    ck_assert_int_eq(felica_chip_process(chip, cmd, len, resp, FELICA_MAX_FRAME, &rlen), FELICA_OK);
    return rlen;
}

/* Build LEN | code | IDm | body. */
static size_t build(uint8_t *pkt, uint8_t code, const uint8_t *idm, const uint8_t *body, size_t n)
{
    pkt[1] = code;
    memcpy(pkt + 2, idm, 8);
    if (n > 0)
        memcpy(pkt + 10, body, n);
    pkt[0] = (uint8_t)(10 + n);
    return 10 + n;
}

static void decode_ok(const uint8_t *resp, size_t len, felica_packet_t *pkt)
{
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(felica_decode(resp, len, pkt), FELICA_OK);
}

/* ---- public commands ---- */

START_TEST(polling)
{
    felica_chip_t *chip = make_chip(0);
    uint8_t cmd[8] = { 6, 0x00, 0xFF, 0xFF, 0x00, 0x00 }, resp[256];
    felica_packet_t p;
    size_t n;

    n = xchg(chip, cmd, 6, resp);
    ck_assert_uint_eq(n, 18);
    decode_ok(resp, n, &p);
    ck_assert_uint_eq(p.code, 0x01);
    ck_assert_mem_eq(p.idm, IDM, 8);
    ck_assert_mem_eq(p.u.polling_res.pmm, PMM, 8);
    ck_assert_int_eq(p.u.polling_res.has_rd, 0);

    cmd[2] = 0x88; cmd[3] = 0xB4; cmd[4] = 0x01;      /* exact system, ask for it */
    n = xchg(chip, cmd, 6, resp);
    decode_ok(resp, n, &p);
    ck_assert_int_eq(p.u.polling_res.has_rd, 1);
    ck_assert_uint_eq(p.u.polling_res.request_data, 0x88B4);

    cmd[3] = 0xFF; cmd[4] = 0x00;                     /* 0x88FF: low byte wildcard */
    ck_assert_uint_eq(xchg(chip, cmd, 6, resp), 18);
    cmd[2] = 0x12; cmd[3] = 0xFC;                     /* another system: silence */
    ck_assert_uint_eq(xchg(chip, cmd, 6, resp), 0);
    cmd[2] = 0xFF; cmd[3] = 0xFF; cmd[5] = 0x02;      /* invalid time slot: silence */
    ck_assert_uint_eq(xchg(chip, cmd, 6, resp), 0);
    cmd[5] = 0x00; cmd[0] = 7;                        /* LEN disagrees: silence */
    ck_assert_uint_eq(xchg(chip, cmd, 6, resp), 0);
    felica_chip_free(chip);
}
END_TEST

START_TEST(request_service_response_system_code)
{
    felica_chip_t *chip = make_chip(0);
    static const uint8_t nodes[] = { 7, 0x00, 0x00, 0x40, 0x00, 0x4B, 0x00, 0x48, 0x00,
                                     0x00, 0x20, 0x08, 0x20, 0x09, 0x20 };
    uint8_t cmd[64], resp[256];
    felica_packet_t p;
    size_t n;

    n = xchg(chip, cmd, build(cmd, 0x02, IDM, nodes, sizeof(nodes)), resp);
    decode_ok(resp, n, &p);
    ck_assert_uint_eq(p.code, 0x03);
    ck_assert_uint_eq(p.u.req_service_res.n, 7);
    ck_assert_uint_eq(p.u.req_service_res.key_version[0], 1);       /* system */
    ck_assert_uint_eq(p.u.req_service_res.key_version[1], 0x0000);  /* plain area */
    ck_assert_uint_eq(p.u.req_service_res.key_version[2], 0x0000);  /* its RO service */
    ck_assert_uint_eq(p.u.req_service_res.key_version[3], 0xFFFF);  /* no keyed service there */
    ck_assert_uint_eq(p.u.req_service_res.key_version[4], 2);       /* keyed area */
    ck_assert_uint_eq(p.u.req_service_res.key_version[5], 2);       /* its RW-with-key service */
    ck_assert_uint_eq(p.u.req_service_res.key_version[6], 0xFFFF);  /* no plain service there */

    n = xchg(chip, cmd, build(cmd, 0x04, IDM, NULL, 0), resp);
    decode_ok(resp, n, &p);
    ck_assert_uint_eq(p.code, 0x05);
    ck_assert_uint_eq(p.u.req_response_res.mode, 0);

    n = xchg(chip, cmd, build(cmd, 0x0C, IDM, NULL, 0), resp);
    decode_ok(resp, n, &p);
    ck_assert_uint_eq(p.code, 0x0D);
    ck_assert_uint_eq(p.u.req_system_res.n, 1);
    ck_assert_uint_eq(p.u.req_system_res.system_code[0], 0x88B4);
    felica_chip_free(chip);
}
END_TEST

/* Read/Write Without Encryption; returns the response length, sf1/sf2 set. */
static size_t plain_rw(felica_chip_t *chip, uint8_t code, const uint8_t *body, size_t n,
                       uint8_t *resp, uint8_t *sf1, uint8_t *sf2)
{
    uint8_t cmd[256];
    size_t len = xchg(chip, cmd, build(cmd, code, IDM, body, n), resp);

    ck_assert_uint_ge(len, 12);
    ck_assert_uint_eq(resp[1], code + 1);
    *sf1 = resp[10];
    *sf2 = resp[11];
    return len;
}

START_TEST(read_without_encryption_status_flags)
{
    felica_chip_t *chip = make_chip(0);
    uint8_t resp[256], sf1, sf2;
    size_t n;
    /* one service 0x004B, one 2-byte element, block 0 */
    const uint8_t ok[] = { 1, 0x4B, 0x00, 1, 0x80, 0x00 };
    const uint8_t no_services[] = { 0 };
    const uint8_t no_blocks[] = { 1, 0x4B, 0x00, 0 };
    const uint8_t bad_index[] = { 1, 0x4B, 0x00, 2, 0x80, 0x00, 0x81, 0x00 };
    const uint8_t unknown[] = { 1, 0x4F, 0x00, 1, 0x80, 0x00 };
    const uint8_t keyed[] = { 2, 0x4B, 0x00, 0x08, 0x20, 2, 0x80, 0x00, 0x81, 0x00 };
    const uint8_t mode[] = { 1, 0x4B, 0x00, 1, 0x90, 0x00 };
    const uint8_t block[] = { 1, 0x4B, 0x00, 2, 0x80, 0x00, 0x00, 0x01, 0x00 };   /* 3-byte elem */
    const uint8_t truncated[] = { 1, 0x4B, 0x00, 1, 0x80 };

    n = plain_rw(chip, 0x06, ok, sizeof(ok), resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 0);
    ck_assert_uint_eq(sf2, 0);
    ck_assert_uint_eq(n, 13 + 16);
    ck_assert_uint_eq(resp[12], 1);
    ck_assert_mem_eq(resp + 13, INFO, 16);

    plain_rw(chip, 0x06, no_services, sizeof(no_services), resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 0xFF);
    ck_assert_uint_eq(sf2, FELICA_SF2_NUM_SERVICES);
    plain_rw(chip, 0x06, no_blocks, sizeof(no_blocks), resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 0xFF);
    ck_assert_uint_eq(sf2, FELICA_SF2_COMMAND);
    n = plain_rw(chip, 0x06, bad_index, sizeof(bad_index), resp, &sf1, &sf2);
    ck_assert_uint_eq(n, 12);                       /* an error carries no blocks */
    ck_assert_uint_eq(sf1, 2);
    ck_assert_uint_eq(sf2, FELICA_SF2_BLOCK_LIST_ORDER);
    plain_rw(chip, 0x06, unknown, sizeof(unknown), resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 1);
    ck_assert_uint_eq(sf2, FELICA_SF2_SERVICE_CODE);
    plain_rw(chip, 0x06, keyed, sizeof(keyed), resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 2);
    ck_assert_uint_eq(sf2, FELICA_SF2_ACCESS);
    plain_rw(chip, 0x06, mode, sizeof(mode), resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 1);
    ck_assert_uint_eq(sf2, FELICA_SF2_BLOCK_LIST_MODE);
    plain_rw(chip, 0x06, block, sizeof(block), resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 2);
    ck_assert_uint_eq(sf2, FELICA_SF2_BLOCK_NUMBER);
    {
        uint8_t cmd[64];
        ck_assert_uint_eq(xchg(chip, cmd, build(cmd, 0x06, IDM, truncated, sizeof(truncated)), resp), 0);
    }
    felica_chip_free(chip);
}
END_TEST

START_TEST(write_without_encryption)
{
    felica_chip_t *chip = make_chip(1), *again = NULL;
    uint8_t body[64], resp[256], sf1, sf2;
    const uint8_t read_both[] = { 1, 0x8B, 0x00, 2, 0x80, 0x00, 0x80, 0x01 };
    const uint8_t ro_write[] = { 1, 0x4B, 0x00, 1, 0x80, 0x00 };
    size_t n;

    /* service 0x0089 (RW without key), blocks 0 and 1 */
    memcpy(body, (const uint8_t[]){ 1, 0x89, 0x00, 2, 0x80, 0x00, 0x80, 0x01 }, 8);
    memset(body + 8, 0xAB, 16);
    memset(body + 24, 0xCD, 16);
    plain_rw(chip, 0x08, body, 40, resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 0);
    ck_assert_uint_eq(sf2, 0);
    n = plain_rw(chip, 0x06, read_both, sizeof(read_both), resp, &sf1, &sf2);
    ck_assert_uint_eq(n, 13 + 32);
    ck_assert_uint_eq(resp[13], 0xAB);
    ck_assert_uint_eq(resp[13 + 16], 0xCD);

    /* persisted: a reloaded chip has the data */
    ck_assert_int_eq(felica_chip_open(image_path, &again), FELICA_OK);
    ck_assert_uint_eq(felica_image_find_area_const(felica_chip_image(again), PLAIN_AREA)->blocks[1][0],
                      0xCD);
    felica_chip_free(again);

    /* the read-only info service refuses writes; element 2 out of range refuses all */
    memcpy(body, ro_write, sizeof(ro_write));
    memset(body + sizeof(ro_write), 0, 16);
    plain_rw(chip, 0x08, body, sizeof(ro_write) + 16, resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 1);
    ck_assert_uint_eq(sf2, FELICA_SF2_ACCESS);
    memcpy(body, (const uint8_t[]){ 1, 0x89, 0x00, 2, 0x80, 0x00, 0x80, 0x02 }, 8);
    memset(body + 8, 0x11, 32);
    plain_rw(chip, 0x08, body, 40, resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 2);
    ck_assert_uint_eq(sf2, FELICA_SF2_BLOCK_NUMBER);
    ck_assert_uint_eq(felica_image_find_area_const(felica_chip_image(chip), PLAIN_AREA)->blocks[0][0],
                      0xAB);
    felica_chip_free(chip);
}
END_TEST

START_TEST(wrong_idm_and_garbage_are_silent)
{
    felica_chip_t *chip = make_chip(0);
    uint8_t other[8], cmd[256], resp[256];
    uint32_t x = 12345;
    size_t len, i;
    int round;

    memcpy(other, IDM, 8);
    other[7] ^= 1;
    ck_assert_uint_eq(xchg(chip, cmd, build(cmd, 0x04, other, NULL, 0), resp), 0);
    ck_assert_uint_eq(xchg(chip, cmd, build(cmd, 0x0C, other, NULL, 0), resp), 0);
    ck_assert_uint_eq(xchg(chip, cmd, build(cmd, 0x05, IDM, (const uint8_t[]){ 0 }, 1), resp), 0);
    ck_assert_uint_eq(xchg(chip, cmd, build(cmd, 0x40, IDM, NULL, 0), resp), 0);
    ck_assert_uint_eq(xchg(chip, cmd, 0, resp), 0);
    /* hostile bytes with a correct LEN and this IDm: never a crash, never a
     * response longer than a frame */
    for (round = 0; round < 20000; round++) {
        x = x * 1103515245u + 12345u;
        len = 10 + (x >> 16) % 40;
        for (i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            cmd[i] = (uint8_t)(x >> 16);
        }
        build(cmd, cmd[1] & 0x0E, IDM, cmd + 10, len - 10);
        if (round % 3 == 0)
            cmd[1] = (uint8_t)(0xA0 + (cmd[11] & 0x0E));
        ck_assert_uint_le(xchg(chip, cmd, len, resp), FELICA_MAX_FRAME);
    }
    felica_chip_free(chip);
}
END_TEST

/* ---- the secure channel ---- */

/* Auth1 + Auth2 at the given level; returns the Auth1 answer's card challenge. */
static void authenticate_level(felica_chip_t *chip, felica_sc_t *sc, uint16_t area,
                               const felica_keyset_t *keys, uint8_t level, uint8_t cc[8])
{
    uint8_t cmd[256], resp[256];
    felica_packet_t p;
    size_t len = 0, n;

    ck_assert_int_eq(felica_sc_host_begin(sc, IDM, area, keys, NULL), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_auth1(sc, cmd, sizeof(cmd), &len), FELICA_OK);
    n = xchg(chip, cmd, len, resp);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_1);
    decode_ok(resp, n, &p);
    if (cc != NULL)
        memcpy(cc, p.u.auth1_res.card_challenge, 8);
    ck_assert_int_eq(felica_sc_host_auth1_done(sc, resp, n), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_auth2(sc, level, cmd, sizeof(cmd), &len), FELICA_OK);
    n = xchg(chip, cmd, len, resp);
    ck_assert_int_eq(felica_sc_host_auth2_done(sc, resp, n), FELICA_OK);
    ck_assert_int_eq(felica_chip_mode(chip),
                     area == FELICA_AREA_SYSTEM ? FELICA_MODE_3 : FELICA_MODE_2);
}

static void authenticate(felica_chip_t *chip, felica_sc_t *sc, uint16_t area,
                         const felica_keyset_t *keys)
{
    authenticate_level(chip, sc, area, keys, FELICA_SL_FULL, NULL);
}

/* One secure command; returns felica_sc_host_unwrap's result. */
static int secure(felica_chip_t *chip, felica_sc_t *sc, uint8_t code,
                  const uint8_t *payload, size_t plen, uint8_t *out, size_t *out_len,
                  uint8_t *sf1, uint8_t *sf2)
{
    uint8_t cmd[256], resp[256], scratch[256];
    size_t len = 0, n, dummy = 0;

    ck_assert_int_eq(felica_sc_host_wrap(sc, code, payload, plen, cmd, sizeof(cmd), &len), FELICA_OK);
    n = xchg(chip, cmd, len, resp);
    ck_assert_uint_gt(n, 0);
    *sf1 = *sf2 = 0;
    return felica_sc_host_unwrap(sc, resp, n, out ? out : scratch, sizeof(scratch),
                                 out_len ? out_len : &dummy, sf1, sf2);
}

static size_t create_area_payload(uint16_t area, uint16_t n_blocks, const felica_keyset_t *k,
                                  int break_kcv, uint8_t *out)
{
    felica_create_area_t ca;
    size_t len = 0;

    memset(&ca, 0, sizeof(ca));
    ca.area = area;
    ca.n_blocks = n_blocks;
    ca.kvn = k->kvn;
    ck_assert_int_eq(felica_key_wrap(sys_keys.dek, k->enc, ca.wrapped_enc), FELICA_OK);
    ck_assert_int_eq(felica_key_wrap(sys_keys.dek, k->mac, ca.wrapped_mac), FELICA_OK);
    ck_assert_int_eq(felica_key_wrap(sys_keys.dek, k->dek, ca.wrapped_dek), FELICA_OK);
    ck_assert_int_eq(felica_kcv(k->enc, ca.kcv_enc), FELICA_OK);
    ck_assert_int_eq(felica_kcv(k->mac, ca.kcv_mac), FELICA_OK);
    ck_assert_int_eq(felica_kcv(k->dek, ca.kcv_dek), FELICA_OK);
    if (break_kcv)
        ca.kcv_dek[2] ^= 1;
    ck_assert_int_eq(felica_create_area_encode(&ca, out, 128, &len), FELICA_OK);
    return len;
}

static size_t rw_payload(uint8_t code, uint16_t area, uint8_t n, uint16_t first, uint8_t fill,
                         uint8_t *out)
{
    felica_secure_rw_t rw;
    size_t len = 0;
    uint8_t i;

    memset(&rw, 0, sizeof(rw));
    rw.area = area;
    rw.n = n;
    for (i = 0; i < n; i++) {
        rw.block[i] = (uint16_t)(first + i);
        memset(rw.data[i], fill + i, FELICA_BLOCK_LEN);
    }
    if (code == FELICA_CMD_SECURE_READ)
        ck_assert_int_eq(felica_secure_read_encode(&rw, out, 256, &len), FELICA_OK);
    else
        ck_assert_int_eq(felica_secure_write_encode(&rw, out, 256, &len), FELICA_OK);
    return len;
}

START_TEST(create_write_read_delete)
{
    felica_chip_t *chip = make_chip(1), *again = NULL;
    felica_sc_t sc;
    uint8_t payload[256], out[256], sf1, sf2;
    felica_secure_rw_t res;
    size_t len, out_len = 0;
    uint8_t i;

    authenticate(chip, &sc, FELICA_AREA_SYSTEM, &sys_keys);
    len = create_area_payload(NEW_AREA, 6, &new_keys, 0, payload);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_CREATE_AREA, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_OK);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_3);
    /* again: exists (inside the channel, session kept) */
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_CREATE_AREA, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf2, FELICA_SF2_SERVICE_EXISTS);
    /* a wrong key check value: refused, nothing created */
    len = create_area_payload(0x3000, 2, &new_keys, 1, payload);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_CREATE_AREA, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf2, FELICA_SF2_KEY_CHANGE);
    ck_assert_ptr_null(felica_image_find_area_const(felica_chip_image(chip), 0x3000));
    /* the block budget: 1024 - 13 used = 1011 left, an area holds at most 256 */
    len = create_area_payload(0x3000, 256, &new_keys, 0, payload);
    for (i = 0; i < 3; i++) {
        payload[0] = 0x00;
        payload[1] = (uint8_t)(0x30 + 0x10 * i);
        ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_CREATE_AREA, payload, len, NULL, NULL,
                                &sf1, &sf2), FELICA_OK);
    }
    payload[1] = 0x60;
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_CREATE_AREA, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf2, FELICA_SF2_PARAM);

    /* write 5 blocks in the new area through its own channel, read them back */
    authenticate(chip, &sc, NEW_AREA, &new_keys);
    len = rw_payload(FELICA_CMD_SECURE_WRITE, NEW_AREA, 5, 1, 0x70, payload);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_SECURE_WRITE, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_OK);
    len = rw_payload(FELICA_CMD_SECURE_READ, NEW_AREA, 5, 1, 0, payload);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_SECURE_READ, payload, len, out, &out_len, &sf1, &sf2),
                     FELICA_OK);
    ck_assert_int_eq(felica_secure_read_res_decode(out, out_len, &res), FELICA_OK);
    ck_assert_uint_eq(res.n, 5);
    for (i = 0; i < 5; i++)
        ck_assert_uint_eq(res.data[i][15], 0x70 + i);
    /* block 6 of a 6-block area: element 2 out of range, in the channel */
    len = rw_payload(FELICA_CMD_SECURE_READ, NEW_AREA, 2, 5, 0, payload);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_SECURE_READ, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf1, 2);
    ck_assert_uint_eq(sf2, FELICA_SF2_BLOCK_NUMBER);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_2);

    /* persisted: the reloaded chip has the area, its keys and its data */
    ck_assert_int_eq(felica_chip_open(image_path, &again), FELICA_OK);
    ck_assert_ptr_nonnull(felica_image_find_keyset(felica_chip_image(again), NEW_AREA, 3));
    ck_assert_uint_eq(felica_image_find_area_const(felica_chip_image(again), NEW_AREA)->blocks[5][0],
                      0x74);
    felica_chip_free(again);

    /* delete through the system channel; the area's keys are gone too */
    authenticate(chip, &sc, FELICA_AREA_SYSTEM, &sys_keys);
    ck_assert_int_eq(felica_delete_area_encode(NEW_AREA, payload, sizeof(payload), &len), FELICA_OK);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_DELETE_AREA, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_OK);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_DELETE_AREA, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf2, FELICA_SF2_SERVICE_CODE);
    ck_assert_ptr_null(felica_image_find_keyset(felica_chip_image(chip), NEW_AREA, 3));
    {
        uint8_t cmd[64], resp[64];
        felica_packet_t p;
        ck_assert_int_eq(felica_sc_host_begin(&sc, IDM, NEW_AREA, &new_keys, NULL), FELICA_OK);
        ck_assert_int_eq(felica_sc_host_auth1(&sc, cmd, sizeof(cmd), &len), FELICA_OK);
        len = xchg(chip, cmd, len, resp);
        decode_ok(resp, len, &p);
        ck_assert_uint_eq(p.u.auth1_res.sf1, 0xFF);
        ck_assert_uint_eq(p.u.auth1_res.sf2, FELICA_SF2_SERVICE_CODE);
        ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    }
    felica_chip_free(chip);
}
END_TEST

/* The out-of-channel error: LEN 12, code + 1, SF1 0xFF, the given SF2. */
static void assert_error_answer(const uint8_t *resp, size_t n, uint8_t code, uint8_t sf2)
{
    ck_assert_uint_eq(n, 12);
    ck_assert_uint_eq(resp[1], code + 1);
    ck_assert_uint_eq(resp[10], 0xFF);
    ck_assert_uint_eq(resp[11], sf2);
}

START_TEST(mode_rules)
{
    felica_chip_t *chip = make_chip(0);
    felica_sc_t sc, other;
    uint8_t cmd[256], resp[256], payload[256], sf1, sf2;
    size_t len = 0, n;

    /* Auth2 without Auth1 */
    authenticate(chip, &sc, KEYED_AREA, &keyed_keys);
    felica_chip_reset(chip);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    ck_assert_int_eq(felica_sc_host_begin(&other, IDM, KEYED_AREA, &keyed_keys, NULL), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_auth1(&other, cmd, sizeof(cmd), &len), FELICA_OK);
    n = xchg(chip, cmd, len, resp);
    ck_assert_int_eq(felica_sc_host_auth1_done(&other, resp, n), FELICA_OK);
    felica_chip_reset(chip);
    ck_assert_int_eq(felica_sc_host_auth2(&other, FELICA_SL_FULL, cmd, sizeof(cmd), &len), FELICA_OK);
    n = xchg(chip, cmd, len, resp);
    assert_error_answer(resp, n, FELICA_CMD_AUTH2, FELICA_SF2_MODE);

    /* a secure command in Mode 0 (the old session's next command) */
    len = rw_payload(FELICA_CMD_SECURE_READ, KEYED_AREA, 1, 0, 0, payload);
    ck_assert_int_eq(felica_sc_host_wrap(&sc, FELICA_CMD_SECURE_READ, payload, len, cmd, sizeof(cmd), &len),
                     FELICA_OK);
    n = xchg(chip, cmd, len, resp);
    assert_error_answer(resp, n, FELICA_CMD_SECURE_READ, FELICA_SF2_MODE);

    /* Create Area in an area channel: refused, Mode 0 */
    authenticate(chip, &sc, KEYED_AREA, &keyed_keys);
    len = create_area_payload(NEW_AREA, 2, &new_keys, 0, payload);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_CREATE_AREA, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf2, FELICA_SF2_MODE);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);

    /* Secure Read of another area in an area channel: refused, Mode 0 */
    authenticate(chip, &sc, KEYED_AREA, &keyed_keys);
    len = rw_payload(FELICA_CMD_SECURE_READ, PLAIN_AREA, 1, 0, 0, payload);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_SECURE_READ, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf2, FELICA_SF2_ACCESS);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);

    /* Secure Write in the system channel: refused, Mode 0 */
    authenticate(chip, &sc, FELICA_AREA_SYSTEM, &sys_keys);
    len = rw_payload(FELICA_CMD_SECURE_WRITE, KEYED_AREA, 1, 0, 0x42, payload);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_SECURE_WRITE, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf2, FELICA_SF2_ACCESS);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    ck_assert_uint_eq(felica_image_find_area_const(felica_chip_image(chip), KEYED_AREA)->blocks[0][0], 0);

    /* Polling ends a session */
    authenticate(chip, &sc, KEYED_AREA, &keyed_keys);
    n = xchg(chip, (const uint8_t[]){ 6, 0x00, 0xFF, 0xFF, 0x00, 0x00 }, 6, resp);
    ck_assert_uint_eq(n, 18);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);

    /* unknown KVN and a plain area cannot authenticate */
    {
        felica_keyset_t wrong = keyed_keys;
        felica_packet_t p;
        wrong.kvn = 9;
        ck_assert_int_eq(felica_sc_host_begin(&other, IDM, KEYED_AREA, &wrong, NULL), FELICA_OK);
        ck_assert_int_eq(felica_sc_host_auth1(&other, cmd, sizeof(cmd), &len), FELICA_OK);
        n = xchg(chip, cmd, len, resp);
        decode_ok(resp, n, &p);
        ck_assert_uint_eq(p.u.auth1_res.sf2, FELICA_SF2_PARAM);
        ck_assert_int_eq(felica_sc_host_begin(&other, IDM, PLAIN_AREA, &keyed_keys, NULL), FELICA_OK);
        ck_assert_int_eq(felica_sc_host_auth1(&other, cmd, sizeof(cmd), &len), FELICA_OK);
        n = xchg(chip, cmd, len, resp);
        decode_ok(resp, n, &p);
        ck_assert_uint_eq(p.u.auth1_res.sf2, FELICA_SF2_SERVICE_CODE);
        ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    }
    felica_chip_free(chip);
}
END_TEST

START_TEST(security_level_too_low)
{
    felica_chip_t *chip = make_chip(0);
    felica_sc_t sc;
    uint8_t payload[256], sf1, sf2;
    size_t len;

    authenticate_level(chip, &sc, KEYED_AREA, &keyed_keys, FELICA_SL_CMAC | FELICA_SL_RMAC, NULL);
    len = rw_payload(FELICA_CMD_SECURE_READ, KEYED_AREA, 1, 0, 0, payload);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_SECURE_READ, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf2, FELICA_SF2_SECURITY_LEVEL);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    felica_chip_free(chip);
}
END_TEST

/* Every single-byte change after the IDm of a Secure Write: an error answer
 * outside the channel, Mode 0, the data untouched. */
START_TEST(flipped_byte_in_secure_write)
{
    felica_chip_t *chip = make_chip(0);
    felica_sc_t sc;
    uint8_t cmd[256], resp[256], payload[256];
    const felica_area_state_t *a;
    size_t len = 0, plen, pos, n;

    plen = rw_payload(FELICA_CMD_SECURE_WRITE, KEYED_AREA, 2, 0, 0x99, payload);
    for (pos = 10; pos < 10 + 2 + 48 + 8; pos++) {
        authenticate(chip, &sc, KEYED_AREA, &keyed_keys);
        ck_assert_int_eq(felica_sc_host_wrap(&sc, FELICA_CMD_SECURE_WRITE, payload, plen,
                                             cmd, sizeof(cmd), &len), FELICA_OK);
        ck_assert_uint_gt(len, pos);
        cmd[pos] ^= 0x01;
        n = xchg(chip, cmd, len, resp);
        ck_assert_uint_eq(n, 12);
        ck_assert_uint_eq(resp[10], 0xFF);
        ck_assert_msg(resp[11] == FELICA_SF2_AUTH || resp[11] == FELICA_SF2_SEQUENCE,
                      "pos %zu: sf2 %02x", pos, resp[11]);
        ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
        a = felica_image_find_area_const(felica_chip_image(chip), KEYED_AREA);
        ck_assert_uint_eq(a->blocks[0][0], 0);
        ck_assert_uint_eq(a->blocks[1][0], 0);
    }
    /* a changed IDm is another chip's business: silence */
    authenticate(chip, &sc, KEYED_AREA, &keyed_keys);
    ck_assert_int_eq(felica_sc_host_wrap(&sc, FELICA_CMD_SECURE_WRITE, payload, plen, cmd, sizeof(cmd), &len),
                     FELICA_OK);
    cmd[5] ^= 0x80;
    ck_assert_uint_eq(xchg(chip, cmd, len, resp), 0);
    /* a truncated secure command: silence and the session is gone */
    cmd[5] ^= 0x80;
    cmd[0] = (uint8_t)(len - 1);
    ck_assert_uint_eq(xchg(chip, cmd, len - 1, resp), 0);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    felica_chip_free(chip);
}
END_TEST

START_TEST(replay_refused)
{
    felica_chip_t *chip = make_chip(0);
    felica_sc_t sc;
    uint8_t cmd[256], resp[256], payload[256], sf1 = 0, sf2 = 0, out[64];
    size_t len = 0, plen, n, out_len = 0;

    authenticate(chip, &sc, KEYED_AREA, &keyed_keys);
    plen = rw_payload(FELICA_CMD_SECURE_WRITE, KEYED_AREA, 1, 0, 0x10, payload);
    ck_assert_int_eq(felica_sc_host_wrap(&sc, FELICA_CMD_SECURE_WRITE, payload, plen, cmd, sizeof(cmd), &len),
                     FELICA_OK);
    n = xchg(chip, cmd, len, resp);
    ck_assert_int_eq(felica_sc_host_unwrap(&sc, resp, n, out, sizeof(out), &out_len, &sf1, &sf2), FELICA_OK);
    /* the same packet again, same session: counter out of sequence */
    n = xchg(chip, cmd, len, resp);
    assert_error_answer(resp, n, FELICA_CMD_SECURE_WRITE, FELICA_SF2_SEQUENCE);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    /* ... and in a fresh session: the MAC chain differs */
    authenticate(chip, &sc, KEYED_AREA, &keyed_keys);
    n = xchg(chip, cmd, len, resp);
    assert_error_answer(resp, n, FELICA_CMD_SECURE_WRITE, FELICA_SF2_AUTH);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    felica_chip_free(chip);
}
END_TEST

START_TEST(sequence_counter_persisted)
{
    felica_chip_t *chip = make_chip(1);
    felica_sc_t sc;
    uint8_t cc1[8], cc2[8];
    uint32_t seq;

    authenticate_level(chip, &sc, KEYED_AREA, &keyed_keys, FELICA_SL_FULL, cc1);
    seq = felica_chip_image(chip)->seq_counter;
    ck_assert_uint_eq(seq, 1);
    felica_chip_free(chip);
    ck_assert_int_eq(felica_chip_open(image_path, &chip), FELICA_OK);
    ck_assert_uint_eq(felica_chip_image(chip)->seq_counter, seq);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    authenticate_level(chip, &sc, KEYED_AREA, &keyed_keys, FELICA_SL_FULL, cc2);
    ck_assert_uint_eq(felica_chip_image(chip)->seq_counter, seq + 1);
    ck_assert_mem_ne(cc1, cc2, 8);
    felica_chip_free(chip);
}
END_TEST

START_TEST(sequence_counter_exhausted)
{
    static felica_image_t img;
    felica_chip_t *chip = NULL;
    felica_sc_t sc;
    uint8_t cmd[64], resp[64];
    size_t len = 0, n;

    sample_image(&img);
    img.seq_counter = FELICA_CHIP_SEQ_MAX - 1;
    ck_assert_int_eq(felica_chip_new(&img, NULL, &chip), FELICA_OK);
    authenticate(chip, &sc, KEYED_AREA, &keyed_keys);       /* uses 0xFFFFFF */
    ck_assert_uint_eq(felica_chip_image(chip)->seq_counter, FELICA_CHIP_SEQ_MAX);
    ck_assert_int_eq(felica_sc_host_begin(&sc, IDM, KEYED_AREA, &keyed_keys, NULL), FELICA_OK);
    ck_assert_int_eq(felica_sc_host_auth1(&sc, cmd, sizeof(cmd), &len), FELICA_OK);
    n = xchg(chip, cmd, len, resp);
    assert_error_answer(resp, n, FELICA_CMD_AUTH1, FELICA_SF2_SEQUENCE);
    ck_assert_uint_eq(felica_chip_image(chip)->seq_counter, FELICA_CHIP_SEQ_MAX);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    felica_chip_free(chip);
}
END_TEST

/* The whole image file, for byte-exact comparisons. */
static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* A write whose persistence fails changes neither the chip nor the file. */
START_TEST(failed_persistence_changes_nothing)
{
    static uint8_t file_before[FELICA_IMAGE_MAX_LEN], file_after[FELICA_IMAGE_MAX_LEN];
    size_t flen_before, flen_after;
    felica_chip_t *chip = make_chip(1);
    felica_image_fault_t fault = { -1, 0, 0 };   /* every write fails at once */
    static felica_image_t before, on_disk;
    felica_sc_t sc;
    uint8_t payload[256], resp[256], body[64], sf1, sf2;
    size_t len;

    authenticate(chip, &sc, KEYED_AREA, &keyed_keys);
    before = *felica_chip_image(chip);
    flen_before = slurp(image_path, file_before, sizeof(file_before));
    felica_chip_set_fault(chip, &fault);
    len = rw_payload(FELICA_CMD_SECURE_WRITE, KEYED_AREA, 3, 0, 0x5C, payload);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_SECURE_WRITE, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_ERR_STATUS);
    ck_assert_uint_eq(sf1, 0xFF);
    ck_assert_uint_eq(sf2, FELICA_SF2_WRITE_FAILED);
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_2);   /* authentic: session kept */
    ck_assert_mem_eq(felica_chip_image(chip), &before, sizeof(before));
    ck_assert_int_eq(felica_image_load(image_path, &on_disk), FELICA_OK);
    ck_assert_uint_eq(on_disk.seq_counter, before.seq_counter);
    ck_assert_mem_eq(felica_image_find_area(&on_disk, KEYED_AREA)->blocks,
                     felica_image_find_area(&before, KEYED_AREA)->blocks, 4 * 16);

    /* plain Write: 0xFF / 0xA9, data unchanged */
    memcpy(body, (const uint8_t[]){ 1, 0x89, 0x00, 1, 0x80, 0x00 }, 6);
    memset(body + 6, 0xEE, 16);
    plain_rw(chip, 0x08, body, 22, resp, &sf1, &sf2);
    ck_assert_uint_eq(sf1, 0xFF);
    ck_assert_uint_eq(sf2, FELICA_SF2_WRITE_FAILED);
    ck_assert_mem_eq(felica_chip_image(chip), &before, sizeof(before));

    /* Auth1 cannot spend a counter it cannot persist: refused, counter kept */
    {
        uint8_t cmd[64];
        size_t n = 0;
        ck_assert_int_eq(felica_sc_host_begin(&sc, IDM, KEYED_AREA, &keyed_keys, NULL), FELICA_OK);
        ck_assert_int_eq(felica_sc_host_auth1(&sc, cmd, sizeof(cmd), &n), FELICA_OK);
        n = xchg(chip, cmd, n, resp);
        assert_error_answer(resp, n, FELICA_CMD_AUTH1, FELICA_SF2_WRITE_FAILED);
        ck_assert_uint_eq(felica_chip_image(chip)->seq_counter, before.seq_counter);
    }
    /* the file is byte for byte what it was */
    flen_after = slurp(image_path, file_after, sizeof(file_after));
    ck_assert_uint_eq(flen_after, flen_before);
    ck_assert_mem_eq(file_after, file_before, flen_before);
    felica_chip_set_fault(chip, NULL);
    authenticate(chip, &sc, KEYED_AREA, &keyed_keys);
    ck_assert_int_eq(secure(chip, &sc, FELICA_CMD_SECURE_WRITE, payload, len, NULL, NULL, &sf1, &sf2),
                     FELICA_OK);
    ck_assert_uint_eq(felica_image_find_area_const(felica_chip_image(chip), KEYED_AREA)->blocks[2][0], 0x5E);
    felica_chip_free(chip);
}
END_TEST

START_TEST(bad_arguments)
{
    felica_chip_t *chip = make_chip(0), *none = NULL;
    uint8_t resp[256];
    size_t n = 0;
    static felica_image_t img;

    ck_assert_int_eq(felica_chip_process(chip, NULL, 0, resp, sizeof(resp), &n), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_chip_process(chip, resp, 1, resp, 100, &n), FELICA_ERR_BAD_PARAM);
    sample_image(&img);
    img.seq_counter = FELICA_CHIP_SEQ_MAX + 1;
    ck_assert_int_eq(felica_chip_new(&img, NULL, &none), FELICA_ERR_CORRUPT);
    ck_assert_ptr_null(none);
    ck_assert_int_eq(felica_chip_open("/nonexistent/chip.img", &none), FELICA_ERR_NOT_FOUND);
    felica_chip_free(chip);
}
END_TEST

static Suite *chip_suite(void)
{
    Suite *s = suite_create("chip");
    TCase *pub = tcase_create("public"), *sec = tcase_create("secure");

    tcase_add_checked_fixture(pub, setup, teardown);
    tcase_add_test(pub, polling);
    tcase_add_test(pub, request_service_response_system_code);
    tcase_add_test(pub, read_without_encryption_status_flags);
    tcase_add_test(pub, write_without_encryption);
    tcase_add_test(pub, wrong_idm_and_garbage_are_silent);
    tcase_add_test(pub, bad_arguments);
    suite_add_tcase(s, pub);

    tcase_add_checked_fixture(sec, setup, teardown);
    tcase_set_timeout(sec, 30);
    tcase_add_test(sec, create_write_read_delete);
    tcase_add_test(sec, mode_rules);
    tcase_add_test(sec, security_level_too_low);
    tcase_add_test(sec, flipped_byte_in_secure_write);
    tcase_add_test(sec, replay_refused);
    tcase_add_test(sec, sequence_counter_persisted);
    tcase_add_test(sec, sequence_counter_exhausted);
    tcase_add_test(sec, failed_persistence_changes_nothing);
    suite_add_tcase(s, sec);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(chip_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
