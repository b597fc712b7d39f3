/* idgw_backend_http.c: the HTTP/1.1 codec of the backend client.  Sends one
 * request with Content-Length; reads one response with Content-Length or
 * chunked framing (a close-delimited body is refused: a truncated answer
 * would read as a whole one), bounded line, header and body sizes.  Strict
 * where leniency would let a response be read two ways: Content-Length and
 * Transfer-Encoding together, conflicting Content-Lengths, an unknown
 * transfer coding, obsolete line folding are all protocol errors. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "idgw_backend_int.h"

#define MAX_INTERIM 5      /* 1xx responses skipped before the final one */
#define MAX_FIELD_VALUE 256

static int token_char(int ch)
{
    return ch > 0x20 && ch < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

/* A header value we generate: visible ASCII and spaces, bounded. */
static int safe_value(const char *v)
{
    size_t n = 0;

    for (; *v; v++, n++)
        if ((unsigned char)*v < 0x20 || (unsigned char)*v >= 0x7f || n >= MAX_FIELD_VALUE)
            return 0;
    return 1;
}

static int safe_path(const char *v)
{
    if (*v != '/')
        return 0;
    for (; *v; v++)
        if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f || *v == '#')
            return 0;
    return 1;
}

idgw_backend_category_t idgw_be_http_send(idgw_backend_conn_t *c, apr_pool_t *p,
                                          const idgw_backend_request_t *req,
                                          idgw_backend_error_t *err)
{
    const idgw_backend_conf_t *conf = &c->be->conf;
    const char *method = req->method ? req->method : "POST";
    const char *path = req->path ? req->path : conf->url.path;
    char *head;
    char *wire;
    size_t hlen;

    for (const char *m = method; *m; m++)
        if (!token_char((unsigned char)*m))
            return idgw_be_fail(err, IDGW_BE_ERR_CONFIG, "%s: bad request method", conf->name);
    if (!*method || !safe_path(path)
        || (req->content_type && !safe_value(req->content_type))
        || (req->accept && !safe_value(req->accept))
        || (req->correlation_id && !safe_value(req->correlation_id))
        || (req->body_len > 0 && !req->body))
        return idgw_be_fail(err, IDGW_BE_ERR_CONFIG, "%s: request field not sendable", conf->name);
    head = apr_pstrcat(p, method, " ", path, " HTTP/1.1\r\nHost: ", conf->url.host_header,
                       "\r\nUser-Agent: idgw-backend-client/1\r\n",
                       req->content_type ? "Content-Type: " : "",
                       req->content_type ? req->content_type : "",
                       req->content_type ? "\r\n" : "",
                       req->accept ? "Accept: " : "", req->accept ? req->accept : "",
                       req->accept ? "\r\n" : "",
                       req->correlation_id ? "X-Idgw-Correlation-Id: " : "",
                       req->correlation_id ? req->correlation_id : "",
                       req->correlation_id ? "\r\n" : "",
                       "Content-Length: ",
                       apr_psprintf(p, "%" APR_SIZE_T_FMT, req->body_len),
                       "\r\n\r\n", NULL);
    hlen = strlen(head);
    /* One write for head and body: one segment for small telegrams. */
    wire = apr_palloc(p, hlen + req->body_len);
    memcpy(wire, head, hlen);
    if (req->body_len)
        memcpy(wire + hlen, req->body, req->body_len);
    return idgw_be_conn_write(c, wire, hlen + req->body_len, err);
}

/* ---- response reading ---- */

/* Next line without its CRLF (a bare LF is accepted) into line[cap]. */
static idgw_backend_category_t read_line(idgw_backend_conn_t *c, char *line, size_t cap,
                                         int *eof_at_start, idgw_backend_error_t *err)
{
    const char *name = c->be->conf.name;

    if (eof_at_start)
        *eof_at_start = 0;
    for (;;) {
        char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
        int eof;
        idgw_backend_category_t cat;

        if (nl) {
            size_t n = (size_t)(nl - (c->buf + c->pos));
            if (n > 0 && nl[-1] == '\r')
                n--;
            if (n >= cap)
                return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: line too long", name);
            memcpy(line, c->buf + c->pos, n);
            line[n] = '\0';
            if (memchr(line, '\0', n) || memchr(line, '\r', n))
                return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: control byte in line", name);
            c->pos = (apr_size_t)(nl + 1 - c->buf);
            return IDGW_BE_OK;
        }
        if (c->len - c->pos >= cap)
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: line too long", name);
        cat = idgw_be_conn_fill(c, &eof, err);
        if (cat != IDGW_BE_OK)
            return cat;
        if (eof) {
            if (eof_at_start && c->pos == c->len)
                *eof_at_start = 1;
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: connection closed mid-response",
                                name);
        }
    }
}

