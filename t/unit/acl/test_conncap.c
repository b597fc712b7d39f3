/* Check tests of the per-address connection table (modules/acl/idgw_conncap.c):
 * the cap, release, IPv6 /64 counting, rows of several processes, a dead
 * process's row reclaimed and zeroed, and threads racing for one address. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <stdio.h>
#include <apr_atomic.h>
#include <apr_thread_proc.h>

#include "idgw_conncap.h"

static void *mem;
static idgw_conncap *t;
static apr_pool_t *pool;

#define ROWS 4

static int dead_pid;      /* the one pid the tests' alive() calls dead */

static int alive(apr_uint32_t pid) { return (int)pid != dead_pid; }

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    mem = malloc(idgw_conncap_size(ROWS));
    t = idgw_conncap_init(mem, ROWS);
    dead_pid = -1;
}

static void teardown(void)
{
    free(mem);
    apr_pool_destroy(pool);
    apr_terminate();
}

static idgw_ip ip(const char *text)
{
    idgw_ip a;

    ck_assert_msg(idgw_ip_parse(text, &a), "%s", text);
    return a;
}

START_TEST(cap_refuses_over_and_release_makes_room)
{
    idgw_ip a = ip("192.0.2.7"), b = ip("192.0.2.8");
    int row = idgw_conncap_claim_row(t, 100, alive);
    unsigned open;

    ck_assert_int_ge(row, 0);
    for (int i = 1; i <= 3; i++) {
        ck_assert_int_eq(idgw_conncap_acquire(t, row, &a, 3, &open), 1);
        ck_assert_uint_eq(open, (unsigned)i);
    }
    ck_assert_int_eq(idgw_conncap_acquire(t, row, &a, 3, &open), 0);
    ck_assert_uint_eq(open, 4);                        /* the refused one seen, not kept */
    ck_assert_uint_eq(idgw_conncap_count(t, &a), 3);
    /* another address is not affected */
    ck_assert_int_eq(idgw_conncap_acquire(t, row, &b, 3, NULL), 1);
    idgw_conncap_release(t, row, &a);
    ck_assert_uint_eq(idgw_conncap_count(t, &a), 2);
    ck_assert_int_eq(idgw_conncap_acquire(t, row, &a, 3, NULL), 1);
}
END_TEST

START_TEST(cap_zero_counts_nothing)
{
    idgw_ip a = ip("198.51.100.1");
    int row = idgw_conncap_claim_row(t, 100, alive);

    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(idgw_conncap_acquire(t, row, &a, 0, NULL), 1);
    }
    ck_assert_uint_eq(idgw_conncap_count(t, &a), 0);
}
END_TEST

START_TEST(ipv6_counts_per_64)
{
    idgw_ip a = ip("2001:db8:1:2::1"), b = ip("2001:db8:1:2:ffff::9"), c = ip("2001:db8:1:3::1");
    int row = idgw_conncap_claim_row(t, 100, alive);

    ck_assert_int_eq(idgw_conncap_acquire(t, row, &a, 2, NULL), 1);
    ck_assert_int_eq(idgw_conncap_acquire(t, row, &b, 2, NULL), 1);
    ck_assert_int_eq(idgw_conncap_acquire(t, row, &a, 2, NULL), 0);   /* same /64 */
    ck_assert_int_eq(idgw_conncap_acquire(t, row, &c, 2, NULL), 1);   /* the next /64 */
}
END_TEST

START_TEST(ipv4_mapped_is_the_ipv4_address)
{
    idgw_ip a = ip("192.0.2.9"), m = ip("::ffff:192.0.2.9");
    int row = idgw_conncap_claim_row(t, 100, alive);

    ck_assert_int_eq(idgw_conncap_acquire(t, row, &a, 1, NULL), 1);
    ck_assert_int_eq(idgw_conncap_acquire(t, row, &m, 1, NULL), 0);
}
END_TEST

START_TEST(processes_share_the_cap)
{
    idgw_ip a = ip("203.0.113.5");
    int r1 = idgw_conncap_claim_row(t, 101, alive), r2 = idgw_conncap_claim_row(t, 102, alive);

    ck_assert_int_ne(r1, r2);
    ck_assert_int_eq(idgw_conncap_acquire(t, r1, &a, 4, NULL), 1);
    ck_assert_int_eq(idgw_conncap_acquire(t, r1, &a, 4, NULL), 1);
    ck_assert_int_eq(idgw_conncap_acquire(t, r2, &a, 4, NULL), 1);
    ck_assert_int_eq(idgw_conncap_acquire(t, r2, &a, 4, NULL), 1);
    ck_assert_int_eq(idgw_conncap_acquire(t, r2, &a, 4, NULL), 0);
    ck_assert_int_eq(idgw_conncap_acquire(t, r1, &a, 4, NULL), 0);
    ck_assert_uint_eq(idgw_conncap_count(t, &a), 4);
}
END_TEST

