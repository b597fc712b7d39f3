/*
 * idgw_convert_acl.c - the conversion handler never serves without access
 * control by accident (idgw_convert_acl.h).  "a2dismod idgw_acl", or a
 * sample whose "<IfModule idgw_acl_module>" hid "IdgwAcl On", used to leave
 * the gateway serving to every network; now the start fails, and
 * "apache2ctl configtest" first.
 *
 * At start the <Location> sections of each server (core's sec_url: the
 * main server's, then the virtual host's own) are probed: for each section
 * path, the server's defaults merged with every section that matches that
 * path, in the order httpd's location walk merges them; where the result
 * hands requests to idgw-convert, IdgwAcl must be On, or Off written on
 * purpose.  A regex or wildcard section is probed on its own (over the
 * defaults).  Whatever this walk cannot see (SetHandler by an expression
 * of the request, in <Directory> or <If>) is caught per request:
 * fixups, before the session check issues a token, and the handler itself.
 */
#include "idgw_convert_acl.h"
#include "idgw_convert_cfg.h"
#include "idgw_convert_errors.h"
#include "mod_idgw.h"

#include <string.h>
#include <apr_fnmatch.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <strings.h>
#include <http_config.h>
#include <http_core.h>
#include <util_cfgtree.h>
#include <http_log.h>

APLOG_USE_MODULE(idgw_convert);

/* mod_idgw_acl's answer; NULL when it is not loaded (set at start, before
 * the children fork). */
static APR_OPTIONAL_FN_TYPE(idgw_acl_dir_state) *acl_state;

/* Every SetHandler of the configuration by where it was written
 * ("file:line" -> its argument).  SetHandler is an expression, which httpd
 * evaluates per request only; the directive tree (ap_conftree, which
 * mod_info reads too) still holds what was written, and the expression keeps
 * where: so a section's handler is known without a request. */
static void collect_handlers(apr_pool_t *p, const ap_directive_t *d, apr_hash_t *out)
{
    for (; d; d = d->next) {
        if (strcasecmp(d->directive, "SetHandler") == 0 && d->args) {
            const char *args = d->args;

            apr_hash_set(out, apr_psprintf(p, "%s:%d", d->filename, d->line_num),
                         APR_HASH_KEY_STRING, ap_getword_conf(p, &args));
        }
        collect_handlers(p, d->first_child, out);
    }
}

/* The handler a merged section hands its requests to, as core's type
 * checker would set it; NULL for none or an expression of the request. */
static const char *section_handler(apr_pool_t *p, apr_hash_t *handlers, ap_conf_vector_t *v)
{
    core_dir_config *cd = ap_get_core_module_config(v);

    if (!cd->expr_handler)
        return cd->handler;
    return apr_hash_get(handlers, apr_psprintf(p, "%s:%u", cd->expr_handler->filename,
                                               cd->expr_handler->line_number),
                        APR_HASH_KEY_STRING);
}

/* Where SetHandler was written, for the message. */
static const char *handler_where(apr_pool_t *p, ap_conf_vector_t *v)
{
    core_dir_config *cd = ap_get_core_module_config(v);

    if (!cd->expr_handler || !cd->expr_handler->filename)
        return "";
    return apr_psprintf(p, " (SetHandler at %s:%u)", cd->expr_handler->filename,
                        cd->expr_handler->line_number);
}

/* Does section cd apply to a request for path?  As httpd's location walk
 * decides for a plain path: a prefix that ends at a '/' boundary. */
static int section_matches(const core_dir_config *cd, const char *path)
{
    apr_size_t len;

    if (cd->r)
        return ap_regexec(cd->r, path, 0, NULL, 0) == 0;
    if (cd->d_is_fnmatch)
        return apr_fnmatch(cd->d, path, APR_FNM_PATHNAME) == APR_SUCCESS;
    len = strlen(cd->d);
    if (strncmp(cd->d, path, len) != 0)
        return 0;
    return len == 0 || cd->d[len - 1] == '/' || path[len] == '\0' || path[len] == '/';
}

