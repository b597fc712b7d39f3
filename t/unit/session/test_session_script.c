/*
 * test_session_script.c - the session scripts as Redis runs them: sequence
 * rules, retransmission, invalidation and strikes, binding, timeouts,
 * commit, parts, expiries on every key.  Uses a redis-server on
 * 127.0.0.1:6398 started by main().
 */
#include <check.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idgw_redis.h"
#include "idgw_script.h"
#include "idgw_lua_session.h"
#include "idgw_session_call.h"
#include "idgw_status_read.h"
#include "redis_fixture.h"

#define PORT 6398
#define TID "T-0001"
#define IDM "0123456789ABCDEF"
#define ADDR "192.0.2.10"

static apr_pool_t *pool;
static idgw_redis_conn *conn;
static idgw_script session_script, commit_script, strike_script, vault_script;
static idgw_session_limits lim;
static char sid[IDGW_SID_HEX + 1];
static apr_int64_t attempt;     /* of the last accepted request */
#define CID "idgw-0123456789abcdef0123456789abcdef"

static void setup_with_parts(const idgw_script_part_text *parts, int nparts)
{
    idgw_redis_cfg cfg;
    idgw_redis_addr addr = { "127.0.0.1", PORT };
    const idgw_script *all[4];
    char err[256], token[IDGW_TOKEN_HEX + 1];
    const char *text;
    redisReply *r;

    apr_pool_create(&pool, NULL);
    text = idgw_script_assemble(pool, idgw_lua_session_core_text(pool), parts, nparts, err,
                                sizeof(err));
    ck_assert_ptr_nonnull(text);
    idgw_script_init(&session_script, "session", text);
    idgw_script_init(&commit_script, "commit", idgw_lua_commit);
    idgw_script_init(&strike_script, "strike", idgw_lua_strike);
    idgw_script_init(&vault_script, "vault", idgw_lua_vault_put);
    all[0] = &session_script;
    all[1] = &commit_script;
    all[2] = &strike_script;
    all[3] = &vault_script;
    memset(&cfg, 0, sizeof(cfg));
    cfg.connect_timeout = apr_time_from_msec(500);
    cfg.command_timeout = apr_time_from_msec(2000);
    ck_assert_msg(idgw_redis_connect(&cfg, &addr, 0, all, 4, &conn, err, sizeof(err))
                  == APR_SUCCESS, "%s", err);
    r = redisCommand(conn->ctx, "FLUSHALL");
    freeReplyObject(r);
    lim.prefix = "t:";
    lim.idle = apr_time_from_sec(60);
    lim.lifetime = apr_time_from_sec(600);
    lim.strike_window = apr_time_from_sec(3600);
    lim.pending_lease = apr_time_from_sec(30);
    lim.max_relays = 8;
    lim.addr_policy = IDGW_ADDR_POLICY_LOG;
    idgw_token_new(token);
    idgw_sid_from_token(token, sid);
}

static void setup(void)
{
    setup_with_parts(NULL, 0);
}

static void teardown(void)
{
    idgw_redis_close(conn);
    free(conn);
    apr_pool_destroy(pool);
}

typedef struct msg {
    idgw_session_mode mode;
    idgw_op op;
    idgw_step step;
    apr_int64_t seq;
    const char *body;
    const char *tid, *idm, *addr;
    const char *prefetch;        /* operation vault items read with the claim */
} msg;

static idgw_session_result run(const msg *m)
{
    idgw_session_request rq;
    idgw_session_result res;
    idgw_script_args a;
    const char **argv;
    size_t *lens;
    int argc;
    redisReply *reply;
    char err[200];

    memset(&rq, 0, sizeof(rq));
    rq.mode = m->mode;
    rq.op = m->op;
    rq.step = m->step;
    rq.seq = m->seq;
    rq.sid = sid;
    rq.terminal_id = m->tid ? m->tid : TID;
    rq.idm = m->idm ? m->idm : IDM;
    rq.client_addr = m->addr ? m->addr : ADDR;
    rq.correlation_id = m->mode == IDGW_MODE_OPEN ? CID : NULL;
    rq.prefetch = m->prefetch;
    idgw_message_digest(idgw_op_name(m->op), idgw_step_name(m->step), m->body,
                        m->body ? strlen(m->body) : 0, rq.digest);
    idgw_script_args_init(&a, pool);
    idgw_session_core_args(&a, &lim, &rq);
    argc = idgw_script_args_argv(&a, &session_script, 1, &argv, &lens);
    reply = idgw_redis_evalsha(conn, &session_script, argc, argv, lens);
    ck_assert_ptr_nonnull(reply);
    ck_assert_msg(reply->type != REDIS_REPLY_ERROR, "script error: %s", reply->str);
    ck_assert_msg(idgw_session_parse_reply(pool, reply, &res, err, sizeof(err)) == APR_SUCCESS,
                  "%s", err);
    if (res.outcome == IDGW_SESSION_RETRANSMIT)
        res.answer = apr_pstrmemdup(pool, res.answer, res.answer_len);
    if (res.outcome == IDGW_SESSION_ACCEPTED)
        attempt = res.attempt;
    /* keep the reply alive for part results; freed with the pool */
    apr_pool_cleanup_register(pool, reply, (apr_status_t (*)(void *))(void *)freeReplyObject,
                              apr_pool_cleanup_null);
    return res;
}

static void open_session(void)
{
    msg m = { IDGW_MODE_OPEN, IDGW_OP_OPEN, IDGW_STEP_REQUEST, 0, NULL };
    idgw_session_result res = run(&m);

    ck_assert_int_eq(res.outcome, IDGW_SESSION_ACCEPTED);
    ck_assert_int_eq(res.kind, IDGW_ACCEPT_OPEN);
    ck_assert_int_eq(res.to.phase, IDGW_PHASE_READY);
}

static idgw_session_result step(idgw_op op, idgw_step st, apr_int64_t seq, const char *body)
{
    msg m = { IDGW_MODE_STEP, op, st, seq, body };

    return run(&m);
}

static void expect_ok(idgw_session_result res, idgw_phase ph)
{
    ck_assert_msg(res.outcome == IDGW_SESSION_ACCEPTED, "outcome %d (%s)", res.outcome,
                  res.error ? res.error->code : "-");
    ck_assert_int_eq(res.to.phase, ph);
}

static void expect_error(idgw_session_result res, const idgw_error_def *e, int invalidated)
{
    ck_assert_int_eq(res.outcome, IDGW_SESSION_REFUSED);
    ck_assert_str_eq(res.error->code, e->code);
    ck_assert_int_eq(res.invalidated, invalidated);
}

static apr_int64_t int_command(const char *fmt, const char *arg)
{
    redisReply *r = redisCommand(conn->ctx, fmt, arg);
    apr_int64_t v;

    ck_assert_ptr_nonnull(r);
    v = r->type == REDIS_REPLY_INTEGER ? r->integer
        : r->type == REDIS_REPLY_STRING ? atoll(r->str) : -999;
    freeReplyObject(r);
    return v;
}

