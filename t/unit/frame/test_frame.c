/* test_frame.c: the FeliCa frame codec against the example packets of
 * docs/libfelica.md (same hex), every truncation of each, and the limits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "felica_frame.h"

/* Example packets: the same hex as docs/libfelica.md and t/fuzz/corpus/frame/. */
#define IDM "012e4cd2b3a5c0f1"
#define PMM "0120220427674eff"
#define DATA1 "00112233445566778899aabbccddeeff"
#define DATA2 "4944475720626c6f636b2030312e2e2e"
#define HOST_CHAL "1122334455667788"
#define CARD_CHAL "c1c2c3c4c5c6c7c8"
#define CARD_CRYPT "9a8b7c6d5e4f3021"
#define HOST_CRYPT "0f1e2d3c4b5a6978"
#define CMAC "5c0e8d77a1f2b3c4"
#define RMAC "d4c3b2a1f0e9d8c7"
#define ENC_A "3f8a27c1e5d0946b1a7e52c8fd03b691"
#define ENC_B "72c9e0a4d5816f3b2e9c07a1548bf6d3"
#define ENC_C "8e1f6a0c3d2b5e7f91a4c6d8e0f2b4c6"
#define ENC_D "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

typedef struct vector {
    const char *name;
    const char *hex;
    /* Shorter lengths at which a LEN-rewritten prefix is itself well formed:
     * the envelopes delimited by LEN alone (optional Polling request data,
     * secure payloads of fewer blocks).  The secure MAC catches those. */
    size_t also_valid[3];
    size_t n_also_valid;
    int trailing_err;               /* one extra byte, LEN rewritten */
} vector_t;

