/*
 * test_cluster_live.c - the Cluster router against a real Redis Cluster the
 * test starts (scripts/lib/cluster.sh: 3 masters + 3 replicas on
 * 127.0.0.1:17100-17105, bus ports 27100-27105, no persistence):
 *   - routing: each script lands on its slot's master, no redirection;
 *   - several slots in one round trip (idgw_cluster_run sends all, then reads);
 *   - a full table of masters: one the map no longer names gives its place
 *     up, its connections closed, the masters of the map kept;
 *   - a call through its master's batcher (idgw_cluster_eval_shared): calls
 *     arriving together share a round trip; NOSCRIPT, a call that waits for
 *     replicas and MOVED go on by the router; a connection lost under a
 *     batch is LOST;
 *   - a slot migrated by hand: ASK (ASKING, once) while MIGRATING, TRYAGAIN
 *     for a script whose keys are split, MOVED once the slot has moved;
 *   - CLUSTER FAILOVER on a replica: MOVED from the old master, then routing;
 *   - a master killed: calls fail cleanly (UNAVAILABLE or LOST, never a wrong
 *     answer) until its replica is promoted, then they succeed, same router.
 * The tests run in this order and share the cluster.
 */
#include <check.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idgw_cluster.h"
#include "idgw_cluster_int.h"      /* the masters' table, for the full-table test */
#include "idgw_redis_batch.h"

#define BASE 17100
/* every node requires it: the map and the pools go through AUTH */
#define PASSWORD "cluster-test-secret"

/* a fixed place per user: a run that crashed left its nodes there, and the
 * next run stops them before starting (cluster.sh refuses busy ports) */
static char dir[128];
static apr_pool_t *pool;
static idgw_redis_cfg cfg;
static idgw_script set_get, sleeper;
static const idgw_script *scripts[2];
static idgw_cluster *cl;

/* SET KEYS[i] ARGV[1] for every key given (ARGV[1] empty: only GET), then GET KEYS[1]. */
#define SET_GET "for i, k in ipairs(KEYS) do if ARGV[1] ~= '' then " \
                "redis.call('SET', k, ARGV[1]) end end return redis.call('GET', KEYS[1])"
/* Busy for ARGV[1] ms of wall time (TIME), so two of them overlap only when sent together. */
#define SLEEPER "local t = redis.call('TIME') local until_us = t[1] * 1e6 + t[2] + ARGV[1] * 1000 " \
                "repeat t = redis.call('TIME') until t[1] * 1e6 + t[2] >= until_us " \
                "return redis.call('INCR', KEYS[1])"

static int cluster_cmd(const char *what)
{
    const char *src = getenv("srcdir");
    char cmd[1024];

    snprintf(cmd, sizeof(cmd), "%s/scripts/lib/cluster.sh %s %s %s", src ? src : "..", what,
             dir, strcmp(what, "start") == 0 ? "17100 3 1 " PASSWORD : "");
    return system(cmd);
}

/* A command on one node (test side, plain hiredis). */
static redisReply *at(int port, const char *fmt, ...)
{
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    redisReply *r = NULL;
    va_list ap;

    ck_assert_msg(c && !c->err, "connect %d", port);
    redisSetTimeout(c, tv);
    r = redisCommand(c, "AUTH %s", PASSWORD);
    ck_assert_msg(r && r->type == REDIS_REPLY_STATUS, "AUTH on %d", port);
    freeReplyObject(r);
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    ck_assert_msg(r != NULL, "no reply from %d", port);
    return r;
}

static void ok_at(int port, const char *fmt, const char *a, const char *b)
{
    redisReply *r = at(port, fmt, a, b);

    ck_assert_msg(r->type != REDIS_REPLY_ERROR, "%d: %s", port, r->str);
    freeReplyObject(r);
}

static char *myid(int port)
{
    redisReply *r = at(port, "CLUSTER MYID");
    char *id = apr_pstrdup(pool, r->str);

    freeReplyObject(r);
    return id;
}

/* Calls of a command on one node (INFO commandstats). */
static long long cmd_calls(int port, const char *cmd)
{
    redisReply *r = at(port, "INFO commandstats");
    const char *name = apr_psprintf(pool, "cmdstat_%s:calls=", cmd);
    const char *p = strstr(r->str, name);
    long long v = p ? atoll(p + strlen(name)) : 0;

    freeReplyObject(r);
    return v;
}

static long long evalsha_calls(int port)
{
    return cmd_calls(port, "evalsha");
}

