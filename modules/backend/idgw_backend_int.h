/* idgw_backend_int.h: internals shared by the backend client's files (not for
 * the modules: they use idgw_backend.h). */
#ifndef IDGW_BACKEND_INT_H
#define IDGW_BACKEND_INT_H

#include <stdarg.h>
#include <apr_network_io.h>
#include <apr_reslist.h>
#include <apr_thread_mutex.h>
#include <openssl/ssl.h>
#include "idgw_backend.h"

#define IDGW_BE_READBUF 16384
#define IDGW_BE_MAX_LINE 8192          /* status line, header line, chunk size line */
#define IDGW_BE_MAX_HEADER_BYTES 32768
#define IDGW_BE_MAX_HEADERS 64

struct idgw_backend {
    apr_pool_t *pool;
    idgw_backend_conf_t conf;          /* deep copy with defaults resolved in getters */
    SSL_CTX *ssl_ctx;                  /* NULL for http */
    apr_reslist_t *connections;        /* NULL before child_init */
    apr_thread_mutex_t *lock;          /* stats and the cached TLS session */
    SSL_SESSION *tls_session;          /* last resumable session */
    idgw_backend_stats_t stats;
};

/* One connection, a resource of the pool.  Its own unmanaged pool holds the socket
 * so that a connection's memory goes away with it. */
typedef struct idgw_backend_conn {
    idgw_backend_t *be;
    apr_pool_t *pool;
    apr_pool_t *sockpool;              /* socket and addresses, per connect */
    apr_socket_t *sock;                /* NULL: not connected */
    SSL *ssl;
    int broken;                        /* an error happened: no TLS session reuse */
    apr_time_t deadline;               /* of the current call */
    apr_status_t last_io;              /* APR status of the last failed socket op */
    int timed_out;                     /* last failure was APR_TIMEUP or deadline */
    int truncated;                     /* TLS: closed without close_notify */
    char buf[IDGW_BE_READBUF];
    apr_size_t pos, len;               /* unread bytes are buf[pos..len) */
} idgw_backend_conn_t;

/* error helpers (idgw_backend_error.c) */
idgw_backend_category_t idgw_be_fail(idgw_backend_error_t *err, idgw_backend_category_t c,
                                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void idgw_be_error_clear(idgw_backend_error_t *err);
void idgw_be_stat_add(idgw_backend_t *be, unsigned long *counter);

/* socket (idgw_backend_sock.c), under both the connection and TLS:
 * set the socket timeout for the next operation: min(io timeout, time left).
 * APR_TIMEUP (and c->timed_out set) when the call's deadline has passed. */
apr_status_t idgw_be_sock_arm(idgw_backend_conn_t *c);

/* connection (idgw_backend_conn.c) */
idgw_backend_conn_t *idgw_be_conn_new(idgw_backend_t *be);
void idgw_be_conn_close(idgw_backend_conn_t *c);
void idgw_be_conn_destroy(idgw_backend_conn_t *c);
/* Connect (and TLS handshake) within the connect timeout and the deadline. */
idgw_backend_category_t idgw_be_conn_open(idgw_backend_conn_t *c, idgw_backend_error_t *err);
/* An idle connection is usable only if nothing at all is readable on it:
 * a FIN, a reset, a TLS alert or stray bytes all mean it must not be reused. */
int idgw_be_conn_idle_ok(idgw_backend_conn_t *c);
idgw_backend_category_t idgw_be_conn_write(idgw_backend_conn_t *c, const char *data,
                                           apr_size_t len, idgw_backend_error_t *err);
/* Fill the read buffer with at least one more byte.  *eof set on a clean EOF. */
idgw_backend_category_t idgw_be_conn_fill(idgw_backend_conn_t *c, int *eof,
                                          idgw_backend_error_t *err);

/* TLS (idgw_backend_tls.c) */
SSL_CTX *idgw_be_tls_ctx_new(const idgw_backend_conf_t *conf, idgw_backend_error_t *err);
void idgw_be_tls_ctx_free(SSL_CTX *ctx);
idgw_backend_category_t idgw_be_tls_handshake(idgw_backend_conn_t *c, idgw_backend_error_t *err);
int idgw_be_tls_read(idgw_backend_conn_t *c, char *buf, apr_size_t cap, apr_size_t *got,
                     int *eof);
int idgw_be_tls_write(idgw_backend_conn_t *c, const char *data, apr_size_t len);
void idgw_be_tls_ctx_bind(SSL_CTX *ctx, idgw_backend_t *be);
/* Describe the last OpenSSL failure into err as a TLS or I/O error. */
idgw_backend_category_t idgw_be_tls_fail(idgw_backend_conn_t *c, idgw_backend_error_t *err,
                                         const char *what);

/* HTTP/1.1 (idgw_backend_http.c) */
idgw_backend_category_t idgw_be_http_send(idgw_backend_conn_t *c, apr_pool_t *p,
                                          const idgw_backend_request_t *req,
                                          idgw_backend_error_t *err);
/* Reads one response; *reusable set when the connection may carry another. */
idgw_backend_category_t idgw_be_http_receive(idgw_backend_conn_t *c, apr_pool_t *p,
                                             const char *method,
                                             idgw_backend_response_t *resp, int *reusable,
                                             idgw_backend_error_t *err);

/* pool (idgw_backend_pool.c) */
idgw_backend_category_t idgw_be_pool_acquire(idgw_backend_t *be, idgw_backend_conn_t **out,
                                             idgw_backend_error_t *err);
void idgw_be_pool_release(idgw_backend_t *be, idgw_backend_conn_t *c);
void idgw_be_pool_invalidate(idgw_backend_t *be, idgw_backend_conn_t *c);

#endif
