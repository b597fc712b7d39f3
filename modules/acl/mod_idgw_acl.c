/* mod_idgw_acl: access control for the idgw gateway.
 *
 * Carrier-network (bearer) restriction, pre-launch whitelist mode, a
 * fleet-wide blacklist of terminal ids, chip IDms, users and networks kept in
 * Redis, fleet-wide rate limits (GCRA) with a per-process limiter in front,
 * and automatic temporary bans after repeated sequence errors or limit
 * breaches.  The per-request logic is in idgw_acl_request.c, the directives
 * in idgw_acl_config.c; docs/directives.md (mod_idgw_acl) documents both.
 *
 * Hooks: pre_config (forget the previous cycle's validation notes),
 * check_config (validate across sections, find mod_idgw_session: runs in
 * httpd -t too), post_config (fold the fleet-wide check into mod_idgw_session's
 * per-request script), child_init (the
 * per-process limiter, list cache and Redis pool: nothing before fork),
 * pre_connection (the per-address connection cap, idgw_acl_conncap.c),
 * check_access_ex (early checks; runs after mod_remoteip's post_read_request
 * has set the client address), fixups LAST (the fleet-wide check where no
 * session check ran).
 */
#include <httpd.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "idgw_acl_config.h"
#include "idgw_acl_conncap.h"
#include "idgw_acl_natpool.h"
#include "idgw_acl_request.h"
#include "idgw_acl_script.h"
#include "mod_idgw.h"


module AP_MODULE_DECLARE_DATA idgw_acl_module;

#define SESSION_MODULE_NAME "mod_idgw_session.c"

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    idgw_acl_config_reset();
    idgw_acl_conncap_reset();
    idgw_acl_g.folding = 0;
    return OK;
}

static int fail_start(server_rec *s, const char *msg)
{
    ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "IDGW0300: mod_idgw_acl: %s", msg);
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* mod_idgw_session is configured for a Redis Cluster. */
static int on_cluster(server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(idgw_session_redis_cluster) *cluster =
        APR_RETRIEVE_OPTIONAL_FN(idgw_session_redis_cluster);

    return cluster != NULL && cluster(s);
}

/* check_config runs in "httpd -t" too (post_config does not), so
 * "apache2ctl configtest" fails on what would stop the start. */
static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    const char *msg;

    if ((msg = idgw_acl_config_validate(ptemp)) != NULL ||
        (msg = idgw_acl_conncap_post_config(pconf, s)) != NULL) {
        return fail_start(s, msg);
    }
    if (idgw_acl_config_in_use()
        && (ap_find_linked_module(SESSION_MODULE_NAME) == NULL
            || APR_RETRIEVE_OPTIONAL_FN(idgw_script_part_register) == NULL)) {
        return fail_start(s, "mod_idgw_session is not loaded: the lists, limits and "
                             "bans live in its Redis (LoadModule idgw_session_module "
                             "before idgw_acl_module)");
    }
    return OK;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(idgw_script_part_register) *register_part;

    if (!idgw_acl_config_in_use()) {
        return OK;      /* loaded but not used: no cost per request */
    }
    idgw_acl_g.cluster = on_cluster(s);
    idgw_acl_keys_cluster_layout(idgw_acl_g.cluster);
    idgw_script_init(&idgw_acl_g.lists_script, "acl_lists", idgw_acl_lua_lists);
    idgw_script_init(&idgw_acl_g.check_script, "acl_check", idgw_acl_lua_check);
    idgw_script_init(&idgw_acl_g.ban_script, "acl_ban", idgw_acl_lua_ban);
    idgw_script_init(&idgw_acl_g.count_strike_script, "acl_count_strike",
                     idgw_acl_lua_count_strike);
    idgw_script_init(&idgw_acl_g.shadow_script, "acl_shadow_record",
                     idgw_acl_lua_shadow_record);
    if (idgw_acl_g.cluster) {
        /* the lists, read by each child's listener through the session's
         * router; the rate limits, one CHECK per dimension on its own slot,
         * and the shadow records, one SHADOW_RECORD per subject, sent with
         * the session's script (idgw_acl_request.c) */
        APR_OPTIONAL_FN_TYPE(idgw_session_cluster_companion_register) *companion =
            APR_RETRIEVE_OPTIONAL_FN(idgw_session_cluster_companion_register);

        if (companion == NULL || companion(pconf, &idgw_acl_cluster_companion) != APR_SUCCESS) {
            return fail_start(s, "mod_idgw_session refused the access-control checks "
                                 "for a Redis Cluster");
        }
        idgw_acl_g.folding = 1;
        return OK;
    }
    /* check_config made sure mod_idgw_session is there */
    register_part = APR_RETRIEVE_OPTIONAL_FN(idgw_script_part_register);
    /* Folded into the session's per-request script: the steady path costs
     * one Redis round trip for session and access control together. */
    if (register_part == NULL ||
        register_part(pconf, &idgw_acl_check_part) != APR_SUCCESS ||
        register_part(pconf, &idgw_acl_strikes_part) != APR_SUCCESS) {
        return fail_start(s, "mod_idgw_session refused the access-control script parts");
    }
    idgw_acl_g.scripts[0] = &idgw_acl_g.check_script;
    idgw_acl_g.scripts[1] = &idgw_acl_g.shadow_script;
    idgw_acl_g.scripts[2] = &idgw_acl_g.lists_script;
    idgw_script_init(&idgw_acl_g.strikes_script, "acl_strikes", idgw_acl_lua_strikes);
    idgw_acl_g.scripts[3] = &idgw_acl_g.ban_script;
    idgw_acl_g.scripts[4] = &idgw_acl_g.strikes_script;
    idgw_acl_g.folding = 1;
    return OK;
}

