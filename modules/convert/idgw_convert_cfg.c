/*
 * idgw_convert_cfg.c - directives, merge, start-up checks (idgw_convert_cfg.h),
 * in the modules' one style (idgw_conf.h): create sets IDGW_UNSET, merge lets
 * what is set win, the getters apply the defaults; values are parsed by
 * idgw_conf_parse.h (backend keys by idgw_backend_conf_set).
 */
#include "idgw_convert_cfg.h"
#include "idgw_convert_settle.h"
#include "idgw_conf_parse.h"
#include "idgw_convert_engine.h"

#include <string.h>
#include <apr_strings.h>
#include <http_log.h>

#include "felica_frame.h"

APLOG_USE_MODULE(idgw_convert);

/* The backends a configuration names: "card" is a role, not a backend. */
static int backend_from_name(const char *name)
{
    for (int i = IDGW_MAP_BE_CREMO; i < IDGW_MAP_BE_COUNT; i++)
        if (strcmp(idgw_map_backend_name((idgw_map_backend)i), name) == 0)
            return i;
    return -1;
}

void *idgw_convert_create_srv(apr_pool_t *p, server_rec *s)
{
    idgw_convert_srv *c = apr_pcalloc(p, sizeof(*c));

    for (int i = 0; i < IDGW_MAP_BE_COUNT; i++)
        idgw_backend_conf_init(&c->be_conf[i], idgw_map_backend_name((idgw_map_backend)i));
    c->xml_bytes = IDGW_UNSET;
    c->xml_depth = IDGW_UNSET;
    c->xml_elements = IDGW_UNSET;
    c->max_packet = IDGW_UNSET;
    return c;
}

void *idgw_convert_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    const idgw_convert_srv *base = basev, *add = addv;
    idgw_convert_srv *c = apr_pcalloc(p, sizeof(*c));

    c->map_path = idgw_merge_ptr(base->map_path, add->map_path);
    for (int i = 0; i < IDGW_MAP_BE_COUNT; i++)
        idgw_backend_conf_merge(&c->be_conf[i], &base->be_conf[i], &add->be_conf[i]);
    c->xml_bytes = idgw_merge_int64(base->xml_bytes, add->xml_bytes);
    c->xml_depth = idgw_merge_int(base->xml_depth, add->xml_depth);
    c->xml_elements = idgw_merge_int(base->xml_elements, add->xml_elements);
    c->max_packet = idgw_merge_int(base->max_packet, add->max_packet);
    return c;
}

void idgw_convert_xml_limits(const idgw_convert_srv *c, idgw_sp_xml_limits *lim)
{
    idgw_sp_xml_limits dflt;

    idgw_sp_xml_default_limits(&dflt);
    lim->max_bytes = (size_t)idgw_default_int64(c->xml_bytes, (apr_int64_t)dflt.max_bytes);
    lim->max_depth = (unsigned)idgw_default_int(c->xml_depth, (int)dflt.max_depth);
    lim->max_elements = (unsigned)idgw_default_int(c->xml_elements, (int)dflt.max_elements);
}

size_t idgw_convert_max_packet(const idgw_convert_srv *c)
{
    return (size_t)idgw_default_int(c->max_packet, FELICA_MAX_FRAME);
}

static idgw_convert_srv *srv_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &idgw_convert_module);
}

static const char *set_map(cmd_parms *cmd, void *d, const char *arg)
{
    srv_conf(cmd)->map_path = ap_server_root_relative(cmd->pool, arg);
    return srv_conf(cmd)->map_path ? NULL : "IdgwConvertMap: invalid path";
}

/* One key=value of IdgwConvertBackend: the backend client's own keys
 * (idgw_backend_conf_set); file paths are relative to the server root. */
static const char *backend_option(apr_pool_t *p, idgw_backend_conf_t *be, const char *opt)
{
    const char *eq = strchr(opt, '=');
    const char *key, *val;

    if (strcmp(opt, "insecure") == 0)
        return idgw_backend_conf_set(p, be, "insecure", "on");
    if (!eq || eq == opt || !eq[1])
        return apr_psprintf(p, "expected key=value, got '%s'", opt);
    key = apr_pstrndup(p, opt, (apr_size_t)(eq - opt));
    val = eq + 1;
    if (strcmp(key, "ca") == 0 || strcmp(key, "cert") == 0 || strcmp(key, "key") == 0)
        val = ap_server_root_relative(p, val);
    if (!val)
        return apr_psprintf(p, "%s: invalid path", key);
    return idgw_backend_conf_set(p, be, key, val);
}

