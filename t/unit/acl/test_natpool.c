/* Check tests of IdgwAclNatPool's arithmetic and lookup
 * (modules/acl/idgw_acl_natpool.c): a pool address gets the address limit
 * of all the subscribers behind it, never looser, within the limiter's
 * bounds. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include <apr_general.h>

#include "idgw_acl_natpool.h"

#define SEC INT64_C(1000000)

static apr_pool_t *pool;

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

START_TEST(the_address_limit_grows_with_the_subscribers)
{
    idgw_gcra one, g;

    ck_assert_ptr_null(idgw_gcra_init(&one, 3, 3600 * SEC, 3));
    g = idgw_gcra_scaled(&one, 3, 3600 * SEC, 3, 30);
    /* 90 per hour, burst 90 */
    ck_assert_int_eq(g.interval, 40 * SEC);
    ck_assert_int_eq(g.tolerance, 89 * 40 * SEC);
    /* one subscriber, or none: the configured limit */
    g = idgw_gcra_scaled(&one, 3, 3600 * SEC, 3, 1);
    ck_assert_int_eq(g.interval, one.interval);
    ck_assert_int_eq(g.tolerance, one.tolerance);
}
END_TEST

START_TEST(the_limiter_bounds_hold)
{
    idgw_gcra one, g;

    ck_assert_ptr_null(idgw_gcra_init(&one, 1000000, SEC, 1000000));
    g = idgw_gcra_scaled(&one, 1000000, SEC, 1000000, IDGW_ACL_NATPOOL_SUBSCRIBERS_MAX);
    /* count and burst are capped where the limiter's arithmetic stops */
    ck_assert_int_ge(g.interval, 1);
    ck_assert_int_le(g.interval, one.interval);
    ck_assert_int_le(g.tolerance, (int64_t)IDGW_GCRA_BURST_MAX * g.interval);
}
END_TEST

START_TEST(an_address_finds_its_pool)
{
    apr_array_header_t *pools = apr_array_make(pool, 2, sizeof(idgw_acl_natpool));
    idgw_acl_natpool *a = apr_array_push(pools), *b;
    idgw_ip ip;

    a->subscribers = 64;
    a->nets = idgw_cidr_set_make(pool);
    ck_assert_ptr_null(idgw_cidr_set_add(a->nets, "10.64.0.0/10"));
    b = apr_array_push(pools);
    b->subscribers = 8;
    b->nets = idgw_cidr_set_make(pool);
    ck_assert_ptr_null(idgw_cidr_set_add(b->nets, "10.0.0.0/8"));
    ck_assert_ptr_null(idgw_cidr_set_add(b->nets, "2001:db8::/32"));
    ck_assert(idgw_ip_parse("10.70.1.2", &ip));
    ck_assert_uint_eq(idgw_acl_natpool_subscribers(pools, &ip), 64);   /* the first line */
    ck_assert(idgw_ip_parse("10.1.2.3", &ip));
    ck_assert_uint_eq(idgw_acl_natpool_subscribers(pools, &ip), 8);
    ck_assert(idgw_ip_parse("2001:db8:1::1", &ip));
    ck_assert_uint_eq(idgw_acl_natpool_subscribers(pools, &ip), 8);
    ck_assert(idgw_ip_parse("192.0.2.1", &ip));
    ck_assert_uint_eq(idgw_acl_natpool_subscribers(pools, &ip), 0);
    ck_assert_uint_eq(idgw_acl_natpool_subscribers(NULL, &ip), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("natpool");
    TCase *tc = tcase_create("natpool");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, the_address_limit_grows_with_the_subscribers);
    tcase_add_test(tc, the_limiter_bounds_hold);
    tcase_add_test(tc, an_address_finds_its_pool);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