static const vector_t vectors[] = {
    { "POLLING", "06" "00" "88b4" "01" "03",
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "POLLING_RES", "12" "01" IDM PMM,
      { 0 }, 0, FELICA_ERR_TRUNCATED },
    { "POLLING_RES_RD", "14" "01" IDM PMM "88b4",
      { 18 }, 1, FELICA_ERR_LEN_MISMATCH },
    { "REQ_SERVICE", "0f" "02" IDM "02" "0000" "0b10",
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "REQ_SERVICE_RES", "0f" "03" IDM "02" "0000" "ffff",
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "REQ_RESPONSE", "0a" "04" IDM,
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "REQ_RESPONSE_RES", "0b" "05" IDM "00",
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "READ", "15" "06" IDM "02" "0b10" "0910" "02" "8000" "010201",
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "READ_RES", "2d" "07" IDM "00" "00" "02" DATA1 DATA2,
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "READ_RES_ERR", "0c" "07" IDM "01" "a8",
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "WRITE", "20" "08" IDM "01" "0910" "01" "8003" DATA2,
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "WRITE_RES", "0c" "09" IDM "00" "00",
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "REQ_SYSTEM", "0a" "0c" IDM,
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "REQ_SYSTEM_RES", "0f" "0d" IDM "02" "fe00" "88b4",
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "AUTH1", "15" "a0" IDM "01" "ffff" HOST_CHAL,
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "AUTH1_RES", "22" "a1" IDM "00" "00" "01" "03" "10" CARD_CHAL CARD_CRYPT "000005",
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "AUTH1_RES_ERR", "0c" "a1" IDM "ff" "c0",
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "AUTH2", "1b" "a2" IDM "33" HOST_CRYPT CMAC,
      { 0 }, 0, FELICA_ERR_LEN_MISMATCH },
    { "AUTH2_RES", "16" "a3" IDM "00" "00" "0000" RMAC,
      { 0 }, 0, FELICA_ERR_TRUNCATED },
    { "SECURE_READ", "24" "a4" IDM "0001" ENC_A CMAC,
      { 0 }, 0, FELICA_ERR_TRUNCATED },
    { "SECURE_READ_RES", "36" "a5" IDM "00" "00" "0001" ENC_A ENC_B RMAC,
      { 22, 38 }, 2, FELICA_ERR_TRUNCATED },
    { "SECURE_WRITE", "34" "a6" IDM "0002" ENC_A ENC_B CMAC,
      { 36 }, 1, FELICA_ERR_TRUNCATED },
    { "SECURE_WRITE_RES", "26" "a7" IDM "00" "00" "0002" ENC_A RMAC,
      { 22 }, 1, FELICA_ERR_TRUNCATED },
    { "CREATE_AREA", "54" "a8" IDM "0001" ENC_A ENC_B ENC_C ENC_D CMAC,
      { 36, 52, 68 }, 3, FELICA_ERR_TRUNCATED },
    { "CREATE_AREA_RES", "26" "a9" IDM "00" "00" "0001" ENC_B RMAC,
      { 22 }, 1, FELICA_ERR_TRUNCATED },
    { "DELETE_AREA", "24" "aa" IDM "0002" ENC_B CMAC,
      { 0 }, 0, FELICA_ERR_TRUNCATED },
    { "DELETE_AREA_RES", "0c" "ab" IDM "ff" "c0",
      { 0 }, 0, FELICA_ERR_TRUNCATED },
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;

    ck_assert_uint_eq(strlen(hex) % 2, 0);
    ck_assert_uint_le(n, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static int decode_hex(const char *hex, felica_packet_t *p)
{
    uint8_t b[512];
    size_t n = unhex(hex, b, sizeof(b));
    return felica_decode(b, n, p);
}

static const uint8_t idm[8] = { 0x01, 0x2e, 0x4c, 0xd2, 0xb3, 0xa5, 0xc0, 0xf1 };

/* ---- round trips ---- */

START_TEST(vector_round_trip)
{
    const vector_t *v = &vectors[_i];
    uint8_t in[300], out[300];
    size_t n = unhex(v->hex, in, sizeof(in)), olen = 0;
    felica_packet_t p, q;

    ck_assert_msg(felica_decode(in, n, &p) == FELICA_OK, "%s does not decode", v->name);
    ck_assert_uint_eq(p.code, in[1]);
    /* encode(decode(bytes)) == bytes */
    ck_assert_int_eq(felica_encode(&p, out, sizeof(out), &olen), FELICA_OK);
    ck_assert_uint_eq(olen, n);
    ck_assert_msg(memcmp(out, in, n) == 0, "%s re-encodes differently", v->name);
    /* decode(encode(x)) == x */
    ck_assert_int_eq(felica_decode(out, olen, &q), FELICA_OK);
    ck_assert_msg(memcmp(&p, &q, sizeof(p)) == 0, "%s decodes differently", v->name);
    /* an exact-size buffer is enough, one byte less is not */
    ck_assert_int_eq(felica_encode(&p, out, n, &olen), FELICA_OK);
    ck_assert_int_eq(felica_encode(&p, out, n - 1, &olen), FELICA_ERR_BUFFER);
}
END_TEST

START_TEST(every_code_has_a_vector)
{
    for (unsigned c = 0; c < 256; c++) {
        int found = 0;
        if (felica_code_name((uint8_t)c) == NULL)
            continue;
        for (size_t i = 0; i < N_VECTORS; i++) {
            uint8_t b[300];
            unhex(vectors[i].hex, b, sizeof(b));
            found |= b[1] == c;
        }
        ck_assert_msg(found, "no example packet for code 0x%02x", c);
    }
}
END_TEST

START_TEST(struct_round_trip)
{
    felica_packet_t x, y;
    uint8_t b[300];
    size_t n;

    /* a Read with both element forms and an access mode, built by hand */
    memset(&x, 0, sizeof(x));
    x.code = FELICA_CMD_READ_WO_ENC;
    memcpy(x.idm, idm, 8);
    x.u.rw.n_services = 2;
    x.u.rw.service[0] = 0x100b;
    x.u.rw.service[1] = 0x1009;
    x.u.rw.n_blocks = 3;
    x.u.rw.block[0] = (felica_block_elem_t){ 1, 0, 0, 0 };
    x.u.rw.block[1] = (felica_block_elem_t){ 0, 0, 1, 0x0102 };
    x.u.rw.block[2] = (felica_block_elem_t){ 1, 5, 1, 0xff };
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_OK);
    ck_assert_uint_eq(n, 10 + 1 + 4 + 1 + 2 + 3 + 2);
    ck_assert_uint_eq(b[n - 2], 0xD1);          /* 2-byte, mode 5, service 1 */
    ck_assert_int_eq(felica_decode(b, n, &y), FELICA_OK);
    ck_assert_mem_eq(&x, &y, sizeof(x));

    /* a secure command of the largest size that fits (14 blocks) */
    memset(&x, 0, sizeof(x));
    x.code = FELICA_CMD_SECURE_WRITE;
    memcpy(x.idm, idm, 8);
    x.u.secure.counter = 0x1234;
    x.u.secure.payload_len = 14 * 16;
    memset(x.u.secure.payload, 0x5a, x.u.secure.payload_len);
    memset(x.u.secure.mac, 0xa5, 8);
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_OK);
    ck_assert_uint_eq(n, 244);
    ck_assert_uint_eq(b[10], 0x12);              /* counter big-endian */
    ck_assert_int_eq(felica_decode(b, n, &y), FELICA_OK);
    ck_assert_mem_eq(&x, &y, sizeof(x));

    /* the largest Read response: 15 blocks, 253 bytes */
    memset(&x, 0, sizeof(x));
    x.code = FELICA_CMD_READ_WO_ENC + 1;
    memcpy(x.idm, idm, 8);
    x.u.rw_res.n_blocks = 15;
    for (int i = 0; i < 15; i++)
        memset(x.u.rw_res.data[i], i, 16);
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_OK);
    ck_assert_uint_eq(n, 253);
    ck_assert_int_eq(felica_decode(b, n, &y), FELICA_OK);
    ck_assert_mem_eq(&x, &y, sizeof(x));
}
END_TEST

/* ---- decoded fields of the examples ---- */

