/* mod_idgw_sim.c: the backend simulators as an httpd module (test double,
 * never for production).  Configuration:
 *   IdgwSimDataDir DIR      test data (t/sim/data)            server
 *   IdgwSimRunDir DIR       state between requests              server
 *   IdgwSimService NAME     cremo | cardinfo | brand | felica | control   <Location>
 *   SetHandler idgw-sim
 * A telegram is POSTed as the request body; the answer is a telegram with
 * HTTP 200 (whatever its result code), or an ERROR_RES telegram with 400 (not
 * a telegram / wrong type), 413 (too large) or the status a fault asks for.
 * Every line logged carries a stable id (IDGWSIMnnnn) and no card data. */
#include <string.h>
#include <sys/stat.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_strings.h>
#include "sim.h"

module AP_MODULE_DECLARE_DATA idgw_sim_module;

#define UNKNOWN_CORRELATION "UNKNOWN-CORRELATION"

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(sim_server_conf_t));
}

static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    sim_server_conf_t *base = basev, *add = addv, *m = apr_pcalloc(p, sizeof(*m));

    m->data_dir = add->data_dir ? add->data_dir : base->data_dir;
    m->run_dir = add->run_dir ? add->run_dir : base->run_dir;
    return m;
}

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    return apr_pcalloc(p, sizeof(sim_dir_conf_t));
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    sim_dir_conf_t *base = basev, *add = addv, *m = apr_pcalloc(p, sizeof(*m));

    m->service = add->service != SIM_NONE ? add->service : base->service;
    return m;
}

static const char *set_dir(cmd_parms *cmd, void *dummy, const char *arg)
{
    sim_server_conf_t *sc = ap_get_module_config(cmd->server->module_config, &idgw_sim_module);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    struct stat st;

    if (!path || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return apr_psprintf(cmd->pool, "%s: '%s' is not a directory", cmd->cmd->name, arg);
    if (strcmp(cmd->cmd->name, "IdgwSimDataDir") == 0)
        sc->data_dir = path;
    else
        sc->run_dir = path;
    return NULL;
}

static const char *set_service(cmd_parms *cmd, void *dcv, const char *arg)
{
    sim_dir_conf_t *dc = dcv;

    for (int s = SIM_CREMO; s <= SIM_CONTROL; s++)
        if (strcmp(arg, sim_service_name((sim_service_t)s)) == 0) {
            dc->service = (sim_service_t)s;
            return NULL;
        }
    return "IdgwSimService must be cremo, cardinfo, brand, felica or control";
}

static const command_rec commands[] = {
    AP_INIT_TAKE1("IdgwSimDataDir", set_dir, NULL, RSRC_CONF,
                  "IdgwSimDataDir DIR: the simulators' test data (t/sim/data)"),
    AP_INIT_TAKE1("IdgwSimRunDir", set_dir, NULL, RSRC_CONF,
                  "IdgwSimRunDir DIR: writable state (deposits, FeliCa operations, faults)"),
    AP_INIT_TAKE1("IdgwSimService", set_service, NULL, ACCESS_CONF,
                  "IdgwSimService cremo|cardinfo|brand|felica|control: what this location simulates"),
    {NULL}};

/* Loads the data once (before fork) and shares it with every virtual host. */
static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    sim_data_t *data = NULL;
    const char *data_dir = NULL;

    idgw_tg_init();
    for (server_rec *v = s; v; v = v->next) {
        sim_server_conf_t *sc = ap_get_module_config(v->module_config, &idgw_sim_module);
        if (!sc->data_dir || !sc->run_dir)
            continue;
        if (!data || strcmp(data_dir, sc->data_dir) != 0) {
            const char *err = sim_data_load(pconf, sc->data_dir, &data);
            if (err) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "IDGWSIM0001: test data: %s", err);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            data_dir = sc->data_dir;
        }
        sc->data = data;
    }
    return OK;
}

static idgw_tg_service_t telegram_service(sim_service_t s)
{
    return s == SIM_BRAND ? IDGW_TG_SVC_BRAND : s == SIM_FELICA ? IDGW_TG_SVC_FELICA
                                                                : IDGW_TG_SVC_CARD;
}

/* The request body, bounded; NULL and *too_big when over the limit. */
static char *read_body(request_rec *r, apr_size_t *len, int *too_big)
{
    char *buf = apr_palloc(r->pool, IDGW_TG_MAX_SIZE + 1);
    apr_size_t got = 0;
    long n;

    *too_big = 0;
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK || !ap_should_client_block(r)) {
        *len = 0;
        return buf;
    }
    while ((n = ap_get_client_block(r, buf + got, IDGW_TG_MAX_SIZE + 1 - got)) > 0) {
        got += (apr_size_t)n;
        if (got > IDGW_TG_MAX_SIZE) {
            *too_big = 1;
            return NULL;
        }
    }
    if (n < 0)
        return NULL;
    buf[got] = '\0';
    *len = got;
    return buf;
}

