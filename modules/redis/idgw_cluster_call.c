/*
 * idgw_cluster_call.c - scripts sent to the master of their slot, following
 * the cluster's redirections (see idgw_cluster.h).
 */
#include "idgw_cluster_int.h"

#include <apr_strings.h>
#include <string.h>

#include "idgw_metrics.h"   /* Redis errors, for mod_idgw_status */
#include "idgw_redis_batch.h"

int idgw_cluster_call_prepare(idgw_cluster_call *call, const idgw_script_args *a,
                              const idgw_script *s, int parts_header)
{
    size_t *lens;
    int i, slot;

    memset(call, 0, sizeof(*call));
    if (a->keys_used < 1)
        return -1;
    slot = idgw_cluster_key_slot(a->keys[0], a->key_lens[0]);
    for (i = 1; i < a->keys_used; i++)
        if (idgw_cluster_key_slot(a->keys[i], a->key_lens[i]) != slot)
            return -1;
    call->slot = slot;
    call->script = s;
    call->argc = idgw_script_args_argv(a, s, parts_header, &call->argv, &lens);
    call->lens = lens;
    return 0;
}

/* An error reply whose first word is `word`. */
static int said(const redisReply *r, const char *word)
{
    size_t n = strlen(word);

    return r->type == REDIS_REPLY_ERROR && strncmp(r->str, word, n) == 0
           && (r->str[n] == ' ' || r->str[n] == '\0');
}

static void fail(idgw_cluster_call *call, idgw_cluster_outcome outcome, const char *why)
{
    idgw_metrics_count_lookup(IDGW_M_REDIS_ERRORS, "cluster",                    /* metrics */
                              outcome == IDGW_CLUSTER_LOST ? "lost" : "unavailable", NULL, 1);
    call->outcome = outcome;
    call->reply = NULL;
    apr_cpystrn(call->err, why, sizeof(call->err));
}

/* What to do after a reply (r is consumed unless it is the answer). */
enum next { NEXT_DONE, NEXT_AGAIN, NEXT_ASK };

/*
 * MOVED re-points the slot; ASK names the node for one try (*ask_node);
 * TRYAGAIN pauses (tries counts them); CLUSTERDOWN ends the call; anything
 * else is the answer.
 */
static enum next react(idgw_cluster *cl, idgw_cluster_call *call, redisReply *r, int node,
                       int *ask_node, int *tries)
{
    idgw_cluster_node_addr to;
    idgw_cluster_redirect how;
    int slot, idx;
    char why[200];

    if (r->type != REDIS_REPLY_ERROR) {
        call->outcome = IDGW_CLUSTER_DONE;
        call->reply = r;
        return NEXT_DONE;
    }
    how = idgw_cluster_parse_redirect(r->str, idgw_cluster_host(cl, node), &slot, &to);
    if (how != IDGW_CLUSTER_NOT_REDIRECT) {
        freeReplyObject(r);
        if ((idx = idgw_cluster_node(cl, &to)) < 0) {
            fail(call, IDGW_CLUSTER_UNAVAILABLE, "redirected to a master beyond the table");
            return NEXT_DONE;
        }
        idgw_cluster_note(cl, how == IDGW_CLUSTER_MOVED ? IDGW_CLUSTER_EV_MOVED
                                                        : IDGW_CLUSTER_EV_ASK);
        if (how == IDGW_CLUSTER_MOVED) {
            idgw_cluster_point(cl, slot, idx);
            return NEXT_AGAIN;
        }
        *ask_node = idx;
        return NEXT_ASK;
    }
    if (said(r, "TRYAGAIN") && ++*tries < IDGW_CLUSTER_TRYAGAIN_TRIES) {
        freeReplyObject(r);
        idgw_cluster_note(cl, IDGW_CLUSTER_EV_TRYAGAIN);
        apr_sleep(IDGW_CLUSTER_TRYAGAIN_PAUSE * *tries);
        return NEXT_AGAIN;
    }
    if (said(r, "CLUSTERDOWN") || said(r, "TRYAGAIN")) {
        idgw_cluster_note(cl, said(r, "CLUSTERDOWN") ? IDGW_CLUSTER_EV_CLUSTERDOWN
                                                     : IDGW_CLUSTER_EV_TRYAGAIN);
        apr_snprintf(why, sizeof(why), "%.150s", r->str);
        freeReplyObject(r);
        fail(call, IDGW_CLUSTER_UNAVAILABLE, why);
        return NEXT_DONE;
    }
    call->outcome = IDGW_CLUSTER_DONE;   /* the script's own error, NOSCRIPT after a failed load... */
    call->reply = r;
    return NEXT_DONE;
}