static void setup(void)
{
    char err[200];
    idgw_redis_addr seed = { "127.0.0.1", BASE };

    apr_pool_create(&pool, NULL);
    memset(&cfg, 0, sizeof(cfg));
    cfg.connect_timeout = apr_time_from_msec(300);
    cfg.command_timeout = apr_time_from_msec(1500);
    cfg.idle_check = apr_time_from_sec(60);
    cfg.breaker_time = apr_time_from_msec(200);
    cfg.pool_max = 2;
    cfg.password = PASSWORD;
    idgw_script_init(&set_get, "set_get", SET_GET);
    idgw_script_init(&sleeper, "sleeper", SLEEPER);
    scripts[0] = &set_get;
    scripts[1] = &sleeper;
    ck_assert_int_eq(idgw_cluster_create(pool, &cfg, &seed, 1, scripts, 2, &cl), APR_SUCCESS);
    ck_assert_int_eq(idgw_cluster_refresh(cl, 1, err, sizeof(err)), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* A key (a hash tag) whose slot the map gives to master port, or to any other when !on. */
static const char *key_on(int port, int on, const char *prefix)
{
    idgw_cluster_node_addr m;
    int i;

    for (i = 0; i < 100000; i++) {
        const char *k = apr_psprintf(pool, "{%s%d}.x", prefix, i);

        if (idgw_cluster_slot_master(cl, idgw_cluster_key_slot(k, strlen(k)), &m)
            && (m.port == port) == !!on)
            return k;
    }
    ck_abort_msg("no key for %d", port);
    return NULL;
}

/* A call of script over keys (all of one slot) with one argument. */
static void call_of(idgw_cluster_call *call, const idgw_script *script, const char *const *keys,
                    int nkeys, const char *arg)
{
    idgw_script_args a;
    int i;

    idgw_script_args_init(&a, pool);
    idgw_script_args_part(&a);
    for (i = 0; i < nkeys; i++)
        idgw_script_args_key(&a, keys[i]);
    idgw_script_args_str(&a, arg);
    ck_assert_int_eq(idgw_cluster_call_prepare(call, &a, script, 0), 0);
}

/* A SET_GET call on key (value "" reads only). */
static void prepare(idgw_cluster_call *call, const char *key, const char *value)
{
    call_of(call, &set_get, &key, 1, value);
}

/* Run one SET_GET; the reply's text, or NULL (outcome in *outcome). */
static const char *eval(apr_pool_t *owner, const char *key, const char *value,
                        idgw_cluster_outcome *outcome, char *why)
{
    idgw_cluster_call call;
    const char *s = NULL;

    prepare(&call, key, value);
    idgw_cluster_eval(cl, owner, &call);
    *outcome = call.outcome;
    if (why)
        strcpy(why, call.err);
    if (call.reply) {
        s = call.reply->type == REDIS_REPLY_STRING ? apr_pstrdup(pool, call.reply->str)
            : call.reply->type == REDIS_REPLY_ERROR ? apr_pstrcat(pool, "ERR:", call.reply->str, NULL)
            : "(other)";
        freeReplyObject(call.reply);
    }
    return s;
}

static int replica_of(int port);
static int pid_of(int port);

/* Wait (at most 10 s) until the replica's link to its master is up. */
static void replica_up(int replica)
{
    for (int i = 0; i < 100; i++) {
        redisReply *r = at(replica, "INFO replication");
        int up = strstr(r->str, "master_link_status:up") != NULL;

        freeReplyObject(r);
        if (up)
            return;
        apr_sleep(apr_time_from_msec(100));
    }
    ck_abort_msg("replica %d not linked", replica);
}

/* A confirmed SET_GET call on key: WAIT 1 behind it. */
static void prepare_confirmed(idgw_cluster_call *call, const char *key, const char *value,
                              int timeout_ms)
{
    prepare(call, key, value);
    call->wait_replicas = 1;
    call->wait_timeout = apr_time_from_msec(timeout_ms);
}

/* A confirmed read of key answers value, with one WAIT on the master at port. */
static void read_confirmed_on(apr_pool_t *req, const char *key, const char *value, int port)
{
    idgw_cluster_call call;
    long long waits = cmd_calls(port, "wait");

    prepare_confirmed(&call, key, "", 1000);
    idgw_cluster_eval(cl, req, &call);
    ck_assert_int_eq(call.outcome, IDGW_CLUSTER_DONE);
    ck_assert_str_eq(call.reply->str, value);
    ck_assert_int_eq(call.acked, 1);
    freeReplyObject(call.reply);
    ck_assert_int_eq(cmd_calls(port, "wait"), waits + 1);
}

START_TEST(routes_each_slot_to_its_master)
{
    idgw_cluster_stats st;
    idgw_cluster_outcome o;
    apr_pool_t *req;
    int m;

    for (m = 0; m < 3; m++) {
        idgw_cluster_node_addr a;
        const char *k;
        long long before;

        ck_assert(idgw_cluster_slot_master(cl, m * 6000, &a));
        k = key_on(a.port, 1, "route");
        before = evalsha_calls(a.port);
        apr_pool_create(&req, pool);
        ck_assert_str_eq(eval(req, k, "v1", &o, NULL), "v1");
        ck_assert_int_eq(o, IDGW_CLUSTER_DONE);
        apr_pool_destroy(req);   /* gives the connection back */
        ck_assert_int_eq(evalsha_calls(a.port), before + 1);
    }
    idgw_cluster_get_stats(cl, &st);
    ck_assert_uint_eq(st.moved, 0);
    ck_assert_uint_eq(st.ask, 0);
    ck_assert_int_eq(st.nodes, 3);     /* the masters only */
}
END_TEST

/* A router of its own for seeds that cannot give a map: clean failures. */
static void expect_no_map(const char *password, int port, const char *why)
{
    idgw_redis_cfg other = cfg;
    idgw_redis_addr seed = { "127.0.0.1", port };
    idgw_cluster *bad;
    idgw_cluster_call call;
    idgw_cluster_stats st;
    char err[200] = "";

    other.password = password;
    ck_assert_int_eq(idgw_cluster_create(pool, &other, &seed, 1, scripts, 2, &bad), APR_SUCCESS);
    ck_assert_int_ne(idgw_cluster_refresh(bad, 1, err, sizeof(err)), APR_SUCCESS);
    ck_assert_msg(strstr(err, why) != NULL, "%s", err);
    prepare(&call, "{x}", "v");
    idgw_cluster_eval(bad, pool, &call);
    ck_assert_int_eq(call.outcome, IDGW_CLUSTER_UNAVAILABLE);
    ck_assert_ptr_null(call.reply);
    ck_assert_msg(strstr(call.err, "no master serves slot") != NULL, "%s", call.err);
    idgw_cluster_get_stats(bad, &st);
    ck_assert_uint_eq(st.refreshes, 0);
    ck_assert_uint_ge(st.refresh_failures, 1);
}

START_TEST(no_map_without_the_password_or_a_seed)
{
    expect_no_map("wrong-password", BASE, "AUTH refused");
    expect_no_map(NULL, BASE, "NOAUTH");
    expect_no_map(PASSWORD, BASE + 99, "connect to 127.0.0.1:17199");   /* nobody there */
}
END_TEST

START_TEST(parallel_calls_wait_one_round_trip)
{
    idgw_cluster_call calls[3];
    idgw_cluster_node_addr a[3];
    apr_time_t t0, took;
    apr_pool_t *req;
    int i;

    apr_pool_create(&req, pool);
    for (i = 0; i < 3; i++) {
        const char *k;

        ck_assert(idgw_cluster_slot_master(cl, i * 6000, &a[i]));
        k = key_on(a[i].port, 1, "par");
        call_of(&calls[i], &sleeper, &k, 1, "300");
    }
    /* connections made first, so that the timing is the scripts' only */
    idgw_cluster_run(cl, req, calls, 3);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(calls[i].outcome, IDGW_CLUSTER_DONE);
        ck_assert_int_eq(calls[i].reply->type, REDIS_REPLY_INTEGER);
        freeReplyObject(calls[i].reply);
    }
    /* three scripts of 300 ms of wall time each on three masters: together
     * about 300 ms, one after the other at least 900 ms */
    t0 = apr_time_now();
    idgw_cluster_run(cl, req, calls, 3);
    took = apr_time_now() - t0;
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(calls[i].outcome, IDGW_CLUSTER_DONE);
        ck_assert_int_eq(calls[i].reply->integer, 2);
        freeReplyObject(calls[i].reply);
    }
    ck_assert_msg(took < apr_time_from_msec(800), "took %" APR_TIME_T_FMT " us", took);
    ck_assert_msg(took >= apr_time_from_msec(300), "took %" APR_TIME_T_FMT " us", took);
    apr_pool_destroy(req);
}
END_TEST

