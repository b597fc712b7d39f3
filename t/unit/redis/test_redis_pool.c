/*
 * test_redis_pool.c - the per-child Redis pool against a real redis-server
 * (127.0.0.1:6397, started and stopped here): check before reuse (peek for
 * a closed connection, PING after idle), scripts
 * loaded per connection, the circuit breaker, recovery after a restart,
 * AUTH and SELECT, READONLY classified, pipelined replies drained; and
 * connections tied to an owner pool (idgw_redis_pool_acquire_for).
 */
#include <check.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idgw_redis_pool.h"
#include "redis_fixture.h"

#define PORT 6397

static apr_pool_t *pool;
static idgw_redis_cfg cfg;
static idgw_script echo_script;
static const idgw_script *scripts[1];

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    memset(&cfg, 0, sizeof(cfg));
    cfg.server.host = "127.0.0.1";
    cfg.server.port = PORT;
    cfg.connect_timeout = apr_time_from_msec(300);
    cfg.command_timeout = apr_time_from_msec(500);
    cfg.idle_check = apr_time_from_sec(60);
    cfg.breaker_time = apr_time_from_msec(300);
    cfg.pool_max = 2;
    idgw_script_init(&echo_script, "echo", "return ARGV[1]");
    scripts[0] = &echo_script;
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static redisReply *echo(idgw_redis_conn *c, const char *what)
{
    const char *argv[] = { "EVALSHA", echo_script.sha1, "0", what };
    size_t lens[] = { 7, 40, 1, strlen(what) };

    return idgw_redis_evalsha(c, &echo_script, 4, argv, lens);
}

static apr_int64_t info_calls(const char *cmd)
{
    idgw_redis_addr addr = { "127.0.0.1", PORT };
    idgw_redis_conn *c;
    char err[128], *p;
    const char *argv[] = { "INFO", "commandstats" };
    size_t lens[] = { 4, 12 };
    redisReply *r;
    apr_int64_t v = 0;

    ck_assert_int_eq(idgw_redis_connect(&cfg, &addr, 0, NULL, 0, &c, err, sizeof(err)),
                     APR_SUCCESS);
    r = idgw_redis_command(c, 2, argv, lens);
    ck_assert_ptr_nonnull(r);
    p = strstr(r->str, apr_pstrcat(pool, "cmdstat_", cmd, ":calls=", NULL));
    if (p)
        v = atoll(strchr(p, '=') + 1);
    freeReplyObject(r);
    idgw_redis_close(c);
    free(c);
    return v;
}

START_TEST(reuse_without_extra_commands)
{
    idgw_redis_pool *pl;
    idgw_redis_conn *c;
    idgw_redis_pool_stats st;
    char err[256];
    redisReply *r;
    int i;

    ck_assert_int_eq(idgw_redis_pool_create(pool, &cfg, scripts, 1, &pl), APR_SUCCESS);
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)), APR_SUCCESS);
        r = echo(c, "hi");
        ck_assert_ptr_nonnull(r);
        ck_assert_str_eq(r->str, "hi");
        freeReplyObject(r);
        idgw_redis_pool_release(pl, c);
    }
    idgw_redis_pool_get_stats(pl, &st);
    ck_assert_uint_eq(st.connects, 1);
    ck_assert_uint_eq(st.pings, 0);
}
END_TEST

START_TEST(idle_connection_checked_before_reuse)
{
    idgw_redis_pool *pl;
    idgw_redis_conn *c;
    idgw_redis_pool_stats st;
    char err[256];
    apr_int64_t pings = info_calls("ping");

    cfg.idle_check = apr_time_from_msec(100);
    ck_assert_int_eq(idgw_redis_pool_create(pool, &cfg, scripts, 1, &pl), APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)), APR_SUCCESS);
    idgw_redis_pool_release(pl, c);
    usleep(150000);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)), APR_SUCCESS);
    idgw_redis_pool_release(pl, c);
    idgw_redis_pool_get_stats(pl, &st);
    ck_assert_uint_eq(st.pings, 1);
    ck_assert_int_eq(info_calls("ping"), pings + 1);
}
END_TEST

/* The server drops every client but the one asking (as a restart would);
 * expects that many were pooled. */