START_TEST(fields_public)
{
    felica_packet_t p;

    ck_assert_int_eq(decode_hex(vectors[0].hex, &p), FELICA_OK);
    ck_assert_uint_eq(p.u.polling.system_code, 0x88b4);
    ck_assert_uint_eq(p.u.polling.request_code, 1);
    ck_assert_uint_eq(p.u.polling.time_slot, 3);

    ck_assert_int_eq(decode_hex("14" "01" IDM PMM "88b4", &p), FELICA_OK);
    ck_assert_mem_eq(p.idm, idm, 8);
    ck_assert_int_eq(p.u.polling_res.has_rd, 1);
    ck_assert_uint_eq(p.u.polling_res.request_data, 0x88b4);
    ck_assert_uint_eq(p.u.polling_res.pmm[7], 0xff);
    ck_assert_int_eq(decode_hex("12" "01" IDM PMM, &p), FELICA_OK);
    ck_assert_int_eq(p.u.polling_res.has_rd, 0);

    ck_assert_int_eq(decode_hex("0f" "02" IDM "02" "0000" "0b10", &p), FELICA_OK);
    ck_assert_uint_eq(p.u.req_service.n, 2);
    ck_assert_uint_eq(p.u.req_service.node[1], 0x100b);     /* little-endian */
    ck_assert_int_eq(decode_hex("0f" "03" IDM "02" "0000" "ffff", &p), FELICA_OK);
    ck_assert_uint_eq(p.u.req_service_res.key_version[1], 0xffff);

    ck_assert_int_eq(decode_hex("0b" "05" IDM "00", &p), FELICA_OK);
    ck_assert_uint_eq(p.u.req_response_res.mode, 0);

    ck_assert_int_eq(decode_hex("15" "06" IDM "02" "0b10" "0910" "02" "8000" "010201", &p), FELICA_OK);
    ck_assert_uint_eq(p.u.rw.n_services, 2);
    ck_assert_uint_eq(p.u.rw.service[0], 0x100b);
    ck_assert_uint_eq(p.u.rw.service[1], 0x1009);
    ck_assert_uint_eq(p.u.rw.n_blocks, 2);
    ck_assert_uint_eq(p.u.rw.block[0].two_byte, 1);
    ck_assert_uint_eq(p.u.rw.block[0].block, 0);
    ck_assert_uint_eq(p.u.rw.block[1].two_byte, 0);
    ck_assert_uint_eq(p.u.rw.block[1].service_index, 1);
    ck_assert_uint_eq(p.u.rw.block[1].block, 0x0102);

    ck_assert_int_eq(decode_hex("2d" "07" IDM "00" "00" "02" DATA1 DATA2, &p), FELICA_OK);
    ck_assert_uint_eq(p.u.rw_res.n_blocks, 2);
    ck_assert_uint_eq(p.u.rw_res.data[0][15], 0xff);
    ck_assert_uint_eq(p.u.rw_res.data[1][0], 0x49);
    ck_assert_int_eq(decode_hex("0c" "07" IDM "01" "a8", &p), FELICA_OK);
    ck_assert_uint_eq(p.u.rw_res.sf1, 1);
    ck_assert_uint_eq(p.u.rw_res.sf2, FELICA_SF2_BLOCK_NUMBER);
    ck_assert_uint_eq(p.u.rw_res.n_blocks, 0);

    ck_assert_int_eq(decode_hex("20" "08" IDM "01" "0910" "01" "8003" DATA2, &p), FELICA_OK);
    ck_assert_uint_eq(p.u.rw.block[0].block, 3);
    ck_assert_uint_eq(p.u.rw.data[0][1], 0x44);

    ck_assert_int_eq(decode_hex("0f" "0d" IDM "02" "fe00" "88b4", &p), FELICA_OK);
    ck_assert_uint_eq(p.u.req_system_res.n, 2);
    ck_assert_uint_eq(p.u.req_system_res.system_code[0], 0xfe00);    /* big-endian */
    ck_assert_uint_eq(p.u.req_system_res.system_code[1], 0x88b4);
}
END_TEST

