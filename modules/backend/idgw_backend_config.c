/* idgw_backend_config.c: the backend configuration: UNSET sentinels, merge
 * ("set wins"), directive value parsers, the startup check and the getters
 * that apply defaults. */
#include <string.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include "idgw_backend_int.h"

#define MAX_DURATION apr_time_from_sec(3600)
#define MAX_SIZE (64 * 1024 * 1024)

void idgw_backend_conf_init(idgw_backend_conf_t *conf, const char *name)
{
    memset(conf, 0, sizeof(*conf));
    conf->name = name;
    conf->connect_timeout = IDGW_BE_UNSET;
    conf->io_timeout = IDGW_BE_UNSET;
    conf->total_timeout = IDGW_BE_UNSET;
    conf->idle_timeout = IDGW_BE_UNSET;
    conf->pool_wait = IDGW_BE_UNSET;
    conf->max_response = IDGW_BE_UNSET;
    conf->pool_max = IDGW_BE_UNSET;
    conf->pool_keep = IDGW_BE_UNSET;
    conf->retries = IDGW_BE_UNSET;
}

#define MERGE_PTR(f) out->f = add->f ? add->f : base->f
#define MERGE_NUM(f) out->f = add->f != IDGW_BE_UNSET ? add->f : base->f

void idgw_backend_conf_merge(idgw_backend_conf_t *out, const idgw_backend_conf_t *base,
                             const idgw_backend_conf_t *add)
{
    idgw_backend_conf_t m;
    idgw_backend_conf_t *saved = out;

    out = &m;
    MERGE_PTR(name);
    if (add->url_text) {
        out->url_text = add->url_text;
        out->url = add->url;
    }
    else {
        out->url_text = base->url_text;
        out->url = base->url;
    }
    MERGE_PTR(ca_file);
    MERGE_PTR(cert_file);
    MERGE_PTR(key_file);
    MERGE_PTR(tls_name);
    MERGE_NUM(connect_timeout);
    MERGE_NUM(io_timeout);
    MERGE_NUM(total_timeout);
    MERGE_NUM(idle_timeout);
    MERGE_NUM(pool_wait);
    MERGE_NUM(max_response);
    MERGE_NUM(pool_max);
    MERGE_NUM(pool_keep);
    MERGE_NUM(retries);
    *saved = m;
}

const char *idgw_backend_parse_duration(apr_pool_t *p, const char *value,
                                        apr_interval_time_t *out)
{
    apr_int64_t n = 0;
    const char *s = value;
    int digits = 0;
    apr_interval_time_t t;

    if (!s)
        return "missing duration";
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (digits >= 9)
            return apr_psprintf(p, "duration '%s' is too long", value);
        n = n * 10 + (*s - '0');
    }
    if (digits == 0)
        return apr_psprintf(p, "'%s' is not a duration (e.g. 250ms, 3s, 2m)", value);
    if (strcmp(s, "ms") == 0)
        t = apr_time_from_msec(n);
    else if (strcmp(s, "s") == 0 || *s == '\0')
        t = apr_time_from_sec(n);
    else if (strcmp(s, "m") == 0)
        t = apr_time_from_sec(n * 60);
    else
        return apr_psprintf(p, "'%s' is not a duration (e.g. 250ms, 3s, 2m)", value);
    if (t < apr_time_from_msec(1) || t > MAX_DURATION)
        return apr_psprintf(p, "duration '%s' must be between 1ms and 1 hour", value);
    *out = t;
    return NULL;
}

const char *idgw_backend_parse_size(apr_pool_t *p, const char *value, apr_int64_t *out)
{
    apr_int64_t n = 0;
    const char *s = value;
    int digits = 0;

    if (!s)
        return "missing size";
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (digits >= 9)
            return apr_psprintf(p, "size '%s' is too large", value);
        n = n * 10 + (*s - '0');
    }
    if (digits == 0)
        return apr_psprintf(p, "'%s' is not a size (e.g. 65536, 64k, 1m)", value);
    if (*s == 'k' || *s == 'K')
        n *= 1024, s++;
    else if (*s == 'm' || *s == 'M')
        n *= 1024 * 1024, s++;
    if (*s != '\0')
        return apr_psprintf(p, "'%s' is not a size (e.g. 65536, 64k, 1m)", value);
    if (n < 1 || n > MAX_SIZE)
        return apr_psprintf(p, "size '%s' must be between 1 byte and 64m", value);
    *out = n;
    return NULL;
}

const char *idgw_backend_parse_count(apr_pool_t *p, const char *value, int min, int max,
                                     int *out)
{
    long n = 0;
    const char *s = value;

    if (!s || !*s)
        return "missing number";
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || n > 100000000L)
            return apr_psprintf(p, "'%s' is not a number in %d..%d", value, min, max);
        n = n * 10 + (*s - '0');
    }
    if (n < min || n > max)
        return apr_psprintf(p, "'%s' is not a number in %d..%d", value, min, max);
    *out = (int)n;
    return NULL;
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

#define GETTER(type, fn, field, dflt) \
    type fn(const idgw_backend_conf_t *c) { return c->field != IDGW_BE_UNSET ? c->field : (dflt); }

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

/* The default number kept never exceeds a configured maximum. */
int idgw_backend_conf_pool_keep(const idgw_backend_conf_t *c)
{
    int max = idgw_backend_conf_pool_max(c);

    if (c->pool_keep != IDGW_BE_UNSET)
        return c->pool_keep;
    return IDGW_BE_DEFAULT_POOL_KEEP < max ? IDGW_BE_DEFAULT_POOL_KEEP : max;
}

/* The default wait never exceeds a configured total timeout. */
apr_interval_time_t idgw_backend_conf_pool_wait(const idgw_backend_conf_t *c)
{
    apr_interval_time_t total = idgw_backend_conf_total_timeout(c);

    if (c->pool_wait != IDGW_BE_UNSET)
        return c->pool_wait;
    return IDGW_BE_DEFAULT_POOL_WAIT < total ? IDGW_BE_DEFAULT_POOL_WAIT : total;
}
