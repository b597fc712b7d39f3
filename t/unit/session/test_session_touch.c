/*
 * test_session_touch.c - the table of sessions a child refreshed a moment
 * ago (idgw_session_touch.h): fresh only within the window, only for the
 * session refreshed, forgotten on refusal, evicted rather than confused,
 * and the window's bound (idle/16, at most a second).
 */
#include <check.h>
#include <apr_general.h>
#include <stdio.h>
#include <string.h>

#include "idgw_session_keys.h"
#include "idgw_session_touch.h"

static apr_pool_t *pool;
static idgw_touch_table *t;

#define FRESH apr_time_from_msec(500)

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    ck_assert_ptr_null(idgw_touch_table_create(&t, pool, 64));
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static const char *sid_of(const char *token)
{
    static char sid[4][IDGW_SID_HEX + 1];
    static int next;
    char *s = sid[next++ % 4];

    idgw_sid_from_token(token, s);
    return s;
}

START_TEST(fresh_only_within_the_window)
{
    const char *a = sid_of("token-a");
    apr_time_t now = apr_time_from_sec(1000);

    ck_assert_int_eq(idgw_touch_recent(t, a, now, FRESH), 0);
    idgw_touch_record(t, a, now);
    ck_assert_int_eq(idgw_touch_recent(t, a, now, FRESH), 1);
    ck_assert_int_eq(idgw_touch_recent(t, a, now + FRESH - 1, FRESH), 1);
    ck_assert_int_eq(idgw_touch_recent(t, a, now + FRESH, FRESH), 0);
    /* a clock that went back trusts nothing */
    ck_assert_int_eq(idgw_touch_recent(t, a, now - 1, FRESH), 0);
}
END_TEST

START_TEST(only_the_session_refreshed)
{
    const char *a = sid_of("token-a"), *b = sid_of("token-b");
    apr_time_t now = apr_time_from_sec(1000);

    idgw_touch_record(t, a, now);
    ck_assert_int_eq(idgw_touch_recent(t, b, now, FRESH), 0);
    idgw_touch_forget(t, b);       /* forgetting another leaves a alone */
    ck_assert_int_eq(idgw_touch_recent(t, a, now, FRESH), 1);
    idgw_touch_forget(t, a);
    ck_assert_int_eq(idgw_touch_recent(t, a, now, FRESH), 0);
    /* not a session id: never fresh, never recorded */
    idgw_touch_record(t, "not hex at all, not a session id", now);
    ck_assert_int_eq(idgw_touch_recent(t, "not hex at all, not a session id", now, FRESH), 0);
}
END_TEST

START_TEST(many_sessions_evict_never_confuse)
{
    apr_time_t now = apr_time_from_sec(1000);
    char token[32], sids[1000][IDGW_SID_HEX + 1];
    int fresh = 0;

    for (int i = 0; i < 1000; i++) {
        snprintf(token, sizeof(token), "token-%d", i);
        idgw_sid_from_token(token, sids[i]);
        idgw_touch_record(t, sids[i], now);
    }
    for (int i = 0; i < 1000; i++)
        fresh += idgw_touch_recent(t, sids[i], now, FRESH);
    /* 64 entries: at most 64 stay fresh, and the newest of each slot does */
    ck_assert_int_le(fresh, 64);
    ck_assert_int_ge(fresh, 1);
    ck_assert_int_eq(idgw_touch_recent(t, sids[999], now, FRESH), 1);
    /* a session never recorded is never fresh, whatever its slot holds */
    for (int i = 0; i < 200; i++) {
        char other[IDGW_SID_HEX + 1];

        snprintf(token, sizeof(token), "never-%d", i);
        idgw_sid_from_token(token, other);
        ck_assert_int_eq(idgw_touch_recent(t, other, now, FRESH), 0);
    }
}
END_TEST

START_TEST(window_is_a_sixteenth_of_idle_at_most_a_second)
{
    ck_assert_int_eq(IDGW_TOUCH_FRESH(apr_time_from_sec(2)), apr_time_from_msec(125));
    ck_assert_int_eq(IDGW_TOUCH_FRESH(apr_time_from_sec(16)), apr_time_from_sec(1));
    ck_assert_int_eq(IDGW_TOUCH_FRESH(apr_time_from_sec(3600)), apr_time_from_sec(1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("session_touch");
    TCase *tc = tcase_create("touch");
    SRunner *sr;
    int failed;

    apr_initialize();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fresh_only_within_the_window);
    tcase_add_test(tc, only_the_session_refreshed);
    tcase_add_test(tc, many_sessions_evict_never_confuse);
    tcase_add_test(tc, window_is_a_sixteenth_of_idle_at_most_a_second);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? 1 : 0;
}
