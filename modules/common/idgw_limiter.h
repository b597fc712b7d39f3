/* idgw_limiter: rate limiting with GCRA (the generic cell rate algorithm,
 * i.e. a leaky bucket kept as one number, the "theoretical arrival time").
 *
 * Why GCRA: one integer of state per key, no window, so there is no burst at
 * a window edge (a fixed window lets 2x the limit through around the edge);
 * the same arithmetic runs here (per-process limiter) and in the fleet-wide
 * Lua script (idgw_acl_script.c), so both sides agree on what a limit means.
 *
 * All times are integers in microseconds.  A limit "COUNT per PERIOD with
 * BURST" becomes:
 *   T   (emission interval) = ceil(PERIOD / COUNT)   -- never looser than asked
 *   tau (tolerance)         = (BURST - 1) * T
 * A request at time now against state tat is allowed when
 *   max(tat, now) - now <= tau,  and then tat' = max(tat, now) + T.
 * So from idle at most BURST requests pass at once, then one per T; in any
 * interval of length d at most BURST + d / T pass.
 *
 * The per-process limiter (idgw_limiter_*) keeps a bounded table of GCRA
 * states keyed by a keyed hash of "dimension:value", created in child_init and
 * shared by the worker threads of one child under striped mutexes.  It sits in
 * front of Redis with the same limits (mod_idgw_acl widens its tolerance by
 * the breach threshold where breaches earn a ban, so those refusals still
 * reach Redis and are counted there).  The fleet sees a superset of this
 * process's requests, so what this limiter refuses the fleet-wide one would
 * refuse as well (up to requests the fleet refused but this process counted,
 * which it forgets within one tolerance), and a flood from one client is cut
 * off before it reaches Redis.
 */
#ifndef IDGW_LIMITER_H
#define IDGW_LIMITER_H

#include <stdint.h>
#include <stddef.h>

#include <apr_pools.h>

/* Bounds that keep every sum below INT64_MAX (see idgw_gcra_init). */
#define IDGW_GCRA_PERIOD_MAX_US  (7LL * 24 * 3600 * 1000000)   /* one week */
#define IDGW_GCRA_COUNT_MAX      1000000000u
#define IDGW_GCRA_BURST_MAX      1000000u
#define IDGW_GCRA_NOW_MAX        (INT64_C(1) << 62)

typedef struct {
    int64_t interval;   /* T, microseconds, >= 1 */
    int64_t tolerance;  /* tau = (burst - 1) * T */
} idgw_gcra;

typedef struct {
    int allowed;        /* 1 allowed, 0 refused */
    int64_t new_tat;    /* state to store (unchanged but clamped when refused) */
    int64_t retry_after;/* microseconds until a request would pass (0 if allowed) */
} idgw_gcra_result;

/* Fills g for "count per period_us, burst".  Returns NULL or why the
 * parameters are out of range (a static string). */
const char *idgw_gcra_init(idgw_gcra *g, uint32_t count, int64_t period_us,
                           uint32_t burst);

/* "count per period_us, burst" for an address shared by `by` subscribers (a
 * carrier NAT pool address): count and burst multiplied, within the bounds
 * above.  *configured (the limit as written) when by <= 1 or out of range:
 * never looser than the configuration means. */
idgw_gcra idgw_gcra_scaled(const idgw_gcra *configured, uint32_t count, int64_t period_us,
                           uint32_t burst, uint32_t by);

/* Decides one request.  tat is the stored state (0 or anything <= now means
 * idle).  If the clock went backwards so that tat lies further ahead than any
 * allowed request can have pushed it (now + tau + T), tat is clamped to that
 * bound first: a clock step costs at most one interval, never a lock-out.
 * now must be in [0, IDGW_GCRA_NOW_MAX]; a value outside is clamped. */
void idgw_gcra_check(const idgw_gcra *g, int64_t tat, int64_t now,
                     idgw_gcra_result *res);

/* Parses "COUNT/UNIT" where UNIT is s, m, h, d or a number of seconds
 * ("20/s", "600/m", "5/30").  Returns NULL or an error (static string). */
const char *idgw_rate_parse(const char *text, uint32_t *count, int64_t *period_us);

/* ---- per-process limiter ---------------------------------------------- */

typedef struct idgw_limiter idgw_limiter;

/* Creates a table of at least `slots` entries (rounded up to a power of two,
 * 64 .. 1<<22) from pool p, with its mutexes.  Call in child_init. */
const char *idgw_limiter_create(idgw_limiter **out, apr_pool_t *p, unsigned slots);

/* Checks and, when allowed, records one request for key (e.g. "addr:192.0.2.7")
 * under limit g at time now.  Thread-safe.  Returns 1 allowed, 0 refused;
 * *retry_after (may be NULL) gets the wait in microseconds when refused.
 * When the key's set is full the idlest entry is replaced: the table never
 * grows, and a key can at worst lose its debt (be forgiven), never gain it. */
int idgw_limiter_check(idgw_limiter *l, const idgw_gcra *g, const char *key,
                       size_t keylen, int64_t now, int64_t *retry_after);

/* Number of slots (for tests and the status log line). */
unsigned idgw_limiter_slots(const idgw_limiter *l);

/* SipHash-2-4 of data under a 16-byte key (exposed for the unit tests). */
uint64_t idgw_siphash24(const unsigned char key[16], const void *data, size_t len);

#endif /* IDGW_LIMITER_H */