static const char *hget(const char *field)
{
    const char *key = idgw_key_session(pool, lim.prefix, sid);
    redisReply *r = redisCommand(conn->ctx, "HGET %s %s", key, field);
    const char *v = NULL;

    ck_assert_ptr_nonnull(r);
    if (r->type == REDIS_REPLY_STRING)
        v = apr_pstrdup(pool, r->str);
    freeReplyObject(r);
    return v;
}

/* Run a script; "1" for the integer 1, else the refusal's code. */
static const char *run_write(const idgw_script *s, idgw_script_args *a)
{
    const char **argv;
    size_t *lens;
    int argc = idgw_script_args_argv(a, s, 0, &argv, &lens);
    redisReply *r = idgw_redis_evalsha(conn, s, argc, argv, lens);
    const char *out;

    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r->type == REDIS_REPLY_INTEGER || r->type == REDIS_REPLY_STRING,
                  "reply type %d (%s)", r->type, r->type == REDIS_REPLY_ERROR ? r->str : "");
    out = r->type == REDIS_REPLY_INTEGER ? apr_psprintf(pool, "%" APR_INT64_T_FMT,
                                                        (apr_int64_t)r->integer)
                                         : apr_pstrdup(pool, r->str);
    freeReplyObject(r);
    return out;
}

/* What the next commits record as the session's proof (idgw_session_prove). */
static const char *commit_proof = "";

/* The commit of attempt at, as mod_idgw_session sends it (reply read back),
 * with vault items stored by the commit (idgw_vault_stage) when items is not
 * NULL: scope ("o" or "s"), name, sealed blob and reaped ("1" or "0") per
 * item, NULL-terminated; reaped items add the reaper's record arguments. */
static const char *commit_with(apr_int64_t at, apr_int64_t seq, const char *outcome,
                               const char *answer, int drop, const char *const *items)
{
    idgw_script_args a;
    int n = 0, reaped = 0, i;

    idgw_script_args_init(&a, pool);
    idgw_script_args_key(&a, idgw_key_session(pool, lim.prefix, sid));
    idgw_script_args_key(&a, idgw_key_vault_operation(pool, lim.prefix, sid));
    idgw_script_args_key(&a, idgw_key_vault_session(pool, lim.prefix, sid));
    idgw_script_args_key(&a, idgw_key_reap_set(pool, lim.prefix, sid));
    idgw_script_args_key(&a, idgw_key_reap_record(pool, lim.prefix, sid));
    idgw_script_args_int(&a, seq);
    idgw_script_args_str(&a, outcome);
    idgw_script_args_str(&a, answer);
    idgw_script_args_str(&a, drop ? "1" : "0");
    idgw_script_args_str(&a, sid);
    idgw_script_args_int(&a, at);
    idgw_script_args_str(&a, commit_proof);
    if (!items)
        return run_write(&commit_script, &a);
    while (items[4 * n])
        n++;
    idgw_script_args_int(&a, n);
    for (i = 0; i < 4 * n; i++) {
        idgw_script_args_str(&a, items[i]);
        reaped |= i % 4 == 3 && strcmp(items[i], "1") == 0;
    }
    if (reaped) {
        idgw_script_args_int(&a, 60000);
        idgw_script_args_str(&a, sid);
        idgw_script_args_str(&a, "add_card");
        idgw_script_args_str(&a, IDM);
        idgw_script_args_str(&a, CID);
        idgw_script_args_str(&a, "gw.example:443");
    }
    return run_write(&commit_script, &a);
}

static const char *commit_as(apr_int64_t at, apr_int64_t seq, const char *outcome,
                             const char *answer, int drop)
{
    return commit_with(at, seq, outcome, answer, drop, NULL);
}

static const char *commit_items(apr_int64_t at, apr_int64_t seq, const char *answer,
                                const char *const *items)
{
    return commit_with(at, seq, "ok", answer, 0, items);
}

static void commit(apr_int64_t seq, const char *outcome, const char *answer, int drop)
{
    ck_assert_str_eq(commit_as(attempt, seq, outcome, answer, drop), "1");
    /* the second, identical commit must be refused: only one answer per step */
    ck_assert_str_eq(commit_as(attempt, seq, outcome, answer, drop), "IDGW-SEQ-006");
}

static const char *vault_put_as(apr_int64_t at, const char *key, const char *name,
                                const char *value, int reaped)
{
    idgw_script_args a;

    idgw_script_args_init(&a, pool);
    idgw_script_args_key(&a, idgw_key_session(pool, lim.prefix, sid));
    idgw_script_args_key(&a, key);
    idgw_script_args_str(&a, name);
    idgw_script_args_str(&a, value);
    idgw_script_args_int(&a, at);
    if (reaped) {
        idgw_script_args_key(&a, idgw_key_reap_set(pool, lim.prefix, sid));
        idgw_script_args_key(&a, idgw_key_reap_record(pool, lim.prefix, sid));
        idgw_script_args_int(&a, 60000);
        idgw_script_args_str(&a, sid);
        idgw_script_args_str(&a, "add_card");
        idgw_script_args_str(&a, IDM);
        idgw_script_args_str(&a, CID);
        idgw_script_args_str(&a, "");           /* the main server */
    }
    return run_write(&vault_script, &a);
}

static void vault_put(const char *key, const char *name, const char *value, int expect)
{
    const char *r = vault_put_as(attempt, key, name, value, 0);

    if (expect)
        ck_assert_str_eq(r, "1");
    else
        ck_assert_str_ne(r, "1");
}

START_TEST(full_write_operation)
{
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<req/>"), IDGW_PHASE_REQUESTED);
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 2, "<r1/>"), IDGW_PHASE_RELAYING);
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 3, "<r2/>"), IDGW_PHASE_RELAYING);
    ck_assert_str_eq(hget("nr"), "2");
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_COMPLETE, 4, "<done/>"), IDGW_PHASE_READY);
    expect_ok(step(IDGW_OP_DISPLAY_DATA, IDGW_STEP_REQUEST, 5, ""), IDGW_PHASE_READY);
    expect_ok(step(IDGW_OP_CLOSE, IDGW_STEP_REQUEST, 6, ""), IDGW_PHASE_CLOSED);
    ck_assert_str_eq(hget("st"), "closed");
    ck_assert_str_eq(hget("seq"), "6");
}
END_TEST

/* ---- the status read (idgw_status_read.h) agrees with the script ---------- */

/* A new connection, FLUSHALL, a new session id, the session opened. */
static void fresh_session(void)
{
    teardown();
    setup();
    open_session();
}

