/*
 * idgw_session_request.c - what a terminal message asks for: operation and
 * step from the URL, binding, token and sequence headers, the body (read
 * here, bounded however it arrives, kept for the handler, wiped with the
 * request) and its digest.  Malformed messages
 * are refused before Redis is asked anything.
 */
#include "idgw_session_cfg.h"

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <string.h>

APLOG_USE_MODULE(idgw_session);

/* ".../<a>/<b>": the operation and step this request asks for, and so the
 * mode of the session check. */
static int parse_path(request_rec *r, idgw_session_request *rq)
{
    if (!idgw_op_step_from_path(r->parsed_uri.path ? r->parsed_uri.path : r->uri,
                                &rq->op, &rq->step))
        return 0;
    rq->mode = rq->op == IDGW_OP_OPEN ? IDGW_MODE_OPEN
             : rq->op == IDGW_OP_STATUS ? IDGW_MODE_STATUS : IDGW_MODE_STEP;
    return 1;
}

static int parse_seq(const char *s, apr_int64_t *out)
{
    apr_int64_t v = 0;
    size_t i;

    if (!s || !*s || *s == '0' || strlen(s) > 9)
        return 0;
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* httpd's own answer to broken chunks carries the XML (ap_custom_response)
 * but says text/html: this filter, added to that answer only, says XML. */
#define NOTE_CHUNKED "idgw-body-chunked"
#define XML_ERROR_TYPE_FILTER "IDGW_XML_ERROR_TYPE"

static apr_status_t xml_error_type(ap_filter_t *f, apr_bucket_brigade *bb)
{
    ap_set_content_type(f->r, "application/xml; charset=UTF-8");
    apr_table_setn(f->r->headers_out, "Cache-Control", "no-store");
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

static void insert_error_filter(request_rec *r)
{
    if (r->status == HTTP_BAD_REQUEST && apr_table_get(r->notes, NOTE_CHUNKED))
        ap_add_output_filter(XML_ERROR_TYPE_FILTER, NULL, r, r->connection);
}

void idgw_session_body_hooks(void)
{
    ap_register_output_filter(XML_ERROR_TYPE_FILTER, xml_error_type, NULL,
                              AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
}

/* What became of reading the body. */
typedef enum {
    BODY_OK,
    BODY_TOO_LARGE,     /* announced or counted past the limit */
    BODY_TIMEOUT,       /* stopped coming (mod_reqtimeout, Timeout) or the client went */
    BODY_MALFORMED      /* Content-Length or chunk framing httpd refused */
} body_status;

/* The raw body may hold a password: its buffer is wiped with the request
 * pool, and so is what the input filters handed over for it. */
static void wipe_bucket(apr_bucket *b, const char *data, apr_size_t len)
{
    if (APR_BUCKET_IS_HEAP(b) && len)
        OPENSSL_cleanse((void *)data, len);
}

/*
 * Read the whole body, at most max bytes, however it arrives (Content-Length
 * or chunked): an announced length over max is refused before a byte is
 * read, a chunked one once max is passed.  On any failure the connection is
 * marked for closing: the rest of the body is never read (a body is not
 * drained to keep a connection for its sender), and httpd's lingering close
 * still lets the answer reach the client.
 */
static body_status read_body(request_rec *r, apr_size_t max, const char **body,
                             apr_size_t *len, apr_status_t *why)
{
    const char *te = apr_table_get(r->headers_in, "Transfer-Encoding");
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_bucket_brigade *bb;
    apr_off_t announced = 0;
    apr_size_t used = 0;
    char *buf;
    int eos = 0;

    *body = "";
    *len = 0;
    *why = APR_SUCCESS;
    if (!te && cl) {
        if (!ap_parse_strict_length(&announced, cl))
            goto malformed;
        if (announced > (apr_off_t)max)
            goto too_large;
    }
    if (!te && announced == 0) {
        apr_table_setn(r->notes, IDGW_NOTE_BODY_READ, "1");
        return BODY_OK;
    }
    if (te) {
        /* broken chunks make httpd's HTTP filter answer by itself, before
         * this reader hears of it: let that answer be the XML one (it stays
         * set for the request, where nothing else answers a bare 400) */
        ap_custom_response(r, HTTP_BAD_REQUEST, idgw_xml_error_body(r->pool,
                           IDGW_E_REQ_BODY_FRAMING.code, IDGW_E_REQ_BODY_FRAMING.message));
        apr_table_setn(r->notes, NOTE_CHUNKED, "1");
    }
    buf = apr_palloc(r->pool, max + 1);
    idgw_vault_wipe_on_cleanup(r->pool, buf, max + 1);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!eos) {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                                         APR_BLOCK_READ, HUGE_STRING_LEN);

        if (rv != APR_SUCCESS) {
            apr_brigade_cleanup(bb);
            *why = rv;
            /* AP_FILTER_ERROR and APR_ENOSPC: httpd's own limits
             * (LimitRequestBody) or framing; APR_TIMEUP, APR_INCOMPLETE (the
             * HTTP filter's word for a timeout), APR_ECONNABORTED, APR_EOF: the
             * body stopped coming */
            if (rv == APR_ENOSPC)
                goto too_large;
            if (APR_STATUS_IS_TIMEUP(rv) || rv == APR_INCOMPLETE || rv == APR_ECONNABORTED
                || APR_STATUS_IS_EOF(rv) || APR_STATUS_IS_ECONNRESET(rv))
                goto timeout;
            goto malformed;
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t n;

            if (APR_BUCKET_IS_EOS(b)) {
                eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b))
                continue;
            if ((rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ)) != APR_SUCCESS) {
                apr_brigade_cleanup(bb);
                *why = rv;
                goto timeout;
            }
            if (n > max - used) {
                wipe_bucket(b, data, n);
                apr_brigade_cleanup(bb);
                goto too_large;
            }
            memcpy(buf + used, data, n);
            wipe_bucket(b, data, n);
            used += n;
        }
        apr_brigade_cleanup(bb);
    }
    buf[used] = '\0';
    *body = buf;
    *len = used;
    apr_table_setn(r->notes, IDGW_NOTE_BODY_READ, "1");
    return BODY_OK;

