/* idgw_acl_script: the fleet-wide side of access control, as Redis Lua
 * scripts and the key names they use.
 *
 * Keys (PREFIX is the Redis key prefix shared with mod_idgw_session):
 *   PREFIXacl:ver                  version of the lists: on every change
 *                                  max(current + 1, Redis TIME in us), so it
 *                                  never repeats, even after a data loss
 *   PREFIXacl:bl:KIND              blacklist hash, KIND terminal|idm|user|addr,
 *   PREFIXacl:wl:KIND              whitelist hash; field = value, value =
 *                                  EXPIRES_MS|ADDED_MS|SOURCE|REASON
 *   PREFIXacl:rl:DIM:VALUE         GCRA state (microseconds), DIM addr|terminal|endpoint
 *   PREFIXacl:br:DIM:VALUE         limit breaches in the current breach window
 *   PREFIXacl:st:KIND:VALUE        sequence-error strikes in the current window
 *   PREFIXacl:sb:KIND              shadow bans (an IdgwAclAutoBan in shadow mode
 *                                  writes here, not to acl:bl): same format
 *                                  and version as the lists, refuse nobody
 *   PREFIXacl:sr:KIND:VALUE        shadow refusals recorded against a terminal
 *                                  id or address: LAYER:RULE -> count,
 *                                  LAYER:RULE:last -> ms; kept 7 days
 *
 * All time comes from Redis (TIME), so the nodes' clocks do not matter and
 * every node applies the same limit to the same state.
 *
 * Every change of the lists bumps the version and PUBLISHes it on a channel
 * of the version key's own name (PREFIXacl:ver): each node's listener
 * (idgw_acl_sync.h) then reloads the lists with LISTS.  No request reads the
 * version or the lists.
 *
 * LISTS, run by the listener: K[1] version key, K[2..13] the list hashes
 *   (idgw_acl_lists_keys order: blacklist, whitelist, shadow bans), A[1] the
 *   version this node holds ("-1": none).  Reply { version, lists } where
 *   lists is 0 when the node's version is current, else twelve flat
 *   {field, value, ...} arrays (expired entries pruned on the way).  A
 *   missing version key (a flush, a restart without persistence) is given a
 *   number from the clock at once, so it never matches any node's copy.
 *
 * CHECK, once per request: the fleet-wide rate limits.  Folded into
 *   mod_idgw_session's per-request script as a part that runs before the
 *   session core (so the steady path costs one round trip in all), or run
 *   alone where no session check runs.  Body of function(K, A, P, C):
 *   per limited dimension i = 1..n two keys: rate key, breach key; then the
 *   unproven terminal's rate key (below) when there is one, then the shadow
 *   records of the request's subjects (0..2 keys).
 *   A[1] n, then per dimension five values:
 *     T (us), tau (us), breach threshold (0: no auto-ban), breach window (ms),
 *     tokens wanted (1: the request's own; more: a lease, idgw_acl_lease.h)
 *   then A[2 + 5n]: the dimension (1..n) that counts only a proven session's
 *   identity (the terminal's), 0: none; when set, K[1 + 2n] is its rate key
 *   for an unproven request (PREFIXacl:rl:terminal:TID@ADDRESS: the id as
 *   named from this client address), whose refusals earn no ban.  P (the
 *   third parameter; nil standalone: nothing is proven) says which applies.
 *   Then (absent: all 0) shadow mode: A[3 + 5n] the dimensions in shadow
 *   mode (bit i-1), the number of subject keys, the number m of rules
 *   already noted, the m "LAYER:RULE" fields, and when any dimension is in
 *   shadow mode its n field names.  A dimension in shadow mode that would
 *   refuse is let through, its state not advanced, its breach counted, and
 *   recorded with the noted rules.
 *   Either every dimension passes and all their states advance, or none
 *   advances (a refused request costs nothing), the first refusing dimension
 *   is reported and its breach counter grows; at the threshold the counter
 *   starts again and the ban is reported due (the node writes it with BAN).
 *   A dimension that passes may take up to wanted - 1 tokens more at once
 *   (its state advances by all of them), but only while the bucket stays
 *   at most half full after them: near its limit a client gets one token
 *   per request, as without leases.
 *   Reply: { refused dimension (0: none), retry after (us), ban due (0/1),
 *            shadow refused (bits), shadow ban due (bits),
 *            { extra tokens granted per dimension (all 0 when refused) } }
 *   As a part, a refusal becomes {'DENY', IDGW_ACL_RATE_CODE, 429, reply}:
 *   the session is never touched, and the node still learns of a ban due.
 *
 * BAN: K[1] version key, K[2] list hash (blacklist or shadow bans); A[1]
 *   value, A[2] duration (ms), A[3] source, A[4] reason.  Writes a temporary
 *   ban unless a permanent or longer one is there, bumps and announces the
 *   version.  Reply: 1 written, 0 not.
 *
 * STRIKES, run on its own when the session core refused a request with a
 *   strike (a sequence error): count it per terminal id and address and ban
 *   at the threshold.
 *   K[1] version key, K[2] strike counter (terminal), K[3] strike counter
 *   (address), K[4] terminal ban hash, K[5] address ban hash
 *   A[1] threshold, A[2] window (ms), A[3] ban (ms), A[4] terminal id or "",
 *   A[5] address entry or "", A[6] scope (1: terminal and address, 2: the
 *   address only)
 *   Reply: the number of bans written.
 */