/* One call through idgw_cluster_eval_shared; its reply's integer or string
 * in *out ("" when not DONE). */
static idgw_cluster_outcome shared(apr_pool_t *owner, const idgw_script *script, const char *key,
                                   const char *arg, int wait_replicas, const char **out)
{
    idgw_cluster_call call;

    call_of(&call, script, &key, 1, arg);
    call.wait_replicas = wait_replicas;
    call.wait_timeout = apr_time_from_msec(200);
    idgw_cluster_eval_shared(cl, owner, &call);
    *out = "";
    if (call.reply) {
        *out = call.reply->type == REDIS_REPLY_INTEGER
               ? apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)call.reply->integer)
               : call.reply->type == REDIS_REPLY_STRING ? apr_pstrdup(pool, call.reply->str)
               : apr_pstrcat(pool, "ERR:", call.reply->str ? call.reply->str : "", NULL);
        freeReplyObject(call.reply);
    }
    return call.outcome;
}

static void batch_stats(const char *key, idgw_redis_batch_stats *st)
{
    idgw_redis_batch *b = idgw_cluster_slot_batch(cl, idgw_cluster_key_slot(key, strlen(key)));

    ck_assert_ptr_nonnull(b);
    idgw_redis_batch_get_stats(b, st);
}

typedef struct sharer {
    const char *key, *ms, *got;
    idgw_cluster_outcome outcome;
} sharer;

static void *share(void *data)
{
    sharer *sh = data;
    apr_pool_t *req;

    apr_pool_create(&req, NULL);
    sh->outcome = shared(req, &sleeper, sh->key, sh->ms, 0, &sh->got);
    apr_pool_destroy(req);
    return NULL;
}

