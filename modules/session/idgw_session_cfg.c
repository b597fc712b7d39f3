/*
 * idgw_session_cfg.c - mod_idgw_session's directives.
 *
 * Directive names are defined once, here; values are parsed and checked when
 * the configuration is read, so a bad value stops httpd with a message that
 * names the directive.  The modules' one style (idgw_conf.h): unset values stay
 * IDGW_UNSET / NULL; merging lets the value that was set win; defaults are
 * applied once in cfg_finish().
 */
#include "idgw_session_cfg.h"
#include "idgw_conf_parse.h"

#include <apr_strings.h>
#include <http_log.h>
#include <ap_mpm.h>
#include <strings.h>

#define D_CONNECT_TIMEOUT   apr_time_from_msec(200)
#define D_COMMAND_TIMEOUT   apr_time_from_msec(500)
#define D_IDLE_CHECK        apr_time_from_sec(10)
#define D_RETRY_INTERVAL    apr_time_from_sec(1)
#define D_IDLE              apr_time_from_sec(300)
#define D_LIFETIME          apr_time_from_sec(1800)
#define D_STRIKE_WINDOW     apr_time_from_sec(3600)
#define D_PENDING_LEASE     apr_time_from_sec(30)   /* no handler declared its worst case */
#define D_LEASE_MARGIN      apr_time_from_sec(2)
#define D_MAX_RELAYS        64
#define D_MAX_BODY          65536
#define D_PREFIX            "idgw:"
#define D_REAPER_GRACE      apr_time_from_sec(30)
#define D_REAPER_INTERVAL   apr_time_from_sec(5)
#define D_WAIT_TIMEOUT      apr_time_from_msec(100)
#define MAX_WAIT_REPLICAS   16

#define HOUR apr_time_from_sec(3600)

void *idgw_session_create_srv(apr_pool_t *p, server_rec *s)
{
    idgw_session_srv *c = apr_pcalloc(p, sizeof(*c));

    c->redis.database = IDGW_UNSET;
    c->redis.connect_timeout = IDGW_UNSET;
    c->redis.command_timeout = IDGW_UNSET;
    c->redis.idle_check = IDGW_UNSET;
    c->redis.breaker_time = IDGW_UNSET;
    c->redis.pool_max = IDGW_UNSET;
    c->idle = c->lifetime = c->strike_window = c->pending_lease = IDGW_UNSET;
    c->max_relays = IDGW_UNSET;
    c->addr_policy = IDGW_UNSET;
    c->max_body = IDGW_UNSET;
    c->reaper_grace = c->reaper_interval = IDGW_UNSET;
    c->wait_replicas = IDGW_UNSET;
    c->wait_timeout = IDGW_UNSET;
    return c;
}

void *idgw_session_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    idgw_session_srv *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    /* the server or the Sentinels go with the settings of their section */
    c->redis = add->redis_server_set || add->redis.nsentinels || add->redis.nseeds
        ? add->redis : base->redis;
    c->redis_server_set = base->redis_server_set || add->redis_server_set;
    c->redis.password = idgw_merge_ptr(base->redis.password, add->redis.password);
    c->redis.master_name = idgw_merge_ptr(base->redis.master_name, add->redis.master_name);
    c->redis.database = idgw_merge_int(base->redis.database, add->redis.database);
    c->redis.connect_timeout = idgw_merge_time(base->redis.connect_timeout,
                                               add->redis.connect_timeout);
    c->redis.command_timeout = idgw_merge_time(base->redis.command_timeout,
                                               add->redis.command_timeout);
    c->redis.idle_check = idgw_merge_time(base->redis.idle_check, add->redis.idle_check);
    c->redis.breaker_time = idgw_merge_time(base->redis.breaker_time, add->redis.breaker_time);
    c->redis.pool_max = idgw_merge_int(base->redis.pool_max, add->redis.pool_max);
    c->key_prefix = idgw_merge_ptr(base->key_prefix, add->key_prefix);
    c->idle = idgw_merge_time(base->idle, add->idle);
    c->lifetime = idgw_merge_time(base->lifetime, add->lifetime);
    c->strike_window = idgw_merge_time(base->strike_window, add->strike_window);
    c->pending_lease = idgw_merge_time(base->pending_lease, add->pending_lease);
    c->max_relays = idgw_merge_int(base->max_relays, add->max_relays);
    c->addr_policy = idgw_merge_int(base->addr_policy, add->addr_policy);
    c->max_body = idgw_merge_int64(base->max_body, add->max_body);
    /* the main server's <Location>s apply to every virtual host too */
    c->used = base->used || add->used;
    c->vault_key_file = idgw_merge_ptr(base->vault_key_file, add->vault_key_file);
    c->vault_keys = add->vault_key_file ? add->vault_keys : base->vault_keys;
    c->reaper_grace = idgw_merge_time(base->reaper_grace, add->reaper_grace);
    c->reaper_interval = idgw_merge_time(base->reaper_interval, add->reaper_interval);
    c->wait_replicas = idgw_merge_int(base->wait_replicas, add->wait_replicas);
    c->wait_timeout = idgw_merge_time(base->wait_timeout, add->wait_timeout);
    return c;
}

