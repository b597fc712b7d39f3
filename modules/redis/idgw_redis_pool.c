/*
 * idgw_redis_pool.c - per-child Redis connection pool (see idgw_redis_pool.h).
 */
#include "idgw_redis_pool.h"

#include <apr_reslist.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "idgw_metrics.h"   /* Redis errors, for mod_idgw_status */

#define POOL_CONN_TTL apr_time_from_sec(300)

struct idgw_redis_pool {
    const idgw_redis_cfg *cfg;
    const idgw_script *const *scripts;
    int nscripts;
    apr_reslist_t *list;
    apr_thread_mutex_t *lock;       /* guards everything below */
    apr_time_t breaker_until;
    char last_error[256];
    /* sentinel: the master as last resolved */
    char master_host[IDGW_REDIS_HOST_MAX];
    int master_port;
    int master_known;
    int last_sentinel;
    unsigned long generation;
    unsigned long fail_epoch;       /* bumped whenever Redis failed */
    idgw_redis_pool_stats stats;
    const char *owner_key;          /* user data key of the binding in an owner pool */
    int made;                       /* connections alive (made, not yet destroyed) */
    int retired;                    /* idgw_redis_pool_retire: lend nothing more */
};

/* The connection an owner pool (a request's) holds, released by its cleanup. */
typedef struct owner_binding {
    idgw_redis_pool *pl;
    idgw_redis_conn *conn;          /* NULL when none is held */
} owner_binding;

static void set_error(idgw_redis_pool *pl, const char *msg)
{
    apr_thread_mutex_lock(pl->lock);
    apr_cpystrn(pl->last_error, msg, sizeof(pl->last_error));
    apr_thread_mutex_unlock(pl->lock);
}

static void open_breaker_locked(idgw_redis_pool *pl)
{
    pl->breaker_until = apr_time_now() + pl->cfg->breaker_time;
    /* every pooled connection made before this failure is suspect: PING it first */
    pl->fail_epoch++;
}

/* Which address to connect to; with sentinels resolve when not known. */
static apr_status_t target(idgw_redis_pool *pl, char *host, size_t hostlen, int *port,
                           unsigned long *generation, char *err, size_t errlen)
{
    int first, answered = 0;
    apr_status_t rv;

    if (pl->cfg->nsentinels == 0) {
        apr_cpystrn(host, pl->cfg->server.host, hostlen);
        *port = pl->cfg->server.port;
        *generation = 0;
        return APR_SUCCESS;
    }
    apr_thread_mutex_lock(pl->lock);
    if (pl->master_known) {
        apr_cpystrn(host, pl->master_host, hostlen);
        *port = pl->master_port;
        *generation = pl->generation;
        apr_thread_mutex_unlock(pl->lock);
        return APR_SUCCESS;
    }
    first = pl->last_sentinel;
    pl->stats.resolves++;
    apr_thread_mutex_unlock(pl->lock);

    rv = idgw_redis_sentinel_resolve(pl->cfg, first, host, hostlen, port, &answered,
                                     err, errlen);
    if (rv != APR_SUCCESS)
        return rv;
    apr_thread_mutex_lock(pl->lock);
    apr_cpystrn(pl->master_host, host, sizeof(pl->master_host));
    pl->master_port = *port;
    pl->master_known = 1;
    pl->last_sentinel = answered;
    *generation = ++pl->generation;
    apr_thread_mutex_unlock(pl->lock);
    return APR_SUCCESS;
}

static void forget_master(idgw_redis_pool *pl, unsigned long generation)
{
    if (pl->cfg->nsentinels == 0)
        return;
    apr_thread_mutex_lock(pl->lock);
    if (pl->generation == generation)
        pl->master_known = 0;
    apr_thread_mutex_unlock(pl->lock);
}