too_large:
    r->connection->keepalive = AP_CONN_CLOSE;
    return BODY_TOO_LARGE;
timeout:
    r->connection->keepalive = AP_CONN_CLOSE;
    return BODY_TIMEOUT;
malformed:
    r->connection->keepalive = AP_CONN_CLOSE;
    return BODY_MALFORMED;
}

static int refuse(request_rec *r, const idgw_error_def *e, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "IDGW0127: %s: %s", e->code, why);
    return idgw_xml_error_send(r, e);
}

/* POST; session/status also GET (and so HEAD).  Anything else, TRACE
 * among them, gets the XML 405 and the Allow header. */
static int refuse_method(request_rec *r, const idgw_session_request *rq)
{
    int status = rq->mode == IDGW_MODE_STATUS;

    if (r->method_number == M_POST || (status && r->method_number == M_GET))
        return OK;
    apr_table_setn(r->err_headers_out, "Allow", status ? "GET, POST" : "POST");
    return refuse(r, &IDGW_E_REQ_METHOD, r->method);
}

int idgw_session_check_method(request_rec *r)
{
    idgw_session_request rq;

    memset(&rq, 0, sizeof(rq));
    /* an unknown path takes POST only; the session check answers its 404 */
    if (!parse_path(r, &rq))
        rq.mode = IDGW_MODE_STEP;
    return refuse_method(r, &rq);
}

/* The body broke off or was malformed: what httpd said, for the log. */
static int refuse_body(request_rec *r, const idgw_error_def *e, apr_status_t why,
                       const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, why, r, "IDGW0127: %s: %s", e->code, what);
    return idgw_xml_error_send(r, e);
}

int idgw_session_parse_request(request_rec *r, idgw_session_request *rq,
                               idgw_session_req *req, const char **token)
{
    apr_status_t why;
    const char *tid = apr_table_get(r->headers_in, IDGW_HEADER_TERMINAL);
    const char *idm = apr_table_get(r->headers_in, IDGW_HEADER_IDM);
    char *idm_norm = apr_palloc(r->pool, IDGW_IDM_HEX + 1);
    int rc;

    if (!parse_path(r, rq))
        return refuse(r, &IDGW_E_REQ_PATH, "no such operation/step");
    if ((rc = refuse_method(r, rq)) != OK)
        return rc;
    if (!tid || !idgw_terminal_id_valid(tid) || !idm || !idgw_idm_normalise(idm, idm_norm))
        return refuse(r, &IDGW_E_REQ_BINDING, "terminal id or IDm header");
    rq->terminal_id = tid;
    rq->idm = idm_norm;
    rq->client_addr = r->useragent_ip;
    *token = NULL;
    if (rq->mode != IDGW_MODE_OPEN) {
        *token = apr_table_get(r->headers_in, IDGW_HEADER_TOKEN);
        if (!*token || !idgw_token_valid(*token))
            return refuse(r, &IDGW_E_REQ_TOKEN, "token header");
    }
    if (rq->mode == IDGW_MODE_STEP
        && !parse_seq(apr_table_get(r->headers_in, IDGW_HEADER_SEQ), &rq->seq))
        return refuse(r, &IDGW_E_REQ_SEQ, "sequence header");
    switch (read_body(r, (apr_size_t)idgw_g.srv->max_body, &req->body, &req->body_len, &why)) {
    case BODY_TOO_LARGE:
        return refuse(r, &IDGW_E_REQ_BODY, "body larger than IdgwSessionMaxBody");
    case BODY_TIMEOUT:
        return refuse_body(r, &IDGW_E_REQ_BODY_TIMEOUT, why, "body did not arrive whole");
    case BODY_MALFORMED:
        return refuse_body(r, &IDGW_E_REQ_BODY_FRAMING, why, "body length or chunks malformed");
    case BODY_OK:
        break;
    }
    idgw_message_digest(idgw_op_name(rq->op), idgw_step_name(rq->step), req->body,
                        req->body_len, rq->digest);
    return OK;
}

