/*
 * idgw_log_limit.h - at most one log line a second per process for an event
 * an attacker can repeat at will (a refusal, a closed connection), so the
 * error log cannot be flooded, with the count of the events in between so
 * the operator still sees how many there were.
 *
 * A limiter is a static of the process (zero-initialised); any thread may
 * use it: the state changes by atomic operations only.
 */
#ifndef IDGW_LOG_LIMIT_H
#define IDGW_LOG_LIMIT_H

#include <apr.h>

typedef struct {
    apr_uint32_t last_sec;      /* apr_time_sec of the last line let through */
    apr_uint32_t events;        /* events since that line */
} idgw_log_limit;

/*
 * Count one event.  Returns 1 when its line may be written at the loud level
 * (the first event of a new second in this process) and sets *events to the
 * number of events since the last line let through, this one included
 * (1 when none was held back); returns 0 otherwise.
 */
int idgw_log_limit_pass(idgw_log_limit *l, apr_uint32_t *events);

#endif