START_TEST(fields_secure)
{
    felica_packet_t p;

    ck_assert_int_eq(decode_hex("15" "a0" IDM "01" "ffff" HOST_CHAL, &p), FELICA_OK);
    ck_assert_uint_eq(p.u.auth1.kvn, 1);
    ck_assert_uint_eq(p.u.auth1.area, 0xffff);
    ck_assert_uint_eq(p.u.auth1.host_challenge[0], 0x11);

    ck_assert_int_eq(decode_hex("22" "a1" IDM "00" "00" "01" "03" "10" CARD_CHAL CARD_CRYPT "000005", &p),
                     FELICA_OK);
    ck_assert_uint_eq(p.u.auth1_res.scp_id, 0x03);
    ck_assert_uint_eq(p.u.auth1_res.scp_i, 0x10);
    ck_assert_uint_eq(p.u.auth1_res.card_challenge[7], 0xc8);
    ck_assert_uint_eq(p.u.auth1_res.card_cryptogram[0], 0x9a);
    ck_assert_uint_eq(p.u.auth1_res.seq_counter, 5);
    ck_assert_int_eq(decode_hex("0c" "a1" IDM "ff" "c0", &p), FELICA_OK);
    ck_assert_uint_eq(p.u.auth1_res.sf2, FELICA_SF2_AUTH);

    ck_assert_int_eq(decode_hex("1b" "a2" IDM "33" HOST_CRYPT CMAC, &p), FELICA_OK);
    ck_assert_uint_eq(p.u.secure.level, 0x33);
    ck_assert_uint_eq(p.u.secure.payload_len, 8);
    ck_assert_uint_eq(p.u.secure.payload[0], 0x0f);
    ck_assert_uint_eq(p.u.secure.mac[0], 0x5c);

    ck_assert_int_eq(decode_hex("34" "a6" IDM "0002" ENC_A ENC_B CMAC, &p), FELICA_OK);
    ck_assert_uint_eq(p.u.secure.counter, 2);
    ck_assert_uint_eq(p.u.secure.payload_len, 32);
    ck_assert_uint_eq(p.u.secure.payload[16], 0x72);
    ck_assert_uint_eq(p.u.secure.mac[7], 0xc4);

    ck_assert_int_eq(decode_hex("36" "a5" IDM "00" "00" "0001" ENC_A ENC_B RMAC, &p), FELICA_OK);
    ck_assert_int_eq(p.u.secure_res.has_mac, 1);
    ck_assert_uint_eq(p.u.secure_res.counter, 1);
    ck_assert_uint_eq(p.u.secure_res.payload_len, 32);
    ck_assert_uint_eq(p.u.secure_res.mac[0], 0xd4);
    ck_assert_int_eq(decode_hex("16" "a3" IDM "00" "00" "0000" RMAC, &p), FELICA_OK);
    ck_assert_uint_eq(p.u.secure_res.payload_len, 0);
    ck_assert_int_eq(p.u.secure_res.has_mac, 1);
    ck_assert_int_eq(decode_hex("0c" "ab" IDM "ff" "c0", &p), FELICA_OK);
    ck_assert_int_eq(p.u.secure_res.has_mac, 0);
    ck_assert_uint_eq(p.u.secure_res.sf1, 0xff);
}
END_TEST

/* ---- truncation and LEN ---- */

START_TEST(vector_truncations)
{
    const vector_t *v = &vectors[_i];
    uint8_t full[300], buf[300];
    size_t n = unhex(v->hex, full, sizeof(full));
    felica_packet_t p;

    for (size_t l = 0; l < n; l++) {
        int also_valid = 0;

        /* LEN kept: the buffer is shorter than LEN says */
        memcpy(buf, full, l);
        ck_assert_msg(felica_decode(buf, l, &p) == (l == 0 ? FELICA_ERR_TRUNCATED : FELICA_ERR_LEN_MISMATCH),
                      "%s cut to %zu (LEN kept)", v->name, l);

        /* LEN rewritten: the fields run past the end */
        if (l > 0)
            buf[0] = (uint8_t)l;
        for (size_t k = 0; k < v->n_also_valid; k++)
            also_valid |= v->also_valid[k] == l;
        if (also_valid) {
            /* well formed, but another packet: re-encoding gives the prefix */
            uint8_t out[300];
            size_t olen;
            ck_assert_int_eq(felica_decode(buf, l, &p), FELICA_OK);
            ck_assert_int_eq(felica_encode(&p, out, sizeof(out), &olen), FELICA_OK);
            ck_assert_uint_eq(olen, l);
            ck_assert_mem_eq(out, buf, l);
            continue;
        }
        ck_assert_msg(felica_decode(buf, l, &p) == FELICA_ERR_TRUNCATED,
                      "%s cut to %zu (LEN rewritten): %d", v->name, l, felica_decode(buf, l, &p));
    }
}
END_TEST

START_TEST(vector_trailing_byte)
{
    const vector_t *v = &vectors[_i];
    uint8_t buf[300];
    size_t n = unhex(v->hex, buf, sizeof(buf));
    felica_packet_t p;

    buf[n] = 0x00;
    ck_assert_int_eq(felica_decode(buf, n + 1, &p), FELICA_ERR_LEN_MISMATCH);  /* LEN kept */
    buf[0] = (uint8_t)(n + 1);
    ck_assert_msg(felica_decode(buf, n + 1, &p) == v->trailing_err,
                  "%s + 1 byte: %d", v->name, felica_decode(buf, n + 1, &p));
}
END_TEST

