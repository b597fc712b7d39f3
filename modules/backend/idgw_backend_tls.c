/* idgw_backend_tls.c: TLS for the backend client, OpenSSL running over the
 * APR socket through a small BIO (so the APR timeouts, armed per operation,
 * bound every TLS read and write).  CA verification, host name (or IP) check,
 * client certificate, and session resumption through one cached session per
 * backend, filled by OpenSSL's new-session callback (TLS 1.3 tickets arrive
 * after the handshake). */
#include <string.h>
#include <arpa/inet.h>
#include <apr_network_io.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "idgw_backend_int.h"

static BIO_METHOD *apr_bio_method;
static CRYPTO_ONCE apr_bio_once = CRYPTO_ONCE_STATIC_INIT;
static int be_ex_index = -1;

/* One socket operation for OpenSSL, armed with the call's timeouts.  Returns
 * the byte count, 0 for EOF (reads), -1 with c->last_io set on failure; never
 * asks OpenSSL to retry, because APR already waited as long as allowed. */
static int bio_io(BIO *b, char *buf, int len, int writing)
{
    idgw_backend_conn_t *c = BIO_get_data(b);
    apr_size_t n = (apr_size_t)len;
    apr_status_t rv;

    BIO_clear_retry_flags(b);
    if (idgw_be_sock_arm(c) != APR_SUCCESS)
        return -1;
    rv = writing ? apr_socket_send(c->sock, buf, &n) : apr_socket_recv(c->sock, buf, &n);
    if (n > 0)
        return (int)n;
    c->last_io = rv;
    if (rv == APR_EOF && !writing)
        return 0;
    if (APR_STATUS_IS_TIMEUP(rv))
        c->timed_out = 1;
    return -1;
}

static int bio_write(BIO *b, const char *data, int len)
{
    /* apr_socket_send takes a const buffer; bio_io only passes it through. */
    return bio_io(b, (char *)data, len, 1);
}

static int bio_read(BIO *b, char *buf, int len)
{
    return bio_io(b, buf, len, 0);
}

/* BIO_CTRL_EOF answers truly: OpenSSL asks it when a read returns 0, and
 * only then reports a close without close_notify as
 * SSL_R_UNEXPECTED_EOF_WHILE_READING (a truncation) instead of a bare
 * SSL_ERROR_SYSCALL. */
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    idgw_backend_conn_t *c = BIO_get_data(b);

    if (cmd == BIO_CTRL_EOF)
        return c && c->last_io == APR_EOF;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_destroy(BIO *b)
{
    return 1;
}

static void make_bio_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "idgw apr socket");

    if (!m)
        return;
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    BIO_meth_set_destroy(m, bio_destroy);
    apr_bio_method = m;
    be_ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* OpenSSL hands over a resumable session; keep the newest one per backend. */
static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    idgw_backend_t *be = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), be_ex_index);

    if (!be)
        return 0;
    apr_thread_mutex_lock(be->lock);
    if (be->tls_session)
        SSL_SESSION_free(be->tls_session);
    be->tls_session = sess;
    apr_thread_mutex_unlock(be->lock);
    return 1;
}

static void describe_ssl_errors(char *out, size_t cap)
{
    unsigned long e = ERR_get_error();
    unsigned long next;

    if (!e) {
        snprintf(out, cap, "no detail");
        return;
    }
    /* The first queued error is the root cause; drain the rest. */
    ERR_error_string_n(e, out, cap);
    while ((next = ERR_get_error()) != 0)
        ;
}