void *idgw_session_create_dir(apr_pool_t *p, char *dir)
{
    idgw_session_dir *d = apr_pcalloc(p, sizeof(*d));

    d->enabled = IDGW_UNSET;
    idgw_shed_dir_init(&d->shed);
    d->allow_plain = IDGW_UNSET;
    return d;
}

void *idgw_session_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    idgw_session_dir *base = basev, *add = addv, *d = apr_pcalloc(p, sizeof(*d));

    d->enabled = idgw_merge_int(base->enabled, add->enabled);
    idgw_shed_dir_merge(&d->shed, &base->shed, &add->shed);
    d->allow_plain = idgw_merge_int(base->allow_plain, add->allow_plain);
    return d;
}

int idgw_session_dir_enabled(const idgw_session_dir *d)
{
    return d->enabled == 1;
}

/* Off unless written: the API answers over TLS only by default. */
int idgw_session_dir_allow_plain(const idgw_session_dir *d)
{
    return d->allow_plain == 1;
}

static idgw_session_srv *srv_of(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &idgw_session_module);
}

/* Server-wide directives are read from the main server only: one pool per child. */
static const char *global_only(cmd_parms *cmd)
{
    return ap_check_cmd_context(cmd, GLOBAL_ONLY);
}

static const char *fail(cmd_parms *cmd, const char *arg, const char *why)
{
    return apr_psprintf(cmd->pool, "%s '%s': %s", cmd->cmd->name, arg, why);
}

static const char *set_server(cmd_parms *cmd, void *dummy, const char *arg)
{
    idgw_session_srv *c = srv_of(cmd);
    const char *err = global_only(cmd);

    if (err)
        return err;
    if ((err = idgw_parse_hostport(cmd->pool, arg, 6379, &c->redis.server)))
        return fail(cmd, arg, err);
    c->redis_server_set = 1;
    return NULL;
}

/* One more address of a list directive (Sentinels, Cluster seeds). */
static const char *add_addr(cmd_parms *cmd, const char *arg, idgw_redis_addr *list, int *n,
                            int max, int default_port)
{
    const char *err = global_only(cmd);

    if (err)
        return err;
    if (*n == max)
        return fail(cmd, arg, apr_psprintf(cmd->pool, "too many addresses (%d at most)", max));
    if ((err = idgw_parse_hostport(cmd->pool, arg, default_port, &list[*n])))
        return fail(cmd, arg, err);
    (*n)++;
    return NULL;
}

static const char *set_sentinels(cmd_parms *cmd, void *dummy, const char *arg)
{
    idgw_session_srv *c = srv_of(cmd);

    return add_addr(cmd, arg, c->redis.sentinels, &c->redis.nsentinels,
                    IDGW_REDIS_MAX_SENTINELS, 26379);
}

/* IdgwRedisCluster host:port ...: seed nodes, asked for the slot map. */
static const char *set_cluster(cmd_parms *cmd, void *dummy, const char *arg)
{
    idgw_session_srv *c = srv_of(cmd);

    return add_addr(cmd, arg, c->redis.seeds, &c->redis.nseeds, IDGW_REDIS_MAX_SEEDS, 6379);
}

static const char *set_string(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = global_only(cmd);
    idgw_session_srv *c = srv_of(cmd);
    const char **field = (const char **)((char *)c + (apr_size_t)cmd->info);

    if (err)
        return err;
    if (!*arg)
        return fail(cmd, arg, "must not be empty");
    *field = arg;
    return NULL;
}

static const char *set_prefix(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = global_only(cmd);

    if (err)
        return err;
    if (!idgw_key_prefix_valid(arg))
        return fail(cmd, arg, "1 to 64 printable characters without spaces or braces");
    srv_of(cmd)->key_prefix = arg;
    return NULL;
}

