/* idgw_backend_call.c: one backend call: the client's life cycle
 * (create, child_init in idgw_backend_pool.c), a request over a pooled
 * connection, and retries for telegrams the caller marked idempotent, and
 * only for failures after which a second attempt can succeed.  A write is
 * never retried: a lost response does not tell whether it was applied. */
#include <string.h>
#include <apr_strings.h>
#include "idgw_backend_int.h"

#define RETRY_BACKOFF apr_time_from_msec(50)

static const char *dup_or_null(apr_pool_t *p, const char *s)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

static apr_status_t free_ctx(void *data)
{
    idgw_backend_t *be = data;

    if (be->ssl_ctx) {
        idgw_be_tls_ctx_free(be->ssl_ctx);
        be->ssl_ctx = NULL;
    }
    return APR_SUCCESS;
}

idgw_backend_t *idgw_backend_create(apr_pool_t *p, const idgw_backend_conf_t *conf,
                                    idgw_backend_error_t *err)
{
    idgw_backend_t *be;
    const char *msg;

    idgw_be_error_clear(err);
    msg = idgw_backend_conf_check(p, conf);
    if (msg) {
        idgw_be_fail(err, IDGW_BE_ERR_CONFIG, "%s", msg);
        return NULL;
    }
    be = apr_pcalloc(p, sizeof(*be));
    be->pool = p;
    be->conf = *conf;
    be->conf.name = conf->name ? apr_pstrdup(p, conf->name) : "backend";
    be->conf.url_text = apr_pstrdup(p, conf->url_text);
    be->conf.url.host = apr_pstrdup(p, conf->url.host);
    be->conf.url.path = apr_pstrdup(p, conf->url.path);
    be->conf.url.host_header = apr_pstrdup(p, conf->url.host_header);
    be->conf.ca_file = dup_or_null(p, conf->ca_file);
    be->conf.cert_file = dup_or_null(p, conf->cert_file);
    be->conf.key_file = dup_or_null(p, conf->key_file);
    be->conf.tls_name = dup_or_null(p, conf->tls_name);
    if (apr_thread_mutex_create(&be->lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        idgw_be_fail(err, IDGW_BE_ERR_CONFIG, "%s: cannot create a mutex", be->conf.name);
        return NULL;
    }
    if (be->conf.url.tls) {
        be->ssl_ctx = idgw_be_tls_ctx_new(&be->conf, err);
        if (!be->ssl_ctx)
            return NULL;
        idgw_be_tls_ctx_bind(be->ssl_ctx, be);
        apr_pool_cleanup_register(p, be, free_ctx, apr_pool_cleanup_null);
    }
    return be;
}

const idgw_backend_conf_t *idgw_backend_get_conf(const idgw_backend_t *be)
{
    return &be->conf;
}

void idgw_backend_get_stats(idgw_backend_t *be, idgw_backend_stats_t *out)
{
    apr_thread_mutex_lock(be->lock);
    *out = be->stats;
    apr_thread_mutex_unlock(be->lock);
}

static idgw_backend_category_t attempt(idgw_backend_t *be, apr_pool_t *p,
                                       const idgw_backend_request_t *req,
                                       idgw_backend_response_t *resp, apr_time_t deadline,
                                       idgw_backend_error_t *err)
{
    idgw_backend_conn_t *c;
    idgw_backend_category_t cat;
    int reusable = 0;

    cat = idgw_be_pool_acquire(be, &c, err);
    if (cat != IDGW_BE_OK)
        return cat;
    c->deadline = deadline;
    if (c->sock)
        idgw_be_stat_add(be, &be->stats.reuses);
    else
        cat = idgw_be_conn_open(c, err);
    if (cat == IDGW_BE_OK)
        cat = idgw_be_http_send(c, p, req, err);
    if (cat == IDGW_BE_OK)
        cat = idgw_be_http_receive(c, p, req->method ? req->method : "POST", resp, &reusable, err);
    if (cat == IDGW_BE_OK && (resp->status < 200 || resp->status > 299)) {
        err->http_status = resp->status;
        cat = idgw_be_fail(err, IDGW_BE_ERR_HTTP_STATUS, "%s: HTTP status %d", be->conf.name,
                           resp->status);
    }
    if (cat != IDGW_BE_OK) {
        /* A complete error response leaves TLS intact: its session stays
         * resumable.  Any other failure condemns the session too. */
        c->broken = cat != IDGW_BE_ERR_HTTP_STATUS;
        idgw_be_pool_invalidate(be, c);
        return cat;
    }
    if (!reusable)
        idgw_be_conn_close(c);
    idgw_be_pool_release(be, c);
    return IDGW_BE_OK;
}

/* Failures that a second attempt may not repeat. */
static int retryable(const idgw_backend_error_t *err)
{
    switch (err->category) {
    case IDGW_BE_ERR_CONNECT:
    case IDGW_BE_ERR_TIMEOUT:
    case IDGW_BE_ERR_PROTOCOL:
        return 1;
    case IDGW_BE_ERR_HTTP_STATUS:
        return err->http_status == 502 || err->http_status == 503 || err->http_status == 504;
    default:
        return 0;
    }
}

idgw_backend_category_t idgw_backend_call(idgw_backend_t *be, apr_pool_t *p,
                                          const idgw_backend_request_t *req,
                                          idgw_backend_response_t *resp,
                                          idgw_backend_error_t *err)
{
    apr_time_t deadline = apr_time_now() + idgw_backend_conf_total_timeout(&be->conf);
    int max = 1 + (req->idempotent ? idgw_backend_conf_retries(&be->conf) : 0);

    idgw_be_error_clear(err);
    for (int n = 1;; n++) {
        idgw_backend_category_t cat;
        apr_interval_time_t left;

        memset(resp, 0, sizeof(*resp));
        idgw_be_error_clear(err);
        err->attempts = n;
        cat = attempt(be, p, req, resp, deadline, err);
        if (cat != IDGW_BE_OK && cat != IDGW_BE_ERR_HTTP_STATUS)
            memset(resp, 0, sizeof(*resp));   /* no half-read response escapes */
        if (cat == IDGW_BE_OK || n >= max || !retryable(err))
            return cat;
        left = deadline - apr_time_now();
        if (left <= RETRY_BACKOFF * n)
            return cat;
        idgw_be_stat_add(be, &be->stats.retries);
        apr_sleep(RETRY_BACKOFF * n);
    }
}