SSL_CTX *idgw_be_tls_ctx_new(const idgw_backend_conf_t *conf, idgw_backend_error_t *err)
{
    SSL_CTX *ctx;
    char detail[200];

    if (!CRYPTO_THREAD_run_once(&apr_bio_once, make_bio_method) || !apr_bio_method) {
        idgw_be_fail(err, IDGW_BE_ERR_TLS, "%s: cannot set up the TLS layer", conf->name);
        return NULL;
    }
    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        idgw_be_fail(err, IDGW_BE_ERR_TLS, "%s: SSL_CTX_new failed", conf->name);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (!conf->ca_file || SSL_CTX_load_verify_locations(ctx, conf->ca_file, NULL) != 1) {
        describe_ssl_errors(detail, sizeof(detail));
        idgw_be_fail(err, IDGW_BE_ERR_CONFIG, "%s: cannot load CA file: %s", conf->name, detail);
        goto fail;
    }
    if (conf->cert_file) {
        if (SSL_CTX_use_certificate_chain_file(ctx, conf->cert_file) != 1
            || SSL_CTX_use_PrivateKey_file(ctx, conf->key_file, SSL_FILETYPE_PEM) != 1
            || SSL_CTX_check_private_key(ctx) != 1) {
            describe_ssl_errors(detail, sizeof(detail));
            idgw_be_fail(err, IDGW_BE_ERR_CONFIG, "%s: client certificate or key: %s",
                         conf->name, detail);
            goto fail;
        }
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void idgw_be_tls_ctx_free(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}

/* Called once the backend structure exists, so that the callback finds it. */
void idgw_be_tls_ctx_bind(SSL_CTX *ctx, idgw_backend_t *be)
{
    SSL_CTX_set_ex_data(ctx, be_ex_index, be);
}

static int is_ip_literal(const char *name)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

static int set_peer_name(SSL *ssl, const char *name)
{
    if (is_ip_literal(name))
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1;
    return SSL_set_tlsext_host_name(ssl, name) == 1 && SSL_set1_host(ssl, name) == 1;
}

idgw_backend_category_t idgw_be_tls_fail(idgw_backend_conn_t *c, idgw_backend_error_t *err,
                                         const char *what)
{
    const char *name = c->be->conf.name;
    char detail[200];
    char ebuf[120];

    if (c->timed_out) {
        ERR_clear_error();
        return idgw_be_fail(err, IDGW_BE_ERR_TIMEOUT, "%s: TLS %s timed out", name, what);
    }
    if (c->truncated)
        return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: TLS %s: connection closed without "
                            "close_notify (answer truncated)", name, what);
    if (ERR_peek_error() == 0 && c->last_io != APR_SUCCESS) {
        /* A socket failure under TLS (reset, EOF mid-record). */
        return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: TLS %s: %s", name, what,
                            c->last_io == APR_EOF ? "connection closed"
                                                  : apr_strerror(c->last_io, ebuf, sizeof(ebuf)));
    }
    describe_ssl_errors(detail, sizeof(detail));
    return idgw_be_fail(err, IDGW_BE_ERR_TLS, "%s: TLS %s: %s", name, what, detail);
}

idgw_backend_category_t idgw_be_tls_handshake(idgw_backend_conn_t *c, idgw_backend_error_t *err)
{
    idgw_backend_t *be = c->be;
    const char *peer = be->conf.tls_name ? be->conf.tls_name : be->conf.url.host;
    BIO *bio;
    long vr;

    ERR_clear_error();
    c->last_io = APR_SUCCESS;
    c->ssl = SSL_new(be->ssl_ctx);
    bio = BIO_new(apr_bio_method);
    if (!c->ssl || !bio) {
        BIO_free(bio);
        return idgw_be_fail(err, IDGW_BE_ERR_TLS, "%s: out of memory for TLS", be->conf.name);
    }
    BIO_set_data(bio, c);
    SSL_set_bio(c->ssl, bio, bio);
    if (!set_peer_name(c->ssl, peer))
        return idgw_be_fail(err, IDGW_BE_ERR_CONFIG, "%s: bad TLS peer name", be->conf.name);
    apr_thread_mutex_lock(be->lock);
    if (be->tls_session)
        SSL_set_session(c->ssl, be->tls_session);
    apr_thread_mutex_unlock(be->lock);
    if (SSL_connect(c->ssl) != 1) {
        vr = SSL_get_verify_result(c->ssl);
        if (!c->timed_out && vr != X509_V_OK) {
            ERR_clear_error();
            return idgw_be_fail(err, IDGW_BE_ERR_TLS, "%s: certificate of %s rejected: %s",
                                be->conf.name, peer, X509_verify_cert_error_string(vr));
        }
        if (!c->timed_out && ERR_peek_error() == 0)
            /* The peer hung up during the handshake: a TLS failure, not HTTP. */
            return idgw_be_fail(err, IDGW_BE_ERR_TLS, "%s: TLS handshake aborted by peer",
                                be->conf.name);
        return idgw_be_tls_fail(c, err, "handshake");
    }
    idgw_be_stat_add(be, &be->stats.tls_handshakes);
    if (SSL_session_reused(c->ssl))
        idgw_be_stat_add(be, &be->stats.tls_resumed);
    return IDGW_BE_OK;
}

int idgw_be_tls_read(idgw_backend_conn_t *c, char *buf, apr_size_t cap, apr_size_t *got,
                     int *eof)
{
    int want = cap > 65536 ? 65536 : (int)cap;
    int r;

    *got = 0;
    *eof = 0;
    ERR_clear_error();
    c->last_io = APR_SUCCESS;
    c->truncated = 0;
    r = SSL_read(c->ssl, buf, want);
    if (r > 0) {
        *got = (apr_size_t)r;
        return 0;
    }
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_ZERO_RETURN:
        *eof = 1;
        return 0;
    case SSL_ERROR_SSL:
        /* A bare TCP close without close_notify is not an end: anyone on the
         * path can forge it to cut an answer short.  Only close_notify
         * (SSL_ERROR_ZERO_RETURN above) is an EOF; this is a truncation. */
        if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            c->last_io = APR_EOF;
            c->truncated = 1;
        }
        return -1;
    default:
        return -1;
    }
}

int idgw_be_tls_write(idgw_backend_conn_t *c, const char *data, apr_size_t len)
{
    int want = len > 65536 ? 65536 : (int)len;

    ERR_clear_error();
    c->last_io = APR_SUCCESS;
    return SSL_write(c->ssl, data, want);
}
