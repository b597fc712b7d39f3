/*
 * idgw_cluster.c - the router's masters, their pools and the slot map (see
 * idgw_cluster.h; the calls are in idgw_cluster_call.c).
 */
#include "idgw_cluster_int.h"

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <stdlib.h>
#include <string.h>

#include "idgw_metrics.h"   /* Redis errors, for mod_idgw_status */
#include "idgw_redis_batch.h"

/* Masters known at once: they come and go with failovers (a promoted
 * replica is a new address), so there is room for twice the map's limit;
 * when it is full a master the map no longer names gives its place up
 * (add_locked). */
#define MAX_KNOWN (2 * IDGW_CLUSTER_MAX_NODES)

typedef struct cluster_node {
    idgw_cluster_node_addr addr;
    idgw_redis_cfg cfg;             /* the base settings, server = addr */
    idgw_redis_pool *pool;
    idgw_redis_batch *batch;        /* made by the first idgw_cluster_slot_batch */
} cluster_node;

struct idgw_cluster {
    apr_pool_t *p;                  /* allocations under lock only */
    const idgw_redis_cfg *base;
    idgw_cluster_node_addr seeds[IDGW_CLUSTER_MAX_SEEDS];
    int nseeds;
    const idgw_script *const *scripts;
    int nscripts;
    apr_thread_mutex_t *lock;       /* guards everything below */
    apr_thread_mutex_t *refreshing; /* one CLUSTER SLOTS at a time; guards parsed */
    idgw_cluster_map *parsed;       /* 33 KB: the reply being read, not on a stack */
    idgw_cluster_node_addr *cand;   /* whom to ask (MAX_KNOWN + seeds), likewise */
    cluster_node *nodes[MAX_KNOWN];
    int nnodes;
    short owner[IDGW_CLUSTER_SLOTS];
    unsigned long generation;       /* bumped by every map change */
    apr_time_t refreshed_at;        /* last refresh attempt */
    idgw_cluster_stats stats;
};

