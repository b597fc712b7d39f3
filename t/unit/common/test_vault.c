/*
 * test_vault.c - AES-256-GCM vault: round trip, tampering, wrong key,
 * rotation, binding to session and item, key file parsing and permissions.
 */
#include <check.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "idgw_vault.h"

#define KEY_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define SID "0123456789abcdef0123456789abcdef"
#define PAN "4980123412341234"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static idgw_vault_keys *keys(const char *text)
{
    idgw_vault_keys *k = NULL;
    char err[128];

    ck_assert_int_eq(idgw_vault_keys_parse(pool, text, strlen(text), &k, err, sizeof(err)),
                     APR_SUCCESS);
    return k;
}

static void seal(idgw_vault_keys *k, const char *name, unsigned char **blob, size_t *len)
{
    ck_assert_int_eq(idgw_vault_seal(pool, k, SID, name, PAN, strlen(PAN), blob, len),
                     APR_SUCCESS);
}

START_TEST(round_trip)
{
    idgw_vault_keys *k = keys(KEY_A "\n");
    unsigned char *blob, *plain;
    size_t len, plain_len;

    seal(k, "pan", &blob, &len);
    ck_assert_uint_eq(len, strlen(PAN) + IDGW_VAULT_OVERHEAD);
    /* the plaintext does not appear in the blob */
    ck_assert_ptr_null(memmem(blob, len, PAN, strlen(PAN)));
    ck_assert_int_eq(idgw_vault_unseal(pool, k, SID, "pan", blob, len, &plain, &plain_len),
                     APR_SUCCESS);
    ck_assert_uint_eq(plain_len, strlen(PAN));
    ck_assert_mem_eq(plain, PAN, plain_len);
}
END_TEST

START_TEST(fresh_nonce_each_time)
{
    idgw_vault_keys *k = keys(KEY_A);
    unsigned char *b1, *b2;
    size_t l1, l2;

    seal(k, "pan", &b1, &l1);
    seal(k, "pan", &b2, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert(memcmp(b1, b2, l1) != 0);
}
END_TEST

START_TEST(tamper_any_byte)
{
    idgw_vault_keys *k = keys(KEY_A);
    unsigned char *blob, *copy, *plain;
    size_t len, plain_len, i;

    seal(k, "pan", &blob, &len);
    copy = apr_palloc(pool, len);
    for (i = 0; i < len; i++) {
        apr_status_t rv;

        memcpy(copy, blob, len);
        copy[i] ^= 0x01;
        rv = idgw_vault_unseal(pool, k, SID, "pan", copy, len, &plain, &plain_len);
        ck_assert_msg(rv != APR_SUCCESS, "byte %zu flipped and still unsealed", i);
    }
    /* truncated */
    ck_assert_int_ne(idgw_vault_unseal(pool, k, SID, "pan", blob, len - 1, &plain, &plain_len),
                     APR_SUCCESS);
    ck_assert_int_eq(idgw_vault_unseal(pool, k, SID, "pan", blob, IDGW_VAULT_OVERHEAD - 1,
                                       &plain, &plain_len), APR_EINVAL);
}
END_TEST

START_TEST(bound_to_session_and_item)
{
    idgw_vault_keys *k = keys(KEY_A);
    unsigned char *blob, *plain;
    size_t len, plain_len;

    seal(k, "pan", &blob, &len);
    ck_assert_int_eq(idgw_vault_unseal(pool, k, "1123456789abcdef0123456789abcdef", "pan",
                                       blob, len, &plain, &plain_len), APR_EGENERAL);
    ck_assert_int_eq(idgw_vault_unseal(pool, k, SID, "expiry", blob, len, &plain, &plain_len),
                     APR_EGENERAL);
}
END_TEST

START_TEST(wrong_key)
{
    idgw_vault_keys *ka = keys(KEY_A), *kb = keys(KEY_B);
    unsigned char *blob, *plain;
    size_t len, plain_len;

    seal(ka, "pan", &blob, &len);
    ck_assert_int_eq(idgw_vault_unseal(pool, kb, SID, "pan", blob, len, &plain, &plain_len),
                     APR_ENOENT);
    /* a blob claiming key B's id but sealed with A does not authenticate */
    {
        unsigned char *b2;
        size_t l2;

        seal(kb, "pan", &b2, &l2);
        memcpy(blob + 1, b2 + 1, 4);
        ck_assert_int_eq(idgw_vault_unseal(pool, kb, SID, "pan", blob, len, &plain,
                                           &plain_len), APR_EGENERAL);
    }
}
END_TEST

START_TEST(rotation)
{
    idgw_vault_keys *old = keys(KEY_A);
    idgw_vault_keys *rotated = keys("# new key first\n" KEY_B "\n" KEY_A "\n");
    idgw_vault_keys *retired = keys(KEY_B);
    unsigned char *b_old, *b_new, *plain;
    size_t l_old, l_new, plain_len;

    ck_assert_int_eq(idgw_vault_key_count(rotated), 2);
    seal(old, "pan", &b_old, &l_old);
    seal(rotated, "pan", &b_new, &l_new);
    /* the first key seals */
    ck_assert_int_eq(idgw_vault_unseal(pool, retired, SID, "pan", b_new, l_new, &plain,
                                       &plain_len), APR_SUCCESS);
    /* every key unseals */
    ck_assert_int_eq(idgw_vault_unseal(pool, rotated, SID, "pan", b_old, l_old, &plain,
                                       &plain_len), APR_SUCCESS);
    ck_assert_mem_eq(plain, PAN, plain_len);
    /* once the old key is dropped, its blobs are gone */
    ck_assert_int_eq(idgw_vault_unseal(pool, retired, SID, "pan", b_old, l_old, &plain,
                                       &plain_len), APR_ENOENT);
}
END_TEST

START_TEST(key_file_syntax)
{
    idgw_vault_keys *k;
    char err[128], *many;
    int i;

    ck_assert_int_eq(idgw_vault_keys_parse(pool, "", 0, &k, err, sizeof(err)), APR_EINVAL);
    ck_assert_str_eq(err, "no key");
    ck_assert_int_eq(idgw_vault_keys_parse(pool, "# only\n\n", 8, &k, err, sizeof(err)),
                     APR_EINVAL);
    ck_assert_int_eq(idgw_vault_keys_parse(pool, KEY_A "0", strlen(KEY_A) + 1, &k, err,
                                           sizeof(err)), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "line 1"));
    ck_assert_int_eq(idgw_vault_keys_parse(pool, "\n" KEY_A "\n" KEY_A, 2 * strlen(KEY_A) + 2,
                                           &k, err, sizeof(err)), APR_EINVAL);
    ck_assert_str_eq(err, "line 3: duplicate key");
    ck_assert_int_eq(idgw_vault_keys_parse(pool, "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", strlen(KEY_A), &k, err,
                                           sizeof(err)), APR_EINVAL);
    /* CRLF and surrounding blanks are tolerated */
    ck_assert_int_eq(idgw_vault_keys_parse(pool, "  " KEY_A " \r\n", strlen(KEY_A) + 5, &k,
                                           err, sizeof(err)), APR_SUCCESS);
    many = apr_pstrdup(pool, "");
    for (i = 0; i <= IDGW_VAULT_MAX_KEYS; i++)
        many = apr_psprintf(pool, "%s%064x\n", many, i + 1);
    ck_assert_int_eq(idgw_vault_keys_parse(pool, many, strlen(many), &k, err, sizeof(err)),
                     APR_EINVAL);
}
END_TEST