/* The copy of the lists follows Redis (idgw_acl_sync.h): without the
 * listener the requests still keep it within IdgwAclListsMaxAge. */
static void sync_start(apr_pool_t *pchild, server_rec *s, const idgw_acl_srv_conf *conf)
{
    apr_status_t rv = idgw_acl_sync_create(pchild, s, idgw_acl_g.cache, idgw_acl_g.pool,
                                           idgw_acl_g.redis_cfg, &idgw_acl_g.lists_script,
                                           idgw_acl_g.prefix,
                                           idgw_acl_lists_max_age(conf), &idgw_acl_g.metrics,
                                           &idgw_acl_g.sync);

    if (rv != APR_SUCCESS) {
        idgw_acl_g.sync = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "IDGW0338: cannot set up the lists' "
                     "synchronisation: requests are decided as when Redis is down");
        return;
    }
    if (idgw_acl_g.cluster) {
        idgw_acl_sync_use_cluster(idgw_acl_g.sync,
                                  APR_RETRIEVE_OPTIONAL_FN(idgw_session_cluster_eval_script),
                                  APR_RETRIEVE_OPTIONAL_FN(idgw_session_cluster_key_command));
    }
    if ((rv = idgw_acl_sync_listen(idgw_acl_g.sync, pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "IDGW0339: cannot start the lists "
                     "listener thread: changes reach this child within IdgwAclListsMaxAge "
                     "(%" APR_TIME_T_FMT " ms), read by the requests",
                     apr_time_as_msec(idgw_acl_lists_max_age(conf)));
    }
}

/* The leases (idgw_acl_lease.h): a quarter of the limiter's entries, since
 * only the clients that come back within a second keep one. */
static const char *leases_create(apr_pool_t *pchild, const idgw_acl_srv_conf *conf)
{
    idgw_acl_g.share = (unsigned)idgw_acl_local_share(conf);
    idgw_acl_g.leases = NULL;
    if (idgw_acl_g.share == 0) {
        return NULL;
    }
    return idgw_acl_leases_create(&idgw_acl_g.leases, pchild,
                                  (unsigned)idgw_acl_local_slots(conf) / 4);
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    idgw_acl_srv_conf *conf = ap_get_module_config(s->module_config, &idgw_acl_module);
    APR_OPTIONAL_FN_TYPE(idgw_session_redis) *session_redis =
        APR_RETRIEVE_OPTIONAL_FN(idgw_session_redis);
    const char *err;
    apr_status_t rv;

    /* the connection cap works whether or not IdgwAcl is on anywhere */
    idgw_acl_conncap_child_init(pchild, s, &idgw_acl_g.metrics);
    if (!idgw_acl_g.folding || session_redis == NULL) {
        return;
    }
    /* mod_idgw_session's post_config completed its settings (defaults
     * included): share its Redis and key prefix. */
    idgw_acl_g.redis_cfg = session_redis(&idgw_acl_g.prefix);
    if (idgw_acl_g.redis_cfg == NULL) {
        return;
    }
    if ((err = idgw_limiter_create(&idgw_acl_g.limiter, pchild,
                                   (unsigned)idgw_acl_local_slots(conf))) != NULL ||
        (err = idgw_acl_cache_create(&idgw_acl_g.cache, pchild)) != NULL ||
        (err = leases_create(pchild, conf)) != NULL) {
        idgw_acl_g.limiter = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "IDGW0305: %s", err);
        return;
    }
    if (idgw_acl_g.cluster) {
        idgw_acl_g.cluster_eval = APR_RETRIEVE_OPTIONAL_FN(idgw_session_cluster_eval_scripts);
        sync_start(pchild, s, conf);
        return;
    }
    rv = idgw_redis_pool_create(pchild, idgw_acl_g.redis_cfg, idgw_acl_g.scripts, 5,
                                &idgw_acl_g.pool);
    if (rv != APR_SUCCESS) {
        idgw_acl_g.pool = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "IDGW0306: cannot create the access-control Redis pool");
        return;
    }
    sync_start(pchild, s, conf);
}

