/* idgw_acl_lease: local shares of the fleet-wide rate limits.
 *
 * Why: the fleet-wide GCRA (idgw_acl_script.h, CHECK) costs Redis a read and
 * a write per limited dimension on every request.  A client that keeps a
 * child busy (a phone polling its session, every phone behind a carrier NAT
 * address) asks Redis the same question again and again.  So when CHECK
 * admits a request it may also hand this child a few more of the same
 * dimension's tokens, taken from the fleet-wide state at once (the bucket's
 * level rises by all of them: nothing is admitted that the fleet-wide limit
 * would not have admitted then).  The child spends them on the next requests
 * of that dimension and value without asking Redis; when they run out or
 * expire, the next request asks again.
 *
 * What it costs in precision: tokens a child holds but does not spend are
 * lost to the others until they expire (IDGW_ACL_LEASE_TTL after the key's
 * last grant), and no refusal is ever softened by them.  CHECK grants extra tokens only while the
 * fleet-wide bucket stays at most half full after the grant, so a client
 * near its limit gets one token per request, exactly as without leases.
 *
 * How many a child asks for adapts per key: 1 (no lease) for a key it has
 * not seen within the TTL; doubling, up to the cap, each time a lease ran
 * out before expiring; halving when one expired unspent.  A cold key never
 * strands tokens, a hot one asks Redis about once per `cap` requests.
 *
 * The table is bounded (set-associative, keyed by SipHash under a random
 * per-process secret, like the per-process limiter's): a client naming many
 * values evicts leases, which only sends more requests to Redis.
 * Thread-safe (striped mutexes).
 */
#ifndef IDGW_ACL_LEASE_H
#define IDGW_ACL_LEASE_H

#include <stddef.h>

#include <apr_pools.h>
#include <apr_time.h>

/* How long the tokens of a lease may be spent. */
#define IDGW_ACL_LEASE_TTL apr_time_from_msec(1000)
/* The most tokens one lease may hold (IdgwAclLocalShare's upper bound). */
#define IDGW_ACL_LEASE_MAX 1024u

typedef struct idgw_acl_leases idgw_acl_leases;

/* A table of at least `slots` entries (rounded up to a power of two,
 * 64 .. 1<<20) from pool p.  Returns NULL or why not (static string). */
const char *idgw_acl_leases_create(idgw_acl_leases **out, apr_pool_t *p, unsigned slots);

/* Spends one token of key's lease if it holds one that has not expired:
 * returns 1.  Otherwise returns 0 and sets *want to how many tokens the
 * fleet-wide check should ask for (the request's own included: 1 means no
 * lease), at most cap + 1; the key is remembered as seen. */
int idgw_acl_lease_take(idgw_acl_leases *t, const char *key, size_t len, apr_time_t now,
                        unsigned cap, unsigned *want);

/* Adds `extra` tokens the fleet-wide check granted for key beyond the
 * request's own to those it holds (up to IDGW_ACL_LEASE_MAX: several
 * threads may have asked at once), all spendable until now +
 * IDGW_ACL_LEASE_TTL.  extra 0 with no tokens left records that nothing was
 * granted (the bucket is over half full): the next ask is smaller. */
void idgw_acl_lease_grant(idgw_acl_leases *t, const char *key, size_t len, unsigned extra,
                          apr_time_t now);

#endif /* IDGW_ACL_LEASE_H */
