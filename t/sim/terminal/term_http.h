/* term_http.h: the terminal simulator's HTTPS client.  One TLS connection
 * per simulated phone, kept alive between requests; the gateway's
 * certificate is pinned by the SHA-256 of its SubjectPublicKeyInfo (as the
 * app does against DNS spoofing), so no CA and no host name are trusted. */
#ifndef TERM_HTTP_H
#define TERM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define TERM_PIN_LEN 32
#define TERM_MAX_BODY (1024 * 1024)   /* two cards with the largest logos fit */

typedef struct term_http term_http_t;

typedef struct term_response {
    int status;
    char content_type[128];
    int replay;                    /* X-Idgw-Replay: 1 */
    int retry_after;               /* Retry-After in seconds, -1 when absent */
    char *body;                    /* NUL-terminated, malloc'ed */
    size_t body_len;
    char *raw_headers;             /* the whole header block, for the secret scans */
} term_response_t;

/* "sha256//BASE64" (curl's --pinnedpubkey form) -> 32 bytes.  0 on success. */
int term_pin_parse(const char *text, uint8_t pin[TERM_PIN_LEN]);

/* host, port: the gateway; pin: its SPKI SHA-256.  NULL (and a message on
 * stderr) when the arguments are unusable. */
term_http_t *term_http_new(const char *host, const char *port, const uint8_t pin[TERM_PIN_LEN]);
void term_http_free(term_http_t *h);
/* Connect from this local address (a numeric IPv4 or IPv6 address; NULL:
 * the kernel's choice).  The slow-clients test puts its honest phone on
 * 127.0.0.2 while the attacker holds 127.0.0.1's share of the gateway.
 * 0 on success. */
int term_http_set_source(term_http_t *h, const char *addr);

/* One request; headers: "Name: value\r\n" lines (may be NULL).  Reconnects
 * once when a kept-alive connection was closed.  0 on success (any HTTP
 * status), -1 on a connection, TLS, pin or protocol failure (message in
 * term_http_error). */
int term_http_request(term_http_t *h, const char *method, const char *path, const char *headers,
                      const char *body, size_t body_len, term_response_t *res);
const char *term_http_error(const term_http_t *h);
void term_response_free(term_response_t *res);

#endif
