/* idgw_backend_conn.c: one backend connection over an APR socket: connect
 * within the connect timeout, bounded reads and writes (plain or through the
 * TLS layer), the idle check before reuse, close.
 *
 * Every socket operation is armed with min(I/O timeout, time left until the
 * call's deadline) by idgw_be_sock_arm() (idgw_backend_sock.c, shared with
 * the TLS layer below this file), so the total time of a call is bounded
 * whatever the backend does. */
#include <string.h>
#include <apr_poll.h>
#include <apr_strings.h>
#include "idgw_backend_int.h"

idgw_backend_conn_t *idgw_be_conn_new(idgw_backend_t *be)
{
    apr_pool_t *pool;
    idgw_backend_conn_t *c;

    /* An unmanaged pool of its own: the reslist calls constructors from any
     * thread (no shared parent to lock), a connection's memory goes away
     * with the connection, and only the reslist's destructor destroys it (no
     * parent that could destroy it first, e.g. in apr_terminate). */
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS)
        return NULL;
    c = apr_pcalloc(pool, sizeof(*c));
    c->be = be;
    c->pool = pool;
    return c;
}

void idgw_be_conn_close(idgw_backend_conn_t *c)
{
    if (c->ssl) {
        /* A clean end keeps the TLS session resumable (OpenSSL marks the
         * session of a connection freed without shutdown as not resumable);
         * no close_notify is waited for, the socket goes now. */
        if (!c->broken)
            SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->sock) {
        apr_socket_close(c->sock);
        c->sock = NULL;
    }
    /* Drops the socket structures and addresses of this connection. */
    if (c->sockpool) {
        apr_pool_destroy(c->sockpool);
        c->sockpool = NULL;
    }
    c->pos = c->len = 0;
    c->broken = 0;
    c->truncated = 0;
}

void idgw_be_conn_destroy(idgw_backend_conn_t *c)
{
    if (!c)
        return;
    idgw_be_conn_close(c);
    apr_pool_destroy(c->pool);
}