static const char *set_key_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = global_only(cmd);
    idgw_session_srv *c = srv_of(cmd);
    char msg[256];

    if (err)
        return err;
    c->vault_key_file = ap_server_root_relative(cmd->pool, arg);
    if (!c->vault_key_file)
        return fail(cmd, arg, "invalid path");
    /* Read now, as root, while httpd reads its configuration: a missing or
     * malformed file fails "apache2ctl configtest", not the next start or
     * graceful restart.  The keys live in the configuration's pool (wiped
     * when it goes); post_config hands them on, the children inherit them. */
    if (idgw_vault_keys_load(cmd->pool, c->vault_key_file, &c->vault_keys, msg,
                             sizeof(msg)) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "IdgwVaultKeyFile: %s; the file holds one AES-256 key "
                            "per line (64 hex digits), mode 0600, e.g. (umask 077; openssl "
                            "rand -hex 32 > %s)", msg, c->vault_key_file);
    return NULL;
}

#define SRV_OFF(f) APR_OFFSETOF(idgw_session_srv, f)
#define DURATION(f, min, max) { IDGW_CONF_DURATION, SRV_OFF(f), min, max, NULL }
static const idgw_conf_rule r_connect = DURATION(redis.connect_timeout, 1000, 60 * APR_USEC_PER_SEC);
static const idgw_conf_rule r_command = DURATION(redis.command_timeout, 1000, 60 * APR_USEC_PER_SEC);
static const idgw_conf_rule r_idle_check = DURATION(redis.idle_check, 0, HOUR);
static const idgw_conf_rule r_retry = DURATION(redis.breaker_time, 0, 60 * APR_USEC_PER_SEC);
static const idgw_conf_rule r_idle = DURATION(idle, APR_USEC_PER_SEC, 24 * HOUR);
static const idgw_conf_rule r_lifetime = DURATION(lifetime, APR_USEC_PER_SEC, 7 * 24 * HOUR);
static const idgw_conf_rule r_strike = DURATION(strike_window, APR_USEC_PER_SEC, 30 * 24 * HOUR);
static const idgw_conf_rule r_lease = DURATION(pending_lease, 1000, HOUR);
static const idgw_conf_rule r_database =
    { IDGW_CONF_INT, SRV_OFF(redis.database), 0, 1023, "0..1023" };
static const idgw_conf_rule r_pool =
    { IDGW_CONF_INT, SRV_OFF(redis.pool_max), 1, 4096, "1..4096" };
static const idgw_conf_rule r_relays =
    { IDGW_CONF_INT, SRV_OFF(max_relays), 1, 1024, "1..1024" };
static const idgw_conf_rule r_body =
    { IDGW_CONF_LONG, SRV_OFF(max_body), 256, 1048576, "256..1048576" };

/* Every numeric directive: its rule (cmd->info) says how to parse and where to store. */
static const char *set_number(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = global_only(cmd);

    if (err)
        return err;
    if ((err = idgw_conf_rule_set(cmd->pool, cmd->info, srv_of(cmd), arg)))
        return fail(cmd, arg, err);
    return NULL;
}

static const char *set_policy(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = global_only(cmd);
    idgw_addr_policy pol;

    if (err)
        return err;
    if ((err = idgw_parse_addr_policy(arg, &pol)))
        return fail(cmd, arg, err);
    srv_of(cmd)->addr_policy = (int)pol;
    return NULL;
}

static const char *set_enabled(cmd_parms *cmd, void *dirv, int on)
{
    ((idgw_session_dir *)dirv)->enabled = on ? 1 : 0;
    if (on)
        srv_of(cmd)->used = 1;
    return NULL;
}

static const char *set_allow_plain(cmd_parms *cmd, void *dirv, int on)
{
    ((idgw_session_dir *)dirv)->allow_plain = on ? 1 : 0;
    return NULL;
}

