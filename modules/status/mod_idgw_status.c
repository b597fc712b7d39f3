/*
 * mod_idgw_status.c - counters an operator can read.
 *
 * Owns the shared counter table (idgw_metrics.h): creates it in post_config
 * in memory the children inherit, keeps it across graceful restarts (it
 * hangs off the process pool, so counters survive "apachectl graceful"), and
 * exports optional functions the other idgw modules call to count.  Serves
 * the "idgw-status" handler:
 *     <Location /idgw-status>
 *         SetHandler idgw-status
 *         Require ip 127.0.0.1
 *     </Location>
 * as an HTML page, or as Prometheus text with ?format=prometheus or an
 * Accept header asking for text/plain / OpenMetrics (what Prometheus sends).
 * Counts every request carrying the idgw-op note when it is logged, and
 * optionally reads fleet-wide figures from Redis keys (IdgwStatusFleetKey).
 */
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_provider.h>
#include <apr_optional.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include <hiredis/hiredis.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idgw_conf_parse.h"
#include "idgw_metrics.h"
#include "idgw_status_page.h"
#include "mod_idgw.h"

#define STATUS_HANDLER "idgw-status"
#define SHM_USERDATA_KEY "idgw_status_metrics_shm"
#define FLEET_DEFAULT_TIMEOUT_MS 200
#define FLEET_MAX_KEYS 64

module AP_MODULE_DECLARE_DATA idgw_status_module;

/* The table; set in post_config in the parent, inherited by the children. */
static idgw_metrics *metrics;

/* mod_idgw_session's view of a request, when that module is loaded. */
static APR_OPTIONAL_FN_TYPE(idgw_session_get) *session_get;

typedef struct fleet_key {
    const char *name;          /* label value: [A-Za-z0-9_] */
    const char *key;           /* the Redis key */
} fleet_key;

/* The modules' one configuration style (idgw_conf.h): numbers IDGW_UNSET and
 * pointers NULL until set, merge "set wins", defaults in the getters below. */
typedef struct status_conf {
    int series;                        /* IdgwStatusSeries (main server only) */
    idgw_hostport redis;               /* IdgwStatusRedis; host NULL: unset */
    int redis_timeout_ms;              /* IdgwStatusRedisTimeout */
    const char *redis_password;        /* IdgwStatusRedisPassword: AUTH, never logged */
    apr_array_header_t *fleet;         /* IdgwStatusFleetKey, fleet_key */
} status_conf;

typedef struct status_dir_conf {
    const char *count_as;              /* IdgwStatusCount: op label for unnamed requests */
} status_dir_conf;

/* ---- configuration ------------------------------------------------------ */

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    return apr_pcalloc(p, sizeof(status_dir_conf));
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    status_dir_conf *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    c->count_as = idgw_merge_ptr(base->count_as, add->count_as);
    return c;
}

static const char *set_count_as(cmd_parms *cmd, void *dirv, const char *arg)
{
    status_dir_conf *d = dirv;

    if (strcasecmp(arg, "off") == 0) {
        d->count_as = "";           /* set, and off: overrides an outer location */
        return NULL;
    }
    if (arg[0] == '\0' || strlen(arg) >= IDGW_METRICS_LABEL_MAX
        || strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(arg))
        return "IdgwStatusCount: Off, or an operation label of 1-31 characters of [a-z0-9_]";
    d->count_as = arg;
    return NULL;
}

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    status_conf *c = apr_pcalloc(p, sizeof(*c));

    c->series = IDGW_UNSET;
    c->redis_timeout_ms = IDGW_UNSET;
    c->fleet = apr_array_make(p, 4, sizeof(fleet_key));
    return c;
}

static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    status_conf *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    c->series = idgw_merge_int(base->series, add->series);
    c->redis = add->redis.host ? add->redis : base->redis;
    c->redis_timeout_ms = idgw_merge_int(base->redis_timeout_ms, add->redis_timeout_ms);
    /* the password goes with the Redis it was set for */
    c->redis_password = add->redis.host || add->redis_password ? add->redis_password
                                                               : base->redis_password;
    c->fleet = add->fleet->nelts ? add->fleet : base->fleet;
    return c;
}