/* The read as mod_idgw_session sends it (HMGET + TIME, pipelined), judged. */
static int read_status(const msg *m, const char *replid, const char *replid2,
                       idgw_session_result *out)
{
    idgw_status_read_cmds cmds;
    idgw_session_request rq;
    redisReply *hm, *tm;
    int decided;

    memset(&rq, 0, sizeof(rq));
    rq.mode = IDGW_MODE_STATUS;
    rq.sid = sid;
    rq.terminal_id = m->tid ? m->tid : TID;
    rq.idm = m->idm ? m->idm : IDM;
    rq.client_addr = m->addr ? m->addr : ADDR;
    idgw_status_read_cmds_make(pool, lim.prefix, sid, &cmds);
    ck_assert_int_eq(idgw_redis_send(conn, 2 + IDGW_SR_NFIELDS, cmds.hmget, cmds.hmget_lens),
                     APR_SUCCESS);
    ck_assert_int_eq(idgw_redis_send(conn, 1, cmds.time, cmds.time_lens), APR_SUCCESS);
    hm = idgw_redis_read(conn);
    tm = idgw_redis_read(conn);
    ck_assert_msg(hm != NULL, "pending %d err %d %s", conn->pending, conn->ctx->err, conn->ctx->errstr);
    ck_assert_ptr_nonnull(tm);
    decided = idgw_status_read_judge(hm, tm, &rq, &lim, replid, replid2, out);
    if (decided)
        out->correlation_id = apr_pstrdup(pool, out->correlation_id);
    freeReplyObject(hm);
    freeReplyObject(tm);
    return decided;
}

/* The read first (it writes nothing), then the script: when the read
 * decides, every field of its answer is the script's; whether it decides
 * is what the case expects. */
static idgw_session_result read_agrees(const msg *m, int expect_decided)
{
    idgw_session_result rd, sc;
    int decided = read_status(m, NULL, NULL, &rd);

    sc = run(m);
    ck_assert_int_eq(decided, expect_decided);
    if (!decided)
        return sc;
    ck_assert_int_eq(sc.outcome, IDGW_SESSION_ACCEPTED);
    ck_assert_int_eq(rd.outcome, sc.outcome);
    ck_assert_int_eq(rd.kind, sc.kind);
    ck_assert_int_eq(rd.from.phase, sc.from.phase);
    ck_assert_int_eq(rd.from.op, sc.from.op);
    ck_assert_int_eq(rd.to.phase, sc.to.phase);
    ck_assert_int_eq(rd.to.op, sc.to.op);
    ck_assert_int_eq(rd.seq, sc.seq);
    ck_assert_int_eq(rd.relays, sc.relays);
    ck_assert_int_eq(rd.created_ms, sc.created_ms);
    ck_assert_int_eq(rd.deadline_ms, sc.deadline_ms);
    ck_assert_int_eq(rd.addr_mismatch, sc.addr_mismatch);
    ck_assert_int_eq(rd.attempt, sc.attempt);
    ck_assert_str_eq(rd.correlation_id, sc.correlation_id);
    return sc;
}

START_TEST(status_read_agrees_on_live_sessions)
{
    msg st = { IDGW_MODE_STATUS, IDGW_OP_STATUS, IDGW_STEP_NONE, 0, NULL };
    msg moved = st;

    moved.addr = "198.51.100.7";
    open_session();
    read_agrees(&st, 1);
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    read_agrees(&st, 1);
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 2, "<r/>"), IDGW_PHASE_RELAYING);
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 3, "<r2/>"), IDGW_PHASE_RELAYING);
    ck_assert_int_eq(read_agrees(&st, 1).relays, 2);
    /* another address under the log policy: answered, flagged */
    ck_assert_int_eq(read_agrees(&moved, 1).addr_mismatch, 1);
}
END_TEST

START_TEST(status_read_leaves_refusals_to_the_script)
{
    msg st = { IDGW_MODE_STATUS, IDGW_OP_STATUS, IDGW_STEP_NONE, 0, NULL };
    msg moved = st, other_chip = st;
    idgw_session_result rd;

    moved.addr = "198.51.100.7";
    other_chip.idm = "FEDCBA9876543210";
    /* unknown */
    expect_error(read_agrees(&st, 0), &IDGW_E_SES_UNKNOWN, 0);
    open_session();
    /* another address under enforce: the script refuses and ends it */
    lim.addr_policy = IDGW_ADDR_POLICY_ENFORCE;
    expect_error(read_agrees(&moved, 0), &IDGW_E_SES_ADDRESS, 1);
    /* dead from then on */
    lim.addr_policy = IDGW_ADDR_POLICY_LOG;
    expect_error(read_agrees(&st, 0), &IDGW_E_SES_DEAD, 0);
    /* a binding mismatch ends a fresh session */
    fresh_session();
    expect_error(read_agrees(&other_chip, 0), &IDGW_E_SES_BINDING, 1);
    /* past the deadline */
    fresh_session();
    int_command("HSET t:s:{%s} dl 1", sid);
    expect_error(read_agrees(&st, 0), &IDGW_E_SES_EXPIRED, 1);
    /* closed */
    fresh_session();
    expect_ok(step(IDGW_OP_CLOSE, IDGW_STEP_REQUEST, 1, ""), IDGW_PHASE_CLOSED);
    commit(1, "ok", "200 x\n<closed/>", 0);
    expect_error(read_agrees(&st, 0), &IDGW_E_SES_CLOSED, 0);
    /* written under another history: declined; under the master's replid2
     * (written before the last failover it survived): answered */
    fresh_session();
    int_command("HSET t:s:{%s} rid aaaa", sid);
    ck_assert_int_eq(read_status(&st, "bbbb", "cccc", &rd), 0);
    ck_assert_int_eq(read_status(&st, "bbbb", "aaaa", &rd), 1);
    ck_assert_int_eq(read_status(&st, "", "", &rd), 1);
}
END_TEST

START_TEST(status_reads_without_transition)
{
    msg m = { IDGW_MODE_STATUS, IDGW_OP_STATUS, IDGW_STEP_NONE, 0, NULL };
    idgw_session_result res;

    open_session();
    expect_ok(step(IDGW_OP_LIST_CARDS, IDGW_STEP_REQUEST, 1, "<l/>"), IDGW_PHASE_REQUESTED);
    res = run(&m);
    expect_ok(res, IDGW_PHASE_REQUESTED);
    ck_assert_int_eq(res.kind, IDGW_ACCEPT_STATUS);
    ck_assert_int_eq(res.seq, 1);
    expect_ok(step(IDGW_OP_LIST_CARDS, IDGW_STEP_RELAY, 2, "<r/>"), IDGW_PHASE_RELAYING);
}
END_TEST

START_TEST(retransmission_gets_stored_answer)
{
    idgw_session_result res;

    open_session();
    expect_ok(step(IDGW_OP_ISSUE_AREA, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    /* before the answer is committed: retry later, the session lives on */
    res = step(IDGW_OP_ISSUE_AREA, IDGW_STEP_REQUEST, 1, "<a/>");
    expect_error(res, &IDGW_E_SEQ_PENDING, 0);
    ck_assert_int_eq(res.struck, 0);
    commit(1, "ok", "200 application/xml\n<answer n=\"1\"/>", 0);
    res = step(IDGW_OP_ISSUE_AREA, IDGW_STEP_REQUEST, 1, "<a/>");
    ck_assert_int_eq(res.outcome, IDGW_SESSION_RETRANSMIT);
    ck_assert_str_eq(res.answer, "200 application/xml\n<answer n=\"1\"/>");
    /* and the sequence goes on */
    expect_ok(step(IDGW_OP_ISSUE_AREA, IDGW_STEP_RELAY, 2, "<r/>"), IDGW_PHASE_RELAYING);
}
END_TEST

START_TEST(repeat_with_other_body_invalidates)
{
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    commit(1, "ok", "200 x\n", 0);
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<b/>"), &IDGW_E_SEQ_REPLAY, 1);
    ck_assert_str_eq(hget("st"), "dead");
    /* nothing proved this session's chip or user: its terminal id is only
     * what the app named at open, so the address alone answers for it */
    ck_assert_int_eq(int_command("GET t:strike:t:%s", TID), -999);
    ck_assert_int_eq(int_command("GET t:strike:a:%s", ADDR), 1);
    /* the session never comes back, and every further try is a strike: a
     * dead token proves nothing, so against the address only */
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 2, "<r/>"), &IDGW_E_SES_DEAD, 0);
    ck_assert_int_eq(int_command("GET t:strike:t:%s", TID), -999);
    ck_assert_int_eq(int_command("GET t:strike:a:%s", ADDR), 2);
}
END_TEST

