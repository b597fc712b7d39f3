/* backend_test_server.h: an in-process HTTP/1.1 server (one thread, POSIX
 * sockets, optional OpenSSL with client-certificate checks) whose faults the
 * backend client tests choose precisely. */
#ifndef BACKEND_TEST_SERVER_H
#define BACKEND_TEST_SERVER_H

#include <pthread.h>
#include <openssl/ssl.h>

#define TS_PORT_FIRST 8450
#define TS_PORT_COUNT 28    /* 8450..8477; 8479 stays closed for "refused" */

typedef enum ts_mode {
    TS_ECHO = 0,          /* 200, Content-Length, keep-alive, body = "echo:" + request body */
    TS_CHUNKED,           /* 200, chunked (extensions, trailer), same body */
    TS_CLOSE_AFTER,       /* like TS_ECHO, then closes the idle connection at once */
    TS_CONN_CLOSE,        /* like TS_ECHO with "Connection: close" */
    TS_SLOW,              /* waits delay_ms before answering */
    TS_RESET_MID_BODY,    /* announces 1000 bytes, sends 100, resets the connection */
    TS_OVERSIZE,          /* Content-Length 100000 */
    TS_OVERSIZE_CHUNKED,  /* chunks without end */
    TS_STATUS_503_ONCE,   /* first request 503, then TS_ECHO */
    TS_BAD_STATUS_LINE,   /* "HTTP/9 banana" */
    TS_BOTH_FRAMINGS,     /* Content-Length and chunked together */
    TS_NO_LENGTH,         /* 200, neither Content-Length nor chunked, body, then close */
    TS_SHORT_BODY,        /* announces 1000 bytes, sends 100, closes (FIN, not reset) */
    TS_CHUNKED_CUT        /* chunked, one chunk, then closes without the last chunk */
} ts_mode_t;

typedef struct test_server {
    /* set before ts_start */
    int port;             /* 0: pick a free port of the range */
    int tls;
    int require_client_cert;
    const char *cert_file, *key_file, *ca_file;
    ts_mode_t mode;
    int delay_ms;
    int no_close_notify;  /* TLS: end connections with a bare TCP close */
    /* observed, under lock */
    pthread_mutex_t lock;
    int accepted;
    int requests;
    int tls_failures;
    char last_correlation[128];
    /* internal */
    int listen_fd;
    volatile int stop;
    SSL_CTX *ctx;
    pthread_t thread;
} test_server_t;

/* Listens on 127.0.0.1:port and serves in a thread; 0 on success. */
int ts_start(test_server_t *ts);
void ts_stop(test_server_t *ts);
int ts_get(test_server_t *ts, const int *field);

#endif
