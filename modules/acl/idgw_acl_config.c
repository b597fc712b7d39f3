/* idgw_acl_config: directives, merging and start-up validation of
 * mod_idgw_acl (see idgw_acl_config.h and docs/directives.md (mod_idgw_acl)). */
#include "idgw_acl_config.h"
#include "idgw_acl_conncap.h"
#include "idgw_acl_lease.h"
#include "idgw_acl_natpool.h"
#include "idgw_conf_parse.h"

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <http_log.h>

extern module AP_MODULE_DECLARE_DATA idgw_acl_module;

/* ---- what start-up validation needs to see across sections ------------ */

/* Where each relevant directive appeared, for idgw_acl_config_validate.
 * Static because the check spans every section of the whole configuration
 * (no one section's struct sees the others); reset in pre_config, as each
 * reading of the configuration starts afresh. */
static apr_array_header_t *enabled_at;     /* const char* "file:line" */
static int carriers_seen;
static apr_array_header_t *open_at;        /* IdgwAclRedisDown open */
static int limits_seen;

void idgw_acl_config_reset(void)
{
    enabled_at = NULL;
    open_at = NULL;
    carriers_seen = 0;
    limits_seen = 0;
}

static const char *where(cmd_parms *cmd)
{
    if (cmd->directive == NULL) {
        return "(unknown)";
    }
    return apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                        cmd->directive->line_num);
}

static void remember(apr_array_header_t **arr, cmd_parms *cmd)
{
    if (*arr == NULL) {
        *arr = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*arr, const char *) = where(cmd);
}

int idgw_acl_config_in_use(void)
{
    return enabled_at != NULL && enabled_at->nelts > 0;
}

const char *idgw_acl_config_validate(apr_pool_t *p)
{
    if (enabled_at && enabled_at->nelts > 0 && !carriers_seen) {
        return apr_psprintf(p, "IdgwAcl On (%s) but no IdgwAclCarrierNetworks "
                            "anywhere: list the carrier's source networks, or "
                            "write 'IdgwAclCarrierNetworks any' to accept every "
                            "bearer deliberately",
                            APR_ARRAY_IDX(enabled_at, 0, const char *));
    }
    if (open_at && open_at->nelts > 0 && !limits_seen) {
        return apr_psprintf(p, "IdgwAclRedisDown open (%s) needs at least one "
                            "IdgwAclRateLimit (not in shadow mode): failing open is only allowed to a "
                            "bounded local limiter",
                            APR_ARRAY_IDX(open_at, 0, const char *));
    }
    return NULL;
}

/* ---- create / merge ------------------------------------------------------ */

void *idgw_acl_create_dir_conf(apr_pool_t *p, char *dir)
{
    idgw_acl_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->enabled = IDGW_UNSET;
    c->whitelist_mode = IDGW_UNSET;
    c->redis_down = IDGW_UNSET;
    for (int i = 0; i < IDGW_ACL_DIMS; i++) {
        c->limits[i].set = IDGW_UNSET;
    }
    c->strikes.set = IDGW_UNSET;
    c->breaches.set = IDGW_UNSET;
    return c;
}

void *idgw_acl_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const idgw_acl_dir_conf *base = basev, *add = addv;
    idgw_acl_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->enabled = idgw_merge_int(base->enabled, add->enabled);
    c->whitelist_mode = idgw_merge_int(base->whitelist_mode, add->whitelist_mode);
    c->redis_down = idgw_merge_int(base->redis_down, add->redis_down);
    if (add->carriers_set) {
        c->carriers_set = 1;
        c->carriers_any = add->carriers_any;
        c->carriers = add->carriers;
    }
    else {
        c->carriers_set = base->carriers_set;
        c->carriers_any = base->carriers_any;
        c->carriers = base->carriers;
    }
    c->nat_pools = add->nat_pools ? add->nat_pools : base->nat_pools;
    c->whitelist_set = add->whitelist_set ? 1 : base->whitelist_set;
    memcpy(c->whitelist, add->whitelist_set ? add->whitelist : base->whitelist,
           sizeof(c->whitelist));
    for (int i = 0; i < IDGW_ACL_DIMS; i++) {
        c->limits[i] = add->limits[i].set != IDGW_UNSET ? add->limits[i]
                                                             : base->limits[i];
    }
    c->strikes = add->strikes.set != IDGW_UNSET ? add->strikes : base->strikes;
    c->breaches = add->breaches.set != IDGW_UNSET ? add->breaches : base->breaches;
    c->shadow_set = add->shadow_set ? 1 : base->shadow_set;
    c->shadow = add->shadow_set ? add->shadow : base->shadow;
    return c;
}