/* The slot's master; the map is asked for again once when none is known. */
static int master_of(idgw_cluster *cl, int slot, unsigned long *gen)
{
    int node = idgw_cluster_owner(cl, slot, gen);

    if (node < 0) {
        idgw_cluster_refresh_after(cl, *gen);
        node = idgw_cluster_owner(cl, slot, gen);
    }
    return node;
}

/* A connection to node; on failure the map is asked again (a dead master). */
static idgw_redis_conn *connect_node(idgw_cluster *cl, apr_pool_t *owner, int node,
                                     unsigned long gen, char *err, size_t errlen)
{
    idgw_redis_conn *c = NULL;

    if (idgw_redis_pool_acquire_for(idgw_cluster_pool(cl, node), owner, &c, err, errlen)
        == APR_SUCCESS)
        return c;
    idgw_cluster_refresh_after(cl, gen);
    return NULL;
}

/* The call's command as sent (no reload), with WAIT behind it when it asks
 * for replicas (call->acked). */
static redisReply *send_as_is(idgw_redis_conn *c, idgw_cluster_call *call)
{
    if (call->wait_replicas <= 0)
        return idgw_redis_command(c, call->argc, call->argv, call->lens);
    return idgw_redis_command_confirmed(c, call->argc, call->argv, call->lens,
                                        call->wait_replicas, call->wait_timeout, &call->acked);
}

/* ASKING then the call's command, as sent (no reload). */
static redisReply *asking_then(idgw_redis_conn *c, idgw_cluster_call *call)
{
    const char *argv[] = { "ASKING" };
    size_t lens[] = { 6 };
    redisReply *r = idgw_redis_command(c, 1, argv, lens);

    if (!r)
        return NULL;
    freeReplyObject(r);
    return send_as_is(c, call);
}

/*
 * ASKING then the script, on the node an ASK named.  ASKING holds for one
 * command only: a script the node lacks (a function library is loaded the
 * first time a node says "Function not found") is loaded, then ASKING is
 * sent again before the second try (idgw_redis_evalsha's own reload would
 * send it without, and the importing node would answer MOVED).
 */
static redisReply *evalsha_asking(idgw_redis_conn *c, idgw_cluster_call *call)
{
    redisReply *r = asking_then(c, call);

    if (!r || !call->script || idgw_redis_classify(r) != IDGW_REDIS_NOSCRIPT)
        return r;
    if (!idgw_redis_load(c, call->script, strcmp(call->argv[0], "FCALL") == 0))
        return r;   /* the NOSCRIPT answer stands */
    freeReplyObject(r);
    return asking_then(c, call);
}

/* One try on the slot's master (or the node an ASK named): the script, and
 * WAIT behind it on the same connection when the call asks for replicas. */
static redisReply *send_call(idgw_redis_conn *c, idgw_cluster_call *call, int asking)
{
    call->acked = -1;
    if (asking)
        return evalsha_asking(c, call);
    if (call->wait_replicas > 0)
        return idgw_redis_evalsha_confirmed(c, call->script, call->argc, call->argv,
                                            call->lens, call->wait_replicas,
                                            call->wait_timeout, &call->acked);
    return idgw_redis_evalsha(c, call->script, call->argc, call->argv, call->lens);
}