/* IdgwSessionReaper off | GRACE [INTERVAL]: checked here, at start-up. */
static const char *set_reaper(cmd_parms *cmd, void *dummy, const char *grace,
                              const char *interval)
{
    const char *err = global_only(cmd);
    idgw_session_srv *c = srv_of(cmd);

    if (err)
        return err;
    if (strcasecmp(grace, "off") == 0) {
        if (interval)
            return fail(cmd, interval, "nothing may follow off");
        c->reaper_grace = 0;
        c->reaper_interval = 0;
        return NULL;
    }
    if ((err = idgw_parse_duration(grace, 0, HOUR, &c->reaper_grace)))
        return fail(cmd, grace, apr_pstrcat(cmd->pool, "grace: ", err, " (0..1h)", NULL));
    if (interval && (err = idgw_parse_duration(interval, apr_time_from_msec(100),
                                               apr_time_from_sec(600), &c->reaper_interval)))
        return fail(cmd, interval, apr_pstrcat(cmd->pool, "claim interval: ", err,
                                               " (100ms..10m)", NULL));
    return NULL;
}

/* IdgwSessionWaitReplicas N [TIMEOUT]: checked against IdgwRedisTimeout in finish. */
static const char *set_wait(cmd_parms *cmd, void *dummy, const char *n, const char *timeout)
{
    const char *err = global_only(cmd);
    idgw_session_srv *c = srv_of(cmd);
    long v;

    if (err)
        return err;
    if ((err = idgw_parse_int(n, 0, MAX_WAIT_REPLICAS, &v)))
        return fail(cmd, n, apr_pstrcat(cmd->pool, "replicas: ", err, NULL));
    c->wait_replicas = (int)v;
    if (timeout && (err = idgw_parse_duration(timeout, apr_time_from_msec(1),
                                              apr_time_from_sec(10), &c->wait_timeout)))
        return fail(cmd, timeout, apr_pstrcat(cmd->pool, "timeout: ", err, " (1ms..10s)",
                                              NULL));
    return NULL;
}

#define STR_OFF(f) ((void *)SRV_OFF(f))

