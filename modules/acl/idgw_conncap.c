/* idgw_conncap: per-address open connection counts in shared memory (see
 * idgw_conncap.h for the shape and why). */
#include <stdint.h>
#include <string.h>
#include <apr_atomic.h>

#include "idgw_conncap.h"

struct idgw_conncap {
    apr_uint32_t rows;
    apr_uint32_t pad;
    /* then: apr_uint32_t owner[rows]; apr_uint32_t count[rows][BUCKETS] */
};

static volatile apr_uint32_t *owners(const idgw_conncap *t)
{
    return (volatile apr_uint32_t *)(void *)((char *)(uintptr_t)t + sizeof(*t));
}

static volatile apr_uint32_t *row_of(const idgw_conncap *t, int row)
{
    return owners(t) + t->rows + (size_t)row * IDGW_CONNCAP_BUCKETS;
}

size_t idgw_conncap_size(unsigned rows)
{
    return sizeof(idgw_conncap) + sizeof(apr_uint32_t) * rows
           + sizeof(apr_uint32_t) * (size_t)rows * IDGW_CONNCAP_BUCKETS;
}

idgw_conncap *idgw_conncap_init(void *mem, unsigned rows)
{
    idgw_conncap *t = mem;

    memset(mem, 0, idgw_conncap_size(rows));
    t->rows = rows;
    return t;
}

int idgw_conncap_claim_row(idgw_conncap *t, apr_uint32_t pid, idgw_conncap_alive_fn *alive)
{
    volatile apr_uint32_t *own = owners(t);

    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < t->rows; i++) {
            apr_uint32_t cur = apr_atomic_read32(&own[i]);

            /* free rows first; rows of dead processes on the second pass */
            if (pass == 0 ? cur != 0 : (cur == 0 || cur == pid || alive(cur))) {
                continue;
            }
            if (apr_atomic_cas32(&own[i], pid, cur) == cur) {
                volatile apr_uint32_t *c = row_of(t, (int)i);

                for (unsigned b = 0; b < IDGW_CONNCAP_BUCKETS; b++) {
                    apr_atomic_set32(&c[b], 0);
                }
                return (int)i;
            }
        }
    }
    return -1;
}

/* The address as counted: IPv4 whole, IPv6 by its /64 (one subscriber's
 * prefix), hashed (FNV-1a, 64 bits) to two different buckets. */
static void buckets(const idgw_ip *ip, unsigned *b1, unsigned *b2)
{
    apr_uint64_t h = 14695981039346656037ULL;
    size_t n = ip->family == 4 ? 4 : 8;

    h = (h ^ (unsigned char)ip->family) * 1099511628211ULL;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ ip->addr[i]) * 1099511628211ULL;
    }
    *b1 = (unsigned)(h % IDGW_CONNCAP_BUCKETS);
    *b2 = (unsigned)((h >> 32) % IDGW_CONNCAP_BUCKETS);
    if (*b2 == *b1) {
        *b2 = (*b1 + 1) % IDGW_CONNCAP_BUCKETS;
    }
}

static unsigned column(const idgw_conncap *t, unsigned b)
{
    unsigned sum = 0;

    for (unsigned r = 0; r < t->rows; r++) {
        sum += apr_atomic_read32(&row_of(t, (int)r)[b]);
    }
    return sum;
}

unsigned idgw_conncap_count(const idgw_conncap *t, const idgw_ip *ip)
{
    unsigned b1, b2, c1, c2;

    buckets(ip, &b1, &b2);
    c1 = column(t, b1);
    c2 = column(t, b2);
    return c1 < c2 ? c1 : c2;
}

int idgw_conncap_acquire(idgw_conncap *t, int row, const idgw_ip *ip, unsigned cap,
                         unsigned *open)
{
    volatile apr_uint32_t *c;
    unsigned b1, b2, n;

    if (cap == 0 || row < 0 || (unsigned)row >= t->rows) {
        if (open) {
            *open = 0;
        }
        return 1;
    }
    buckets(ip, &b1, &b2);
    c = row_of(t, row);
    /* count first, then look: two connections arriving together cannot both
     * slip under the cap (at worst both are refused at the edge) */
    apr_atomic_inc32(&c[b1]);
    apr_atomic_inc32(&c[b2]);
    n = idgw_conncap_count(t, ip);
    if (open) {
        *open = n;
    }
    if (n > cap) {
        apr_atomic_dec32(&c[b1]);
        apr_atomic_dec32(&c[b2]);
        return 0;
    }
    return 1;
}

void idgw_conncap_release(idgw_conncap *t, int row, const idgw_ip *ip)
{
    volatile apr_uint32_t *c;
    unsigned b1, b2;

    if (row < 0 || (unsigned)row >= t->rows) {
        return;
    }
    buckets(ip, &b1, &b2);
    c = row_of(t, row);
    apr_atomic_dec32(&c[b1]);
    apr_atomic_dec32(&c[b2]);
}