START_TEST(shared_calls_take_the_masters_batcher)
{
    idgw_cluster_node_addr a;
    idgw_redis_batch_stats b0, b1;
    idgw_cluster_stats st;
    const char *k, *kc, *got;
    apr_pool_t *req;
    pthread_t t[3];
    sharer sh[3];
    long long loads;
    int i;

    ck_assert(idgw_cluster_slot_master(cl, 0, &a));
    k = key_on(a.port, 1, "shared");
    kc = apr_pstrcat(pool, k, ".n", NULL);       /* same tag: the sleeper's counter */
    ok_at(a.port, "DEL %s", kc, NULL);
    apr_pool_create(&req, pool);
    ck_assert_int_eq(shared(req, &set_get, k, "s1", 0, &got), IDGW_CLUSTER_DONE);
    ck_assert_str_eq(got, "s1");
    batch_stats(k, &b0);
    ck_assert_uint_eq(b0.batches, 1);
    ck_assert_uint_eq(b0.callers, 1);

    /* three threads: the first leads a batch of its own (a 300 ms script),
     * the two that ask meanwhile go together in the next one */
    for (i = 0; i < 3; i++) {
        sh[i].key = kc;
        sh[i].ms = i == 0 ? "300" : "0";
        ck_assert_int_eq(pthread_create(&t[i], NULL, share, &sh[i]), 0);
        if (i == 0)
            apr_sleep(apr_time_from_msec(100));
    }
    for (i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(sh[i].outcome, IDGW_CLUSTER_DONE);
    }
    batch_stats(k, &b1);
    ck_assert_uint_eq(b1.callers - b0.callers, 3);
    ck_assert_uint_eq(b1.batches - b0.batches, 2);
    ck_assert_uint_ge(b1.largest, 2);

    /* the master forgot its scripts: NOSCRIPT through the batch, then the
     * router loads the script and runs it, once (the counter moves by one) */
    ok_at(a.port, "SCRIPT FLUSH", NULL, NULL);
    loads = cmd_calls(a.port, "script|load");
    ck_assert_int_eq(shared(req, &sleeper, kc, "0", 0, &got), IDGW_CLUSTER_DONE);
    ck_assert_str_eq(got, "4");
    ck_assert_int_eq(cmd_calls(a.port, "script|load"), loads + 1);
    batch_stats(k, &b0);
    ck_assert_uint_eq(b0.batches, b1.batches + 1);

    /* a call that waits for replicas does not take the batcher */
    ck_assert_int_eq(shared(req, &sleeper, kc, "0", 1, &got), IDGW_CLUSTER_DONE);
    ck_assert_str_eq(got, "5");
    batch_stats(k, &b1);
    ck_assert_uint_eq(b1.batches, b0.batches);

    /* a router whose commands time out after 150 ms, under a 400 ms script
     * (the node timeout is 1 s: the master is not failed over): its batch's
     * connection gives up, LOST, never run again, though it did run */
    {
        idgw_redis_cfg quick = cfg;
        idgw_redis_addr seed = { "127.0.0.1", BASE };
        idgw_cluster *main_cl = cl;
        char err[200];

        quick.command_timeout = apr_time_from_msec(150);
        ck_assert_int_eq(idgw_cluster_create(pool, &quick, &seed, 1, scripts, 2, &cl),
                         APR_SUCCESS);
        ck_assert_int_eq(idgw_cluster_refresh(cl, 1, err, sizeof(err)), APR_SUCCESS);
        ck_assert_int_eq(shared(req, &sleeper, kc, "400", 0, &got), IDGW_CLUSTER_LOST);
        idgw_cluster_get_stats(cl, &st);
        ck_assert_uint_eq(st.lost, 1);
        cl = main_cl;
    }
    apr_sleep(apr_time_from_msec(400));     /* the master is free again */
    ck_assert_int_eq(shared(req, &sleeper, kc, "0", 0, &got), IDGW_CLUSTER_DONE);
    ck_assert_str_eq(got, "7");
    apr_pool_destroy(req);
}
END_TEST

/* connected_clients of a node (INFO clients), the asking connection included */
static long long clients_on(int port)
{
    redisReply *r;
    const char *p;
    long long n;

    apr_sleep(apr_time_from_msec(50));     /* a close a moment ago is seen by the server */
    r = at(port, "INFO clients");
    p = strstr(r->str, "connected_clients:");
    ck_assert_ptr_nonnull(p);
    n = atoll(p + strlen("connected_clients:"));
    freeReplyObject(r);
    return n;
}

