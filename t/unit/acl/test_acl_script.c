/* Check tests of the fleet-wide Lua (modules/idgw_acl_script.c) run by a real
 * redis-server on 127.0.0.1:6403, started for the suite: the GCRA in Lua, all
 * or nothing across dimensions, breach and strike bans, the list dump with
 * pruning, the announcement of every change on the version's channel. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <hiredis/hiredis.h>

#include "idgw_acl_cache.h"
#include "idgw_acl_reply.h"
#include "idgw_acl_script.h"

#define PORT 6403
#define P "ut:"

static pid_t redis_pid;
static redisContext *rc;
static apr_pool_t *pool;

/* ---- the server, once per suite -------------------------------------------- */

static void redis_up(void)
{
    char port[8];

    snprintf(port, sizeof(port), "%d", PORT);
    redis_pid = fork();
    if (redis_pid == 0) {
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--loglevel", "warning",
               "--logfile", "/dev/null", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        struct timeval tv = { 0, 200000 };
        redisContext *c = redisConnectWithTimeout("127.0.0.1", PORT, tv);
        if (c && !c->err) {
            int status;
            redisFree(c);
            /* our server, not one that already held the port (ours then
             * exits at once): FLUSHALL must never hit someone else's data */
            usleep(100000);
            if (waitpid(redis_pid, &status, WNOHANG) == redis_pid) {
                fprintf(stderr, "test_acl_script: port %d is taken by another "
                        "redis-server\n", PORT);
                exit(EXIT_FAILURE);
            }
            return;
        }
        if (c) {
            redisFree(c);
        }
        usleep(50000);
    }
}

static void redis_down(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
    }
}

static void setup(void)
{
    struct timeval tv = { 1, 0 };
    redisReply *r;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    rc = redisConnectWithTimeout("127.0.0.1", PORT, tv);
    ck_assert_msg(rc != NULL && !rc->err, "redis-server on port %d (is it installed?)", PORT);
    r = redisCommand(rc, "FLUSHALL");
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
}

static void teardown(void)
{
    redisFree(rc);
    apr_pool_destroy(pool);
    apr_terminate();
}

/* ---- calls -------------------------------------------------------------------- */

typedef struct {
    const char *argv[64];
    size_t lens[64];
    int argc;
    int nkeys_at;
} call;

static void call_begin(call *c, const char *script)
{
    c->argc = 0;
    c->argv[c->argc++] = "EVAL";
    c->argv[c->argc++] = script;
    c->nkeys_at = c->argc++;
}

static void push(call *c, const char *s)
{
    ck_assert_int_lt(c->argc, 64);
    c->argv[c->argc++] = s;
}

static redisReply *call_run(call *c, int nkeys)
{
    redisReply *r;

    c->argv[c->nkeys_at] = apr_itoa(pool, nkeys);
    for (int i = 0; i < c->argc; i++) {
        c->lens[i] = strlen(c->argv[i]);
    }
    r = redisCommandArgv(rc, c->argc, c->argv, c->lens);
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r->type != REDIS_REPLY_ERROR, "script error: %s", r->str);
    return r;
}

typedef struct {
    const char *rate, *breach, *ban_hash;
    long long T, tau, threshold, window_ms, ban_ms;
    const char *ban_value;
    long long want;             /* tokens asked for (0: 1, the request's own) */
} dim;

/* When set, the dimension (1..n) that counts only proven identities and its
 * key for a mere claim (idgw_acl_script.h), appended after the dimensions. */
static int claim_dim;
static const char *claim_key;

/* What a request tells CHECK about shadow mode (idgw_acl_shadow_check.c):
 * the dimensions in shadow mode (bit i-1), the subjects' records, the rules
 * already noted, and the dimensions' field names. */
typedef struct {
    long long mask;
    int nsub;
    const char *subjects[2];
    int nfield;
    const char *fields[4];
    const char *dim_fields[3];
} shadow_args;

/* One CHECK call (the standalone script) with the given dimensions and, if
 * sh is not NULL, shadow arguments. */
static redisReply *check_ex(const dim *d, int n, const shadow_args *sh,
                            idgw_acl_check_reply *out)
{
    call c;
    redisReply *r;
    const char *err;
    int nkeys = 2 * n;

    call_begin(&c, idgw_acl_lua_check);
    for (int i = 0; i < n; i++) {
        push(&c, d[i].rate);
        push(&c, d[i].breach);
    }
    if (claim_dim) {
        push(&c, claim_key);
        nkeys++;
    }
    for (int i = 0; sh && i < sh->nsub; i++) {
        push(&c, sh->subjects[i]);
        nkeys++;
    }
    push(&c, apr_itoa(pool, n));
    for (int i = 0; i < n; i++) {
        push(&c, apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)(d[i].T)));
        push(&c, apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)(d[i].tau)));
        push(&c, apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)(d[i].threshold)));
        push(&c, apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)(d[i].window_ms)));
        push(&c, apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)(d[i].want ? d[i].want : 1)));
    }
    /* the claim dimension's slot comes before the shadow arguments */
    if (claim_dim || sh) {
        push(&c, apr_itoa(pool, claim_dim));
    }
    if (sh) {
        push(&c, apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)sh->mask));
        push(&c, apr_itoa(pool, sh->nsub));
        push(&c, apr_itoa(pool, sh->nfield));
        for (int i = 0; i < sh->nfield; i++) {
            push(&c, sh->fields[i]);
        }
        for (int i = 0; sh->mask && i < n; i++) {
            push(&c, sh->dim_fields[i]);
        }
    }
    r = call_run(&c, nkeys);
    err = idgw_acl_reply_parse(r, n, out);
    ck_assert_msg(err == NULL, "reply: %s", err ? err : "");
    return r;
}

