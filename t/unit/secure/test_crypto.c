/* test_crypto.c: the AES primitives of the secure channel against published
 * vectors (RFC 4493, FIPS-197), the SCP03 KDF against its data layout built by
 * hand and against pinned known answers, padding edge cases, KCV and key wrap. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "felica_crypto.h"
#include "felica_sc.h"

/* Decode a hex string into out; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;

    while (hex[0] != '\0' && hex[1] != '\0') {
        char pair[3] = { hex[0], hex[1], '\0' };
        out[n++] = (uint8_t)strtoul(pair, NULL, 16);
        hex += 2;
    }
    return n;
}

static const char *rfc4493_key = "2b7e151628aed2a6abf7158809cf4f3c";
static const char *rfc4493_msg =
    "6bc1bee22e409f96e93d7e117393172a"
    "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef"
    "f69f2445df4f9b17ad2b417be66c3710";

static void check_cmac(size_t msg_len, const char *expect_hex)
{
    uint8_t key[16], msg[64], expect[16], mac[16];

    unhex(rfc4493_key, key);
    unhex(rfc4493_msg, msg);
    unhex(expect_hex, expect);
    ck_assert_int_eq(felica_aes_cmac(key, 16, msg, msg_len, mac), FELICA_OK);
    ck_assert_mem_eq(mac, expect, 16);
}

START_TEST(cmac_rfc4493_empty)
{
    check_cmac(0, "bb1d6929e95937287fa37d129b756746");
}
END_TEST

START_TEST(cmac_rfc4493_16)
{
    check_cmac(16, "070a16b46b4d4144f79bdd9dd04a287c");
}
END_TEST

START_TEST(cmac_rfc4493_40)
{
    check_cmac(40, "dfa66747de9ae63030ca32611497c827");
}
END_TEST

START_TEST(cmac_rfc4493_64)
{
    check_cmac(64, "51f0bebf7e3b9d92fc49741779363cfe");
}
END_TEST

START_TEST(cmac_rejects_bad_key_length)
{
    uint8_t key[17] = { 0 }, mac[16];

    ck_assert_int_eq(felica_aes_cmac(key, 17, NULL, 0, mac), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_aes_cmac(key, 0, NULL, 0, mac), FELICA_ERR_BAD_PARAM);
}
END_TEST

/* The KDF must equal CMAC over derivation data laid out by hand:
 * 11 zero bytes || constant || 0x00 || L (2, BE) || i || context. */
static void check_kdf_layout(uint16_t l_bits)
{
    uint8_t key[16], context[16], dd[32], expect[32], got[32];
    size_t blocks = (l_bits + 127) / 128, i;

    for (i = 0; i < 16; i++) {
        key[i] = (uint8_t)(0x40 + i);
        context[i] = (uint8_t)(0xA0 + i);
    }
    for (i = 1; i <= blocks; i++) {
        memset(dd, 0, sizeof dd);
        dd[11] = 0x06;
        dd[12] = 0x00;
        dd[13] = (uint8_t)(l_bits >> 8);
        dd[14] = (uint8_t)l_bits;
        dd[15] = (uint8_t)i;
        memcpy(dd + 16, context, 16);
        ck_assert_int_eq(felica_aes_cmac(key, 16, dd, 32, expect + 16 * (i - 1)), FELICA_OK);
    }
    memset(got, 0xEE, sizeof got);
    ck_assert_int_eq(felica_scp03_kdf(key, 0x06, context, 16, l_bits, got), FELICA_OK);
    ck_assert_mem_eq(got, expect, l_bits / 8);
    if (l_bits / 8 < sizeof got)       /* nothing written beyond L bits */
        ck_assert_uint_eq(got[l_bits / 8], 0xEE);
}

START_TEST(kdf_layout_64)
{
    check_kdf_layout(64);
}
END_TEST

START_TEST(kdf_layout_128)
{
    check_kdf_layout(128);
}
END_TEST

START_TEST(kdf_layout_256)
{
    check_kdf_layout(256);
}
END_TEST

/* Known answers computed once with an independent implementation (Python
 * "cryptography" CMAC over the SCP03 layout) and pinned here.
 * Key 40..4F, context 00..0F (host challenge 0001..07 || card challenge 0809..0F). */
