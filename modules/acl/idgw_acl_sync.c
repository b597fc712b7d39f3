/* idgw_acl_sync: the child's copy of the lists follows Redis by a listener
 * thread and, when that falls behind, by the request that notices
 * (see idgw_acl_sync.h). */
#include "idgw_acl_sync.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <http_log.h>

#include "idgw_acl_reply.h"
#include "idgw_acl_script.h"
#include "idgw_metrics.h"

APLOG_USE_MODULE(idgw_acl);

struct idgw_acl_sync {
    server_rec *s;
    idgw_acl_cache *cache;
    idgw_redis_pool *pool;
    const idgw_redis_cfg *cfg;
    const idgw_script *script;
    const char *keys[1 + IDGW_ACL_LIST_KEYS];   /* the version, then the lists */
    apr_interval_time_t max_age;
    apr_thread_mutex_t *lock;                    /* one LISTS at a time */
    volatile apr_uint64_t confirmed_at;          /* apr_time_t; 0: never */
    idgw_acl_sync_stats stats;                   /* under lock */
    const idgw_metrics_fns *metrics;             /* mod_idgw_status's, if loaded */
    idgw_acl_cluster_script_fn *cl_script;       /* a Redis Cluster: the session's router */
    idgw_acl_cluster_command_fn *cl_command;
    /* the listener */
    apr_pool_t *tpool;
    apr_thread_t *thread;
    int wake[2];                                 /* pipe: the cleanup wakes the thread */
    volatile apr_uint32_t stop;
};

apr_status_t idgw_acl_sync_create(apr_pool_t *pchild, server_rec *s, idgw_acl_cache *cache,
                                  idgw_redis_pool *pool, const idgw_redis_cfg *cfg,
                                  const idgw_script *script, const char *prefix,
                                  apr_interval_time_t max_age,
                                  const idgw_metrics_fns *metrics, idgw_acl_sync **out)
{
    idgw_acl_sync *sy = apr_pcalloc(pchild, sizeof(*sy));
    apr_status_t rv;

    sy->s = s;
    sy->metrics = metrics;
    sy->cache = cache;
    sy->pool = pool;
    sy->cfg = cfg;
    sy->script = script;
    sy->max_age = max_age;
    sy->wake[0] = sy->wake[1] = -1;
    sy->keys[0] = idgw_acl_key_version(pchild, prefix);
    idgw_acl_lists_keys(pchild, prefix, sy->keys + 1);
    if ((rv = apr_thread_mutex_create(&sy->lock, APR_THREAD_MUTEX_DEFAULT, pchild))
        != APR_SUCCESS) {
        return rv;
    }
    *out = sy;
    return APR_SUCCESS;
}

void idgw_acl_sync_use_cluster(idgw_acl_sync *sy, idgw_acl_cluster_script_fn *script,
                               idgw_acl_cluster_command_fn *command)
{
    sy->cl_script = script;
    sy->cl_command = command;
}

/* ---- LISTS ------------------------------------------------------------------- */

/* A script (plain KEYS/ARGV) through the pool or, on a Cluster, the router;
 * NULL with why in err. */
static redisReply *call_script(idgw_acl_sync *sy, apr_pool_t *owner, idgw_script_args *a,
                               char *err, size_t errlen)
{
    idgw_redis_conn *c = NULL;
    const char **argv;
    size_t *lens;
    int argc;
    apr_status_t rv;
    redisReply *reply;

    if (sy->cl_script) {
        return sy->cl_script(owner, sy->script, a, err, errlen);
    }
    argc = idgw_script_args_argv(a, sy->script, 0, &argv, &lens);
    if ((rv = idgw_redis_pool_acquire_for(sy->pool, owner, &c, err, errlen)) != APR_SUCCESS) {
        if (rv == APR_EAGAIN) {
            apr_cpystrn(err, "failing fast after a recent failure", errlen);
        }
        return NULL;
    }
    if ((reply = idgw_redis_evalsha(c, sy->script, argc, argv, lens)) == NULL) {
        apr_cpystrn(err, "connection lost", errlen);
    }
    return reply;
}

/* GET of the version, the same ways. */
static redisReply *call_get(idgw_acl_sync *sy, apr_pool_t *owner, char *err, size_t errlen)
{
    idgw_redis_conn *c = NULL;
    const char *argv[2] = { "GET", sy->keys[0] };
    size_t lens[2] = { 3, strlen(sy->keys[0]) };
    redisReply *reply;

    if (sy->cl_command) {
        return sy->cl_command(owner, 1, 2, argv, lens, err, errlen);
    }
    if (idgw_redis_pool_acquire_for(sy->pool, owner, &c, err, errlen) != APR_SUCCESS) {
        return NULL;
    }
    if ((reply = idgw_redis_command(c, 2, argv, lens)) == NULL) {
        apr_cpystrn(err, "connection lost", errlen);
    }
    return reply;
}

