/* Check tests of the GCRA arithmetic, rate parsing and the
 * per-process limiter table (modules/common/idgw_limiter.c, idgw_limiter_table.c). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_thread_proc.h>

#include "idgw_limiter.h"

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

/* Runs `count` requests at time now against *tat; returns how many passed. */
static int offer(const idgw_gcra *g, int64_t *tat, int64_t now, int count)
{
    int passed = 0;
    idgw_gcra_result r;

    for (int i = 0; i < count; i++) {
        idgw_gcra_check(g, *tat, now, &r);
        *tat = r.new_tat;
        passed += r.allowed;
    }
    return passed;
}

START_TEST(init_derives_interval_and_tolerance)
{
    idgw_gcra g;

    ck_assert_ptr_null(idgw_gcra_init(&g, 10, SEC, 5));
    ck_assert_int_eq(g.interval, 100000);
    ck_assert_int_eq(g.tolerance, 400000);
    /* 3 per second: the interval rounds up, never looser than asked. */
    ck_assert_ptr_null(idgw_gcra_init(&g, 3, SEC, 1));
    ck_assert_int_eq(g.interval, 333334);
    ck_assert_int_eq(g.tolerance, 0);

    ck_assert_ptr_nonnull(idgw_gcra_init(&g, 0, SEC, 1));
    ck_assert_ptr_nonnull(idgw_gcra_init(&g, 1, SEC - 1, 1));
    ck_assert_ptr_nonnull(idgw_gcra_init(&g, 1, IDGW_GCRA_PERIOD_MAX_US + 1, 1));
    ck_assert_ptr_nonnull(idgw_gcra_init(&g, 1, SEC, 0));
    ck_assert_ptr_nonnull(idgw_gcra_init(&g, 1, SEC, IDGW_GCRA_BURST_MAX + 1));
    ck_assert_ptr_nonnull(idgw_gcra_init(&g, IDGW_GCRA_COUNT_MAX + 1, SEC, 1));
}
END_TEST

START_TEST(steady_rate_is_held)
{
    idgw_gcra g;
    int64_t tat = 0, now = 1000 * SEC;
    int passed = 0;
    idgw_gcra_result r;

    ck_assert_ptr_null(idgw_gcra_init(&g, 10, SEC, 1));
    /* One request every 50 ms for 10 s: only every other one (10/s) passes. */
    for (int i = 0; i < 200; i++) {
        idgw_gcra_check(&g, tat, now + i * 50000, &r);
        tat = r.new_tat;
        passed += r.allowed;
    }
    ck_assert_int_eq(passed, 100);
    /* Exactly at the rate: every request passes. */
    tat = 0;
    passed = 0;
    for (int i = 0; i < 100; i++) {
        idgw_gcra_check(&g, tat, now + 100 * SEC + i * 100000, &r);
        tat = r.new_tat;
        passed += r.allowed;
    }
    ck_assert_int_eq(passed, 100);
}
END_TEST

START_TEST(burst_allowance_then_interval)
{
    idgw_gcra g;
    int64_t tat = 0, now = 5000 * SEC;
    idgw_gcra_result r;

    ck_assert_ptr_null(idgw_gcra_init(&g, 10, SEC, 4));
    ck_assert_int_eq(offer(&g, &tat, now, 10), 4);
    /* The next one is due one interval after the burst was used up. */
    idgw_gcra_check(&g, tat, now, &r);
    ck_assert(!r.allowed);
    ck_assert_int_eq(r.retry_after, 100000);
    idgw_gcra_check(&g, tat, now + 99999, &r);
    ck_assert(!r.allowed);
    ck_assert_int_eq(r.retry_after, 1);
    idgw_gcra_check(&g, tat, now + 100000, &r);
    ck_assert(r.allowed);
    ck_assert_int_eq(r.retry_after, 0);
    /* A refusal leaves the state as it was: refused requests cost nothing. */
    idgw_gcra_check(&g, tat, now, &r);
    ck_assert_int_eq(r.new_tat, tat);
    /* After a full idle period the whole burst is available again. */
    ck_assert_int_eq(offer(&g, &tat, now + 10 * SEC, 10), 4);
}
END_TEST

START_TEST(no_burst_at_a_window_edge)
{
    /* A fixed one-second window would let 10 through at 0.999 s and 10 more at
     * 1.000 s.  GCRA with 10/s and burst 10 lets 10 through at 0.999 s and
     * then only what the elapsed millisecond earned: nothing. */
    idgw_gcra g;
    int64_t tat = 0, start = 7000 * SEC;
    int first, second;

    ck_assert_ptr_null(idgw_gcra_init(&g, 10, SEC, 10));
    first = offer(&g, &tat, start + 999000, 20);
    second = offer(&g, &tat, start + SEC, 20);
    ck_assert_int_eq(first, 10);
    ck_assert_int_eq(second, 0);
    /* Over any 2-second span at most burst + 2s/T = 10 + 20 pass. */
    {
        int total = first + second;
        for (int ms = 1; ms <= 2000; ms++) {
            total += offer(&g, &tat, start + SEC + ms * 1000, 5);
        }
        ck_assert_int_le(total, 30);
        ck_assert_int_ge(total, 29);
    }
}
END_TEST

