/*
 * idgw_session_settle.c - the gateway settles a record for reconciliation
 * (mod_idgw.h: idgw_unsettled_of_chip, _claim, _release, _settle; the
 * operator's side is scripts/idgw-reconcile, docs/reconcile.md).
 *
 * The record itself is the truth: "claimed_by" and "outcome" are fields of
 * its hash, set by scripts of one key (the record's {id} slot, so this works
 * on a Redis Cluster as the record writer does).  The indexes (time, settled,
 * per chip) and the counts follow as plain commands: an index entry of a
 * settled record is skipped by whoever reads it, never acted on twice.
 * On a Redis Cluster every command goes to the master of its key's slot
 * through the router (the record's script by the record's key), as
 * idgw-reconcile's Cluster path does: record first, then the indexes.
 */
#include "idgw_session_cfg.h"

#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

/* as scripts/idgw-reconcile's SETTLED_DAYS: how long a settled record stays */
#define SETTLED_KEEP_MS "7776000000"
#define ERR_MAX 200
#define ID_LEN 16
/* records of one chip read per look-up at most: claimed ones stay in the
 * chip's index until an operator settles them, and are skipped */
#define READ_MAX 64

/* Claimed only while neither settled nor claimed: the one place where two
 * gateways (or a gateway and a repeated step) meet. */
static const char CLAIM[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "if redis.call('HEXISTS', KEYS[1], 'outcome') == 1 then return 0 end\n"
    "if redis.call('HEXISTS', KEYS[1], 'claimed_by') == 1 then return 0 end\n"
    "local t = redis.call('TIME')\n"
    "redis.call('HSET', KEYS[1], 'claimed_by', ARGV[1], 'claimed_at',\n"
    "           t[1] * 1000 + math.floor(t[2] / 1000))\n"
    "return 1\n";

static const char RELEASE[] =
    "if redis.call('HEXISTS', KEYS[1], 'outcome') == 1 then return 0 end\n"
    "if redis.call('HGET', KEYS[1], 'claimed_by') ~= ARGV[1] then return 0 end\n"
    "redis.call('HDEL', KEYS[1], 'claimed_by', 'claimed_at')\n"
    "return 1\n";

/* The outcome as `idgw-reconcile settle` writes it; the settlement time (ms)
 * back, 0 when the claim is not ours any more. */
static const char SETTLE[] =
    "if redis.call('HEXISTS', KEYS[1], 'outcome') == 1 then return 0 end\n"
    "if redis.call('HGET', KEYS[1], 'claimed_by') ~= ARGV[1] then return 0 end\n"
    "local t = redis.call('TIME')\n"
    "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
    "redis.call('HSET', KEYS[1], 'outcome', ARGV[2], 'settled_by', ARGV[3], 'settled_at', now,\n"
    "           'note', ARGV[4])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[5])\n"
    "return now\n";

static const char *record_key(apr_pool_t *p, const char *id)
{
    return apr_pstrcat(p, idgw_g.limits.prefix, "unsettled:{", id, "}", NULL);
}

static const char *index_key(apr_pool_t *p, const char *name)
{
    return apr_pstrcat(p, idgw_g.limits.prefix, name, NULL);
}

/*
 * The connection the commands go on: the pool's (one server), or none on a
 * Cluster (conn NULL: each command is routed by its key, cmd below).
 */
static apr_status_t conn_of(apr_pool_t *p, idgw_redis_conn **conn, char *e)
{
    *conn = NULL;
    if (idgw_g.cluster)
        return APR_SUCCESS;
    return idgw_unsettled_conn(p, conn, e, ERR_MAX);
}

/* On a Cluster: the command on its key's master (EVAL: its first key). */
static redisReply *routed(apr_pool_t *p, int argc, const char **argv, const size_t *lens,
                          char *err)
{
    int key_arg = strcmp(argv[0], "EVAL") == 0 ? 3 : 1;
    redisReply *reply = idgw_session_cluster_command_at(p, key_arg, argc, argv, lens, err,
                                                        ERR_MAX);

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        apr_snprintf(err, ERR_MAX, "%.160s", reply->str);
        freeReplyObject(reply);
        return NULL;
    }
    return reply;
}

