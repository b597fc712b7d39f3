/*
 * idgw_cluster.h - scripts on a Redis Cluster through hiredis 0.14 (which
 * knows nothing of clusters): the per-child router.
 *
 *   - the slot map comes from CLUSTER SLOTS asked of a known master or a
 *     seed node (AUTH as configured, idgw_redis_connect); it is asked again
 *     after a connection to a master failed or a slot had no owner, at most
 *     once per IDGW_CLUSTER_REFRESH_GAP (an outage must not turn every
 *     request into a round of connects), by one thread at a time (the others
 *     go on with the map they have);
 *   - one idgw_redis_pool per master and child, made the first time the
 *     master is named and kept (a master that failed keeps its pool: its
 *     breaker makes the next tries fail fast until the map forgets it);
 *     once 128 masters are known, a new one takes the place of one the map
 *     no longer names, whose pool is retired (its connections closed);
 *   - MOVED: the slot is re-pointed at once (the reply is authoritative) and
 *     the command sent there (the script did not run);
 *   - ASK: ASKING then the command on the named node, once;
 *   - TRYAGAIN (multi-key command during a migration): a few tries with a
 *     short back-off;
 *   - CLUSTERDOWN: no retry, the call is unavailable;
 *   - a connection lost after the command was sent is LOST, never retried:
 *     the script may have run (its writes are the caller's to judge);
 *   - WAIT (call->wait_replicas): pipelined behind the script on the same
 *     connection to the slot's master, on every try (a redirected or
 *     reloaded script is confirmed on the node that ran it).
 *
 * A request's connections are tied to its pool (idgw_redis_pool_acquire_for):
 * one per master it touched, released by the pool's cleanup.
 *
 * Usage, several slots in one round trip:
 *     idgw_cluster_call calls[2] = { { .slot = s1, .script = &sc, .argc = n1, ... },
 *                                    { .slot = s2, ... } };
 *     idgw_cluster_run(cl, r->pool, calls, 2);
 *     calls[i].outcome, calls[i].reply (freeReplyObject), calls[i].err
 */
#ifndef IDGW_CLUSTER_H
#define IDGW_CLUSTER_H

#include "idgw_cluster_map.h"
#include "idgw_redis_pool.h"

#define IDGW_CLUSTER_MAX_SEEDS IDGW_REDIS_MAX_SEEDS
#define IDGW_CLUSTER_REFRESH_GAP apr_time_from_msec(100)
#define IDGW_CLUSTER_MAX_HOPS 5         /* redirections followed by one call */
#define IDGW_CLUSTER_TRYAGAIN_TRIES 3
#define IDGW_CLUSTER_TRYAGAIN_PAUSE apr_time_from_msec(20)   /* times the try number */

typedef struct idgw_cluster idgw_cluster;

/*
 * A router for the seed nodes (base gives timeouts, password, pool size;
 * its server and sentinels are not used).  Nothing is connected until the
 * first call or idgw_cluster_refresh.
 */
apr_status_t idgw_cluster_create(apr_pool_t *p, const idgw_redis_cfg *base,
                                 const idgw_redis_addr *seeds, int nseeds,
                                 const idgw_script *const *scripts, int nscripts,
                                 idgw_cluster **out);

/* Ask for the slot map now (throttled like the automatic refreshes unless force). */
apr_status_t idgw_cluster_refresh(idgw_cluster *cl, int force, char *err, size_t errlen);

typedef enum idgw_cluster_outcome {
    IDGW_CLUSTER_DONE = 0,      /* reply holds the script's answer (maybe an error reply) */
    IDGW_CLUSTER_UNAVAILABLE,   /* not run: no master for the slot, CLUSTERDOWN, too many
                                 * redirections, TRYAGAIN exhausted, no connection */
    IDGW_CLUSTER_LOST           /* sent, then the connection died: it may have run */
} idgw_cluster_outcome;