START_TEST(skip_is_sequence_error)
{
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 4, "<r/>"), &IDGW_E_SEQ_ORDER, 1);
}
END_TEST

/* One ahead of Redis: the gateway answered seq 2, which Redis lost (issue 14):
 * rolled back, session ended, nobody struck. */
START_TEST(one_ahead_is_rollback)
{
    idgw_session_result res;

    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    res = step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 3, "<r/>");
    expect_error(res, &IDGW_E_SEQ_ROLLBACK, 1);
    ck_assert_int_eq(res.struck, 0);
}
END_TEST

START_TEST(first_message_must_be_one)
{
    open_session();
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 3, "<a/>"), &IDGW_E_SEQ_ORDER, 1);
}
END_TEST

START_TEST(going_back_is_sequence_error)
{
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 2, "<r/>"), IDGW_PHASE_RELAYING);
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), &IDGW_E_SEQ_ORDER, 1);
}
END_TEST

START_TEST(step_not_allowed_in_state)
{
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    /* completion without a relay, and another operation's step */
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_COMPLETE, 2, "<c/>"), &IDGW_E_SEQ_STATE, 1);
    ck_assert_int_eq(int_command("GET t:strike:t:%s", TID), -999);
}
END_TEST

/* Once a commit records a proof (the chip answered through the secure
 * channel), the session's sequence errors are its terminal's own. */
START_TEST(proven_session_strikes_its_terminal)
{
    idgw_session_result res;

    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    commit(1, "ok", "200 x\n", 0);
    ck_assert_ptr_null(hget("pv"));
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 2, "<r/>"), IDGW_PHASE_RELAYING);
    commit_proof = "chip";
    commit(2, "ok", "200 y\n", 0);
    commit_proof = "";
    ck_assert_str_eq(hget("pv"), "chip");
    res = step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 5, "<r/>");
    expect_error(res, &IDGW_E_SEQ_ORDER, 1);
    ck_assert_int_eq(res.strike_scope, IDGW_STRIKE_SESSION);
    ck_assert_int_eq(int_command("GET t:strike:t:%s", TID), 1);
    ck_assert_int_eq(int_command("GET t:strike:a:%s", ADDR), 1);
}
END_TEST

/* Redis Cluster layout: the core gets only the session's keys (one slot),
 * reports the strike and leaves counting to the caller (its counters lie on
 * other slots); the session's keys carry the reaper shard's tag. */
START_TEST(cluster_layout_leaves_strikes_to_the_caller)
{
    idgw_session_result res;
    const char *key;

    idgw_keys_cluster_layout(1);
    open_session();
    key = idgw_key_session(pool, lim.prefix, sid);
    ck_assert_int_eq(int_command("EXISTS %s", key), 1);
    ck_assert_ptr_nonnull(strstr(key, apr_psprintf(pool, ":{%s}:", idgw_key_tag(pool, sid))));
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    res = step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 5, "<r/>");
    expect_error(res, &IDGW_E_SEQ_ORDER, 1);
    ck_assert_int_eq(res.strike_scope, IDGW_STRIKE_ADDRESS);
    ck_assert_int_eq(int_command("EXISTS %s", idgw_key_strike_address(pool, lim.prefix, ADDR)),
                     0);
    ck_assert_int_eq(int_command("DBSIZE%s", ""), 1);   /* the session hash alone */
    idgw_keys_cluster_layout(0);
}
END_TEST

/* Redis Cluster layout: the reaper's watch goes to the session's shard (its
 * slot), and the claim of that shard, given the shard's tag, finds the
 * session and the record under their tagged names. */
START_TEST(cluster_reaper_shard_claim)
{
    idgw_script claim;
    idgw_script_args a;
    const char **argv;
    size_t *lens;
    const char *shard;
    redisReply *r;
    int argc;

    idgw_keys_cluster_layout(1);
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    ck_assert_str_eq(vault_put_as(attempt, idgw_key_vault_operation(pool, lim.prefix, sid),
                                  "card", "sealed", 1), "1");
    shard = idgw_key_reap_shard(pool, lim.prefix, idgw_key_shard_of(sid));
    ck_assert_str_eq(shard, idgw_key_reap_set(pool, lim.prefix, sid));
    ck_assert_int_eq(int_command("ZCARD %s", shard), 1);
    /* due now, and the app vanished: its session expired */
    ck_assert_int_eq(int_command(apr_psprintf(pool, "ZADD %%s 0 %s", sid), shard), 0);
    ck_assert_int_eq(int_command("DEL %s", idgw_key_session(pool, lim.prefix, sid)), 1);
    idgw_script_init(&claim, "reap_claim", idgw_lua_reap_claim);
    idgw_script_args_init(&a, pool);
    idgw_script_args_key(&a, shard);
    idgw_script_args_str(&a, lim.prefix);
    idgw_script_args_int(&a, 16);
    idgw_script_args_int(&a, 0);
    idgw_script_args_str(&a, idgw_key_tag(pool, sid));
    argc = idgw_script_args_argv(&a, &claim, 0, &argv, &lens);
    r = idgw_redis_evalsha(conn, &claim, argc, argv, lens);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_int_eq(r->elements, 1);
    ck_assert_int_eq(r->element[0]->elements, 8);
    ck_assert_str_eq(r->element[0]->element[0]->str, sid);
    ck_assert_str_eq(r->element[0]->element[1]->str, "reap");
    ck_assert_str_eq(r->element[0]->element[3]->str, "card");
    ck_assert_str_eq(r->element[0]->element[4]->str, "sealed");   /* read under its tagged name */
    freeReplyObject(r);
    ck_assert_int_eq(int_command("ZCARD %s", shard), 0);
    ck_assert_int_eq(int_command("EXISTS %s", idgw_key_reap_record(pool, lim.prefix, sid)), 0);
    idgw_keys_cluster_layout(0);
}
END_TEST

START_TEST(other_operation_mid_way)
{
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    expect_error(step(IDGW_OP_DELETE_CARD, IDGW_STEP_REQUEST, 2, "<d/>"), &IDGW_E_SEQ_STATE, 1);
}
END_TEST