static const char *set_backend(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    idgw_backend_conf_t *be;
    const char *err;
    int i;

    if (argc < 2)
        return "IdgwConvertBackend: expected NAME URL [option=value ...]";
    if ((i = backend_from_name(argv[0])) < 0)
        return apr_psprintf(cmd->pool, "IdgwConvertBackend: unknown backend '%s' (cremo, dlc, "
                            "brand, felica)", argv[0]);
    be = &srv_conf(cmd)->be_conf[i];
    if ((err = idgw_backend_conf_set_url(cmd->pool, be, argv[1])))
        return apr_psprintf(cmd->pool, "IdgwConvertBackend %s: %s", argv[0], err);
    for (int k = 2; k < argc; k++)
        if ((err = backend_option(cmd->pool, be, argv[k])))
            return apr_psprintf(cmd->pool, "IdgwConvertBackend %s: %s", argv[0], err);
    return NULL;
}

/* "IdgwConvertXmlLimits: DEPTH '99': number out of range (2..64)" */
static const char *bad_value(cmd_parms *cmd, const char *what, const char *arg,
                             const char *err, const char *range)
{
    return apr_psprintf(cmd->pool, "%s: %s'%s': %s (%s)", cmd->cmd->name, what, arg, err, range);
}

static const char *set_xml_limits(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    idgw_convert_srv *c = srv_conf(cmd);
    apr_int64_t bytes;
    long depth, elements;
    const char *err;

    if (argc != 3)
        return "IdgwConvertXmlLimits: expected BYTES DEPTH ELEMENTS";
    if ((err = idgw_parse_size(argv[0], 64, 1024 * 1024, &bytes)))
        return bad_value(cmd, "BYTES ", argv[0], err, "64..1m");
    if ((err = idgw_parse_int(argv[1], 2, 64, &depth)))
        return bad_value(cmd, "DEPTH ", argv[1], err, "2..64");
    if ((err = idgw_parse_int(argv[2], 2, 10000, &elements)))
        return bad_value(cmd, "ELEMENTS ", argv[2], err, "2..10000");
    c->xml_bytes = bytes;
    c->xml_depth = (int)depth;
    c->xml_elements = (int)elements;
    return NULL;
}

static const char *set_max_packet(cmd_parms *cmd, void *d, const char *arg)
{
    long n;
    const char *err = idgw_parse_int(arg, 2, FELICA_MAX_FRAME, &n);

    if (err)
        return bad_value(cmd, "", arg, err, apr_psprintf(cmd->pool, "2..%d", FELICA_MAX_FRAME));
    srv_conf(cmd)->max_packet = (int)n;
    return NULL;
}

const command_rec idgw_convert_cmds[] = {
    AP_INIT_TAKE1("IdgwConvertMap", set_map, NULL, RSRC_CONF,
                  "IdgwConvertMap FILE - the smartphone-to-telegram mapping (idgw-map.conf)"),
    AP_INIT_TAKE_ARGV("IdgwConvertBackend", set_backend, NULL, RSRC_CONF,
                      "IdgwConvertBackend cremo|dlc|brand|felica URL [ca=FILE cert=FILE "
                      "key=FILE tls-name=NAME connect-timeout=DUR io-timeout=DUR "
                      "total-timeout=DUR idle-timeout=DUR pool-wait=DUR retries=N pool-max=N "
                      "pool-keep=N max-response=SIZE insecure]; insecure allows an http:// URL (tests only)"),
    AP_INIT_TAKE_ARGV("IdgwConvertXmlLimits", set_xml_limits, NULL, RSRC_CONF,
                      "IdgwConvertXmlLimits BYTES DEPTH ELEMENTS - limits of an app request "
                      "(default 16384 8 64)"),
    AP_INIT_TAKE1("IdgwConvertMaxPacket", set_max_packet, NULL, RSRC_CONF,
                  "IdgwConvertMaxPacket BYTES - largest chip packet relayed (2..255, default 255)"),
    { NULL }
};

static const char *setup_server(apr_pool_t *pconf, server_rec *s, idgw_convert_srv *c)
{
    const char *err;

    if ((err = idgw_map_load(pconf, c->map_path, &c->map)))
        return apr_pstrcat(pconf, "IdgwConvertMap ", err, NULL);
    for (int i = IDGW_MAP_BE_CREMO; i < IDGW_MAP_BE_COUNT; i++) {
        idgw_backend_error_t berr;

        if (!c->be_conf[i].url_text)
            return apr_psprintf(pconf, "IdgwConvertMap is set but IdgwConvertBackend %s is "
                                "missing (%s:%d)", idgw_map_backend_name((idgw_map_backend)i),
                                s->defn_name ? s->defn_name : "?", s->defn_line_number);
        if ((err = idgw_backend_conf_check(pconf, &c->be_conf[i])))
            return apr_psprintf(pconf, "IdgwConvertBackend %s: %s",
                                idgw_map_backend_name((idgw_map_backend)i), err);
        if (!(c->be[i] = idgw_backend_create(pconf, &c->be_conf[i], &berr)))
            return apr_psprintf(pconf, "IdgwConvertBackend %s: %s",
                                idgw_map_backend_name((idgw_map_backend)i), berr.msg);
        /* said at every start, so that a test setting never slips into
         * production unnoticed */
        if (idgw_backend_conf_insecure(&c->be_conf[i]))
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "IDGW0405: backend %s at %s is "
                         "plain http, marked insecure: card data and passwords cross in the "
                         "clear (tests only)", idgw_map_backend_name((idgw_map_backend)i),
                         c->be_conf[i].url_text);
    }
    return NULL;
}