/* eval, starting on ask_node (>= 0) when an ASK came already. */
static void eval_from(idgw_cluster *cl, apr_pool_t *owner, idgw_cluster_call *call,
                      int ask_node)
{
    int hops, tries = 0, asked = ask_node >= 0;
    unsigned long gen = 0;
    char err[200];

    for (hops = 0; hops <= IDGW_CLUSTER_MAX_HOPS; hops++) {
        int node = ask_node >= 0 ? ask_node : master_of(cl, call->slot, &gen);
        idgw_redis_conn *c;
        redisReply *r;
        enum next next;

        if (node < 0) {
            apr_snprintf(err, sizeof(err), "no master serves slot %d", call->slot);
            fail(call, IDGW_CLUSTER_UNAVAILABLE, err);
            return;
        }
        if (!(c = connect_node(cl, owner, node, gen, err, sizeof(err)))) {
            unsigned long now;

            if (ask_node < 0 && idgw_cluster_owner(cl, call->slot, &now) != node)
                continue;                     /* the new map names another master */
            fail(call, IDGW_CLUSTER_UNAVAILABLE, err);
            return;
        }
        r = send_call(c, call, ask_node >= 0);
        ask_node = -1;
        if (!r) {
            idgw_cluster_note(cl, IDGW_CLUSTER_EV_LOST);
            fail(call, IDGW_CLUSTER_LOST, "connection lost: the script may have run");
            idgw_cluster_refresh_after(cl, gen);
            return;
        }
        next = react(cl, call, r, node, &ask_node, &tries);
        if (next == NEXT_DONE)
            return;
        if (next == NEXT_ASK && asked++) {
            fail(call, IDGW_CLUSTER_UNAVAILABLE, "ASK twice for one call");
            return;
        }
    }
    fail(call, IDGW_CLUSTER_UNAVAILABLE, "too many redirections");
}

void idgw_cluster_eval(idgw_cluster *cl, apr_pool_t *owner, idgw_cluster_call *call)
{
    eval_from(cl, owner, call, -1);
}

/*
 * Through the batcher of the slot's master; 1 when that settled the call,
 * 0 when it is still to be run (*ask_node: an ASK named that node).  What
 * a batch cannot follow did not run and is left to the router: a
 * redirection (MOVED re-points the slot first), TRYAGAIN, NOSCRIPT (the
 * router loads the script), READONLY, and a batch that could not be sent.
 */
static int eval_batched(idgw_cluster *cl, idgw_cluster_call *call, int *ask_node)
{
    idgw_redis_batch_cmd cmd = { call->argc, call->argv, call->lens };
    idgw_redis_batch_origin origin;
    unsigned long gen;
    int node, tries = 0;
    redisReply *r = NULL;
    char err[200];
    idgw_redis_batch *b = idgw_cluster_slot_batch_of(cl, call->slot, &node, &gen);
    apr_status_t rv;

    if (!b)
        return 0;
    rv = idgw_redis_batch_call(b, 1, &cmd, NULL, &r, &origin, err, sizeof(err));
    if (rv == IDGW_REDIS_BATCH_LOST) {
        idgw_cluster_note(cl, IDGW_CLUSTER_EV_LOST);
        fail(call, IDGW_CLUSTER_LOST, "connection lost: the script may have run");
        idgw_cluster_refresh_after(cl, gen);
        return 1;
    }
    if (rv != APR_SUCCESS)
        return 0;
    switch (idgw_redis_classify(r)) {
    case IDGW_REDIS_NOSCRIPT:
    case IDGW_REDIS_READONLY:
        freeReplyObject(r);
        return 0;
    default:
        return react(cl, call, r, node, ask_node, &tries) == NEXT_DONE;
    }
}

void idgw_cluster_eval_shared(idgw_cluster *cl, apr_pool_t *owner, idgw_cluster_call *call)
{
    int ask_node = -1;

    if (call->wait_replicas > 0 || !eval_batched(cl, call, &ask_node))
        eval_from(cl, owner, call, ask_node);
}

/* Per call of a batch: where it went and what comes next. */
typedef struct batch_entry {
    int node;
    idgw_redis_conn *conn;      /* NULL: not sent, finished alone */
    int ask_node;               /* an ASK named this node */
    int waiter;                 /* the last call sent on conn: the WAIT follows it */
    int acked;                  /* waiter: that WAIT's answer */
} batch_entry;

/* Phase 1: a connection per master (calls on one master share it, pipelined). */
static void batch_connect(idgw_cluster *cl, apr_pool_t *owner, idgw_cluster_call *calls,
                          batch_entry *b, int n)
{
    int i, j;

    for (i = 0; i < n; i++) {
        unsigned long gen;

        b[i].conn = NULL;
        b[i].ask_node = -1;
        b[i].waiter = 0;
        b[i].acked = -1;
        b[i].node = master_of(cl, calls[i].slot, &gen);
        if (b[i].node < 0)
            continue;
        for (j = 0; j < i && !b[i].conn; j++)
            if (b[j].node == b[i].node)
                b[i].conn = b[j].conn;
        if (!b[i].conn)
            b[i].conn = connect_node(cl, owner, b[i].node, gen, calls[i].err,
                                     sizeof(calls[i].err));
    }
}