START_TEST(key_file_permissions)
{
    char path[] = "/tmp/idgw-vault-test-XXXXXX";
    int fd = mkstemp(path);
    idgw_vault_keys *k;
    char err[256];

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, KEY_A "\n", strlen(KEY_A) + 1), (ssize_t)strlen(KEY_A) + 1);
    close(fd);
    chmod(path, 0600);
    ck_assert_int_eq(idgw_vault_keys_load(pool, path, &k, err, sizeof(err)), APR_SUCCESS);
    ck_assert_int_eq(idgw_vault_key_count(k), 1);
    chmod(path, 0644);
    ck_assert_int_eq(idgw_vault_keys_load(pool, path, &k, err, sizeof(err)), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "chmod"));
    unlink(path);
    ck_assert_int_ne(idgw_vault_keys_load(pool, path, &k, err, sizeof(err)), APR_SUCCESS);
}
END_TEST

/* The request body reader (mod_idgw_session) keeps the raw body, password
 * and all, in a buffer registered here: cleared when its pool is, error
 * paths included, since every path ends with the pool. */
START_TEST(wipe_on_cleanup_clears)
{
    apr_pool_t *sub;
    char *buf;

    apr_pool_create(&sub, pool);
    buf = apr_palloc(sub, 64);
    memcpy(buf, "<password>docomo01</password>", 30);
    idgw_vault_wipe_on_cleanup(sub, buf, 64);
    /* a cleared pool keeps its memory block: the buffer can be looked at */
    apr_pool_clear(sub);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(buf[i], 0);
    apr_pool_destroy(sub);
}
END_TEST

START_TEST(size_limits)
{
    idgw_vault_keys *k = keys(KEY_A);
    unsigned char *blob, *plain;
    size_t len, plain_len;
    char *big = apr_pcalloc(pool, IDGW_VAULT_MAX_ITEM + 1);

    ck_assert_int_eq(idgw_vault_seal(pool, k, SID, "x", big, IDGW_VAULT_MAX_ITEM + 1, &blob,
                                     &len), APR_EINVAL);
    ck_assert_int_eq(idgw_vault_seal(pool, k, SID, "x", "", 0, &blob, &len), APR_SUCCESS);
    ck_assert_int_eq(idgw_vault_unseal(pool, k, SID, "x", blob, len, &plain, &plain_len),
                     APR_SUCCESS);
    ck_assert_uint_eq(plain_len, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vault");
    TCase *tc = tcase_create("vault");
    SRunner *sr;
    int failed;

    apr_initialize();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, wipe_on_cleanup_clears);
    tcase_add_test(tc, fresh_nonce_each_time);
    tcase_add_test(tc, tamper_any_byte);
    tcase_add_test(tc, bound_to_session_and_item);
    tcase_add_test(tc, wrong_key);
    tcase_add_test(tc, rotation);
    tcase_add_test(tc, key_file_syntax);
    tcase_add_test(tc, key_file_permissions);
    tcase_add_test(tc, size_limits);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
