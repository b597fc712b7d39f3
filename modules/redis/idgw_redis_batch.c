/*
 * idgw_redis_batch.c - a child's concurrent commands in one round trip (see
 * idgw_redis_batch.h for why and what may go through it).
 *
 * The state under the lock: the callers queued for the next batch (each
 * with its commands already in the wire format), whether a batch is on the
 * wire, and the history of the connection last used.  Only the leader of a
 * batch touches its connection, and it does so without the lock, so callers keep queueing
 * while it waits for Redis.  Each caller sleeps on its own condition
 * variable: it is woken when its replies are in, or to lead the next batch.
 */
#include "idgw_redis_batch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "idgw_metrics.h"

typedef struct waiter {
    struct waiter *next;
    const char *wire;              /* the caller's commands in the wire format */
    size_t len;
    const char *expect;            /* the history the commands were made for (NULL: any) */
    int n;
    redisReply **replies;
    idgw_redis_batch_origin *origin;
    char *err;
    size_t errlen;
    apr_status_t rv;
    int done;
    pthread_cond_t wake;
} waiter;

struct idgw_redis_batch {
    idgw_redis_pool *pool;
    pthread_mutex_t lock;
    waiter *head, *tail;           /* callers queued for the next batch */
    char replid[41], replid2[41];  /* the history of the connection last used ("": none yet) */
    int on_wire;                   /* a leader is talking to Redis */
    idgw_redis_batch_stats stats;
};

static apr_status_t destroy(void *data)
{
    idgw_redis_batch *b = data;

    pthread_mutex_destroy(&b->lock);
    return APR_SUCCESS;
}

apr_status_t idgw_redis_batch_create(apr_pool_t *p, idgw_redis_pool *pl,
                                     idgw_redis_batch **out)
{
    idgw_redis_batch *b = apr_pcalloc(p, sizeof(*b));

    b->pool = pl;
    if (pthread_mutex_init(&b->lock, NULL) != 0)
        return APR_ENOMEM;
    apr_pool_cleanup_register(p, b, destroy, apr_pool_cleanup_null);
    *out = b;
    return APR_SUCCESS;
}

static void fail_waiter(waiter *w, apr_status_t rv, const char *why)
{
    int i;

    for (i = 0; i < w->n; i++) {
        if (w->replies[i])
            freeReplyObject(w->replies[i]);
        w->replies[i] = NULL;
    }
    w->rv = rv;
    apr_cpystrn(w->err, why, w->errlen);
}

/* The replies of one batch, in the order its callers queued their commands.
 * A reply READONLY marks the connection, so the pool replaces it and asks
 * Sentinel for the master again on release. */
static int read_replies(idgw_redis_conn *c, waiter *batch)
{
    waiter *w;
    int i;

    for (w = batch; w; w = w->next) {
        if (w->rv != APR_SUCCESS)
            continue;   /* not sent: made for another history */
        for (i = 0; i < w->n; i++) {
            void *reply = NULL;

            if (redisGetReply(c->ctx, &reply) != REDIS_OK || !reply)
                return 0;
            w->replies[i] = reply;
            if (idgw_redis_classify(reply) == IDGW_REDIS_READONLY)
                c->readonly_seen = 1;
        }
        apr_cpystrn(w->origin->replid, c->replid, sizeof(w->origin->replid));
        apr_cpystrn(w->origin->replid2, c->replid2, sizeof(w->origin->replid2));
    }
    return 1;
}

/* The callers' commands onto the connection's output buffer; those made for
 * another master's history are left out (IDGW_REDIS_BATCH_OTHER_HISTORY).
 * Returns how many callers were queued, -1 on failure. */
static int append_batch(idgw_redis_conn *c, waiter *batch)
{
    waiter *w;
    int sent = 0;

    for (w = batch; w; w = w->next) {
        if (w->expect && *w->expect && strcmp(w->expect, c->replid) != 0) {
            w->rv = IDGW_REDIS_BATCH_OTHER_HISTORY;
            apr_cpystrn(w->err, "the connection's master has another history", w->errlen);
            apr_cpystrn(w->origin->replid, c->replid, sizeof(w->origin->replid));
            apr_cpystrn(w->origin->replid2, c->replid2, sizeof(w->origin->replid2));
            continue;
        }
        if (redisAppendFormattedCommand(c->ctx, w->wire, w->len) != REDIS_OK)
            return -1;
        sent++;
    }
    return sent;
}