/*
 * Phase 2b: one WAIT per connection, behind its last script.  WAIT counts
 * every write the connection made so far, so it confirms all the calls
 * sent on it at once: a master whose replicas lag costs the batch one WAIT
 * timeout, not one per call (the reaper sends up to 64 shard claims).  The
 * largest count and timeout asked by the connection's calls are used.
 */
static void batch_send_waits(idgw_cluster_call *calls, batch_entry *b, int n)
{
    int i, j;

    for (i = n - 1; i >= 0; i--) {
        int replicas = 0;
        apr_interval_time_t timeout = 0;

        if (!b[i].conn)
            continue;
        for (j = i + 1; j < n && b[j].conn != b[i].conn; j++)
            ;
        if (j < n)
            continue;               /* a later call is the connection's last */
        for (j = 0; j <= i; j++)
            if (b[j].conn == b[i].conn && calls[j].wait_replicas > 0) {
                if (calls[j].wait_replicas > replicas)
                    replicas = calls[j].wait_replicas;
                if (calls[j].wait_timeout > timeout)
                    timeout = calls[j].wait_timeout;
            }
        if (replicas > 0) {
            b[i].waiter = 1;
            /* a failed send leaves the connection dead: its reads say LOST */
            idgw_redis_send_wait(b[i].conn, replicas, timeout);
        }
    }
}

/* Phase 3: one reply per sent call, in the order sent; 1 when it must be finished alone. */
static int batch_read(idgw_cluster *cl, idgw_cluster_call *call, batch_entry *e)
{
    redisReply *r = idgw_redis_read(e->conn);
    int tries = 0;

    /* the connection's WAIT, behind its last script: read even when that
     * script did not run, so the connection's replies stay in step */
    if (e->waiter)
        e->acked = idgw_redis_read_wait(e->conn);
    if (!r) {
        unsigned long gen;

        idgw_cluster_note(cl, IDGW_CLUSTER_EV_LOST);
        fail(call, IDGW_CLUSTER_LOST, "connection lost: the script may have run");
        idgw_cluster_owner(cl, call->slot, &gen);
        idgw_cluster_refresh_after(cl, gen);
        return 0;
    }
    if (idgw_redis_classify(r) == IDGW_REDIS_NOSCRIPT) {
        freeReplyObject(r);
        return 1;   /* it did not run: idgw_redis_evalsha loads it */
    }
    return react(cl, call, r, e->node, &e->ask_node, &tries) != NEXT_DONE;
}

/* Each call read from a connection gets that connection's WAIT answer. */
static void batch_acked(idgw_cluster_call *calls, const batch_entry *b, int n)
{
    int i, j;

    for (i = 0; i < n; i++) {
        calls[i].acked = -1;
        for (j = n - 1; b[i].conn && j >= i; j--)
            if (b[j].conn == b[i].conn && b[j].waiter) {
                calls[i].acked = b[j].acked;
                break;
            }
    }
}

void idgw_cluster_run(idgw_cluster *cl, apr_pool_t *owner, idgw_cluster_call *calls, int n)
{
    batch_entry *b = apr_palloc(owner, sizeof(*b) * (size_t)(n > 0 ? n : 1));
    int *alone = apr_pcalloc(owner, sizeof(*alone) * (size_t)(n > 0 ? n : 1));
    int i;

    batch_connect(cl, owner, calls, b, n);
    for (i = 0; i < n; i++) {           /* phase 2: send everything */
        if (!b[i].conn || idgw_redis_dead(b[i].conn)) {
            b[i].conn = NULL;           /* never sent: safe to try alone */
            alone[i] = 1;
        } else if (idgw_redis_send(b[i].conn, calls[i].argc, calls[i].argv, calls[i].lens)
                   != APR_SUCCESS) {
            b[i].conn = NULL;           /* may be half written: it may run */
            idgw_cluster_note(cl, IDGW_CLUSTER_EV_LOST);
            fail(&calls[i], IDGW_CLUSTER_LOST, "connection lost while sending");
        }
    }
    batch_send_waits(calls, b, n);
    for (i = 0; i < n; i++)             /* phase 3: read everything */
        if (b[i].conn)
            alone[i] = batch_read(cl, &calls[i], &b[i]);
    batch_acked(calls, b, n);
    for (i = 0; i < n; i++)             /* redirected or never sent: one by one */
        if (alone[i])
            eval_from(cl, owner, &calls[i], b[i].ask_node);
}
