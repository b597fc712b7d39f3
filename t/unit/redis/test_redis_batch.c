/*
 * test_redis_batch.c - a child's concurrent commands in one round trip
 * (idgw_redis_batch) against a real redis-server (127.0.0.1:6394, started
 * and stopped here): every caller gets its own replies, in order, however
 * many threads ask at once and however large their commands; concurrent
 * callers share round trips (the server processed fewer socket reads than
 * there were calls); commands made for another master's history are not
 * sent; a failed connection fails its callers and the next call works again.
 */
#include <check.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idgw_redis_batch.h"
#include "redis_fixture.h"

#define PORT 6394
#define THREADS 16
#define CALLS 300

static apr_pool_t *pool;
static idgw_redis_cfg cfg;
static idgw_redis_pool *rpool;
static idgw_redis_batch *batch;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    memset(&cfg, 0, sizeof(cfg));
    cfg.server.host = "127.0.0.1";
    cfg.server.port = PORT;
    cfg.connect_timeout = apr_time_from_msec(300);
    cfg.command_timeout = apr_time_from_msec(2000);
    cfg.idle_check = apr_time_from_sec(60);
    cfg.breaker_time = apr_time_from_msec(200);
    cfg.pool_max = 4;
    ck_assert_int_eq(idgw_redis_pool_create(pool, &cfg, NULL, 0, &rpool), APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_batch_create(pool, rpool, &batch), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* One call of two commands: ECHO what, and SET key what + GET key. */
static int echo_pair(const char *key, const char *what, size_t len, int *callers)
{
    const char *echo[] = { "ECHO", what };
    size_t echo_lens[] = { 4, len };
    const char *get[] = { "GET", key };
    size_t get_lens[] = { 3, strlen(key) };
    const char *set[] = { "SET", key, what };
    size_t set_lens[] = { 3, strlen(key), len };
    idgw_redis_batch_cmd cmds[3] = { { 2, echo, echo_lens }, { 3, set, set_lens },
                                     { 2, get, get_lens } };
    redisReply *replies[3];
    idgw_redis_batch_origin origin;
    char err[300];
    int ok;

    if (idgw_redis_batch_call(batch, 3, cmds, NULL, replies, &origin, err, sizeof(err))
        != APR_SUCCESS)
        return 0;
    ok = replies[0]->type == REDIS_REPLY_STRING && replies[0]->len == len
         && memcmp(replies[0]->str, what, len) == 0
         && replies[1]->type == REDIS_REPLY_STATUS
         && replies[2]->type == REDIS_REPLY_STRING && replies[2]->len == len
         && memcmp(replies[2]->str, what, len) == 0;
    for (int i = 0; i < 3; i++)
        freeReplyObject(replies[i]);
    if (callers)
        *callers = origin.batch_callers;
    return ok;
}

static long long reads_processed(void)
{
    idgw_redis_conn *c;
    char err[200];
    const char *argv[] = { "INFO", "stats" };
    size_t lens[] = { 4, 5 };
    redisReply *r;
    const char *p;
    long long n = -1;

    ck_assert_int_eq(idgw_redis_pool_acquire(rpool, &c, err, sizeof(err)), APR_SUCCESS);
    r = idgw_redis_command(c, 2, argv, lens);
    ck_assert_ptr_nonnull(r);
    if ((p = strstr(r->str, "total_reads_processed:")) != NULL)
        n = atoll(p + strlen("total_reads_processed:"));
    freeReplyObject(r);
    idgw_redis_pool_release(rpool, c);
    return n;
}

START_TEST(one_caller_gets_its_replies)
{
    int callers = 0;

    ck_assert(echo_pair("k", "hello", 5, &callers));
    ck_assert_int_eq(callers, 1);
    ck_assert(echo_pair("k", "", 0, &callers));
}
END_TEST

typedef struct worker {
    int id, failures, most_callers;
} worker;

static void *work(void *data)
{
    worker *w = data;
    char key[32], what[64];

    for (int i = 0; i < CALLS; i++) {
        int callers = 0;

        snprintf(key, sizeof(key), "k%d", w->id);
        snprintf(what, sizeof(what), "thread %d call %d", w->id, i);
        if (!echo_pair(key, what, strlen(what), &callers))
            w->failures++;
        if (callers > w->most_callers)
            w->most_callers = callers;
    }
    return NULL;
}

START_TEST(concurrent_callers_share_round_trips)
{
    pthread_t th[THREADS];
    worker w[THREADS];
    idgw_redis_batch_stats st;
    long long before = reads_processed(), reads;
    int most = 0;

    memset(w, 0, sizeof(w));
    for (int i = 0; i < THREADS; i++) {
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].failures, 0);
        if (w[i].most_callers > most)
            most = w[i].most_callers;
    }
    reads = reads_processed() - before - 1;
    idgw_redis_batch_get_stats(batch, &st);
    ck_assert_uint_eq(st.callers, THREADS * CALLS);
    ck_assert_uint_eq(st.failed, 0);
    /* shared: fewer round trips than calls, and Redis saw as few reads */
    ck_assert_msg(st.batches < st.callers, "%lu batches for %lu calls", st.batches, st.callers);
    ck_assert_msg(reads <= (long long)st.batches, "%lld reads for %lu batches", reads,
                  st.batches);
    ck_assert_msg(st.largest >= 2 && (int)st.largest == most, "largest %lu, callers seen %d",
                  st.largest, most);
    printf("# %d calls from %d threads: %lu round trips (%lld socket reads), "
           "up to %lu callers in one\n", THREADS * CALLS, THREADS, st.batches, reads, st.largest);
}
END_TEST