START_TEST(kdf_known_answers)
{
    uint8_t key[16], ctx[16], out[32], expect[32];
    uint8_t seq_ctx[13];
    size_t i;

    for (i = 0; i < 16; i++) {
        key[i] = (uint8_t)(0x40 + i);
        ctx[i] = (uint8_t)i;
    }
    ck_assert_int_eq(felica_scp03_kdf(key, FELICA_KDF_S_ENC, ctx, 16, 128, out), FELICA_OK);
    unhex("eb845bbc703969a9b312a5f8e4834aa2", expect);
    ck_assert_mem_eq(out, expect, 16);

    ck_assert_int_eq(felica_scp03_kdf(key, FELICA_KDF_CARD_CRYPTOGRAM, ctx, 16, 64, out), FELICA_OK);
    unhex("18d3fadaa199ccd1", expect);
    ck_assert_mem_eq(out, expect, 8);

    ck_assert_int_eq(felica_scp03_kdf(key, FELICA_KDF_S_MAC, ctx, 16, 256, out), FELICA_OK);
    unhex("f862f14f3aeaf76b7f63b2358e35241c692fd3fe26413dc4609f38d02e643b03", expect);
    ck_assert_mem_eq(out, expect, 32);

    /* card challenge: SEQ 000001 || IDm 0123456789ABCDEF || area FFFF */
    unhex("0000010123456789abcdefffff", seq_ctx);
    ck_assert_int_eq(felica_scp03_kdf(key, FELICA_KDF_CARD_CHALLENGE, seq_ctx, 13, 64, out),
                     FELICA_OK);
    unhex("f99dc52ac1485562", expect);
    ck_assert_mem_eq(out, expect, 8);
}
END_TEST

START_TEST(kdf_rejects_bad_length)
{
    uint8_t key[16] = { 0 }, out[32];

    ck_assert_int_eq(felica_scp03_kdf(key, 0, NULL, 0, 0, out), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_scp03_kdf(key, 0, NULL, 0, 100, out), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_scp03_kdf(key, 0, NULL, 0, 512, out), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_scp03_kdf(key, 0, NULL, 0, 192, out), FELICA_OK);
}
END_TEST

static void check_pad_round_trip(size_t len, size_t expect_padded)
{
    uint8_t buf[64];
    size_t padded = 0, unpadded = 0, i;

    for (i = 0; i < len; i++)
        buf[i] = (uint8_t)(0x80 + i);        /* payload bytes that look like pads */
    ck_assert_int_eq(felica_pad_m2(buf, len, sizeof buf, &padded), FELICA_OK);
    ck_assert_uint_eq(padded, expect_padded);
    ck_assert_uint_eq(buf[len], 0x80);
    for (i = len + 1; i < padded; i++)
        ck_assert_uint_eq(buf[i], 0);
    ck_assert_int_eq(felica_unpad_m2(buf, padded, &unpadded), FELICA_OK);
    ck_assert_uint_eq(unpadded, len);
}

START_TEST(pad_edges)
{
    check_pad_round_trip(0, 16);
    check_pad_round_trip(15, 16);
    check_pad_round_trip(16, 32);
    check_pad_round_trip(17, 32);
    check_pad_round_trip(47, 48);
}
END_TEST

START_TEST(pad_needs_room)
{
    uint8_t buf[32];
    size_t padded = 99;

    memset(buf, 0, sizeof buf);
    ck_assert_int_eq(felica_pad_m2(buf, 16, 31, &padded), FELICA_ERR_BUFFER);
    ck_assert_uint_eq(padded, 99);
    ck_assert_int_eq(felica_pad_m2(buf, 16, 32, &padded), FELICA_OK);
    ck_assert_uint_eq(padded, 32);
}
END_TEST