static redisReply *check(const dim *d, int n, idgw_acl_check_reply *out)
{
    return check_ex(d, n, NULL, out);
}

/* One LISTS call (the listener's read) from a node holding version cached:
 * the version in Redis, and the lists when they are not cached. */
static redisReply *lists_call(const char *cached, int64_t *version, const redisReply **lists)
{
    const char *keys[IDGW_ACL_LIST_KEYS];
    call c;
    redisReply *r;
    const char *err;

    idgw_acl_lists_keys(pool, P, keys);
    call_begin(&c, idgw_acl_lua_lists);
    push(&c, idgw_acl_key_version(pool, P));
    for (int i = 0; i < IDGW_ACL_LIST_KEYS; i++) {
        push(&c, keys[i]);
    }
    push(&c, cached);
    r = call_run(&c, 1 + IDGW_ACL_LIST_KEYS);
    err = idgw_acl_reply_lists_parse(r, version, lists);
    ck_assert_msg(err == NULL, "reply: %s", err ? err : "");
    return r;
}

/* One BAN call: 1 written, 0 not. */
static long long ban_call(const char *hash, const char *value, long long ms, const char *reason)
{
    call c;
    redisReply *r;
    long long w;

    call_begin(&c, idgw_acl_lua_ban);
    push(&c, idgw_acl_key_version(pool, P));
    push(&c, hash);
    push(&c, value);
    push(&c, apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)ms));
    push(&c, "auto-breaches");
    push(&c, reason);
    r = call_run(&c, 2);
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    w = r->integer;
    freeReplyObject(r);
    return w;
}

static char *get(const char *key)
{
    redisReply *r = redisCommand(rc, "GET %s", key);
    char *v = r && r->type == REDIS_REPLY_STRING ? apr_pstrdup(pool, r->str) : NULL;
    freeReplyObject(r);
    return v;
}

static char *hget(const char *key, const char *field)
{
    redisReply *r = redisCommand(rc, "HGET %s %s", key, field);
    char *v = r && r->type == REDIS_REPLY_STRING ? apr_pstrdup(pool, r->str) : NULL;
    freeReplyObject(r);
    return v;
}

static void hset(const char *key, const char *field, const char *value)
{
    redisReply *r = redisCommand(rc, "HSET %s %s %s", key, field, value);
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
}

static void set_version(const char *v)
{
    redisReply *r = redisCommand(rc, "SET %s %s", idgw_acl_key_version(pool, P), v);
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
}

/* Redis's clock in microseconds (the versions are drawn from it). */
static long long redis_time_us(void)
{
    redisReply *r = redisCommand(rc, "TIME");
    long long us;

    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_int_eq(r->elements, 2);
    us = strtoll(r->element[0]->str, NULL, 10) * 1000000 + strtoll(r->element[1]->str, NULL, 10);
    freeReplyObject(r);
    return us;
}

static long long version_now(void)
{
    const char *v = get(idgw_acl_key_version(pool, P));
    int64_t out = -1;

    ck_assert_ptr_nonnull(v);
    ck_assert(idgw_acl_version_parse(v, strlen(v), &out));
    return (long long)out;
}

static void flushall(void)
{
    redisReply *r = redisCommand(rc, "FLUSHALL");
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
}

static dim terminal_dim(const char *value, long long T, long long burst)
{
    dim d = {
        idgw_acl_key_rate(pool, P, IDGW_ACL_DIM_TERMINAL, value),
        idgw_acl_key_breach(pool, P, IDGW_ACL_DIM_TERMINAL, value),
        idgw_acl_key_list(pool, P, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL),
        T, (burst - 1) * T, 0, 60000, 0, value
    };
    return d;
}

/* ---- tests -------------------------------------------------------------------------- */

START_TEST(gcra_burst_then_interval)
{
    dim d = terminal_dim("T1", 10000000, 5);     /* 6 per minute, burst 5 */
    idgw_acl_check_reply rep;
    char *before;

    for (int i = 0; i < 5; i++) {
        freeReplyObject(check(&d, 1, &rep));
        ck_assert_int_eq(rep.refused, 0);
    }
    before = get(d.rate);
    ck_assert_ptr_nonnull(before);
    freeReplyObject(check(&d, 1, &rep));
    ck_assert_int_eq(rep.refused, 1);
    ck_assert_int_gt(rep.retry_us, 0);
    ck_assert_int_le(rep.retry_us, 10000000);
    /* A refusal leaves the state as it was. */
    ck_assert_str_eq(get(d.rate), before);
}
END_TEST

