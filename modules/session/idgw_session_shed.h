/*
 * idgw_session_shed.h - load shedding in front of the session script, so a
 * flood of cheap requests (status, sequence errors from sessions an attacker
 * opened) cannot push Redis to saturation and take every node down with it.
 *
 * Two defences, both decided in this process without a single Redis command:
 *
 *  - local limits (IdgwShedLocalLimit session|addr RATE [BURST]): GCRA per
 *    session (the hash of the token) and per client address (an IPv6 client
 *    by its /64), in the per-process limiter of modules/common
 *    (idgw_limiter.h): a bounded table (IDGW_SHED_TABLE_SLOTS states, 16
 *    bytes each) whose idlest entry gives way to a new key, so a flood of
 *    distinct keys costs no memory and at worst forgives an idle key its
 *    debt.  The table is per child, shared by the child's worker threads;
 *    the children do not share it, so the effective limit per node is the
 *    configured one times the number of children a client's connections
 *    land in (at most ServerLimit).  Redis still sees a bounded rate per
 *    key, which is what matters here; the fleet-wide, exact limits are
 *    mod_idgw_acl's.
 *
 *  - latency shedding (IdgwShedLatency DURATION): every script run on the
 *    session's pool is timed (idgw_session_run) into a moving average per
 *    child; while it stays above the bound, session/status requests are
 *    refused (503 IDGW-SRV-005, Retry-After) before they reach Redis, and
 *    provisioning steps go on.  A child that sees no fresh sample for
 *    IDGW_SHED_PROBE_AFTER lets one status request through to measure again,
 *    so shedding never outlives the slowness.
 *
 * Every refusal is counted in idgw_shed_total{class,reason} and logged with
 * a stable id at most once a second per kind and child (with the number of
 * lines left out), so the flood cannot flood the error log either.
 */
#ifndef IDGW_SESSION_SHED_H
#define IDGW_SESSION_SHED_H

#include <http_config.h>
#include <httpd.h>

#include "idgw_limiter.h"
#include "idgw_session_call.h"

#define IDGW_SHED_TABLE_SLOTS  32768                  /* per child: 512 KiB */
#define IDGW_SHED_PROBE_AFTER  apr_time_from_sec(1)

typedef enum { IDGW_SHED_SESSION = 0, IDGW_SHED_ADDR, IDGW_SHED_KEYS } idgw_shed_key;

typedef struct {
    int set;              /* the directive was given here */
    int on;               /* 0: off */
    uint32_t count, burst;
    int64_t period_us;
    idgw_gcra gcra;
} idgw_shed_limit;

/* Per location (in idgw_session_dir). */
typedef struct idgw_shed_dir {
    idgw_shed_limit limit[IDGW_SHED_KEYS];
    apr_interval_time_t latency;   /* IDGW_UNSET; 0: off */
} idgw_shed_dir;

void idgw_shed_dir_init(idgw_shed_dir *d);
void idgw_shed_dir_merge(idgw_shed_dir *d, const idgw_shed_dir *base, const idgw_shed_dir *add);

/* Directive handlers; their dir config is the idgw_session_dir. */
const char *idgw_shed_set_limit(cmd_parms *cmd, void *dconf, const char *key,
                                const char *rate, const char *burst);
const char *idgw_shed_set_latency(cmd_parms *cmd, void *dconf, const char *arg);

#define IDGW_SHED_CMDS                                                                     \
    AP_INIT_TAKE23("IdgwShedLocalLimit", idgw_shed_set_limit, NULL, OR_AUTHCFG | ACCESS_CONF, \
                   "IdgwShedLocalLimit session|addr RATE [BURST] | session|addr off - "     \
                   "per-process limit refused before any Redis command (default off)"),    \
    AP_INIT_TAKE1("IdgwShedLatency", idgw_shed_set_latency, NULL, OR_AUTHCFG | ACCESS_CONF, \
                  "IdgwShedLatency duration|off - shed session/status while Redis "         \
                  "round trips average more than this (default off)")

/* The limiter table of this child (child_init).  NULL or why not. */
const char *idgw_shed_child_init(apr_pool_t *pchild);

/* One script round trip took `elapsed` (a timeout counts as what it cost). */
void idgw_shed_observe(apr_interval_time_t elapsed);

/* Before the session script: OK, or the refusal (answer sent, DONE).
 * token: the request's token (NULL for open). */
int idgw_shed_check(request_rec *r, const idgw_shed_dir *d, const idgw_session_request *rq,
                    const char *token);

#endif