/* Builds the snapshot LISTS sent and installs it. */
static void install(idgw_acl_sync *sy, int64_t version, const redisReply *lists)
{
    apr_pool_t *owner;
    idgw_acl_lists *l;
    const char *problem = NULL;
    int skipped = 0;

    /* Unmanaged: the snapshot outlives this call and is freed by the cache
     * when a newer one replaces it. */
    if (apr_pool_create_unmanaged(&owner) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, sy->s,
                     "IDGW0334: no memory for the list snapshot; keeping version %"
                     APR_INT64_T_FMT, idgw_acl_cache_version(sy->cache));
        return;
    }
    l = idgw_acl_reply_lists(owner, version, lists, &skipped, &problem);
    if (skipped > 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sy->s,
                     "IDGW0331: %d malformed list entries skipped (first: %s)",
                     skipped, problem);
    }
    idgw_acl_cache_install(sy->cache, l, owner);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, sy->s,
                 "IDGW0332: lists refreshed to version %" APR_INT64_T_FMT, version);
}

/* One LISTS round trip on a connection tied to owner; installs what it
 * brought.  APR_SUCCESS or why not in err. */
static apr_status_t run_lists(idgw_acl_sync *sy, apr_pool_t *owner, int *reloaded,
                              char *err, size_t errlen)
{
    idgw_script_args a;
    redisReply *reply;
    const redisReply *lists;
    const char *perr;
    int64_t version;

    idgw_script_args_init(&a, owner);
    for (int i = 0; i < 1 + IDGW_ACL_LIST_KEYS; i++) {
        idgw_script_args_key(&a, sy->keys[i]);
    }
    idgw_script_args_int(&a, idgw_acl_cache_version(sy->cache));
    reply = call_script(sy, owner, &a, err, errlen);
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply) {
            apr_snprintf(err, errlen, "%.120s", reply->str);
            if (sy->pool && idgw_redis_classify(reply) == IDGW_REDIS_UNAVAILABLE) {
                idgw_redis_pool_trip(sy->pool);
            }
            freeReplyObject(reply);
        }
        return APR_EGENERAL;
    }
    if ((perr = idgw_acl_reply_lists_parse(reply, &version, &lists)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, sy->s, "IDGW0333: unexpected reply from "
                     "the lists script: %s", perr);
        apr_cpystrn(err, "unexpected reply from the lists script", errlen);
        freeReplyObject(reply);
        return APR_EGENERAL;
    }
    *reloaded = lists != NULL;
    if (lists != NULL) {
        install(sy, version, lists);
    }
    freeReplyObject(reply);
    return APR_SUCCESS;
}

/* A poll's first look: 1 when Redis holds the copy's version (a plain GET,
 * cheaper than LISTS, and told apart from the requests' scripts in Redis's
 * command statistics), 0 when LISTS must run, -1 on failure (err). */
static int version_unchanged(idgw_acl_sync *sy, apr_pool_t *owner, char *err, size_t errlen)
{
    redisReply *reply = call_get(sy, owner, err, errlen);
    int64_t held = idgw_acl_cache_version(sy->cache), v;
    int same;

    if (reply == NULL) {
        return -1;
    }
    same = held >= 0 && reply->type == REDIS_REPLY_STRING &&
           idgw_acl_version_parse(reply->str, reply->len, &v) && v == held;
    freeReplyObject(reply);
    return same;
}

/* LISTS unless the copy was confirmed after fresh_after (0: always), one
 * caller at a time: a request that waited for another's LISTS uses it.
 * trigger: the label idgw_acl_lists_syncs_total counts it under. */
static apr_status_t sync_once(idgw_acl_sync *sy, apr_pool_t *owner, apr_time_t fresh_after,
                              const char *trigger, char *err, size_t errlen)
{
    apr_status_t rv;
    apr_time_t sent;
    int reloaded = 0;

    apr_thread_mutex_lock(sy->lock);
    if (fresh_after && (apr_time_t)apr_atomic_read64(&sy->confirmed_at) > fresh_after) {
        apr_thread_mutex_unlock(sy->lock);
        return APR_SUCCESS;
    }
    sent = apr_time_now();
    switch (strcmp(trigger, "poll") == 0 ? version_unchanged(sy, owner, err, errlen) : 0) {
    case 1:
        rv = APR_SUCCESS;
        break;
    case -1:
        rv = APR_EGENERAL;
        break;
    default:
        rv = run_lists(sy, owner, &reloaded, err, errlen);
    }
    sy->stats.syncs++;
    sy->stats.by_requests += strcmp(trigger, "request") == 0;
    IDGW_METRIC_COUNT(sy->metrics, IDGW_M_ACL_LISTS_SYNCS, trigger,
                      rv != APR_SUCCESS ? "failed" : reloaded ? "reloaded" : "current", NULL, 1);
    if (rv == APR_SUCCESS) {
        /* the copy is at least as new as Redis was when LISTS was sent */
        apr_atomic_set64(&sy->confirmed_at, (apr_uint64_t)sent);
        sy->stats.reloads += reloaded;
    }
    else {
        sy->stats.failures++;
    }
    apr_thread_mutex_unlock(sy->lock);
    return rv;
}