static apr_status_t conn_construct(void **res, void *params, apr_pool_t *p)
{
    idgw_redis_pool *pl = params;
    char host[IDGW_REDIS_HOST_MAX], err[256];
    idgw_redis_addr addr;
    unsigned long generation = 0;
    idgw_redis_conn *c = NULL;
    apr_status_t rv;

    rv = target(pl, host, sizeof(host), &addr.port, &generation, err, sizeof(err));
    if (rv == APR_SUCCESS) {
        addr.host = host;
        rv = idgw_redis_connect(pl->cfg, &addr, pl->cfg->nsentinels > 0, pl->scripts,
                                pl->nscripts, &c, err, sizeof(err));
        if (rv != APR_SUCCESS)
            forget_master(pl, generation);
    }
    apr_thread_mutex_lock(pl->lock);
    if (rv == APR_SUCCESS) {
        pl->stats.connects++;
        pl->made++;
        c->generation = generation;
        c->epoch = pl->fail_epoch;
        c->last_used = apr_time_now();
        *res = c;
    } else {
        pl->stats.connect_failures++;
        apr_cpystrn(pl->last_error, err, sizeof(pl->last_error));
        open_breaker_locked(pl);
    }
    apr_thread_mutex_unlock(pl->lock);
    return rv;
}

static apr_status_t conn_destruct(void *res, void *params, apr_pool_t *p)
{
    idgw_redis_pool *pl = params;
    idgw_redis_conn *c = res;

    apr_thread_mutex_lock(pl->lock);
    pl->made--;
    apr_thread_mutex_unlock(pl->lock);

    idgw_redis_close(c);
    free(c);
    return APR_SUCCESS;
}

apr_status_t idgw_redis_pool_create(apr_pool_t *p, const idgw_redis_cfg *cfg,
                                    const idgw_script *const *scripts, int nscripts,
                                    idgw_redis_pool **out)
{
    idgw_redis_pool *pl = apr_pcalloc(p, sizeof(*pl));
    apr_status_t rv;
    int max = cfg->pool_max > 0 ? cfg->pool_max : 1;

    pl->cfg = cfg;
    pl->scripts = scripts;
    pl->nscripts = nscripts;
    pl->owner_key = apr_psprintf(p, "idgw_redis_pool:%pp", (void *)pl);
    rv = apr_thread_mutex_create(&pl->lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS)
        return rv;
    rv = apr_reslist_create(&pl->list, 0, max, max, POOL_CONN_TTL, conn_construct,
                            conn_destruct, pl, p);
    if (rv != APR_SUCCESS)
        return rv;
    /* a thread waits for a free connection no longer than a command may take */
    apr_reslist_timeout_set(pl->list, cfg->command_timeout);
    *out = pl;
    return APR_SUCCESS;
}

/* Why the pool lends nothing now, in one look under its lock (every acquire
 * asks): retired, or its breaker open (counted as a fast failure). */
enum lend_refusal { LEND_OK, LEND_RETIRED, LEND_BREAKER };

static enum lend_refusal lend_refusal(idgw_redis_pool *pl)
{
    enum lend_refusal why = LEND_OK;

    apr_thread_mutex_lock(pl->lock);
    if (pl->retired) {
        why = LEND_RETIRED;
    } else if (apr_time_now() < pl->breaker_until) {
        why = LEND_BREAKER;
        pl->stats.fast_failures++;
    }
    apr_thread_mutex_unlock(pl->lock);
    return why;
}

/*
 * Has the server closed this idle connection (e.g. Redis restarted)?  One
 * non-blocking peek, no round trip: EOF or an error means stale; bytes
 * nobody asked for mean the server said something before closing.
 */
static int peer_closed(idgw_redis_conn *c)
{
    char b;
    ssize_t n;

    if (c->pending)
        return 0;   /* replies of pipelined commands are expected */
    n = recv(c->ctx->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0)
        return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    return 1;
}

/* What the check before lending a pooled connection found. */
enum conn_check {
    CONN_LIVE,
    CONN_CLOSED,    /* found dead without waiting (Redis closed it): free to skip */
    CONN_FAILED     /* a drain or PING failed: that may have cost a timeout */
};

/*
 * PING a connection that sat idle long enough for a server or NAT to drop
 * it, or that was made before Redis last failed (a restart closed it).
 * Connections in steady use are never PINGed: no extra round trip.
 */
static enum conn_check check_conn(idgw_redis_pool *pl, idgw_redis_conn *c)
{
    const char *argv[] = { "PING" };
    size_t lens[] = { 4 };
    redisReply *r;
    unsigned long epoch;
    int ok;