typedef struct idgw_cluster_call {
    /* in */
    int slot;                   /* idgw_cluster_key_slot of the script's keys */
    const idgw_script *script;  /* for NOSCRIPT: loaded and run again */
    int argc;                   /* EVALSHA argv (idgw_script_args_argv) */
    const char **argv;
    const size_t *lens;
    /* WAIT wait_replicas wait_timeout pipelined behind the script on the
     * same connection (so it counts that master's replicas), on every try:
     * a redirected or reloaded script is confirmed on the node that ran it.
     * 0: not confirmed (set after idgw_cluster_call_prepare, which clears it) */
    int wait_replicas;
    apr_interval_time_t wait_timeout;
    /* out */
    idgw_cluster_outcome outcome;
    redisReply *reply;          /* DONE only; the caller frees it */
    int acked;                  /* DONE with wait_replicas: replicas that acknowledged
                                 * (-1: WAIT got no answer) */
    char err[200];              /* why, when not DONE (never the arguments) */
} idgw_cluster_call;

/*
 * Fill call's input from a script's arguments (idgw_script_args_argv) and
 * the slot of its keys.  -1 when the keys span several slots (Redis would
 * answer CROSSSLOT: a layout error, caught before any round trip) or when
 * there is no key to route by.
 */
int idgw_cluster_call_prepare(idgw_cluster_call *call, const idgw_script_args *a,
                              const idgw_script *s, int parts_header);

/* One script on the master owning call->slot. */
void idgw_cluster_eval(idgw_cluster *cl, apr_pool_t *owner, idgw_cluster_call *call);

/*
 * The same, sharing a round trip with what this child's other threads send
 * that master at the same moment: through the master's batcher
 * (idgw_cluster_slot_batch), as one server's scripts go through the child's.
 * A call with wait_replicas (a batch must not wait), and one the batch
 * could not send or that came back redirected, TRYAGAIN, NOSCRIPT or
 * READONLY (it did not run), goes on as idgw_cluster_eval; a connection
 * lost once the batch was sent is LOST, as there.
 */
void idgw_cluster_eval_shared(idgw_cluster *cl, apr_pool_t *owner, idgw_cluster_call *call);

/*
 * Several scripts, each on its slot's master: all sent, then all read, so
 * the caller waits one round trip; a call redirected (MOVED, ASK, TRYAGAIN,
 * NOSCRIPT) is then finished alone by idgw_cluster_eval.  Calls asking for
 * replicas share one WAIT per master, behind its last script (WAIT counts
 * all the connection's writes): each gets that master's answer in acked.
 */
void idgw_cluster_run(idgw_cluster *cl, apr_pool_t *owner, idgw_cluster_call *calls, int n);

typedef struct idgw_cluster_stats {
    unsigned long refreshes;        /* slot maps installed */
    unsigned long refresh_failures;
    unsigned long moved, ask, tryagain, clusterdown, lost;
    int nodes;                      /* masters ever known (pools made) */
    unsigned long retired;          /* of them, given up for a new one (table full) */
} idgw_cluster_stats;

void idgw_cluster_get_stats(idgw_cluster *cl, idgw_cluster_stats *st);

/*
 * The batcher (idgw_redis_batch.h) of the master the map names for slot,
 * made on first use over that master's pool and kept with it; NULL when
 * the map names none (or the batcher could not be made): use the calls
 * above.  For commands that may go to a master the map no longer names
 * (a read: a MOVED comes back as its error reply, and the caller asks
 * again by idgw_cluster_run, which follows it and corrects the map).
 */
struct idgw_redis_batch;
struct idgw_redis_batch *idgw_cluster_slot_batch(idgw_cluster *cl, int slot);

/* The address of the master the map names for slot (for tests and logs); 0 when none. */
int idgw_cluster_slot_master(idgw_cluster *cl, int slot, idgw_cluster_node_addr *out);

#endif