apr_interval_time_t idgw_acl_sync_age(idgw_acl_sync *sy)
{
    apr_time_t at = sy ? (apr_time_t)apr_atomic_read64(&sy->confirmed_at) : 0;

    return at ? apr_time_now() - at : -1;
}

apr_status_t idgw_acl_sync_ensure(idgw_acl_sync *sy, apr_pool_t *owner, char *err,
                                  size_t errlen)
{
    apr_time_t now = apr_time_now();
    apr_time_t at;

    if (sy == NULL) {
        apr_cpystrn(err, "no list synchronisation in this process", errlen);
        return APR_EINIT;
    }
    at = (apr_time_t)apr_atomic_read64(&sy->confirmed_at);
    if (at && now - at <= sy->max_age) {
        return APR_SUCCESS;
    }
    return sync_once(sy, owner, now - sy->max_age, "request", err, errlen);
}

apr_status_t idgw_acl_sync_refresh(idgw_acl_sync *sy, apr_pool_t *owner, char *err,
                                   size_t errlen)
{
    if (sy == NULL) {
        apr_cpystrn(err, "no list synchronisation in this process", errlen);
        return APR_EINIT;
    }
    /* a LISTS sent after the change (the listener's, maybe) will do */
    return sync_once(sy, owner, apr_time_now(), "own-ban", err, errlen);
}

void idgw_acl_sync_get_stats(idgw_acl_sync *sy, idgw_acl_sync_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (sy) {
        apr_thread_mutex_lock(sy->lock);
        *st = sy->stats;
        apr_thread_mutex_unlock(sy->lock);
    }
}

/* ---- the listener --------------------------------------------------------------- */

/* A connection SUBSCRIBEd to the version's channel, on the server (or the
 * master the Sentinels name: a replica would do too, PUBLISH is replicated),
 * or NULL with why in err. */
static idgw_redis_conn *subscribe(idgw_acl_sync *sy, char *err, size_t errlen)
{
    idgw_redis_addr addr = sy->cfg->server;
    char host[IDGW_REDIS_HOST_MAX + 1];
    idgw_redis_conn *c = NULL;
    redisReply *reply;
    int answered = 0;
    const char *argv[2] = { "SUBSCRIBE", sy->keys[0] };
    size_t lens[2] = { 9, strlen(sy->keys[0]) };

    if (sy->cfg->nseeds > 0) {
        /* a Cluster's bus carries PUBLISH to every node: any seed will do */
        for (int i = 0; i < sy->cfg->nseeds && c == NULL; i++) {
            if (idgw_redis_connect(sy->cfg, &sy->cfg->seeds[i], 0, NULL, 0, &c, err, errlen)
                != APR_SUCCESS) {
                c = NULL;
            }
        }
        if (c == NULL) {
            return NULL;
        }
    }
    else {
        if (sy->cfg->nsentinels > 0) {
            if (idgw_redis_sentinel_resolve(sy->cfg, 0, host, sizeof(host), &addr.port,
                                            &answered, err, errlen) != APR_SUCCESS) {
                return NULL;
            }
            addr.host = host;
        }
        if (idgw_redis_connect(sy->cfg, &addr, 0, NULL, 0, &c, err, errlen) != APR_SUCCESS) {
            return NULL;
        }
    }
    reply = idgw_redis_command(c, 2, argv, lens);
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
        apr_snprintf(err, errlen, "SUBSCRIBE %s", reply && reply->type == REDIS_REPLY_ERROR
                     ? reply->str : "got no confirmation");
        if (reply) {
            freeReplyObject(reply);
        }
        idgw_redis_close(c);
        return NULL;
    }
    freeReplyObject(reply);
    return c;
}

/* Reads what the subscription brought: the number of change announcements
 * (any message on the channel: LISTS says what changed), -1 when the
 * connection ended. */
static int read_messages(idgw_redis_conn *c)
{
    void *reply = NULL;
    int n = 0;

    if (redisBufferRead(c->ctx) != REDIS_OK) {
        return -1;
    }
    while (redisGetReplyFromReader(c->ctx, &reply) == REDIS_OK && reply != NULL) {
        const redisReply *m = reply;
        if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 &&
            m->element[0]->type == REDIS_REPLY_STRING &&
            strcmp(m->element[0]->str, "message") == 0) {
            n++;
        }
        freeReplyObject(reply);
        reply = NULL;
    }
    return c->ctx->err ? -1 : n;
}