static status_conf *server_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &idgw_status_module);
}

/* Getters applying the defaults. */
static unsigned conf_series(const status_conf *c)
{
    return (unsigned)idgw_default_int(c->series, IDGW_METRICS_DEFAULT_SERIES);
}

static int conf_redis_timeout_ms(const status_conf *c)
{
    return idgw_default_int(c->redis_timeout_ms, FLEET_DEFAULT_TIMEOUT_MS);
}

static const char *set_series(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    long n;

    if (err)
        return err;
    if (idgw_parse_int(arg, IDGW_METRICS_MIN_SERIES, IDGW_METRICS_MAX_SERIES, &n))
        return apr_psprintf(cmd->pool, "IdgwStatusSeries: a number from %d to %d",
                            IDGW_METRICS_MIN_SERIES, IDGW_METRICS_MAX_SERIES);
    server_conf(cmd->server)->series = (int)n;
    return NULL;
}

static const char *set_redis(cmd_parms *cmd, void *dummy, const char *arg)
{
    if (idgw_parse_hostport(cmd->pool, arg, 6379, &server_conf(cmd->server)->redis))
        return "IdgwStatusRedis: host:port, e.g. 127.0.0.1:6379";
    return NULL;
}

/* A bare number of milliseconds, as documented (not a duration: there a bare
 * number is seconds). */
static const char *set_redis_timeout(cmd_parms *cmd, void *dummy, const char *arg)
{
    long ms;

    if (idgw_parse_int(arg, 1, 10000, &ms))
        return "IdgwStatusRedisTimeout: milliseconds from 1 to 10000";
    server_conf(cmd->server)->redis_timeout_ms = (int)ms;
    return NULL;
}

static const char *set_redis_password(cmd_parms *cmd, void *dummy, const char *arg)
{
    if (arg[0] == '\0' || strlen(arg) > 512)
        return "IdgwStatusRedisPassword: 1-512 bytes";
    server_conf(cmd->server)->redis_password = arg;
    return NULL;
}

static const char *add_fleet_key(cmd_parms *cmd, void *dummy, const char *name, const char *key)
{
    status_conf *c = server_conf(cmd->server);
    fleet_key *f;

    if (name[0] == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(name)
        || strlen(name) >= IDGW_METRICS_LABEL_MAX)
        return "IdgwStatusFleetKey: the name is 1-31 characters of [A-Za-z0-9_]";
    if (key[0] == '\0' || strlen(key) > 512)
        return "IdgwStatusFleetKey: the Redis key is 1-512 bytes";
    if (c->fleet->nelts >= FLEET_MAX_KEYS)
        return apr_psprintf(cmd->pool, "IdgwStatusFleetKey: at most %d keys", FLEET_MAX_KEYS);
    f = apr_array_push(c->fleet);
    f->name = name;
    f->key = key;
    return NULL;
}

static const command_rec status_cmds[] = {
    AP_INIT_TAKE1("IdgwStatusSeries", set_series, NULL, RSRC_CONF,
                  "IdgwStatusSeries N: size of the shared counter table in series "
                  "(16-65536, default 1024; global)"),
    AP_INIT_TAKE1("IdgwStatusRedis", set_redis, NULL, RSRC_CONF,
                  "IdgwStatusRedis host:port: where the status page reads fleet-wide figures"),
    AP_INIT_TAKE1("IdgwStatusRedisTimeout", set_redis_timeout, NULL, RSRC_CONF,
                  "IdgwStatusRedisTimeout ms: connect and command timeout for the fleet "
                  "figures (default 200)"),
    AP_INIT_TAKE1("IdgwStatusRedisPassword", set_redis_password, NULL, RSRC_CONF,
                  "IdgwStatusRedisPassword secret: sent with AUTH when the status page "
                  "connects to IdgwStatusRedis"),
    AP_INIT_TAKE2("IdgwStatusFleetKey", add_fleet_key, NULL, RSRC_CONF,
                  "IdgwStatusFleetKey name redis-key: show the key's size (set, sorted set, "
                  "hash, list) or integer value (string) as idgw_fleet_value{name=...}"),
    AP_INIT_TAKE1("IdgwStatusCount", set_count_as, NULL, OR_OPTIONS | ACCESS_CONF,
                  "IdgwStatusCount label|Off: count requests here that no idgw module named "
                  "(e.g. refused before the session check) as op=label"),
    { NULL }
};

