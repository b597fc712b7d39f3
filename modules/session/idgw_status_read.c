/*
 * idgw_status_read.c - the status read's commands and its judgement (see
 * idgw_status_read.h; the rules mirror the status branch of the session
 * core in idgw_lua_session.c, and test_session_script checks both agree).
 */
#include "idgw_status_read.h"

#include <stdlib.h>
#include <string.h>

static const char *const fields[IDGW_SR_NFIELDS] = {
    [IDGW_SR_ST] = "st", [IDGW_SR_SEQ] = "seq", [IDGW_SR_TID] = "tid",
    [IDGW_SR_IDM] = "idm", [IDGW_SR_ADDR] = "addr", [IDGW_SR_DL] = "dl",
    [IDGW_SR_NR] = "nr", [IDGW_SR_CT] = "ct", [IDGW_SR_AT] = "at",
    [IDGW_SR_CID] = "cid", [IDGW_SR_RID] = "rid"
};

void idgw_status_read_cmds_make(apr_pool_t *p, const char *prefix, const char *sid,
                                idgw_status_read_cmds *cmds)
{
    int i;

    cmds->hmget[0] = "HMGET";
    cmds->hmget[1] = idgw_key_session(p, prefix, sid);
    for (i = 0; i < IDGW_SR_NFIELDS; i++)
        cmds->hmget[2 + i] = fields[i];
    for (i = 0; i < 2 + IDGW_SR_NFIELDS; i++)
        cmds->hmget_lens[i] = strlen(cmds->hmget[i]);
    cmds->time[0] = "TIME";
    cmds->time_lens[0] = 4;
}

void idgw_status_read_batch_cmds(idgw_status_read_cmds *cmds, idgw_redis_batch_cmd bc[2])
{
    bc[0].argc = 2 + IDGW_SR_NFIELDS;
    bc[0].argv = cmds->hmget;
    bc[0].lens = cmds->hmget_lens;
    bc[1].argc = 1;
    bc[1].argv = cmds->time;
    bc[1].lens = cmds->time_lens;
}

/* A field as a string (NULL: absent). */
static const char *field(const redisReply *hm, int i)
{
    const redisReply *f = hm->element[i];

    return f->type == REDIS_REPLY_STRING ? f->str : NULL;
}

static int same(const char *stored, const char *asked)
{
    return stored && asked && strcmp(stored, asked) == 0;
}

/* A decimal integer as Lua's tonumber would take it from what the core wrote. */
static int integer(const char *s, apr_int64_t *v)
{
    char *end;

    if (!s || !*s)
        return 0;
    *v = (apr_int64_t)strtoll(s, &end, 10);
    return *end == '\0';
}

/* Redis's clock in ms, as the core's now_ms. */
static int redis_now_ms(const redisReply *tm, apr_int64_t *now)
{
    apr_int64_t sec, usec;

    if (!tm || tm->type != REDIS_REPLY_ARRAY || tm->elements != 2
        || tm->element[0]->type != REDIS_REPLY_STRING
        || tm->element[1]->type != REDIS_REPLY_STRING
        || !integer(tm->element[0]->str, &sec) || !integer(tm->element[1]->str, &usec))
        return 0;
    *now = sec * 1000 + usec / 1000;
    return 1;
}

/* The core's other_history: written under neither of this master's ids. */
static int other_history(const char *rid, const char *replid, const char *replid2)
{
    return replid && *replid && rid && *rid && strcmp(rid, replid) != 0
           && !(replid2 && strcmp(rid, replid2) == 0);
}

int idgw_status_read_judge(const redisReply *hm, const redisReply *tm,
                           const idgw_session_request *rq, const idgw_session_limits *lim,
                           const char *replid, const char *replid2, idgw_session_result *out)
{
    const char *st, *at, *cid;
    apr_int64_t now, dl, seq, nr, ct, attempt = 0;
    int amis;

    if (!hm || hm->type != REDIS_REPLY_ARRAY || hm->elements != IDGW_SR_NFIELDS
        || !redis_now_ms(tm, &now))
        return 0;
    st = field(hm, IDGW_SR_ST);
    /* unknown, dead or closed: the script answers (and strikes) */
    if (!st || !strcmp(st, "dead") || !strcmp(st, "closed"))
        return 0;
    if (!same(field(hm, IDGW_SR_TID), rq->terminal_id) || !same(field(hm, IDGW_SR_IDM), rq->idm))
        return 0;
    amis = !same(field(hm, IDGW_SR_ADDR), rq->client_addr);
    if (amis && lim->addr_policy == IDGW_ADDR_POLICY_ENFORCE)
        return 0;
    if (!integer(field(hm, IDGW_SR_DL), &dl) || now >= dl)
        return 0;
    if (other_history(field(hm, IDGW_SR_RID), replid, replid2))
        return 0;
    at = field(hm, IDGW_SR_AT);
    cid = field(hm, IDGW_SR_CID);
    if (!integer(field(hm, IDGW_SR_SEQ), &seq) || !integer(field(hm, IDGW_SR_NR), &nr)
        || !integer(field(hm, IDGW_SR_CT), &ct) || (at && !integer(at, &attempt)))
        return 0;
    memset(out, 0, sizeof(*out));
    if (!idgw_state_parse(st, &out->from))
        return 0;
    out->to = out->from;
    out->outcome = IDGW_SESSION_ACCEPTED;
    out->kind = IDGW_ACCEPT_STATUS;
    out->seq = seq;
    out->relays = (int)nr;
    out->created_ms = ct;
    out->deadline_ms = dl;
    out->addr_mismatch = amis;
    out->attempt = attempt;
    out->correlation_id = cid ? cid : "";
    return 1;
}