static void server_drops_pooled_connections(long long expected)
{
    idgw_redis_addr addr = { "127.0.0.1", PORT };
    idgw_redis_conn *admin;
    char err[256];
    const char *kill_others[] = { "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes" };
    size_t kill_lens[] = { 6, 4, 4, 6, 6, 3 };
    redisReply *r;

    ck_assert_int_eq(idgw_redis_connect(&cfg, &addr, 0, NULL, 0, &admin, err, sizeof(err)),
                     APR_SUCCESS);
    r = idgw_redis_command(admin, 6, kill_others, kill_lens);
    ck_assert_int_eq(r->integer, expected);
    freeReplyObject(r);
    idgw_redis_close(admin);
    free(admin);
    usleep(50000);
}

/* An acquire that must lend a live connection, checked with one script call. */
static void acquire_live(idgw_redis_pool *pl, const char *what)
{
    idgw_redis_conn *c;
    char err[256];
    redisReply *r;

    ck_assert_msg(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)) == APR_SUCCESS, "%s", err);
    r = echo(c, what);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->str, what);
    freeReplyObject(r);
    idgw_redis_pool_release(pl, c);
}

START_TEST(closed_by_server_detected_without_ping)
{
    idgw_redis_pool *pl;
    idgw_redis_conn *c;
    idgw_redis_pool_stats st;
    char err[256];

    ck_assert_int_eq(idgw_redis_pool_create(pool, &cfg, scripts, 1, &pl), APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)), APR_SUCCESS);
    idgw_redis_pool_release(pl, c);
    server_drops_pooled_connections(1);
    /* the next acquire sees it and connects anew: no failed command, no PING */
    acquire_live(pl, "fresh");
    idgw_redis_pool_get_stats(pl, &st);
    ck_assert_uint_eq(st.pings, 0);
    ck_assert_uint_eq(st.connects, 2);
    ck_assert_uint_eq(st.invalidated, 1);
}
END_TEST

/* A full pool whose every connection the server closed (a restart after a
 * burst): more dead connections than the failed-check bound, and still the
 * first acquire lends a live one (each dead one costs a peek, not a try). */
START_TEST(many_closed_connections_skipped)
{
    idgw_redis_pool *pl;
    idgw_redis_conn *held[6];
    idgw_redis_pool_stats st;
    char err[256];
    int i;

    cfg.pool_max = 6;
    ck_assert_int_eq(idgw_redis_pool_create(pool, &cfg, scripts, 1, &pl), APR_SUCCESS);
    for (i = 0; i < 6; i++)
        ck_assert_int_eq(idgw_redis_pool_acquire(pl, &held[i], err, sizeof(err)), APR_SUCCESS);
    for (i = 0; i < 6; i++)
        idgw_redis_pool_release(pl, held[i]);
    server_drops_pooled_connections(6);
    acquire_live(pl, "alive");
    idgw_redis_pool_get_stats(pl, &st);
    ck_assert_uint_eq(st.invalidated, 6);
    ck_assert_uint_eq(st.connects, 7);
    ck_assert_uint_eq(st.pings, 0);
}
END_TEST

START_TEST(breaker_and_recovery)
{
    idgw_redis_pool *pl;
    idgw_redis_conn *c;
    idgw_redis_pool_stats st;
    char err[256];
    apr_status_t rv;
    redisReply *r;

    ck_assert_int_eq(idgw_redis_pool_create(pool, &cfg, scripts, 1, &pl), APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)), APR_SUCCESS);
    idgw_redis_pool_release(pl, c);

    redis_fixture_stop();
    /* the pooled connection is dead: the PING finds out, the reconnect fails */
    cfg.idle_check = 0;
    rv = idgw_redis_pool_acquire(pl, &c, err, sizeof(err));
    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "6397"));
    /* now the breaker answers at once */
    rv = idgw_redis_pool_acquire(pl, &c, err, sizeof(err));
    ck_assert_int_eq(rv, APR_EAGAIN);
    ck_assert_ptr_nonnull(strstr(err, "not retrying yet"));
    idgw_redis_pool_get_stats(pl, &st);
    ck_assert_uint_ge(st.fast_failures, 1);
    ck_assert_uint_ge(st.connect_failures, 1);

    ck_assert_int_eq(redis_fixture_start(PORT), 0);
    usleep(350000);
    /* after the retry interval the pool connects again by itself, and loads the script */
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)), APR_SUCCESS);
    r = echo(c, "back");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->str, "back");
    freeReplyObject(r);
    idgw_redis_pool_release(pl, c);
}
END_TEST

