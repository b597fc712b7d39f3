/* idgw_backend_config.c: the backend configuration in the modules' one style
 * (idgw_conf.h): IDGW_UNSET, merge "set wins", the startup check and the
 * getters that apply defaults.  Values are parsed by idgw_conf_parse.h
 * (idgw_backend_directive.c). */
#include <string.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include "idgw_backend_int.h"

void idgw_backend_conf_init(idgw_backend_conf_t *conf, const char *name)
{
    memset(conf, 0, sizeof(*conf));
    conf->name = name;
    conf->connect_timeout = IDGW_UNSET;
    conf->io_timeout = IDGW_UNSET;
    conf->total_timeout = IDGW_UNSET;
    conf->idle_timeout = IDGW_UNSET;
    conf->pool_wait = IDGW_UNSET;
    conf->max_response = IDGW_UNSET;
    conf->pool_max = IDGW_UNSET;
    conf->pool_keep = IDGW_UNSET;
    conf->retries = IDGW_UNSET;
    conf->insecure = IDGW_UNSET;
}

void idgw_backend_conf_merge(idgw_backend_conf_t *out, const idgw_backend_conf_t *base,
                             const idgw_backend_conf_t *add)
{
    idgw_backend_conf_t m;

    m.name = idgw_merge_ptr(base->name, add->name);
    /* the URL's text and its parsed form go together */
    m.url_text = add->url_text ? add->url_text : base->url_text;
    m.url = add->url_text ? add->url : base->url;
    m.ca_file = idgw_merge_ptr(base->ca_file, add->ca_file);
    m.cert_file = idgw_merge_ptr(base->cert_file, add->cert_file);
    m.key_file = idgw_merge_ptr(base->key_file, add->key_file);
    m.tls_name = idgw_merge_ptr(base->tls_name, add->tls_name);
    m.connect_timeout = idgw_merge_time(base->connect_timeout, add->connect_timeout);
    m.io_timeout = idgw_merge_time(base->io_timeout, add->io_timeout);
    m.total_timeout = idgw_merge_time(base->total_timeout, add->total_timeout);
    m.idle_timeout = idgw_merge_time(base->idle_timeout, add->idle_timeout);
    m.pool_wait = idgw_merge_time(base->pool_wait, add->pool_wait);
    m.max_response = idgw_merge_int64(base->max_response, add->max_response);
    m.pool_max = idgw_merge_int(base->pool_max, add->pool_max);
    m.pool_keep = idgw_merge_int(base->pool_keep, add->pool_keep);
    m.retries = idgw_merge_int(base->retries, add->retries);
    m.insecure = idgw_merge_int(base->insecure, add->insecure);
    *out = m;   /* out may be base or add */
}

const char *idgw_backend_conf_set_url(apr_pool_t *p, idgw_backend_conf_t *conf,
                                      const char *value)
{
    const char *err = idgw_backend_parse_url(p, value, &conf->url);

    if (err)
        return apr_psprintf(p, "%s: %s", value ? value : "", err);
    conf->url_text = apr_pstrdup(p, value);
    return NULL;
}

static const char *check_readable(apr_pool_t *p, const char *what, const char *path)
{
    apr_finfo_t fi;

    if (apr_stat(&fi, path, APR_FINFO_TYPE, p) != APR_SUCCESS || fi.filetype != APR_REG)
        return apr_psprintf(p, "%s '%s' is not a readable file", what, path);
    return NULL;
}