/* ---- the shared segment ---------------------------------------------------- */

static apr_status_t create_segment(apr_shm_t **shm, apr_size_t size, server_rec *s,
                                   apr_pool_t *pconf)
{
    apr_pool_t *pproc = s->process->pool;
    apr_status_t rv = apr_shm_create(shm, size, NULL, pproc);

    if (rv == APR_ENOTIMPL) {   /* no anonymous shared memory: a named one */
        const char *file = ap_runtime_dir_relative(pconf, "idgw-status.shm");
        apr_shm_remove(file, pconf);
        rv = apr_shm_create(shm, size, apr_pstrdup(pproc, file), pproc);
    }
    return rv;
}

/* Reuse the table of the previous configuration cycle when it has the
 * wanted size, so counters survive a graceful restart; else make a new one
 * (children of the old generation keep their own mapping of the old one). */
static int setup_segment(apr_pool_t *pconf, server_rec *s)
{
    status_conf *c = server_conf(s);
    unsigned series = conf_series(c);
    apr_size_t size = idgw_metrics_size(series);
    apr_shm_t *shm = NULL;
    idgw_metrics *m = NULL;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&shm, SHM_USERDATA_KEY, s->process->pool);
    if (shm) {
        m = idgw_metrics_attach(apr_shm_baseaddr_get(shm), apr_shm_size_get(shm));
        if (m && idgw_metrics_size(idgw_metrics_series_capacity(m)) == size) {
            metrics = m;
            return OK;
        }
        apr_shm_destroy(shm);
        apr_pool_userdata_set(NULL, SHM_USERDATA_KEY, apr_pool_cleanup_null, s->process->pool);
    }
    rv = create_segment(&shm, size, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "IDGW-STATUS-001: cannot create the shared counter table (%"
                     APR_SIZE_T_FMT " bytes)", size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    m = idgw_metrics_init(apr_shm_baseaddr_get(shm), apr_shm_size_get(shm), series,
                          apr_time_now());
    if (!m) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "IDGW-STATUS-002: the shared counter table is smaller than asked");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_userdata_set(shm, SHM_USERDATA_KEY, apr_pool_cleanup_null, s->process->pool);
    metrics = m;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "IDGW-STATUS-003: shared counter table of %u series created",
                 idgw_metrics_series_capacity(m));
    return OK;
}

static int status_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *s)
{
    return setup_segment(pconf, s);
}

/* ---- optional functions for the other modules ------------------------------- */

static void idgw_metrics_count(int metric, const char *l1, const char *l2, const char *l3,
                          apr_uint64_t n)
{
    if (metrics)
        idgw_metrics_add(metrics, (idgw_metric)metric, l1, l2, l3, n);
}

static void idgw_metrics_backend_call(const char *backend, const char *result,
                                 apr_interval_time_t elapsed)
{
    if (!metrics)
        return;
    idgw_metrics_add(metrics, IDGW_M_BACKEND_CALLS, backend, result, NULL, 1);
    idgw_metrics_observe(metrics, IDGW_M_BACKEND_SECONDS, backend, NULL, NULL, elapsed);
}

static void idgw_metrics_request_note(request_rec *r, const char *session_log, const char *op,
                                 const char *step, const char *result)
{
    if (session_log)
        apr_table_set(r->notes, IDGW_NOTE_SESSION, session_log);
    if (op)
        apr_table_set(r->notes, IDGW_NOTE_OP, op);
    if (step)
        apr_table_set(r->notes, IDGW_NOTE_STEP, step);
    if (result)
        apr_table_set(r->notes, IDGW_NOTE_RESULT, result);
}