START_TEST(io_error_invalidates_and_trips)
{
    idgw_redis_pool *pl;
    idgw_redis_conn *c;
    idgw_redis_pool_stats st;
    char err[256];
    /* SKIPME defaults to yes: ask Redis to drop this very connection too */
    const char *argv[] = { "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no" };
    size_t lens[] = { 6, 4, 4, 6, 6, 2 };
    redisReply *r;

    ck_assert_int_eq(idgw_redis_pool_create(pool, &cfg, scripts, 1, &pl), APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)), APR_SUCCESS);
    r = idgw_redis_command(c, 6, argv, lens);    /* kills this very connection */
    if (r)
        freeReplyObject(r);
    r = echo(c, "x");
    ck_assert_ptr_null(r);
    ck_assert(idgw_redis_dead(c));
    idgw_redis_pool_release(pl, c);
    idgw_redis_pool_get_stats(pl, &st);
    ck_assert_uint_eq(st.invalidated, 1);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)), APR_EAGAIN);
}
END_TEST

START_TEST(auth_and_select)
{
    idgw_redis_addr addr = { "127.0.0.1", PORT };
    idgw_redis_conn *c, *admin;
    char err[256];
    const char *set_pw[] = { "CONFIG", "SET", "requirepass", "s3cret" };
    size_t set_pw_lens[] = { 6, 3, 11, 6 };
    const char *set_key[] = { "SET", "where", "db3" };
    size_t set_key_lens[] = { 3, 5, 3 };
    redisReply *r;

    ck_assert_int_eq(idgw_redis_connect(&cfg, &addr, 0, NULL, 0, &admin, err, sizeof(err)),
                     APR_SUCCESS);
    r = idgw_redis_command(admin, 4, set_pw, set_pw_lens);
    freeReplyObject(r);
    /* no password: refused with Redis's own words, never the password */
    ck_assert_int_ne(idgw_redis_connect(&cfg, &addr, 0, scripts, 1, &c, err, sizeof(err)),
                     APR_SUCCESS);
    cfg.password = "wrong";
    ck_assert_int_ne(idgw_redis_connect(&cfg, &addr, 0, NULL, 0, &c, err, sizeof(err)),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "AUTH refused"));
    ck_assert_ptr_null(strstr(err, "wrong"));
    cfg.password = "s3cret";
    cfg.database = 3;
    ck_assert_int_eq(idgw_redis_connect(&cfg, &addr, 0, NULL, 0, &c, err, sizeof(err)),
                     APR_SUCCESS);
    r = idgw_redis_command(c, 3, set_key, set_key_lens);
    freeReplyObject(r);
    {
        const char *get[] = { "GET", "where" };
        size_t get_lens[] = { 3, 5 };
        const char *sel[] = { "SELECT", "0" };
        size_t sel_lens[] = { 6, 1 };
        const char *nopw[] = { "CONFIG", "SET", "requirepass", "" };
        size_t nopw_lens[] = { 6, 3, 11, 0 };

        r = idgw_redis_command(c, 2, get, get_lens);
        ck_assert_str_eq(r->str, "db3");
        freeReplyObject(r);
        r = idgw_redis_command(c, 2, sel, sel_lens);
        freeReplyObject(r);
        r = idgw_redis_command(c, 2, get, get_lens);
        ck_assert_int_eq(r->type, REDIS_REPLY_NIL);
        freeReplyObject(r);
        r = idgw_redis_command(c, 4, nopw, nopw_lens);
        freeReplyObject(r);
    }
    idgw_redis_close(c);
    free(c);
    idgw_redis_close(admin);
    free(admin);
}
END_TEST

/* The per-request script as a function library: the FCALL that finds no
 * library loads it (FUNCTION LOAD REPLACE) and runs again, once; after a
 * FUNCTION FLUSH it is loaded again; a user refused FCALL turns the process
 * to EVALSHA of the same script, and the call is answered all the same. */
#define FN_CORE "local function core_begin() end\n" \
                "local function core_proven(K, A) return false end\n" \
                "local function script_time() return redis.call('TIME') end\n" \
                "local function core(K, A) return A[1] end\n"

static redisReply *fn_call(idgw_redis_conn *c, const idgw_script *s, const char *what)
{
    idgw_script_args a;
    const char **argv;
    size_t *lens;
    int argc;

    idgw_script_args_init(&a, pool);
    idgw_script_args_part(&a);
    idgw_script_args_str(&a, what);
    argc = idgw_script_args_argv(&a, s, 1, &argv, &lens);
    return idgw_redis_evalsha(c, s, argc, argv, lens);
}