START_TEST(unknown_session)
{
    idgw_session_result res = step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>");

    expect_error(res, &IDGW_E_SES_UNKNOWN, 0);
    ck_assert_int_eq(res.struck, 1);
    /* an unknown id never creates a session */
    ck_assert_int_eq(int_command("EXISTS %s", idgw_key_session(pool, lim.prefix, sid)), 0);
}
END_TEST

START_TEST(binding_to_terminal_and_chip)
{
    msg other_tid = { IDGW_MODE_STEP, IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>", "T-0002" };
    msg other_idm = { IDGW_MODE_STEP, IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>", NULL,
                      "0123456789ABCDEE" };

    open_session();
    expect_error(run(&other_idm), &IDGW_E_SES_BINDING, 1);
    teardown();
    setup();
    open_session();
    expect_error(run(&other_tid), &IDGW_E_SES_BINDING, 1);
    /* the terminal id a mismatching request names is only a claim: never struck */
    ck_assert_int_eq(int_command("GET t:strike:t:%s", "T-0002"), -999);
    ck_assert_int_eq(int_command("GET t:strike:a:%s", ADDR), 1);
}
END_TEST

START_TEST(address_policy)
{
    msg moved = { IDGW_MODE_STEP, IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>", NULL, NULL,
                  "198.51.100.7" };
    idgw_session_result res;

    open_session();
    res = run(&moved);              /* log: accepted, flagged */
    expect_ok(res, IDGW_PHASE_REQUESTED);
    ck_assert_int_eq(res.addr_mismatch, 1);
    lim.addr_policy = IDGW_ADDR_POLICY_ENFORCE;
    moved.seq = 2;
    moved.step = IDGW_STEP_RELAY;
    expect_error(run(&moved), &IDGW_E_SES_ADDRESS, 1);
    ck_assert_int_eq(int_command("GET t:strike:a:%s", "198.51.100.7"), 1);
}
END_TEST

START_TEST(absolute_lifetime)
{
    const char *vo = idgw_key_vault_operation(pool, lim.prefix, sid);
    msg status = { IDGW_MODE_STATUS, IDGW_OP_STATUS, IDGW_STEP_REQUEST, 0, NULL };

    lim.lifetime = apr_time_from_msec(300);
    lim.idle = apr_time_from_msec(300);
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    vault_put(vo, "pan", "sealed", 1);
    usleep(200000);
    /* activity keeps the session from going idle but does not extend the
     * lifetime: the card data expires at the deadline */
    expect_ok(run(&status), IDGW_PHASE_REQUESTED);
    ck_assert_int_le(int_command("PTTL %s", vo), 100);
    usleep(150000);
    /* as documented: the lifetime is over, not "unknown session" (the hash
     * outlives the deadline by the idle timeout; the key did not vanish at
     * the deadline) */
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 2, "<r/>"), &IDGW_E_SES_EXPIRED, 1);
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 2, "<r/>"), &IDGW_E_SES_EXPIRED, 1);
}
END_TEST

START_TEST(deadline_checked_inside_script)
{
    lim.lifetime = apr_time_from_msec(200);
    lim.idle = apr_time_from_msec(200);
    open_session();
    /* keep the key alive beyond the deadline: the script's own check must refuse */
    int_command("PEXPIRE %s 10000", idgw_key_session(pool, lim.prefix, sid));
    usleep(250000);
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), &IDGW_E_SES_EXPIRED, 1);
    /* the card data is gone; the hash idles out (it is not touched again) */
    ck_assert_int_eq(int_command("EXISTS %s", idgw_key_vault_operation(pool, lim.prefix, sid)), 0);
    ck_assert_int_le(int_command("PTTL %s", idgw_key_session(pool, lim.prefix, sid)), 10000);
}
END_TEST

START_TEST(idle_timeout_refreshed_by_activity)
{
    lim.idle = apr_time_from_msec(400);
    open_session();
    usleep(250000);
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    usleep(250000);
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 2, "<r/>"), IDGW_PHASE_RELAYING);
    usleep(450000);
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 3, "<r/>"), &IDGW_E_SES_UNKNOWN, 0);
}
END_TEST

START_TEST(closed_session)
{
    idgw_session_result res;

    open_session();
    expect_ok(step(IDGW_OP_CLOSE, IDGW_STEP_REQUEST, 1, ""), IDGW_PHASE_CLOSED);
    commit(1, "ok", "200 x\n<closed/>", 0);
    res = step(IDGW_OP_CLOSE, IDGW_STEP_REQUEST, 1, "");
    ck_assert_int_eq(res.outcome, IDGW_SESSION_RETRANSMIT);
    res = step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 2, "<a/>");
    expect_error(res, &IDGW_E_SES_CLOSED, 0);
    ck_assert_int_eq(res.struck, 1);
}
END_TEST

START_TEST(unanswered_step_reclaimed_after_lease)
{
    idgw_session_result res;

    lim.pending_lease = apr_time_from_msec(150);
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), &IDGW_E_SEQ_PENDING, 0);
    usleep(200000);
    res = step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>");
    expect_ok(res, IDGW_PHASE_REQUESTED);
    ck_assert_int_eq(res.kind, IDGW_ACCEPT_RECLAIM);
    ck_assert_int_eq(res.from.phase, IDGW_PHASE_READY);
    /* reclaimed, not twice: within the new lease it is pending again */
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), &IDGW_E_SEQ_PENDING, 0);
}
END_TEST

/* A request step claimed under a short retry lease; its attempt number. */
static apr_int64_t claim_under_short_lease(void)
{
    lim.pending_lease = apr_time_from_msec(150);
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    return attempt;
}

/* Its retry after the lease: the takeover. */
static idgw_session_result take_over(void)
{
    idgw_session_result res;

    usleep(200000);
    res = step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>");
    ck_assert_int_eq(res.kind, IDGW_ACCEPT_RECLAIM);
    return res;
}

/* A retry after the lease takes the step over with a new attempt number;
 * the first attempt, finishing late, can neither commit nor write the vault. */
START_TEST(takeover_fences_late_attempt)
{
    const char *vo = idgw_key_vault_operation(pool, lim.prefix, sid);
    idgw_session_result res;
    apr_int64_t first;

    first = claim_under_short_lease();
    ck_assert_str_eq(vault_put_as(first, vo, "ctx", "first", 0), "1");
    res = take_over();
    ck_assert_int_eq(res.attempt, first + 1);
    /* the late first attempt is fenced out */
    ck_assert_str_eq(vault_put_as(first, vo, "ctx", "late", 0), "IDGW-SEQ-006");
    ck_assert_str_eq(commit_as(first, 1, "ok", "200 x\n<late/>", 0), "IDGW-SEQ-006");
    ck_assert_str_eq(hget("ans"), "");
    /* the takeover commits (here: aborts the operation) */
    ck_assert_str_eq(commit_as(res.attempt, 1, "abort", "409 x\n<restart/>", 0), "1");
    ck_assert_str_eq(hget("st"), "ready");
    ck_assert_int_eq(int_command("EXISTS %s", vo), 0);
    res = step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>");
    ck_assert_int_eq(res.outcome, IDGW_SESSION_RETRANSMIT);
    ck_assert_str_eq(res.answer, "409 x\n<restart/>");
    /* the next claim takes the next number */
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 2, "<a/>"), IDGW_PHASE_REQUESTED);
    ck_assert_int_eq(attempt, first + 2);
}
END_TEST

