/*
 * idgw_redis_sentinel.c - find the current master through Redis Sentinel.
 *
 * Each sentinel is asked in turn, starting with the one that answered last
 * time; the first well-formed answer wins.  The caller connects to that
 * address and checks ROLE (a sentinel may be behind a failover), and asks
 * again whenever the master connection ends (EOF) or answers READONLY.
 */
#include "idgw_redis.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const redisReply *r, int *port)
{
    char *end;
    long v;

    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 5)
        return 0;
    v = strtol(r->str, &end, 10);
    if (*end || v < 1 || v > 65535)
        return 0;
    *port = (int)v;
    return 1;
}

static int ask_one(const idgw_redis_cfg *cfg, const idgw_redis_addr *s, char *host,
                   size_t hostlen, int *port, char *err, size_t errlen)
{
    struct timeval ctv = { (long)apr_time_sec(cfg->connect_timeout),
                           (long)apr_time_usec(cfg->connect_timeout) };
    struct timeval ctv2 = { (long)apr_time_sec(cfg->command_timeout),
                            (long)apr_time_usec(cfg->command_timeout) };
    const char *argv[] = { "SENTINEL", "get-master-addr-by-name", cfg->master_name };
    size_t lens[] = { 8, 23, strlen(cfg->master_name) };
    redisContext *c = redisConnectWithTimeout(s->host, s->port, ctv);
    redisReply *r = NULL;
    int ok = 0;

    if (!c || c->err) {
        apr_snprintf(err, errlen, "sentinel %s:%d: %s", s->host, s->port,
                     c ? c->errstr : "out of memory");
    } else if (redisSetTimeout(c, ctv2) != REDIS_OK
               || !(r = redisCommandArgv(c, 3, argv, lens))) {
        apr_snprintf(err, errlen, "sentinel %s:%d: %s", s->host, s->port, c->errstr);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
               || r->element[0]->type != REDIS_REPLY_STRING
               || r->element[0]->len == 0 || r->element[0]->len >= hostlen
               || !parse_port(r->element[1], port)) {
        apr_snprintf(err, errlen, "sentinel %s:%d does not know master '%s'",
                     s->host, s->port, cfg->master_name);
    } else {
        memcpy(host, r->element[0]->str, r->element[0]->len);
        host[r->element[0]->len] = '\0';
        ok = 1;
    }
    if (r)
        freeReplyObject(r);
    if (c)
        redisFree(c);
    return ok;
}

apr_status_t idgw_redis_sentinel_resolve(const idgw_redis_cfg *cfg, int first,
                                         char *host, size_t hostlen, int *port,
                                         int *answered_by, char *err, size_t errlen)
{
    int i;

    for (i = 0; i < cfg->nsentinels; i++) {
        int idx = (first + i) % cfg->nsentinels;

        if (ask_one(cfg, &cfg->sentinels[idx], host, hostlen, port, err, errlen)) {
            *answered_by = idx;
            return APR_SUCCESS;
        }
    }
    return APR_EGENERAL;
}