const char *idgw_convert_setup(apr_pool_t *pconf, server_rec *s, module *m)
{
    for (; s; s = s->next) {
        idgw_convert_srv *c = ap_get_module_config(s->module_config, m);
        const char *err;

        if (!c->map_path)
            continue;
        if ((err = setup_server(pconf, s, c)))
            return err;
    }
    return NULL;
}

static apr_interval_time_t call_worst(const idgw_convert_srv *c, idgw_map_backend b)
{
    const idgw_backend_conf_t *bc;

    if (b == IDGW_MAP_BE_CARD) {
        apr_interval_time_t cremo = call_worst(c, IDGW_MAP_BE_CREMO);
        apr_interval_time_t dlc = call_worst(c, IDGW_MAP_BE_DLC);

        return cremo > dlc ? cremo : dlc;
    }
    bc = &c->be_conf[b];
    /* the pool wait of an attempt that began just before the deadline may
     * run past it; everything else is armed with the call's deadline */
    return idgw_backend_conf_total_timeout(bc) + idgw_backend_conf_pool_wait(bc);
}

static apr_interval_time_t stage_worst(const idgw_convert_srv *c, idgw_op op,
                                       idgw_map_stage stage)
{
    const apr_array_header_t *calls = idgw_map_calls(c->map, op, stage);
    apr_interval_time_t sum = 0;

    for (int i = 0; calls && i < calls->nelts; i++) {
        const idgw_map_call *call = &APR_ARRAY_IDX(calls, i, idgw_map_call);

        sum += (call->for_each ? IDGW_CONV_LIST_MAX : 1) * call_worst(c, call->backend);
    }
    return sum;
}

static apr_interval_time_t server_step_worst(const idgw_convert_srv *c)
{
    apr_interval_time_t worst = 0;

    for (int op = 0; op < IDGW_OP_COUNT; op++) {
        apr_interval_time_t abort = stage_worst(c, (idgw_op)op, IDGW_MAP_ABORT);
        apr_interval_time_t steps[4];

        steps[0] = stage_worst(c, (idgw_op)op, IDGW_MAP_REQUEST) + abort;
        steps[1] = idgw_map_has_relay(c->map, (idgw_op)op)
                   ? call_worst(c, IDGW_MAP_BE_FELICA) + abort : 0;
        /* a completion may first settle what earlier operations of the chip
         * left open: a card notice per card slot (idgw_convert_settle.h) */
        steps[2] = stage_worst(c, (idgw_op)op, IDGW_MAP_COMPLETE) + abort
                   + IDGW_CONV_SETTLE_MAX * call_worst(c, IDGW_MAP_BE_CARD);
        steps[3] = abort;                       /* close cancelling op */
        for (int k = 0; k < 4; k++)
            if (steps[k] > worst)
                worst = steps[k];
    }
    return worst;
}

apr_interval_time_t idgw_convert_step_worst(server_rec *s, module *m)
{
    apr_interval_time_t worst = 0;

    for (; s; s = s->next) {
        idgw_convert_srv *c = ap_get_module_config(s->module_config, m);
        apr_interval_time_t w = c->map ? server_step_worst(c) : 0;

        if (w > worst)
            worst = w;
    }
    return worst;
}

void idgw_convert_child_setup(apr_pool_t *pchild, server_rec *s, module *m)
{
    for (; s; s = s->next) {
        idgw_convert_srv *c = ap_get_module_config(s->module_config, m);

        for (int i = IDGW_MAP_BE_CREMO; i < IDGW_MAP_BE_COUNT; i++) {
            idgw_backend_error_t berr;

            if (c->be[i] && idgw_backend_child_init(c->be[i], pchild, &berr) != IDGW_BE_OK)
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "IDGW0401: backend %s: no "
                             "connection pool: %s", idgw_map_backend_name((idgw_map_backend)i),
                             berr.msg);
        }
    }
}