/* Another message with the step's sequence number ends the session while the
 * step runs: the step's writes are refused with that code. */
START_TEST(conflict_refuses_running_step)
{
    const char *vo = idgw_key_vault_operation(pool, lim.prefix, sid);
    apr_int64_t first;

    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    first = attempt;
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<b/>"), &IDGW_E_SEQ_REPLAY, 1);
    ck_assert_str_eq(vault_put_as(first, vo, "ctx", "x", 0), "IDGW-SEQ-003");
    ck_assert_str_eq(commit_as(first, 1, "ok", "200 x\n", 0), "IDGW-SEQ-003");
    ck_assert_int_eq(int_command("EXISTS %s", vo), 0);
}
END_TEST

/* The correlation id is drawn at open, kept for the session and handed to
 * the reaper's record; it is not the session id. */
START_TEST(correlation_id_kept)
{
    idgw_session_result res;

    open_session();
    res = step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>");
    ck_assert_str_eq(res.correlation_id, CID);
    ck_assert_str_eq(vault_put_as(attempt, idgw_key_vault_operation(pool, lim.prefix, sid),
                                  "ctx", "x", 1), "1");
    {
        redisReply *r = redisCommand(conn->ctx, "HGET %s cid",
                                     idgw_key_reap_record(pool, lim.prefix, sid));

        ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
        ck_assert_str_eq(r->str, CID);
        freeReplyObject(r);
    }
    ck_assert_ptr_null(strstr(res.correlation_id, sid));
}
END_TEST

START_TEST(commit_abort_ends_operation)
{
    const char *vo = idgw_key_vault_operation(pool, lim.prefix, sid);
    const char *vs = idgw_key_vault_session(pool, lim.prefix, sid);

    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    vault_put(vo, "pan", "sealed-bytes", 1);
    vault_put(vs, "password", "sealed-bytes", 1);
    commit(1, "abort", "502 x\n<error/>", 0);
    ck_assert_str_eq(hget("st"), "ready");
    ck_assert_int_eq(int_command("EXISTS %s", vo), 0);
    ck_assert_int_eq(int_command("EXISTS %s", vs), 1);
    /* a new operation may start */
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 2, "<a/>"), IDGW_PHASE_REQUESTED);
}
END_TEST