START_TEST(full_table_gives_up_a_departed_master)
{
    idgw_cluster_node_addr a, alias, fake;
    idgw_cluster_stats st;
    idgw_cluster_outcome o;
    idgw_redis_pool *old;
    idgw_redis_conn *c;
    apr_pool_t *req;
    char err[200];
    long long before;
    int i, idx, m;

    /* a master under a name the map does not use: a place of its own, with
     * a connection made and given back (idle in its pool) */
    ck_assert(idgw_cluster_slot_master(cl, 0, &a));
    alias = a;
    apr_cpystrn(alias.host, "localhost", sizeof(alias.host));
    idx = idgw_cluster_node(cl, &alias);
    ck_assert_int_eq(idx, 3);
    apr_pool_create(&req, pool);
    ck_assert_int_eq(idgw_redis_pool_acquire_for(idgw_cluster_pool(cl, idx), req, &c, err,
                                                 sizeof(err)), APR_SUCCESS);
    apr_pool_destroy(req);
    old = idgw_cluster_pool(cl, idx);      /* as a thread in the middle of a call holds it */
    before = clients_on(a.port);

    /* addresses nobody serves, named one after the other (as MOVED would
     * name new masters), fill the table: 128 places */
    for (i = 0; i < 124; i++) {
        apr_cpystrn(fake.host, "127.0.0.1", sizeof(fake.host));
        fake.port = 30000 + i;
        ck_assert_int_ge(idgw_cluster_node(cl, &fake), 0);
    }
    idgw_cluster_get_stats(cl, &st);
    ck_assert_int_eq(st.nodes, 128);
    ck_assert_uint_eq(st.retired, 0);
    /* one more takes the place of the first master that serves no slot:
     * the alias, whose idle connection is closed */
    fake.port = 31000;
    ck_assert_int_eq(idgw_cluster_node(cl, &fake), idx);
    idgw_cluster_get_stats(cl, &st);
    ck_assert_uint_eq(st.retired, 1);
    ck_assert_int_eq(clients_on(a.port), before - 1);
    ck_assert_ptr_ne(idgw_cluster_pool(cl, idx), old);
    ck_assert_int_eq(idgw_redis_pool_acquire(old, &c, err, sizeof(err)), IDGW_REDIS_POOL_RETIRED);
    /* and 200 more, each in the place of an earlier one; the masters of
     * the map keep theirs and still answer, and the map is asked again */
    for (i = 0; i < 200; i++) {
        fake.port = 31001 + i;
        ck_assert_int_ge(idgw_cluster_node(cl, &fake), 3);
    }
    idgw_cluster_get_stats(cl, &st);
    ck_assert_uint_eq(st.retired, 201);
    ck_assert_int_eq(st.nodes, 329);
    ck_assert_int_eq(idgw_cluster_refresh(cl, 1, err, sizeof(err)), APR_SUCCESS);
    for (m = 0; m < 3; m++) {
        idgw_cluster_node_addr owner;
        const char *k;

        ck_assert(idgw_cluster_slot_master(cl, m * 6000, &owner));
        ck_assert_str_eq(owner.host, "127.0.0.1");
        k = key_on(owner.port, 1, "full");
        apr_pool_create(&req, pool);
        ck_assert_str_eq(eval(req, k, "kept", &o, NULL), "kept");
        apr_pool_destroy(req);
    }
    idgw_cluster_get_stats(cl, &st);
    ck_assert_uint_eq(st.moved, 0);
}
END_TEST

START_TEST(migrated_slot_gives_ask_then_moved)
{
    idgw_cluster_node_addr a, b;
    idgw_cluster_stats st;
    idgw_cluster_outcome o;
    idgw_cluster *stale;
    const char *k, *k2, *ida, *idb, *bport;
    char slot[16], why[200];
    apr_pool_t *req;

    ck_assert(idgw_cluster_slot_master(cl, 0, &a));
    k = key_on(a.port, 1, "mig");
    ck_assert(idgw_cluster_slot_master(cl, 16383, &b));
    ck_assert_int_ne(a.port, b.port);
    k2 = apr_pstrcat(pool, k, ".other", NULL);    /* same tag, same slot */
    apr_snprintf(slot, sizeof(slot), "%d", idgw_cluster_key_slot(k, strlen(k)));
    bport = apr_itoa(pool, b.port);
    ida = myid(a.port);
    idb = myid(b.port);
    apr_pool_create(&req, pool);
    ck_assert_str_eq(eval(req, k, "before", &o, NULL), "before");
    ck_assert_str_eq(eval(req, k2, "before2", &o, NULL), "before2");
    /* a router of its own keeps the map of before the migration (below) */
    {
        idgw_redis_addr seed = { "127.0.0.1", BASE };
        char err[200];

        ck_assert_int_eq(idgw_cluster_create(pool, &cfg, &seed, 1, scripts, 2, &stale),
                         APR_SUCCESS);
        ck_assert_int_eq(idgw_cluster_refresh(stale, 1, err, sizeof(err)), APR_SUCCESS);
    }

    /* the slot starts moving from a to b; k goes, k2 stays */
    ok_at(b.port, "CLUSTER SETSLOT %s IMPORTING %s", slot, ida);
    ok_at(a.port, "CLUSTER SETSLOT %s MIGRATING %s", slot, idb);
    ok_at(a.port, "MIGRATE 127.0.0.1 %s %s 0 5000 AUTH " PASSWORD, bport, k);

    /* k is gone from a: ASK, then ASKING + the script on b, and the WAIT
     * asked for behind it there (it counts b's replicas) */
    read_confirmed_on(req, k, "before", b.port);
    idgw_cluster_get_stats(cl, &st);
    ck_assert_uint_eq(st.ask, 1);
    ck_assert_uint_eq(st.moved, 0);
    /* the map still names a: ASK moves one call, not the slot */
    ck_assert(idgw_cluster_slot_master(cl, atoi(slot), &a));
    ck_assert_int_ne(a.port, b.port);

    /* a script over k (moved) and k2 (not yet): TRYAGAIN, bounded, then unavailable */
    {
        idgw_cluster_call call;
        const char *keys[] = { k, k2 };

        call_of(&call, &set_get, keys, 2, "");
        idgw_cluster_eval(cl, req, &call);
        ck_assert_int_eq(call.outcome, IDGW_CLUSTER_UNAVAILABLE);
        ck_assert_msg(strstr(call.err, "TRYAGAIN") != NULL, "%s", call.err);
        idgw_cluster_get_stats(cl, &st);
        ck_assert_uint_eq(st.tryagain, IDGW_CLUSTER_TRYAGAIN_TRIES);
    }

    /* the migration ends: k2 goes too, the slot is b's everywhere */
    ok_at(a.port, "MIGRATE 127.0.0.1 %s %s 0 5000 AUTH " PASSWORD, bport, k2);
    ok_at(b.port, "CLUSTER SETSLOT %s NODE %s", slot, idb);
    ok_at(a.port, "CLUSTER SETSLOT %s NODE %s", slot, idb);

    /* the router still asks a: MOVED, the slot re-pointed, the call answered
     * and confirmed on b */
    read_confirmed_on(req, k2, "before2", b.port);
    idgw_cluster_get_stats(cl, &st);
    ck_assert_uint_eq(st.moved, 1);
    ck_assert(idgw_cluster_slot_master(cl, atoi(slot), &a));
    ck_assert_int_eq(a.port, b.port);
    /* and the next call goes straight to b */
    ck_assert_str_eq(eval(req, k, "after", &o, why), "after");
    idgw_cluster_get_stats(cl, &st);
    ck_assert_uint_eq(st.moved, 1);

    /* the other router still names a: its call through a's batcher comes
     * back MOVED, the slot is re-pointed and b answers */
    {
        idgw_cluster_call call;
        idgw_cluster_node_addr now;

        prepare(&call, k, "");
        idgw_cluster_eval_shared(stale, req, &call);
        ck_assert_int_eq(call.outcome, IDGW_CLUSTER_DONE);
        ck_assert_int_eq(call.reply->type, REDIS_REPLY_STRING);
        ck_assert_str_eq(call.reply->str, "after");
        freeReplyObject(call.reply);
        idgw_cluster_get_stats(stale, &st);
        ck_assert_uint_eq(st.moved, 1);
        ck_assert(idgw_cluster_slot_master(stale, atoi(slot), &now));
        ck_assert_int_eq(now.port, b.port);
    }
    apr_pool_destroy(req);
}
END_TEST