START_TEST(len_checks)
{
    uint8_t b[300];
    felica_packet_t p;
    felica_frame_t f;

    memset(b, 0, sizeof(b));
    ck_assert_int_eq(felica_decode(b, 0, &p), FELICA_ERR_TRUNCATED);
    b[0] = 0;                                    /* LEN = 0 */
    ck_assert_int_eq(felica_decode(b, 1, &p), FELICA_ERR_LEN_MISMATCH);
    ck_assert_int_eq(felica_decode(b, 10, &p), FELICA_ERR_LEN_MISMATCH);
    b[0] = 1;                                    /* LEN alone */
    ck_assert_int_eq(felica_decode(b, 1, &p), FELICA_ERR_TRUNCATED);
    b[0] = 11;                                   /* LEN larger than the buffer */
    b[1] = FELICA_CMD_REQUEST_RESPONSE;
    ck_assert_int_eq(felica_decode(b, 10, &p), FELICA_ERR_LEN_MISMATCH);
    b[0] = 9;                                    /* LEN smaller than the buffer */
    ck_assert_int_eq(felica_decode(b, 10, &p), FELICA_ERR_LEN_MISMATCH);
    b[0] = 10;
    ck_assert_int_eq(felica_decode(b, 10, &p), FELICA_OK);
    /* no LEN byte can describe 256 bytes or more */
    b[0] = 0;
    ck_assert_int_eq(felica_decode(b, 256, &p), FELICA_ERR_OVERSIZE);
    b[0] = 255;
    ck_assert_int_eq(felica_decode(b, 300, &p), FELICA_ERR_OVERSIZE);
    ck_assert_int_eq(felica_frame_split(b, 256, &f), FELICA_ERR_OVERSIZE);
    ck_assert_int_eq(felica_decode(NULL, 10, &p), FELICA_ERR_BAD_PARAM);

    /* split: Polling has no IDm, everything else does */
    ck_assert_int_eq(felica_frame_split((const uint8_t *)"\x06\x00\x88\xb4\x01\x03", 6, &f), FELICA_OK);
    ck_assert_int_eq(f.has_idm, 0);
    ck_assert_uint_eq(f.body_len, 4);
    ck_assert_uint_eq(f.body[0], 0x88);
    unhex("0b" "05" IDM "03", b, sizeof(b));
    ck_assert_int_eq(felica_frame_split(b, 11, &f), FELICA_OK);
    ck_assert_int_eq(f.has_idm, 1);
    ck_assert_mem_eq(f.idm, idm, 8);
    ck_assert_uint_eq(f.body_len, 1);
    ck_assert_uint_eq(f.body[0], 3);
}
END_TEST

/* ---- codes and ranges ---- */