START_TEST(dimensions_pass_together_or_not_at_all)
{
    dim d[2] = { terminal_dim("T-ok", 1000000, 100), terminal_dim("T-full", 60000000, 1) };
    idgw_acl_check_reply rep;
    char *first;

    freeReplyObject(check(d, 2, &rep));
    ck_assert_int_eq(rep.refused, 0);
    first = get(d[0].rate);
    freeReplyObject(check(d, 2, &rep));
    ck_assert_int_eq(rep.refused, 2);
    /* the dimension that had room was not charged for the refused request */
    ck_assert_str_eq(get(d[0].rate), first);
}
END_TEST

/* A lease (idgw_acl_lease.h) takes extra tokens only while the bucket stays
 * at most half full after them; from then on one per request; and the
 * admissions of all calls together never exceed the burst. */
START_TEST(extra_tokens_only_below_half_and_never_past_the_burst)
{
    dim d = terminal_dim("T-lease", 1000000, 100);    /* 1 a second, burst 100 */
    idgw_acl_check_reply rep;
    long long admitted = 0;
    unsigned extras[8] = { 0 };
    int calls = 0;

    d.want = 20;
    for (;;) {
        freeReplyObject(check(&d, 1, &rep));
        if (rep.refused) {
            ck_assert_msg(calls > 0, "refused at once: retry %lld", (long long)rep.retry_us);
            ck_assert_uint_eq(rep.extra[0], 0);
            break;
        }
        if (calls < 8) {
            extras[calls] = rep.extra[0];
        }
        admitted += 1 + rep.extra[0];
        ck_assert_int_lt(++calls, 200);
    }
    ck_assert_uint_eq(extras[0], 19);
    ck_assert_uint_eq(extras[1], 19);
    ck_assert_uint_eq(extras[2], 9);      /* the bucket reaches half: 50 of 100 */
    ck_assert_uint_eq(extras[3], 0);
    ck_assert_int_eq(admitted, 100);
    ck_assert_int_eq(calls, 3 + 50);
}
END_TEST

/* A subscriber to the lists' channel (the version key's name), as each
 * child's listener is (idgw_acl_sync.c). */
