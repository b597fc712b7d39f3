/* idgw_acl_sync: how a child's copy of the lists (idgw_acl_cache) follows
 * Redis without any request reading the lists' version.
 *
 *   - every change of the lists bumps their version and PUBLISHes it on the
 *     channel named like the version key (idgw_acl_script.h);
 *   - each child runs one listener thread: it SUBSCRIBEs to that channel and
 *     runs LISTS (one round trip: the version, and the lists only when they
 *     changed) when it connects, when a change is announced, and at least
 *     every poll interval (max_age / 2), so a message lost with a connection
 *     or a failover delays a change by one interval at most;
 *   - the copy counts as confirmed at the time the last LISTS that succeeded
 *     was sent.  A request that finds it older than max_age (the listener is
 *     cut off, or has not run yet in a new child) runs LISTS itself before
 *     the lists decide anything (idgw_acl_sync_ensure), one thread at a time:
 *     whoever waited uses what the first one read.  When that fails, the
 *     request is decided as when Redis is down (IdgwAclRedisDown).
 *
 * So a ban, an unban or a whitelist change reaches every child within a
 * round trip or two of the change while the listener is connected, and
 * within max_age whatever happens; the steady request carries neither the
 * version nor the twelve list keys.
 *
 * Log ids: IDGW0331, 0332, 0334 (the snapshot), 0335-0339 (the listener).
 */
#ifndef IDGW_ACL_SYNC_H
#define IDGW_ACL_SYNC_H

#include <httpd.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "idgw_acl_cache.h"
#include "idgw_metrics.h"
#include "idgw_redis_pool.h"
#include "idgw_script.h"

typedef struct idgw_acl_sync idgw_acl_sync;

/* Made in child_init; runs LISTS (script) through pool, whose Redis cfg
 * also names where the listener subscribes, and counts each in
 * idgw_acl_lists_syncs_total (metrics: mod_idgw_status's functions, all
 * no-ops when it is not loaded).  Nothing is connected yet. */
apr_status_t idgw_acl_sync_create(apr_pool_t *pchild, server_rec *s, idgw_acl_cache *cache,
                                  idgw_redis_pool *pool, const idgw_redis_cfg *cfg,
                                  const idgw_script *script, const char *prefix,
                                  apr_interval_time_t max_age,
                                  const idgw_metrics_fns *metrics, idgw_acl_sync **out);

/* On a Redis Cluster: LISTS and the polls' GET go through the session
 * module's router (mod_idgw.h: idgw_session_cluster_eval_script and
 * idgw_session_cluster_key_command), and the listener subscribes at a seed
 * node (the Cluster bus carries PUBLISH to every node). */
typedef struct redisReply *idgw_acl_cluster_script_fn(apr_pool_t *owner, const idgw_script *s,
                                                     idgw_script_args *a, char *err,
                                                     size_t errlen);
typedef struct redisReply *idgw_acl_cluster_command_fn(apr_pool_t *owner, int key_arg, int argc,
                                                      const char **argv, const size_t *lens,
                                                      char *err, size_t errlen);
void idgw_acl_sync_use_cluster(idgw_acl_sync *sy, idgw_acl_cluster_script_fn *script,
                               idgw_acl_cluster_command_fn *command);

/* Starts the listener thread (stopped and joined by pchild's pre-cleanup).
 * Without it the copy is still kept within max_age by the requests. */
apr_status_t idgw_acl_sync_listen(idgw_acl_sync *sy, apr_pool_t *pchild);

/* APR_SUCCESS when the copy was confirmed within max_age, or has just been
 * reloaded by this call; else why not in err.  owner: the pool a Redis
 * connection may be tied to (the request's). */
apr_status_t idgw_acl_sync_ensure(idgw_acl_sync *sy, apr_pool_t *owner, char *err,
                                  size_t errlen);

/* Reloads now (unless a LISTS sent after this call began has): after this
 * child wrote a ban itself, its next request must see it, whichever thread
 * serves it. */
apr_status_t idgw_acl_sync_refresh(idgw_acl_sync *sy, apr_pool_t *owner, char *err,
                                   size_t errlen);

/* How long ago the copy was last confirmed (-1: never). */
apr_interval_time_t idgw_acl_sync_age(idgw_acl_sync *sy);

typedef struct {
    unsigned long syncs;           /* LISTS run */
    unsigned long reloads;         /* ... that brought a new snapshot */
    unsigned long failures;        /* ... that failed */
    unsigned long by_requests;     /* ... run by a request (the copy was too old) */
    unsigned long messages;        /* change announcements received */
    unsigned long subscribes;      /* listener (re)subscriptions */
} idgw_acl_sync_stats;

void idgw_acl_sync_get_stats(idgw_acl_sync *sy, idgw_acl_sync_stats *st);

#endif /* IDGW_ACL_SYNC_H */