START_TEST(unknown_codes)
{
    felica_packet_t p;
    static const uint8_t unknown[] = { 0x0a, 0x0b, 0x0e, 0x0f, 0x10, 0x9f, 0xac, 0xff };

    for (size_t i = 0; i < sizeof(unknown); i++) {
        uint8_t b[12] = { 12, unknown[i] };
        ck_assert_int_eq(felica_decode(b, 12, &p), FELICA_ERR_BAD_CODE);
        b[0] = 2;                                /* also when too short for an IDm */
        ck_assert_int_eq(felica_decode(b, 2, &p), FELICA_ERR_BAD_CODE);
        ck_assert_ptr_null(felica_code_name(unknown[i]));
    }
    /* a known code with another packet's body is caught by its own layout */
    ck_assert_int_eq(decode_hex("0c" "03" IDM "00" "00", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("0b" "0c" IDM "00", &p), FELICA_ERR_LEN_MISMATCH);
}
END_TEST

/* A Request Service command for n nodes (LEN follows n). */
static void req_service_hex(char *hex, size_t cap, int n)
{
    int off = snprintf(hex, cap, "%02x02%s%02x", 11 + 2 * n, IDM, n);

    for (int i = 0; i < n; i++)
        off += snprintf(hex + off, cap - (size_t)off, "0b10");
}

START_TEST(counts_out_of_range)
{
    felica_packet_t p;
    char hex[700];

    /* Polling: request code 0..2, time slots 1, 2, 4, 8, 16 */
    ck_assert_int_eq(decode_hex("060088b40303", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("060088b40102", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("060088b4010f", &p), FELICA_OK);
    /* Request Service: 1..32 nodes */
    ck_assert_int_eq(decode_hex("0b" "02" IDM "00", &p), FELICA_ERR_BAD_PARAM);
    req_service_hex(hex, sizeof(hex), 33);
    ck_assert_int_eq(decode_hex(hex, &p), FELICA_ERR_BAD_PARAM);
    req_service_hex(hex, sizeof(hex), 32);
    ck_assert_int_eq(decode_hex(hex, &p), FELICA_OK);
    ck_assert_uint_eq(p.u.req_service.n, 32);
    /* Request Response: modes 0..3 */
    ck_assert_int_eq(decode_hex("0b" "05" IDM "04", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("0b" "05" IDM "03", &p), FELICA_OK);
    /* Read: 1..16 services, 1..15 blocks */
    ck_assert_int_eq(decode_hex("0e" "06" IDM "00" "01" "8000", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("0e" "06" IDM "11" "0b10" "01", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("0e" "06" IDM "01" "0b10" "00", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("0e" "06" IDM "01" "0b10" "10", &p), FELICA_ERR_BAD_PARAM);
    /* Read response: 1..15 blocks when SF1 = 0 */
    ck_assert_int_eq(decode_hex("0d" "07" IDM "00" "00" "00", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("0d" "07" IDM "00" "00" "10", &p), FELICA_ERR_BAD_PARAM);
    /* an error response carries no blocks */
    ck_assert_int_eq(decode_hex("1d" "07" IDM "ff" "a1" "01" DATA1, &p), FELICA_ERR_LEN_MISMATCH);
    /* Request System Code response: 1..16 systems */
    ck_assert_int_eq(decode_hex("0b" "0d" IDM "00", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("0d" "0d" IDM "11" "fe00", &p), FELICA_ERR_BAD_PARAM);
    /* Auth1 response: SCP identifier 03 */
    ck_assert_int_eq(decode_hex("22" "a1" IDM "00" "00" "01" "02" "10" CARD_CHAL CARD_CRYPT "000005", &p),
                     FELICA_ERR_BAD_PARAM);
    /* secure command: at least one cipher block */
    ck_assert_int_eq(decode_hex("14" "a4" IDM "0001" CMAC, &p), FELICA_ERR_TRUNCATED);
    /* secure response: SF1 SF2 alone only for an error */
    ck_assert_int_eq(decode_hex("0c" "a7" IDM "00" "00", &p), FELICA_ERR_TRUNCATED);
}
END_TEST

START_TEST(service_index_out_of_range)
{
    felica_packet_t p;

    /* one service, element refers to service 1 (2-byte and 3-byte forms) */
    ck_assert_int_eq(decode_hex("10" "06" IDM "01" "0b10" "01" "8100", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("11" "06" IDM "01" "0b10" "01" "010000", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("10" "06" IDM "01" "0b10" "01" "8f00", &p), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(decode_hex("10" "06" IDM "01" "0b10" "01" "8000", &p), FELICA_OK);
    /* Write: same rule */
    ck_assert_int_eq(decode_hex("20" "08" IDM "01" "0910" "01" "8103" DATA2, &p), FELICA_ERR_BAD_PARAM);
    /* the access mode bits are kept */
    ck_assert_int_eq(decode_hex("10" "06" IDM "01" "0b10" "01" "f005", &p), FELICA_OK);
    ck_assert_uint_eq(p.u.rw.block[0].access_mode, 7);
    ck_assert_uint_eq(p.u.rw.block[0].block, 5);
}
END_TEST

/* ---- encoder refusals ---- */

static void base_read(felica_packet_t *x)
{
    memset(x, 0, sizeof(*x));
    x->code = FELICA_CMD_READ_WO_ENC;
    memcpy(x->idm, idm, 8);
    x->u.rw.n_services = 1;
    x->u.rw.service[0] = 0x100b;
    x->u.rw.n_blocks = 1;
    x->u.rw.block[0] = (felica_block_elem_t){ 1, 0, 0, 1 };
}

START_TEST(encode_refusals)
{
    felica_packet_t x;
    uint8_t b[300];
    size_t n = 99;

    base_read(&x);
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_OK);
    x.u.rw.block[0].block = 256;                 /* 2-byte form cannot hold it */
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    ck_assert_uint_eq(n, 0);
    base_read(&x);
    x.u.rw.block[0].access_mode = 8;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    base_read(&x);
    x.u.rw.block[0].service_index = 1;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    base_read(&x);
    x.u.rw.block[0].two_byte = 2;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    base_read(&x);
    x.u.rw.n_blocks = 0;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    x.u.rw.n_blocks = 16;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    base_read(&x);
    x.u.rw.n_services = 17;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);

    /* a Write of 15 blocks with 3-byte elements does not fit in 255 bytes */
    base_read(&x);
    x.code = FELICA_CMD_WRITE_WO_ENC;
    x.u.rw.n_blocks = 15;
    for (int i = 0; i < 15; i++)
        x.u.rw.block[i] = (felica_block_elem_t){ 0, 0, 0, (uint16_t)(300 + i) };
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_OVERSIZE);

    /* error Read response with blocks; Polling parameters */
    memset(&x, 0, sizeof(x));
    x.code = FELICA_CMD_READ_WO_ENC + 1;
    x.u.rw_res.sf1 = 0xff;
    x.u.rw_res.n_blocks = 1;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    x.code = FELICA_CMD_WRITE_WO_ENC + 1;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    memset(&x, 0, sizeof(x));
    x.u.polling.time_slot = 2;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    x.u.polling.time_slot = 0x0f;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_OK);
    ck_assert_uint_eq(n, 6);
    x.code = FELICA_CMD_REQUEST_SERVICE;         /* zero nodes */
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    x.code = 0x0e;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_CODE);
}
END_TEST

START_TEST(encode_secure_refusals)
{
    felica_packet_t x;
    uint8_t b[300];
    size_t n;

    memset(&x, 0, sizeof(x));
    x.code = FELICA_CMD_SECURE_READ;
    x.u.secure.payload_len = 0;                  /* a command needs a block */
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    x.u.secure.payload_len = 15;                 /* whole blocks only */
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    x.u.secure.payload_len = 15 * 16;            /* 260 bytes */
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_OVERSIZE);
    x.u.secure.payload_len = 1000;               /* past the struct's array */
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);

    memset(&x, 0, sizeof(x));
    x.code = FELICA_CMD_AUTH2;
    x.u.secure.payload_len = 8;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_OK);
    ck_assert_uint_eq(n, 27);
    x.u.secure.counter = 1;                      /* Auth2 has no counter */
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    x.u.secure.counter = 0;
    x.u.secure.payload_len = 16;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);

    memset(&x, 0, sizeof(x));
    x.code = FELICA_CMD_SECURE_WRITE + 1;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM); /* success without MAC */
    x.u.secure_res.sf1 = 0xff;
    x.u.secure_res.sf2 = FELICA_SF2_AUTH;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_OK);
    ck_assert_uint_eq(n, 12);
    x.u.secure_res.payload_len = 16;             /* payload without a MAC */
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    x.u.secure_res.has_mac = 1;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_OK);
    ck_assert_uint_eq(n, 38);

    memset(&x, 0, sizeof(x));
    x.code = FELICA_CMD_AUTH1 + 1;
    x.u.auth1_res.scp_id = 0x03;
    x.u.auth1_res.seq_counter = 0x1000000;       /* does not fit in 3 bytes */
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_ERR_BAD_PARAM);
    x.u.auth1_res.seq_counter = 0xffffff;
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_OK);
    ck_assert_uint_eq(n, 34);
    ck_assert_uint_eq(b[33], 0xff);
    x.u.auth1_res.sf1 = 0xff;                    /* refused: key info not sent */
    ck_assert_int_eq(felica_encode(&x, b, sizeof(b), &n), FELICA_OK);
    ck_assert_uint_eq(n, 12);
}
END_TEST