/* The configuration a request for section i's path gets in server sv. */
static ap_conf_vector_t *merged_for(apr_pool_t *p, server_rec *sv, apr_array_header_t *secs,
                                    int i)
{
    ap_conf_vector_t **sec = (ap_conf_vector_t **)secs->elts;
    const core_dir_config *probe = ap_get_core_module_config(sec[i]);
    ap_conf_vector_t *v = sv->lookup_defaults;
    int j;

    if (probe->r || probe->d_is_fnmatch)
        return ap_merge_per_dir_configs(p, v, sec[i]);
    for (j = 0; j < secs->nelts; j++) {
        if (section_matches(ap_get_core_module_config(sec[j]), probe->d))
            v = ap_merge_per_dir_configs(p, v, sec[j]);
    }
    return v;
}

static const char *server_name(apr_pool_t *p, server_rec *sv)
{
    return apr_psprintf(p, "%s:%u", sv->server_hostname ? sv->server_hostname : "?",
                        (unsigned)sv->port);
}

/* One probed section: NULL (fine), or the refusal. */
static const char *check_section(apr_pool_t *p, apr_hash_t *handlers, server_rec *sv,
                                 ap_conf_vector_t *v, const char *path, apr_hash_t *warned,
                                 int log_offs)
{
    const char *handler = section_handler(p, handlers, v);
    const char *where;

    if (!handler || strcmp(handler, IDGW_CONVERT_HANDLER) != 0)
        return NULL;
    where = handler_where(p, v);
    if (!acl_state)
        return apr_psprintf(p, "IDGW0440: mod_idgw_convert: mod_idgw_acl is not loaded, so "
                            "nothing controls who uses <Location %s>%s: enable it (Debian: "
                            "a2enmod idgw_acl; else LoadModule idgw_acl_module after "
                            "idgw_session_module) and write IdgwAcl On in that location",
                            path, where);
    switch (acl_state(v)) {
    case IDGW_ACL_STATE_ON:
        return NULL;
    case IDGW_ACL_STATE_OFF:
        if (log_offs && !apr_hash_get(warned, path, APR_HASH_KEY_STRING)) {
            apr_hash_set(warned, path, APR_HASH_KEY_STRING, path);
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sv, "IDGW0443: <Location %s>%s "
                         "serves the gateway WITHOUT access control (IdgwAcl Off written "
                         "there): any network, no lists, no rate limits", path, where);
        }
        return NULL;
    default:
        return apr_psprintf(p, "IDGW0442: mod_idgw_convert: <Location %s>%s in server %s "
                            "hands requests to %s but access control is not on there: "
                            "write IdgwAcl On in it (or IdgwAcl Off to serve without "
                            "access control on purpose)", path, where,
                            server_name(p, sv), IDGW_CONVERT_HANDLER);
    }
}

const char *idgw_convert_acl_startup(apr_pool_t *ptemp, server_rec *s, int log_offs)
{
    apr_hash_t *warned = apr_hash_make(ptemp), *handlers = apr_hash_make(ptemp);
    server_rec *sv;
    const char *msg;
    int i;

    acl_state = APR_RETRIEVE_OPTIONAL_FN(idgw_acl_dir_state);
    collect_handlers(ptemp, ap_conftree, handlers);
    for (sv = s; sv; sv = sv->next) {
        core_server_config *sc = ap_get_core_module_config(sv->module_config);
        apr_array_header_t *secs = sc->sec_url;

        /* a SetHandler at server level applies to every path */
        if ((msg = check_section(ptemp, handlers, sv, sv->lookup_defaults, "/", warned, log_offs)))
            return msg;
        for (i = 0; secs && i < secs->nelts; i++) {
            const core_dir_config *cd =
                ap_get_core_module_config(((ap_conf_vector_t **)secs->elts)[i]);

            if ((msg = check_section(ptemp, handlers, sv, merged_for(ptemp, sv, secs, i),
                                     cd->d ? cd->d : "?", warned, log_offs)))
                return msg;
        }
    }
    return NULL;
}

int idgw_convert_acl_request(request_rec *r)
{
    if (acl_state && acl_state(r->per_dir_config) != IDGW_ACL_STATE_UNSET)
        return OK;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0441: %s refused: %s, so nothing "
                  "controls access to %s here (write IdgwAcl On where it serves, or IdgwAcl "
                  "Off on purpose)", IDGW_CONVERT_HANDLER,
                  acl_state ? "IdgwAcl is neither On nor Off for this request"
                            : "mod_idgw_acl is not loaded", r->uri);
    return idgw_xml_error_send(r, &IDGW_E_CNV_INTERNAL);
}