START_TEST(unpad_rejects_malformed)
{
    uint8_t buf[32];
    size_t n = 0;

    memset(buf, 0, sizeof buf);
    /* all zeros: no marker */
    ck_assert_int_eq(felica_unpad_m2(buf, 16, &n), FELICA_ERR_PADDING);
    /* last byte neither 0x80 nor 0x00 */
    buf[15] = 0x01;
    ck_assert_int_eq(felica_unpad_m2(buf, 16, &n), FELICA_ERR_PADDING);
    /* a non-zero byte after the marker */
    memset(buf, 0, sizeof buf);
    buf[10] = 0x80;
    buf[14] = 0x01;
    ck_assert_int_eq(felica_unpad_m2(buf, 16, &n), FELICA_ERR_PADDING);
    /* marker more than one block from the end (17+ pad bytes) */
    memset(buf, 0, sizeof buf);
    buf[15] = 0x80;
    ck_assert_int_eq(felica_unpad_m2(buf, 32, &n), FELICA_ERR_PADDING);
    /* lengths that are not whole blocks, or empty */
    buf[15] = 0x80;
    ck_assert_int_eq(felica_unpad_m2(buf, 15, &n), FELICA_ERR_PADDING);
    ck_assert_int_eq(felica_unpad_m2(buf, 17, &n), FELICA_ERR_PADDING);
    ck_assert_int_eq(felica_unpad_m2(buf, 0, &n), FELICA_ERR_PADDING);
    /* and the well-formed case of the same buffer */
    ck_assert_int_eq(felica_unpad_m2(buf, 16, &n), FELICA_OK);
    ck_assert_uint_eq(n, 15);
}
END_TEST

/* FIPS-197 appendix C.1: key 000102..0F, plaintext 00112233..FF. */
START_TEST(aes_block_and_cbc)
{
    uint8_t key[16], pt[32], ct[32], back[32], expect[16], iv[16];

    unhex("000102030405060708090a0b0c0d0e0f", key);
    unhex("00112233445566778899aabbccddeeff", pt);
    unhex("69c4e0d86a7b0430d8cdb78070b4c55a", expect);
    ck_assert_int_eq(felica_aes_block(key, pt, ct), FELICA_OK);
    ck_assert_mem_eq(ct, expect, 16);

    /* CBC, two blocks, in place: second block is AES(key, P2 ^ C1) */
    memcpy(pt + 16, pt, 16);
    memset(iv, 0, sizeof iv);
    memcpy(back, pt, 32);
    ck_assert_int_eq(felica_aes_cbc_encrypt(key, iv, back, 32, back), FELICA_OK);
    ck_assert_mem_eq(back, expect, 16);
    ck_assert_mem_ne(back + 16, expect, 16);
    ck_assert_int_eq(felica_aes_cbc_decrypt(key, iv, back, 32, back), FELICA_OK);
    ck_assert_mem_eq(back, pt, 32);
    /* not a whole number of blocks */
    ck_assert_int_eq(felica_aes_cbc_encrypt(key, iv, pt, 15, ct), FELICA_ERR_BAD_PARAM);
}
END_TEST

START_TEST(kcv_and_wrap)
{
    uint8_t key[16], dek[16], pt[16], wrapped[16], back[16], kcv[3], expect[16];

    unhex(rfc4493_key, key);
    ck_assert_int_eq(felica_kcv(key, kcv), FELICA_OK);
    unhex("2cf6a4", expect);
    ck_assert_mem_eq(kcv, expect, 3);

    /* wrapping is one CBC block under a zero ICV, i.e. AES-ECB */
    unhex("000102030405060708090a0b0c0d0e0f", dek);
    unhex("00112233445566778899aabbccddeeff", pt);
    unhex("69c4e0d86a7b0430d8cdb78070b4c55a", expect);
    ck_assert_int_eq(felica_key_wrap(dek, pt, wrapped), FELICA_OK);
    ck_assert_mem_eq(wrapped, expect, 16);
    ck_assert_int_eq(felica_key_unwrap(dek, wrapped, back), FELICA_OK);
    ck_assert_mem_eq(back, pt, 16);
    /* unwrapping under another DEK gives another key, whose KCV differs */
    dek[0] ^= 1;
    ck_assert_int_eq(felica_key_unwrap(dek, wrapped, back), FELICA_OK);
    ck_assert_mem_ne(back, pt, 16);
    ck_assert_int_eq(felica_kcv(back, expect), FELICA_OK);
    ck_assert_int_eq(felica_kcv(pt, kcv), FELICA_OK);
    ck_assert_mem_ne(expect, kcv, 3);
}
END_TEST

