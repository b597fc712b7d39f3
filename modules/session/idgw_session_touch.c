/*
 * idgw_session_touch.c - the sessions this child refreshed a moment ago
 * (see idgw_session_touch.h for why).
 *
 * The session id is already the first 128 bits of a SHA-256 of the token,
 * so its first 64 bits index and name an entry: nobody can aim a made-up
 * token at another session's entry (the worst a flood does is evict, which
 * only sends statuses to the script).
 */
#include "idgw_session_touch.h"

#include <stdint.h>
#include <string.h>

#include <apr_thread_mutex.h>

#define SLOTS_MIN 64u
#define SLOTS_MAX (1u << 20)
#define STRIPES 16

typedef struct {
    uint64_t id;            /* 0 = empty */
    apr_time_t touched;
} entry;

struct idgw_touch_table {
    entry *slots;
    unsigned mask;
#if APR_HAS_THREADS
    apr_thread_mutex_t *locks[STRIPES];
#endif
};

const char *idgw_touch_table_create(idgw_touch_table **out, apr_pool_t *p, unsigned slots)
{
    idgw_touch_table *t = apr_pcalloc(p, sizeof(*t));
    unsigned n = SLOTS_MIN;

    while (n < slots && n < SLOTS_MAX)
        n <<= 1;
    t->slots = apr_pcalloc(p, sizeof(entry) * n);
    t->mask = n - 1;
#if APR_HAS_THREADS
    for (int i = 0; i < STRIPES; i++) {
        if (apr_thread_mutex_create(&t->locks[i], APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
            return "cannot create the touch table's mutexes";
    }
#endif
    *out = t;
    return NULL;
}

/* The first 16 hex digits of the session id; 0 for anything else. */
static uint64_t sid_id(const char *sid)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 16; i++) {
        char c = sid[i];
        unsigned d;

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return 0;
        v = v << 4 | d;
    }
    return v ? v : 1;
}

static entry *slot_of(idgw_touch_table *t, uint64_t id, apr_thread_mutex_t **lock)
{
    size_t i = (size_t)(id & t->mask);

#if APR_HAS_THREADS
    *lock = t->locks[i % STRIPES];
    apr_thread_mutex_lock(*lock);
#else
    *lock = NULL;
#endif
    return &t->slots[i];
}

static void release(apr_thread_mutex_t *lock)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(lock);
#else
    (void)lock;
#endif
}

int idgw_touch_recent(idgw_touch_table *t, const char *sid, apr_time_t now,
                      apr_interval_time_t fresh)
{
    uint64_t id = sid_id(sid);
    apr_thread_mutex_t *lock;
    entry *e;
    int recent;

    if (!id)
        return 0;
    e = slot_of(t, id, &lock);
    recent = e->id == id && now >= e->touched && now - e->touched < fresh;
    release(lock);
    return recent;
}

void idgw_touch_record(idgw_touch_table *t, const char *sid, apr_time_t now)
{
    uint64_t id = sid_id(sid);
    apr_thread_mutex_t *lock;
    entry *e;

    if (!id)
        return;
    e = slot_of(t, id, &lock);
    e->id = id;
    e->touched = now;
    release(lock);
}

void idgw_touch_forget(idgw_touch_table *t, const char *sid)
{
    uint64_t id = sid_id(sid);
    apr_thread_mutex_t *lock;
    entry *e;

    if (!id)
        return;
    e = slot_of(t, id, &lock);
    if (e->id == id)
        e->id = 0;
    release(lock);
}