static void fn_answered(idgw_redis_conn *c, const idgw_script *s, const char *what)
{
    redisReply *r = fn_call(c, s, what);

    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r->type == REDIS_REPLY_ARRAY && r->elements == 1
                  && r->element[0]->type == REDIS_REPLY_STRING
                  && strcmp(r->element[0]->str, what) == 0,
                  "unexpected reply: %s", r->type == REDIS_REPLY_ERROR ? r->str : "?");
    freeReplyObject(r);
}

static void admin_command(idgw_redis_conn *c, int argc, const char **argv)
{
    size_t lens[8];
    int i;

    for (i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    freeReplyObject(idgw_redis_command(c, argc, argv, lens));
}

START_TEST(function_library_loaded_reloaded_and_given_up)
{
    idgw_redis_addr addr = { "127.0.0.1", PORT };
    idgw_redis_conn *c;
    char err[256];
    idgw_script fs;
    const idgw_script *fss[1] = { &fs };
    const char *flush[] = { "FUNCTION", "FLUSH" };
    const char *deny[] = { "ACL", "SETUSER", "default", "-fcall" };
    const char *allow[] = { "ACL", "SETUSER", "default", "+@all" };
    apr_int64_t loads, fcalls;

    ck_assert(idgw_script_compose(&fs, pool, "fn", FN_CORE, NULL, 0, err, sizeof(err)));
    /* the connection loads no library: the first call that misses it does */
    ck_assert_int_eq(idgw_redis_connect(&cfg, &addr, 0, fss, 1, &c, err, sizeof(err)),
                     APR_SUCCESS);
    admin_command(c, 2, flush);
    loads = info_calls("function|load");
    fcalls = info_calls("fcall");
    fn_answered(c, &fs, "one");
    fn_answered(c, &fs, "two");
    ck_assert_int_eq(info_calls("function|load") - loads, 1);
    ck_assert_int_eq(info_calls("fcall") - fcalls, 3);   /* not found, then two */
    admin_command(c, 2, flush);
    fn_answered(c, &fs, "three");
    ck_assert_int_eq(info_calls("function|load") - loads, 2);
    ck_assert(!idgw_script_functions_off());
    admin_command(c, 4, deny);
    fn_answered(c, &fs, "four");
    admin_command(c, 4, allow);
    ck_assert(idgw_script_functions_off());
    fn_answered(c, &fs, "five");   /* built as EVALSHA now */
    ck_assert_int_eq(info_calls("fcall") - fcalls, 5);   /* a refused one is no call */
    idgw_redis_close(c);
    free(c);
}
END_TEST

/* A part with no key and no argument has nothing to do in this call: the
 * dispatcher does not run it (false), and when no part has anything to do
 * the call goes to the core alone (core_fname), whose reply is {core's};
 * EVALSHA of the whole script takes the same arguments. */
static redisReply *parts_call(idgw_redis_conn *c, const idgw_script *s, const char *p1,
                              const char **fname, int as_evalsha)
{
    idgw_script_args a;
    const char **argv;
    size_t *lens;
    int argc;

    idgw_script_args_init(&a, pool);
    idgw_script_args_part(&a);
    idgw_script_args_key(&a, "k-core");
    idgw_script_args_str(&a, "core-arg");
    idgw_script_args_part(&a);
    if (p1)
        idgw_script_args_str(&a, p1);
    idgw_script_args_part(&a);
    argc = idgw_script_args_argv(&a, s, 1, &argv, &lens);
    *fname = argv[1];
    if (as_evalsha) {   /* as idgw_redis.c's evalsha_instead rewrites a call */
        argv[0] = "EVALSHA"; lens[0] = 7;
        argv[1] = s->sha1; lens[1] = 40;
    }
    return idgw_redis_evalsha(c, s, argc, argv, lens);
}

START_TEST(parts_with_nothing_to_do_are_not_run)
{
    idgw_redis_addr addr = { "127.0.0.1", PORT };
    idgw_redis_conn *c;
    char err[256];
    idgw_script fs;
    const idgw_script *fss[1] = { &fs };
    idgw_script_part_text parts[2] = { { "before", "return {'before', #K, A[1]}", 0 },
                                       { "after", "return 'after'", 1 } };
    const char *fname;
    redisReply *r;

    ck_assert(idgw_script_compose(&fs, pool, "fn", FN_CORE, parts, 2, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(fs.lib, fs.core_fname));
    ck_assert_int_eq(idgw_redis_connect(&cfg, &addr, 0, fss, 1, &c, err, sizeof(err)),
                     APR_SUCCESS);
    /* part 1 has an argument: the dispatcher; part 2 (empty) is not run */
    r = parts_call(c, &fs, "p1-arg", &fname, 0);
    ck_assert_str_eq(fname, fs.fname);
    ck_assert_msg(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3,
                  "reply: %s", r && r->type == REDIS_REPLY_ERROR ? r->str : "?");
    ck_assert_str_eq(r->element[0]->str, "core-arg");
    ck_assert_int_eq(r->element[1]->type, REDIS_REPLY_ARRAY);
    ck_assert_str_eq(r->element[1]->element[2]->str, "p1-arg");
    ck_assert_int_eq(r->element[2]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    /* nothing for either part: the core alone */
    r = parts_call(c, &fs, NULL, &fname, 0);
    ck_assert_str_eq(fname, fs.core_fname);
    ck_assert_msg(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1,
                  "reply: %s", r && r->type == REDIS_REPLY_ERROR ? r->str : "?");
    ck_assert_str_eq(r->element[0]->str, "core-arg");
    freeReplyObject(r);
    /* EVALSHA of the whole script with the same arguments: parts not run */
    r = parts_call(c, &fs, NULL, &fname, 1);
    ck_assert_msg(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3,
                  "reply: %s", r && r->type == REDIS_REPLY_ERROR ? r->str : "?");
    ck_assert_str_eq(r->element[0]->str, "core-arg");
    ck_assert_int_eq(r->element[1]->type, REDIS_REPLY_NIL);
    ck_assert_int_eq(r->element[2]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    idgw_redis_close(c);
    free(c);
}
END_TEST

START_TEST(readonly_replica_classified)
{
    idgw_redis_addr addr = { "127.0.0.1", PORT };
    idgw_redis_conn *c;
    char err[256];
    idgw_script writer;
    const idgw_script *ws[1] = { &writer };
    const char *replicaof[] = { "REPLICAOF", "127.0.0.1", "1" };
    size_t rlens[] = { 9, 9, 1 };
    const char *noone[] = { "REPLICAOF", "NO", "ONE" };
    size_t nlens[] = { 9, 2, 3 };
    redisReply *r;

    idgw_script_init(&writer, "writer", "return redis.call('SET', KEYS[1], '1')");
    ck_assert_int_eq(idgw_redis_connect(&cfg, &addr, 0, ws, 1, &c, err, sizeof(err)),
                     APR_SUCCESS);
    r = idgw_redis_command(c, 3, replicaof, rlens);
    freeReplyObject(r);
    {
        const char *a4[] = { "EVALSHA", writer.sha1, "1", "k" };
        size_t l4[] = { 7, 40, 1, 1 };

        r = idgw_redis_evalsha(c, &writer, 4, a4, l4);
    }
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(idgw_redis_classify(r), IDGW_REDIS_READONLY);
    freeReplyObject(r);
    /* a replica is not a master: the Sentinel path refuses it */
    {
        idgw_redis_conn *c2;

        ck_assert_int_ne(idgw_redis_connect(&cfg, &addr, 1, NULL, 0, &c2, err, sizeof(err)),
                         APR_SUCCESS);
        ck_assert_ptr_nonnull(strstr(err, "not a master"));
    }
    r = idgw_redis_command(c, 3, noone, nlens);
    freeReplyObject(r);
    idgw_redis_close(c);
    free(c);
}
END_TEST

START_TEST(pipelined_replies_drained)
{
    idgw_redis_addr addr = { "127.0.0.1", PORT };
    idgw_redis_conn *c;
    char err[256];
    const char *bad[] = { "EVALSHA", "0000000000000000000000000000000000000000", "0" };
    size_t bad_lens[] = { 7, 40, 1 };
    redisReply *r;

    ck_assert_int_eq(idgw_redis_connect(&cfg, &addr, 0, scripts, 1, &c, err, sizeof(err)),
                     APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_send(c, 3, bad, bad_lens), APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_send(c, 3, bad, bad_lens), APR_SUCCESS);
    ck_assert_int_eq(c->pending, 2);
    ck_assert_int_eq(idgw_redis_drain(c, err, sizeof(err)), 2);
    ck_assert_ptr_nonnull(strstr(err, "NOSCRIPT"));
    ck_assert_int_eq(c->pending, 0);
    r = echo(c, "in order");
    ck_assert_str_eq(r->str, "in order");
    freeReplyObject(r);
    idgw_redis_close(c);
    free(c);
}
END_TEST

/*
 * WAIT answers at the server's first cron tick after its timeout (every
 * 100 ms at hz 10): a master without the replicas asked for answers a
 * 250 ms WAIT after 250-350 ms.  Read under a 100 ms command timeout that
 * answer was a timed-out read and a dead connection (the pool's breaker);
 * it is read under the command timeout plus the WAIT's own, then the
 * connection's own timeout holds again.
 */
START_TEST(late_wait_answer_read_in_full)
{
    idgw_redis_addr addr = { "127.0.0.1", PORT };
    idgw_redis_conn *c;
    char err[256];
    redisReply *r;
    apr_time_t t0;
    int acked;
    const char *set[] = { "SET", "idgw-test:wait", "1" };
    size_t set_lens[] = { 3, 14, 1 };
    const char *block[] = { "BLPOP", "idgw-test:never", "0.5" };
    size_t block_lens[] = { 5, 15, 3 };

    cfg.command_timeout = apr_time_from_msec(100);
    ck_assert_int_eq(idgw_redis_connect(&cfg, &addr, 0, scripts, 1, &c, err, sizeof(err)),
                     APR_SUCCESS);
    t0 = apr_time_now();
    r = idgw_redis_command_confirmed(c, 3, set, set_lens, 1, apr_time_from_msec(250), &acked);
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
    ck_assert_int_ge(apr_time_now() - t0, apr_time_from_msec(240));
    ck_assert_int_eq(acked, 0);             /* no replica: not confirmed, not lost */
    ck_assert(!idgw_redis_dead(c));
    ck_assert_int_eq(c->pending, 0);
    r = echo(c, "still in step");
    ck_assert_str_eq(r->str, "still in step");
    freeReplyObject(r);
    /* the plain timeout is back: a 500 ms block is cut at 100 ms */
    t0 = apr_time_now();
    ck_assert_ptr_null(idgw_redis_command(c, 3, block, block_lens));
    ck_assert_int_lt(apr_time_now() - t0, apr_time_from_msec(400));
    ck_assert(idgw_redis_dead(c));
    idgw_redis_close(c);
    free(c);
}
END_TEST

/* ---- connections tied to an owner pool (a request's) --------------------- */

/* CLIENT KILL for the connection itself (SKIPME no): it dies under the caller. */
static void kill_own_connection(idgw_redis_conn *c)
{
    const char *argv[] = { "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no" };
    size_t lens[] = { 6, 4, 4, 6, 6, 2 };
    redisReply *r = idgw_redis_command(c, 6, argv, lens);

    if (r)
        freeReplyObject(r);
    r = echo(c, "x");
    ck_assert_ptr_null(r);
    ck_assert(idgw_redis_dead(c));
}

/* What the owner gets when it asks (again): the status, and the connection. */
static apr_status_t ask(idgw_redis_pool *pl, apr_pool_t *owner, idgw_redis_conn **c)
{
    char err[256];

    *c = NULL;
    return idgw_redis_pool_acquire_for(pl, owner, c, err, sizeof(err));
}

/* A pool made with cfg, an owner pool, and the connection the owner holds. */
static idgw_redis_conn *first_for_new_owner(idgw_redis_pool **pl, apr_pool_t **owner)
{
    idgw_redis_conn *c;

    ck_assert_int_eq(idgw_redis_pool_create(pool, &cfg, scripts, 1, pl), APR_SUCCESS);
    apr_pool_create(owner, pool);
    ck_assert_int_eq(ask(*pl, *owner, &c), APR_SUCCESS);
    return c;
}

static idgw_redis_pool_stats stats(idgw_redis_pool *pl)
{
    idgw_redis_pool_stats st;

    idgw_redis_pool_get_stats(pl, &st);
    return st;
}

/* connected_clients of the server (INFO clients), this admin connection included */
static long long server_clients(void)
{
    idgw_redis_addr addr = { "127.0.0.1", PORT };
    idgw_redis_conn *admin;
    char err[256];
    const char *argv[] = { "INFO", "clients" };
    size_t lens[] = { 4, 7 };
    redisReply *r;
    const char *p;
    long long n;

    usleep(50000);      /* a connection closed a moment ago is gone on the server too */
    ck_assert_int_eq(idgw_redis_connect(&cfg, &addr, 0, NULL, 0, &admin, err, sizeof(err)),
                     APR_SUCCESS);
    r = idgw_redis_command(admin, 2, argv, lens);
    ck_assert_ptr_nonnull(r);
    p = strstr(r->str, "connected_clients:");
    ck_assert_ptr_nonnull(p);
    n = atoll(p + strlen("connected_clients:"));
    freeReplyObject(r);
    idgw_redis_close(admin);
    free(admin);
    return n;
}

/* A Cluster master that left the map: its pool closes what it has and lends nothing more. */
START_TEST(retired_pool_closes_its_connections)
{
    idgw_redis_pool *pl;
    apr_pool_t *owner;
    idgw_redis_conn *held, *b, *c;
    char err[256];
    long long before;

    cfg.pool_max = 3;
    held = first_for_new_owner(&pl, &owner);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &b, err, sizeof(err)), APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)), APR_SUCCESS);
    idgw_redis_pool_release(pl, b);
    idgw_redis_pool_release(pl, c);
    ck_assert_uint_eq(stats(pl).connects, 3);
    before = server_clients();
    idgw_redis_pool_retire(pl);
    ck_assert_int_eq(server_clients(), before - 2);      /* the two idle ones */
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &b, err, sizeof(err)), IDGW_REDIS_POOL_RETIRED);
    ck_assert_msg(strstr(err, "left the Cluster's map") != NULL, "%s", err);
    ck_assert_uint_eq(stats(pl).connects, 3);            /* nothing made */
    ck_assert_uint_eq(stats(pl).fast_failures, 0);       /* not the breaker */
    /* the one held meanwhile is closed when it comes back */
    ck_assert_int_eq(ask(pl, owner, &b), IDGW_REDIS_POOL_RETIRED);
    ck_assert_int_eq(server_clients(), before - 3);
    apr_pool_destroy(owner);
    (void)held;
}
END_TEST

