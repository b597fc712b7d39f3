/* idgw_acl_reply: reading CHECK's reply (idgw_acl_script.h) and turning its
 * lists into a snapshot (idgw_acl_lists).  Every element is checked for type
 * and range: a reply that does not have the expected shape is an error, never
 * a guess. */
#ifndef IDGW_ACL_REPLY_H
#define IDGW_ACL_REPLY_H

#include <stdint.h>

#include <apr_pools.h>
#include <hiredis/hiredis.h>

#include "idgw_acl_lists.h"
#include "idgw_acl_script.h"

typedef struct {
    int refused;                /* 0, or the 1-based refusing dimension of the call */
    int64_t retry_us;           /* when refused */
    int banned;                 /* the refusal just earned an auto-ban */
    unsigned shadow_refused;    /* dimensions in shadow mode that would refuse (bit i-1) */
    unsigned shadow_banned;     /* ... whose breaches just earned a shadow ban */
    unsigned extra[IDGW_ACL_DIMS]; /* tokens granted beyond the request's own, per
                                      dimension of the call (idgw_acl_lease.h) */
} idgw_acl_check_reply;

/* Parses CHECK's reply; ndims is how many dimensions the call carried.
 * Returns NULL or what is wrong (static string). */
const char *idgw_acl_reply_parse(const redisReply *reply, int ndims,
                                 idgw_acl_check_reply *out);

/* Parses LISTS' reply: the version in Redis and the twelve list arrays
 * (*lists NULL: the node's copy is current).  Returns NULL or what is wrong. */
const char *idgw_acl_reply_lists_parse(const redisReply *reply, int64_t *version,
                                       const redisReply **lists);

/* Builds the snapshot at version from the twelve list arrays.  Entries that
 * fail validation are skipped and counted in *skipped (the first problem in
 * *first_problem, may be NULL): one bad entry must not blind the node. */
idgw_acl_lists *idgw_acl_reply_lists(apr_pool_t *p, int64_t version,
                                     const redisReply *lists, int *skipped,
                                     const char **first_problem);

/* Parses a decimal version string ("0".."2^53"); 1 on success. */
int idgw_acl_version_parse(const char *s, size_t len, int64_t *out);

#endif /* IDGW_ACL_REPLY_H */
