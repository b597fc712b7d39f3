/* idgw_acl_cache: the child process's current snapshot of the lists
 * (idgw_acl_lists), shared by its worker threads.  Lookups take a read lock
 * and copy what they return into the caller's pool; installing a newer
 * snapshot takes the write lock briefly and frees the old one, so a reader
 * never sees a snapshot being freed.  Every function accepts a NULL cache
 * (a process whose child_init failed): nothing is held, nothing is found. */
#ifndef IDGW_ACL_CACHE_H
#define IDGW_ACL_CACHE_H

#include <apr_pools.h>

#include "idgw_acl_lists.h"

typedef struct idgw_acl_cache idgw_acl_cache;

/* Creates an empty cache (version -1: nothing loaded yet) in p. */
const char *idgw_acl_cache_create(idgw_acl_cache **out, apr_pool_t *p);

/* Version of the installed snapshot, -1 before the first. */
int64_t idgw_acl_cache_version(idgw_acl_cache *c);

/* Installs lists (allocated from its own pool `owner`, which the cache now
 * owns and destroys when replaced), whatever its version. */
void idgw_acl_cache_install(idgw_acl_cache *c, idgw_acl_lists *lists,
                            apr_pool_t *owner);

/* Blacklist look-up; on a hit returns 1 and copies the entry (strings in p)
 * into *out and the kind into *kind. */
int idgw_acl_cache_blocked(idgw_acl_cache *c, const idgw_acl_identity *id,
                           int64_t now_ms, apr_pool_t *p, idgw_acl_entry *out,
                           idgw_acl_kind *kind);

/* The same look-up in any list (the shadow bans). */
int idgw_acl_cache_match(idgw_acl_cache *c, idgw_acl_list list,
                         const idgw_acl_identity *id, int64_t now_ms, apr_pool_t *p,
                         idgw_acl_entry *out, idgw_acl_kind *kind);

/* Whitelist look-up (cached snapshot and the static entries). */
int idgw_acl_cache_whitelisted(idgw_acl_cache *c, apr_hash_t *const *static_wl,
                               const idgw_acl_identity *id, int64_t now_ms);

#endif /* IDGW_ACL_CACHE_H */