static redisContext *listener(void)
{
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", PORT, tv);
    redisReply *r;

    ck_assert(c != NULL && !c->err);
    redisSetTimeout(c, tv);
    r = redisCommand(c, "SUBSCRIBE %s", idgw_acl_key_version(pool, P));
    ck_assert(r != NULL && r->type == REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    return c;
}

/* The version the next announcement on c carries (fails after 2 s). */
static long long announced(redisContext *c)
{
    void *reply = NULL;
    const redisReply *m;
    long long v;

    ck_assert_msg(redisGetReply(c, &reply) == REDIS_OK && reply, "no announcement");
    m = reply;
    ck_assert(m->type == REDIS_REPLY_ARRAY && m->elements == 3);
    ck_assert_str_eq(m->element[0]->str, "message");
    ck_assert_str_eq(m->element[1]->str, idgw_acl_key_version(pool, P));
    v = strtoll(m->element[2]->str, NULL, 10);
    freeReplyObject(reply);
    return v;
}

START_TEST(breaches_make_a_ban_due_and_ban_writes_and_announces_it)
{
    dim d = terminal_dim("T-flood", 60000000, 1);
    idgw_acl_check_reply rep;
    redisContext *sub = listener();
    char *entry;
    long long exp, added, started = redis_time_us();

    d.threshold = 2;
    set_version("5");
    freeReplyObject(check(&d, 1, &rep));
    ck_assert_int_eq(rep.refused, 0);
    freeReplyObject(check(&d, 1, &rep));
    ck_assert_int_eq(rep.refused, 1);
    ck_assert_int_eq(rep.banned, 0);
    ck_assert_str_eq(get(d.breach), "1");
    freeReplyObject(check(&d, 1, &rep));
    ck_assert_int_eq(rep.refused, 1);
    ck_assert_int_eq(rep.banned, 1);          /* due: the node writes it */
    ck_assert_ptr_null(get(d.breach));        /* counting starts again */
    /* CHECK itself never touches the lists nor their version */
    ck_assert_str_eq(get(idgw_acl_key_version(pool, P)), "5");
    ck_assert_ptr_null(hget(d.ban_hash, "T-flood"));
    /* BAN writes it, moves the version on (from the clock), tells the listeners */
    ck_assert_int_eq(ban_call(d.ban_hash, "T-flood", 60000, "2 rate-limit breaches within 60 s"),
                     1);
    ck_assert_int_ge(version_now(), started);
    ck_assert_int_eq(announced(sub), version_now());
    redisFree(sub);
    entry = hget(d.ban_hash, "T-flood");
    ck_assert_ptr_nonnull(entry);
    ck_assert_int_eq(sscanf(entry, "%lld|%lld|", &exp, &added), 2);
    ck_assert_int_eq(exp - added, 60000);
    ck_assert_ptr_nonnull(strstr(entry, "|auto-breaches|2 rate-limit breaches within 60 s"));
}
END_TEST

/* Run on its own, CHECK has no session to prove anything: a terminal id is
 * only named, so it counts under its claim key (the id as named from this
 * address) and its refusals ban nobody. */
START_TEST(an_unproven_terminal_counts_as_named_and_is_never_banned)
{
    dim d = terminal_dim("T-victim", 60000000, 1);
    idgw_acl_check_reply rep;

    d.threshold = 2;
    d.ban_ms = 60000;
    claim_dim = 1;
    claim_key = idgw_acl_key_rate_claim(pool, P, "T-victim", "10.6.6.6");
    ck_assert_str_eq(claim_key, P "acl:rl:terminal:T-victim@10.6.6.6");
    freeReplyObject(check(&d, 1, &rep));
    ck_assert_int_eq(rep.refused, 0);
    ck_assert_ptr_nonnull(get(claim_key));
    ck_assert_ptr_null(get(d.rate));
    for (int i = 0; i < 4; i++) {
        freeReplyObject(check(&d, 1, &rep));
        ck_assert_int_eq(rep.refused, 1);
        ck_assert_int_eq(rep.banned, 0);
    }
    ck_assert_ptr_null(hget(d.ban_hash, "T-victim"));
    ck_assert_ptr_null(get(d.breach));
    claim_dim = 0;
    /* the victim's own (proven) budget is untouched */
    freeReplyObject(check(&d, 1, &rep));
    ck_assert_int_eq(rep.refused, 0);
}
END_TEST

START_TEST(a_ban_never_shortens_a_longer_one)
{
    const char *bl = idgw_acl_key_list(pool, P, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL);

    set_version("5");
    hset(bl, "T-perm", "0|1|admin|permanent");
    ck_assert_int_eq(ban_call(bl, "T-perm", 1000, "x"), 0);
    ck_assert_str_eq(hget(bl, "T-perm"), "0|1|admin|permanent");
    /* nothing changed: no new version */
    ck_assert_str_eq(get(idgw_acl_key_version(pool, P)), "5");
    ck_assert_int_eq(ban_call(bl, "T-temp", 3600000, "x"), 1);
    ck_assert_int_eq(ban_call(bl, "T-temp", 1000, "x"), 0);
}
END_TEST

START_TEST(lists_come_when_stale_with_expired_entries_pruned)
{
    const char *bl_terminal = idgw_acl_key_list(pool, P, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL);
    const char *wl_idm = idgw_acl_key_list(pool, P, IDGW_ACL_WHITELIST, IDGW_ACL_IDM);
    const redisReply *lists;
    int64_t version;
    redisReply *r;

    hset(bl_terminal, "T-live", "0|1|admin|x");
    hset(bl_terminal, "T-gone", "1|1|admin|expired long ago");
    hset(wl_idm, "0011223344556677", "0|1|admin|pilot");
    set_version("7");
    r = lists_call("-1", &version, &lists);
    ck_assert_int_eq(version, 7);
    ck_assert_ptr_nonnull(lists);
    ck_assert_int_eq(lists->element[IDGW_ACL_TERMINAL]->elements, 2);
    ck_assert_str_eq(lists->element[IDGW_ACL_TERMINAL]->element[0]->str, "T-live");
    ck_assert_int_eq(lists->element[IDGW_ACL_KINDS + IDGW_ACL_IDM]->elements, 2);
    freeReplyObject(r);
    ck_assert_ptr_null(hget(bl_terminal, "T-gone"));
    /* current version: no lists, only the number */
    r = lists_call("7", &version, &lists);
    ck_assert_ptr_null(lists);
    ck_assert_int_eq(version, 7);
    freeReplyObject(r);
}
END_TEST

/* A reset (missing) version is replaced from the clock by the first
 * listener that reads it, and announced: every other child reloads too. */
START_TEST(a_reset_version_is_renumbered_and_announced)
{
    redisContext *sub = listener();
    const redisReply *lists;
    int64_t version;
    long long started = redis_time_us();
    redisReply *r = lists_call("12", &version, &lists);

    ck_assert_int_ge(version, started);
    ck_assert_ptr_nonnull(lists);
    ck_assert_int_eq(announced(sub), version);
    freeReplyObject(r);
    redisFree(sub);
}
END_TEST

/* Calls of one command in INFO commandstats (which counts the commands
 * scripts run, too). */
static long long calls(const char *command)
{
    redisReply *r = redisCommand(rc, "INFO commandstats");
    char needle[64];
    const char *at;
    long long n = 0;

    ck_assert_ptr_nonnull(r);
    snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", command);
    at = strstr(r->str, needle);
    if (at) {
        n = strtoll(at + strlen(needle), NULL, 10);
    }
    freeReplyObject(r);
    return n;
}

START_TEST(the_steady_check_costs_two_plus_n_commands_and_reads_no_list)
{
    dim d[2] = { terminal_dim("T-cost", 1000000, 100),
                 { idgw_acl_key_rate(pool, P, IDGW_ACL_DIM_ADDR, "10.1.2.3"),
                   idgw_acl_key_breach(pool, P, IDGW_ACL_DIM_ADDR, "10.1.2.3"),
                   idgw_acl_key_list(pool, P, IDGW_ACL_BLACKLIST, IDGW_ACL_ADDR),
                   1000000, 99000000, 0, 60000, 0, "10.1.2.3/32" } };
    idgw_acl_check_reply rep;
    const char *cmds[] = { "mget", "time", "set", "get", "hgetall", "incr", "hget",
                           "publish" };
    long long before[8], after[8];

    set_version("4");
    for (int i = 0; i < 8; i++) before[i] = calls(cmds[i]);
    freeReplyObject(check(d, 2, &rep));
    for (int i = 0; i < 8; i++) after[i] = calls(cmds[i]);
    ck_assert_int_eq(rep.refused, 0);
    ck_assert_int_eq(after[0] - before[0], 1);     /* one MGET reads the limits */
    ck_assert_int_eq(after[1] - before[1], 1);     /* the clock */
    ck_assert_int_eq(after[2] - before[2], 2);     /* one SET per dimension */
    for (int i = 3; i < 8; i++) {                  /* no version, no lists */
        ck_assert_msg(after[i] == before[i], "unexpected %s", cmds[i]);
    }
    /* where no limit applies: nothing at all */
    for (int i = 0; i < 8; i++) before[i] = calls(cmds[i]);
    freeReplyObject(check(NULL, 0, &rep));
    for (int i = 0; i < 8; i++) after[i] = calls(cmds[i]);
    for (int i = 0; i < 8; i++) {
        ck_assert_msg(after[i] == before[i], "unexpected %s", cmds[i]);
    }
}
END_TEST

/* STRIKES as mod_idgw_acl runs it after a strike (idgw_acl_bans.c); a
 * scope of 0 stands for a request the session core did not strike. */
static long long strikes_for(const char *terminal, long long scope, long long threshold)
{
    call c;
    redisReply *r;
    long long bans;

    call_begin(&c, idgw_acl_lua_strikes);
    push(&c, idgw_acl_key_version(pool, P));
    push(&c, idgw_acl_key_strike(pool, P, IDGW_ACL_TERMINAL, terminal));
    push(&c, idgw_acl_key_strike(pool, P, IDGW_ACL_ADDR, "10.0.0.9/32"));
    push(&c, idgw_acl_key_list(pool, P, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL));
    push(&c, idgw_acl_key_list(pool, P, IDGW_ACL_BLACKLIST, IDGW_ACL_ADDR));
    push(&c, apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)(threshold)));
    push(&c, "600000");
    push(&c, "3600000");
    push(&c, terminal);
    push(&c, "10.0.0.9/32");
    push(&c, apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)(scope)));
    r = call_run(&c, 5);
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    bans = r->integer;
    freeReplyObject(r);
    return bans;
}