START_TEST(time_going_backwards_costs_at_most_one_interval)
{
    idgw_gcra g;
    int64_t tat = 0, now = 10000 * SEC;
    idgw_gcra_result r;

    ck_assert_ptr_null(idgw_gcra_init(&g, 1, 60 * SEC, 2));
    ck_assert_int_eq(offer(&g, &tat, now, 2), 2);
    /* The clock steps back by an hour: the stored tat is far in the future.
     * Without the clamp this key would be locked out for an hour. */
    now -= 3600 * SEC;
    idgw_gcra_check(&g, tat, now, &r);
    ck_assert(!r.allowed);
    ck_assert_int_le(r.retry_after, g.interval);
    ck_assert_int_le(r.new_tat, now + g.tolerance + g.interval);
    idgw_gcra_check(&g, r.new_tat, now + g.interval, &r);
    ck_assert(r.allowed);
    /* A small step back within the tolerance just counts as debt. */
    ck_assert_ptr_null(idgw_gcra_init(&g, 1, 60 * SEC, 3));
    tat = 0;
    now = 20000 * SEC;
    ck_assert_int_eq(offer(&g, &tat, now, 1), 1);
    ck_assert_int_eq(offer(&g, &tat, now - SEC, 1), 1);
    ck_assert_int_eq(offer(&g, &tat, now - SEC, 1), 0);
}
END_TEST

START_TEST(extreme_values_do_not_overflow)
{
    idgw_gcra g;
    idgw_gcra_result r;

    ck_assert_ptr_null(idgw_gcra_init(&g, 1, IDGW_GCRA_PERIOD_MAX_US, IDGW_GCRA_BURST_MAX));
    /* Largest tolerance at the largest time, and a corrupt INT64_MAX state. */
    idgw_gcra_check(&g, INT64_MAX, IDGW_GCRA_NOW_MAX, &r);
    ck_assert(!r.allowed);
    ck_assert_int_gt(r.new_tat, 0);
    ck_assert_int_le(r.retry_after, g.interval);
    idgw_gcra_check(&g, 0, IDGW_GCRA_NOW_MAX, &r);
    ck_assert(r.allowed);
    ck_assert_int_gt(r.new_tat, IDGW_GCRA_NOW_MAX);
    /* now beyond the bound is clamped, negative now and state are harmless. */
    idgw_gcra_check(&g, 0, INT64_MAX, &r);
    ck_assert(r.allowed);
    ck_assert_int_eq(r.new_tat, IDGW_GCRA_NOW_MAX + g.interval);
    idgw_gcra_check(&g, INT64_MIN, -5, &r);
    ck_assert(r.allowed);
    ck_assert_int_eq(r.new_tat, g.interval);
    /* Smallest interval: a billion per second rounds up to 1 microsecond. */
    ck_assert_ptr_null(idgw_gcra_init(&g, IDGW_GCRA_COUNT_MAX, SEC, 1));
    ck_assert_int_eq(g.interval, 1);
}
END_TEST

/* Durations are common's (t/unit/common/test_conf_parse.c). */
START_TEST(rates_parse_strictly)
{
    uint32_t count;
    int64_t period;

    ck_assert_ptr_null(idgw_rate_parse("20/s", &count, &period));
    ck_assert_uint_eq(count, 20);
    ck_assert_int_eq(period, SEC);
    ck_assert_ptr_null(idgw_rate_parse("600/m", &count, &period));
    ck_assert_int_eq(period, 60 * SEC);
    ck_assert_ptr_null(idgw_rate_parse("5/30", &count, &period));
    ck_assert_uint_eq(count, 5);
    ck_assert_int_eq(period, 30 * SEC);
    ck_assert_ptr_null(idgw_rate_parse("1/d", &count, &period));
    ck_assert_int_eq(period, 86400 * SEC);
    {
        const char *bad[] = { "20", "/s", "0/s", "-1/s", "20/", "20/x", "20/0",
                              "20/604801", "1000000001/s", " 20/s", "20/s ",
                              "2 0/s", "20/ss", "99999999999999999999/s" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            ck_assert_msg(idgw_rate_parse(bad[i], &count, &period) != NULL,
                          "rate '%s' was accepted", bad[i]);
        }
    }
    ck_assert_ptr_nonnull(idgw_rate_parse(NULL, &count, &period));
}
END_TEST