const command_rec idgw_session_cmds[] = {
    AP_INIT_FLAG("IdgwSession", set_enabled, NULL, OR_AUTHCFG | ACCESS_CONF,
                 "IdgwSession On|Off - check session and sequence of requests here"),
    /* not in .htaccess (no OR_AUTHCFG): only the server's operator may
     * allow the session token to travel in clear */
    AP_INIT_FLAG("IdgwAllowPlainHttp", set_allow_plain, NULL, RSRC_CONF | ACCESS_CONF,
                 "IdgwAllowPlainHttp On|Off - serve the API over plain HTTP too (tests, "
                 "behind a TLS-terminating proxy; default Off: TLS only)"),
    AP_INIT_TAKE1("IdgwRedisServer", set_server, NULL, RSRC_CONF,
                  "IdgwRedisServer host[:port] - Redis without Sentinel (default 127.0.0.1:6379)"),
    AP_INIT_ITERATE("IdgwRedisSentinels", set_sentinels, NULL, RSRC_CONF,
                    "IdgwRedisSentinels host[:port] ... - Sentinels to ask for the master"),
    AP_INIT_ITERATE("IdgwRedisCluster", set_cluster, NULL, RSRC_CONF,
                    "IdgwRedisCluster host[:port] ... - seed nodes of a Redis Cluster "
                    "(instead of IdgwRedisServer or IdgwRedisSentinels)"),
    AP_INIT_TAKE1("IdgwRedisMasterName", set_string, STR_OFF(redis.master_name), RSRC_CONF,
                  "IdgwRedisMasterName name - master name known to the Sentinels"),
    AP_INIT_TAKE1("IdgwRedisPassword", set_string, STR_OFF(redis.password), RSRC_CONF,
                  "IdgwRedisPassword secret - sent with AUTH on every new connection"),
    AP_INIT_TAKE1("IdgwRedisDatabase", set_number, (void *)&r_database, RSRC_CONF,
                  "IdgwRedisDatabase n - database number for SELECT (0..1023, default 0)"),
    AP_INIT_TAKE1("IdgwRedisConnectTimeout", set_number, (void *)&r_connect, RSRC_CONF,
                  "IdgwRedisConnectTimeout duration - connect timeout (default 200ms)"),
    AP_INIT_TAKE1("IdgwRedisTimeout", set_number, (void *)&r_command, RSRC_CONF,
                  "IdgwRedisTimeout duration - timeout of each command (default 500ms)"),
    AP_INIT_TAKE1("IdgwRedisIdleCheck", set_number, (void *)&r_idle_check, RSRC_CONF,
                  "IdgwRedisIdleCheck duration - PING a connection idle this long before "
                  "reusing it (default 10s)"),
    AP_INIT_TAKE1("IdgwRedisRetryInterval", set_number, (void *)&r_retry, RSRC_CONF,
                  "IdgwRedisRetryInterval duration - after Redis failed, answer 503 at once "
                  "for this long before trying again (default 1s)"),
    AP_INIT_TAKE1("IdgwRedisPoolSize", set_number, (void *)&r_pool, RSRC_CONF,
                  "IdgwRedisPoolSize n - connections per child (default: ThreadsPerChild)"),
    AP_INIT_TAKE1("IdgwRedisKeyPrefix", set_prefix, NULL, RSRC_CONF,
                  "IdgwRedisKeyPrefix prefix - prefix of every key (default idgw:)"),
    AP_INIT_TAKE1("IdgwSessionIdleTimeout", set_number, (void *)&r_idle, RSRC_CONF,
                  "IdgwSessionIdleTimeout duration - session ends after this long without "
                  "a request (default 5m)"),
    AP_INIT_TAKE1("IdgwSessionMaxLifetime", set_number, (void *)&r_lifetime, RSRC_CONF,
                  "IdgwSessionMaxLifetime duration - absolute session lifetime (default 30m)"),
    AP_INIT_TAKE1("IdgwSessionAddressPolicy", set_policy, NULL, RSRC_CONF,
                  "IdgwSessionAddressPolicy off|log|enforce - when the client address "
                  "changes within a session (default log)"),
    AP_INIT_TAKE1("IdgwSessionMaxRelays", set_number, (void *)&r_relays, RSRC_CONF,
                  "IdgwSessionMaxRelays n - relay round trips per operation (default 64)"),
    AP_INIT_TAKE1("IdgwSessionMaxBody", set_number, (void *)&r_body, RSRC_CONF,
                  "IdgwSessionMaxBody bytes - largest request body (256..1048576, default 65536)"),
    AP_INIT_TAKE1("IdgwSessionStrikeWindow", set_number, (void *)&r_strike, RSRC_CONF,
                  "IdgwSessionStrikeWindow duration - how long a strike counts (default 1h)"),
    AP_INIT_TAKE1("IdgwSessionRetryLease", set_number, (void *)&r_lease, RSRC_CONF,
                  "IdgwSessionRetryLease duration - a retry of an unanswered step waits this "
                  "long for the first attempt (default 30s)"),
    AP_INIT_TAKE12("IdgwSessionReaper", set_reaper, NULL, RSRC_CONF,
                   "IdgwSessionReaper off | grace [interval] - an operation whose app "
                   "vanished is aborted towards the backends idle timeout + grace after "
                   "its last step; each child looks every interval (default 30s 5s)"),
    AP_INIT_TAKE12("IdgwSessionWaitReplicas", set_wait, NULL, RSRC_CONF,
                   "IdgwSessionWaitReplicas n [timeout] - a write that advances a session "
                   "is answered only once n replicas have it (WAIT; 0: not confirmed)"),
    AP_INIT_TAKE1("IdgwVaultKeyFile", set_key_file, NULL, RSRC_CONF,
                  "IdgwVaultKeyFile path - AES-256 keys, one per line in hex; the first seals"),
    IDGW_SHED_CMDS,
    { NULL }
};

/* The one step that applies the defaults: the Redis layer and the scripts
 * take the values as they are (idgw_redis_cfg has no getters). */
static const char *duration_text(apr_pool_t *p, apr_interval_time_t t)
{
    return t % APR_USEC_PER_SEC == 0 ? apr_psprintf(p, "%" APR_TIME_T_FMT "s", apr_time_sec(t))
                                     : apr_psprintf(p, "%" APR_TIME_T_FMT "ms", apr_time_as_msec(t));
}

/* The retry lease must cover the longest a step can run: a retransmission
 * that took over a step still running would run it twice. */
static const char *lease_finish(apr_pool_t *p, idgw_session_srv *c)
{
    apr_interval_time_t worst = idgw_g.step_worst;

    if (worst <= 0) {
        c->pending_lease = idgw_default_time(c->pending_lease, D_PENDING_LEASE);
        return NULL;
    }
    if (c->pending_lease == IDGW_UNSET) {
        c->pending_lease = worst + worst / 4 + D_LEASE_MARGIN;
        return NULL;
    }
    if (c->pending_lease < worst)
        return apr_psprintf(p, "IdgwSessionRetryLease %s is below the worst case of a step "
                            "(%s, from the backend timeouts %s uses): a retransmission could "
                            "take over a step that is still running; raise it to at least "
                            "%s or leave it unset (default: the worst case + 25%% + %s)",
                            duration_text(p, c->pending_lease), duration_text(p, worst),
                            idgw_g.step_worst_by ? idgw_g.step_worst_by : "the handler",
                            duration_text(p, worst), duration_text(p, D_LEASE_MARGIN));
    return NULL;
}

