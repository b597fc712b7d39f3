/* fuzz_backend_http.c: libFuzzer harness for the backend client's HTTP/1.1
 * response reader (idgw_backend_http.c: status line, headers, Content-Length,
 * chunked and close-delimited bodies, interim 1xx answers, size limits).
 * Built and run by scripts/idgw-fuzz; seeds in t/fuzz/corpus/backend_http/.
 *
 * The reader takes its bytes from idgw_be_conn_fill (idgw_backend_conn.c,
 * sockets and TLS); this harness provides that function over the fuzz input
 * instead, handing out the bytes in slices whose size the input chooses, so
 * every split of a line or chunk across reads is reachable.
 * Input: byte 0 = method (GET, POST, HEAD) and slice size; byte 1 = maximum
 * response body (KiB, 0 = 1 byte); the rest is what the "backend" sends.
 * Invariants: never a crash or leak; an accepted response has a status
 * 200..599, a NUL-terminated body within the limit, and the reader never
 * reads past what was sent.
 */
// fuzz-sources: modules/backend/idgw_backend_http.c modules/backend/idgw_backend_error.c
// fuzz-sources: modules/backend/idgw_backend_config.c modules/backend/idgw_backend_url.c
// fuzz-pkgs: apr-1 apr-util-1
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>

#include "idgw_backend_int.h"

static apr_pool_t *root;
static const uint8_t *feed;
static size_t feed_len, feed_pos, slice;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&root, NULL);
    return 0;
}

/* The connection's byte source, as idgw_backend_conn.c defines it, over the
 * fuzz input: same buffer compaction, same "buffer full" refusal. */
idgw_backend_category_t idgw_be_conn_fill(idgw_backend_conn_t *c, int *eof,
                                          idgw_backend_error_t *err)
{
    size_t n;

    *eof = 0;
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->len >= sizeof(c->buf))
        return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: read buffer full", c->be->conf.name);
    if (feed_pos == feed_len) {
        *eof = 1;
        return IDGW_BE_OK;
    }
    n = feed_len - feed_pos;
    if (n > slice)
        n = slice;
    if (n > sizeof(c->buf) - c->len)
        n = sizeof(c->buf) - c->len;
    memcpy(c->buf + c->len, feed + feed_pos, n);
    feed_pos += n;
    c->len += n;
    return IDGW_BE_OK;
}

/* The request side is not under test; the reader's file never writes. */
idgw_backend_category_t idgw_be_conn_write(idgw_backend_conn_t *c, const char *data,
                                           apr_size_t len, idgw_backend_error_t *err)
{
    (void)c;
    (void)data;
    (void)len;
    (void)err;
    return IDGW_BE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = { "GET", "POST", "HEAD" };
    static idgw_backend_t be;
    static idgw_backend_conn_t conn;
    apr_pool_t *p;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    const char *method;
    apr_int64_t max;
    int reusable;

    if (size < 2)
        return 0;
    method = methods[data[0] % 3];
    slice = 1 + (size_t)(data[0] / 3) * 97;     /* 1 .. ~8 KiB */
    max = data[1] ? (apr_int64_t)data[1] * 1024 : 1;
    feed = data + 2;
    feed_len = size - 2;
    feed_pos = 0;

    apr_pool_create(&p, root);
    memset(&be, 0, sizeof(be));
    idgw_backend_conf_init(&be.conf, "fuzz");
    be.conf.max_response = max;
    memset(&conn, 0, sizeof(conn));
    conn.be = &be;
    conn.pool = p;
    memset(&resp, 0, sizeof(resp));
    if (idgw_be_http_receive(&conn, p, method, &resp, &reusable, &err) == IDGW_BE_OK) {
        if (resp.status < 200 || resp.status > 599 || !resp.body || !resp.headers)
            abort();
        if (resp.body_len > (apr_size_t)max || resp.body[resp.body_len] != '\0')
            abort();
        if (conn.pos > conn.len || conn.len > sizeof(conn.buf))
            abort();
    }
    apr_pool_destroy(p);
    return 0;
}
