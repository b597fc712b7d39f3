/*
 * idgw_redis_batch.h - the commands a child's threads send at the same
 * moment leave together, on one pooled connection.
 *
 * Why: what one round trip costs Redis (an event-loop wake-up, a read and a
 * write system call, the TCP stack's work on both) is many times what a
 * small command costs: on the 2-core development VM a PING costs Redis
 * 13.7 us of CPU per round trip with 32 clients, 1.0-1.9 us when 8-16 come
 * in one read (redis-benchmark -P, docs/performance.md).  A child's threads
 * that ask Redis at once each paid that on their own connection.
 *
 * How: the first thread to ask while no batch is on the wire leads one: it
 * takes a connection from the pool, writes every command queued so far in
 * one write, reads the replies in order and hands each thread its own.
 * Threads that ask meanwhile queue their commands for the next batch, which
 * the first of them leads as soon as the wire is free.  A thread alone waits
 * exactly as it would on its own connection; under load one round trip
 * serves every request that arrived during the last one.  (Flat combining;
 * the same idea as the client-side auto-pipelining of ioredis or
 * StackExchange.Redis's multiplexer.)
 *
 * What may go through it: commands that never block the connection (no
 * WAIT, no blocking pops), because a batch waits for its slowest command.
 * A script call's NOSCRIPT or READONLY comes back as its reply (the script
 * did not run or wrote nothing): the caller runs it again by the pool.
 * A failure of the connection fails every caller of the batch (none is
 * sent again: whether Redis ran them is not known; read-only callers may
 * ask again by another path).
 */
#ifndef IDGW_REDIS_BATCH_H
#define IDGW_REDIS_BATCH_H

#include "idgw_redis_pool.h"

typedef struct idgw_redis_batch idgw_redis_batch;

/* One command of a caller. */
typedef struct idgw_redis_batch_cmd {
    int argc;
    const char **argv;
    const size_t *lens;
} idgw_redis_batch_cmd;

/* What the connection that carried a caller's commands told about its server. */
typedef struct idgw_redis_batch_origin {
    char replid[41], replid2[41];  /* the master's replication history ("": unknown) */
    int batch_callers;             /* callers whose commands shared the round trip */
} idgw_redis_batch_origin;

/* A batcher over pl, made in child_init from the child's pool p. */
apr_status_t idgw_redis_batch_create(apr_pool_t *p, idgw_redis_pool *pl,
                                     idgw_redis_batch **out);

/* The commands were made for another master's history: not sent. */
#define IDGW_REDIS_BATCH_OTHER_HISTORY (APR_OS_START_USERERR + 4711)
/* The connection failed once the commands were being written: they may have
 * run (any other failure status: nothing was sent). */
#define IDGW_REDIS_BATCH_LOST (APR_OS_START_USERERR + 4712)

/*
 * Send n commands (kept together and in order) and wait for their replies:
 * APR_SUCCESS with replies[0..n-1] set (the caller frees them; error replies
 * included).  Otherwise every reply is NULL and err says why: APR_EAGAIN
 * when the pool's breaker is open, IDGW_REDIS_BATCH_OTHER_HISTORY when
 * expect_replid (the master's replid the commands carry, e.g. the session
 * script's history rule; NULL or "": any) is not the replid of the
 * connection the batch took (nothing sent; origin tells the one it met:
 * make the commands again), IDGW_REDIS_BATCH_LOST when the connection
 * failed during the batch (the commands may have run), another status when
 * no connection could be had (nothing sent).
 */
apr_status_t idgw_redis_batch_call(idgw_redis_batch *b, int n, const idgw_redis_batch_cmd *cmds,
                                   const char *expect_replid, redisReply **replies,
                                   idgw_redis_batch_origin *origin, char *err, size_t errlen);

/* The history (INFO replication's master_replid, master_replid2) of the
 * connection the last batch used: 1, or 0 when none is known yet. */
int idgw_redis_batch_history(idgw_redis_batch *b, char replid[41], char replid2[41]);

/* Counters for tests and status pages. */
typedef struct idgw_redis_batch_stats {
    unsigned long batches;         /* round trips */
    unsigned long callers;         /* calls served by them */
    unsigned long largest;         /* the most callers one round trip served */
    unsigned long failed;          /* batches whose connection failed */
} idgw_redis_batch_stats;

void idgw_redis_batch_get_stats(idgw_redis_batch *b, idgw_redis_batch_stats *st);

#endif
