/* idgw_acl_config: mod_idgw_acl's directives, per-directory and per-server
 * configuration, merging in the modules' one style (idgw_conf.h: IDGW_UNSET,
 * "set wins", defaults applied in the getters) and start-up validation.  docs/directives.md (mod_idgw_acl) documents
 * every directive. */
#ifndef IDGW_ACL_CONFIG_H
#define IDGW_ACL_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include <apr_tables.h>

#include "idgw_cidr.h"
#include "idgw_conf.h"
#include "idgw_limiter.h"
#include "idgw_acl_lists.h"
#include "idgw_acl_script.h"
#include "idgw_acl_shadow.h"

typedef enum {
    IDGW_ACL_REDIS_DOWN_CLOSED = 0,   /* refuse with 503 (default) */
    IDGW_ACL_REDIS_DOWN_OPEN = 1      /* serve, limited by the local limiter */
} idgw_acl_redis_down;

/* One rate limit (IdgwAclRateLimit). */
typedef struct {
    int set;              /* UNSET, 0 (off), 1 (on) */
    idgw_gcra gcra;
    uint32_t count;       /* as configured, for logs and docs */
    int64_t period_us;
    uint32_t burst;
    const char *endpoint; /* DIM_ENDPOINT: the <Location> it was set in */
    int shadow;           /* the line ends in "shadow" */
} idgw_acl_limit;

/* One auto-ban rule (IdgwAclAutoBan strikes|breaches). */
typedef struct {
    int set;              /* UNSET, 0 (off), 1 (on) */
    int count;            /* threshold */
    int64_t window_us;
    int64_t ban_us;
    int shadow;           /* the line ends in "shadow": bans go to the shadow bans */
} idgw_acl_autoban;

typedef struct {
    int enabled;                          /* IdgwAcl */
    int carriers_set;                     /* IdgwAclCarrierNetworks seen here */
    int carriers_any;                     /* ... "any" */
    idgw_cidr_set *carriers;
    apr_array_header_t *nat_pools;        /* IdgwAclNatPool (idgw_acl_natpool.h) */
    int whitelist_mode;                   /* IdgwAclWhitelistMode */
    apr_hash_t *whitelist[IDGW_ACL_KINDS];/* IdgwAclWhitelist (ADDR unused) */
    int whitelist_set;
    idgw_acl_limit limits[IDGW_ACL_DIMS]; /* IdgwAclRateLimit */
    idgw_acl_autoban strikes;             /* IdgwAclAutoBan strikes */
    idgw_acl_autoban breaches;            /* IdgwAclAutoBan breaches */
    int redis_down;                       /* IdgwAclRedisDown */
    int shadow_set;                       /* IdgwAclShadow seen here */
    unsigned shadow;                      /* ... its rules (1u << idgw_acl_shadow_rule) */
} idgw_acl_dir_conf;

typedef struct {
    int local_slots;                      /* IdgwAclLocalTableSize */
    apr_interval_time_t lists_max_age;    /* IdgwAclListsMaxAge */
    int local_share;                      /* IdgwAclLocalShare */
} idgw_acl_srv_conf;

/* Defaults. */
#define IDGW_ACL_DEFAULT_LOCAL_SLOTS 65536
#define IDGW_ACL_DEFAULT_LISTS_MAX_AGE apr_time_from_sec(2)
/* 64, not 16: the steady request's Redis CPU is mostly the check of the
 * one request a lease does not cover (docs/performance.md); the share never
 * exceeds BURST/8 and grants stop at half the bucket, so only limits with a
 * burst of 512 or more see the difference */
#define IDGW_ACL_DEFAULT_LOCAL_SHARE 64

extern const command_rec idgw_acl_cmds[];

void *idgw_acl_create_dir_conf(apr_pool_t *p, char *dir);
void *idgw_acl_merge_dir_conf(apr_pool_t *p, void *base, void *add);
void *idgw_acl_create_srv_conf(apr_pool_t *p, server_rec *s);
void *idgw_acl_merge_srv_conf(apr_pool_t *p, void *base, void *add);

/* Getters applying the defaults. */
int idgw_acl_enabled(const idgw_acl_dir_conf *c);
int idgw_acl_whitelist_mode(const idgw_acl_dir_conf *c);
idgw_acl_redis_down idgw_acl_redis_down_policy(const idgw_acl_dir_conf *c);
const idgw_acl_limit *idgw_acl_limit_get(const idgw_acl_dir_conf *c, idgw_acl_dim dim);
const idgw_acl_autoban *idgw_acl_autoban_get(const idgw_acl_dir_conf *c, int strikes);
/* 1 if an enforced (not shadow) rate limit applies here. */
int idgw_acl_any_limit(const idgw_acl_dir_conf *c);
int idgw_acl_local_slots(const idgw_acl_srv_conf *c);
apr_interval_time_t idgw_acl_lists_max_age(const idgw_acl_srv_conf *c);
/* The most tokens a lease holds beyond its request's (0: no leases). */
int idgw_acl_local_share(const idgw_acl_srv_conf *c);
/* 1 if rule is in shadow mode here: named by IdgwAclShadow, or its
 * IdgwAclRateLimit / IdgwAclAutoBan line ends in "shadow". */
int idgw_acl_shadowed(const idgw_acl_dir_conf *c, idgw_acl_shadow_rule rule);

/* Start-up checks across sections that no single directive can make.
 * Returns NULL or the message to log before refusing to start. */
const char *idgw_acl_config_validate(apr_pool_t *p);

/* 1 if "IdgwAcl On" appears anywhere in the configuration. */
int idgw_acl_config_in_use(void);

/* Forgets the sections recorded for validate (pre_config: a restart
 * reads the configuration again). */
void idgw_acl_config_reset(void);

#endif /* IDGW_ACL_CONFIG_H */