static long long strikes(long long scope, long long threshold)
{
    return strikes_for("T-seq", scope, threshold);
}

START_TEST(strikes_earn_bans_for_terminal_and_address)
{
    const char *bl_t = idgw_acl_key_list(pool, P, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL);
    const char *bl_a = idgw_acl_key_list(pool, P, IDGW_ACL_BLACKLIST, IDGW_ACL_ADDR);
    long long started = redis_time_us();

    /* no strike scope counts nothing */
    ck_assert_int_eq(strikes(0, 3), 0);
    ck_assert_ptr_null(get(idgw_acl_key_strike(pool, P, IDGW_ACL_TERMINAL, "T-seq")));
    /* auto-ban off: counts nothing either */
    ck_assert_int_eq(strikes(1, 0), 0);
    ck_assert_ptr_null(get(idgw_acl_key_strike(pool, P, IDGW_ACL_TERMINAL, "T-seq")));
    /* an unproven request strikes the address only */
    ck_assert_int_eq(strikes(2, 3), 0);
    ck_assert_ptr_null(get(idgw_acl_key_strike(pool, P, IDGW_ACL_TERMINAL, "T-seq")));
    ck_assert_str_eq(get(idgw_acl_key_strike(pool, P, IDGW_ACL_ADDR, "10.0.0.9/32")), "1");
    freeReplyObject(redisCommand(rc, "DEL %s", idgw_acl_key_strike(pool, P, IDGW_ACL_ADDR,
                                                                   "10.0.0.9/32")));

    ck_assert_int_eq(strikes(1, 3), 0);
    ck_assert_int_eq(strikes(1, 3), 0);
    ck_assert_str_eq(get(idgw_acl_key_strike(pool, P, IDGW_ACL_TERMINAL, "T-seq")), "2");
    ck_assert_int_eq(strikes(1, 3), 2);
    ck_assert_ptr_nonnull(strstr(hget(bl_t, "T-seq"), "|auto-strikes|3 sequence errors within 600 s"));
    ck_assert_ptr_nonnull(hget(bl_a, "10.0.0.9/32"));
    ck_assert_int_ge(version_now(), started);
    ck_assert_ptr_null(get(idgw_acl_key_strike(pool, P, IDGW_ACL_TERMINAL, "T-seq")));
}
END_TEST