/* idgw_acl_dir_state (mod_idgw.h): what IdgwAcl says in a section, for the
 * conversion handler, which serves only where access control is on or
 * explicitly off.  IDGW_UNSET (no IdgwAcl in the section nor above it) is
 * told apart from an explicit Off: the merge keeps the value that was set. */
static idgw_acl_state idgw_acl_dir_state(ap_conf_vector_t *dir_config)
{
    const idgw_acl_dir_conf *c = dir_config
        ? ap_get_module_config(dir_config, &idgw_acl_module) : NULL;

    if (c == NULL || c->enabled == IDGW_UNSET) {
        return IDGW_ACL_STATE_UNSET;
    }
    return c->enabled == 1 ? IDGW_ACL_STATE_ON : IDGW_ACL_STATE_OFF;
}

/* idgw_acl_nat_subscribers (mod_idgw.h): the pool size of the client's
 * address, for mod_idgw_session's local address limit. */
static uint32_t idgw_acl_nat_subscribers(request_rec *r)
{
    const idgw_acl_dir_conf *c = ap_get_module_config(r->per_dir_config, &idgw_acl_module);
    idgw_ip ip;

    if (c == NULL || c->nat_pools == NULL ||
        (!idgw_ip_from_sockaddr(r->useragent_addr, &ip) && !idgw_ip_parse(r->useragent_ip, &ip))) {
        return 0;
    }
    return idgw_acl_natpool_subscribers(c->nat_pools, &ip);
}

static void retrieve_optional_fns(void)
{
    /* mod_idgw_status's counters: denials and degraded decisions show on its
     * page when it is loaded, and cost nothing when it is not. */
    idgw_metrics_fns_retrieve(&idgw_acl_g.metrics);
}

static void register_hooks(apr_pool_t *p)
{
    static const char *const after_session[] = { SESSION_MODULE_NAME, NULL };

    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    idgw_xml_error_hooks();
    ap_hook_optional_fn_retrieve(retrieve_optional_fns, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* first: a connection over its address's cap costs nothing more */
    ap_hook_pre_connection(idgw_acl_conncap_pre_connection, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* check_access_ex: not overridden by "Satisfy Any", and AND-ed with the
     * Require rules of the same section (we DECLINE on success). */
    ap_hook_check_access_ex(idgw_acl_access, NULL, NULL, APR_HOOK_FIRST,
                            AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_fixups(idgw_acl_fixups_late, after_session, NULL, APR_HOOK_LAST);
    ap_register_output_filter(IDGW_ACL_OUT_FILTER, idgw_acl_out_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
    APR_REGISTER_OPTIONAL_FN(idgw_acl_identity_check);
    APR_REGISTER_OPTIONAL_FN(idgw_acl_dir_state);
    APR_REGISTER_OPTIONAL_FN(idgw_acl_nat_subscribers);
}

AP_DECLARE_MODULE(idgw_acl) = {
    STANDARD20_MODULE_STUFF,
    idgw_acl_create_dir_conf,
    idgw_acl_merge_dir_conf,
    idgw_acl_create_srv_conf,
    idgw_acl_merge_srv_conf,
    idgw_acl_cmds,
    register_hooks
};
