/*
 * idgw_session_unsettled.c - the record of an operation left for
 * reconciliation (idgw_unsettled_record in mod_idgw.h; read and settled by
 * scripts/idgw-reconcile, docs/reconcile.md).
 *
 * Two commands, not one script: the record carries its own {id} hash tag
 * (in a Redis Cluster it lands on any slot) and the index is one key.  The
 * record is written first: a record the index misses is still found by
 * `idgw-reconcile list --scan`; an index entry without its record never
 * exists.  A rare event (an abort that could not tell everyone), so the two
 * round trips do not matter.
 */
#include "idgw_session_cfg.h"
#include "idgw_identity.h"
#include "idgw_metrics.h"

#include <apr_strings.h>
#include <http_log.h>
#include <openssl/rand.h>
#include <unistd.h>

APLOG_USE_MODULE(idgw_session);

#define UNSETTLED_ID_BYTES 8
#define MAX_FIELDS 16

typedef struct record {
    const char *argv[2 + 2 * MAX_FIELDS];
    size_t lens[2 + 2 * MAX_FIELDS];
    int argc;
} record;

static void field(record *rec, const char *name, const char *value)
{
    if (!value || !*value)
        return;
    rec->argv[rec->argc] = name;
    rec->lens[rec->argc++] = strlen(name);
    rec->argv[rec->argc] = value;
    rec->lens[rec->argc++] = strlen(value);
}

static const char *node_name(apr_pool_t *p)
{
    char host[256];

    if (gethostname(host, sizeof(host)) != 0)
        return "unknown";
    host[sizeof(host) - 1] = '\0';
    return apr_pstrdup(p, host);
}

redisReply *idgw_unsettled_run(idgw_redis_conn *conn, int argc, const char **argv,
                               const size_t *lens, char *err, size_t errlen)
{
    redisReply *reply = idgw_redis_command(conn, argc, argv, lens);

    if (reply && reply->type != REDIS_REPLY_ERROR)
        return reply;
    apr_snprintf(err, errlen, "%.160s", reply ? reply->str
                 : conn->ctx ? conn->ctx->errstr : "no connection");
    if (reply)
        freeReplyObject(reply);
    return NULL;
}

/* One command whose reply is not needed. */
static int run(idgw_redis_conn *conn, int argc, const char **argv, const size_t *lens,
               char *err, size_t errlen)
{
    redisReply *reply = idgw_unsettled_run(conn, argc, argv, lens, err, errlen);

    if (reply)
        freeReplyObject(reply);
    return reply != NULL;
}

/* Redis Cluster: the record and the indexes lie on several slots; each
 * command goes to its own (the record first, as on one server). */
