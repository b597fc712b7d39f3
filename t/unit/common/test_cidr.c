/* Check tests of the CIDR parser and matcher (modules/idgw_cidr.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_network_io.h>

#include "idgw_cidr.h"

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

static const char *canon(const char *text)
{
    static char buf[IDGW_CIDR_TEXT_MAX];
    idgw_cidr c;
    const char *err = idgw_cidr_parse(pool, text, &c);

    ck_assert_msg(err == NULL, "'%s' refused: %s", text, err ? err : "");
    return idgw_cidr_format(&c, buf, sizeof(buf));
}

static int refused(const char *text)
{
    idgw_cidr c;
    return idgw_cidr_parse(pool, text, &c) != NULL;
}

START_TEST(parses_ipv4_and_ipv6_prefixes)
{
    ck_assert_str_eq(canon("192.0.2.0/24"), "192.0.2.0/24");
    ck_assert_str_eq(canon("10.0.0.0/8"), "10.0.0.0/8");
    ck_assert_str_eq(canon("0.0.0.0/0"), "0.0.0.0/0");
    ck_assert_str_eq(canon("198.51.100.7"), "198.51.100.7/32");
    ck_assert_str_eq(canon("2001:db8::/32"), "2001:db8::/32");
    ck_assert_str_eq(canon("2001:DB8:0:0::/48"), "2001:db8::/48");
    ck_assert_str_eq(canon("::1"), "::1/128");
    ck_assert_str_eq(canon("::/0"), "::/0");
    /* IPv4-mapped IPv6 prefixes become the IPv4 prefix they cover. */
    ck_assert_str_eq(canon("::ffff:192.0.2.0/120"), "192.0.2.0/24");
    ck_assert_str_eq(canon("::ffff:203.0.113.9"), "203.0.113.9/32");
}
END_TEST

START_TEST(refuses_malformed_entries)
{
    const char *bad[] = {
        "", "/24", "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/-1", "192.0.2.0/+8",
        "192.0.2.0/08", "192.0.2.0/2a", "192.0.2/24", "256.0.0.0/8",
        "192.0.2.0 /24", " 192.0.2.0/24", "192.0.2.0/24 ", "192.0.02.0/24",
        "192.0.2.0/24/1", "2001:db8::/129", "2001:db8:::/32", "2001:zz8::/32",
        "::ffff:192.0.2.0/95", "example.org/24", "1.2.3.4.5",
        "1111:2222:3333:4444:5555:6666:7777:8888:9999/128",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(refused(bad[i]), "'%s' was accepted", bad[i]);
    }
    ck_assert(refused(NULL));
}
END_TEST

START_TEST(refuses_host_bits_with_a_clear_message)
{
    idgw_cidr c;
    const char *err = idgw_cidr_parse(pool, "10.0.0.1/8", &c);

    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "host bits"));
    ck_assert(refused("192.0.2.128/24"));
    ck_assert(refused("192.0.2.1/31"));
    ck_assert(!refused("192.0.2.2/31"));
    ck_assert(refused("2001:db8::1/64"));
    ck_assert(refused("2001:db8:8000::/32"));
    ck_assert(!refused("2001:db8:8000::/33"));
    err = idgw_cidr_parse(pool, "2001:db8::/129", &c);
    ck_assert_ptr_nonnull(strstr(err, "0..128"));
}
END_TEST

START_TEST(matches_prefix_boundaries)
{
    idgw_cidr_set *set = idgw_cidr_set_make(pool);

    ck_assert_ptr_null(idgw_cidr_set_add(set, "192.0.2.64/26"));
    ck_assert_ptr_null(idgw_cidr_set_add(set, "2001:db8:ab00::/40"));
    ck_assert_int_eq(idgw_cidr_set_count(set), 2);

    ck_assert_int_eq(idgw_cidr_set_find_text(set, "192.0.2.63"), -1);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, "192.0.2.64"), 0);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, "192.0.2.127"), 0);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, "192.0.2.128"), -1);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, "2001:db8:aaff:ffff::1"), -1);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, "2001:db8:ab00::"), 1);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, "2001:db8:abff:ffff:ffff:ffff:ffff:ffff"), 1);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, "2001:db8:ac00::"), -1);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, "not-an-address"), -1);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, ""), -1);
}
END_TEST