void *idgw_acl_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    idgw_acl_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    c->local_slots = IDGW_UNSET;
    c->lists_max_age = IDGW_UNSET;
    c->local_share = IDGW_UNSET;
    return c;
}

void *idgw_acl_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    const idgw_acl_srv_conf *base = basev, *add = addv;
    idgw_acl_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    c->local_slots = idgw_merge_int(base->local_slots, add->local_slots);
    c->lists_max_age = idgw_merge_time(base->lists_max_age, add->lists_max_age);
    c->local_share = idgw_merge_int(base->local_share, add->local_share);
    return c;
}

/* ---- getters --------------------------------------------------------------- */

int idgw_acl_enabled(const idgw_acl_dir_conf *c)
{
    return c->enabled == 1;
}

int idgw_acl_whitelist_mode(const idgw_acl_dir_conf *c)
{
    return c->whitelist_mode == 1;
}

idgw_acl_redis_down idgw_acl_redis_down_policy(const idgw_acl_dir_conf *c)
{
    return c->redis_down == IDGW_ACL_REDIS_DOWN_OPEN ? IDGW_ACL_REDIS_DOWN_OPEN
                                                     : IDGW_ACL_REDIS_DOWN_CLOSED;
}

const idgw_acl_limit *idgw_acl_limit_get(const idgw_acl_dir_conf *c, idgw_acl_dim dim)
{
    if ((int)dim < 0 || (int)dim >= IDGW_ACL_DIMS || c->limits[dim].set != 1) {
        return NULL;
    }
    return &c->limits[dim];
}

int idgw_acl_any_limit(const idgw_acl_dir_conf *c)
{
    for (int i = 0; i < IDGW_ACL_DIMS; i++) {
        if (c->limits[i].set == 1 &&
            !idgw_acl_shadowed(c, (idgw_acl_shadow_rule)(IDGW_ACL_SH_RATELIMIT + i))) {
            return 1;
        }
    }
    return 0;
}

const idgw_acl_autoban *idgw_acl_autoban_get(const idgw_acl_dir_conf *c, int strikes)
{
    const idgw_acl_autoban *a = strikes ? &c->strikes : &c->breaches;
    return a->set == 1 ? a : NULL;
}

int idgw_acl_local_slots(const idgw_acl_srv_conf *c)
{
    return idgw_default_int(c->local_slots, IDGW_ACL_DEFAULT_LOCAL_SLOTS);
}

apr_interval_time_t idgw_acl_lists_max_age(const idgw_acl_srv_conf *c)
{
    return idgw_default_time(c->lists_max_age, IDGW_ACL_DEFAULT_LISTS_MAX_AGE);
}

int idgw_acl_local_share(const idgw_acl_srv_conf *c)
{
    return idgw_default_int(c->local_share, IDGW_ACL_DEFAULT_LOCAL_SHARE);
}

int idgw_acl_shadowed(const idgw_acl_dir_conf *c, idgw_acl_shadow_rule rule)
{
    if ((int)rule < 0 || rule >= IDGW_ACL_SH_RULES) {
        return 0;
    }
    if (c->shadow & (1u << rule)) {
        return 1;
    }
    if (rule >= IDGW_ACL_SH_RATELIMIT && rule < IDGW_ACL_SH_STRIKES) {
        return c->limits[rule - IDGW_ACL_SH_RATELIMIT].shadow;
    }
    if (rule == IDGW_ACL_SH_STRIKES || rule == IDGW_ACL_SH_BREACHES) {
        return (rule == IDGW_ACL_SH_STRIKES ? c->strikes : c->breaches).shadow;
    }
    return 0;
}

