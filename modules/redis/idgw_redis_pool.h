/*
 * idgw_redis_pool.h - the per-child pool of Redis connections.
 *
 * Created in child_init (never before fork: no socket is shared between
 * processes).  Each connection is used by one thread at a time.
 *   - check before reuse: a connection the server has closed (seen with a
 *     non-blocking peek, no round trip) is dropped; one idle longer than
 *     idle_check, or made before Redis last failed, is PINGed first; a dead
 *     one is dropped and another taken (PING is safe to retry);
 *   - invalidate on error: a connection that saw an I/O error, a timeout or
 *     READONLY is destroyed on release, never reused;
 *   - circuit breaker: after Redis failed (connect refused, I/O error,
 *     timeout), acquire fails at once for breaker_time, so a Redis outage
 *     costs each request microseconds, not a timeout; the first acquire after
 *     that tries again;
 *   - Sentinel: the master address is cached per child and asked again after
 *     an EOF, a connect failure or READONLY.
 */
#ifndef IDGW_REDIS_POOL_H
#define IDGW_REDIS_POOL_H

#include "idgw_redis.h"

typedef struct idgw_redis_pool idgw_redis_pool;

apr_status_t idgw_redis_pool_create(apr_pool_t *p, const idgw_redis_cfg *cfg,
                                    const idgw_script *const *scripts, int nscripts,
                                    idgw_redis_pool **out);

/*
 * Take a ready connection.  APR_EAGAIN: the breaker is open (Redis failed
 * recently); other errors: no connection could be made (text in err).
 */
apr_status_t idgw_redis_pool_acquire(idgw_redis_pool *pl, idgw_redis_conn **c,
                                     char *err, size_t errlen);

/*
 * Give a connection back.  A dead connection (or one that saw READONLY, or
 * belongs to a master that was replaced) is destroyed; a dead one also opens
 * the breaker and, with sentinels, asks for the master again.
 */
void idgw_redis_pool_release(idgw_redis_pool *pl, idgw_redis_conn *c);

/*
 * Take a ready connection tied to `owner` (a request's pool): the owner's
 * cleanup gives it back as idgw_redis_pool_release would, so nobody writes a
 * release by hand (httpd's ap_dbd_acquire).  An owner holds at most one
 * connection of this pool: asking again lends the same one after the checks
 * a pooled connection gets (pipelined replies read first), or, when the
 * release would have destroyed it (dead, READONLY, old master), a fresh one.
 * The owner must be used by one thread at a time; a thread without a
 * request (the reaper) gives it a subpool it destroys.
 */
apr_status_t idgw_redis_pool_acquire_for(idgw_redis_pool *pl, apr_pool_t *owner,
                                         idgw_redis_conn **c, char *err, size_t errlen);

/* Note that Redis failed without a connection to blame (e.g. a reply said LOADING). */
void idgw_redis_pool_trip(idgw_redis_pool *pl);

/* What acquire answers once the pool is retired. */
#define IDGW_REDIS_POOL_RETIRED (APR_OS_START_USERERR + 4720)

/*
 * The server is no longer used (a Cluster master that left the slot map):
 * its idle connections are closed now, a connection given back later is
 * closed then, and every acquire answers IDGW_REDIS_POOL_RETIRED.  The pool
 * itself stays (a thread may still hold a pointer to it), so it costs its
 * small struct and nothing else.
 */
void idgw_redis_pool_retire(idgw_redis_pool *pl);

/* Counters for tests and status pages. */
typedef struct idgw_redis_pool_stats {
    unsigned long connects;        /* connections made */
    unsigned long connect_failures;
    unsigned long pings;           /* check-before-reuse PINGs */
    unsigned long invalidated;     /* connections dropped after an error */
    unsigned long fast_failures;   /* acquires refused by the breaker */
    unsigned long resolves;        /* sentinel look-ups */
} idgw_redis_pool_stats;

void idgw_redis_pool_get_stats(idgw_redis_pool *pl, idgw_redis_pool_stats *st);

#endif
