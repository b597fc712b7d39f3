/* idgw_acl_cache: the per-child snapshot of the lists (see idgw_acl_cache.h). */
#include "idgw_acl_cache.h"

#include <apr_strings.h>
#include <apr_thread_rwlock.h>

struct idgw_acl_cache {
#if APR_HAS_THREADS
    apr_thread_rwlock_t *lock;
#endif
    idgw_acl_lists *lists;     /* NULL before the first install */
    apr_pool_t *owner;         /* the pool lists lives in */
};

#if APR_HAS_THREADS
#define RDLOCK(c) apr_thread_rwlock_rdlock((c)->lock)
#define WRLOCK(c) apr_thread_rwlock_wrlock((c)->lock)
#define UNLOCK(c) apr_thread_rwlock_unlock((c)->lock)
#else
#define RDLOCK(c) ((void)0)
#define WRLOCK(c) ((void)0)
#define UNLOCK(c) ((void)0)
#endif

const char *idgw_acl_cache_create(idgw_acl_cache **out, apr_pool_t *p)
{
    idgw_acl_cache *c = apr_pcalloc(p, sizeof(*c));

#if APR_HAS_THREADS
    if (apr_thread_rwlock_create(&c->lock, p) != APR_SUCCESS) {
        return "cannot create the list cache's lock";
    }
#endif
    *out = c;
    return NULL;
}

int64_t idgw_acl_cache_version(idgw_acl_cache *c)
{
    int64_t v;

    if (c == NULL) {
        return -1;
    }
    RDLOCK(c);
    v = c->lists ? idgw_acl_lists_version(c->lists) : -1;
    UNLOCK(c);
    return v;
}

void idgw_acl_cache_install(idgw_acl_cache *c, idgw_acl_lists *lists,
                            apr_pool_t *owner)
{
    apr_pool_t *old = NULL;

    if (c == NULL) {            /* no cache in this process: nothing to keep */
        apr_pool_destroy(owner);
        return;
    }
    /* Whatever Redis reported last wins, even a lower version: Redis may
     * come back from an older dump, and a node that waited for a higher
     * number would never see the lists again.  Two threads refreshing at
     * once may install in either order; the loser's version differs from
     * Redis's, so the next request refreshes again. */
    WRLOCK(c);
    old = c->owner;
    c->lists = lists;
    c->owner = owner;
    UNLOCK(c);
    if (old) {
        apr_pool_destroy(old);
    }
}

int idgw_acl_cache_blocked(idgw_acl_cache *c, const idgw_acl_identity *id,
                           int64_t now_ms, apr_pool_t *p, idgw_acl_entry *out,
                           idgw_acl_kind *kind)
{
    return idgw_acl_cache_match(c, IDGW_ACL_BLACKLIST, id, now_ms, p, out, kind);
}

int idgw_acl_cache_match(idgw_acl_cache *c, idgw_acl_list list,
                         const idgw_acl_identity *id, int64_t now_ms, apr_pool_t *p,
                         idgw_acl_entry *out, idgw_acl_kind *kind)
{
    const idgw_acl_entry *e;

    if (c == NULL) {
        return 0;
    }
    RDLOCK(c);
    e = idgw_acl_lists_match(c->lists, list, id, now_ms, kind);
    if (e) {
        out->value = apr_pstrdup(p, e->value);
        out->expires_ms = e->expires_ms;
        out->added_ms = e->added_ms;
        out->source = apr_pstrdup(p, e->source);
        out->reason = apr_pstrdup(p, e->reason);
    }
    UNLOCK(c);
    return e != NULL;
}

int idgw_acl_cache_whitelisted(idgw_acl_cache *c, apr_hash_t *const *static_wl,
                               const idgw_acl_identity *id, int64_t now_ms)
{
    int yes;

    if (c == NULL) {
        return idgw_acl_lists_whitelisted(NULL, static_wl, id, now_ms);
    }
    RDLOCK(c);
    yes = idgw_acl_lists_whitelisted(c->lists, static_wl, id, now_ms);
    UNLOCK(c);
    return yes;
}
