/*
 * idgw_session_touch.h - which sessions this child refreshed a moment ago.
 *
 * Why: every accepted request of a session refreshes its idle timer in
 * Redis (PEXPIRE of its hash and vault, in the session script).  A status
 * poll otherwise only reads: with the refresh it must be a script, without
 * it one pipelined read (idgw_session_status_read.c) that costs Redis a
 * fraction.  So a status of a session this child refreshed less than
 * IDGW_TOUCH_FRESH(idle) ago skips the refresh: the idle timeout then counts
 * from at most that much before the session's last request (1/16 of the
 * idle timeout, at most a second; docs/directives.md, IdgwSessionIdleTimeout).
 *
 * Only the timer is at stake: what the read finds is judged like the script
 * would judge it, and anything but a live, matching session goes to the
 * script.  Bounded and direct-mapped: a session evicted by another (or by a
 * flood of made-up tokens) only costs its next status the script.
 * Thread-safe.
 */
#ifndef IDGW_SESSION_TOUCH_H
#define IDGW_SESSION_TOUCH_H

#include <apr_pools.h>
#include <apr_time.h>

/* How recent a refresh lets a status skip its own: idle/16, at most 1 s. */
#define IDGW_TOUCH_FRESH(idle) \
    ((idle) / 16 < apr_time_from_sec(1) ? (idle) / 16 : apr_time_from_sec(1))

typedef struct idgw_touch_table idgw_touch_table;

/* At least `slots` entries (a power of two, 64 .. 1<<20) from p; NULL or why not. */
const char *idgw_touch_table_create(idgw_touch_table **out, apr_pool_t *p, unsigned slots);

/* 1 when this child refreshed session sid (IDGW_SID_HEX hex digits) in
 * Redis within `fresh` before now. */
int idgw_touch_recent(idgw_touch_table *t, const char *sid, apr_time_t now,
                      apr_interval_time_t fresh);

/* The session script refreshed sid's timer at `now`. */
void idgw_touch_record(idgw_touch_table *t, const char *sid, apr_time_t now);

/* sid was refused (ended, unknown, mismatched): its next status goes to the script. */
void idgw_touch_forget(idgw_touch_table *t, const char *sid);

#endif
