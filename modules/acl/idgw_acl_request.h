/* idgw_acl_request: what mod_idgw_acl does for one request.
 *
 *  access phase (check_access_ex, after mod_remoteip set the client address):
 *    bearer restriction, identity headers, per-process limiter, the cached
 *    blacklist and whitelist.  Nothing here talks to Redis.
 *  fleet-wide check (CHECK in idgw_acl_script.h):
 *    folded into mod_idgw_session's per-request script where a session check
 *    runs (one round trip in all), else run alone from a late fixups hook;
 *    it applies the fleet-wide limits and brings this node's copy of the
 *    lists up to date, after which the lists are checked again.
 *  strikes: an "after" part of the session script bans at the threshold.
 *
 * Log ids IDGW03xx belong to this module.
 */
#ifndef IDGW_ACL_REQUEST_H
#define IDGW_ACL_REQUEST_H

#include <httpd.h>
#include <apr_atomic.h>
#include <util_filter.h>

#include "idgw_acl_cache.h"
#include "idgw_acl_config.h"
#include "idgw_xml_error.h"
#include "idgw_limiter.h"
#include "idgw_metrics.h"
#include "idgw_redis_pool.h"
#include "mod_idgw.h"

/* A header older apps sent to name their user: ignored (IDGW0314 at debug),
 * the user is who a backend authenticates (idgw_acl_identity_check). */
#define IDGW_ACL_HEADER_USER "X-Idgw-User"

/* Process-wide state: set in post_config (parent) and child_init (child). */
typedef struct {
    const char *prefix;               /* Redis key prefix (mod_idgw_session's) */
    const idgw_redis_cfg *redis_cfg;  /* mod_idgw_session's Redis settings */
    idgw_script check_script;         /* standalone CHECK */
    idgw_script shadow_script;        /* SHADOW_RECORD (idgw_acl_script.h) */
    const idgw_script *scripts[2];
    int folding;                      /* parts registered with the session script */
    /* per child */
    idgw_limiter *limiter;
    idgw_acl_cache *cache;
    idgw_redis_pool *pool;            /* for the standalone CHECK */
    volatile apr_uint32_t degraded;   /* decisions taken without Redis */
    volatile apr_uint32_t local_refusals;
    volatile apr_uint32_t fleet_checks;
    idgw_metrics_fns metrics;         /* mod_idgw_status's counters, if loaded */
} idgw_acl_globals;

extern idgw_acl_globals idgw_acl_g;

/* Per-request state (r->request_config). */
typedef struct {
    const idgw_acl_dir_conf *conf;
    idgw_acl_identity id;
    const char *addr_text;            /* bare client address */
    const char *limit_addr;           /* its rate-limit key: the address, or an IPv6 /64 */
    const char *ban_addr;             /* what an automatic ban lists: a.b.c.d/32 or x::/64 */
    uint32_t nat_subscribers;         /* IdgwAclNatPool: phones behind the address (0: none);
                                         no automatic address ban there */
    int ndims;
    idgw_acl_dim dims[IDGW_ACL_DIMS];
    const char *dim_values[IDGW_ACL_DIMS];
    int fleet_done;                   /* CHECK ran for this request */
    const idgw_error_def *pending;    /* the lists' refusal, to be confirmed */
    const char *verdict_log;          /* its log line */
    int verdict_logged;
    int verdict_blocked;              /* 1: blacklisted (IDGW0312), 0: not listed */
    int counted;                      /* the denial was counted */
    int64_t cached_version;           /* what the node held when CHECK was built */
    idgw_acl_shadow_req shadow;       /* what shadow rules would have refused */
} idgw_acl_req;

idgw_acl_req *idgw_acl_req_get(request_rec *r);

/* Hooks. */
int idgw_acl_access(request_rec *r);
int idgw_acl_fixups_late(request_rec *r);
apr_status_t idgw_acl_out_filter(ap_filter_t *f, apr_bucket_brigade *bb);
#define IDGW_ACL_OUT_FILTER "IDGW_ACL_OUT"

/* The parts folded into mod_idgw_session's per-request script. */
extern const idgw_script_part idgw_acl_check_part;
extern const idgw_script_part idgw_acl_strikes_part;

/* Exported to mod_idgw_convert (mod_idgw.h). */
int idgw_acl_identity_check(request_rec *r, const char *kind, const char *value,
                            const idgw_error_def **refusal);

#endif /* IDGW_ACL_REQUEST_H */