apr_status_t idgw_cluster_create(apr_pool_t *p, const idgw_redis_cfg *base,
                                 const idgw_redis_addr *seeds, int nseeds,
                                 const idgw_script *const *scripts, int nscripts,
                                 idgw_cluster **out)
{
    idgw_cluster *cl = apr_pcalloc(p, sizeof(*cl));
    apr_status_t rv;
    int i;

    if (nseeds < 1 || nseeds > IDGW_CLUSTER_MAX_SEEDS)
        return APR_EINVAL;
    /* a pool of its own: masters are added while the child serves, under lock */
    if ((rv = apr_pool_create(&cl->p, p)) != APR_SUCCESS)
        return rv;
    p = cl->p;
    cl->base = base;
    cl->parsed = apr_palloc(p, sizeof(*cl->parsed));
    cl->cand = apr_palloc(p, sizeof(*cl->cand) * (MAX_KNOWN + IDGW_CLUSTER_MAX_SEEDS));
    for (i = 0; i < nseeds; i++) {
        if (strlen(seeds[i].host) >= IDGW_HOST_MAX)
            return APR_EINVAL;
        apr_cpystrn(cl->seeds[i].host, seeds[i].host, IDGW_HOST_MAX);
        cl->seeds[i].port = seeds[i].port;
    }
    cl->nseeds = nseeds;
    cl->scripts = scripts;
    cl->nscripts = nscripts;
    for (i = 0; i < IDGW_CLUSTER_SLOTS; i++)
        cl->owner[i] = -1;
    if ((rv = apr_thread_mutex_create(&cl->lock, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS
        || (rv = apr_thread_mutex_create(&cl->refreshing, APR_THREAD_MUTEX_DEFAULT, p))
           != APR_SUCCESS)
        return rv;
    *out = cl;
    return APR_SUCCESS;
}

static int find_locked(idgw_cluster *cl, const idgw_cluster_node_addr *a)
{
    int i;

    for (i = 0; i < cl->nnodes; i++)
        if (cl->nodes[i]->addr.port == a->port && strcmp(cl->nodes[i]->addr.host, a->host) == 0)
            return i;
    return -1;
}

/* The first master of the table not marked in keep (-1: all are). */
static int victim_locked(const idgw_cluster *cl, const char *keep)
{
    int i;

    for (i = 0; i < cl->nnodes; i++)
        if (!keep[i])
            return i;
    return -1;
}

/*
 * A new master: its own pool with the base settings (no sentinels), at the
 * end of the table, or, when the table is full, in the place of a master
 * not marked in keep (NULL: none may go).  The master replaced keeps its
 * struct, pool and batcher (a thread may hold them); its pool is handed
 * back in *retired, to be retired once the lock is dropped (closing its
 * idle connections must not hold up routing).  -1 when there is no room.
 */
static int add_locked(idgw_cluster *cl, const idgw_cluster_node_addr *a, const char *keep,
                      idgw_redis_pool **retired)
{
    cluster_node *n;
    int idx = cl->nnodes;

    *retired = NULL;
    if (idx == MAX_KNOWN && (!keep || (idx = victim_locked(cl, keep)) < 0))
        return -1;
    n = apr_pcalloc(cl->p, sizeof(*n));
    n->addr = *a;
    n->cfg = *cl->base;
    n->cfg.server.host = n->addr.host;
    n->cfg.server.port = n->addr.port;
    n->cfg.nsentinels = 0;
    n->cfg.master_name = NULL;
    if (idgw_redis_pool_create(cl->p, &n->cfg, cl->scripts, cl->nscripts, &n->pool)
        != APR_SUCCESS)
        return -1;
    if (idx < cl->nnodes) {
        *retired = cl->nodes[idx]->pool;
        cl->stats.retired++;
    } else {
        cl->nnodes++;
    }
    cl->nodes[idx] = n;
    cl->stats.nodes++;
    return idx;
}

/* The masters that serve a slot now (kept when a place is needed). */
static void owners_locked(const idgw_cluster *cl, char *keep)
{
    int i;

    memset(keep, 0, MAX_KNOWN);
    for (i = 0; i < IDGW_CLUSTER_SLOTS; i++)
        if (cl->owner[i] >= 0)
            keep[cl->owner[i]] = 1;
}

int idgw_cluster_node(idgw_cluster *cl, const idgw_cluster_node_addr *a)
{
    idgw_redis_pool *retired = NULL;
    char keep[MAX_KNOWN];
    int idx;

    apr_thread_mutex_lock(cl->lock);
    idx = find_locked(cl, a);
    if (idx < 0) {
        owners_locked(cl, keep);
        idx = add_locked(cl, a, keep, &retired);
    }
    apr_thread_mutex_unlock(cl->lock);
    if (retired)
        idgw_redis_pool_retire(retired);
    return idx;
}

int idgw_cluster_owner(idgw_cluster *cl, int slot, unsigned long *gen)
{
    int idx;

    apr_thread_mutex_lock(cl->lock);
    idx = cl->owner[slot];
    *gen = cl->generation;
    apr_thread_mutex_unlock(cl->lock);
    return idx;
}

void idgw_cluster_point(idgw_cluster *cl, int slot, int idx)
{
    apr_thread_mutex_lock(cl->lock);
    if (cl->owner[slot] != idx) {
        cl->owner[slot] = (short)idx;
        cl->generation++;
    }
    apr_thread_mutex_unlock(cl->lock);
}

idgw_redis_pool *idgw_cluster_pool(idgw_cluster *cl, int idx)
{
    idgw_redis_pool *pl;

    apr_thread_mutex_lock(cl->lock);
    pl = cl->nodes[idx]->pool;
    apr_thread_mutex_unlock(cl->lock);
    return pl;
}

idgw_redis_batch *idgw_cluster_slot_batch_of(idgw_cluster *cl, int slot, int *node,
                                             unsigned long *gen)
{
    idgw_redis_batch *b = NULL;
    cluster_node *n;

    *node = -1;
    if (slot < 0 || slot >= IDGW_CLUSTER_SLOTS)
        return NULL;
    apr_thread_mutex_lock(cl->lock);
    *gen = cl->generation;
    if (cl->owner[slot] >= 0) {
        n = cl->nodes[cl->owner[slot]];
        if (!n->batch && idgw_redis_batch_create(cl->p, n->pool, &n->batch) != APR_SUCCESS)
            n->batch = NULL;
        if ((b = n->batch) != NULL)
            *node = cl->owner[slot];
    }
    apr_thread_mutex_unlock(cl->lock);
    return b;
}

idgw_redis_batch *idgw_cluster_slot_batch(idgw_cluster *cl, int slot)
{
    unsigned long gen;
    int node;

    return idgw_cluster_slot_batch_of(cl, slot, &node, &gen);
}

const char *idgw_cluster_host(idgw_cluster *cl, int idx)
{
    const char *h;

    apr_thread_mutex_lock(cl->lock);
    h = cl->nodes[idx]->addr.host;   /* never freed nor changed once added */
    apr_thread_mutex_unlock(cl->lock);
    return h;
}

/*
 * Install a parsed map: its masters become (or already are) ours.  A new
 * one finds room in the place of a master the map does not name, when the
 * table is full (several failovers to new addresses).
 */
static int install(idgw_cluster *cl, const idgw_cluster_map *m, char *err, size_t errlen)
{
    int local[IDGW_CLUSTER_MAX_NODES], i, nretired = 0, rc = 0;
    idgw_redis_pool *retired[IDGW_CLUSTER_MAX_NODES];
    char keep[MAX_KNOWN];

    memset(keep, 0, sizeof(keep));
    apr_thread_mutex_lock(cl->lock);
    for (i = 0; i < m->nnodes; i++)
        if ((local[i] = find_locked(cl, &m->nodes[i])) >= 0)
            keep[local[i]] = 1;
    for (i = 0; i < m->nnodes && rc == 0; i++) {
        if (local[i] >= 0)
            continue;
        if ((local[i] = add_locked(cl, &m->nodes[i], keep, &retired[nretired])) < 0) {
            apr_snprintf(err, errlen, "no room for master %s:%d", m->nodes[i].host,
                         m->nodes[i].port);
            rc = -1;
            break;
        }
        keep[local[i]] = 1;
        if (retired[nretired])
            nretired++;
    }
    if (rc == 0) {
        for (i = 0; i < IDGW_CLUSTER_SLOTS; i++)
            cl->owner[i] = (short)(m->owner[i] < 0 ? -1 : local[m->owner[i]]);
        cl->generation++;
        cl->stats.refreshes++;
    }
    apr_thread_mutex_unlock(cl->lock);
    for (i = 0; i < nretired; i++)
        idgw_redis_pool_retire(retired[i]);
    if (rc < 0)
        return rc;
    idgw_metrics_count_lookup(IDGW_M_CLUSTER_EVENTS, "map_refreshed", NULL, NULL, 1); /* metrics */
    return 0;
}

/* CLUSTER SLOTS of one node into m; 0 when it answered with a usable map. */
static int ask_node(idgw_cluster *cl, const idgw_cluster_node_addr *a, idgw_cluster_map *m,
                    char *err, size_t errlen)
{
    const char *argv[] = { "CLUSTER", "SLOTS" };
    size_t lens[] = { 7, 5 };
    idgw_redis_addr addr = { a->host, a->port };
    idgw_redis_conn *c;
    redisReply *r;
    int rc = -1;

    if (idgw_redis_connect(cl->base, &addr, 0, NULL, 0, &c, err, errlen) != APR_SUCCESS)
        return -1;
    r = idgw_redis_command(c, 2, argv, lens);
    if (!r)
        apr_snprintf(err, errlen, "CLUSTER SLOTS on %s:%d: %s", a->host, a->port,
                     c->ctx ? c->ctx->errstr : "connection lost");
    else if (idgw_cluster_map_parse(r, a->host, m, err, errlen) == 0) {
        rc = idgw_cluster_map_covered(m) > 0 ? 0 : -1;
        if (rc < 0)
            apr_snprintf(err, errlen, "%s:%d serves no slot", a->host, a->port);
    }
    if (r)
        freeReplyObject(r);
    idgw_redis_close(c);
    free(c);
    return rc;
}

/* Known masters first (they follow the cluster as it changes), then the seeds. */
static int candidates(idgw_cluster *cl, idgw_cluster_node_addr *out)
{
    int n = 0, i;

    apr_thread_mutex_lock(cl->lock);
    for (i = 0; i < cl->nnodes; i++)
        out[n++] = cl->nodes[i]->addr;
    apr_thread_mutex_unlock(cl->lock);
    for (i = 0; i < cl->nseeds; i++)
        out[n++] = cl->seeds[i];
    return n;
}

static apr_status_t refresh_locked(idgw_cluster *cl, char *err, size_t errlen)
{
    idgw_cluster_map *m = cl->parsed;
    int n = candidates(cl, cl->cand), i;

    for (i = 0; i < n; i++)
        if (ask_node(cl, &cl->cand[i], m, err, errlen) == 0)
            return install(cl, m, err, errlen) == 0 ? APR_SUCCESS : APR_EGENERAL;
    idgw_metrics_count_lookup(IDGW_M_REDIS_ERRORS, "cluster", "map", NULL, 1);   /* metrics */
    apr_thread_mutex_lock(cl->lock);
    cl->stats.refresh_failures++;
    apr_thread_mutex_unlock(cl->lock);
    return APR_EGENERAL;
}

/*
 * Refresh unless the map changed since gen (another thread did it) or the
 * last attempt is more recent than the gap (force skips that check).  An
 * automatic refresh while another thread refreshes does not wait for it
 * (asking dead masters may take a connect timeout each): the caller goes on
 * with the map it has; only a child without any map yet waits.
 */
static apr_status_t refresh_if(idgw_cluster *cl, int check_gen, unsigned long gen, int force,
                               char *err, size_t errlen)
{
    apr_status_t rv = APR_SUCCESS;
    int skip, have_map;

    apr_thread_mutex_lock(cl->lock);
    have_map = cl->generation > 0;
    apr_thread_mutex_unlock(cl->lock);
    if (check_gen && have_map) {
        if (apr_thread_mutex_trylock(cl->refreshing) != APR_SUCCESS)
            return APR_EBUSY;
    } else {
        apr_thread_mutex_lock(cl->refreshing);
    }
    apr_thread_mutex_lock(cl->lock);
    skip = (check_gen && cl->generation != gen)
           || (!force && apr_time_now() - cl->refreshed_at < IDGW_CLUSTER_REFRESH_GAP);
    if (!skip)
        cl->refreshed_at = apr_time_now();
    apr_thread_mutex_unlock(cl->lock);
    if (!skip)
        rv = refresh_locked(cl, err, errlen);
    apr_thread_mutex_unlock(cl->refreshing);
    return rv;
}

apr_status_t idgw_cluster_refresh(idgw_cluster *cl, int force, char *err, size_t errlen)
{
    return refresh_if(cl, 0, 0, force, err, errlen);
}

void idgw_cluster_refresh_after(idgw_cluster *cl, unsigned long gen)
{
    char err[200];

    refresh_if(cl, 1, gen, 0, err, sizeof(err));
}

void idgw_cluster_note(idgw_cluster *cl, idgw_cluster_event ev)
{
    const char *name = NULL;

    apr_thread_mutex_lock(cl->lock);
    switch (ev) {
    case IDGW_CLUSTER_EV_MOVED: cl->stats.moved++; name = "moved"; break;
    case IDGW_CLUSTER_EV_ASK: cl->stats.ask++; name = "ask"; break;
    case IDGW_CLUSTER_EV_TRYAGAIN: cl->stats.tryagain++; name = "tryagain"; break;
    case IDGW_CLUSTER_EV_CLUSTERDOWN: cl->stats.clusterdown++; name = "clusterdown"; break;
    case IDGW_CLUSTER_EV_LOST: cl->stats.lost++; break;   /* idgw_redis_errors_total */
    }
    apr_thread_mutex_unlock(cl->lock);
    if (name)
        idgw_metrics_count_lookup(IDGW_M_CLUSTER_EVENTS, name, NULL, NULL, 1);   /* metrics */
}

void idgw_cluster_get_stats(idgw_cluster *cl, idgw_cluster_stats *st)
{
    apr_thread_mutex_lock(cl->lock);
    *st = cl->stats;
    apr_thread_mutex_unlock(cl->lock);
}

int idgw_cluster_slot_master(idgw_cluster *cl, int slot, idgw_cluster_node_addr *out)
{
    int idx;

    apr_thread_mutex_lock(cl->lock);
    idx = slot >= 0 && slot < IDGW_CLUSTER_SLOTS ? cl->owner[slot] : -1;
    if (idx >= 0)
        *out = cl->nodes[idx]->addr;
    apr_thread_mutex_unlock(cl->lock);
    return idx >= 0;
}