/* ---- counting requests when they are logged --------------------------------- */

/* A result for requests whose handler set none: from the final status. */
static const char *result_from_status(int status)
{
    if (status == HTTP_FORBIDDEN)
        return "denied";
    if (status == HTTP_TOO_MANY_REQUESTS)
        return "rate_limited";
    if (status == HTTP_CONFLICT)
        return "sequence_error";
    if (status == HTTP_SERVICE_UNAVAILABLE)
        return "unavailable";
    if (status >= 500)
        return "server_error";
    if (status >= 400)
        return "client_error";
    return "ok";
}

/* Operation and step named by the URL's last two segments, as the session
 * module reads them (".../session/open", ".../add_card/relay"); 0 when they
 * name none.  For requests refused before the session was read. */
static int op_step_from_uri(const request_rec *r, const char **op, const char **step)
{
    idgw_op o;
    idgw_step st;

    if (!idgw_op_step_from_path(r->parsed_uri.path ? r->parsed_uri.path : r->uri, &o, &st))
        return 0;
    *op = idgw_op_name(o);
    *step = idgw_step_name(st);
    return 1;
}

/* Fill the notes a module has not set: from the session module's view of
 * the request, else (inside an IdgwStatusCount location) from the URL or
 * the location's label.  Returns 0 when the request is not a gateway request. */
static int name_request(request_rec *r)
{
    const idgw_session_info *info = session_get ? session_get(r) : NULL;
    const status_dir_conf *d;
    const char *op = NULL, *step = NULL;

    if (apr_table_get(r->notes, IDGW_NOTE_OP))
        return 1;
    if (info) {
        op = idgw_op_name(info->op);
        step = idgw_step_name(info->step);
        apr_table_setn(r->notes, IDGW_NOTE_OP, op ? op : "none");
        apr_table_setn(r->notes, IDGW_NOTE_STEP, step ? step : "none");
        if (info->sid_log && !apr_table_get(r->notes, IDGW_NOTE_SESSION))
            apr_table_set(r->notes, IDGW_NOTE_SESSION, info->sid_log);
        return 1;
    }
    d = ap_get_module_config(r->per_dir_config, &idgw_status_module);
    if (!d || !d->count_as || d->count_as[0] == '\0')
        return 0;
    if (!op_step_from_uri(r, &op, &step)) {
        op = d->count_as;
        step = NULL;
    }
    apr_table_setn(r->notes, IDGW_NOTE_OP, op);
    if (step)
        apr_table_setn(r->notes, IDGW_NOTE_STEP, step);
    return 1;
}

/* Refusals by sequence management, by their stable code.  (mod_idgw_acl
 * counts its own denials with their reasons; counting IDGW-ACL-* codes here
 * too would count them twice.) */
static void count_error_code(const char *code)
{
    if (code && strncmp(code, "IDGW-SEQ-", 9) == 0)
        idgw_metrics_add(metrics, IDGW_M_SEQUENCE_ERRORS, code, NULL, NULL, 1);
}

static int status_log_transaction(request_rec *r)
{
    const request_rec *last = r;
    const char *op, *result;

    if (!metrics || r->main)
        return DECLINED;
    count_error_code(apr_table_get(r->notes, IDGW_NOTE_ERROR));
    if (!name_request(r))
        return DECLINED;
    op = apr_table_get(r->notes, IDGW_NOTE_OP);
    while (last->next)      /* an ErrorDocument redirect: the final status */
        last = last->next;
    result = apr_table_get(r->notes, IDGW_NOTE_RESULT);
    if (!result)
        result = apr_table_get(r->notes, IDGW_NOTE_ERROR);
    if (!result) {
        const char *replay = apr_table_get(last->headers_out, IDGW_HEADER_REPLAY);
        result = replay && last->status < 400 ? "replay" : result_from_status(last->status);
    }
    apr_table_setn(r->notes, IDGW_NOTE_RESULT, result);     /* for the access log */
    idgw_metrics_add(metrics, IDGW_M_REQUESTS, op, apr_table_get(r->notes, IDGW_NOTE_STEP),
                     result, 1);
    idgw_metrics_observe(metrics, IDGW_M_REQUEST_SECONDS, op, NULL, NULL,
                         apr_time_now() - r->request_time);
    return DECLINED;
}

