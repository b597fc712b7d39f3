/* backend_test_server.c: see backend_test_server.h.  One connection at a
 * time, which is all the client tests need, so that what the server saw is
 * deterministic. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <openssl/err.h>
#include "backend_test_server.h"

typedef struct ts_conn {
    test_server_t *ts;
    int fd;
    SSL *ssl;
    char buf[65536];
    size_t len;
} ts_conn_t;

static void sleep_ms(test_server_t *ts, int ms)
{
    for (int i = 0; i < ms / 10 && !ts->stop; i++)
        usleep(10000);
}

static int conn_write(ts_conn_t *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = c->ssl ? SSL_write(c->ssl, data, (int)len) : write(c->fd, data, len);
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int conn_read(ts_conn_t *c)
{
    ssize_t n;
    struct pollfd pfd = {c->fd, POLLIN, 0};

    if (c->len >= sizeof(c->buf))
        return -1;
    if (!(c->ssl && SSL_pending(c->ssl) > 0)) {
        /* Wake up now and then to notice ts_stop. */
        while (!c->ts->stop) {
            int r = poll(&pfd, 1, 50);
            if (r > 0)
                break;
            if (r < 0 && errno != EINTR)
                return -1;
        }
        if (c->ts->stop)
            return -1;
    }
    n = c->ssl ? SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len))
               : read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    return 0;
}

static void hard_reset(ts_conn_t *c)
{
    struct linger lg = {1, 0};

    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* Reads one request; body copied into body (NUL-terminated).  -1 on EOF. */
static int read_request(ts_conn_t *c, char *body, size_t cap)
{
    char *end;
    size_t hlen, clen = 0;
    char *cl, *corr;

    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (conn_read(c) < 0)
            return -1;
    hlen = (size_t)(end + 4 - c->buf);
    end[2] = '\0';
    cl = strcasestr(c->buf, "\r\nContent-Length:");
    if (cl)
        clen = strtoul(cl + 17, NULL, 10);
    corr = strcasestr(c->buf, "\r\nX-Idgw-Correlation-Id: ");
    pthread_mutex_lock(&c->ts->lock);
    c->ts->requests++;
    c->ts->last_correlation[0] = '\0';
    if (corr)
        sscanf(corr + 25, "%127[^\r]", c->ts->last_correlation);
    pthread_mutex_unlock(&c->ts->lock);
    while (c->len < hlen + clen)
        if (conn_read(c) < 0)
            return -1;
    if (clen >= cap)
        clen = cap - 1;
    memcpy(body, c->buf + hlen, clen);
    body[clen] = '\0';
    memmove(c->buf, c->buf + hlen + clen, c->len - hlen - clen);
    c->len -= hlen + clen;
    return 0;
}

static int send_echo(ts_conn_t *c, const char *body, const char *extra)
{
    char head[512];
    char payload[70000];
    int n = snprintf(payload, sizeof(payload), "echo:%s", body);
    int h = snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n%s"
                     "Content-Length: %d\r\n\r\n", extra, n);

    return conn_write(c, head, (size_t)h) || conn_write(c, payload, (size_t)n) ? -1 : 0;
}

static int send_chunked(ts_conn_t *c, const char *body)
{
    char payload[70000];
    char line[64];
    int n = snprintf(payload, sizeof(payload), "echo:%s", body);
    const char *s_end;
    const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n";

    if (conn_write(c, head, strlen(head)))
        return -1;
    /* Chunks of 3 bytes, with an extension on the first one. */
    for (int off = 0; off < n; off += 3) {
        int len = n - off < 3 ? n - off : 3;
        int l = snprintf(line, sizeof(line), off == 0 ? "%x;ext=1\r\n" : "%X\r\n", len);
        if (conn_write(c, line, (size_t)l) || conn_write(c, payload + off, (size_t)len)
            || conn_write(c, "\r\n", 2))
            return -1;
    }
    s_end = "0\r\nX-Trailer: yes\r\n\r\n";
    return conn_write(c, s_end, strlen(s_end));
}