/* Waits up to timeout for the subscription (c may be NULL) or the wake
 * pipe.  Returns the announcements read, -1 when c ended. */
static int wait_for_news(idgw_acl_sync *sy, idgw_redis_conn *c, apr_interval_time_t timeout)
{
    struct pollfd fds[2];
    int nfds = 1, ms = (int)((timeout + 999) / 1000);

    fds[0].fd = sy->wake[0];
    fds[0].events = POLLIN;
    if (c != NULL) {
        fds[1].fd = c->ctx->fd;
        fds[1].events = POLLIN;
        nfds = 2;
    }
    if (poll(fds, (nfds_t)nfds, ms < 1 ? 1 : ms) <= 0 || apr_atomic_read32(&sy->stop)) {
        return 0;
    }
    if (c != NULL && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        return read_messages(c);
    }
    return 0;
}

/* Logs a change of the listener's state once, not on every retry (*up: -1
 * before the first try). */
static void listener_state(idgw_acl_sync *sy, int *up, int now_up, const char *why)
{
    if (now_up && *up != 1) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, sy->s, "IDGW0335: lists listener "
                     "subscribed to %s", sy->keys[0]);
    }
    else if (!now_up && *up != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sy->s, "IDGW0336: lists listener has "
                     "no subscription (%s); polling every %" APR_TIME_T_FMT " ms and "
                     "retrying", why, apr_time_as_msec(sy->max_age / 2));
    }
    *up = now_up;
}

static void *APR_THREAD_FUNC listener_main(apr_thread_t *t, void *data)
{
    idgw_acl_sync *sy = data;
    apr_interval_time_t interval = sy->max_age / 2;
    idgw_redis_conn *c = NULL;
    apr_time_t next = 0;
    apr_pool_t *call;
    char err[256];
    const char *trigger = "start";
    int up = -1, news = 1, failing = 0;

    apr_pool_create(&call, sy->tpool);
    while (!apr_atomic_read32(&sy->stop)) {
        apr_time_t now;
        if (c == NULL && (c = subscribe(sy, err, sizeof(err))) != NULL) {
            apr_thread_mutex_lock(sy->lock);
            sy->stats.subscribes++;
            apr_thread_mutex_unlock(sy->lock);
            news = 1;      /* whatever was announced while unsubscribed */
            trigger = "start";
        }
        listener_state(sy, &up, c != NULL, err);
        now = apr_time_now();
        if (news || now >= next) {
            apr_status_t rv = sync_once(sy, call, 0, news ? trigger : "poll", err,
                                        sizeof(err));
            apr_pool_clear(call);
            if (rv != APR_SUCCESS && !failing) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sy->s, "IDGW0337: the lists "
                             "could not be read: %s (requests read them once the copy is "
                             "%" APR_TIME_T_FMT " ms old)", err,
                             apr_time_as_msec(sy->max_age));
            }
            failing = rv != APR_SUCCESS;
            news = 0;
            next = apr_time_now() + interval;
            continue;
        }
        news = wait_for_news(sy, c, next - now);
        if (news < 0) {
            apr_cpystrn(err, c->ctx->errstr[0] ? c->ctx->errstr : "connection closed",
                        sizeof(err));
            idgw_redis_close(c);
            c = NULL;
            news = 0;
        }
        else if (news > 0) {
            trigger = "announcement";
            apr_thread_mutex_lock(sy->lock);
            sy->stats.messages += (unsigned long)news;
            apr_thread_mutex_unlock(sy->lock);
        }
    }
    if (c != NULL) {
        idgw_redis_close(c);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* A pre-cleanup of the child's pool: the thread is woken and joined while
 * everything it uses still exists. */
static apr_status_t listener_stop(void *data)
{
    idgw_acl_sync *sy = data;
    apr_status_t trv;
    ssize_t w;

    apr_atomic_set32(&sy->stop, 1);
    w = write(sy->wake[1], "x", 1);
    (void)w;
    apr_thread_join(&trv, sy->thread);
    close(sy->wake[0]);
    close(sy->wake[1]);
    return APR_SUCCESS;
}

apr_status_t idgw_acl_sync_listen(idgw_acl_sync *sy, apr_pool_t *pchild)
{
    apr_status_t rv;

    if (pipe(sy->wake) != 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    if ((rv = apr_pool_create(&sy->tpool, pchild)) != APR_SUCCESS ||
        (rv = apr_thread_create(&sy->thread, NULL, listener_main, sy, pchild))
        != APR_SUCCESS) {
        close(sy->wake[0]);
        close(sy->wake[1]);
        return rv;
    }
    apr_pool_pre_cleanup_register(pchild, sy, listener_stop);
    return APR_SUCCESS;
}
