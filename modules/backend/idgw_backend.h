/* idgw_backend.h: the backend client.  HTTP/1.1 over APR sockets, optionally
 * TLS (OpenSSL over the APR socket), with a keep-alive pool per backend per
 * child process.  The modules call it to send feature-phone telegrams to the
 * FeliCa server, CREMO, the card information download center and the brand
 * download center.
 *
 * Life cycle, as an httpd module uses it:
 *   command handlers  idgw_backend_conf_set* validate directive values (with
 *                     idgw_conf_parse.h) into an idgw_backend_conf_t
 *                     (IDGW_UNSET, merge "set wins", defaults in getters);
 *   post_config       idgw_backend_conf_check, then idgw_backend_create: loads
 *                     certificates and keys (as root, before fork), no socket;
 *   child_init        idgw_backend_child_init: creates the connection pool
 *                     (apr_reslist) in the child's pool; still no socket, the
 *                     first request connects;
 *   handler           idgw_backend_call.
 * The client never logs; it returns an error whose category and stable id the
 * caller maps to an XML error and a log line.  It never sees card data in
 * clear except inside the request/response bodies it is handed, which it does
 * not inspect. */
#ifndef IDGW_BACKEND_H
#define IDGW_BACKEND_H

#include <apr_network_io.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "idgw_conf.h"

/* ---- errors ---------------------------------------------------------------- */

typedef enum idgw_backend_category {
    IDGW_BE_OK = 0,
    IDGW_BE_ERR_CONFIG,        /* unusable configuration or request (caller's bug) */
    IDGW_BE_ERR_CONNECT,       /* refused, unreachable, name not resolved */
    IDGW_BE_ERR_TIMEOUT,       /* connect, I/O or total time exceeded */
    IDGW_BE_ERR_TLS,           /* handshake, certificate or host name failure */
    IDGW_BE_ERR_PROTOCOL,      /* malformed HTTP, reset or EOF mid-response */
    IDGW_BE_ERR_HTTP_STATUS,   /* a complete response with a non-2xx status */
    IDGW_BE_ERR_OVERSIZE,      /* response larger than the configured bound */
    IDGW_BE_ERR_POOL           /* no connection available within the wait time */
} idgw_backend_category_t;

#define IDGW_BE_ERRMSG_MAX 256

typedef struct idgw_backend_error {
    idgw_backend_category_t category;
    int http_status;               /* for IDGW_BE_ERR_HTTP_STATUS, else 0 */
    int attempts;                  /* how many times the request was sent/tried */
    char msg[IDGW_BE_ERRMSG_MAX];  /* detail for the log: never card data */
} idgw_backend_error_t;

/* "connect", "timeout", ...: stable, lower case. */
const char *idgw_backend_category_name(idgw_backend_category_t c);
/* Stable log id per category, e.g. "IDGW-BE-0003" for a timeout. */
const char *idgw_backend_category_logid(idgw_backend_category_t c);

/* ---- configuration ------------------------------------------------------------ */

typedef struct idgw_backend_url {
    int tls;                 /* https */
    const char *host;        /* without brackets for IPv6 */
    apr_port_t port;
    const char *path;        /* begins with '/' */
    const char *host_header; /* host[:port] as sent in Host: */
} idgw_backend_url_t;

/* One backend's configuration.  Every field starts UNSET (NULL or
 * IDGW_UNSET, idgw_conf.h); idgw_backend_conf_merge lets the child's set values win;
 * the getters below apply defaults. */
typedef struct idgw_backend_conf {
    const char *name;              /* "cremo", "felica", ...: for messages */
    const char *url_text;
    idgw_backend_url_t url;        /* valid when url_text is set */
    const char *ca_file;           /* PEM bundle that signs the backend's certificate */
    const char *cert_file;         /* client certificate (PEM) */
    const char *key_file;          /* its private key (PEM) */
    const char *tls_name;          /* name to verify instead of the URL's host */
    apr_interval_time_t connect_timeout;
    apr_interval_time_t io_timeout;
    apr_interval_time_t total_timeout;
    apr_interval_time_t idle_timeout;    /* keep-alive connections older are closed */
    apr_interval_time_t pool_wait;       /* wait for a free connection */
    apr_int64_t max_response;            /* body bytes */
    int pool_max;                        /* connections per child (hard max) */
    int pool_keep;                       /* idle connections kept per child */
    int retries;                         /* extra attempts for idempotent telegrams */
    int insecure;                        /* 1: a plain http:// URL is allowed (tests) */
} idgw_backend_conf_t;

#define IDGW_BE_DEFAULT_CONNECT_TIMEOUT apr_time_from_msec(2000)
#define IDGW_BE_DEFAULT_IO_TIMEOUT      apr_time_from_msec(5000)
#define IDGW_BE_DEFAULT_TOTAL_TIMEOUT   apr_time_from_msec(15000)
#define IDGW_BE_DEFAULT_IDLE_TIMEOUT    apr_time_from_sec(30)
#define IDGW_BE_DEFAULT_POOL_WAIT       apr_time_from_msec(2000)
#define IDGW_BE_DEFAULT_MAX_RESPONSE    (1024 * 1024)
#define IDGW_BE_DEFAULT_POOL_MAX        16
#define IDGW_BE_DEFAULT_POOL_KEEP       8
#define IDGW_BE_DEFAULT_RETRIES         1
#define IDGW_BE_MAX_RETRIES             5