START_TEST(owner_asking_twice_gets_the_same_connection)
{
    idgw_redis_pool *pl;
    apr_pool_t *owner;
    idgw_redis_conn *c = first_for_new_owner(&pl, &owner), *again, *other;
    char err[256];
    redisReply *r;

    ck_assert_int_eq(ask(pl, owner, &again), APR_SUCCESS);
    ck_assert_ptr_eq(again, c);
    r = echo(again, "same");
    ck_assert_str_eq(r->str, "same");
    freeReplyObject(r);
    /* it stays held between the two: anyone else gets the other one */
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &other, err, sizeof(err)), APR_SUCCESS);
    ck_assert_ptr_ne(other, c);
    idgw_redis_pool_release(pl, other);
    ck_assert_uint_eq(stats(pl).connects, 2);
    ck_assert_uint_eq(stats(pl).pings, 0);
    apr_pool_destroy(owner);
}
END_TEST

START_TEST(owner_destroyed_gives_the_connection_back)
{
    idgw_redis_pool *pl;
    apr_pool_t *owner;
    idgw_redis_conn *c, *next;
    char err[256];

    cfg.pool_max = 1;
    c = first_for_new_owner(&pl, &owner);
    apr_pool_destroy(owner);
    /* back in the pool (of one): the next owner gets it without a connect */
    apr_pool_create(&owner, pool);
    ck_assert_int_eq(ask(pl, owner, &next), APR_SUCCESS);
    ck_assert_ptr_eq(next, c);
    apr_pool_destroy(owner);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &next, err, sizeof(err)), APR_SUCCESS);
    ck_assert_ptr_eq(next, c);
    idgw_redis_pool_release(pl, next);
    ck_assert_uint_eq(stats(pl).connects, 1);
    ck_assert_uint_eq(stats(pl).invalidated, 0);
}
END_TEST

