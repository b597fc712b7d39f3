/* idgw_acl_request: what mod_idgw_acl does for one request.
 *
 *  access phase (check_access_ex, after mod_remoteip set the client address):
 *    bearer restriction, identity headers, per-process limiter, the cached
 *    blacklist and whitelist.  The copy of the lists is kept current by the
 *    child's listener (idgw_acl_sync.h); only when it is older than
 *    IdgwAclListsMaxAge does a request read the lists itself here.
 *  leases (idgw_acl_lease.h): a dimension whose token this child holds is
 *    decided here and leaves the fleet-wide check.
 *  fleet-wide check (CHECK in idgw_acl_script.h), for the other dimensions:
 *    folded into mod_idgw_session's per-request script where a session check
 *    runs (one round trip in all; nothing at all when leases decided every
 *    dimension), else run alone from a late fixups hook.  On a Redis Cluster
 *    one CHECK per dimension on its own slot, handed to the session module
 *    as a companion (mod_idgw.h) or sent from the late fixups hook.
 *  strikes and breach bans: written by scripts of their own (idgw_acl_bans.h),
 *    on the refused request only.
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
#include "idgw_acl_lease.h"
#include "idgw_acl_sync.h"
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
    idgw_script lists_script;         /* LISTS, the lists' reload (idgw_acl_sync.h) */
    idgw_script ban_script;           /* BAN and STRIKES (idgw_acl_bans.h) */
    idgw_script strikes_script;
    idgw_script count_strike_script;  /* COUNT_STRIKE, on a Cluster */
    const idgw_script *scripts[5];
    int folding;                      /* parts registered with the session script */
    int cluster;                      /* IdgwRedisCluster: the lists and the rate limits
                                         (mod_idgw_acl.c) */
    APR_OPTIONAL_FN_TYPE(idgw_session_cluster_eval_scripts) *cluster_eval;  /* per child */
    /* per child */
    idgw_limiter *limiter;
    idgw_acl_leases *leases;          /* local shares of the fleet-wide limits (NULL: off) */
    unsigned share;                   /* IdgwAclLocalShare */
    idgw_acl_cache *cache;
    idgw_redis_pool *pool;            /* for the standalone CHECK and LISTS */
    idgw_acl_sync *sync;              /* keeps the cache current */
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
    int ndims;                        /* the dimensions the fleet-wide check decides */
    idgw_acl_dim dims[IDGW_ACL_DIMS];
    const char *dim_values[IDGW_ACL_DIMS];
    const char *dim_keys[IDGW_ACL_DIMS]; /* their keys in this child's tables (the
                                         per-process limiter, the leases) */
    unsigned want[IDGW_ACL_DIMS];     /* the tokens to ask for (idgw_acl_lease.h) */
    int fleet_done;                   /* CHECK ran for this request */
    int cluster_pending;              /* Cluster: its checks (or shadow records) are
                                         still to be sent */
    int cluster_records;              /* ... of which SHADOW_RECORD calls handed to
                                         the session module (after the checks) */
    int counted;                      /* the denial was counted */
    int degraded;                     /* decided without Redis (counted once) */
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
/* On a Redis Cluster: the checks handed to the session module. */
extern const idgw_cluster_companion idgw_acl_cluster_companion;

/* Exported to mod_idgw_convert (mod_idgw.h). */
int idgw_acl_identity_check(request_rec *r, const char *kind, const char *value,
                            const idgw_error_def **refusal);

#endif /* IDGW_ACL_REQUEST_H */