/* ---- directive handlers ---------------------------------------------------- */

static const char *set_enabled(cmd_parms *cmd, void *mconfig, int on)
{
    idgw_acl_dir_conf *c = mconfig;

    c->enabled = on;
    if (on) {
        remember(&enabled_at, cmd);
    }
    return NULL;
}

static const char *set_whitelist_mode(cmd_parms *cmd, void *mconfig, int on)
{
    ((idgw_acl_dir_conf *)mconfig)->whitelist_mode = on;
    return NULL;
}

static const char *add_carrier(cmd_parms *cmd, void *mconfig, const char *arg)
{
    idgw_acl_dir_conf *c = mconfig;
    const char *err;

    if (!c->carriers_set) {
        c->carriers_set = 1;
        c->carriers = idgw_cidr_set_make(cmd->pool);
    }
    carriers_seen = 1;
    if (strcmp(arg, "any") == 0) {
        if (idgw_cidr_set_count(c->carriers) > 0) {
            return "IdgwAclCarrierNetworks: 'any' cannot be combined with networks";
        }
        c->carriers_any = 1;
        return NULL;
    }
    if (c->carriers_any) {
        return "IdgwAclCarrierNetworks: 'any' cannot be combined with networks";
    }
    if ((err = idgw_cidr_set_add(c->carriers, arg)) != NULL) {
        return apr_pstrcat(cmd->pool, "IdgwAclCarrierNetworks: ", err, NULL);
    }
    return NULL;
}

static const char *add_nat_pool(cmd_parms *cmd, void *mconfig, int argc, char *const argv[])
{
    return idgw_acl_natpool_add(cmd, &((idgw_acl_dir_conf *)mconfig)->nat_pools, argc, argv);
}

static const char *add_whitelist(cmd_parms *cmd, void *mconfig, const char *kind_name,
                                 const char *value)
{
    idgw_acl_dir_conf *c = mconfig;
    int kind = idgw_acl_kind_parse(kind_name);
    const char *norm, *err;

    if (kind < 0 || kind == IDGW_ACL_ADDR) {
        return apr_psprintf(cmd->pool, "IdgwAclWhitelist: kind must be terminal, idm "
                            "or user, not '%s'", kind_name);
    }
    if ((err = idgw_acl_value_check(cmd->pool, (idgw_acl_kind)kind, value, &norm))) {
        return apr_pstrcat(cmd->pool, "IdgwAclWhitelist: ", err, NULL);
    }
    if (!c->whitelist_set) {
        c->whitelist_set = 1;
        for (int k = 0; k < IDGW_ACL_KINDS; k++) {
            c->whitelist[k] = apr_hash_make(cmd->pool);
        }
    }
    apr_hash_set(c->whitelist[kind], norm, APR_HASH_KEY_STRING, norm);
    return NULL;
}

/* A duration of IdgwAclAutoBan, 1s .. 365d (idgw_parse_duration).  The
 * message names the fault without the parser's example, as mod_idgw_acl's
 * messages always did ("IdgwAclAutoBan: WINDOW: duration unit must be ..."). */
static const char *autoban_duration(apr_pool_t *p, const char *what, const char *arg,
                                    int64_t *us)
{
    apr_interval_time_t t;
    const char *err = idgw_parse_duration(arg, apr_time_from_sec(1),
                                          apr_time_from_sec(365 * 86400), &t);
    const char *detail;

    if (err) {
        detail = strstr(err, ": ");
        return apr_pstrcat(p, "IdgwAclAutoBan: ", what, ": ", detail ? detail + 2 : err,
                           " (1s..365d)", NULL);
    }
    *us = t;
    return NULL;
}