/* All fields UNSET. */
void idgw_backend_conf_init(idgw_backend_conf_t *conf, const char *name);
/* out = base overridden by each field that add has set. */
void idgw_backend_conf_merge(idgw_backend_conf_t *out, const idgw_backend_conf_t *base,
                             const idgw_backend_conf_t *add);

/* The URL parser (durations, sizes and numbers are idgw_conf_parse.h's).
 * NULL on success or an error message allocated from p. */
const char *idgw_backend_parse_url(apr_pool_t *p, const char *value, idgw_backend_url_t *out);
/* Applies the URL to conf (url_text and url). */
const char *idgw_backend_conf_set_url(apr_pool_t *p, idgw_backend_conf_t *conf,
                                      const char *value);
/* One setting by its directive key (docs/directives.md (the backend client)):
 *   url ca cert key tls-name connect-timeout io-timeout total-timeout
 *   idle-timeout pool-wait max-response pool-max pool-keep retries insecure
 * ("insecure" takes "on"; idgw_backend_conf_set_args also takes it bare).
 * File paths are taken as given (the caller resolves them against the server
 * root).  NULL on success, else a message allocated from p. */
const char *idgw_backend_conf_set(apr_pool_t *p, idgw_backend_conf_t *conf, const char *key,
                                  const char *value);
/* "key=value key=value ..." (quotes allowed, as httpd splits arguments). */
const char *idgw_backend_conf_set_args(apr_pool_t *p, idgw_backend_conf_t *conf,
                                       const char *args);
/* Whole-configuration check for post_config: URL present, http only when
 * marked insecure (card data would cross in the clear), https needs a CA
 * file, certificate and key come together, files readable, pool_keep <= pool_max,
 * timeouts consistent.  NULL when usable. */
const char *idgw_backend_conf_check(apr_pool_t *p, const idgw_backend_conf_t *conf);

/* Getters with defaults applied. */
apr_interval_time_t idgw_backend_conf_connect_timeout(const idgw_backend_conf_t *c);
apr_interval_time_t idgw_backend_conf_io_timeout(const idgw_backend_conf_t *c);
apr_interval_time_t idgw_backend_conf_total_timeout(const idgw_backend_conf_t *c);
apr_interval_time_t idgw_backend_conf_idle_timeout(const idgw_backend_conf_t *c);
apr_interval_time_t idgw_backend_conf_pool_wait(const idgw_backend_conf_t *c);
apr_int64_t idgw_backend_conf_max_response(const idgw_backend_conf_t *c);
/* 1 when a plain http:// URL was allowed explicitly (the caller logs it at
 * every start: the client itself never logs). */
int idgw_backend_conf_insecure(const idgw_backend_conf_t *c);
int idgw_backend_conf_pool_max(const idgw_backend_conf_t *c);
int idgw_backend_conf_pool_keep(const idgw_backend_conf_t *c);
int idgw_backend_conf_retries(const idgw_backend_conf_t *c);

/* ---- the client --------------------------------------------------------------- */

typedef struct idgw_backend idgw_backend_t;

/* post_config (or a test): copy the configuration into p, build the TLS
 * context (certificates and keys loaded now).  Opens no socket.  NULL and
 * err filled on failure. */
idgw_backend_t *idgw_backend_create(apr_pool_t *p, const idgw_backend_conf_t *conf,
                                    idgw_backend_error_t *err);
/* child_init: create the keep-alive pool in the child's pool; the pool and
 * its connections are closed when pchild is cleared. */
int idgw_backend_child_init(idgw_backend_t *be, apr_pool_t *pchild, idgw_backend_error_t *err);

typedef struct idgw_backend_request {
    const char *method;           /* NULL: POST */
    const char *path;             /* NULL: the URL's path */
    const char *content_type;     /* NULL: none sent */
    const char *accept;           /* NULL: none sent */
    const char *correlation_id;   /* sent as X-Idgw-Correlation-Id */
    const char *body;
    apr_size_t body_len;
    int idempotent;               /* may be retried; never set for a write */
} idgw_backend_request_t;

typedef struct idgw_backend_response {
    int status;
    const char *content_type;     /* NULL when absent */
    apr_table_t *headers;
    char *body;                   /* NUL-terminated for convenience; body_len bytes */
    apr_size_t body_len;
} idgw_backend_response_t;

/* Send one request and read the response into p.  IDGW_BE_OK for a 2xx
 * response; on IDGW_BE_ERR_HTTP_STATUS resp holds the complete response
 * (backends answer error telegrams with 4xx/5xx too).  Returns err->category. */
idgw_backend_category_t idgw_backend_call(idgw_backend_t *be, apr_pool_t *p,
                                          const idgw_backend_request_t *req,
                                          idgw_backend_response_t *resp,
                                          idgw_backend_error_t *err);

/* Counters of this backend in this process, for tests and status pages. */
typedef struct idgw_backend_stats {
    unsigned long connects;       /* TCP connections opened */
    unsigned long tls_handshakes;
    unsigned long tls_resumed;    /* handshakes that resumed a session */
    unsigned long reuses;         /* requests sent on a kept-alive connection */
    unsigned long stale;          /* idle connections found closed and dropped */
    unsigned long invalidated;    /* connections dropped after an error */
    unsigned long retries;
} idgw_backend_stats_t;

void idgw_backend_get_stats(idgw_backend_t *be, idgw_backend_stats_t *out);
const idgw_backend_conf_t *idgw_backend_get_conf(const idgw_backend_t *be);

#endif