    /* replies of pipelined commands first (they are normally there already),
     * so that the peek below sees what follows them */
    if (c->pending) {
        int n = idgw_redis_drain(c, c->drain_error, sizeof(c->drain_error));

        if (n < 0)
            return CONN_FAILED;
        c->drained_errors += n;
    }
    if (idgw_redis_dead(c) || peer_closed(c))
        return CONN_CLOSED;
    apr_thread_mutex_lock(pl->lock);
    epoch = pl->fail_epoch;
    apr_thread_mutex_unlock(pl->lock);
    if (c->epoch == epoch && apr_time_now() - c->last_used < pl->cfg->idle_check)
        return CONN_LIVE;
    apr_thread_mutex_lock(pl->lock);
    pl->stats.pings++;
    apr_thread_mutex_unlock(pl->lock);
    r = idgw_redis_command(c, 1, argv, lens);
    ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    if (!ok)
        return CONN_FAILED;
    c->epoch = epoch;
    return CONN_LIVE;
}

static void invalidate(idgw_redis_pool *pl, idgw_redis_conn *c, int trip)
{
    int readonly = c->readonly_seen;
    unsigned long generation = c->generation;

    apr_thread_mutex_lock(pl->lock);
    pl->stats.invalidated++;
    if (trip)
        open_breaker_locked(pl);
    apr_thread_mutex_unlock(pl->lock);
    if (trip || readonly)
        forget_master(pl, generation);
    apr_reslist_invalidate(pl->list, c);
}

/*
 * Lends a live connection.  A pooled connection Redis closed (a restart, an
 * idle timeout on its side) is thrown away at the cost of one non-blocking
 * peek, so any number of them are skipped: after a restart every connection
 * a busy child kept is dead, and each would otherwise cost a request its
 * answer.  Checks that may have waited (a drain or PING that failed) are
 * bounded, so a hanging Redis costs a request at most a few timeouts.
 */
#define ACQUIRE_MAX_FAILED_CHECKS 3

/* `first`: a connection already taken from the list (by the owner asking
 * again), checked like a pooled one before anything else is tried. */
static apr_status_t lend(idgw_redis_pool *pl, idgw_redis_conn *first, idgw_redis_conn **out,
                         char *err, size_t errlen)
{
    int failed_checks = 0, closed = 0;

    for (;;) {
        void *res = NULL;
        idgw_redis_conn *c;
        apr_status_t rv;
        enum conn_check found;
        enum lend_refusal why = lend_refusal(pl);

        if (why == LEND_RETIRED) {
            if (first)
                invalidate(pl, first, 0);
            apr_snprintf(err, errlen, "no longer used (a master that left the Cluster's map)");
            return IDGW_REDIS_POOL_RETIRED;
        }
        if (why == LEND_BREAKER) {
            if (first)
                apr_reslist_release(pl->list, first);
            idgw_metrics_count_lookup(IDGW_M_REDIS_ERRORS, "pool", "fail_fast", NULL, 1); /* metrics */
            apr_thread_mutex_lock(pl->lock);
            apr_snprintf(err, errlen, "Redis failed recently (%s); not retrying yet",
                         pl->last_error[0] ? pl->last_error : "no detail");
            apr_thread_mutex_unlock(pl->lock);
            return APR_EAGAIN;
        }
        if (first) {
            res = first;
            first = NULL;
            rv = APR_SUCCESS;
        } else {
            rv = apr_reslist_acquire(pl->list, &res);
        }
        if (rv != APR_SUCCESS) {
            idgw_metrics_count_lookup(IDGW_M_REDIS_ERRORS, "pool",                 /* metrics */
                                      APR_STATUS_IS_TIMEUP(rv) ? "pool_wait" : "connect", NULL, 1);
            apr_thread_mutex_lock(pl->lock);
            if (APR_STATUS_IS_TIMEUP(rv))
                apr_snprintf(err, errlen, "no free Redis connection in time");
            else
                apr_snprintf(err, errlen, "%s", pl->last_error);
            apr_thread_mutex_unlock(pl->lock);
            return rv;
        }
        c = res;
        found = check_conn(pl, c);
        if (found == CONN_LIVE) {
            *out = c;
            return APR_SUCCESS;
        }
        /* a stale connection is not Redis failing: drop it and take another */
        invalidate(pl, c, 0);
        if (found == CONN_FAILED && ++failed_checks >= ACQUIRE_MAX_FAILED_CHECKS)
            break;
        /* every discard shrinks the pool, so this ends with a fresh connection;
         * the bound is only a guard against a server that closes every new one */
        if (found == CONN_CLOSED && ++closed > pl->cfg->pool_max + 1)
            break;
    }
    apr_snprintf(err, errlen, "no live Redis connection (%d failed check(s), %d closed)",
                 failed_checks, closed);
    return APR_EGENERAL;
}