START_TEST(siphash_reference_vectors)
{
    /* From the SipHash paper's reference implementation (vectors.h):
     * key 00..0f, messages 00..(n-1). */
    unsigned char key[16], msg[64];

    for (int i = 0; i < 16; i++) key[i] = (unsigned char)i;
    for (int i = 0; i < 64; i++) msg[i] = (unsigned char)i;
    ck_assert_uint_eq(idgw_siphash24(key, msg, 0), UINT64_C(0x726fdb47dd0e0e31));
    ck_assert_uint_eq(idgw_siphash24(key, msg, 15), UINT64_C(0xa129ca6149be45e5));
    ck_assert_uint_eq(idgw_siphash24(key, msg, 8), UINT64_C(0x93f5f5799a932462));
}
END_TEST

START_TEST(table_limits_each_key_separately)
{
    idgw_limiter *l;
    idgw_gcra g;
    int64_t now = 100 * SEC, retry = -1;
    int a = 0, b = 0;

    ck_assert_ptr_null(idgw_limiter_create(&l, pool, 100));
    ck_assert_uint_eq(idgw_limiter_slots(l), 128);
    ck_assert_ptr_null(idgw_gcra_init(&g, 5, SEC, 3));
    for (int i = 0; i < 10; i++) {
        a += idgw_limiter_check(l, &g, "addr:192.0.2.1", 14, now, NULL);
        b += idgw_limiter_check(l, &g, "addr:192.0.2.2", 14, now, &retry);
    }
    ck_assert_int_eq(a, 3);
    ck_assert_int_eq(b, 3);
    ck_assert_int_eq(retry, 200000);
    ck_assert_int_eq(idgw_limiter_check(l, &g, "addr:192.0.2.1", 14, now + 200000, &retry), 1);
    ck_assert_int_eq(retry, 0);
    ck_assert_ptr_nonnull(idgw_limiter_create(&l, pool, (1u << 22) + 1));
}
END_TEST

START_TEST(table_stays_bounded_and_forgets_idle_keys_first)
{
    idgw_limiter *l;
    idgw_gcra g;
    char key[32];
    int64_t now = 100 * SEC;
    int held = 0;

    ck_assert_ptr_null(idgw_limiter_create(&l, pool, 64));
    ck_assert_ptr_null(idgw_gcra_init(&g, 1, 60 * SEC, 1));
    /* A flood of 10000 distinct keys never grows the table... */
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(key, sizeof(key), "terminal:%d", i);
        ck_assert_int_eq(idgw_limiter_check(l, &g, key, (size_t)n, now, NULL), 1);
    }
    ck_assert_uint_eq(idgw_limiter_slots(l), 64);
    /* ...and holds at most 64 of them in debt. */
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(key, sizeof(key), "terminal:%d", i);
        held += !idgw_limiter_check(l, &g, key, (size_t)n, now, NULL);
    }
    ck_assert_int_le(held, 64);
    ck_assert_int_gt(held, 0);
}
END_TEST

typedef struct {
    idgw_limiter *l;
    idgw_gcra g;
    int64_t now;
    int passed;
} race_arg;

static void *APR_THREAD_FUNC race(apr_thread_t *t, void *data)
{
    race_arg *arg = data;

    for (int i = 0; i < 2000; i++) {
        arg->passed += idgw_limiter_check(arg->l, &arg->g, "endpoint:/idgw/open", 19,
                                          arg->now, NULL);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

START_TEST(table_is_race_free_across_threads)
{
#if APR_HAS_THREADS
    idgw_limiter *l;
    race_arg args[4];
    apr_thread_t *threads[4];
    apr_status_t rv;
    int total = 0;

    ck_assert_ptr_null(idgw_limiter_create(&l, pool, 1024));
    for (int i = 0; i < 4; i++) {
        args[i].l = l;
        ck_assert_ptr_null(idgw_gcra_init(&args[i].g, 1, 60 * SEC, 25));
        args[i].now = 500 * SEC;
        args[i].passed = 0;
        ck_assert_int_eq(apr_thread_create(&threads[i], NULL, race, &args[i], pool),
                         APR_SUCCESS);
    }
    for (int i = 0; i < 4; i++) {
        apr_thread_join(&rv, threads[i]);
        total += args[i].passed;
    }
    /* 8000 simultaneous requests, burst 25: exactly 25 pass, never more. */
    ck_assert_int_eq(total, 25);
#else
    ck_assert_msg(0, "APR built without threads");
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("limiter");
    TCase *tc = tcase_create("limiter");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, init_derives_interval_and_tolerance);
    tcase_add_test(tc, steady_rate_is_held);
    tcase_add_test(tc, burst_allowance_then_interval);
    tcase_add_test(tc, no_burst_at_a_window_edge);
    tcase_add_test(tc, time_going_backwards_costs_at_most_one_interval);
    tcase_add_test(tc, extreme_values_do_not_overflow);
    tcase_add_test(tc, rates_parse_strictly);
    tcase_add_test(tc, siphash_reference_vectors);
    tcase_add_test(tc, table_limits_each_key_separately);
    tcase_add_test(tc, table_stays_bounded_and_forgets_idle_keys_first);
    tcase_add_test(tc, table_is_race_free_across_threads);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