/* A trailing "shadow" on a rule line: taken off the arguments, *shadow set. */
static int trailing_shadow(int *argc, char *const argv[])
{
    if (*argc > 0 && strcmp(argv[*argc - 1], "shadow") == 0) {
        (*argc)--;
        return 1;
    }
    return 0;
}

static const char *set_rate_limit(cmd_parms *cmd, void *mconfig, int argc,
                                  char *const argv[])
{
    idgw_acl_dir_conf *c = mconfig;
    int shadow = trailing_shadow(&argc, argv);
    const char *dim_name = argc > 0 ? argv[0] : NULL;
    const char *rate = argc > 1 ? argv[1] : NULL;
    const char *burst_text = argc > 2 ? argv[2] : NULL;
    int dim;
    idgw_acl_limit *l;
    const char *err;
    long burst;

    if (argc < 2 || argc > 3) {
        return "IdgwAclRateLimit: usage: addr|terminal|endpoint COUNT/UNIT [BURST] "
               "[shadow], or addr|terminal|endpoint off";
    }
    dim = idgw_acl_dim_parse(dim_name);

    if (dim < 0) {
        return apr_psprintf(cmd->pool, "IdgwAclRateLimit: dimension must be addr, "
                            "terminal or endpoint, not '%s'", dim_name);
    }
    l = &c->limits[dim];
    memset(l, 0, sizeof(*l));
    if (strcmp(rate, "off") == 0) {
        if (burst_text || shadow) {
            return "IdgwAclRateLimit: 'off' takes no burst and no shadow";
        }
        l->set = 0;
        return NULL;
    }
    if ((err = idgw_rate_parse(rate, &l->count, &l->period_us)) != NULL) {
        return apr_pstrcat(cmd->pool, "IdgwAclRateLimit: ", err, NULL);
    }
    /* By default a client may use a whole period's allowance at once. */
    burst = l->count > IDGW_GCRA_BURST_MAX ? IDGW_GCRA_BURST_MAX : (long)l->count;
    if (burst_text && idgw_parse_int(burst_text, 1, IDGW_GCRA_BURST_MAX, &burst)) {
        return "IdgwAclRateLimit: BURST must be an integer between 1 and 1000000";
    }
    l->burst = (uint32_t)burst;
    if ((err = idgw_gcra_init(&l->gcra, l->count, l->period_us, l->burst)) != NULL) {
        return apr_pstrcat(cmd->pool, "IdgwAclRateLimit: ", err, NULL);
    }
    /* The endpoint is the section the limit was written in: a bounded set of
     * names, unlike request URIs, which a client chooses. */
    l->endpoint = cmd->path ? apr_pstrdup(cmd->pool, cmd->path) : "/";
    l->shadow = shadow;
    l->set = 1;
    /* a limit in shadow mode bounds nothing: IdgwAclRedisDown open needs
     * an enforced one */
    limits_seen |= !shadow;
    return NULL;
}

static const char *set_autoban(cmd_parms *cmd, void *mconfig, int argc,
                               char *const argv[])
{
    idgw_acl_dir_conf *c = mconfig;
    int shadow = trailing_shadow(&argc, argv);
    idgw_acl_autoban *a;
    const char *err;
    long count;

    if (argc < 2) {
        return "IdgwAclAutoBan: usage: strikes|breaches COUNT WINDOW DURATION, or "
               "strikes|breaches off";
    }
    if (strcmp(argv[0], "strikes") == 0) {
        a = &c->strikes;
    }
    else if (strcmp(argv[0], "breaches") == 0) {
        a = &c->breaches;
    }
    else {
        return apr_psprintf(cmd->pool, "IdgwAclAutoBan: first argument must be "
                            "strikes or breaches, not '%s'", argv[0]);
    }
    memset(a, 0, sizeof(*a));
    if (argc == 2 && strcmp(argv[1], "off") == 0) {
        if (shadow) {
            return "IdgwAclAutoBan: 'off' takes no shadow";
        }
        a->set = 0;
        return NULL;
    }
    if (argc != 4) {
        return "IdgwAclAutoBan: usage: strikes|breaches COUNT WINDOW DURATION [shadow] "
               "(e.g. strikes 3 10m 1h), or strikes|breaches off";
    }
    if (idgw_parse_int(argv[1], 1, 1000, &count)) {
        return "IdgwAclAutoBan: COUNT must be an integer between 1 and 1000";
    }
    if ((err = autoban_duration(cmd->pool, "WINDOW", argv[2], &a->window_us)) != NULL
        || (err = autoban_duration(cmd->pool, "DURATION", argv[3], &a->ban_us)) != NULL) {
        return err;
    }
    a->count = (int)count;
    a->shadow = shadow;
    a->set = 1;
    return NULL;
}