/* ---- shadow mode ------------------------------------------------------------------ */

START_TEST(shadow_mode_costs_nothing_until_it_would_refuse)
{
    dim d = terminal_dim("T-shcost", 1000000, 100);
    const char *rec = apr_pstrcat(pool, P, "acl:sr:terminal:T-shcost", NULL);
    shadow_args sh = { 1, 1, { rec }, 0, { NULL }, { "ratelimit:terminal" } };
    shadow_args none = { 0, 0, { NULL }, 0, { NULL }, { NULL } };
    idgw_acl_check_reply rep;
    const char *cmds[] = { "mget", "time", "set", "hincrby", "hset", "pexpire" };
    long long before[6], after[6];

    set_version("4");
    for (int i = 0; i < 6; i++) before[i] = calls(cmds[i]);
    freeReplyObject(check_ex(&d, 1, &sh, &rep));
    freeReplyObject(check_ex(&d, 1, &none, &rep));
    for (int i = 0; i < 6; i++) after[i] = calls(cmds[i]);
    ck_assert_uint_eq(rep.shadow_refused, 0);
    ck_assert_int_eq(after[0] - before[0], 2);
    ck_assert_int_eq(after[1] - before[1], 2);
    ck_assert_int_eq(after[2] - before[2], 2);
    for (int i = 3; i < 6; i++) {
        ck_assert_msg(after[i] == before[i], "unexpected %s", cmds[i]);
    }
}
END_TEST

START_TEST(a_shadow_limit_lets_through_charges_nothing_and_records)
{
    dim d[2] = { terminal_dim("T-sh", 60000000, 1), terminal_dim("T-sh-ok", 1000000, 100) };
    const char *rec_t = apr_pstrcat(pool, P, "acl:sr:terminal:T-sh", NULL);
    const char *rec_a = apr_pstrcat(pool, P, "acl:sr:addr:10.0.0.1/32", NULL);
    shadow_args sh = { 1, 2, { rec_t, rec_a }, 0, { NULL },
                       { "ratelimit:terminal", "ratelimit:addr" } };
    idgw_acl_check_reply rep;
    char *state, *ok_state;
    redisReply *r;

    freeReplyObject(check_ex(d, 2, &sh, &rep));
    ck_assert_int_eq(rep.refused, 0);
    ck_assert_uint_eq(rep.shadow_refused, 0);
    ck_assert_ptr_null(hget(rec_t, "ratelimit:terminal"));    /* nothing to record */
    state = get(d[0].rate);
    ok_state = get(d[1].rate);
    /* over the limit: let through, the limit's state is not charged (as a
     * refusal would not), the other dimension is, both subjects record it */
    freeReplyObject(check_ex(d, 2, &sh, &rep));
    ck_assert_int_eq(rep.refused, 0);
    ck_assert_uint_eq(rep.shadow_refused, 1);
    ck_assert_str_eq(get(d[0].rate), state);
    ck_assert_str_ne(get(d[1].rate), ok_state);
    freeReplyObject(check_ex(d, 2, &sh, &rep));
    ck_assert_str_eq(hget(rec_t, "ratelimit:terminal"), "2");
    ck_assert_str_eq(hget(rec_a, "ratelimit:terminal"), "2");
    ck_assert_ptr_nonnull(hget(rec_a, "ratelimit:terminal:last"));
    r = redisCommand(rc, "PTTL %s", rec_t);
    ck_assert_int_gt(r->integer, 6LL * 86400 * 1000);
    freeReplyObject(r);
    /* the same limit enforced refuses */
    freeReplyObject(check(d, 2, &rep));
    ck_assert_int_eq(rep.refused, 1);
}
END_TEST

START_TEST(shadow_breaches_make_a_shadow_ban_due)
{
    dim d = terminal_dim("T-shb", 60000000, 1);
    const char *rec = apr_pstrcat(pool, P, "acl:sr:terminal:T-shb", NULL);
    shadow_args sh = { 1, 1, { rec }, 0, { NULL }, { "ratelimit:terminal" } };
    idgw_acl_check_reply rep;

    d.threshold = 2;
    freeReplyObject(check_ex(&d, 1, &sh, &rep));
    freeReplyObject(check_ex(&d, 1, &sh, &rep));
    ck_assert_uint_eq(rep.shadow_banned, 0);
    freeReplyObject(check_ex(&d, 1, &sh, &rep));
    ck_assert_int_eq(rep.refused, 0);
    ck_assert_uint_eq(rep.shadow_refused, 1);
    ck_assert_uint_eq(rep.shadow_banned, 1);   /* due: the node writes it to the shadow bans */
    ck_assert_ptr_null(get(d.breach));
}
END_TEST