/* A command of n string arguments (a NULL-terminated list), on conn or
 * routed (conn NULL: a Cluster). */
static redisReply *cmd(apr_pool_t *p, idgw_redis_conn *conn, char *err, const char *a0, ...)
{
    const char *argv[12];
    size_t lens[12];
    int argc = 0;
    va_list ap;

    va_start(ap, a0);
    for (const char *a = a0; a && argc < 12; a = va_arg(ap, const char *)) {
        argv[argc] = a;
        lens[argc++] = strlen(a);
    }
    va_end(ap);
    if (!conn)
        return routed(p, argc, argv, lens, err);
    return idgw_unsettled_run(conn, argc, argv, lens, err, ERR_MAX);
}

static apr_status_t failed(apr_pool_t *p, const char *err, const char **out)
{
    if (out)
        *out = apr_pstrdup(p, err);
    return APR_EGENERAL;
}

/* A script of one key (the record): its integer reply into *n. */
static apr_status_t eval_record(apr_pool_t *p, const char *script, const char *id,
                                const char *a1, const char *a2, const char *a3, const char *a4,
                                const char *a5, long long *n, const char **err)
{
    char e[ERR_MAX] = "";
    idgw_redis_conn *conn;
    redisReply *reply;

    if (conn_of(p, &conn, e) != APR_SUCCESS)
        return failed(p, e, err);
    reply = cmd(p, conn, e, "EVAL", script, "1", record_key(p, id), a1, a2, a3, a4, a5, NULL);
    if (!reply)
        return failed(p, e, err);
    *n = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
    freeReplyObject(reply);
    return *n < 0 ? failed(p, "unexpected reply", err) : APR_SUCCESS;
}

/* A record's fields as a table (none: an empty table), from an HGETALL
 * reply (an array of name, value: the connections speak RESP2). */
static apr_table_t *fields_of(apr_pool_t *p, const redisReply *r)
{
    apr_table_t *t = apr_table_make(p, 24);

    if (r->type != REDIS_REPLY_ARRAY)
        return t;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING
            && r->element[i + 1]->type == REDIS_REPLY_STRING)
            apr_table_setn(t, apr_pstrmemdup(p, r->element[i]->str, r->element[i]->len),
                           apr_pstrmemdup(p, r->element[i + 1]->str, r->element[i + 1]->len));
    return t;
}

