/*
 * idgw_session_http.c - mod_idgw_session's own answers: session open, status
 * and close (until mod_idgw_convert answers them), and stored answers
 * replayed to retransmissions.
 */
#include "idgw_session_cfg.h"

#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>
#include <string.h>

APLOG_USE_MODULE(idgw_session);

#define XML_TYPE "application/xml; charset=UTF-8"

static const char *state_name(apr_pool_t *p, const idgw_state *st)
{
    char *buf = apr_palloc(p, IDGW_STATE_NAME_MAX);

    return idgw_state_format(st, buf, IDGW_STATE_NAME_MAX) ? buf : "unknown";
}

static const char *session_xml(request_rec *r, const idgw_session_info *in)
{
    return apr_psprintf(r->pool,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<session>%s%s%s"
                        "<state>%s</state><seq>%" APR_INT64_T_FMT "</seq><expires>%" APR_TIME_T_FMT
                        "</expires></session>\n",
                        in->token ? "<token>" : "", in->token ? in->token : "",
                        in->token ? "</token>" : "", state_name(r->pool, &in->to), in->seq,
                        apr_time_sec(in->deadline));
}

static int answer_close(request_rec *r, idgw_session_req *req)
{
    const char *body = session_xml(r, &req->info);
    apr_size_t len = strlen(body);
    APR_OPTIONAL_FN_TYPE(idgw_session_commit) *commit =
        APR_RETRIEVE_OPTIONAL_FN(idgw_session_commit);

    if (commit(r, IDGW_COMMIT_OK, HTTP_OK, XML_TYPE, body, len) != APR_SUCCESS) {
        /* the close did not reach Redis: never answer it as done */
        const idgw_error_def *e = idgw_error_find(apr_table_get(r->notes, IDGW_NOTE_STEP_LOST));

        return idgw_xml_error_send(r, e ? e : &IDGW_E_SRV_STORE);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "IDGW0124: session closed sid=%s",
                  req->info.sid_log);
    return idgw_send_answer(r, HTTP_OK, XML_TYPE, body, len);
}

int idgw_session_handler(request_rec *r)
{
    idgw_session_req *req;
    const char *body;

    if (!r->handler || strcmp(r->handler, IDGW_SESSION_HANDLER) != 0)
        return DECLINED;
    req = idgw_session_req_get(r);
    if (!req) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0140: handler %s used where "
                      "IdgwSession is not On", IDGW_SESSION_HANDLER);
        return idgw_xml_error_send(r, &IDGW_E_SRV_INTERNAL);
    }
    if (req->replay) {
        apr_table_setn(r->headers_out, IDGW_HEADER_REPLAY, "1");
        return idgw_send_answer(r, req->replay_status, req->replay_type, req->replay_body,
                                req->replay_len);
    }
    switch (req->info.op) {
    case IDGW_OP_OPEN:
    case IDGW_OP_STATUS:
        body = session_xml(r, &req->info);
        return idgw_send_answer(r, HTTP_OK, XML_TYPE, body, strlen(body));
    case IDGW_OP_CLOSE:
        return answer_close(r, req);
    default:
        /* operations are answered by mod_idgw_convert */
        return idgw_xml_error_send(r, &IDGW_E_REQ_PATH);
    }
}