START_TEST(dead_process_row_is_reclaimed_and_zeroed)
{
    idgw_ip a = ip("203.0.113.6");
    int rows[ROWS], again;

    for (int i = 0; i < ROWS; i++) {
        rows[i] = idgw_conncap_claim_row(t, 200 + (apr_uint32_t)i, alive);
        ck_assert_int_ge(rows[i], 0);
    }
    ck_assert_int_eq(idgw_conncap_claim_row(t, 300, alive), -1);     /* all alive */
    /* process 201 held 3 connections and crashed without releasing them */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(idgw_conncap_acquire(t, rows[1], &a, 3, NULL), 1);
    }
    ck_assert_int_eq(idgw_conncap_acquire(t, rows[0], &a, 3, NULL), 0);
    dead_pid = 201;
    again = idgw_conncap_claim_row(t, 300, alive);
    ck_assert_int_eq(again, rows[1]);
    ck_assert_uint_eq(idgw_conncap_count(t, &a), 0);
    ck_assert_int_eq(idgw_conncap_acquire(t, rows[0], &a, 3, NULL), 1);
}
END_TEST

START_TEST(collisions_never_undercount)
{
    int row = idgw_conncap_claim_row(t, 100, alive);
    char text[32];

    /* 5000 addresses with 2 connections each: every estimate is >= 2 */
    for (int i = 0; i < 5000; i++) {
        idgw_ip a;

        snprintf(text, sizeof(text), "10.%d.%d.1", i / 256, i % 256);
        a = ip(text);
        ck_assert_int_eq(idgw_conncap_acquire(t, row, &a, 1000, NULL), 1);
        ck_assert_int_eq(idgw_conncap_acquire(t, row, &a, 1000, NULL), 1);
    }
    for (int i = 0; i < 5000; i++) {
        idgw_ip a;

        snprintf(text, sizeof(text), "10.%d.%d.1", i / 256, i % 256);
        a = ip(text);
        ck_assert_uint_ge(idgw_conncap_count(t, &a), 2);
    }
}
END_TEST

/* Threads of one process racing for one address never hold more than the cap. */
#define RACERS 8
#define CAP 5
static volatile apr_uint32_t held_now, held_max;
static int race_row;

static void *APR_THREAD_FUNC racer(apr_thread_t *th, void *data)
{
    idgw_ip a = ip("192.0.2.77");

    for (int i = 0; i < 20000; i++) {
        if (idgw_conncap_acquire(t, race_row, &a, CAP, NULL)) {
            apr_uint32_t n = apr_atomic_inc32(&held_now) + 1, m;

            while ((m = apr_atomic_read32(&held_max)) < n
                   && apr_atomic_cas32(&held_max, n, m) != m) {
            }
            apr_atomic_dec32(&held_now);
            idgw_conncap_release(t, race_row, &a);
        }
    }
    /* return, not apr_thread_exit: pthread_exit's unwinding trips a false
     * stack-buffer-underflow in ASan's sigaltstack interceptor (the suite
     * runs these tests under ASan+UBSan too) */
    return NULL;
}

START_TEST(threads_never_exceed_the_cap)
{
    apr_thread_t *th[RACERS];
    apr_status_t rv;
    idgw_ip a = ip("192.0.2.77");

    race_row = idgw_conncap_claim_row(t, 100, alive);
    for (int i = 0; i < RACERS; i++) {
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, racer, NULL, pool), APR_SUCCESS);
    }
    for (int i = 0; i < RACERS; i++) {
        apr_thread_join(&rv, th[i]);
    }
    ck_assert_uint_le(held_max, CAP);
    ck_assert_uint_eq(idgw_conncap_count(t, &a), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conncap");
    TCase *tc = tcase_create("table");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, cap_refuses_over_and_release_makes_room);
    tcase_add_test(tc, cap_zero_counts_nothing);
    tcase_add_test(tc, ipv6_counts_per_64);
    tcase_add_test(tc, ipv4_mapped_is_the_ipv4_address);
    tcase_add_test(tc, processes_share_the_cap);
    tcase_add_test(tc, dead_process_row_is_reclaimed_and_zeroed);
    tcase_add_test(tc, collisions_never_undercount);
    tcase_add_test(tc, threads_never_exceed_the_cap);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