static int valid_id(const char *s, size_t len)
{
    if (len != ID_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* The record of id, when it is open (not settled, not claimed). */
static apr_table_t *open_record(idgw_redis_conn *conn, apr_pool_t *p, const char *id,
                                char *e)
{
    redisReply *reply = cmd(p, conn, e, "HGETALL", record_key(p, id), NULL);
    apr_table_t *t;

    if (!reply)
        return NULL;
    t = fields_of(p, reply);
    freeReplyObject(reply);
    if (apr_is_empty_table(t) || apr_table_get(t, "outcome") || apr_table_get(t, "claimed_by"))
        return NULL;
    apr_table_setn(t, "id", id);
    return t;
}

static apr_status_t idgw_unsettled_of_chip(apr_pool_t *p, const char *idm, int max,
                                           apr_array_header_t **records, const char **err)
{
    char e[ERR_MAX] = "";
    idgw_redis_conn *conn;
    redisReply *ids;

    *records = apr_array_make(p, max > 0 ? max : 1, sizeof(apr_table_t *));
    if (conn_of(p, &conn, e) != APR_SUCCESS)
        return failed(p, e, err);
    if (!(ids = cmd(p, conn, e, "SMEMBERS", idgw_unsettled_chip_key(p, idm), NULL)))
        return failed(p, e, err);
    for (size_t i = 0; i < ids->elements && i < READ_MAX && (*records)->nelts < max; i++) {
        const redisReply *el = ids->element[i];
        const char *id;
        apr_table_t *t;

        if (el->type != REDIS_REPLY_STRING || !valid_id(el->str, el->len))
            continue;
        id = apr_pstrmemdup(p, el->str, el->len);
        if ((t = open_record(conn, p, id, e)))
            APR_ARRAY_PUSH(*records, apr_table_t *) = t;
        else if (*e) {
            freeReplyObject(ids);
            return failed(p, e, err);
        }
    }
    freeReplyObject(ids);
    return APR_SUCCESS;
}

static apr_status_t idgw_unsettled_claim(apr_pool_t *p, const char *id, const char *claimer,
                                         const char **err)
{
    long long n = 0;
    apr_status_t rv = eval_record(p, CLAIM, id, claimer, NULL, NULL, NULL, NULL, &n, err);

    return rv != APR_SUCCESS ? rv : n == 1 ? APR_SUCCESS : APR_EBUSY;
}

static apr_status_t idgw_unsettled_release(apr_pool_t *p, const char *id, const char *claimer,
                                           const char **err)
{
    long long n = 0;
    apr_status_t rv = eval_record(p, RELEASE, id, claimer, NULL, NULL, NULL, NULL, &n, err);

    return rv != APR_SUCCESS ? rv : n == 1 ? APR_SUCCESS : APR_EBUSY;
}

/* After the record: out of the open indexes, into the settled one (dropping
 * what has aged out there), counted by outcome, as idgw-reconcile does. */
static apr_status_t move_indexes(apr_pool_t *p, const char *id, const char *idm,
                                 const char *outcome, long long at, const char **err)
{
    char e[ERR_MAX] = "";
    const char *now = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)at);
    const char *aged = apr_psprintf(p, "(%" APR_INT64_T_FMT,
                                    (apr_int64_t)at - apr_atoi64(SETTLED_KEEP_MS));
    idgw_redis_conn *conn;
    redisReply *r;

    if (conn_of(p, &conn, e) != APR_SUCCESS)
        return failed(p, e, err);
#define STEP(...) do { if (!(r = cmd(p, conn, e, __VA_ARGS__, NULL))) return failed(p, e, err); \
                       freeReplyObject(r); } while (0)
    STEP("ZREM", index_key(p, "unsettled"), id);
    STEP("ZADD", index_key(p, "settled"), now, id);
    STEP("ZREMRANGEBYSCORE", index_key(p, "settled"), "-inf", aged);
    STEP("HINCRBY", index_key(p, "unsettled:count"), outcome, "1");
    if (idm && *idm)
        STEP("SREM", idgw_unsettled_chip_key(p, idm), id);
#undef STEP
    return APR_SUCCESS;
}

static apr_status_t idgw_unsettled_settle(apr_pool_t *p, const char *id, const char *idm,
                                          const char *claimer, const char *outcome,
                                          const char *by, const char *note, const char **err)
{
    long long at = 0;
    apr_status_t rv = eval_record(p, SETTLE, id, claimer, outcome, by, note ? note : "",
                                  SETTLED_KEEP_MS, &at, err);

    if (rv != APR_SUCCESS)
        return rv;
    if (at == 0)
        return APR_EBUSY;
    /* settled: only the indexes lag (list shows it with its outcome) */
    return move_indexes(p, id, idm, outcome, at, err) == APR_SUCCESS ? APR_SUCCESS
                                                                     : APR_INCOMPLETE;
}

void idgw_session_settle_register(void)
{
    APR_REGISTER_OPTIONAL_FN(idgw_unsettled_of_chip);
    APR_REGISTER_OPTIONAL_FN(idgw_unsettled_claim);
    APR_REGISTER_OPTIONAL_FN(idgw_unsettled_release);
    APR_REGISTER_OPTIONAL_FN(idgw_unsettled_settle);
}