START_TEST(commands_for_another_history_are_not_sent)
{
    const char *argv[] = { "INCR", "counted" };
    size_t lens[] = { 4, 7 };
    idgw_redis_batch_cmd cmd = { 2, argv, lens };
    redisReply *reply;
    idgw_redis_batch_origin origin;
    char err[300], replid[41], replid2[41];

    /* nothing known before the first batch */
    ck_assert_int_eq(idgw_redis_batch_history(batch, replid, replid2), 0);
    ck_assert_int_eq(idgw_redis_batch_call(batch, 1, &cmd, NULL, &reply, &origin, err,
                                           sizeof(err)), APR_SUCCESS);
    ck_assert_int_eq(reply->integer, 1);
    freeReplyObject(reply);
    ck_assert_int_eq(idgw_redis_batch_history(batch, replid, replid2), 1);
    ck_assert_int_eq((int)strlen(replid), 40);
    ck_assert_str_eq(origin.replid, replid);
    /* made for another master: refused before sending, and told which */
    ck_assert_int_eq(idgw_redis_batch_call(batch, 1, &cmd, "0123456789012345678901234567890123456789",
                                           &reply, &origin, err, sizeof(err)),
                     IDGW_REDIS_BATCH_OTHER_HISTORY);
    ck_assert_ptr_null(reply);
    ck_assert_str_eq(origin.replid, replid);
    /* made for this one: sent; the refused INCR never ran */
    ck_assert_int_eq(idgw_redis_batch_call(batch, 1, &cmd, replid, &reply, &origin, err,
                                           sizeof(err)), APR_SUCCESS);
    ck_assert_int_eq(reply->integer, 2);
    freeReplyObject(reply);
}
END_TEST

static void *work_large(void *data)
{
    worker *w = data;
    size_t len = 1024 * 1024 + (size_t)w->id;
    char *what = malloc(len), key[32];

    for (size_t i = 0; i < len; i++)
        what[i] = (char)('a' + (i + (size_t)w->id) % 26);
    snprintf(key, sizeof(key), "big%d", w->id);
    for (int i = 0; i < 5; i++) {
        if (!echo_pair(key, what, len, NULL))
            w->failures++;
    }
    free(what);
    return NULL;
}

START_TEST(large_commands_keep_their_order)
{
    pthread_t th[4];
    worker w[4];

    memset(w, 0, sizeof(w));
    for (int i = 0; i < 4; i++) {
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, work_large, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].failures, 0);
    }
}
END_TEST

START_TEST(failed_connection_fails_its_callers_only)
{
    const char *argv[] = { "BLPOP", "nothing", "0.5" };
    size_t lens[] = { 5, 7, 3 };
    idgw_redis_batch_cmd cmd = { 3, argv, lens };
    redisReply *reply;
    idgw_redis_batch_origin origin;
    idgw_redis_batch_stats st;
    char err[300];
    apr_status_t rv;

    /* a command slower than the command timeout (a blocking pop: what the
     * batcher must not carry): the connection times out */
    cfg.command_timeout = apr_time_from_msec(200);
    teardown();
    apr_pool_create(&pool, NULL);
    ck_assert_int_eq(idgw_redis_pool_create(pool, &cfg, NULL, 0, &rpool), APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_batch_create(pool, rpool, &batch), APR_SUCCESS);
    rv = idgw_redis_batch_call(batch, 1, &cmd, NULL, &reply, &origin, err, sizeof(err));
    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_ptr_null(reply);
    ck_assert_msg(strstr(err, "failed during a batch") != NULL, "%s", err);
    idgw_redis_batch_get_stats(batch, &st);
    ck_assert_uint_eq(st.failed, 1);
    /* the breaker opened: refused at once, then a new connection works */
    ck_assert(!echo_pair("k", "x", 1, NULL));
    usleep(700 * 1000);     /* the server's sleep and the breaker's time */
    ck_assert(echo_pair("k", "again", 5, NULL));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("redis_batch");
    TCase *tc = tcase_create("batch");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, one_caller_gets_its_replies);
    tcase_add_test(tc, concurrent_callers_share_round_trips);
    tcase_add_test(tc, large_commands_keep_their_order);
    tcase_add_test(tc, commands_for_another_history_are_not_sent);
    tcase_add_test(tc, failed_connection_fails_its_callers_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    apr_initialize();
    if (redis_fixture_start(PORT) != 0) {
        fprintf(stderr, "cannot start redis-server on port %d\n", PORT);
        return 1;
    }
    sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    apr_terminate();
    return failed ? 1 : 0;
}
