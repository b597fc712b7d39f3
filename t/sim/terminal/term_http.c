/* term_http.c: HTTPS with SPKI pinning over OpenSSL (term_http.h). */
#include "term_http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define HDR_MAX 16384

struct term_http {
    char *host, *port;
    char *source;                  /* local address to connect from, or NULL */
    uint8_t pin[TERM_PIN_LEN];
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
    char err[256];
    /* bytes read past the end of the last response */
    char buf[HDR_MAX];
    size_t buf_len;
};

int term_pin_parse(const char *text, uint8_t pin[TERM_PIN_LEN])
{
    unsigned char out[64];
    const char *b64;
    int n;

    if (!text || strncmp(text, "sha256//", 8) != 0)
        return -1;
    b64 = text + 8;
    if (strlen(b64) != 44)
        return -1;
    n = EVP_DecodeBlock(out, (const unsigned char *)b64, 44);
    /* 44 base64 characters with one '=' decode to 33 bytes, the last a pad */
    if (n != 33 || b64[43] != '=')
        return -1;
    memcpy(pin, out, TERM_PIN_LEN);
    return 0;
}

term_http_t *term_http_new(const char *host, const char *port, const uint8_t pin[TERM_PIN_LEN])
{
    term_http_t *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    h->host = strdup(host);
    h->port = strdup(port);
    memcpy(h->pin, pin, TERM_PIN_LEN);
    h->fd = -1;
    h->ctx = SSL_CTX_new(TLS_client_method());
    if (!h->host || !h->port || !h->ctx) {
        term_http_free(h);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(h->ctx, TLS1_2_VERSION);
    /* trust comes from the pin alone: the chain is checked by hand below */
    SSL_CTX_set_verify(h->ctx, SSL_VERIFY_NONE, NULL);
    return h;
}

int term_http_set_source(term_http_t *h, const char *addr)
{
    free(h->source);
    h->source = addr ? strdup(addr) : NULL;
    return addr && !h->source ? -1 : 0;
}

/* Binds fd to h->source (any port) when one is set; 0 on success. */
static int bind_source(const term_http_t *h, int fd, int family)
{
    struct addrinfo hints, *ai = NULL;
    int rc;

    if (!h->source)
        return 0;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    if (getaddrinfo(h->source, "0", &hints, &ai) != 0)
        return -1;
    rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return rc;
}

static void disconnect(term_http_t *h)
{
    if (h->ssl) {
        SSL_shutdown(h->ssl);
        SSL_free(h->ssl);
        h->ssl = NULL;
    }
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
    h->buf_len = 0;
}

void term_http_free(term_http_t *h)
{
    if (!h)
        return;
    disconnect(h);
    SSL_CTX_free(h->ctx);
    free(h->host);
    free(h->port);
    free(h->source);
    free(h);
}

const char *term_http_error(const term_http_t *h)
{
    return h->err;
}

static int fail(term_http_t *h, const char *what)
{
    unsigned long e = ERR_get_error();

    snprintf(h->err, sizeof(h->err), "%s%s%s", what, e ? ": " : "",
             e ? ERR_reason_error_string(e) : "");
    ERR_clear_error();
    disconnect(h);
    return -1;
}

static int pin_ok(term_http_t *h)
{
    X509 *cert = SSL_get1_peer_certificate(h->ssl);
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    int len, ok;

    if (!cert)
        return 0;
    len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
    ok = len > 0 && EVP_Digest(der, (size_t)len, md, &md_len, EVP_sha256(), NULL)
         && md_len == TERM_PIN_LEN && CRYPTO_memcmp(md, h->pin, TERM_PIN_LEN) == 0;
    OPENSSL_free(der);
    X509_free(cert);
    return ok;
}

static int connect_tls(term_http_t *h)
{
    struct addrinfo hints, *ai = NULL, *a;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(h->host, h->port, &hints, &ai)) != 0) {
        snprintf(h->err, sizeof(h->err), "resolve %s: %s", h->host, gai_strerror(rc));
        return -1;
    }
    for (a = ai; a; a = a->ai_next) {
        h->fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (h->fd >= 0 && bind_source(h, h->fd, a->ai_family) == 0
            && connect(h->fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (h->fd >= 0)
            close(h->fd);
        h->fd = -1;
    }
    freeaddrinfo(ai);
    if (h->fd < 0) {
        snprintf(h->err, sizeof(h->err), "connect %s:%s: %s", h->host, h->port, strerror(errno));
        return -1;
    }
    setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
    h->ssl = SSL_new(h->ctx);
    if (!h->ssl || !SSL_set_fd(h->ssl, h->fd) || !SSL_set_tlsext_host_name(h->ssl, h->host)
        || SSL_connect(h->ssl) != 1)
        return fail(h, "TLS handshake");
    if (!pin_ok(h))
        return fail(h, "gateway certificate does not match the pin (refusing to talk)");
    return 0;
}

static int write_all(term_http_t *h, const char *p, size_t n)
{
    while (n) {
        int w = SSL_write(h->ssl, p, (int)(n > 65536 ? 65536 : n));

        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Fill the buffer with more bytes; 0 at EOF, -1 on error. */
static int read_more(term_http_t *h)
{
    int r;

    if (h->buf_len == sizeof(h->buf))
        return -1;
    r = SSL_read(h->ssl, h->buf + h->buf_len, (int)(sizeof(h->buf) - h->buf_len));
    if (r <= 0)
        return SSL_get_error(h->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    h->buf_len += (size_t)r;
    return r;
}

static void consume(term_http_t *h, size_t n)
{
    memmove(h->buf, h->buf + n, h->buf_len - n);
    h->buf_len -= n;
}

/* Exactly n body bytes into out. */
static int read_exact(term_http_t *h, char *out, size_t n)
{
    size_t got = 0;

    while (got < n) {
        size_t take;

        if (h->buf_len == 0 && read_more(h) <= 0)
            return -1;
        take = h->buf_len < n - got ? h->buf_len : n - got;
        memcpy(out + got, h->buf, take);
        consume(h, take);
        got += take;
    }
    return 0;
}

/* One CRLF-terminated line from the buffer into line (NUL-terminated). */
static int read_line(term_http_t *h, char *line, size_t cap)
{
    for (;;) {
        char *nl = memchr(h->buf, '\n', h->buf_len);

        if (nl) {
            size_t n = (size_t)(nl - h->buf) + 1;

            if (n >= cap)
                return -1;
            memcpy(line, h->buf, n);
            line[n] = '\0';
            consume(h, n);
            return 0;
        }
        if (read_more(h) <= 0)
            return -1;
    }
}

static int read_chunked(term_http_t *h, term_response_t *res)
{
    char line[64];
    size_t cap = 4096;

    res->body = malloc(cap);
    res->body_len = 0;
    for (;;) {
        unsigned long n;

        if (!res->body || read_line(h, line, sizeof(line)) != 0)
            return -1;
        n = strtoul(line, NULL, 16);
        if (n == 0)
            return read_line(h, line, sizeof(line));
        if (res->body_len + n + 1 > TERM_MAX_BODY)
            return -1;
        if (res->body_len + n + 1 > cap) {
            cap = res->body_len + n + 1;
            res->body = realloc(res->body, cap);
            if (!res->body)
                return -1;
        }
        if (read_exact(h, res->body + res->body_len, n) != 0 || read_line(h, line, sizeof(line)))
            return -1;
        res->body_len += n;
    }
}

static const char *header_value(const char *headers, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = headers; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1;
            while (*p == ' ')
                p++;
            return p;
        }
    return NULL;
}

static int read_response(term_http_t *h, term_response_t *res, int *keep)
{
    char *hdr_end;
    const char *v;
    size_t hdr_len;
    long clen = -1;

    for (;;) {
        hdr_end = memmem(h->buf, h->buf_len, "\r\n\r\n", 4);
        if (hdr_end)
            break;
        if (read_more(h) <= 0)
            return -1;
    }
    hdr_len = (size_t)(hdr_end - h->buf) + 4;
    res->raw_headers = strndup(h->buf, hdr_len);
    consume(h, hdr_len);
    if (!res->raw_headers || sscanf(res->raw_headers, "HTTP/1.%*d %d", &res->status) != 1)
        return -1;
    if ((v = header_value(res->raw_headers, "Content-Type")))
        sscanf(v, "%127[^\r\n]", res->content_type);
    v = header_value(res->raw_headers, "X-Idgw-Replay");
    res->replay = v && v[0] == '1';
    v = header_value(res->raw_headers, "Retry-After");
    res->retry_after = v ? atoi(v) : -1;
    v = header_value(res->raw_headers, "Connection");
    *keep = !(v && strncasecmp(v, "close", 5) == 0);
    v = header_value(res->raw_headers, "Transfer-Encoding");
    if (v && strncasecmp(v, "chunked", 7) == 0)
        return read_chunked(h, res);
    if ((v = header_value(res->raw_headers, "Content-Length")))
        clen = strtol(v, NULL, 10);
    if (clen < 0 || clen > TERM_MAX_BODY)
        return -1;
    res->body = malloc((size_t)clen + 1);
    if (!res->body || read_exact(h, res->body, (size_t)clen) != 0)
        return -1;
    res->body_len = (size_t)clen;
    res->body[clen] = '\0';
    return 0;
}

static int attempt(term_http_t *h, const char *req, size_t req_len, const char *body,
                   size_t body_len, term_response_t *res)
{
    int keep = 1;

    if (!h->ssl && connect_tls(h) != 0)
        return -1;
    if (write_all(h, req, req_len) != 0)
        return fail(h, "send");
    if (read_response(h, res, &keep) != 0)
        return fail(h, "read response");
    if (!keep)
        disconnect(h);
    return 0;
}

int term_http_request(term_http_t *h, const char *method, const char *path, const char *headers,
                      const char *body, size_t body_len, term_response_t *res)
{
    char *head, *req;
    int n, was_open = h->ssl != NULL, rc;

    memset(res, 0, sizeof(*res));
    n = asprintf(&head, "%s %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: idgw-terminal/1\r\n"
                 "Content-Length: %zu\r\n%s\r\n", method, path, h->host, h->port, body_len,
                 headers ? headers : "");
    if (n < 0)
        return -1;
    /* head and body in one TLS record: two small writes would meet Nagle's
     * algorithm and the peer's delayed ACK (40 ms per request) */
    req = malloc((size_t)n + body_len);
    if (!req) {
        free(head);
        return -1;
    }
    memcpy(req, head, (size_t)n);
    if (body_len)
        memcpy(req + n, body, body_len);
    free(head);
    n += (int)body_len;
    rc = attempt(h, req, (size_t)n, body, body_len, res);
    if (rc != 0 && was_open) {
        /* a kept-alive connection the server had closed: once more, fresh */
        term_response_free(res);
        memset(res, 0, sizeof(*res));
        rc = attempt(h, req, (size_t)n, body, body_len, res);
    }
    free(req);
    return rc;
}

void term_response_free(term_response_t *res)
{
    free(res->body);
    free(res->raw_headers);
    res->body = res->raw_headers = NULL;
}
