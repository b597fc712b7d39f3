/* test_secure_cmd.c: round trips and strict rejection of the secure-channel
 * plaintext payloads (felica_secure_cmd.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "felica_secure_cmd.h"
#include "felica_sc.h"

static felica_secure_rw_t sample_rw(uint8_t n)
{
    felica_secure_rw_t rw;
    uint8_t i;

    memset(&rw, 0, sizeof(rw));
    rw.area = 0x1234;
    rw.n = n;
    for (i = 0; i < n; i++) {
        rw.block[i] = (uint16_t)(i * 17 + 3);
        memset(rw.data[i], 0xA0 + i, FELICA_BLOCK_LEN);
    }
    return rw;
}

static felica_create_area_t sample_create(void)
{
    felica_create_area_t ca;
    int i;

    memset(&ca, 0, sizeof(ca));
    ca.area = 0x1000;
    ca.n_blocks = 256;
    ca.kvn = 7;
    for (i = 0; i < 16; i++) {
        ca.wrapped_enc[i] = (uint8_t)i;
        ca.wrapped_mac[i] = (uint8_t)(0x40 + i);
        ca.wrapped_dek[i] = (uint8_t)(0x80 + i);
    }
    memcpy(ca.kcv_enc, "\x01\x02\x03", 3);
    memcpy(ca.kcv_mac, "\x04\x05\x06", 3);
    memcpy(ca.kcv_dek, "\x07\x08\x09", 3);
    return ca;
}

START_TEST(read_round_trip_every_count)
{
    uint8_t buf[256];
    size_t len = 0;
    uint8_t n;

    for (n = 1; n <= FELICA_SECURE_MAX_BLOCKS; n++) {
        felica_secure_rw_t in = sample_rw(n), out;
        ck_assert_int_eq(felica_secure_read_encode(&in, buf, sizeof(buf), &len), FELICA_OK);
        ck_assert_uint_eq(len, 3 + 2u * n);
        ck_assert_uint_eq(buf[0], 0x34);   /* area little-endian */
        ck_assert_uint_eq(buf[1], 0x12);
        ck_assert_int_eq(felica_secure_read_decode(buf, len, &out), FELICA_OK);
        ck_assert_uint_eq(out.area, in.area);
        ck_assert_uint_eq(out.n, n);
        ck_assert_mem_eq(out.block, in.block, 2u * n);
    }
}
END_TEST

START_TEST(read_res_round_trip)
{
    uint8_t buf[256];
    size_t len = 0;
    felica_secure_rw_t in = sample_rw(12), out;

    ck_assert_int_eq(felica_secure_read_res_encode(&in, buf, sizeof(buf), &len), FELICA_OK);
    ck_assert_uint_eq(len, 1 + 16 * 12);
    ck_assert_int_eq(felica_secure_read_res_decode(buf, len, &out), FELICA_OK);
    ck_assert_uint_eq(out.n, 12);
    ck_assert_mem_eq(out.data, in.data, 16 * 12);
}
END_TEST

START_TEST(write_round_trip_every_count)
{
    uint8_t buf[256];
    size_t len = 0;
    uint8_t n;

    for (n = 1; n <= FELICA_SECURE_MAX_BLOCKS; n++) {
        felica_secure_rw_t in = sample_rw(n), out;
        ck_assert_int_eq(felica_secure_write_encode(&in, buf, sizeof(buf), &len), FELICA_OK);
        ck_assert_uint_eq(len, 3 + 18u * n);
        ck_assert_int_eq(felica_secure_write_decode(buf, len, &out), FELICA_OK);
        ck_assert_uint_eq(out.area, in.area);
        ck_assert_uint_eq(out.n, n);
        ck_assert_mem_eq(out.block, in.block, 2u * n);
        ck_assert_mem_eq(out.data, in.data, 16u * n);
    }
}
END_TEST

START_TEST(create_delete_round_trip)
{
    uint8_t buf[128];
    size_t len = 0;
    felica_create_area_t in = sample_create(), out;
    uint16_t area = 0;

    ck_assert_int_eq(felica_create_area_encode(&in, buf, sizeof(buf), &len), FELICA_OK);
    ck_assert_uint_eq(len, 62);
    ck_assert_int_eq(felica_create_area_decode(buf, len, &out), FELICA_OK);
    ck_assert_mem_eq(&out, &in, sizeof(in));

    ck_assert_int_eq(felica_delete_area_encode(0x2345, buf, sizeof(buf), &len), FELICA_OK);
    ck_assert_uint_eq(len, 2);
    ck_assert_int_eq(felica_delete_area_decode(buf, len, &area), FELICA_OK);
    ck_assert_uint_eq(area, 0x2345);
}
END_TEST