/* One round trip for the whole batch: write it, read every reply. */
static apr_status_t send_batch(idgw_redis_batch *b, waiter *batch, char *err, size_t errlen)
{
    idgw_redis_conn *c;
    apr_status_t rv = idgw_redis_pool_acquire(b->pool, &c, err, errlen);
    int done = 0, sent = 0;

    /* (the pool lends a connection with the replies of commands pipelined
     * on it earlier already read: check_conn) */
    if (rv != APR_SUCCESS)
        return rv;
    /* from here on a failure may leave the commands run or not: LOST */
    if ((sent = append_batch(c, batch)) < 0)
        rv = IDGW_REDIS_BATCH_LOST;
    while (rv == APR_SUCCESS && sent > 0 && !done) {
        if (redisBufferWrite(c->ctx, &done) != REDIS_OK)
            rv = IDGW_REDIS_BATCH_LOST;
    }
    if (rv == APR_SUCCESS && sent > 0 && !read_replies(c, batch))
        rv = IDGW_REDIS_BATCH_LOST;
    if (rv != APR_SUCCESS)
        apr_snprintf(err, errlen, "Redis connection failed during a batch: %s",
                     c->ctx && c->ctx->errstr[0] ? c->ctx->errstr : "write failed");
    else if (c->replid[0]) {
        pthread_mutex_lock(&b->lock);
        apr_cpystrn(b->replid, c->replid, sizeof(b->replid));
        apr_cpystrn(b->replid2, c->replid2, sizeof(b->replid2));
        pthread_mutex_unlock(&b->lock);
    }
    idgw_redis_pool_release(b->pool, c);
    return rv;
}

/* Lead one batch: everything queued so far.  Called and returns with the
 * lock held; drops it while talking to Redis. */
static void lead(idgw_redis_batch *b)
{
    waiter *batch = b->head, *w;
    unsigned long callers = 0;
    char err[300];
    apr_status_t rv;

    b->head = b->tail = NULL;
    b->on_wire = 1;
    pthread_mutex_unlock(&b->lock);

    err[0] = '\0';
    rv = send_batch(b, batch, err, sizeof(err));

    for (w = batch; w; w = w->next)
        callers++;
    idgw_metrics_count_lookup(IDGW_M_REDIS_BATCH, "round_trips", NULL, NULL, 1);  /* metrics */
    idgw_metrics_count_lookup(IDGW_M_REDIS_BATCH, "calls", NULL, NULL, callers);  /* metrics */
    pthread_mutex_lock(&b->lock);
    /* every caller of the batch sleeps on this lock until it is dropped,
     * so their waiters stay valid through the loop */
    for (w = batch; w; w = w->next) {
        if (rv != APR_SUCCESS && w->rv == APR_SUCCESS)
            fail_waiter(w, rv, err);
        w->origin->batch_callers = (int)callers;
        w->done = 1;
        pthread_cond_signal(&w->wake);
    }
    b->stats.batches++;
    b->stats.callers += callers;
    if (callers > b->stats.largest)
        b->stats.largest = callers;
    if (rv != APR_SUCCESS)
        b->stats.failed++;
    b->on_wire = 0;
    /* the wire is free: the first caller queued meanwhile leads the next batch */
    if (b->head)
        pthread_cond_signal(&b->head->wake);
}

/* The commands in the wire format, made before taking the lock. */
static char *format_cmds(int n, const idgw_redis_batch_cmd *cmds, size_t *len)
{
    char *all = NULL;
    size_t total = 0;
    int i;

    for (i = 0; i < n; i++) {
        char *one = NULL;
        int l = redisFormatCommandArgv(&one, cmds[i].argc, cmds[i].argv, cmds[i].lens);
        char *grown;

        if (l < 0 || !(grown = realloc(all, total + (size_t)l))) {
            free(one);
            free(all);
            return NULL;
        }
        all = grown;
        memcpy(all + total, one, (size_t)l);
        total += (size_t)l;
        free(one);
    }
    *len = total;
    return all;
}

apr_status_t idgw_redis_batch_call(idgw_redis_batch *b, int n, const idgw_redis_batch_cmd *cmds,
                                   const char *expect_replid, redisReply **replies,
                                   idgw_redis_batch_origin *origin, char *err, size_t errlen)
{
    waiter w;
    size_t len = 0;
    char *wire = format_cmds(n, cmds, &len);

    memset(replies, 0, sizeof(*replies) * (size_t)n);
    memset(origin, 0, sizeof(*origin));
    if (!wire) {
        apr_cpystrn(err, "cannot format the commands", errlen);
        return APR_ENOMEM;
    }
    memset(&w, 0, sizeof(w));
    w.wire = wire;
    w.len = len;
    w.expect = expect_replid;
    w.n = n;
    w.replies = replies;
    w.origin = origin;
    w.err = err;
    w.errlen = errlen;
    w.rv = APR_SUCCESS;
    pthread_cond_init(&w.wake, NULL);

    pthread_mutex_lock(&b->lock);
    if (b->tail)
        b->tail->next = &w;
    else
        b->head = &w;
    b->tail = &w;
    while (!w.done) {
        if (!b->on_wire)
            lead(b);
        else
            pthread_cond_wait(&w.wake, &b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    pthread_cond_destroy(&w.wake);
    free(wire);
    return w.rv;
}

int idgw_redis_batch_history(idgw_redis_batch *b, char replid[41], char replid2[41])
{
    int known;

    pthread_mutex_lock(&b->lock);
    known = b->replid[0] != '\0';
    apr_cpystrn(replid, b->replid, 41);
    apr_cpystrn(replid2, b->replid2, 41);
    pthread_mutex_unlock(&b->lock);
    return known;
}

void idgw_redis_batch_get_stats(idgw_redis_batch *b, idgw_redis_batch_stats *st)
{
    pthread_mutex_lock(&b->lock);
    *st = b->stats;
    pthread_mutex_unlock(&b->lock);
}