#ifndef IDGW_ACL_SCRIPT_H
#define IDGW_ACL_SCRIPT_H

#include <stdint.h>

#include <apr_pools.h>

#include "idgw_acl_lists.h"

/* The code a folded CHECK denies with (same as IDGW_E_ACL_RATE). */
#define IDGW_ACL_RATE_CODE "IDGW-ACL-004"

/* Number of list hashes and the first per-dimension key in CHECK. */
#define IDGW_ACL_LIST_KEYS (IDGW_ACL_LISTS * IDGW_ACL_KINDS)

extern const char idgw_acl_lua_lists[];        /* LISTS, the listener's read */
extern const char idgw_acl_lua_check[];        /* standalone script */
extern const char idgw_acl_lua_part[];         /* CHECK as a "before" part */
extern const char idgw_acl_lua_part_setup[];   /* its definitions (part setup) */
extern const char idgw_acl_lua_ban[];          /* BAN */
extern const char idgw_acl_lua_strikes[];      /* STRIKES */
extern const char idgw_acl_lua_count_strike[]; /* COUNT_STRIKE (Redis Cluster) */
extern const char idgw_acl_lua_shadow_record[]; /* SHADOW_RECORD, standalone */

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

/* The Redis Cluster key layout (IdgwRedisCluster): the version and the
 * list hashes become PREFIXacl:{lists}:ver, PREFIXacl:{lists}:bl:KIND, ...,
 * one slot.  Set in post_config, before any key is named. */
void idgw_acl_keys_cluster_layout(int on);

/* Key names (allocated from p). */
const char *idgw_acl_key_version(apr_pool_t *p, const char *prefix);
const char *idgw_acl_key_list(apr_pool_t *p, const char *prefix,
                              idgw_acl_list list, idgw_acl_kind kind);
const char *idgw_acl_key_rate(apr_pool_t *p, const char *prefix,
                              idgw_acl_dim dim, const char *value);
/* The terminal dimension's key for a request of no proven session: the id as
 * named from this rate-limit address (a claim counts where it comes from). */
const char *idgw_acl_key_rate_claim(apr_pool_t *p, const char *prefix,
                                    const char *terminal, const char *addr);
const char *idgw_acl_key_breach(apr_pool_t *p, const char *prefix,
                                idgw_acl_dim dim, const char *value);
const char *idgw_acl_key_strike(apr_pool_t *p, const char *prefix,
                                idgw_acl_kind kind, const char *value);

/* The list hashes in CHECK's key and reply order: every list x every kind. */
void idgw_acl_lists_keys(apr_pool_t *p, const char *prefix,
                         const char *keys[IDGW_ACL_LIST_KEYS]);

#endif /* IDGW_ACL_SCRIPT_H */