/*
 * IdgwSessionWaitReplicas on a Cluster: WAIT rides behind each script on the
 * connection to its slot's master (so it counts that master's replicas), in
 * the same round trip, alone or in a batch (one WAIT per master, behind its
 * last script); a master whose replica is stopped reports 0
 * acknowledgements for its calls only.
 */
START_TEST(confirmed_calls_wait_on_their_master)
{
    idgw_cluster_call calls[3], more[4];
    idgw_cluster_node_addr a[3];
    long long waits[3];
    apr_pool_t *req;
    apr_time_t t0, took;
    int i, replica, rpid;

    apr_pool_create(&req, pool);
    for (i = 0; i < 3; i++) {
        ck_assert(idgw_cluster_slot_master(cl, i * 6000, &a[i]));
        replica_up(replica_of(a[i].port));
        prepare_confirmed(&calls[0], key_on(a[i].port, 1, "conf"), "c1", 1000);
        waits[i] = cmd_calls(a[i].port, "wait");
        idgw_cluster_eval(cl, req, &calls[0]);
        ck_assert_int_eq(calls[0].outcome, IDGW_CLUSTER_DONE);
        ck_assert_str_eq(calls[0].reply->str, "c1");
        ck_assert_int_eq(calls[0].acked, 1);
        freeReplyObject(calls[0].reply);
        ck_assert_int_eq(cmd_calls(a[i].port, "wait"), waits[i] + 1);
    }
    /* a batch: one WAIT per call, each on its own master */
    for (i = 0; i < 3; i++) {
        prepare_confirmed(&calls[i], key_on(a[i].port, 1, "confb"), "c2", 1000);
        waits[i] = cmd_calls(a[i].port, "wait");
    }
    idgw_cluster_run(cl, req, calls, 3);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(calls[i].outcome, IDGW_CLUSTER_DONE);
        ck_assert_str_eq(calls[i].reply->str, "c2");
        ck_assert_int_eq(calls[i].acked, 1);
        freeReplyObject(calls[i].reply);
        ck_assert_int_eq(cmd_calls(a[i].port, "wait"), waits[i] + 1);
    }
    /* the scripts flushed on a master: NOSCRIPT, reloaded, and confirmed
     * again behind the second try on the same connection (alone, and in a
     * batch, where the call is finished alone) */
    for (i = 0; i < 2; i++) {
        redisReply *fr = at(a[1].port, "SCRIPT FLUSH");

        freeReplyObject(fr);
        prepare_confirmed(&calls[0], key_on(a[1].port, 1, i ? "nsb" : "nsa"), "c4", 1000);
        waits[1] = cmd_calls(a[1].port, "wait");
        if (i)
            idgw_cluster_run(cl, req, calls, 1);
        else
            idgw_cluster_eval(cl, req, &calls[0]);
        ck_assert_int_eq(calls[0].outcome, IDGW_CLUSTER_DONE);
        ck_assert_str_eq(calls[0].reply->str, "c4");
        ck_assert_int_eq(calls[0].acked, 1);
        freeReplyObject(calls[0].reply);
        /* alone: one WAIT behind the refused try, one behind the run; a
         * batch's refused call has one more (the batch's own WAIT, then the
         * call alone: refused again, loaded, run) */
        ck_assert_int_eq(cmd_calls(a[1].port, "wait"), waits[1] + 2 + i);
    }
    /* the first master's replica stopped: its calls unconfirmed, the others
     * not; its two calls share one WAIT (one timeout, not two) */
    replica = replica_of(a[0].port);
    rpid = pid_of(replica);
    waits[0] = cmd_calls(a[0].port, "wait");
    ck_assert_int_eq(kill(rpid, SIGSTOP), 0);
    for (i = 0; i < 3; i++)
        prepare_confirmed(&more[i], key_on(a[i].port, 1, "confc"), "c3", 300);
    prepare_confirmed(&more[3], key_on(a[0].port, 1, "confd"), "c3", 300);
    t0 = apr_time_now();
    idgw_cluster_run(cl, req, more, 4);
    took = apr_time_now() - t0;
    kill(rpid, SIGCONT);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(more[i].outcome, IDGW_CLUSTER_DONE);
        ck_assert_str_eq(more[i].reply->str, "c3");    /* the master ran it */
        ck_assert_int_eq(more[i].acked, i == 0 || i == 3 ? 0 : 1);
        freeReplyObject(more[i].reply);
    }
    ck_assert_msg(took >= apr_time_from_msec(290) && took < apr_time_from_msec(590),
                  "took %" APR_TIME_T_FMT " us", took);
    ck_assert_int_eq(cmd_calls(a[0].port, "wait"), waits[0] + 1);
    replica_up(replica);
    apr_pool_destroy(req);
}
END_TEST