/* Exactly n body bytes into dst. */
static idgw_backend_category_t read_exact(idgw_backend_conn_t *c, char *dst, apr_size_t n,
                                          idgw_backend_error_t *err)
{
    while (n > 0) {
        apr_size_t have = c->len - c->pos;
        int eof;
        idgw_backend_category_t cat;

        if (have > 0) {
            apr_size_t take = have < n ? have : n;
            memcpy(dst, c->buf + c->pos, take);
            c->pos += take;
            dst += take;
            n -= take;
            continue;
        }
        cat = idgw_be_conn_fill(c, &eof, err);
        if (cat != IDGW_BE_OK)
            return cat;
        if (eof)
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: connection closed mid-body",
                                c->be->conf.name);
    }
    return IDGW_BE_OK;
}

typedef struct body_buf {
    char *data;
    apr_size_t len, cap;
    apr_size_t max;
} body_buf_t;

static int body_reserve(apr_pool_t *p, body_buf_t *b, apr_size_t more)
{
    apr_size_t need = b->len + more + 1;
    char *nd;

    if (b->len + more > b->max)
        return 0;
    if (need <= b->cap)
        return 1;
    b->cap = b->cap ? b->cap : 4096;
    while (b->cap < need)
        b->cap *= 2;
    nd = apr_palloc(p, b->cap);
    if (b->len)
        memcpy(nd, b->data, b->len);
    b->data = nd;
    return 1;
}

typedef struct framing {
    int chunked;
    apr_int64_t content_length;    /* -1: absent */
    int close;
    int http10;
} framing_t;

static idgw_backend_category_t parse_status(idgw_backend_conn_t *c, const char *line,
                                            int *status, framing_t *f, idgw_backend_error_t *err)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') || line[8] != ' '
        || !apr_isdigit(line[9]) || !apr_isdigit(line[10]) || !apr_isdigit(line[11])
        || (line[12] != ' ' && line[12] != '\0'))
        return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: bad status line", c->be->conf.name);
    f->http10 = line[7] == '0';
    *status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    /* RFC 9110 15: status codes are 100..599; anything else is not HTTP */
    if (*status < 100 || *status > 599)
        return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: bad status code", c->be->conf.name);
    return IDGW_BE_OK;
}

static int parse_length(const char *v, apr_int64_t *out)
{
    apr_int64_t n = 0;
    int digits = 0;

    for (; *v; v++, digits++) {
        if (!apr_isdigit(*v) || digits >= 15)
            return 0;
        n = n * 10 + (*v - '0');
    }
    if (!digits)
        return 0;
    *out = n;
    return 1;
}

/* Whether a comma-separated header value lists token (case-insensitive). */
static int has_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);

    while (*value) {
        const char *end;
        size_t n;

        while (*value == ' ' || *value == '\t' || *value == ',')
            value++;
        end = value;
        while (*end && *end != ',')
            end++;
        n = (size_t)(end - value);
        while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
            n--;
        if (n == tlen && strncasecmp(value, token, n) == 0)
            return 1;
        value = end;
    }
    return 0;
}

static idgw_backend_category_t apply_header(idgw_backend_conn_t *c, const char *name,
                                            const char *value, framing_t *f,
                                            idgw_backend_error_t *err)
{
    const char *be = c->be->conf.name;

    if (strcasecmp(name, "Content-Length") == 0) {
        apr_int64_t n;
        if (!parse_length(value, &n) || (f->content_length >= 0 && f->content_length != n))
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: bad Content-Length", be);
        f->content_length = n;
    }
    else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        if (strcasecmp(value, "chunked") != 0 || f->chunked)
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: unsupported transfer coding", be);
        f->chunked = 1;
    }
    else if (strcasecmp(name, "Connection") == 0) {
        if (has_token(value, "close"))
            f->close = 1;
    }
    return IDGW_BE_OK;
}

/* Header lines up to the empty line: into headers, framing into f. */
static idgw_backend_category_t read_headers(idgw_backend_conn_t *c, apr_pool_t *p,
                                            apr_table_t *headers, framing_t *f,
                                            idgw_backend_error_t *err)
{
    char line[IDGW_BE_MAX_LINE];
    size_t total = 0;
    int count = 0;
    const char *be = c->be->conf.name;

    for (;;) {
        idgw_backend_category_t cat = read_line(c, line, sizeof(line), NULL, err);
        char *colon, *v, *end;

        if (cat != IDGW_BE_OK)
            return cat;
        if (line[0] == '\0')
            return IDGW_BE_OK;
        total += strlen(line);
        if (++count > IDGW_BE_MAX_HEADERS || total > IDGW_BE_MAX_HEADER_BYTES)
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: response header too large", be);
        colon = strchr(line, ':');
        if (!colon || colon == line)
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: malformed header line", be);
        for (char *q = line; q < colon; q++)
            if (!token_char((unsigned char)*q))
                return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: malformed header name", be);
        *colon = '\0';
        v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        end = v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        cat = apply_header(c, line, v, f, err);
        if (cat != IDGW_BE_OK)
            return cat;
        apr_table_add(headers, line, v);
    }
}

