/* Check tests of the directive value parsers (modules/common/idgw_conf_parse.c)
 * and the merge helpers of the configuration style (idgw_conf.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "idgw_conf_parse.h"

#define SEC APR_USEC_PER_SEC
#define DAY (86400 * SEC)

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

START_TEST(duration_parser)
{
    apr_interval_time_t t;

    ck_assert_ptr_null(idgw_parse_duration("250ms", 0, APR_USEC_PER_SEC, &t));
    ck_assert_int_eq(t, 250000);
    ck_assert_ptr_null(idgw_parse_duration("30", 0, apr_time_from_sec(60), &t));
    ck_assert_int_eq(t, apr_time_from_sec(30));
    ck_assert_ptr_null(idgw_parse_duration("15m", 0, apr_time_from_sec(3600), &t));
    ck_assert_int_eq(t, apr_time_from_sec(900));
    ck_assert_ptr_null(idgw_parse_duration("2h", 0, apr_time_from_sec(7200), &t));
    ck_assert_ptr_nonnull(idgw_parse_duration("3h", 0, apr_time_from_sec(7200), &t));
    ck_assert_ptr_nonnull(idgw_parse_duration("10x", 0, apr_time_from_sec(7200), &t));
    ck_assert_ptr_nonnull(idgw_parse_duration("-1", 0, apr_time_from_sec(7200), &t));
    ck_assert_ptr_nonnull(idgw_parse_duration("", 0, apr_time_from_sec(7200), &t));
    ck_assert_ptr_nonnull(idgw_parse_duration(NULL, 0, apr_time_from_sec(7200), &t));
    ck_assert_ptr_nonnull(idgw_parse_duration("1ms", 1000 * 2, apr_time_from_sec(1), &t));
}
END_TEST

/* Every syntax a module's duration accepted before there was one parser:
 * the session's (ms s m h, bare seconds), the backend's (ms s m, bare
 * seconds, 1ms..1h) and mod_idgw_acl's (s m h d, bare seconds, 1s..365d). */