/* Answers one request per the mode; -1 when the connection must end. */
static int answer(ts_conn_t *c, const char *body)
{
    test_server_t *ts = c->ts;
    char big[4096];
    const char *s;

    switch (ts->mode) {
    case TS_ECHO:
        return send_echo(c, body, "");
    case TS_CHUNKED:
        return send_chunked(c, body);
    case TS_CLOSE_AFTER:
        send_echo(c, body, "");
        return -1;
    case TS_CONN_CLOSE:
        send_echo(c, body, "Connection: close\r\n");
        return -1;
    case TS_SLOW:
        sleep_ms(ts, ts->delay_ms);
        return send_echo(c, body, "");
    case TS_RESET_MID_BODY:
        s = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        conn_write(c, s, strlen(s));
        memset(big, 'x', 100);
        conn_write(c, big, 100);
        usleep(50000);
        hard_reset(c);
        return -1;
    case TS_OVERSIZE:
        s = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
        conn_write(c, s, strlen(s));
        memset(big, 'x', sizeof(big));
        for (int i = 0; i < 25 && !ts->stop; i++)
            if (conn_write(c, big, sizeof(big)))
                break;
        return -1;
    case TS_OVERSIZE_CHUNKED:
        s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        conn_write(c, s, strlen(s));
        memset(big, 'y', sizeof(big));
        for (int i = 0; i < 25 && !ts->stop; i++)
            if (conn_write(c, "1000\r\n", 6) || conn_write(c, big, sizeof(big))
                || conn_write(c, "\r\n", 2))
                break;
        return -1;
    case TS_STATUS_503_ONCE: {
        int first;
        pthread_mutex_lock(&ts->lock);
        first = ts->requests == 1;
        pthread_mutex_unlock(&ts->lock);
        if (first) {
            s = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy";
            return conn_write(c, s, strlen(s));
        }
        return send_echo(c, body, "");
    }
    case TS_BAD_STATUS_LINE:
        s = "HTTP/9 banana\r\n\r\n";
        conn_write(c, s, strlen(s));
        return -1;
    case TS_BOTH_FRAMINGS:
        s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n0\r\n\r\n";
        conn_write(c, s, strlen(s));
        return -1;
    case TS_NO_LENGTH:
        s = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\necho:";
        conn_write(c, s, strlen(s));
        conn_write(c, body, strlen(body));
        return -1;
    case TS_SHORT_BODY:
        s = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        conn_write(c, s, strlen(s));
        memset(big, 'x', 100);
        conn_write(c, big, 100);
        return -1;
    case TS_CHUNKED_CUT:
        s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
        conn_write(c, s, strlen(s));
        return -1;
    }
    return -1;
}

static void drain(int fd)
{
    char junk[4096];
    struct pollfd pfd = {fd, POLLIN, 0};

    for (int i = 0; i < 20 && poll(&pfd, 1, 50) >= 0; i++)
        if ((pfd.revents & (POLLIN | POLLHUP)) && read(fd, junk, sizeof(junk)) <= 0)
            break;
}

static void serve_connection(test_server_t *ts, int fd)
{
    static char body[65536];
    ts_conn_t *c = calloc(1, sizeof(*c));

    c->ts = ts;
    c->fd = fd;
    if (ts->tls) {
        c->ssl = SSL_new(ts->ctx);
        SSL_set_fd(c->ssl, fd);
        if (SSL_accept(c->ssl) != 1) {
            pthread_mutex_lock(&ts->lock);
            ts->tls_failures++;
            pthread_mutex_unlock(&ts->lock);
            ERR_clear_error();
            /* Like mod_ssl: the alert is out; close gracefully (FIN, then
             * drain what the client sent) so that no reset destroys it. */
            shutdown(fd, SHUT_WR);
            drain(fd);
            goto done;
        }
    }
    while (!ts->stop && read_request(c, body, sizeof(body)) == 0)
        if (answer(c, body) < 0)
            break;
done:
    if (c->ssl) {
        if (ts->mode != TS_RESET_MID_BODY && !ts->no_close_notify)
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    close(fd);
    free(c);
}

static void *serve(void *arg)
{
    test_server_t *ts = arg;

    while (!ts->stop) {
        struct pollfd pfd = {ts->listen_fd, POLLIN, 0};
        int fd;

        if (poll(&pfd, 1, 50) <= 0)
            continue;
        fd = accept(ts->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&ts->lock);
        ts->accepted++;
        pthread_mutex_unlock(&ts->lock);
        serve_connection(ts, fd);
    }
    return NULL;
}

static SSL_CTX *server_ctx(test_server_t *ts)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, ts->cert_file) != 1
        || SSL_CTX_use_PrivateKey_file(ctx, ts->key_file, SSL_FILETYPE_PEM) != 1
        || SSL_CTX_load_verify_locations(ctx, ts->ca_file, NULL) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"idgw-test", 9);
    if (ts->require_client_cert)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ctx;
}

int ts_start(test_server_t *ts)
{
    struct sockaddr_in sa;
    int one = 1;

    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&ts->lock, NULL);
    if (ts->tls && !(ts->ctx = server_ctx(ts)))
        return -1;
    ts->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ts->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Port 0: the first free one of the tests' range, from a pid-dependent
     * start so that two test runs at once rarely meet. */
    for (int i = 0; i < TS_PORT_COUNT; i++) {
        int port = ts->port ? ts->port : TS_PORT_FIRST + (int)((getpid() + i) % TS_PORT_COUNT);
        sa.sin_port = htons((unsigned short)port);
        if (bind(ts->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            ts->port = port;
            break;
        }
        if (ts->port)
            break;
    }
    if (!ts->port || listen(ts->listen_fd, 16) != 0) {
        close(ts->listen_fd);
        return -1;
    }
    return pthread_create(&ts->thread, NULL, serve, ts) == 0 ? 0 : -1;
}

void ts_stop(test_server_t *ts)
{
    ts->stop = 1;
    pthread_join(ts->thread, NULL);
    close(ts->listen_fd);
    SSL_CTX_free(ts->ctx);
    pthread_mutex_destroy(&ts->lock);
}

int ts_get(test_server_t *ts, const int *field)
{
    int v;

    pthread_mutex_lock(&ts->lock);
    v = *field;
    pthread_mutex_unlock(&ts->lock);
    return v;
}