static idgw_backend_category_t connect_one(idgw_backend_conn_t *c, apr_sockaddr_t *sa,
                                           idgw_backend_error_t *err)
{
    const idgw_backend_conf_t *conf = &c->be->conf;
    apr_interval_time_t left = c->deadline - apr_time_now();
    apr_interval_time_t t = idgw_backend_conf_connect_timeout(conf);
    apr_status_t rv;
    char ebuf[128];

    if (left <= 0)
        return idgw_be_fail(err, IDGW_BE_ERR_TIMEOUT, "%s: total time exhausted before connect",
                            conf->name);
    if (left < t)
        t = left;
    rv = apr_socket_create(&c->sock, sa->family, SOCK_STREAM, APR_PROTO_TCP, c->sockpool);
    if (rv != APR_SUCCESS)
        return idgw_be_fail(err, IDGW_BE_ERR_CONNECT, "%s: socket: %s", conf->name,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
    apr_socket_opt_set(c->sock, APR_TCP_NODELAY, 1);
    apr_socket_timeout_set(c->sock, t);
    rv = apr_socket_connect(c->sock, sa);
    if (rv == APR_SUCCESS)
        return IDGW_BE_OK;
    apr_socket_close(c->sock);
    c->sock = NULL;
    if (APR_STATUS_IS_TIMEUP(rv))
        return idgw_be_fail(err, IDGW_BE_ERR_TIMEOUT, "%s: connect to %s:%u timed out",
                            conf->name, conf->url.host, (unsigned)conf->url.port);
    return idgw_be_fail(err, IDGW_BE_ERR_CONNECT, "%s: connect to %s:%u: %s", conf->name,
                        conf->url.host, (unsigned)conf->url.port,
                        apr_strerror(rv, ebuf, sizeof(ebuf)));
}

idgw_backend_category_t idgw_be_conn_open(idgw_backend_conn_t *c, idgw_backend_error_t *err)
{
    const idgw_backend_conf_t *conf = &c->be->conf;
    apr_sockaddr_t *sa;
    apr_status_t rv;
    idgw_backend_category_t cat = IDGW_BE_ERR_CONNECT;
    char ebuf[128];

    idgw_be_conn_close(c);
    if (apr_pool_create(&c->sockpool, c->pool) != APR_SUCCESS)
        return idgw_be_fail(err, IDGW_BE_ERR_CONNECT, "%s: out of memory", conf->name);
    rv = apr_sockaddr_info_get(&sa, conf->url.host, APR_UNSPEC, conf->url.port, 0, c->sockpool);
    if (rv != APR_SUCCESS) {
        idgw_be_conn_close(c);
        return idgw_be_fail(err, IDGW_BE_ERR_CONNECT, "%s: cannot resolve %s: %s", conf->name,
                            conf->url.host, apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    /* Each address in turn, as long as time is left. */
    for (; sa; sa = sa->next) {
        cat = connect_one(c, sa, err);
        if (cat == IDGW_BE_OK || cat == IDGW_BE_ERR_TIMEOUT)
            break;
    }
    if (cat != IDGW_BE_OK) {
        idgw_be_conn_close(c);
        return cat;
    }
    idgw_be_stat_add(c->be, &c->be->stats.connects);
    if (c->be->ssl_ctx) {
        cat = idgw_be_tls_handshake(c, err);
        if (cat != IDGW_BE_OK) {
            idgw_be_conn_close(c);
            return cat;
        }
    }
    return IDGW_BE_OK;
}

int idgw_be_conn_idle_ok(idgw_backend_conn_t *c)
{
    apr_pollfd_t pfd;
    apr_int32_t n = 0;
    apr_status_t rv;

    if (!c->sock || c->pos < c->len)
        return 0;
    if (c->ssl && SSL_pending(c->ssl) > 0)
        return 0;
    memset(&pfd, 0, sizeof(pfd));
    pfd.p = c->pool;
    pfd.desc_type = APR_POLL_SOCKET;
    pfd.reqevents = APR_POLLIN;
    pfd.desc.s = c->sock;
    rv = apr_poll(&pfd, 1, &n, 0);
    /* Nothing readable: still open.  Readable, hung up or in error: drop it. */
    return (rv == APR_SUCCESS && n == 0) || APR_STATUS_IS_TIMEUP(rv);
}

static idgw_backend_category_t io_failure(idgw_backend_conn_t *c, idgw_backend_error_t *err,
                                          const char *what)
{
    char ebuf[128];

    if (c->timed_out || APR_STATUS_IS_TIMEUP(c->last_io))
        return idgw_be_fail(err, IDGW_BE_ERR_TIMEOUT, "%s: %s timed out", c->be->conf.name, what);
    return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: %s failed: %s", c->be->conf.name, what,
                        apr_strerror(c->last_io, ebuf, sizeof(ebuf)));
}

idgw_backend_category_t idgw_be_conn_write(idgw_backend_conn_t *c, const char *data,
                                           apr_size_t len, idgw_backend_error_t *err)
{
    while (len > 0) {
        apr_size_t n = len;
        apr_status_t rv;

        if (c->ssl) {
            int w = idgw_be_tls_write(c, data, len);
            if (w <= 0)
                return idgw_be_tls_fail(c, err, "send");
            n = (apr_size_t)w;
        }
        else {
            if (idgw_be_sock_arm(c) != APR_SUCCESS)
                return io_failure(c, err, "send");
            rv = apr_socket_send(c->sock, data, &n);
            if (n == 0 && rv != APR_SUCCESS) {
                c->last_io = rv;
                return io_failure(c, err, "send");
            }
        }
        data += n;
        len -= n;
    }
    return IDGW_BE_OK;
}

idgw_backend_category_t idgw_be_conn_fill(idgw_backend_conn_t *c, int *eof,
                                          idgw_backend_error_t *err)
{
    apr_size_t n;
    apr_status_t rv;

    *eof = 0;
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->len >= sizeof(c->buf))
        return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: read buffer full", c->be->conf.name);
    if (c->ssl) {
        int r = idgw_be_tls_read(c, c->buf + c->len, sizeof(c->buf) - c->len, &n, eof);
        if (r < 0)
            return idgw_be_tls_fail(c, err, "receive");
        c->len += n;
        return IDGW_BE_OK;
    }
    if (idgw_be_sock_arm(c) != APR_SUCCESS)
        return io_failure(c, err, "receive");
    n = sizeof(c->buf) - c->len;
    rv = apr_socket_recv(c->sock, c->buf + c->len, &n);
    if (n > 0) {
        c->len += n;
        return IDGW_BE_OK;
    }
    if (rv == APR_EOF) {
        *eof = 1;
        return IDGW_BE_OK;
    }
    c->last_io = rv;
    if (APR_STATUS_IS_TIMEUP(rv))
        c->timed_out = 1;
    return io_failure(c, err, "receive");
}