/* IdgwAclShadow LAYER[:RULE]... | off: several words or lines add up in one
 * section; the section's set replaces the inherited one ("set wins"). */
static const char *add_shadow(cmd_parms *cmd, void *mconfig, const char *arg)
{
    idgw_acl_dir_conf *c = mconfig;
    const char *err;

    if (!c->shadow_set) {
        c->shadow_set = 1;
        c->shadow = 0;
    }
    if (strcmp(arg, "off") == 0) {
        c->shadow = 0;
        return NULL;
    }
    if ((err = idgw_acl_shadow_parse(cmd->pool, arg, &c->shadow)) != NULL) {
        return apr_pstrcat(cmd->pool, "IdgwAclShadow: ", err, NULL);
    }
    return NULL;
}

static const char *set_redis_down(cmd_parms *cmd, void *mconfig, const char *arg)
{
    idgw_acl_dir_conf *c = mconfig;

    if (strcmp(arg, "closed") == 0) {
        c->redis_down = IDGW_ACL_REDIS_DOWN_CLOSED;
    }
    else if (strcmp(arg, "open") == 0) {
        c->redis_down = IDGW_ACL_REDIS_DOWN_OPEN;
        remember(&open_at, cmd);
    }
    else {
        return apr_psprintf(cmd->pool, "IdgwAclRedisDown: must be closed or open, "
                            "not '%s'", arg);
    }
    return NULL;
}

static const char *set_local_slots(cmd_parms *cmd, void *mconfig, const char *arg)
{
    idgw_acl_srv_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &idgw_acl_module);
    long n;
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE);

    if (err) {
        return err;
    }
    if (idgw_parse_int(arg, 64, 4194304, &n)) {
        return "IdgwAclLocalTableSize: must be an integer between 64 and 4194304";
    }
    c->local_slots = (int)n;
    return NULL;
}

static const char *set_lists_max_age(cmd_parms *cmd, void *mconfig, const char *arg)
{
    idgw_acl_srv_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &idgw_acl_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (idgw_parse_duration(arg, apr_time_from_msec(200), apr_time_from_sec(60),
                            &c->lists_max_age) != NULL) {
        return "IdgwAclListsMaxAge: must be a duration between 200ms and 60s";
    }
    return NULL;
}