static void status_optional_fn_retrieve(void)
{
    session_get = APR_RETRIEVE_OPTIONAL_FN(idgw_session_get);
}

/* ---- fleet-wide figures from Redis ----------------------------------------- */

/* The command that sizes a key of a given TYPE; NULL for types we do not show. */
static const char *size_command(const char *type)
{
    if (strcmp(type, "set") == 0)
        return "SCARD";
    if (strcmp(type, "zset") == 0)
        return "ZCARD";
    if (strcmp(type, "hash") == 0)
        return "HLEN";
    if (strcmp(type, "list") == 0)
        return "LLEN";
    if (strcmp(type, "string") == 0)
        return "GET";
    return NULL;
}

/* A reply as an integer figure: integers, or strings holding an integer. */
static int reply_number(const redisReply *rep, long long *out)
{
    char *end;

    if (rep->type == REDIS_REPLY_INTEGER) {
        *out = rep->integer;
        return 1;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        *out = 0;
        return 1;
    }
    if (rep->type == REDIS_REPLY_STRING && rep->len > 0 && rep->len < 24) {
        *out = strtoll(rep->str, &end, 10);
        return *end == '\0';
    }
    return 0;
}

static void append_key_command(redisContext *rc, const char *command, const char *key)
{
    const char *argv[2] = { command, key };
    size_t lens[2] = { strlen(command), strlen(key) };

    redisAppendCommandArgv(rc, 2, argv, lens);
}

static void fleet_error(const char *kind)
{
    if (metrics)
        idgw_metrics_add(metrics, IDGW_M_REDIS_ERRORS, "status_fleet", kind, NULL, 1);
}

enum fleet_reply { FLEET_REPLY_OK, FLEET_REPLY_IO, FLEET_REPLY_REFUSED };

/* The next pipelined reply, to WHAT.  An error reply (NOAUTH, WRONGPASS,
 * LOADING...) makes every figure of this read unknown: the page says Redis
 * is down rather than show zeros.  *rep is set only for FLEET_REPLY_OK. */
static enum fleet_reply next_reply(request_rec *r, const status_conf *c, redisContext *rc,
                                   const char *what, redisReply **rep)
{
    redisReply *got;

    if (redisGetReply(rc, (void **)&got) != REDIS_OK)
        return FLEET_REPLY_IO;
    if (got->type != REDIS_REPLY_ERROR) {
        *rep = got;
        return FLEET_REPLY_OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "IDGW-STATUS-012: fleet figures: Redis %s:%u refused %s: %.80s", c->redis.host,
                  (unsigned)c->redis.port, what, got->str);
    fleet_error(strncmp(got->str, "NOAUTH", 6) == 0 || strncmp(got->str, "WRONGPASS", 9) == 0
                ? "auth" : "refused");
    freeReplyObject(got);
    return FLEET_REPLY_REFUSED;
}

/* Read every fleet key: TYPE for all (pipelined), then the sizes (pipelined).
 * Fills values[i] (-1: not a number) and returns 1 when Redis answered. */
