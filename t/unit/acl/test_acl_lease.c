/* idgw_acl_lease: what a child asks for and spends on its own. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "idgw_acl_lease.h"

static apr_pool_t *pool;
static idgw_acl_leases *t;

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    ck_assert_ptr_null(idgw_acl_leases_create(&t, pool, 256));
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

#define MS(n) apr_time_from_msec(n)
#define K "addr:192.0.2.7"

static int take(const char *key, apr_time_t now, unsigned cap, unsigned *want)
{
    *want = 0;
    return idgw_acl_lease_take(t, key, strlen(key), now, cap, want);
}

START_TEST(a_cold_key_asks_for_its_own_token_only)
{
    unsigned want;

    ck_assert_int_eq(take(K, MS(1000), 16, &want), 0);
    ck_assert_uint_eq(want, 1);
    /* seen again after the TTL: still cold */
    ck_assert_int_eq(take(K, MS(1000) + IDGW_ACL_LEASE_TTL, 16, &want), 0);
    ck_assert_uint_eq(want, 1);
}
END_TEST

START_TEST(a_hot_key_doubles_up_to_the_cap_and_spends_locally)
{
    unsigned want, expect[] = { 2, 4, 8, 16, 17, 17 };
    apr_time_t now = MS(1000);

    ck_assert_int_eq(take(K, now, 16, &want), 0);
    for (int round = 0; round < 6; round++) {
        now += MS(1);
        ck_assert_int_eq(take(K, now, 16, &want), 0);
        ck_assert_uint_eq(want, expect[round]);
        unsigned spare;

        idgw_acl_lease_grant(t, K, strlen(K), want - 1, now);
        for (unsigned i = 0; i < want - 1; i++) {
            ck_assert_int_eq(take(K, now + MS(1), 16, &spare), 1);
        }
        now += MS(1);
    }
}
END_TEST

START_TEST(tokens_expire_and_an_unspent_lease_halves_the_ask)
{
    unsigned want;
    apr_time_t now = MS(1000);

    take(K, now, 16, &want);
    take(K, now + MS(1), 16, &want);
    ck_assert_uint_eq(want, 2);
    idgw_acl_lease_grant(t, K, strlen(K), 7, now + MS(1));
    ck_assert_int_eq(take(K, now + MS(2), 16, &want), 1);
    /* past the TTL the six left are gone; the key was seen within it, so
     * it still asks for one extra token */
    now += MS(1) + IDGW_ACL_LEASE_TTL;
    ck_assert_int_eq(take(K, now, 16, &want), 0);
    ck_assert_uint_eq(want, 2);
    /* a grant of nothing (the bucket is over half full) ends the lease */
    take(K, now + MS(1), 16, &want);
    idgw_acl_lease_grant(t, K, strlen(K), 0, now + MS(1));
    ck_assert_int_eq(take(K, now + MS(2), 16, &want), 0);
}
END_TEST

START_TEST(no_share_means_no_lease_and_keys_are_apart)
{
    unsigned want;

    take(K, MS(1000), 0, &want);
    ck_assert_int_eq(take(K, MS(1001), 0, &want), 0);
    ck_assert_uint_eq(want, 1);
    idgw_acl_lease_grant(t, K, strlen(K), 3, MS(1001));
    ck_assert_int_eq(take("addr:192.0.2.8", MS(1002), 16, &want), 0);
    ck_assert_int_eq(take(K, MS(1002), 16, &want), 1);
}
END_TEST

/* Threads that missed at once each bring a share back: they add up. */
START_TEST(concurrent_grants_add_up)
{
    unsigned want;
    int spent = 0;

    idgw_acl_lease_grant(t, K, strlen(K), 4, MS(1000));
    idgw_acl_lease_grant(t, K, strlen(K), 4, MS(1000));
    idgw_acl_lease_grant(t, K, strlen(K), 0, MS(1000));
    for (int i = 0; i < 10; i++) {
        spent += take(K, MS(1001), 16, &want);
    }
    ck_assert_int_eq(spent, 8);
    /* at most IDGW_ACL_LEASE_MAX held */
    for (int i = 0; i < 3; i++) {
        idgw_acl_lease_grant(t, K, strlen(K), IDGW_ACL_LEASE_MAX, MS(1002));
    }
    spent = 0;
    for (unsigned i = 0; i < IDGW_ACL_LEASE_MAX + 10; i++) {
        spent += take(K, MS(1003), 16, &want);
    }
    ck_assert_int_eq(spent, IDGW_ACL_LEASE_MAX);
}
END_TEST

/* A client naming many values only evicts leases: no key ever spends a
 * token it was not granted. */
START_TEST(eviction_never_mints_tokens)
{
    unsigned want;
    char key[32];
    int spent = 0;

    idgw_acl_lease_grant(t, K, strlen(K), 5, MS(1000));
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "addr:10.0.%d.%d", i / 256, i % 256);
        spent += take(key, MS(1000) + i, 16, &want);
    }
    ck_assert_int_eq(spent, 0);
    for (int i = 0; i < 10; i++) {
        spent += take(K, MS(1010), 16, &want);
    }
    ck_assert_int_le(spent, 5);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acl_lease");
    TCase *tc = tcase_create("lease");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_cold_key_asks_for_its_own_token_only);
    tcase_add_test(tc, a_hot_key_doubles_up_to_the_cap_and_spends_locally);
    tcase_add_test(tc, tokens_expire_and_an_unspent_lease_halves_the_ask);
    tcase_add_test(tc, no_share_means_no_lease_and_keys_are_apart);
    tcase_add_test(tc, concurrent_grants_add_up);
    tcase_add_test(tc, eviction_never_mints_tokens);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