static idgw_backend_category_t read_chunked(idgw_backend_conn_t *c, apr_pool_t *p,
                                            body_buf_t *b, idgw_backend_error_t *err)
{
    char line[IDGW_BE_MAX_LINE];
    const char *be = c->be->conf.name;
    int trailers = 0;

    for (;;) {
        apr_size_t size = 0;
        int digits = 0;
        idgw_backend_category_t cat = read_line(c, line, sizeof(line), NULL, err);
        const char *q = line;

        if (cat != IDGW_BE_OK)
            return cat;
        for (; apr_isxdigit(*q); q++, digits++) {
            if (digits >= 8)
                return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: chunk size too long", be);
            size = size * 16 + (apr_size_t)(apr_isdigit(*q) ? *q - '0' : (apr_tolower(*q) - 'a' + 10));
        }
        while (*q == ' ' || *q == '\t')
            q++;
        if (!digits || (*q != '\0' && *q != ';'))
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: bad chunk size line", be);
        if (size == 0)
            break;
        if (!body_reserve(p, b, size))
            return idgw_be_fail(err, IDGW_BE_ERR_OVERSIZE, "%s: chunked response over %"
                                APR_SIZE_T_FMT " bytes", be, b->max);
        cat = read_exact(c, b->data + b->len, size, err);
        if (cat != IDGW_BE_OK)
            return cat;
        b->len += size;
        cat = read_line(c, line, sizeof(line), NULL, err);
        if (cat != IDGW_BE_OK)
            return cat;
        if (line[0] != '\0')
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: chunk not followed by CRLF", be);
    }
    /* Trailer section: read and ignore, bounded. */
    for (;;) {
        idgw_backend_category_t cat = read_line(c, line, sizeof(line), NULL, err);
        if (cat != IDGW_BE_OK)
            return cat;
        if (line[0] == '\0')
            return IDGW_BE_OK;
        if (++trailers > IDGW_BE_MAX_HEADERS)
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: too many trailers", be);
    }
}

static idgw_backend_category_t read_body(idgw_backend_conn_t *c, apr_pool_t *p,
                                         const framing_t *f, body_buf_t *b,
                                         idgw_backend_error_t *err)
{
    const char *be = c->be->conf.name;
    idgw_backend_category_t cat;

    if (f->chunked && f->content_length >= 0)
        return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL,
                            "%s: both Content-Length and chunked coding", be);
    if (f->chunked)
        return read_chunked(c, p, b, err);
    if (f->content_length >= 0) {
        if ((apr_uint64_t)f->content_length > b->max)
            return idgw_be_fail(err, IDGW_BE_ERR_OVERSIZE, "%s: Content-Length %" APR_INT64_T_FMT
                                " over the bound %" APR_SIZE_T_FMT, be, f->content_length, b->max);
        if (!body_reserve(p, b, (apr_size_t)f->content_length))
            return idgw_be_fail(err, IDGW_BE_ERR_OVERSIZE, "%s: response too large", be);
        cat = read_exact(c, b->data, (apr_size_t)f->content_length, err);
        if (cat == IDGW_BE_OK)
            b->len = (apr_size_t)f->content_length;
        return cat;
    }
    /* A close-delimited body cannot be told from one cut short (a reset, a
     * forged FIN): a telegram answer states its length or is chunked. */
    return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: answer without Content-Length or "
                        "chunked framing", be);
}

static int no_body(const char *method, int status)
{
    return strcmp(method, "HEAD") == 0 || status == 204 || status == 304
           || (status >= 100 && status < 200);
}

idgw_backend_category_t idgw_be_http_receive(idgw_backend_conn_t *c, apr_pool_t *p,
                                             const char *method,
                                             idgw_backend_response_t *resp, int *reusable,
                                             idgw_backend_error_t *err)
{
    char line[IDGW_BE_MAX_LINE];
    framing_t f;
    body_buf_t b = {NULL, 0, 0, (apr_size_t)idgw_backend_conf_max_response(&c->be->conf)};
    idgw_backend_category_t cat;
    int interim = 0;

    *reusable = 0;
    for (;;) {
        memset(&f, 0, sizeof(f));
        f.content_length = -1;
        resp->headers = apr_table_make(p, 8);
        cat = read_line(c, line, sizeof(line), NULL, err);
        if (cat == IDGW_BE_OK)
            cat = parse_status(c, line, &resp->status, &f, err);
        if (cat == IDGW_BE_OK)
            cat = read_headers(c, p, resp->headers, &f, err);
        if (cat != IDGW_BE_OK)
            return cat;
        if (resp->status >= 200)
            break;
        if (++interim > MAX_INTERIM)
            return idgw_be_fail(err, IDGW_BE_ERR_PROTOCOL, "%s: too many interim responses",
                                c->be->conf.name);
    }
    if (!no_body(method, resp->status)) {
        cat = read_body(c, p, &f, &b, err);
        if (cat != IDGW_BE_OK)
            return cat;
    }
    if (!b.data) {
        b.data = apr_palloc(p, 1);
        b.len = 0;
    }
    b.data[b.len] = '\0';
    resp->body = b.data;
    resp->body_len = b.len;
    resp->content_type = apr_table_get(resp->headers, "Content-Type");
    /* Reusable only when framed, persistent and nothing extra was sent. */
    *reusable = !f.close && !f.http10 && (f.chunked || f.content_length >= 0
                                          || no_body(method, resp->status))
                && c->pos == c->len;
    return IDGW_BE_OK;
}