static int fleet_read(request_rec *r, const status_conf *c, long long *values)
{
    const fleet_key *keys = (const fleet_key *)c->fleet->elts;
    int n = c->fleet->nelts, i, ok = 0;
    int ms = conf_redis_timeout_ms(c);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    const char **cmds = apr_pcalloc(r->pool, sizeof(*cmds) * (apr_size_t)n);
    redisContext *rc = redisConnectWithTimeout(c->redis.host, c->redis.port, tv);
    redisReply *rep;
    enum fleet_reply got = FLEET_REPLY_OK;

    if (!rc || rc->err) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "IDGW-STATUS-010: fleet figures: cannot connect to Redis %s:%u: %s",
                      c->redis.host, (unsigned)c->redis.port, rc ? rc->errstr : "no memory");
        fleet_error("connect");
        goto out;
    }
    redisSetTimeout(rc, tv);
    if (c->redis_password)
        append_key_command(rc, "AUTH", c->redis_password);
    /* keys go as arguments, never through a format string */
    for (i = 0; i < n; i++)
        append_key_command(rc, "TYPE", keys[i].key);
    if (c->redis_password) {
        if ((got = next_reply(r, c, rc, "AUTH", &rep)) != FLEET_REPLY_OK)
            goto failed;
        freeReplyObject(rep);
    }
    for (i = 0; i < n; i++) {
        if ((got = next_reply(r, c, rc, "TYPE", &rep)) != FLEET_REPLY_OK)
            goto failed;
        cmds[i] = rep->type == REDIS_REPLY_STATUS ? size_command(rep->str) : NULL;
        freeReplyObject(rep);
        if (cmds[i])
            append_key_command(rc, cmds[i], keys[i].key);
    }
    for (i = 0; i < n; i++) {
        values[i] = 0;          /* type "none": the key does not exist */
        if (!cmds[i])
            continue;
        if ((got = next_reply(r, c, rc, cmds[i], &rep)) != FLEET_REPLY_OK)
            goto failed;
        if (!reply_number(rep, &values[i]))
            values[i] = -1;
        freeReplyObject(rep);
    }
    ok = 1;
    goto out;
failed:
    if (got == FLEET_REPLY_REFUSED)
        goto out;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "IDGW-STATUS-011: fleet figures: Redis %s:%u: %s", c->redis.host,
                  (unsigned)c->redis.port, rc->errstr);
    fleet_error(rc->err == REDIS_ERR_IO && strstr(rc->errstr, "temporarily") ? "timeout" : "io");
out:
    if (rc)
        redisFree(rc);
    return ok;
}

/* ---- the handler ------------------------------------------------------------- */

static int rwrite(void *ctx, const char *data, size_t len)
{
    return ap_rwrite(data, (int)len, ctx) < 0 ? -1 : 0;
}

static int wants_prometheus(request_rec *r, int *bad)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    char *args = r->args ? apr_pstrdup(r->pool, r->args) : NULL;
    char *tok, *last;

    *bad = 0;
    for (tok = args ? apr_strtok(args, "&", &last) : NULL; tok; tok = apr_strtok(NULL, "&", &last)) {
        if (strcmp(tok, "format=prometheus") == 0)
            return 1;
        if (strcmp(tok, "format=html") == 0)
            return 0;
        if (strncmp(tok, "format=", 7) == 0) {
            *bad = 1;
            return 0;
        }
    }
    if (accept && !ap_strstr_c(accept, "text/html")
        && (ap_strstr_c(accept, "text/plain") || ap_strstr_c(accept, "application/openmetrics-text")))
        return 1;
    return 0;
}

/* Fleet figures read before anything is rendered, so a failure to read
 * them is already in the counters of the same page. */
typedef struct fleet_result {
    int configured;
    int up;
    apr_int64_t *values;
} fleet_result;

static void fleet_fetch(request_rec *r, const status_conf *c, fleet_result *f)
{
    long long *values;
    int i;

    f->configured = c->redis.host && c->fleet->nelts > 0;
    if (!f->configured)
        return;
    values = apr_pcalloc(r->pool, sizeof(*values) * (apr_size_t)c->fleet->nelts);
    f->values = apr_pcalloc(r->pool, sizeof(*f->values) * (apr_size_t)c->fleet->nelts);
    f->up = fleet_read(r, c, values);
    for (i = 0; i < c->fleet->nelts; i++)
        f->values[i] = (apr_int64_t)values[i];
}