START_TEST(duration_union_syntax)
{
    apr_interval_time_t t;

    ck_assert_ptr_null(idgw_parse_duration("7", 1000, 3600 * SEC, &t));
    ck_assert_int_eq(t, 7 * SEC);
    ck_assert_ptr_null(idgw_parse_duration("3s", 1000, 3600 * SEC, &t));
    ck_assert_int_eq(t, 3 * SEC);
    ck_assert_ptr_null(idgw_parse_duration("1h", 1000, 3600 * SEC, &t));
    ck_assert_int_eq(t, 3600 * SEC);
    ck_assert_ptr_null(idgw_parse_duration("365d", SEC, 365 * DAY, &t));
    ck_assert_int_eq(t, 365 * DAY);
    ck_assert_ptr_null(idgw_parse_duration("90", SEC, 365 * DAY, &t));
    ck_assert_int_eq(t, 90 * SEC);
    {
        /* refused by the backend's range (1ms..1h) */
        const char *bad[] = { "0ms", "61m", "2h", "1d", "-1s", "5 s", "9999999999s", "s" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            ck_assert_msg(idgw_parse_duration(bad[i], 1000, 3600 * SEC, &t) != NULL,
                          "duration '%s' was accepted", bad[i]);
    }
    {
        /* refused by mod_idgw_acl's range (1s..365d) */
        const char *bad[] = { "", "0", "0s", "s", "1x", "366d", "-5", "5 m", "8761h",
                              "99999999999999999999", " 5s", "5s ", "5ss", "5D" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            ck_assert_msg(idgw_parse_duration(bad[i], SEC, 365 * DAY, &t) != NULL,
                          "duration '%s' was accepted", bad[i]);
    }
    /* the messages the directives' tests look for */
    ck_assert_ptr_nonnull(strstr(idgw_parse_duration("10x", 0, SEC, &t), "expected a duration"));
    ck_assert_ptr_nonnull(strstr(idgw_parse_duration("10x", 0, SEC, &t), "duration unit"));
    ck_assert_str_eq(idgw_parse_duration("2h", 0, SEC, &t), "duration out of range");
}
END_TEST

START_TEST(size_parser)
{
    apr_int64_t n;

    ck_assert_ptr_null(idgw_parse_size("64k", 1, 64 << 20, &n));
    ck_assert_int_eq(n, 65536);
    ck_assert_ptr_null(idgw_parse_size("64K", 1, 64 << 20, &n));
    ck_assert_int_eq(n, 65536);
    ck_assert_ptr_null(idgw_parse_size("1M", 1, 64 << 20, &n));
    ck_assert_int_eq(n, 1048576);
    ck_assert_ptr_null(idgw_parse_size("1m", 1, 64 << 20, &n));
    ck_assert_int_eq(n, 1048576);
    ck_assert_ptr_null(idgw_parse_size("100", 1, 64 << 20, &n));
    ck_assert_int_eq(n, 100);
    ck_assert_ptr_null(idgw_parse_size("64m", 1, 64 << 20, &n));
    ck_assert_int_eq(n, 64 << 20);
    {
        const char *bad[] = { "65m", "0", "1g", "", "k", "-1", "1 k", "1kb", "9999999999" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            ck_assert_msg(idgw_parse_size(bad[i], 1, 64 << 20, &n) != NULL,
                          "size '%s' was accepted", bad[i]);
    }
    ck_assert_ptr_nonnull(idgw_parse_size(NULL, 1, 64 << 20, &n));
    ck_assert_str_eq(idgw_parse_size("2m", 64, 1 << 20, &n), "size out of range");
}
END_TEST

START_TEST(int_parser)
{
    long v;

    ck_assert_ptr_null(idgw_parse_int("12", 1, 12, &v));
    ck_assert_int_eq(v, 12);
    ck_assert_ptr_null(idgw_parse_int("0", 0, 1024, &v));
    ck_assert_int_eq(v, 0);
    ck_assert_ptr_nonnull(idgw_parse_int("13", 1, 12, &v));
    ck_assert_ptr_nonnull(idgw_parse_int("0", 1, 1024, &v));
    ck_assert_ptr_nonnull(idgw_parse_int("-1", 0, 1023, &v));
    ck_assert_ptr_nonnull(idgw_parse_int("1x", 1, 12, &v));
    ck_assert_ptr_nonnull(idgw_parse_int("", 1, 12, &v));
    ck_assert_ptr_nonnull(idgw_parse_int(" 5", 1, 12, &v));
    ck_assert_ptr_nonnull(idgw_parse_int(NULL, 1, 12, &v));
    ck_assert_str_eq(idgw_parse_int("10", 256, 1048576, &v), "number out of range");
}
END_TEST

START_TEST(hostport_parser)
{
    idgw_hostport a;

    ck_assert_ptr_null(idgw_parse_hostport(pool, "127.0.0.1:6390", 6379, &a));
    ck_assert_str_eq(a.host, "127.0.0.1");
    ck_assert_int_eq(a.port, 6390);
    ck_assert_ptr_null(idgw_parse_hostport(pool, "redis.local", 6379, &a));
    ck_assert_int_eq(a.port, 6379);
    ck_assert_ptr_null(idgw_parse_hostport(pool, "[::1]:7000", 6379, &a));
    ck_assert_str_eq(a.host, "::1");
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, "host:99999", 6379, &a));
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, ":6379", 6379, &a));
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, "[::1", 6379, &a));
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, "", 6379, &a));
    /* apr_parse_addr_port takes any text without ':' as a host name */
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, "127.0.0.1;16390", 6379, &a));
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, "127.0.0.1 16390", 6379, &a));
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, "999.0.0.1:6379", 6379, &a));
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, "redis..local", 6379, &a));
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, "-redis.local", 6379, &a));
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, "redis/6379", 6379, &a));
    ck_assert_ptr_nonnull(idgw_parse_hostport(pool, "[fe80::zz]:6379", 6379, &a));
    ck_assert_ptr_null(idgw_parse_hostport(pool, "redis-1.prod_zone.example:6390", 6379, &a));
    ck_assert_ptr_null(idgw_parse_hostport(pool, "localhost", 6379, &a));
    ck_assert_ptr_null(idgw_parse_hostport(pool, "[2001:db8::1]", 26379, &a));
    ck_assert_int_eq(a.port, 26379);
}
END_TEST