START_TEST(noted_rules_are_recorded_without_any_limit)
{
    const char *rec = apr_pstrcat(pool, P, "acl:sr:addr:192.0.2.7/32", NULL);
    shadow_args sh = { 0, 1, { rec }, 2, { "carrier:networks", "whitelist:mode" }, { NULL } };
    idgw_acl_check_reply rep;

    freeReplyObject(check_ex(NULL, 0, &sh, &rep));
    ck_assert_int_eq(rep.refused, 0);
    ck_assert_str_eq(hget(rec, "carrier:networks"), "1");
    ck_assert_str_eq(hget(rec, "whitelist:mode"), "1");
    freeReplyObject(check_ex(NULL, 0, &sh, &rep));
    ck_assert_str_eq(hget(rec, "carrier:networks"), "2");
}
END_TEST

START_TEST(shadow_strikes_ban_into_the_shadow_hash)
{
    const char *sb_t = idgw_acl_key_list(pool, P, IDGW_ACL_SHADOWBANS, IDGW_ACL_TERMINAL);
    call c;
    redisReply *r;

    call_begin(&c, idgw_acl_lua_strikes);
    push(&c, idgw_acl_key_version(pool, P));
    push(&c, idgw_acl_key_strike(pool, P, IDGW_ACL_TERMINAL, "T-shs"));
    push(&c, idgw_acl_key_strike(pool, P, IDGW_ACL_ADDR, "10.0.0.8/32"));
    push(&c, sb_t);
    push(&c, idgw_acl_key_list(pool, P, IDGW_ACL_SHADOWBANS, IDGW_ACL_ADDR));
    push(&c, "1");
    push(&c, "600000");
    push(&c, "3600000");
    push(&c, "T-shs");
    push(&c, "10.0.0.8/32");
    push(&c, "1");
    r = call_run(&c, 5);
    ck_assert_int_eq(r->integer, 2);
    freeReplyObject(r);
    ck_assert_ptr_nonnull(strstr(hget(sb_t, "T-shs"), "|auto-strikes|"));
    ck_assert_ptr_null(hget(idgw_acl_key_list(pool, P, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL),
                            "T-shs"));
}
END_TEST

/* ---- the version never repeats ---------------------------------------------------- */

/* One child's copy of the lists, refreshed the way mod_idgw_acl does
 * (idgw_acl_request.c): send the copy's version, install what comes back. */
typedef struct {
    idgw_acl_cache *cache;
    apr_pool_t *owner;          /* the installed snapshot's pool */
} child;

/* The cache frees each snapshot when the next replaces it; a child frees
 * the last one when it exits, the test when it is done with the child. */
static void child_free(child *ch)
{
    if (ch->owner) {
        apr_pool_destroy(ch->owner);
        ch->owner = NULL;
    }
}

static void child_make(child *ch)
{
    const char *err = idgw_acl_cache_create(&ch->cache, pool);

    ch->owner = NULL;

    ck_assert_msg(err == NULL, "%s", err ? err : "");
}

/* One LISTS of the child's listener; 1 if the copy was replaced. */
static int child_request(child *ch)
{
    const char *cached = apr_psprintf(pool, "%" APR_INT64_T_FMT,
                                      (apr_int64_t)idgw_acl_cache_version(ch->cache));
    const redisReply *lists;
    int64_t version;
    redisReply *r = lists_call(cached, &version, &lists);
    int refreshed = lists != NULL;

    if (refreshed) {
        apr_pool_t *owner;
        int skipped = 0;
        idgw_acl_lists *l;

        ck_assert_int_eq(apr_pool_create_unmanaged(&owner), APR_SUCCESS);
        l = idgw_acl_reply_lists(owner, version, lists, &skipped, NULL);
        ck_assert_ptr_nonnull(l);
        ck_assert_int_eq(skipped, 0);
        idgw_acl_cache_install(ch->cache, l, owner);
        ch->owner = owner;
    }
    ck_assert_int_eq(idgw_acl_cache_version(ch->cache), version);
    freeReplyObject(r);
    return refreshed;
}

static int child_blocks_terminal(child *ch, const char *terminal)
{
    idgw_acl_identity id;
    idgw_acl_entry e;
    idgw_acl_kind kind;

    memset(&id, 0, sizeof(id));
    id.v[IDGW_ACL_TERMINAL] = terminal;
    return idgw_acl_cache_blocked(ch->cache, &id, redis_time_us() / 1000, pool, &e, &kind);
}

/* The flaky failure this guards against: a child holds the lists of version
 * N; Redis loses its data (FLUSHALL, a restart without persistence); a new
 * ban bumps the counter from nothing.  Counting from 1 again gave the new
 * lists the number the child's stale copy already carried, and the child
 * missed the ban. */
