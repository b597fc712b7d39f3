/*
 * idgw_httpd.c - the one way the idgw modules write an answer body
 * (idgw_httpd.h).  A file of its own, like idgw_xml_error_http.c: it needs
 * httpd's symbols, which the unit tests linking the rest of common/ lack.
 */
#include "idgw_httpd.h"

#include <http_protocol.h>

void idgw_write_answer(request_rec *r, int status, const char *content_type,
                       const void *body, apr_size_t len)
{
    r->status = status;
    ap_set_content_type(r, content_type);
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only && len)
        ap_rwrite(body, (int)len, r);
}

int idgw_send_answer(request_rec *r, int status, const char *content_type,
                     const void *body, apr_size_t len)
{
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    idgw_write_answer(r, status, content_type, body, len);
    return OK;
}