START_TEST(completion_drops_operation_vault)
{
    const char *vo = idgw_key_vault_operation(pool, lim.prefix, sid);

    open_session();
    expect_ok(step(IDGW_OP_UPDATE_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    vault_put(vo, "pan", "sealed", 1);
    expect_ok(step(IDGW_OP_UPDATE_CARD, IDGW_STEP_RELAY, 2, "<r/>"), IDGW_PHASE_RELAYING);
    expect_ok(step(IDGW_OP_UPDATE_CARD, IDGW_STEP_COMPLETE, 3, "<c/>"), IDGW_PHASE_READY);
    ck_assert_int_eq(int_command("EXISTS %s", vo), 1);   /* the handler still needs it */
    commit(3, "ok", "200 x\n", 1);
    ck_assert_int_eq(int_command("EXISTS %s", vo), 0);
}
END_TEST

/* The step's context stored by its commit: the answer, the items, the
 * reaper's record and watch land in one script, as idgw_lua_vault_put
 * would have written them. */
START_TEST(commit_stores_staged_items)
{
    const char *vo = idgw_key_vault_operation(pool, lim.prefix, sid);
    const char *rec = idgw_key_reap_record(pool, lim.prefix, sid);
    const char *items[] = { "o", "ctx", "sealed-ctx", "1", "o", "display", "sealed-disp", "0",
                            "s", "pw", "sealed-pw", "0", NULL };
    redisReply *r;
    apr_int64_t score;

    lim.idle = apr_time_from_sec(30);
    lim.lifetime = apr_time_from_sec(20);
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    ck_assert_str_eq(commit_items(attempt, 1, "200 x\n<relay/>", items), "1");
    ck_assert_str_eq(hget("ans"), "200 x\n<relay/>");
    r = redisCommand(conn->ctx, "HMGET %s ctx display", vo);
    ck_assert_str_eq(r->element[0]->str, "sealed-ctx");
    ck_assert_str_eq(r->element[1]->str, "sealed-disp");
    freeReplyObject(r);
    r = redisCommand(conn->ctx, "HGET %s pw", idgw_key_vault_session(pool, lim.prefix, sid));
    ck_assert_str_eq(r->str, "sealed-pw");
    freeReplyObject(r);
    /* the vault expires with the session at the latest: here at its
     * deadline (20 s), before the idle timeout that keeps the hash (30 s) */
    ck_assert_int_gt(int_command("PTTL %s", vo), 0);
    ck_assert_int_le(int_command("PTTL %s", vo), 20000);
    ck_assert_int_gt(int_command("PTTL %s", idgw_key_session(pool, lim.prefix, sid)), 20000);
    /* the reaper's record holds the reaped item only, for twice the hold */
    r = redisCommand(conn->ctx, "HMGET %s op item blob idm cid vhost", rec);
    ck_assert_str_eq(r->element[0]->str, "add_card");
    ck_assert_str_eq(r->element[1]->str, "ctx");
    ck_assert_str_eq(r->element[2]->str, "sealed-ctx");
    ck_assert_str_eq(r->element[3]->str, IDM);
    ck_assert_str_eq(r->element[4]->str, CID);
    ck_assert_str_eq(r->element[5]->str, "gw.example:443");
    freeReplyObject(r);
    ck_assert_int_gt(int_command("PTTL %s", rec), 60000);
    r = redisCommand(conn->ctx, "ZSCORE %s %s", idgw_key_reap_set(pool, lim.prefix, sid), sid);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    score = atoll(r->str);
    freeReplyObject(r);
    ck_assert_int_gt(score, (apr_int64_t)(apr_time_now() / 1000) + 50000);
    /* a second commit of the step, items and all, is refused */
    ck_assert_str_eq(commit_items(attempt, 1, "200 x\n<other/>", items), "IDGW-SEQ-006");
}
END_TEST

/* Refused like the puts: a fenced-out attempt, a closed session, a session
 * past its deadline; then nothing of the commit is written. */
START_TEST(commit_items_refused_like_puts)
{
    const char *vo = idgw_key_vault_operation(pool, lim.prefix, sid);
    const char *items[] = { "o", "ctx", "late", "1", NULL };
    idgw_session_result res;
    apr_int64_t first;

    first = claim_under_short_lease();
    res = take_over();
    ck_assert_str_eq(commit_items(first, 1, "200 x\n<late/>", items), "IDGW-SEQ-006");
    ck_assert_int_eq(int_command("EXISTS %s", vo), 0);
    ck_assert_int_eq(int_command("EXISTS %s", idgw_key_reap_record(pool, lim.prefix, sid)), 0);
    ck_assert_str_eq(hget("ans"), "");

    /* closed: the close step's commit may not store items */
    ck_assert_str_eq(commit_as(res.attempt, 1, "abort", "409 x\n<restart/>", 0), "1");
    expect_ok(step(IDGW_OP_CLOSE, IDGW_STEP_REQUEST, 2, ""), IDGW_PHASE_CLOSED);
    ck_assert_str_eq(commit_items(attempt, 2, "200 x\n<closed/>", items), "IDGW-SES-003");
    ck_assert_str_eq(hget("ans"), "");
    ck_assert_int_eq(int_command("EXISTS %s", vo), 0);
}
END_TEST

START_TEST(commit_items_refused_past_deadline)
{
    const char *items[] = { "o", "ctx", "x", "0", NULL };

    lim.lifetime = apr_time_from_msec(200);
    lim.idle = apr_time_from_msec(5000);
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    usleep(250000);
    ck_assert_str_eq(commit_items(attempt, 1, "200 x\n", items), "IDGW-SES-004");
    ck_assert_str_eq(hget("ans"), "");
    ck_assert_int_eq(int_command("EXISTS %s", idgw_key_vault_operation(pool, lim.prefix, sid)), 0);
}
END_TEST

/* The items a step's handler reads come back with its claim (NEW and
 * RECLAIM), in the order asked, nil for one not stored; nothing else does. */
START_TEST(claim_reads_asked_items)
{
    const char *items[] = { "o", "ctx", "sealed-ctx", "1", "o", "display", "logo", "0", NULL };
    msg relay = { IDGW_MODE_STEP, IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 2, "<r/>", NULL, NULL, NULL,
                  "display nothing ctx" };
    msg again = relay;
    idgw_session_result res;

    lim.pending_lease = apr_time_from_msec(150);
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    ck_assert_ptr_null(run(&(msg){ IDGW_MODE_STATUS, IDGW_OP_STATUS, IDGW_STEP_REQUEST, 0, NULL,
                                   NULL, NULL, NULL, "ctx" }).prefetched);
    ck_assert_str_eq(commit_items(attempt, 1, "200 x\n<relay/>", items), "1");
    res = run(&relay);
    expect_ok(res, IDGW_PHASE_RELAYING);
    ck_assert_ptr_nonnull(res.prefetched);
    ck_assert_uint_eq(res.prefetched->elements, 3);
    ck_assert_str_eq(res.prefetched->element[0]->str, "logo");
    ck_assert_int_eq(res.prefetched->element[1]->type, REDIS_REPLY_NIL);
    ck_assert_str_eq(res.prefetched->element[2]->str, "sealed-ctx");
    /* a retransmission gets the stored answer, not the items */
    ck_assert_str_eq(commit_items(attempt, 2, "200 x\n<r2/>", (const char *[]){ NULL }), "1");
    res = run(&relay);
    ck_assert_int_eq(res.outcome, IDGW_SESSION_RETRANSMIT);
    ck_assert_ptr_null(res.prefetched);
    /* a takeover reads them too */
    again.seq = 3;
    expect_ok(run(&again), IDGW_PHASE_RELAYING);
    usleep(200000);
    res = run(&again);
    ck_assert_int_eq(res.kind, IDGW_ACCEPT_RECLAIM);
    ck_assert_ptr_nonnull(res.prefetched);
    ck_assert_str_eq(res.prefetched->element[2]->str, "sealed-ctx");
    /* asking for nothing: the reply has no item list */
    again.seq = 4;
    again.prefetch = NULL;
    ck_assert_str_eq(commit_as(attempt, 3, "ok", "200 x\n", 0), "1");
    res = run(&again);
    expect_ok(res, IDGW_PHASE_RELAYING);
    ck_assert_ptr_null(res.prefetched);
}
END_TEST

START_TEST(vault_refused_without_live_session)
{
    const char *vo = idgw_key_vault_operation(pool, lim.prefix, sid);

    vault_put(vo, "pan", "sealed", 0);
    open_session();
    expect_ok(step(IDGW_OP_CLOSE, IDGW_STEP_REQUEST, 1, ""), IDGW_PHASE_CLOSED);
    vault_put(vo, "pan", "sealed", 0);
    ck_assert_int_eq(int_command("EXISTS %s", vo), 0);
}
END_TEST

START_TEST(relay_limit)
{
    lim.max_relays = 2;
    open_session();
    expect_ok(step(IDGW_OP_SET_MAIN, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    expect_ok(step(IDGW_OP_SET_MAIN, IDGW_STEP_RELAY, 2, "<r/>"), IDGW_PHASE_RELAYING);
    expect_ok(step(IDGW_OP_SET_MAIN, IDGW_STEP_RELAY, 3, "<r/>"), IDGW_PHASE_RELAYING);
    expect_error(step(IDGW_OP_SET_MAIN, IDGW_STEP_RELAY, 4, "<r/>"), &IDGW_E_SEQ_RELAYS, 1);
}
END_TEST

START_TEST(every_key_expires)
{
    redisReply *keys;
    size_t i;

    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    vault_put(idgw_key_vault_operation(pool, lim.prefix, sid), "pan", "x", 1);
    vault_put(idgw_key_vault_session(pool, lim.prefix, sid), "pw", "x", 1);
    expect_error(step(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, 5, "<r/>"), &IDGW_E_SEQ_ORDER, 1);
    /* a second, live session beside the invalidated one */
    {
        char token[IDGW_TOKEN_HEX + 1];

        idgw_token_new(token);
        idgw_sid_from_token(token, sid);
    }
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
    vault_put(idgw_key_vault_session(pool, lim.prefix, sid), "pw", "x", 1);
    keys = redisCommand(conn->ctx, "KEYS *");
    ck_assert_ptr_nonnull(keys);
    ck_assert_uint_eq(keys->elements, 4);   /* 2 sessions, 1 vault, the address's strikes */
    for (i = 0; i < keys->elements; i++) {
        apr_int64_t ttl = int_command("PTTL %s", keys->element[i]->str);

        ck_assert_msg(ttl > 0, "%s has no expiry", keys->element[i]->str);
        ck_assert(strncmp(keys->element[i]->str, "t:", 2) == 0);
    }
    freeReplyObject(keys);
}
END_TEST

START_TEST(noscript_recovered)
{
    redisReply *r = redisCommand(conn->ctx, "SCRIPT FLUSH");

    freeReplyObject(r);
    open_session();
    expect_ok(step(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, 1, "<a/>"), IDGW_PHASE_REQUESTED);
}
END_TEST

static const idgw_script_part_text deny_part = {
    "deny_banned", "if A[1] == 'banned' then return {'DENY', 'IDGW-ACL-001', 403} end\n"
                   "return redis.call('INCR', K[1])", 0 };
static const idgw_script_part_text after_part = {
    "observe", "return core[1] .. ':' .. A[1]", 1 };
static const idgw_script_part_text proof_part = {
    "proof", "redis.call('INCR', K[1])\n"
             "return core() and 'proven' or 'unproven'", 0 };

static idgw_session_result run_with_parts(const char *flag, apr_int64_t seq)
{
    idgw_session_request rq;
    idgw_session_result res;
    idgw_script_args a;
    const char **argv;
    size_t *lens;
    redisReply *reply;
    char err[200];
    int argc;

    memset(&rq, 0, sizeof(rq));
    rq.mode = seq ? IDGW_MODE_STEP : IDGW_MODE_OPEN;
    rq.op = seq ? IDGW_OP_DISPLAY_DATA : IDGW_OP_OPEN;
    rq.step = IDGW_STEP_REQUEST;
    rq.seq = seq;
    rq.sid = sid;
    rq.terminal_id = TID;
    rq.idm = IDM;
    rq.client_addr = ADDR;
    idgw_message_digest("x", "y", "", 0, rq.digest);
    idgw_script_args_init(&a, pool);
    idgw_session_core_args(&a, &lim, &rq);
    idgw_script_args_part(&a);
    idgw_script_args_key(&a, "t:acl:counter");
    idgw_script_args_str(&a, flag);
    idgw_script_args_part(&a);
    idgw_script_args_str(&a, "seen");
    argc = idgw_script_args_argv(&a, &session_script, 1, &argv, &lens);
    reply = idgw_redis_evalsha(conn, &session_script, argc, argv, lens);
    ck_assert_ptr_nonnull(reply);
    ck_assert_msg(reply->type != REDIS_REPLY_ERROR, "%s", reply->str);
    ck_assert_int_eq(idgw_session_parse_reply(pool, reply, &res, err, sizeof(err)),
                     APR_SUCCESS);
    apr_pool_cleanup_register(pool, reply, (apr_status_t (*)(void *))(void *)freeReplyObject,
                              apr_pool_cleanup_null);
    return res;
}

START_TEST(script_parts_extend_the_check)
{
    idgw_script_part_text parts[2] = { deny_part, after_part };
    idgw_session_result res;

    teardown();
    setup_with_parts(parts, 2);
    res = run_with_parts("ok", 0);
    expect_ok(res, IDGW_PHASE_READY);
    ck_assert_int_eq(res.nparts, 2);
    ck_assert_int_eq(res.parts[0]->type, REDIS_REPLY_INTEGER);
    ck_assert_int_eq(res.parts[0]->integer, 1);
    ck_assert_str_eq(res.parts[1]->str, "OK:seen");
    /* a denying part stops the request before the session is touched */
    res = run_with_parts("banned", 1);
    ck_assert_int_eq(res.outcome, IDGW_SESSION_DENIED);
    ck_assert_int_eq(res.deny_part, 1);
    ck_assert_str_eq(res.deny_code, "IDGW-ACL-001");
    ck_assert_int_eq(res.deny_status, 403);
    ck_assert_str_eq(hget("seq"), "0");
    res = run_with_parts("ok", 1);
    expect_ok(res, IDGW_PHASE_READY);
}
END_TEST

/* A part before the core asks whether the session is proven, at no cost of
 * its own: the core reads the session hash once for both. */
START_TEST(before_parts_see_the_proof)
{
    idgw_script_part_text parts[2] = { proof_part, after_part };
    idgw_session_result res;

    teardown();
    setup_with_parts(parts, 2);
    res = run_with_parts("x", 0);
    expect_ok(res, IDGW_PHASE_READY);
    ck_assert_str_eq(res.parts[0]->str, "unproven");
    res = run_with_parts("x", 1);
    ck_assert_int_eq(res.outcome, IDGW_SESSION_ACCEPTED);
    ck_assert_str_eq(res.parts[0]->str, "unproven");
    freeReplyObject(redisCommand(conn->ctx, "HSET %s pv chip",
                                 idgw_key_session(pool, lim.prefix, sid)));
    /* whatever the core then says of the request, the part saw the proof */
    res = run_with_parts("x", 2);
    ck_assert_str_eq(res.parts[0]->str, "proven");
}
END_TEST

START_TEST(token_never_stored)
{
    char token[IDGW_TOKEN_HEX + 1];
    redisReply *dump;
    const char *key;

    idgw_token_new(token);
    idgw_sid_from_token(token, sid);
    open_session();
    key = idgw_key_session(pool, lim.prefix, sid);
    dump = redisCommand(conn->ctx, "HGETALL %s", key);
    ck_assert_ptr_nonnull(dump);
    ck_assert_uint_gt(dump->elements, 0);
    for (size_t i = 0; i < dump->elements; i++)
        ck_assert_ptr_null(strstr(dump->element[i]->str, token));
    ck_assert_ptr_null(strstr(key, token));
    freeReplyObject(dump);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("session_script");
    TCase *tc = tcase_create("script");
    SRunner *sr;
    int failed;

    apr_initialize();
    if (redis_fixture_start(PORT) != 0) {
        fprintf(stderr, "test_session_script: cannot start redis-server on port %d\n", PORT);
        return EXIT_FAILURE;
    }
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, full_write_operation);
    tcase_add_test(tc, status_reads_without_transition);
    tcase_add_test(tc, status_read_agrees_on_live_sessions);
    tcase_add_test(tc, status_read_leaves_refusals_to_the_script);
    tcase_add_test(tc, retransmission_gets_stored_answer);
    tcase_add_test(tc, repeat_with_other_body_invalidates);
    tcase_add_test(tc, skip_is_sequence_error);
    tcase_add_test(tc, one_ahead_is_rollback);
    tcase_add_test(tc, first_message_must_be_one);
    tcase_add_test(tc, going_back_is_sequence_error);
    tcase_add_test(tc, step_not_allowed_in_state);
    tcase_add_test(tc, proven_session_strikes_its_terminal);
    tcase_add_test(tc, cluster_layout_leaves_strikes_to_the_caller);
    tcase_add_test(tc, cluster_reaper_shard_claim);
    tcase_add_test(tc, before_parts_see_the_proof);
    tcase_add_test(tc, other_operation_mid_way);
    tcase_add_test(tc, unknown_session);
    tcase_add_test(tc, binding_to_terminal_and_chip);
    tcase_add_test(tc, address_policy);
    tcase_add_test(tc, absolute_lifetime);
    tcase_add_test(tc, deadline_checked_inside_script);
    tcase_add_test(tc, idle_timeout_refreshed_by_activity);
    tcase_add_test(tc, closed_session);
    tcase_add_test(tc, unanswered_step_reclaimed_after_lease);
    tcase_add_test(tc, commit_abort_ends_operation);
    tcase_add_test(tc, takeover_fences_late_attempt);
    tcase_add_test(tc, conflict_refuses_running_step);
    tcase_add_test(tc, correlation_id_kept);
    tcase_add_test(tc, completion_drops_operation_vault);
    tcase_add_test(tc, vault_refused_without_live_session);
    tcase_add_test(tc, commit_stores_staged_items);
    tcase_add_test(tc, commit_items_refused_like_puts);
    tcase_add_test(tc, commit_items_refused_past_deadline);
    tcase_add_test(tc, claim_reads_asked_items);
    tcase_add_test(tc, relay_limit);
    tcase_add_test(tc, every_key_expires);
    tcase_add_test(tc, noscript_recovered);
    tcase_add_test(tc, script_parts_extend_the_check);
    tcase_add_test(tc, token_never_stored);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