/* Every strict prefix and one trailing extra byte of a valid payload fail. */
typedef int (*rw_decoder)(const uint8_t *, size_t, felica_secure_rw_t *);

static void assert_rw_strict(rw_decoder dec, const uint8_t *buf, size_t len)
{
    uint8_t copy[300];
    felica_secure_rw_t out;
    size_t cut;

    for (cut = 0; cut < len; cut++)
        ck_assert_int_eq(dec(buf, cut, &out), FELICA_ERR_TRUNCATED);
    memcpy(copy, buf, len);
    copy[len] = 0;
    ck_assert_int_eq(dec(copy, len + 1, &out), FELICA_ERR_OVERSIZE);
}

START_TEST(every_truncation_rejected)
{
    uint8_t buf[256];
    size_t len = 0, cut;
    felica_secure_rw_t rw = sample_rw(5);
    felica_create_area_t ca = sample_create(), ca_out;
    uint16_t area;

    ck_assert_int_eq(felica_secure_read_encode(&rw, buf, sizeof(buf), &len), FELICA_OK);
    assert_rw_strict(felica_secure_read_decode, buf, len);
    ck_assert_int_eq(felica_secure_write_encode(&rw, buf, sizeof(buf), &len), FELICA_OK);
    assert_rw_strict(felica_secure_write_decode, buf, len);
    ck_assert_int_eq(felica_secure_read_res_encode(&rw, buf, sizeof(buf), &len), FELICA_OK);
    assert_rw_strict(felica_secure_read_res_decode, buf, len);

    ck_assert_int_eq(felica_create_area_encode(&ca, buf, sizeof(buf), &len), FELICA_OK);
    for (cut = 0; cut < len; cut++)
        ck_assert_int_eq(felica_create_area_decode(buf, cut, &ca_out), FELICA_ERR_TRUNCATED);
    ck_assert_int_eq(felica_create_area_decode(buf, len + 1, &ca_out), FELICA_ERR_OVERSIZE);

    ck_assert_int_eq(felica_delete_area_encode(0x10, buf, sizeof(buf), &len), FELICA_OK);
    ck_assert_int_eq(felica_delete_area_decode(buf, 0, &area), FELICA_ERR_TRUNCATED);
    ck_assert_int_eq(felica_delete_area_decode(buf, 1, &area), FELICA_ERR_TRUNCATED);
    ck_assert_int_eq(felica_delete_area_decode(buf, 3, &area), FELICA_ERR_OVERSIZE);
}
END_TEST

START_TEST(bad_counts_rejected)
{
    uint8_t buf[256];
    size_t len = 0;
    felica_secure_rw_t rw = sample_rw(2), out;

    /* encoders refuse counts outside 1..12 */
    rw.n = 0;
    ck_assert_int_eq(felica_secure_read_encode(&rw, buf, sizeof(buf), &len), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_secure_write_encode(&rw, buf, sizeof(buf), &len), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_secure_read_res_encode(&rw, buf, sizeof(buf), &len), FELICA_ERR_BAD_PARAM);
    rw.n = 13;
    ck_assert_int_eq(felica_secure_read_encode(&rw, buf, sizeof(buf), &len), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_secure_write_encode(&rw, buf, sizeof(buf), &len), FELICA_ERR_BAD_PARAM);

    /* decoders refuse N = 0 and N = 13 even when the length would fit */
    memset(buf, 0, sizeof(buf));
    buf[0] = 0x01; buf[1] = 0x00; buf[2] = 0;
    ck_assert_int_eq(felica_secure_read_decode(buf, 3, &out), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_secure_write_decode(buf, 3, &out), FELICA_ERR_BAD_PARAM);
    buf[2] = 13;
    ck_assert_int_eq(felica_secure_read_decode(buf, 3 + 26, &out), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_secure_write_decode(buf, 3 + 26 + 208, &out), FELICA_ERR_BAD_PARAM);
    buf[0] = 0;
    ck_assert_int_eq(felica_secure_read_res_decode(buf, 1, &out), FELICA_ERR_BAD_PARAM);
    buf[0] = 13;
    ck_assert_int_eq(felica_secure_read_res_decode(buf, 1 + 208, &out), FELICA_ERR_BAD_PARAM);

    /* block number beyond the largest possible area */
    buf[0] = 0x01; buf[1] = 0x00; buf[2] = 1; buf[3] = 0x00; buf[4] = 0x01;   /* block 256 */
    ck_assert_int_eq(felica_secure_read_decode(buf, 5, &out), FELICA_ERR_BAD_PARAM);
    buf[4] = 0x00; buf[3] = 0xFF;                                              /* block 255 */
    ck_assert_int_eq(felica_secure_read_decode(buf, 5, &out), FELICA_OK);
    ck_assert_uint_eq(out.block[0], 255);
}
END_TEST