/* ---- names and describe ---- */

START_TEST(names)
{
    ck_assert_str_eq(felica_code_name(FELICA_CMD_POLLING), "Polling");
    ck_assert_str_eq(felica_code_name(FELICA_CMD_SECURE_WRITE + 1), "Secure Write response");
    ck_assert_int_eq(felica_code_is_secure(0x9f), 0);
    ck_assert_int_eq(felica_code_is_secure(0xa0), 1);
    ck_assert_int_eq(felica_code_is_secure(0xab), 1);
    ck_assert_int_eq(felica_code_is_secure(0xac), 0);
    ck_assert_int_eq(felica_code_is_secure(FELICA_CMD_READ_WO_ENC), 0);
    ck_assert_str_eq(felica_sf2_name(0xa8), "illegal block number");
    ck_assert_str_eq(felica_sf2_name(0xc1), "command counter out of sequence");
    ck_assert_ptr_null(felica_sf2_name(0xb0));
    static const uint8_t public_sf2[] = { 0x01, 0x02, 0x70, 0x71, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
                                          0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae,
                                          0xc0, 0xc1, 0xc2, 0xc3 };
    for (size_t i = 0; i < sizeof(public_sf2); i++)
        ck_assert_ptr_nonnull(felica_sf2_name(public_sf2[i]));
    for (int e = FELICA_ERR_PADDING; e <= FELICA_OK; e++)
        ck_assert_str_ne(felica_strerror(e), "unknown error");
    ck_assert_str_eq(felica_strerror(-99), "unknown error");
}
END_TEST

static int describe_hex(const char *hex, char *buf, size_t cap)
{
    uint8_t b[300];
    size_t n = unhex(hex, b, sizeof(b));
    return felica_describe(b, n, buf, cap);
}

START_TEST(describe_read)
{
    char d[2048];

    ck_assert_int_eq(describe_hex("15" "06" IDM "02" "0b10" "0910" "02" "8000" "010201", d, sizeof(d)),
                     FELICA_OK);
    ck_assert_ptr_nonnull(strstr(d, "code: 0x06 (Read Without Encryption)\n"));
    ck_assert_ptr_nonnull(strstr(d, "length: 21\n"));
    ck_assert_ptr_nonnull(strstr(d, "idm: 012e4cd2b3a5c0f1\n"));
    ck_assert_ptr_nonnull(strstr(d, "services: 2\n"));
    ck_assert_ptr_nonnull(strstr(d, "service[1]: 0x1009\n"));
    ck_assert_ptr_nonnull(strstr(d, "blocks: 2\n"));
    ck_assert_ptr_nonnull(strstr(d, "block[0]: 2-byte, service 0 (0x100b), access mode 0, block 0\n"));
    ck_assert_ptr_nonnull(strstr(d, "block[1]: 3-byte, service 1 (0x1009), access mode 0, block 258\n"));

    ck_assert_int_eq(describe_hex("0c" "07" IDM "01" "a8", d, sizeof(d)), FELICA_OK);
    ck_assert_ptr_nonnull(strstr(d, "sf1: 0x01 (error at block list element 1)\n"));
    ck_assert_ptr_nonnull(strstr(d, "sf2: 0xa8 (illegal block number)\n"));
}
END_TEST