START_TEST(a_child_sees_a_ban_written_after_a_flush)
{
    child ch;

    child_make(&ch);
    ck_assert_int_eq(strikes_for("T-before", 1, 1), 2);
    ck_assert_int_eq(child_request(&ch), 1);
    ck_assert(child_blocks_terminal(&ch, "T-before"));

    flushall();
    ck_assert_int_eq(strikes_for("T-after", 1, 1), 2);

    ck_assert_msg(child_request(&ch) == 1, "the child kept its stale lists (version %lld)",
                  (long long)idgw_acl_cache_version(ch.cache));
    ck_assert(child_blocks_terminal(&ch, "T-after"));
    ck_assert(!child_blocks_terminal(&ch, "T-before"));
    /* and from then on the copy is current */
    ck_assert_int_eq(child_request(&ch), 0);
    child_free(&ch);
}
END_TEST

/* A missing version key means the lists were reset: it never matches a
 * copy, whatever number the copy carries; the check gives the key a number
 * from the clock, so every child refreshes once and then agrees again. */
START_TEST(a_missing_version_never_matches_a_copy)
{
    const char *bl_t = idgw_acl_key_list(pool, P, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL);
    child ch;
    long long started;

    child_make(&ch);
    /* a child that loaded the lists while the key was missing */
    ck_assert_int_eq(child_request(&ch), 1);
    ck_assert(!child_blocks_terminal(&ch, "T-missing"));
    /* a ban written, then only the version key lost (a key reset) */
    hset(bl_t, "T-missing", "0|1|admin|x");
    redisReply *r = redisCommand(rc, "DEL %s", idgw_acl_key_version(pool, P));
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
    started = redis_time_us();
    ck_assert_int_eq(child_request(&ch), 1);
    ck_assert(child_blocks_terminal(&ch, "T-missing"));
    ck_assert_int_ge(idgw_acl_cache_version(ch.cache), started);
    ck_assert_int_eq(idgw_acl_cache_version(ch.cache), version_now());
    /* a version no node can hold (not a plain number) is replaced as well */
    set_version("007");
    ck_assert_int_eq(child_request(&ch), 1);
    ck_assert_int_ge(version_now(), started);
    ck_assert_int_eq(child_request(&ch), 0);
    /* a flush empties the lists: the child drops its copy */
    flushall();
    ck_assert_int_eq(child_request(&ch), 1);
    ck_assert(!child_blocks_terminal(&ch, "T-missing"));
    ck_assert_int_eq(child_request(&ch), 0);
    child_free(&ch);
}
END_TEST

/* Every bump gives max(current + 1, Redis's clock in microseconds): a
 * counter ahead of the clock still grows by one, one behind it (or an old
 * small number) jumps to the clock. */
START_TEST(every_bump_is_above_the_counter_and_the_clock)
{
    long long ahead = redis_time_us() + 3600LL * 1000000;
    long long started;

    set_version(apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)ahead));
    ck_assert_int_ge(strikes_for("T-bump1", 1, 1), 1);
    ck_assert_int_eq(version_now(), ahead + 1);

    set_version("5");
    started = redis_time_us();
    ck_assert_int_ge(strikes_for("T-bump2", 1, 1), 1);
    ck_assert_int_ge(version_now(), started);

    /* a value that is not a number is replaced by the clock, not kept */
    set_version("garbage");
    started = redis_time_us();
    ck_assert_int_ge(strikes_for("T-bump3", 1, 1), 1);
    ck_assert_int_ge(version_now(), started);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acl_script");
    TCase *tc = tcase_create("acl_script");
    SRunner *sr;
    int failed;

    redis_up();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, gcra_burst_then_interval);
    tcase_add_test(tc, dimensions_pass_together_or_not_at_all);
    tcase_add_test(tc, extra_tokens_only_below_half_and_never_past_the_burst);
    tcase_add_test(tc, breaches_make_a_ban_due_and_ban_writes_and_announces_it);
    tcase_add_test(tc, an_unproven_terminal_counts_as_named_and_is_never_banned);
    tcase_add_test(tc, a_ban_never_shortens_a_longer_one);
    tcase_add_test(tc, lists_come_when_stale_with_expired_entries_pruned);
    tcase_add_test(tc, a_reset_version_is_renumbered_and_announced);
    tcase_add_test(tc, strikes_earn_bans_for_terminal_and_address);
    tcase_add_test(tc, the_steady_check_costs_two_plus_n_commands_and_reads_no_list);
    tcase_add_test(tc, shadow_mode_costs_nothing_until_it_would_refuse);
    tcase_add_test(tc, a_shadow_limit_lets_through_charges_nothing_and_records);
    tcase_add_test(tc, shadow_breaches_make_a_shadow_ban_due);
    tcase_add_test(tc, noted_rules_are_recorded_without_any_limit);
    tcase_add_test(tc, shadow_strikes_ban_into_the_shadow_hash);
    tcase_add_test(tc, a_child_sees_a_ban_written_after_a_flush);
    tcase_add_test(tc, a_missing_version_never_matches_a_copy);
    tcase_add_test(tc, every_bump_is_above_the_counter_and_the_clock);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_down();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