static int send_telegram(request_rec *r, const sim_fault_t *f, int status,
                         const idgw_telegram_t *tg)
{
    const char *enc = idgw_tg_encoding(tg->type);
    idgw_tg_error_t err;
    char *wire;
    apr_size_t len;

    if (idgw_tg_build(r->pool, tg, enc, &wire, &len, &err) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGWSIM0002: cannot build %s: %s",
                      idgw_tg_type_name(tg->type), err.msg);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    r->status = status;
    return sim_fault_send(r, f, idgw_tg_content_type(r->pool, enc), wire, len);
}

static int send_error(request_rec *r, const sim_fault_t *f, int status, const char *corr,
                      const char *result, const char *why)
{
    idgw_telegram_t *tg = idgw_tg_new(r->pool, IDGW_TG_ERROR_RES,
                                      idgw_tg_correlation_ok(corr) ? corr : UNKNOWN_CORRELATION);

    tg->result = result;
    tg->result_message = idgw_tg_result_text(result);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "IDGWSIM0003: refused telegram (%s): %s",
                  result, why);
    return send_telegram(r, f, status, tg);
}

static idgw_telegram_t *dispatch(sim_call_t *call)
{
    switch (call->service) {
    case SIM_CREMO:
    case SIM_CARDINFO:
        return sim_cards_handle(call);
    case SIM_BRAND:
        return sim_brand_handle(call);
    default:
        return sim_felica_handle(call);
    }
}

static int handle_telegram(request_rec *r, sim_server_conf_t *sc, sim_service_t svc)
{
    sim_fault_t fault, *f = NULL;
    idgw_telegram_t *req, *res;
    idgw_tg_error_t err;
    sim_call_t call;
    const char *hdr_corr = apr_table_get(r->headers_in, "X-Idgw-Correlation-Id");
    char *body;
    apr_size_t len;
    int too_big;

    if (sim_fault_for_request(r, sc, svc, NULL, &fault))
        f = &fault;
    if (f && f->refuse) {
        sim_abort_connection(r);
        return DONE;
    }
    body = read_body(r, &len, &too_big);
    if (f && f->delay_ms)
        apr_sleep(apr_time_from_msec(f->delay_ms));
    if (!body)
        return too_big ? send_error(r, f, HTTP_REQUEST_ENTITY_TOO_LARGE, hdr_corr,
                                    IDGW_TG_R_MALFORMED, "body too large")
                       : HTTP_BAD_REQUEST;
    if (f && f->status)
        return send_error(r, f, f->status, hdr_corr, IDGW_TG_R_SYSTEM, "injected status");
    if (f && f->malformed) {
        static const char junk[] = "<?xml version=\"1.0\"?><fpTelegram version=\"1.0\"><header><ty";
        return sim_fault_send(r, NULL, "application/xml; charset=UTF-8", junk, sizeof(junk) - 1);
    }
    if (idgw_tg_parse(r->pool, body, len, &req, &err) != 0)
        return send_error(r, f, HTTP_BAD_REQUEST, req->correlation_id, err.result, err.msg);
    if (idgw_tg_is_response(req->type) || idgw_tg_service(req->type) != telegram_service(svc))
        return send_error(r, f, HTTP_BAD_REQUEST, req->correlation_id, IDGW_TG_R_UNKNOWN_TYPE,
                          "telegram type not served here");
    if (hdr_corr && strcmp(hdr_corr, req->correlation_id) != 0)
        return send_error(r, f, HTTP_BAD_REQUEST, req->correlation_id, IDGW_TG_R_CORRELATION,
                          "correlation id header and telegram disagree");
    /* a switch for this telegram type only (only=TYPE): the telegram is
     * served, its answer comes late or not at all (an answer lost) */
    if (!f && sim_fault_for_request(r, sc, svc, idgw_tg_type_name(req->type), &fault)) {
        f = &fault;
        if (f->refuse) {
            sim_abort_connection(r);
            return DONE;
        }
        if (f->status)
            return send_error(r, f, f->status, req->correlation_id, IDGW_TG_R_SYSTEM,
                              "injected status");
    }
    call.r = r;
    call.sc = sc;
    call.service = svc;
    call.req = req;
    call.fault = f;
    res = dispatch(&call);
    if (f && f->only[0] && f->delay_ms)     /* served, then answered late */
        apr_sleep(apr_time_from_msec(f->delay_ms));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "IDGWSIM0004: %s %s corr=%s result=%s",
                  sim_service_name(svc), idgw_tg_type_name(req->type), req->correlation_id,
                  res->result);
    return send_telegram(r, f, HTTP_OK, res);
}

static int handler(request_rec *r)
{
    sim_dir_conf_t *dc;
    sim_server_conf_t *sc;

    if (!r->handler || strcmp(r->handler, "idgw-sim") != 0)
        return DECLINED;
    dc = ap_get_module_config(r->per_dir_config, &idgw_sim_module);
    sc = ap_get_module_config(r->server->module_config, &idgw_sim_module);
    if (!sc->data || dc->service == SIM_NONE) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "IDGWSIM0005: IdgwSimDataDir, IdgwSimRunDir or IdgwSimService missing");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (r->method_number != M_POST)
        return HTTP_METHOD_NOT_ALLOWED;
    if (dc->service == SIM_CONTROL)
        return sim_fault_control(r, sc);
    return handle_telegram(r, sc, dc->service);
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(idgw_sim) = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf, merge_dir_conf, create_server_conf, merge_server_conf, commands,
    register_hooks};
