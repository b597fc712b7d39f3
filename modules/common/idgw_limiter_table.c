/* The per-process limiter table (see idgw_limiter.h): a bounded,
 * set-associative table of GCRA states, keyed by SipHash-2-4 of the key under
 * a random per-process secret, so a client cannot craft keys that collide and
 * evict each other on purpose.  Sets are grouped under striped mutexes so the
 * event MPM's worker threads rarely wait on each other. */
#include "idgw_limiter.h"

#include <string.h>

#include <apr_general.h>
#include <apr_thread_mutex.h>

#define WAYS 4            /* entries per set */
#define STRIPES 64        /* mutexes per table */
#define SLOTS_MIN 64u
#define SLOTS_MAX (1u << 22)

typedef struct {
    uint64_t hash;        /* 0 = empty */
    int64_t tat;
} slot;

struct idgw_limiter {
    slot *slots;
    unsigned nslots;
    unsigned set_mask;    /* number of sets - 1 */
    unsigned char secret[16];
#if APR_HAS_THREADS
    apr_thread_mutex_t *locks[STRIPES];
#endif
};

/* ---- SipHash-2-4 (Aumasson & Bernstein), reference layout ---------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                         \
    do {                                                                 \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);        \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                           \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                           \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);        \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

uint64_t idgw_siphash24(const unsigned char key[16], const void *data, size_t len)
{
    const unsigned char *in = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)len << 56, m;
    size_t full = len - (len % 8);

    for (size_t i = 0; i < full; i += 8) {
        m = load_le64(in + i);
        v3 ^= m;
        SIPROUND; SIPROUND;
        v0 ^= m;
    }
    for (size_t i = 0; i < len % 8; i++) {
        b |= (uint64_t)in[full + i] << (8 * i);
    }
    v3 ^= b;
    SIPROUND; SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND; SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- table ------------------------------------------------------------------ */

const char *idgw_limiter_create(idgw_limiter **out, apr_pool_t *p, unsigned slots)
{
    idgw_limiter *l = apr_pcalloc(p, sizeof(*l));
    unsigned n = SLOTS_MIN;

    if (slots > SLOTS_MAX) {
        return "limiter table size must be at most 4194304 entries";
    }
    while (n < slots) {
        n <<= 1;
    }
    l->nslots = n;
    l->set_mask = n / WAYS - 1;
    l->slots = apr_pcalloc(p, sizeof(slot) * n);
    if (apr_generate_random_bytes(l->secret, sizeof(l->secret)) != APR_SUCCESS) {
        return "cannot read random bytes for the limiter's hash key";
    }
#if APR_HAS_THREADS
    for (int i = 0; i < STRIPES; i++) {
        if (apr_thread_mutex_create(&l->locks[i], APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS) {
            return "cannot create the limiter's mutexes";
        }
    }
#endif
    *out = l;
    return NULL;
}

unsigned idgw_limiter_slots(const idgw_limiter *l)
{
    return l->nslots;
}

/* Finds key's entry in its set, or picks the one to replace: an empty slot,
 * else the idlest (smallest tat: the least debt is lost by forgetting it). */
static slot *find_slot(slot *set, uint64_t hash, int *found)
{
    slot *empty = NULL, *idlest = &set[0];

    for (int i = 0; i < WAYS; i++) {
        if (set[i].hash == hash) {
            *found = 1;
            return &set[i];
        }
        if (set[i].hash == 0) {
            if (empty == NULL) {
                empty = &set[i];
            }
        }
        else if (set[i].tat < idlest->tat) {
            idlest = &set[i];
        }
    }
    *found = 0;
    return empty ? empty : idlest;
}

int idgw_limiter_check(idgw_limiter *l, const idgw_gcra *g, const char *key,
                       size_t keylen, int64_t now, int64_t *retry_after)
{
    uint64_t hash = idgw_siphash24(l->secret, key, keylen);
    unsigned set_index;
    slot *set, *s;
    int found;
    idgw_gcra_result res;

    if (hash == 0) {
        hash = 1;   /* 0 marks an empty slot */
    }
    set_index = (unsigned)(hash >> 32) & l->set_mask;
    set = &l->slots[(size_t)set_index * WAYS];
#if APR_HAS_THREADS
    apr_thread_mutex_lock(l->locks[set_index % STRIPES]);
#endif
    s = find_slot(set, hash, &found);
    idgw_gcra_check(g, found ? s->tat : 0, now, &res);
    if (res.allowed || found) {
        s->hash = hash;
        s->tat = res.new_tat;
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(l->locks[set_index % STRIPES]);
#endif
    if (retry_after) {
        *retry_after = res.retry_after;
    }
    return res.allowed;
}