/* Cluster mode excludes the other two modes and what a Cluster cannot do. */
static const char *cluster_finish(const idgw_session_srv *c)
{
    if (!c->redis.nseeds)
        return NULL;
    if (c->redis_server_set || c->redis.nsentinels || c->redis.master_name)
        return "IdgwRedisCluster excludes IdgwRedisServer, IdgwRedisSentinels and "
               "IdgwRedisMasterName: use one Redis mode";
    if (c->redis.database != IDGW_UNSET && c->redis.database != 0)
        return "IdgwRedisDatabase: a Redis Cluster has database 0 only";
    /* IdgwSessionWaitReplicas works: WAIT follows each script on its slot's
     * master (idgw_cluster.h, wait_replicas) */
    return NULL;
}

const char *idgw_session_cfg_finish(apr_pool_t *p, server_rec *s, idgw_session_srv *c)
{
    int threads = 0;
    const char *msg;

    if (!c->redis_server_set) {
        c->redis.server.host = "127.0.0.1";
        c->redis.server.port = 6379;
    }
    if (c->redis.nsentinels && !c->redis.master_name)
        return "IdgwRedisSentinels needs IdgwRedisMasterName";
    if (!c->redis.nsentinels && c->redis.master_name)
        return "IdgwRedisMasterName needs IdgwRedisSentinels";
    if (c->redis.nsentinels && c->redis_server_set)
        return "use either IdgwRedisServer or IdgwRedisSentinels, not both";
    if ((msg = cluster_finish(c)))
        return msg;
    c->redis.database = idgw_default_int(c->redis.database, 0);
    c->redis.connect_timeout = idgw_default_time(c->redis.connect_timeout, D_CONNECT_TIMEOUT);
    c->redis.command_timeout = idgw_default_time(c->redis.command_timeout, D_COMMAND_TIMEOUT);
    c->redis.idle_check = idgw_default_time(c->redis.idle_check, D_IDLE_CHECK);
    c->redis.breaker_time = idgw_default_time(c->redis.breaker_time, D_RETRY_INTERVAL);
    if (c->redis.pool_max == IDGW_UNSET) {
        if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 1)
            threads = 1;
        /* one a request may hold to its end, and two that never wait for a
         * request: the batch on the wire (idgw_redis_batch.h: one leader at
         * a time, whose callers may be holding theirs) and the reaper */
        c->redis.pool_max = threads + 2;
    }
    if (!c->key_prefix)
        c->key_prefix = D_PREFIX;
    c->idle = idgw_default_time(c->idle, D_IDLE);
    c->lifetime = idgw_default_time(c->lifetime, D_LIFETIME);
    c->strike_window = idgw_default_time(c->strike_window, D_STRIKE_WINDOW);
    if ((msg = lease_finish(p, c)))
        return msg;
    c->max_relays = idgw_default_int(c->max_relays, D_MAX_RELAYS);
    c->addr_policy = idgw_default_int(c->addr_policy, IDGW_ADDR_POLICY_LOG);
    c->max_body = idgw_default_int64(c->max_body, D_MAX_BODY);
    c->reaper_grace = idgw_default_time(c->reaper_grace, D_REAPER_GRACE);
    c->reaper_interval = idgw_default_time(c->reaper_interval, D_REAPER_INTERVAL);
    if (c->idle > c->lifetime)
        return "IdgwSessionIdleTimeout must not exceed IdgwSessionMaxLifetime";
    c->wait_replicas = idgw_default_int(c->wait_replicas, 0);
    /* a WAIT's answer is read under IdgwRedisTimeout plus this timeout
     * (idgw_redis_read_wait): any pair works */
    c->wait_timeout = idgw_default_time(c->wait_timeout, D_WAIT_TIMEOUT);
    return NULL;
}

void idgw_session_limits_get(const idgw_session_srv *c, idgw_session_limits *lim)
{
    lim->prefix = c->key_prefix;
    lim->idle = c->idle;
    lim->lifetime = c->lifetime;
    lim->strike_window = c->strike_window;
    lim->pending_lease = c->pending_lease;
    lim->max_relays = c->max_relays;
    lim->addr_policy = (idgw_addr_policy)c->addr_policy;
}
