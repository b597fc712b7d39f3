/*
 * idgw_redis_history.c - which replication history a connection's master is
 * on: master_replid and master_replid2 of INFO replication, read once per
 * connection (at connect, so after every reconnect and failover) and never
 * per request.  The session script records the replid a session was last
 * written under and compares it with these (issue 14: detected rollback).
 */
#include "idgw_redis.h"

#include <string.h>

/* Copy the value of "name:" in INFO text into out (a 40-hex id), or "". */
static void info_field(const char *info, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name), i = 0;
    const char *p = info;

    out[0] = '\0';
    while ((p = strstr(p, name)) != NULL) {
        if ((p == info || p[-1] == '\n') && p[nlen] == ':')
            break;
        p += nlen;
    }
    if (!p)
        return;
    for (p += nlen + 1; i + 1 < outlen && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
         p++)
        out[i++] = *p;
    out[i] = '\0';
}

void idgw_redis_read_history(idgw_redis_conn *c)
{
    const char *argv[] = { "INFO", "replication" };
    size_t lens[] = { 4, 11 };
    /* hiredis directly: this runs inside idgw_redis_connect, before the
     * connection is handed out */
    redisReply *r = c->ctx ? redisCommandArgv(c->ctx, 2, argv, lens) : NULL;

    c->replid[0] = c->replid2[0] = '\0';
    if (r && r->type == REDIS_REPLY_STRING) {
        info_field(r->str, "master_replid", c->replid, sizeof(c->replid));
        info_field(r->str, "master_replid2", c->replid2, sizeof(c->replid2));
        /* an all-zero replid2 means "no earlier history": it must match nothing */
        if (strspn(c->replid2, "0") == strlen(c->replid2))
            c->replid2[0] = '\0';
    }
    if (r)
        freeReplyObject(r);
}