/* A connection that died under its owner is dropped by the cleanup, and
 * trips the breaker, as idgw_redis_pool_release does. */
START_TEST(dead_connection_dropped_at_cleanup)
{
    idgw_redis_pool *pl;
    apr_pool_t *owner;
    idgw_redis_conn *c = first_for_new_owner(&pl, &owner);
    char err[256];

    kill_own_connection(c);
    ck_assert_uint_eq(stats(pl).invalidated, 0);
    apr_pool_destroy(owner);
    ck_assert_uint_eq(stats(pl).invalidated, 1);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &c, err, sizeof(err)), APR_EAGAIN);
    usleep(350000);
    acquire_live(pl, "after");
    ck_assert_uint_eq(stats(pl).connects, 2);
}
END_TEST

/* Asking again after the held connection died: dropped (and the breaker
 * trips) exactly as a release followed by an acquire would. */
START_TEST(dead_connection_not_lent_again)
{
    idgw_redis_pool *pl;
    apr_pool_t *owner;
    idgw_redis_conn *c = first_for_new_owner(&pl, &owner);

    kill_own_connection(c);
    ck_assert_int_eq(ask(pl, owner, &c), APR_EAGAIN);
    ck_assert_uint_eq(stats(pl).invalidated, 1);
    apr_pool_destroy(owner);            /* nothing held: nothing released twice */
    ck_assert_uint_eq(stats(pl).invalidated, 1);
}
END_TEST

