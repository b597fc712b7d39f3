/* idgw_acl_lease: local shares of the fleet-wide rate limits (see
 * idgw_acl_lease.h for why and what it costs in precision). */
#include "idgw_acl_lease.h"

#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_thread_mutex.h>

#include "idgw_limiter.h"   /* idgw_siphash24 */

#define WAYS 4
#define STRIPES 16
#define SLOTS_MIN 64u
#define SLOTS_MAX (1u << 20)

typedef struct {
    uint64_t hash;          /* 0 = empty */
    apr_time_t seen;        /* the last request of the key here */
    apr_time_t expires;     /* the lease's end (0: never had one) */
    uint32_t left;          /* its tokens not spent yet */
    uint32_t want;          /* what the last miss asked for */
    int drained;            /* the lease ran out before it expired */
} entry;

struct idgw_acl_leases {
    entry *slots;
    unsigned set_mask;
    unsigned char secret[16];
#if APR_HAS_THREADS
    apr_thread_mutex_t *locks[STRIPES];
#endif
};

const char *idgw_acl_leases_create(idgw_acl_leases **out, apr_pool_t *p, unsigned slots)
{
    idgw_acl_leases *t = apr_pcalloc(p, sizeof(*t));
    unsigned n = SLOTS_MIN;

    while (n < slots && n < SLOTS_MAX) {
        n <<= 1;
    }
    t->slots = apr_pcalloc(p, sizeof(entry) * n);
    t->set_mask = n / WAYS - 1;
    if (apr_generate_random_bytes(t->secret, sizeof(t->secret)) != APR_SUCCESS) {
        return "no random bytes for the lease table's secret";
    }
#if APR_HAS_THREADS
    for (int i = 0; i < STRIPES; i++) {
        if (apr_thread_mutex_create(&t->locks[i], APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
            return "cannot create the lease table's mutexes";
        }
    }
#endif
    *out = t;
    return NULL;
}

/* The key's entry, made (in place of the idlest of its set) when missing;
 * called with its stripe locked. */
static entry *find(idgw_acl_leases *t, uint64_t h, int make)
{
    entry *set = t->slots + (size_t)(h & t->set_mask) * WAYS;
    entry *victim = set;

    for (int i = 0; i < WAYS; i++) {
        if (set[i].hash == h) {
            return &set[i];
        }
        if (set[i].hash == 0 || (victim->hash != 0 && set[i].seen < victim->seen)) {
            victim = &set[i];
        }
    }
    if (!make) {
        return NULL;
    }
    memset(victim, 0, sizeof(*victim));
    victim->hash = h;
    return victim;
}

static uint64_t key_hash(const idgw_acl_leases *t, const char *key, size_t len)
{
    uint64_t h = idgw_siphash24(t->secret, key, len);
    return h ? h : 1;
}

static void lock(idgw_acl_leases *t, uint64_t h)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(t->locks[(h & t->set_mask) % STRIPES]);
#endif
}

static void unlock(idgw_acl_leases *t, uint64_t h)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(t->locks[(h & t->set_mask) % STRIPES]);
#endif
}

/* What a key whose lease is gone asks for next: nothing extra unless it was
 * seen within the TTL; then twice the last ask when the lease ran out
 * early, half when it expired unspent or nothing was granted, but always
 * one extra token at least (a key seen within the TTL is worth one: ask
 * for none, and no grant would ever tell this table to ask for more). */
static unsigned next_want(const entry *e, apr_time_t now, unsigned cap)
{
    unsigned w;

    if (cap == 0 || e->seen == 0 || now - e->seen >= IDGW_ACL_LEASE_TTL) {
        return 1;
    }
    if (e->expires == 0) {
        w = 2;
    }
    else if (e->drained) {
        w = e->want < 2 ? 2 : e->want * 2;
    }
    else {
        w = e->want / 2;
    }
    if (w < 2) {
        w = 2;
    }
    return w > cap + 1 ? cap + 1 : w;
}

int idgw_acl_lease_take(idgw_acl_leases *t, const char *key, size_t len, apr_time_t now,
                        unsigned cap, unsigned *want)
{
    uint64_t h = key_hash(t, key, len);
    entry *e;
    int spent = 0;

    lock(t, h);
    e = find(t, h, 1);
    if (e->left > 0 && now < e->expires) {
        e->left--;
        e->drained = e->left == 0;
        spent = 1;
    }
    else {
        e->want = next_want(e, now, cap);
        e->left = 0;
        *want = e->want;
    }
    e->seen = now;
    unlock(t, h);
    return spent;
}

void idgw_acl_lease_grant(idgw_acl_leases *t, const char *key, size_t len, unsigned extra,
                          apr_time_t now)
{
    uint64_t h = key_hash(t, key, len);
    entry *e;

    lock(t, h);
    e = find(t, h, 1);
    /* Added, not replaced: under load several threads of this child miss at
     * once and each brings back a share; replacing would throw all but one
     * away (they were charged fleet-wide all the same) and send every
     * thread to Redis again at once. */
    if (now >= e->expires) {
        e->left = 0;
    }
    e->left += extra;
    if (e->left > IDGW_ACL_LEASE_MAX) {
        e->left = IDGW_ACL_LEASE_MAX;
    }
    if (extra > 0 || e->left == 0) {
        e->expires = now + IDGW_ACL_LEASE_TTL;
        e->drained = 0;
    }
    if (e->seen == 0) {
        e->seen = now;
    }
    unlock(t, h);
}