apr_status_t idgw_redis_pool_acquire(idgw_redis_pool *pl, idgw_redis_conn **out,
                                     char *err, size_t errlen)
{
    return lend(pl, NULL, out, err, errlen);
}

/*
 * What giving a connection back does: a dead one (which also opens the
 * breaker), one that saw READONLY or whose master was replaced is destroyed
 * (0); a good one is stamped and may be lent again (1).
 */
static int settle(idgw_redis_pool *pl, idgw_redis_conn *c)
{
    int stale;

    if (idgw_redis_dead(c)) {
        idgw_metrics_count_lookup(IDGW_M_REDIS_ERRORS, "pool", "io", NULL, 1);   /* metrics */
        set_error(pl, c->ctx ? c->ctx->errstr : "connection lost");
        invalidate(pl, c, 1);
        return 0;
    }
    apr_thread_mutex_lock(pl->lock);
    stale = (pl->cfg->nsentinels > 0 && (!pl->master_known || c->generation != pl->generation))
            || pl->retired;
    apr_thread_mutex_unlock(pl->lock);
    if (c->readonly_seen || stale) {
        invalidate(pl, c, 0);
        return 0;
    }
    c->last_used = apr_time_now();
    return 1;
}

void idgw_redis_pool_release(idgw_redis_pool *pl, idgw_redis_conn *c)
{
    if (settle(pl, c))
        apr_reslist_release(pl->list, c);
}

/* The owner pool goes: its connection goes back as by idgw_redis_pool_release. */
static apr_status_t owner_cleanup(void *data)
{
    owner_binding *b = data;

    if (b->conn)
        idgw_redis_pool_release(b->pl, b->conn);
    b->conn = NULL;
    return APR_SUCCESS;
}

/*
 * Asking again is a release followed by an acquire, except that a
 * connection the release would have kept is not put back in the list but
 * checked and lent again at once: one connection per owner, and a dead or
 * READONLY one is still replaced by a fresh one (the callers' retries).
 */
apr_status_t idgw_redis_pool_acquire_for(idgw_redis_pool *pl, apr_pool_t *owner,
                                         idgw_redis_conn **out, char *err, size_t errlen)
{
    owner_binding *b = NULL;
    idgw_redis_conn *held;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&b, pl->owner_key, owner);
    if (!b) {
        b = apr_pcalloc(owner, sizeof(*b));
        b->pl = pl;
        apr_pool_userdata_setn(b, pl->owner_key, NULL, owner);
        apr_pool_cleanup_register(owner, b, owner_cleanup, apr_pool_cleanup_null);
    }
    held = b->conn;
    b->conn = NULL;
    rv = lend(pl, held && settle(pl, held) ? held : NULL, out, err, errlen);
    if (rv == APR_SUCCESS)
        b->conn = *out;
    return rv;
}

void idgw_redis_pool_retire(idgw_redis_pool *pl)
{
    int made, idle, i;

    apr_thread_mutex_lock(pl->lock);
    pl->retired = 1;
    made = pl->made;
    apr_thread_mutex_unlock(pl->lock);
    /* (the list's own lock is never taken under ours: the list calls
     * conn_construct and conn_destruct with its lock held, and they take ours) */
    idle = made - (int)apr_reslist_acquired_count(pl->list);
    /* the idle ones, taken from the list one by one and destroyed (while
     * some are idle the list makes none; bounded should one be made anyway) */
    for (i = 0; i < idle && i <= pl->cfg->pool_max; i++) {
        void *res;

        if (apr_reslist_acquire(pl->list, &res) != APR_SUCCESS)
            break;
        apr_reslist_invalidate(pl->list, res);
    }
}

void idgw_redis_pool_trip(idgw_redis_pool *pl)
{
    apr_thread_mutex_lock(pl->lock);
    open_breaker_locked(pl);
    apr_thread_mutex_unlock(pl->lock);
}

void idgw_redis_pool_get_stats(idgw_redis_pool *pl, idgw_redis_pool_stats *st)
{
    apr_thread_mutex_lock(pl->lock);
    *st = pl->stats;
    apr_thread_mutex_unlock(pl->lock);
}
