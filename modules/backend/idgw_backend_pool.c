/* idgw_backend_pool.c: the keep-alive pool of one backend in one child
 * process, an apr_reslist of connections.  The reslist is made in child_init
 * with no minimum, so no socket exists before fork and a connection is only
 * opened by the first request that needs it.  A kept connection is checked
 * before reuse; a connection with any error is invalidated (destroyed). */
#include <apr_strings.h>
#include "idgw_backend_int.h"

static apr_status_t conn_construct(void **res, void *params, apr_pool_t *pool)
{
    idgw_backend_conn_t *c = idgw_be_conn_new(params);

    if (!c)
        return APR_ENOMEM;
    *res = c;
    return APR_SUCCESS;
}

static apr_status_t conn_destruct(void *res, void *params, apr_pool_t *pool)
{
    idgw_be_conn_destroy(res);
    return APR_SUCCESS;
}

static apr_status_t drop_tls_session(void *data)
{
    idgw_backend_t *be = data;

    if (be->tls_session) {
        SSL_SESSION_free(be->tls_session);
        be->tls_session = NULL;
    }
    return APR_SUCCESS;
}

int idgw_backend_child_init(idgw_backend_t *be, apr_pool_t *pchild, idgw_backend_error_t *err)
{
    const idgw_backend_conf_t *conf = &be->conf;
    apr_status_t rv;
    char ebuf[128];

    idgw_be_error_clear(err);
    rv = apr_reslist_create(&be->connections, 0, idgw_backend_conf_pool_keep(conf),
                            idgw_backend_conf_pool_max(conf), idgw_backend_conf_idle_timeout(conf),
                            conn_construct, conn_destruct, be, pchild);
    if (rv != APR_SUCCESS) {
        idgw_be_fail(err, IDGW_BE_ERR_CONFIG, "%s: cannot create the connection pool: %s",
                     conf->name, apr_strerror(rv, ebuf, sizeof(ebuf)));
        return -1;
    }
    apr_reslist_timeout_set(be->connections, idgw_backend_conf_pool_wait(conf));
    /* The session cached in this child goes with the child's pool (registered
     * after the reslist, so it runs before the connections are destroyed). */
    apr_pool_cleanup_register(pchild, be, drop_tls_session, apr_pool_cleanup_null);
    return 0;
}

idgw_backend_category_t idgw_be_pool_acquire(idgw_backend_t *be, idgw_backend_conn_t **out,
                                             idgw_backend_error_t *err)
{
    void *res;
    idgw_backend_conn_t *c;
    apr_status_t rv;
    char ebuf[128];

    if (!be->connections)
        return idgw_be_fail(err, IDGW_BE_ERR_CONFIG, "%s: client not initialised in this child",
                            be->conf.name);
    rv = apr_reslist_acquire(be->connections, &res);
    if (rv != APR_SUCCESS)
        return idgw_be_fail(err, IDGW_BE_ERR_POOL, "%s: no connection available: %s",
                            be->conf.name, apr_strerror(rv, ebuf, sizeof(ebuf)));
    c = res;
    if (c->sock && !idgw_be_conn_idle_ok(c)) {
        /* Closed by the backend while idle (or junk arrived): never reuse. */
        idgw_be_stat_add(be, &be->stats.stale);
        idgw_be_conn_close(c);
    }
    c->timed_out = 0;
    c->last_io = APR_SUCCESS;
    *out = c;
    return IDGW_BE_OK;
}

void idgw_be_pool_release(idgw_backend_t *be, idgw_backend_conn_t *c)
{
    apr_reslist_release(be->connections, c);
}

void idgw_be_pool_invalidate(idgw_backend_t *be, idgw_backend_conn_t *c)
{
    idgw_be_stat_add(be, &be->stats.invalidated);
    apr_reslist_invalidate(be->connections, c);
}
