/*
 * idgw_xml_error_http.c - send an XML error document as the response.
 *
 * Kept apart from idgw_xml_error.c so that unit tests of the body need no
 * httpd symbols.
 */
#include "idgw_xml_error.h"

#include "idgw_httpd.h"
#include <http_protocol.h>
#include <http_request.h>
#include <apr_strings.h>
#include <string.h>

#include "idgw_metrics.h"   /* IDGW_NOTE_ERROR, read by mod_idgw_status */

static int has_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    return apr_table_get(r->headers_in, "Transfer-Encoding") || (cl && strcmp(cl, "0") != 0);
}

/* Set in insert_filter, which httpd runs just before the handler: an error
 * answered without it (from translate_name, access or fixups) has none of
 * the output filters the configuration asks for. */
#define NOTE_FILTERS "idgw-filters-inserted"

static void mark_filters(request_rec *r)
{
    apr_table_setn(r->notes, NOTE_FILTERS, "1");
}

void idgw_xml_error_hooks(void)
{
    ap_hook_insert_filter(mark_filters, NULL, NULL, APR_HOOK_REALLY_FIRST);
}

/* An answer sent before the handler phase gets the filters httpd gives its
 * own error answers (ap_send_error_response does the same): mod_headers'
 * "Header always set" (HSTS, nosniff) then reaches the XML errors of the
 * session and access checks as it reaches every other answer. */
static void error_filters(request_rec *r)
{
    if (!apr_table_get(r->notes, NOTE_FILTERS))
        ap_run_insert_error_filter(r);
}

int idgw_xml_error_send_code(request_rec *r, int http_status, const char *code,
                             const char *message)
{
    const char *body = idgw_xml_error_body(r->pool, code, message);

    /* metrics: the code, for mod_idgw_status's counters and the access log */
    apr_table_set(r->notes, IDGW_NOTE_ERROR, code);

    /* the unread body must not become the next request; reading it away
     * could mean a GiB at the sender's choice, so the connection closes
     * instead, unless the body was read (and bounded) already */
    if (!apr_table_get(r->notes, IDGW_NOTE_BODY_READ) && has_body(r))
        r->connection->keepalive = AP_CONN_CLOSE;
    ap_discard_request_body(r);
    /* its headers go to err_headers_out, as they always have: hence
     * idgw_write_answer, which leaves the headers to its caller */
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (http_status == HTTP_SERVICE_UNAVAILABLE)
        apr_table_setn(r->err_headers_out, "Retry-After", "1");
    error_filters(r);
    idgw_write_answer(r, http_status, "application/xml; charset=UTF-8", body, strlen(body));
    return DONE;
}

int idgw_xml_error_send(request_rec *r, const idgw_error_def *e)
{
    return idgw_xml_error_send_code(r, e->http_status, e->code, e->message);
}