START_TEST(families_do_not_cross)
{
    idgw_cidr_set *v4all = idgw_cidr_set_make(pool);
    idgw_cidr_set *v6all = idgw_cidr_set_make(pool);

    ck_assert_ptr_null(idgw_cidr_set_add(v4all, "0.0.0.0/0"));
    ck_assert_ptr_null(idgw_cidr_set_add(v6all, "::/0"));
    ck_assert_int_eq(idgw_cidr_set_find_text(v4all, "203.0.113.5"), 0);
    ck_assert_int_eq(idgw_cidr_set_find_text(v4all, "2001:db8::5"), -1);
    ck_assert_int_eq(idgw_cidr_set_find_text(v6all, "2001:db8::5"), 0);
    ck_assert_int_eq(idgw_cidr_set_find_text(v6all, "203.0.113.5"), -1);
    /* A mapped client address is the IPv4 client it carries. */
    ck_assert_int_eq(idgw_cidr_set_find_text(v4all, "::ffff:203.0.113.5"), 0);
    ck_assert_int_eq(idgw_cidr_set_find_text(v6all, "::ffff:203.0.113.5"), -1);
}
END_TEST

START_TEST(matches_apr_socket_addresses)
{
    idgw_cidr_set *set = idgw_cidr_set_make(pool);
    apr_sockaddr_t *sa;
    idgw_ip ip;

    ck_assert_ptr_null(idgw_cidr_set_add(set, "10.20.0.0/16"));
    ck_assert_ptr_null(idgw_cidr_set_add(set, "fd00:1::/32"));

    ck_assert_int_eq(apr_sockaddr_info_get(&sa, "10.20.30.40", APR_INET, 443, 0, pool),
                     APR_SUCCESS);
    ck_assert(idgw_ip_from_sockaddr(sa, &ip));
    ck_assert_int_eq(ip.family, 4);
    ck_assert_int_eq(idgw_cidr_set_find(set, &ip), 0);

    ck_assert_int_eq(apr_sockaddr_info_get(&sa, "10.21.0.1", APR_INET, 443, 0, pool),
                     APR_SUCCESS);
    ck_assert(idgw_ip_from_sockaddr(sa, &ip));
    ck_assert_int_eq(idgw_cidr_set_find(set, &ip), -1);

#if APR_HAVE_IPV6
    ck_assert_int_eq(apr_sockaddr_info_get(&sa, "fd00:1:2::3", APR_INET6, 443, 0, pool),
                     APR_SUCCESS);
    ck_assert(idgw_ip_from_sockaddr(sa, &ip));
    ck_assert_int_eq(ip.family, 6);
    ck_assert_int_eq(idgw_cidr_set_find(set, &ip), 1);
#endif
    ck_assert(!idgw_ip_from_sockaddr(NULL, &ip));
}
END_TEST

START_TEST(first_matching_entry_and_growth)
{
    idgw_cidr_set *set = idgw_cidr_set_make(pool);
    char text[32];

    /* Enough entries to make the set grow several times. */
    for (int i = 0; i < 100; i++) {
        snprintf(text, sizeof(text), "10.%d.0.0/16", i);
        ck_assert_ptr_null(idgw_cidr_set_add(set, text));
    }
    ck_assert_ptr_null(idgw_cidr_set_add(set, "10.0.0.0/8"));
    ck_assert_int_eq(idgw_cidr_set_count(set), 101);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, "10.57.1.1"), 57);
    ck_assert_int_eq(idgw_cidr_set_find_text(set, "10.200.1.1"), 100);
    ck_assert_int_eq(idgw_cidr_set_get(set, 57)->bits, 16);
    ck_assert_ptr_null(idgw_cidr_set_get(set, 101));
    ck_assert_ptr_null(idgw_cidr_set_get(set, -1));
    /* A bad entry leaves the set unchanged. */
    ck_assert_ptr_nonnull(idgw_cidr_set_add(set, "10.0.0.0/99"));
    ck_assert_int_eq(idgw_cidr_set_count(set), 101);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cidr");
    TCase *tc = tcase_create("cidr");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parses_ipv4_and_ipv6_prefixes);
    tcase_add_test(tc, refuses_malformed_entries);
    tcase_add_test(tc, refuses_host_bits_with_a_clear_message);
    tcase_add_test(tc, matches_prefix_boundaries);
    tcase_add_test(tc, families_do_not_cross);
    tcase_add_test(tc, matches_apr_socket_addresses);
    tcase_add_test(tc, first_matching_entry_and_growth);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