START_TEST(memeq_random_wipe)
{
    uint8_t a[32], b[32], zero[32] = { 0 };

    ck_assert_int_eq(felica_random(a, sizeof a), FELICA_OK);
    memcpy(b, a, sizeof a);
    ck_assert_int_eq(felica_memeq(a, b, sizeof a), 1);
    b[31] ^= 0x01;
    ck_assert_int_eq(felica_memeq(a, b, sizeof a), 0);
    b[31] ^= 0x01;
    b[0] ^= 0x80;
    ck_assert_int_eq(felica_memeq(a, b, sizeof a), 0);
    ck_assert_int_eq(felica_memeq(a, b, 0), 1);
    /* two draws differ (a 2^-256 false failure) */
    ck_assert_int_eq(felica_random(b, sizeof b), FELICA_OK);
    ck_assert_int_eq(felica_memeq(a, b, sizeof a), 0);
    felica_wipe(a, sizeof a);
    ck_assert_mem_eq(a, zero, sizeof a);
}
END_TEST

START_TEST(diversify_deterministic_and_distinct)
{
    felica_keyset_t master, k1, k2, k3, k4;
    uint8_t idm1[8] = { 0x01, 0x2E, 0x4C, 0xD3, 0x12, 0x34, 0x56, 0x78 };
    uint8_t idm2[8] = { 0x01, 0x2E, 0x4C, 0xD3, 0x12, 0x34, 0x56, 0x79 };
    size_t i;

    for (i = 0; i < 16; i++) {
        master.enc[i] = (uint8_t)(0x40 + i);
        master.mac[i] = (uint8_t)(0x50 + i);
        master.dek[i] = (uint8_t)(0x60 + i);
    }
    master.kvn = 0x30;
    ck_assert_int_eq(felica_keys_diversify(&master, idm1, &k1), FELICA_OK);
    ck_assert_int_eq(felica_keys_diversify(&master, idm1, &k2), FELICA_OK);
    ck_assert_mem_eq(&k1, &k2, sizeof k1);
    ck_assert_uint_eq(k1.kvn, 0x30);
    ck_assert_mem_ne(k1.enc, master.enc, 16);
    ck_assert_mem_ne(k1.enc, k1.mac, 16);
    ck_assert_mem_ne(k1.mac, k1.dek, 16);

    ck_assert_int_eq(felica_keys_diversify(&master, idm2, &k3), FELICA_OK);
    ck_assert_mem_ne(k1.enc, k3.enc, 16);
    ck_assert_mem_ne(k1.mac, k3.mac, 16);
    ck_assert_mem_ne(k1.dek, k3.dek, 16);

    master.kvn = 0x31;
    ck_assert_int_eq(felica_keys_diversify(&master, idm1, &k4), FELICA_OK);
    ck_assert_uint_eq(k4.kvn, 0x31);
    ck_assert_mem_ne(k1.enc, k4.enc, 16);
    ck_assert_mem_ne(k1.mac, k4.mac, 16);
    ck_assert_mem_ne(k1.dek, k4.dek, 16);

    /* K-ENC is the SCP03 KDF with constant 0x70 over IDm || KVN */
    {
        uint8_t ctx[9], expect[16];
        memcpy(ctx, idm1, 8);
        ctx[8] = 0x31;
        ck_assert_int_eq(felica_scp03_kdf(master.enc, 0x70, ctx, 9, 128, expect), FELICA_OK);
        ck_assert_mem_eq(k4.enc, expect, 16);
    }
}
END_TEST

static Suite *crypto_suite(void)
{
    Suite *s = suite_create("felica_crypto");
    TCase *tc = tcase_create("crypto");

    tcase_add_test(tc, cmac_rfc4493_empty);
    tcase_add_test(tc, cmac_rfc4493_16);
    tcase_add_test(tc, cmac_rfc4493_40);
    tcase_add_test(tc, cmac_rfc4493_64);
    tcase_add_test(tc, cmac_rejects_bad_key_length);
    tcase_add_test(tc, kdf_layout_64);
    tcase_add_test(tc, kdf_layout_128);
    tcase_add_test(tc, kdf_layout_256);
    tcase_add_test(tc, kdf_known_answers);
    tcase_add_test(tc, kdf_rejects_bad_length);
    tcase_add_test(tc, pad_edges);
    tcase_add_test(tc, pad_needs_room);
    tcase_add_test(tc, unpad_rejects_malformed);
    tcase_add_test(tc, aes_block_and_cbc);
    tcase_add_test(tc, kcv_and_wrap);
    tcase_add_test(tc, memeq_random_wipe);
    tcase_add_test(tc, diversify_deterministic_and_distinct);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(crypto_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