static void render_fleet(request_rec *r, const status_conf *c, const fleet_result *f)
{
    const fleet_key *keys = (const fleet_key *)c->fleet->elts;
    int i;

    if (!f->configured)
        return;
    ap_rputs("# HELP idgw_fleet_up Whether the fleet figures could be read from Redis.\n"
             "# TYPE idgw_fleet_up gauge\n", r);
    ap_rprintf(r, "idgw_fleet_up %d\n", f->up);
    ap_rputs("# HELP idgw_fleet_value Fleet-wide figures from Redis (size or value of "
             "the key).\n# TYPE idgw_fleet_value gauge\n", r);
    for (i = 0; f->up && i < c->fleet->nelts; i++)
        if (f->values[i] >= 0)
            ap_rprintf(r, "idgw_fleet_value{name=\"%s\"} %" APR_INT64_T_FMT "\n",
                       keys[i].name, f->values[i]);
}

/* The human page (idgw_status_page.c), given what the fleet read found. */
static int render_page(request_rec *r, const status_conf *c, const fleet_result *f)
{
    const fleet_key *keys = (const fleet_key *)c->fleet->elts;
    idgw_status_fleet_view view = { f->configured, f->up, NULL, 0, NULL, f->values };
    const char **names = apr_pcalloc(r->pool, sizeof(*names) * (apr_size_t)(c->fleet->nelts + 1));
    int i;

    for (i = 0; i < c->fleet->nelts; i++)
        names[i] = keys[i].name;
    view.n = c->fleet->nelts;
    view.names = names;
    if (c->redis.host)
        view.redis = apr_psprintf(r->pool, "%s:%u", c->redis.host, (unsigned)c->redis.port);
    return idgw_status_page(r, metrics, &view);
}

static int status_handler(request_rec *r)
{
    const status_conf *c;
    fleet_result fleet = { 0, 0, NULL };
    int prometheus, bad;

    if (!r->handler || strcmp(r->handler, STATUS_HANDLER) != 0)
        return DECLINED;
    ap_allow_standard_methods(r, REPLACE_ALLOW, M_GET, -1);
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!metrics)
        return HTTP_SERVICE_UNAVAILABLE;
    prometheus = wants_prometheus(r, &bad);
    if (bad)
        return HTTP_BAD_REQUEST;
    c = server_conf(r->server);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_type(r, prometheus ? "text/plain; version=0.0.4; charset=utf-8"
                                      : "text/html; charset=utf-8");
    if (r->header_only)
        return OK;
    fleet_fetch(r, c, &fleet);
    if (prometheus) {
        ap_rprintf(r, "# HELP idgw_status_start_time_seconds When the counters started "
                      "(survives graceful restarts).\n"
                      "# TYPE idgw_status_start_time_seconds gauge\n"
                      "idgw_status_start_time_seconds %" APR_TIME_T_FMT "\n",
                   apr_time_sec(idgw_metrics_created(metrics)));
        idgw_metrics_render_prometheus(metrics, rwrite, r);
        render_fleet(r, c, &fleet);
        return OK;
    }
    return render_page(r, c, &fleet);
}

/* The first request of each minute records the minute's snapshot of the
 * totals (one atomic load for all the others), before anything of this
 * request is counted: the page's "last minutes" figures come from them. */
static int status_post_read_request(request_rec *r)
{
    if (metrics)
        idgw_metrics_tick(metrics, r->request_time);
    return DECLINED;
}

/* ---- registration ------------------------------------------------------------- */

static void status_register_hooks(apr_pool_t *p)
{
    static const char *const before_log[] = { "mod_log_config.c", NULL };

    ap_hook_post_config(status_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(status_post_read_request, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(status_optional_fn_retrieve, NULL, NULL, APR_HOOK_MIDDLE);
    /* ahead of mod_log_config, so anything set here is in the access log */
    ap_hook_log_transaction(status_log_transaction, NULL, before_log, APR_HOOK_MIDDLE);
    APR_REGISTER_OPTIONAL_FN(idgw_metrics_count);
    APR_REGISTER_OPTIONAL_FN(idgw_metrics_backend_call);
    APR_REGISTER_OPTIONAL_FN(idgw_metrics_request_note);
}

AP_DECLARE_MODULE(idgw_status) = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    create_server_conf,
    merge_server_conf,
    status_cmds,
    status_register_hooks
};