/* READONLY seen: the owner's retry gets a fresh connection, no breaker. */
START_TEST(readonly_connection_replaced_for_the_owner)
{
    idgw_redis_pool *pl;
    apr_pool_t *owner;
    idgw_redis_conn *c = first_for_new_owner(&pl, &owner);

    c->readonly_seen = 1;
    ck_assert_int_eq(ask(pl, owner, &c), APR_SUCCESS);
    ck_assert(!c->readonly_seen);
    ck_assert_uint_eq(stats(pl).invalidated, 1);
    ck_assert_uint_eq(stats(pl).connects, 2);
    ck_assert_uint_eq(stats(pl).fast_failures, 0);
    apr_pool_destroy(owner);
    ck_assert_uint_eq(stats(pl).invalidated, 1);
}
END_TEST

/* Pipelined replies are read before the held connection is lent again, and
 * their errors are left for the caller to log, as a fresh acquire does;
 * replies still unread at cleanup go back with it and are read by the next. */
START_TEST(owner_pipelined_replies_drained)
{
    idgw_redis_pool *pl;
    apr_pool_t *owner;
    idgw_redis_conn *c, *again;
    char err[256];
    const char *bad[] = { "EVALSHA", "0000000000000000000000000000000000000000", "0" };
    size_t bad_lens[] = { 7, 40, 1 };
    redisReply *r;

    cfg.pool_max = 1;
    c = first_for_new_owner(&pl, &owner);
    ck_assert_int_eq(idgw_redis_send(c, 3, bad, bad_lens), APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_send(c, 3, bad, bad_lens), APR_SUCCESS);
    ck_assert_int_eq(ask(pl, owner, &again), APR_SUCCESS);
    ck_assert_ptr_eq(again, c);
    ck_assert_int_eq(c->pending, 0);
    ck_assert_int_eq(c->drained_errors, 2);
    ck_assert_ptr_nonnull(strstr(c->drain_error, "NOSCRIPT"));
    c->drained_errors = 0;
    ck_assert_int_eq(idgw_redis_send(c, 3, bad, bad_lens), APR_SUCCESS);
    apr_pool_destroy(owner);
    ck_assert_int_eq(idgw_redis_pool_acquire(pl, &again, err, sizeof(err)), APR_SUCCESS);
    ck_assert_ptr_eq(again, c);
    ck_assert_int_eq(c->pending, 0);
    ck_assert_int_eq(c->drained_errors, 1);
    r = echo(c, "in order");
    ck_assert_str_eq(r->str, "in order");
    freeReplyObject(r);
    idgw_redis_pool_release(pl, c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis_pool");
    TCase *tc = tcase_create("pool");
    SRunner *sr;
    int failed;

    apr_initialize();
    if (redis_fixture_start(PORT) != 0) {
        fprintf(stderr, "test_redis_pool: cannot start redis-server on port %d\n", PORT);
        return EXIT_FAILURE;
    }
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reuse_without_extra_commands);
    tcase_add_test(tc, idle_connection_checked_before_reuse);
    tcase_add_test(tc, io_error_invalidates_and_trips);
    tcase_add_test(tc, closed_by_server_detected_without_ping);
    tcase_add_test(tc, many_closed_connections_skipped);
    tcase_add_test(tc, auth_and_select);
    tcase_add_test(tc, readonly_replica_classified);
    /* before the test that turns functions off for the whole process */
    tcase_add_test(tc, parts_with_nothing_to_do_are_not_run);
    tcase_add_test(tc, function_library_loaded_reloaded_and_given_up);
    tcase_add_test(tc, pipelined_replies_drained);
    tcase_add_test(tc, late_wait_answer_read_in_full);
    tcase_add_test(tc, owner_asking_twice_gets_the_same_connection);
    tcase_add_test(tc, retired_pool_closes_its_connections);
    tcase_add_test(tc, owner_destroyed_gives_the_connection_back);
    tcase_add_test(tc, dead_connection_dropped_at_cleanup);
    tcase_add_test(tc, dead_connection_not_lent_again);
    tcase_add_test(tc, readonly_connection_replaced_for_the_owner);
    tcase_add_test(tc, owner_pipelined_replies_drained);
    tcase_add_test(tc, breaker_and_recovery);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    /* breaker_and_recovery restarts the server: run the tests in order in one process */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