/* Threads of one child share the router: each its own request pools. */
#define THREADS 4
#define CALLS_PER_THREAD 150

typedef struct worker {
    int id;
    int done;                   /* calls answered with the value written */
    apr_pool_t *p;
} worker;

static volatile int refreshing_stop;

static void *work(void *data)
{
    worker *w = data;
    int i;

    for (i = 0; i < CALLS_PER_THREAD; i++) {
        apr_pool_t *req;
        idgw_cluster_call call;
        const char *k = apr_psprintf(w->p, "{w%d.%d}", w->id, i);
        const char *v = apr_psprintf(w->p, "v%d", i);
        idgw_script_args a;

        apr_pool_create(&req, w->p);
        idgw_script_args_init(&a, req);
        idgw_script_args_part(&a);
        idgw_script_args_key(&a, k);
        idgw_script_args_str(&a, v);
        if (idgw_cluster_call_prepare(&call, &a, &set_get, 0) == 0) {
            idgw_cluster_eval(cl, req, &call);
            if (call.outcome == IDGW_CLUSTER_DONE && call.reply->type == REDIS_REPLY_STRING
                && strcmp(call.reply->str, v) == 0)
                w->done++;
            if (call.reply)
                freeReplyObject(call.reply);
        }
        apr_pool_destroy(req);
    }
    return NULL;
}

/* Meanwhile the map is installed again and again. */
static void *refresher(void *unused)
{
    char err[200];

    (void)unused;
    while (!refreshing_stop) {
        idgw_cluster_refresh(cl, 1, err, sizeof(err));
        apr_sleep(apr_time_from_msec(5));
    }
    return NULL;
}

START_TEST(threads_share_the_router)
{
    pthread_t t[THREADS], r;
    worker w[THREADS];
    idgw_cluster_stats st;
    int i;

    refreshing_stop = 0;
    ck_assert_int_eq(pthread_create(&r, NULL, refresher, NULL), 0);
    for (i = 0; i < THREADS; i++) {
        w[i].id = i;
        w[i].done = 0;
        apr_pool_create(&w[i].p, NULL);   /* pools are per thread */
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].done, CALLS_PER_THREAD);
        apr_pool_destroy(w[i].p);
    }
    refreshing_stop = 1;
    pthread_join(r, NULL);
    idgw_cluster_get_stats(cl, &st);
    ck_assert_uint_gt(st.refreshes, 1);
    ck_assert_uint_eq(st.moved, 0);
    ck_assert_uint_eq(st.lost, 0);
}
END_TEST

