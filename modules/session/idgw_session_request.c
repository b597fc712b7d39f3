/*
 * idgw_session_request.c - what a terminal message asks for: operation and
 * step from the URL, binding, token and sequence headers, the body (read
 * here, bounded, kept for the handler) and its digest.  Malformed messages
 * are refused before Redis is asked anything.
 */
#include "idgw_session_cfg.h"

#include <apr_strings.h>
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

static int read_body(request_rec *r, long max, const char **body, apr_size_t *len)
{
    char *buf;
    apr_size_t used = 0;
    int rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);

    *body = "";
    *len = 0;
    if (rc != OK)
        return rc;
    if (!ap_should_client_block(r))
        return OK;
    if (r->remaining > max)
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    buf = apr_palloc(r->pool, (apr_size_t)max + 1);
    for (;;) {
        long n = ap_get_client_block(r, buf + used, (apr_size_t)max + 1 - used);

        if (n < 0)
            return HTTP_BAD_REQUEST;
        if (n == 0)
            break;
        used += (apr_size_t)n;
        if (used > (apr_size_t)max)
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    buf[used] = '\0';
    *body = buf;
    *len = used;
    return OK;
}

static int refuse(request_rec *r, const idgw_error_def *e, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "IDGW0127: %s: %s", e->code, why);
    return idgw_xml_error_send(r, e);
}

int idgw_session_parse_request(request_rec *r, idgw_session_request *rq,
                               idgw_session_req *req, const char **token)
{
    const char *tid = apr_table_get(r->headers_in, IDGW_HEADER_TERMINAL);
    const char *idm = apr_table_get(r->headers_in, IDGW_HEADER_IDM);
    char *idm_norm = apr_palloc(r->pool, IDGW_IDM_HEX + 1);
    int rc;

    if (!parse_path(r, rq))
        return refuse(r, &IDGW_E_REQ_PATH, "no such operation/step");
    if (r->method_number != M_POST && !(rq->mode == IDGW_MODE_STATUS && r->method_number == M_GET)) {
        apr_table_setn(r->err_headers_out, "Allow", rq->mode == IDGW_MODE_STATUS ? "GET, POST" : "POST");
        return refuse(r, &IDGW_E_REQ_METHOD, r->method);
    }
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
    rc = read_body(r, idgw_g.srv->max_body, &req->body, &req->body_len);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return refuse(r, &IDGW_E_REQ_BODY, "body");
    if (rc != OK)
        return rc;
    idgw_message_digest(idgw_op_name(rq->op), idgw_step_name(rq->step), req->body,
                        req->body_len, rq->digest);
    return OK;
}

