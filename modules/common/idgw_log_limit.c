/* idgw_log_limit.c - one loud log line a second per process (idgw_log_limit.h). */
#include "idgw_log_limit.h"

#include <apr_atomic.h>
#include <apr_time.h>

int idgw_log_limit_pass(idgw_log_limit *l, apr_uint32_t *events)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&l->last_sec);

    apr_atomic_inc32(&l->events);
    /* the thread whose compare-and-swap moves the second on writes the
     * line; every other one of that second only counted its event */
    if (now == last || apr_atomic_cas32(&l->last_sec, now, last) != last) {
        return 0;
    }
    *events = apr_atomic_xchg32(&l->events, 0);
    return 1;
}