static const char *set_local_share(cmd_parms *cmd, void *mconfig, const char *arg)
{
    idgw_acl_srv_conf *c = ap_get_module_config(cmd->server->module_config,
                                                &idgw_acl_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    long n;

    if (err) {
        return err;
    }
    if (idgw_parse_int(arg, 0, IDGW_ACL_LEASE_MAX, &n)) {
        return apr_psprintf(cmd->pool, "IdgwAclLocalShare: must be an integer between 0 "
                            "and %u", IDGW_ACL_LEASE_MAX);
    }
    c->local_share = (int)n;
    return NULL;
}

const command_rec idgw_acl_cmds[] = {
    AP_INIT_FLAG("IdgwAcl", set_enabled, NULL, RSRC_CONF | ACCESS_CONF,
                 "On|Off: apply idgw access control here (default Off)"),
    AP_INIT_ITERATE("IdgwAclCarrierNetworks", add_carrier, NULL, RSRC_CONF | ACCESS_CONF,
                    "CIDR... | any: the only client networks (carrier bearers) that "
                    "may pass, IPv4 or IPv6, e.g. 192.0.2.0/24 2001:db8::/32; host "
                    "bits must be zero"),
    AP_INIT_TAKE_ARGV("IdgwAclNatPool", add_nat_pool, NULL, RSRC_CONF | ACCESS_CONF,
                      "SUBSCRIBERS CIDR...: carrier NAT addresses, each shared by about "
                      "SUBSCRIBERS phones: their address limit is multiplied by it and "
                      "they are never banned automatically"),
    AP_INIT_FLAG("IdgwAclWhitelistMode", set_whitelist_mode, NULL, RSRC_CONF | ACCESS_CONF,
                 "On|Off: pre-launch mode, only whitelisted terminals or chips pass, "
                 "and only whitelisted users log in at a card source (default Off)"),
    AP_INIT_ITERATE2("IdgwAclWhitelist", add_whitelist, NULL, RSRC_CONF | ACCESS_CONF,
                     "terminal|idm|user VALUE...: static whitelist entries, used with "
                     "those in Redis (scripts/idgw-acl add --list white)"),
    AP_INIT_TAKE_ARGV("IdgwAclRateLimit", set_rate_limit, NULL, RSRC_CONF | ACCESS_CONF,
                      "addr|terminal|endpoint COUNT/UNIT [BURST] [shadow] | off: "
                      "fleet-wide GCRA limit, UNIT s, m, h, d or seconds; BURST "
                      "defaults to COUNT; shadow: count what it would refuse, refuse "
                      "nothing"),
    AP_INIT_TAKE_ARGV("IdgwAclAutoBan", set_autoban, NULL, RSRC_CONF | ACCESS_CONF,
                      "strikes|breaches COUNT WINDOW DURATION [shadow] | off: ban a "
                      "terminal, chip or address for DURATION after COUNT sequence "
                      "errors (strikes) or rate-limit refusals (breaches) within "
                      "WINDOW; shadow: write shadow bans, which refuse nobody"),
    AP_INIT_ITERATE("IdgwAclShadow", add_shadow, NULL, RSRC_CONF | ACCESS_CONF,
                    "LAYER[:RULE]... | off: decide as usual but let through what "
                    "these would refuse (logged IDGW0370, counted): carrier, "
                    "whitelist, blacklist[:terminal|idm|user|addr], "
                    "ratelimit[:addr|terminal|endpoint], autoban[:strikes|breaches] "
                    "(default off)"),
    AP_INIT_TAKE1("IdgwAclRedisDown", set_redis_down, NULL, RSRC_CONF | ACCESS_CONF,
                  "closed|open: when Redis cannot be reached refuse with 503 "
                  "(closed, default) or serve within the per-process limiter (open)"),
    AP_INIT_TAKE1("IdgwAclLocalTableSize", set_local_slots, NULL, RSRC_CONF,
                  "N: entries of the per-process limiter table (64..4194304, "
                  "default 65536)"),
    AP_INIT_TAKE1("IdgwAclListsMaxAge", set_lists_max_age, NULL, RSRC_CONF,
                  "DURATION: the longest a child decides on its copy of the lists "
                  "without having confirmed it in Redis (200ms..60s, default 2s); "
                  "changes are pushed at once, this bounds them when the push fails"),
    AP_INIT_TAKE1("IdgwAclLocalShare", set_local_share, NULL, RSRC_CONF,
                  "N: the most tokens of a fleet-wide rate limit a child takes at once "
                  "beyond the request's own, spent on the next requests of the same "
                  "client without asking Redis (0..1024, default 16; 0: ask Redis "
                  "every time)"),
    IDGW_ACL_CONNCAP_CMDS,
    { NULL }
};