const char *idgw_backend_conf_check(apr_pool_t *p, const idgw_backend_conf_t *c)
{
    const char *name = c->name ? c->name : "backend";
    const char *err;

    if (!c->url_text)
        return apr_psprintf(p, "%s: no URL configured", name);
    /* PAN, expiry and passwords cross this connection: never in the clear
     * unless a test said so in as many words. */
    if (!c->url.tls && !idgw_backend_conf_insecure(c))
        return apr_psprintf(p, "%s: %s is plain http: card data and passwords would cross in "
                            "the clear; use https:// (or mark it 'insecure', for tests only)",
                            name, c->url_text);
    if (c->url.tls && idgw_backend_conf_insecure(c))
        return apr_psprintf(p, "%s: 'insecure' is only for a plain http:// URL", name);
    if (c->url.tls && !c->ca_file)
        return apr_psprintf(p, "%s: an https URL needs a CA file to verify the backend", name);
    if (!c->url.tls && (c->ca_file || c->cert_file || c->key_file || c->tls_name))
        return apr_psprintf(p, "%s: TLS settings given for a plain http URL", name);
    if (!c->cert_file != !c->key_file)
        return apr_psprintf(p, "%s: client certificate and key must be given together", name);
    if (c->ca_file && (err = check_readable(p, "CA file", c->ca_file)))
        return apr_psprintf(p, "%s: %s", name, err);
    if (c->cert_file && (err = check_readable(p, "certificate", c->cert_file)))
        return apr_psprintf(p, "%s: %s", name, err);
    if (c->key_file && (err = check_readable(p, "key", c->key_file)))
        return apr_psprintf(p, "%s: %s", name, err);
    if (idgw_backend_conf_pool_keep(c) > idgw_backend_conf_pool_max(c))
        return apr_psprintf(p, "%s: more idle connections kept than the pool maximum", name);
    if (idgw_backend_conf_total_timeout(c) < idgw_backend_conf_connect_timeout(c))
        return apr_psprintf(p, "%s: total timeout shorter than the connect timeout", name);
    /* The wait for a pooled connection is not cut by the call's deadline. */
    if (idgw_backend_conf_total_timeout(c) < idgw_backend_conf_pool_wait(c))
        return apr_psprintf(p, "%s: total timeout shorter than the pool wait", name);
    return NULL;
}

/* type fn(c): the field, or its default when unset. */
#define GETTER(type, fn, field, dflt) \
    type fn(const idgw_backend_conf_t *c) { return idgw_default_int64(c->field, dflt); }

GETTER(apr_interval_time_t, idgw_backend_conf_connect_timeout, connect_timeout,
       IDGW_BE_DEFAULT_CONNECT_TIMEOUT)
GETTER(apr_interval_time_t, idgw_backend_conf_io_timeout, io_timeout, IDGW_BE_DEFAULT_IO_TIMEOUT)
GETTER(apr_interval_time_t, idgw_backend_conf_total_timeout, total_timeout,
       IDGW_BE_DEFAULT_TOTAL_TIMEOUT)
GETTER(apr_interval_time_t, idgw_backend_conf_idle_timeout, idle_timeout,
       IDGW_BE_DEFAULT_IDLE_TIMEOUT)
GETTER(apr_int64_t, idgw_backend_conf_max_response, max_response, IDGW_BE_DEFAULT_MAX_RESPONSE)
GETTER(int, idgw_backend_conf_pool_max, pool_max, IDGW_BE_DEFAULT_POOL_MAX)
GETTER(int, idgw_backend_conf_retries, retries, IDGW_BE_DEFAULT_RETRIES)
GETTER(int, idgw_backend_conf_insecure, insecure, 0)

/* The default number kept never exceeds a configured maximum. */
int idgw_backend_conf_pool_keep(const idgw_backend_conf_t *c)
{
    int max = idgw_backend_conf_pool_max(c);

    return idgw_default_int(c->pool_keep, IDGW_BE_DEFAULT_POOL_KEEP < max
                                          ? IDGW_BE_DEFAULT_POOL_KEEP : max);
}

/* The default wait never exceeds a configured total timeout. */
apr_interval_time_t idgw_backend_conf_pool_wait(const idgw_backend_conf_t *c)
{
    apr_interval_time_t total = idgw_backend_conf_total_timeout(c);

    return idgw_default_time(c->pool_wait, IDGW_BE_DEFAULT_POOL_WAIT < total
                                           ? IDGW_BE_DEFAULT_POOL_WAIT : total);
}
