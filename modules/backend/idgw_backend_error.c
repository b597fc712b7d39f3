/* idgw_backend_error.c: error categories of the backend client, their stable
 * names and log ids, and the helpers that fill an idgw_backend_error_t. */
#include <stdio.h>
#include <string.h>
#include "idgw_backend_int.h"

static const struct {
    const char *name;
    const char *logid;
} categories[] = {
    [IDGW_BE_OK] = {"ok", "IDGW-BE-0000"},
    [IDGW_BE_ERR_CONFIG] = {"config", "IDGW-BE-0001"},
    [IDGW_BE_ERR_CONNECT] = {"connect", "IDGW-BE-0002"},
    [IDGW_BE_ERR_TIMEOUT] = {"timeout", "IDGW-BE-0003"},
    [IDGW_BE_ERR_TLS] = {"tls", "IDGW-BE-0004"},
    [IDGW_BE_ERR_PROTOCOL] = {"protocol", "IDGW-BE-0005"},
    [IDGW_BE_ERR_HTTP_STATUS] = {"http-status", "IDGW-BE-0006"},
    [IDGW_BE_ERR_OVERSIZE] = {"oversize", "IDGW-BE-0007"},
    [IDGW_BE_ERR_POOL] = {"pool", "IDGW-BE-0008"},
};

const char *idgw_backend_category_name(idgw_backend_category_t c)
{
    if ((unsigned)c >= sizeof(categories) / sizeof(categories[0]))
        return "unknown";
    return categories[c].name;
}

const char *idgw_backend_category_logid(idgw_backend_category_t c)
{
    if ((unsigned)c >= sizeof(categories) / sizeof(categories[0]))
        return "IDGW-BE-9999";
    return categories[c].logid;
}

void idgw_be_error_clear(idgw_backend_error_t *err)
{
    memset(err, 0, sizeof(*err));
}

idgw_backend_category_t idgw_be_fail(idgw_backend_error_t *err, idgw_backend_category_t c,
                                     const char *fmt, ...)
{
    va_list ap;

    err->category = c;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return c;
}

void idgw_be_stat_add(idgw_backend_t *be, unsigned long *counter)
{
    apr_thread_mutex_lock(be->lock);
    (*counter)++;
    apr_thread_mutex_unlock(be->lock);
}