START_TEST(describe_secure_write)
{
    char d[2048];

    ck_assert_int_eq(describe_hex("34" "a6" IDM "0002" ENC_A ENC_B CMAC, d, sizeof(d)), FELICA_OK);
    ck_assert_ptr_nonnull(strstr(d, "code: 0xa6 (Secure Write)\n"));
    ck_assert_ptr_nonnull(strstr(d, "idm: 012e4cd2b3a5c0f1\n"));
    ck_assert_ptr_nonnull(strstr(d, "counter: 2\n"));
    ck_assert_ptr_nonnull(strstr(d, "payload_length: 32 (encrypted)\n"));
    ck_assert_ptr_nonnull(strstr(d, "payload: " ENC_A ENC_B "\n"));
    ck_assert_ptr_nonnull(strstr(d, "c_mac: " CMAC "\n"));

    ck_assert_int_eq(describe_hex("0c" "ab" IDM "ff" "c0", d, sizeof(d)), FELICA_OK);
    ck_assert_ptr_nonnull(strstr(d, "sf2: 0xc0 (authentication, MAC or cryptogram failed)\n"));
    ck_assert_ptr_nonnull(strstr(d, "channel: none"));

    ck_assert_int_eq(describe_hex("22" "a1" IDM "00" "00" "01" "03" "10" CARD_CHAL CARD_CRYPT "000005",
                                  d, sizeof(d)), FELICA_OK);
    ck_assert_ptr_nonnull(strstr(d, "scp_id: 0x03\n"));
    ck_assert_ptr_nonnull(strstr(d, "card_challenge: " CARD_CHAL "\n"));
    ck_assert_ptr_nonnull(strstr(d, "sequence_counter: 5\n"));
}
END_TEST

START_TEST(describe_errors)
{
    char d[2048], small[40];

    /* malformed: one error line, the decoder's verdict */
    ck_assert_int_eq(describe_hex("14" "a4" IDM "0001" CMAC, d, sizeof(d)), FELICA_ERR_TRUNCATED);
    ck_assert_str_eq(d, "error: packet truncated: a field runs past the end\n");
    /* too small a buffer: whole lines only, and said so */
    ck_assert_int_eq(describe_hex("34" "a6" IDM "0002" ENC_A ENC_B CMAC, small, sizeof(small)),
                     FELICA_ERR_BUFFER);
    ck_assert_str_eq(small, "code: 0xa6 (Secure Write)\nlength: 52\n");
    /* cut in the middle of a hex line: that line is dropped whole */
    ck_assert_int_eq(describe_hex("34" "a6" IDM "0002" ENC_A ENC_B CMAC, d, sizeof(d)), FELICA_OK);
    size_t full = strlen(d);
    for (size_t cap = 1; cap <= full; cap++) {
        char buf[sizeof(d)];
        int rc = describe_hex("34" "a6" IDM "0002" ENC_A ENC_B CMAC, buf, cap);
        size_t l = strlen(buf);
        ck_assert_int_eq(rc, FELICA_ERR_BUFFER);
        ck_assert_uint_lt(l, cap);
        ck_assert(l == 0 || buf[l - 1] == '\n');
        ck_assert(strncmp(buf, d, l) == 0);
    }
    ck_assert_int_eq(describe_hex("34" "a6" IDM "0002" ENC_A ENC_B CMAC, small, 0), FELICA_ERR_BUFFER);
    {
        char exact[sizeof(d)];
        ck_assert_int_eq(describe_hex("34" "a6" IDM "0002" ENC_A ENC_B CMAC, exact, full + 1), FELICA_OK);
        ck_assert_str_eq(exact, d);
    }
    /* every example describes */
    for (size_t i = 0; i < N_VECTORS; i++)
        ck_assert_int_eq(describe_hex(vectors[i].hex, d, sizeof(d)), FELICA_OK);
}
END_TEST

static Suite *frame_suite(void)
{
    Suite *s = suite_create("felica_frame");
    TCase *tc = tcase_create("codec");

    tcase_add_loop_test(tc, vector_round_trip, 0, N_VECTORS);
    tcase_add_test(tc, every_code_has_a_vector);
    tcase_add_test(tc, struct_round_trip);
    tcase_add_test(tc, fields_public);
    tcase_add_test(tc, fields_secure);
    tcase_add_loop_test(tc, vector_truncations, 0, N_VECTORS);
    tcase_add_loop_test(tc, vector_trailing_byte, 0, N_VECTORS);
    tcase_add_test(tc, len_checks);
    tcase_add_test(tc, unknown_codes);
    tcase_add_test(tc, counts_out_of_range);
    tcase_add_test(tc, service_index_out_of_range);
    tcase_add_test(tc, encode_refusals);
    tcase_add_test(tc, encode_secure_refusals);
    tcase_add_test(tc, names);
    tcase_add_test(tc, describe_read);
    tcase_add_test(tc, describe_secure_write);
    tcase_add_test(tc, describe_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(frame_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