START_TEST(system_area_and_bad_sizes_rejected)
{
    uint8_t buf[128];
    size_t len = 0;
    felica_secure_rw_t rw = sample_rw(1), out;
    felica_create_area_t ca = sample_create(), ca_out;
    uint16_t area;

    rw.area = FELICA_AREA_SYSTEM;
    ck_assert_int_eq(felica_secure_read_encode(&rw, buf, sizeof(buf), &len), FELICA_ERR_BAD_PARAM);
    buf[0] = 0xFF; buf[1] = 0xFF; buf[2] = 1; buf[3] = 0; buf[4] = 0;
    ck_assert_int_eq(felica_secure_read_decode(buf, 5, &out), FELICA_ERR_BAD_PARAM);

    ck_assert_int_eq(felica_delete_area_encode(FELICA_AREA_SYSTEM, buf, sizeof(buf), &len),
                     FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_delete_area_decode(buf, 2, &area), FELICA_ERR_BAD_PARAM);

    ca.n_blocks = 0;
    ck_assert_int_eq(felica_create_area_encode(&ca, buf, sizeof(buf), &len), FELICA_ERR_BAD_PARAM);
    ca.n_blocks = 257;
    ck_assert_int_eq(felica_create_area_encode(&ca, buf, sizeof(buf), &len), FELICA_ERR_BAD_PARAM);
    ca.n_blocks = 1;
    ck_assert_int_eq(felica_create_area_encode(&ca, buf, sizeof(buf), &len), FELICA_OK);
    buf[2] = 0x01; buf[3] = 0x01;   /* 257 blocks */
    ck_assert_int_eq(felica_create_area_decode(buf, len, &ca_out), FELICA_ERR_BAD_PARAM);
    buf[2] = 0x00; buf[3] = 0x00;   /* 0 blocks */
    ck_assert_int_eq(felica_create_area_decode(buf, len, &ca_out), FELICA_ERR_BAD_PARAM);
    buf[2] = 0x01; buf[0] = 0xFF; buf[1] = 0xFF;   /* the system area */
    ck_assert_int_eq(felica_create_area_decode(buf, len, &ca_out), FELICA_ERR_BAD_PARAM);
}
END_TEST

START_TEST(small_buffers_rejected)
{
    uint8_t buf[256];
    size_t len = 0;
    felica_secure_rw_t rw = sample_rw(3);
    felica_create_area_t ca = sample_create();

    ck_assert_int_eq(felica_secure_read_encode(&rw, buf, 8, &len), FELICA_ERR_BUFFER);
    ck_assert_int_eq(felica_secure_write_encode(&rw, buf, 9, &len), FELICA_ERR_BUFFER);
    ck_assert_int_eq(felica_secure_write_encode(&rw, buf, 3 + 6 + 47, &len), FELICA_ERR_BUFFER);
    ck_assert_int_eq(felica_secure_read_res_encode(&rw, buf, 48, &len), FELICA_ERR_BUFFER);
    ck_assert_int_eq(felica_create_area_encode(&ca, buf, 61, &len), FELICA_ERR_BUFFER);
    ck_assert_int_eq(felica_delete_area_encode(1, buf, 1, &len), FELICA_ERR_BUFFER);
}
END_TEST

static Suite *secure_cmd_suite(void)
{
    Suite *s = suite_create("secure_cmd");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, read_round_trip_every_count);
    tcase_add_test(tc, read_res_round_trip);
    tcase_add_test(tc, write_round_trip_every_count);
    tcase_add_test(tc, create_delete_round_trip);
    tcase_add_test(tc, every_truncation_rejected);
    tcase_add_test(tc, bad_counts_rejected);
    tcase_add_test(tc, system_area_and_bad_sizes_rejected);
    tcase_add_test(tc, small_buffers_rejected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(secure_cmd_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
