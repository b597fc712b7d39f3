/* idgw_acl_script: the fleet-wide side of access control, as Redis Lua
 * scripts and the key names they use.
 *
 * Keys (PREFIX is the Redis key prefix shared with mod_idgw_session):
 *   PREFIXacl:ver                  version of the lists; INCR on every change
 *   PREFIXacl:bl:KIND              blacklist hash, KIND terminal|idm|user|addr,
 *   PREFIXacl:wl:KIND              whitelist hash; field = value, value =
 *                                  EXPIRES_MS|ADDED_MS|SOURCE|REASON
 *   PREFIXacl:rl:DIM:VALUE         GCRA state (microseconds), DIM addr|terminal|endpoint
 *   PREFIXacl:br:DIM:VALUE         limit breaches in the current breach window
 *   PREFIXacl:st:KIND:VALUE        sequence-error strikes in the current window
 *
 * All time comes from Redis (TIME), so the nodes' clocks do not matter and
 * every node applies the same limit to the same state.
 *
 * CHECK (once per request; the fleet-wide rate limits and the list version):
 *   KEYS[1] version key; per limited dimension i = 1..n, three keys:
 *     rate key, breach key, blacklist hash of the dimension's kind
 *   ARGV[1] n; per dimension six values:
 *     T (us), tau (us), breach threshold (0: no auto-ban), breach window (ms),
 *     ban duration (ms), the value to ban
 *   Either every dimension passes and all their states advance, or none
 *   advances (a refused request costs nothing), the first refusing dimension is
 *   reported, its breach counter grows and, at the threshold, a temporary ban
 *   is written and the version bumped.
 *   Reply: { version, refused dimension (0: none), retry after (us), banned (0/1) }
 *
 * STRIKE (after a sequence error, off the steady path):
 *   KEYS[1] version key; per identity i = 1..n: strike key, blacklist hash
 *   ARGV[1] n, ARGV[2] threshold, ARGV[3] window (ms), ARGV[4] ban (ms),
 *   ARGV[4+i] value of identity i
 *   Reply: { highest strike count, number of bans written }
 *
 * LISTS (when the version changed): prunes expired entries and returns
 *   { version, then per hash in idgw_acl_lists_keys order: {field, value, ...} }
 */
#ifndef IDGW_ACL_SCRIPT_H
#define IDGW_ACL_SCRIPT_H

#include <stdint.h>

#include <apr_pools.h>

#include "idgw_acl_lists.h"

extern const char idgw_acl_lua_check[];
/* The same check as a part of mod_idgw_session's per-request script
 * (idgw_script.h): body of function(K, A, core), run before the core. */
extern const char idgw_acl_lua_part[];
extern const char idgw_acl_lua_strike[];
extern const char idgw_acl_lua_lists[];

/* What CHECK answered. */
typedef struct {
    int64_t version;     /* of the lists */
    int refused;         /* 0, or 1 + index of the refusing dimension in the call */
    int64_t retry_us;    /* when refused: wait before a request could pass */
    int banned;          /* 1 if this refusal just earned an auto-ban */
} idgw_acl_check_reply;

/* Parses the DENY code of the folded check, "IDGW-ACL-429:D:RETRY:BANNED:VER".
 * Returns 1 and fills *out, or 0 when code is anything else. */
int idgw_acl_deny_code_parse(const char *code, idgw_acl_check_reply *out);

/* Rate-limit dimensions. */
typedef enum {
    IDGW_ACL_DIM_ADDR = 0,
    IDGW_ACL_DIM_TERMINAL,
    IDGW_ACL_DIM_ENDPOINT,
    IDGW_ACL_DIMS
} idgw_acl_dim;

const char *idgw_acl_dim_name(idgw_acl_dim dim);   /* "addr", "terminal", "endpoint" */
int idgw_acl_dim_parse(const char *name);          /* -1 when unknown */

/* The list kind a breach of dim bans, or -1 (an endpoint is never banned). */
int idgw_acl_dim_ban_kind(idgw_acl_dim dim);

/* Key names (allocated from p). */
const char *idgw_acl_key_version(apr_pool_t *p, const char *prefix);
const char *idgw_acl_key_list(apr_pool_t *p, const char *prefix,
                              idgw_acl_list list, idgw_acl_kind kind);
const char *idgw_acl_key_rate(apr_pool_t *p, const char *prefix,
                              idgw_acl_dim dim, const char *value);
const char *idgw_acl_key_breach(apr_pool_t *p, const char *prefix,
                                idgw_acl_dim dim, const char *value);
const char *idgw_acl_key_strike(apr_pool_t *p, const char *prefix,
                                idgw_acl_kind kind, const char *value);

/* The hashes LISTS reads, in reply order: every list x every kind. */
#define IDGW_ACL_LIST_KEYS (IDGW_ACL_LISTS * IDGW_ACL_KINDS)
void idgw_acl_lists_keys(apr_pool_t *p, const char *prefix,
                         const char *keys[IDGW_ACL_LIST_KEYS]);

#endif /* IDGW_ACL_SCRIPT_H */