static apr_status_t cluster_write(apr_pool_t *p, int n, const char **const *argvs,
                                  const size_t *const *lenss, const int *argcs,
                                  char *err, size_t errlen)
{
    int i;

    for (i = 0; i < n; i++) {
        redisReply *reply = idgw_session_cluster_command(p, argcs[i], argvs[i], lenss[i],
                                                         err, errlen);
        int ok = reply && reply->type != REDIS_REPLY_ERROR;

        if (reply && !ok)
            apr_snprintf(err, errlen, "%.160s", reply->str);
        if (reply)
            freeReplyObject(reply);
        if (!ok)
            return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t idgw_unsettled_conn(apr_pool_t *p, idgw_redis_conn **conn, char *err,
                                 size_t errlen)
{
    if (!idgw_g.pool) {
        apr_snprintf(err, errlen, "no Redis pool in this child");
        return APR_EGENERAL;
    }
    return idgw_redis_pool_acquire_for(idgw_g.pool, p, conn, err, errlen);
}

/* The record, its time index, and the chip's index when it names a chip
 * (the gateway settles from there when the phone comes back). */
static apr_status_t write_record(apr_pool_t *p, const char *id, record *rec, const char *idm,
                                 const char *at, char *err, size_t errlen)
{
    const char *prefix = idgw_g.limits.prefix;
    const char *zadd[] = { "ZADD", apr_pstrcat(p, prefix, "unsettled", NULL), at, id };
    size_t zlens[] = { 4, strlen(zadd[1]), strlen(at), strlen(id) };
    const char *sadd[] = { "SADD", idm ? idgw_unsettled_chip_key(p, idm) : "", id };
    size_t slens[] = { 4, strlen(sadd[1]), strlen(id) };
    idgw_redis_conn *conn;
    apr_status_t rv;

    if (idgw_g.cluster) {
        const char **const argvs[3] = { (const char **)rec->argv, zadd, sadd };
        const size_t *const lenss[3] = { rec->lens, zlens, slens };
        const int argcs[3] = { rec->argc, 4, 3 };

        return cluster_write(p, idm ? 3 : 2, argvs, lenss, argcs, err, errlen);
    }
    if ((rv = idgw_unsettled_conn(p, &conn, err, errlen)) != APR_SUCCESS)
        return rv;
    if (!run(conn, rec->argc, rec->argv, rec->lens, err, errlen)
        || !run(conn, 4, zadd, zlens, err, errlen)
        || (idm && !run(conn, 3, sadd, slens, err, errlen)))
        return APR_EGENERAL;
    return APR_SUCCESS;
}

static apr_status_t idgw_unsettled_record(apr_pool_t *p, server_rec *s,
                                          const idgw_unsettled *u)
{
    unsigned char raw[UNSETTLED_ID_BYTES];
    char id[2 * UNSETTLED_ID_BYTES + 1], err[200];
    const char *at = apr_psprintf(p, "%" APR_TIME_T_FMT, apr_time_as_msec(apr_time_now()));
    record rec = { .argc = 2 };
    apr_status_t rv;

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return APR_EGENERAL;
    idgw_hex(raw, sizeof(raw), id);
    rec.argv[0] = "HSET";
    rec.lens[0] = 4;
    rec.argv[1] = apr_pstrcat(p, idgw_g.limits.prefix, "unsettled:{", id, "}", NULL);
    rec.lens[1] = strlen(rec.argv[1]);
    field(&rec, "kind", u->kind);
    field(&rec, "op", u->op);
    field(&rec, "step", u->step);
    field(&rec, "cid", u->correlation_id);
    field(&rec, "terminal", u->terminal_id);
    field(&rec, "idm", u->idm);
    field(&rec, "card", u->card);
    field(&rec, "slot", u->slot);
    field(&rec, "source", u->source);
    field(&rec, "member", u->member);
    field(&rec, "issuer", u->issuer);
    field(&rec, "last4", u->last4);
    field(&rec, "chip", u->chip ? u->chip : "unknown");
    field(&rec, "detail", u->detail);
    field(&rec, "at", at);
    field(&rec, "node", node_name(p));
    rv = write_record(p, id, &rec, u->idm && *u->idm ? u->idm : NULL, at, err, sizeof(err));
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "IDGW0451: unsettled %s of %s (correlation "
                     "id %s) not recorded: %s; reconcile from this log line", u->kind,
                     u->op ? u->op : "-", u->correlation_id ? u->correlation_id : "-", err);
        return rv;
    }
    idgw_metrics_count_lookup(IDGW_M_UNSETTLED, u->kind, NULL, NULL, 1);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "IDGW0450: unsettled %s recorded as %s: "
                 "%s/%s, chip %s, correlation id %s, terminal %s",
                 u->kind, id, u->op ? u->op : "-", u->step ? u->step : "-",
                 u->chip ? u->chip : "unknown", u->correlation_id ? u->correlation_id : "-",
                 u->terminal_id ? u->terminal_id : "-");
    return APR_SUCCESS;
}

/* <prefix>unsettled:chip:{IDM}, the IDm in upper case as records carry it */
const char *idgw_unsettled_chip_key(apr_pool_t *p, const char *idm)
{
    char *up = apr_pstrdup(p, idm);

    for (char *c = up; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    return apr_pstrcat(p, idgw_g.limits.prefix, "unsettled:chip:{", up, "}", NULL);
}

void idgw_session_unsettled_register(void)
{
    APR_REGISTER_OPTIONAL_FN(idgw_unsettled_record);
}

apr_status_t idgw_session_unsettled_rollback(request_rec *r, const idgw_session_request *rq,
                                             const char *correlation_id)
{
    idgw_unsettled u = {
        .kind = "rolled-back", .op = idgw_op_name(rq->op), .step = idgw_step_name(rq->step),
        .correlation_id = correlation_id, .terminal_id = rq->terminal_id, .idm = rq->idm,
        .detail = "session rolled back (IDGW-SEQ-007)"
    };

    return idgw_unsettled_record(r->pool, r->server, &u);
}
