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
 * CHECK, once per request: the fleet-wide rate limits, and the lists when
 * this node's copy is out of date.  Folded into mod_idgw_session's
 * per-request script as a part that runs before the session core (so the
 * steady path costs one round trip in all), or run alone where no session
 * check runs.  Body of function(K, A, P):
 *   K[1] version key, K[2..13] the list hashes (idgw_acl_lists_keys order:
 *   blacklist, whitelist, shadow bans), then per limited dimension
 *   i = 1..n three keys:
 *     rate key, breach key, the hash a breach ban of the dimension's kind
 *     goes to (the blacklist, or the shadow bans in shadow mode),
 *   then the unproven terminal's rate key (below) when there is one, then
 *   the shadow records of the request's subjects (0..2 keys)
 *   A[1] n, A[2] the version this node holds ("-1": none), A[3] the code
 *   this node's copy of the lists refuses the request with ("" if none),
 *   then per dimension six values:
 *     T (us), tau (us), breach threshold (0: no auto-ban), breach window (ms),
 *     ban duration (ms), the value to ban
 *   then A[4 + 6n]: the dimension (1..n) that counts only a proven session's
 *   identity (the terminal's), 0: none; when set, K[14 + 3n] is its rate key
 *   for an unproven request (PREFIXacl:rl:terminal:TID@ADDRESS: the id as
 *   named from this client address), whose refusals earn no ban.  P (the
 *   third parameter; nil standalone: nothing is proven) says which applies.
 *   Then (absent: all 0) shadow mode: A[5 + 6n] the dimensions in shadow
 *   mode (bit i-1), the number of subject keys, the number m of rules
 *   already noted, the m "LAYER:RULE" fields, and when any dimension is in
 *   shadow mode its n field names.  A dimension in shadow mode that would
 *   refuse is let through, its state not advanced, its breach counted (a
 *   breach ban then goes to the hash the node gave), and recorded with the
 *   noted rules.
 *   A missing version key (the lists were reset: a flush, a restart
 *   without persistence) is given a number from the clock at once, so it
 *   never matches any node's copy and every node reloads the (empty) lists.
 *   Either every dimension passes and all their states advance, or none
 *   advances (a refused request costs nothing), the first refusing dimension
 *   is reported, its breach counter grows and, at the threshold, a temporary
 *   ban is written and the version bumped (as every change bumps it).
 *   When A[3] is set and the node's version is current, the lists' refusal
 *   is confirmed at once and no limit is touched.
 *   Reply: { version, refused dimension (0: none), retry after (us),
 *            banned (0/1), lists, confirmed (0/1), shadow refused (bits),
 *            shadow banned (bits) }  where lists is 0 when
 *   the node's version is current, else twelve flat {field, value, ...}
 *   arrays (expired entries pruned on the way).
 *   As a part, a confirmed refusal becomes {'DENY', A[3], 403} and a limit's
 *   {'DENY', IDGW_ACL_RATE_CODE, 429}: the session is never touched.
 *
 * STRIKES, a part after the session core: when the core refused the request
 * with a strike (a sequence error), count it per terminal id and address and
 * ban at the threshold.  Body of function(K, A, core):
 *   K[1] version key, K[2] strike counter (terminal), K[3] strike counter
 *   (address), K[4] blacklist terminal hash, K[5] blacklist addr hash
 *   A[1] threshold, A[2] window (ms), A[3] ban (ms), A[4] terminal id or "",
 *   A[5] address entry or ""
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

extern const char idgw_acl_lua_check[];        /* standalone script */
extern const char idgw_acl_lua_part[];         /* CHECK as a "before" part */
extern const char idgw_acl_lua_part_setup[];   /* its definitions (part setup) */
extern const char idgw_acl_lua_strikes_part[]; /* STRIKES as an "after" part */
extern const char idgw_acl_lua_strikes_part_setup[]; /* its helpers (part setup) */
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