START_TEST(merge_set_wins)
{
    ck_assert_int_eq(idgw_merge_int(5, IDGW_UNSET), 5);
    ck_assert_int_eq(idgw_merge_int(5, 0), 0);
    ck_assert_int_eq(idgw_merge_int64(IDGW_UNSET, 7), 7);
    ck_assert_int_eq(idgw_merge_time(apr_time_from_sec(3), IDGW_UNSET), apr_time_from_sec(3));
    ck_assert_int_eq(idgw_merge_int64(1, 2), 2);
    ck_assert_str_eq(idgw_merge_ptr("base", NULL), "base");
    ck_assert_str_eq(idgw_merge_ptr("base", "add"), "add");
    ck_assert_int_eq(idgw_default_int(IDGW_UNSET, 9), 9);
    ck_assert_int_eq(idgw_default_int(0, 9), 0);
    ck_assert_int_eq(idgw_default_int64(IDGW_UNSET, 9), 9);
    ck_assert_int_eq(idgw_default_time(IDGW_UNSET, SEC), SEC);
}
END_TEST

/* The rule shape of the modules' tables: parse by kind, store at the offset. */
typedef struct sample_conf {
    apr_interval_time_t timeout;
    apr_int64_t bytes;
    int count;
    long big;
} sample_conf;

START_TEST(rules_store_by_offset)
{
    static const idgw_conf_rule timeout = { IDGW_CONF_DURATION,
        APR_OFFSETOF(sample_conf, timeout), 1000, 3600 * SEC, "1ms..1h" };
    static const idgw_conf_rule bytes = { IDGW_CONF_SIZE,
        APR_OFFSETOF(sample_conf, bytes), 1, 64 << 20, NULL };
    static const idgw_conf_rule count = { IDGW_CONF_INT,
        APR_OFFSETOF(sample_conf, count), 0, 5, "0..5" };
    static const idgw_conf_rule big = { IDGW_CONF_LONG,
        APR_OFFSETOF(sample_conf, big), 256, 1048576, NULL };
    sample_conf c = { IDGW_UNSET, IDGW_UNSET, IDGW_UNSET, IDGW_UNSET };

    ck_assert_ptr_null(idgw_conf_rule_set(pool, &timeout, &c, "250ms"));
    ck_assert_int_eq(c.timeout, 250000);
    ck_assert_ptr_null(idgw_conf_rule_set(pool, &bytes, &c, "64k"));
    ck_assert_int_eq(c.bytes, 65536);
    ck_assert_ptr_null(idgw_conf_rule_set(pool, &count, &c, "5"));
    ck_assert_int_eq(c.count, 5);
    ck_assert_ptr_null(idgw_conf_rule_set(pool, &big, &c, "1048576"));
    ck_assert_int_eq(c.big, 1048576);
    ck_assert_str_eq(idgw_conf_rule_set(pool, &timeout, &c, "2h"),
                     "duration out of range (1ms..1h)");
    ck_assert_str_eq(idgw_conf_rule_set(pool, &count, &c, "6"), "number out of range (0..5)");
    ck_assert_str_eq(idgw_conf_rule_set(pool, &bytes, &c, "1g"),
                     "expected a size such as 65536, 64k or 1m");
    ck_assert_ptr_nonnull(idgw_conf_rule_set(pool, &big, &c, "10"));
    /* a failure leaves the field as it was */
    ck_assert_int_eq(c.timeout, 250000);
    ck_assert_int_eq(c.count, 5);
    ck_assert_int_eq(c.big, 1048576);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf_parse");
    TCase *tc = tcase_create("conf_parse");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, duration_parser);
    tcase_add_test(tc, duration_union_syntax);
    tcase_add_test(tc, size_parser);
    tcase_add_test(tc, int_parser);
    tcase_add_test(tc, hostport_parser);
    tcase_add_test(tc, merge_set_wins);
    tcase_add_test(tc, rules_store_by_offset);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