/* The replica of master port (from CLUSTER NODES). */
static int replica_of(int port)
{
    const char *id = myid(port);
    redisReply *r = at(port, "CLUSTER NODES");
    char *line, *save = NULL;
    int found = 0;

    for (line = strtok_r(r->str, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strstr(line, " slave ") && strstr(line, id)) {
            found = atoi(strchr(line, ':') + 1);
            break;
        }
    freeReplyObject(r);
    ck_assert_msg(found, "no replica of %d", port);
    return found;
}

/* Call until the answer comes back, at most secs; every failure must be a clean one. */
static int wait_for_answer(const char *k, int secs, int *failures)
{
    idgw_cluster_outcome o;
    char why[200];
    int i;

    for (i = 0; i < secs * 10; i++) {
        apr_pool_t *req;
        const char *v;

        apr_pool_create(&req, pool);
        v = eval(req, k, "", &o, why);
        apr_pool_destroy(req);
        if (o == IDGW_CLUSTER_DONE) {
            ck_assert_msg(v && strcmp(v, "kept") == 0, "wrong answer %s", v ? v : "(null)");
            return 1;
        }
        ck_assert(o == IDGW_CLUSTER_UNAVAILABLE || o == IDGW_CLUSTER_LOST);
        ck_assert(why[0] != '\0');
        (*failures)++;
        apr_sleep(apr_time_from_msec(100));
    }
    return 0;
}

START_TEST(manual_failover_followed)
{
    idgw_cluster_node_addr a, now;
    idgw_cluster_outcome o;
    idgw_cluster_stats st0, st;
    const char *k;
    int replica, i, failures = 0;
    apr_pool_t *req;

    ck_assert(idgw_cluster_slot_master(cl, 8000, &a));
    k = key_on(a.port, 1, "fo");
    apr_pool_create(&req, pool);
    ck_assert_str_eq(eval(req, k, "kept", &o, NULL), "kept");
    apr_pool_destroy(req);
    replica = replica_of(a.port);
    ok_at(replica, "CLUSTER FAILOVER", NULL, NULL);
    for (i = 0; i < 100; i++) {        /* the replica says master within 10 s */
        redisReply *r = at(replica, "ROLE");
        int done = strcmp(r->element[0]->str, "master") == 0;

        freeReplyObject(r);
        if (done)
            break;
        apr_sleep(apr_time_from_msec(100));
    }
    idgw_cluster_get_stats(cl, &st0);
    ck_assert(wait_for_answer(k, 10, &failures));
    idgw_cluster_get_stats(cl, &st);
    ck_assert_uint_gt(st.moved, st0.moved);   /* the old master sent us on */
    ck_assert(idgw_cluster_slot_master(cl, idgw_cluster_key_slot(k, strlen(k)), &now));
    ck_assert_int_eq(now.port, replica);
}
END_TEST

static int pid_of(int port)
{
    char path[512];
    FILE *f;
    int pid = 0;

    snprintf(path, sizeof(path), "%s/%d/redis.pid", dir, port);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%d", &pid), 1);
    fclose(f);
    return pid;
}

START_TEST(killed_master_replaced_by_its_replica)
{
    idgw_cluster_node_addr a, now;
    idgw_cluster_outcome o;
    const char *k;
    int replica, failures = 0;
    apr_pool_t *req;
    apr_time_t t0;

    ck_assert(idgw_cluster_slot_master(cl, 3000, &a));
    k = key_on(a.port, 1, "kill");
    apr_pool_create(&req, pool);
    ck_assert_str_eq(eval(req, k, "kept", &o, NULL), "kept");
    apr_pool_destroy(req);           /* a pooled connection to a stays open */
    replica = replica_of(a.port);
    /* the replica has the key before the master goes (no WAIT in the script) */
    for (int i = 0; i < 50; i++) {
        redisReply *r = at(replica, "INFO replication");
        int synced = strstr(r->str, "master_link_status:up") != NULL;

        freeReplyObject(r);
        if (synced)
            break;
        apr_sleep(apr_time_from_msec(100));
    }
    apr_sleep(apr_time_from_msec(200));
    ck_assert_int_eq(kill(pid_of(a.port), SIGKILL), 0);
    t0 = apr_time_now();

    /* no restart, same router: clean failures, then the promoted replica answers */
    ck_assert_msg(wait_for_answer(k, 15, &failures), "never answered (%d failures)", failures);
    fprintf(stderr, "# master killed: answered again after %" APR_TIME_T_FMT " ms, %d clean failures\n",
            apr_time_as_msec(apr_time_now() - t0), failures);
    ck_assert_int_gt(failures, 0);
    ck_assert(idgw_cluster_slot_master(cl, idgw_cluster_key_slot(k, strlen(k)), &now));
    ck_assert_int_eq(now.port, replica);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cluster_live");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    snprintf(dir, sizeof(dir), "/tmp/idgw-cluster-test.%u", (unsigned)getuid());
    cluster_cmd("stop");
    if (cluster_cmd("start") != 0) {
        fprintf(stderr, "test_cluster_live: could not start the cluster in %s\n", dir);
        cluster_cmd("stop");
        return EXIT_FAILURE;
    }
    apr_initialize();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 40);
    tcase_add_test(tc, routes_each_slot_to_its_master);
    tcase_add_test(tc, no_map_without_the_password_or_a_seed);
    tcase_add_test(tc, parallel_calls_wait_one_round_trip);
    tcase_add_test(tc, confirmed_calls_wait_on_their_master);
    tcase_add_test(tc, threads_share_the_router);
    tcase_add_test(tc, shared_calls_take_the_masters_batcher);
    tcase_add_test(tc, full_table_gives_up_a_departed_master);
    tcase_add_test(tc, migrated_slot_gives_ask_then_moved);
    tcase_add_test(tc, manual_failover_followed);
    tcase_add_test(tc, killed_master_replaced_by_its_replica);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    cluster_cmd("stop");
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
