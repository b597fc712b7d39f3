/*
 * idgw_httpd.h - include httpd's headers from the idgw modules, and the
 * small httpd helpers they share (idgw_httpd.c).
 *
 * configure passes PACKAGE_NAME & co. on the compiler command line and
 * httpd's ap_config_auto.h defines them again; dropping ours first keeps
 * the build free of redefinition warnings.  Include this before any other
 * httpd header.
 */
#ifndef IDGW_HTTPD_H
#define IDGW_HTTPD_H

#undef PACKAGE_NAME
#undef PACKAGE_STRING
#undef PACKAGE_TARNAME
#undef PACKAGE_VERSION
#undef PACKAGE_BUGREPORT
#undef PACKAGE_URL
#include <httpd.h>

/*
 * Send `body` (len bytes) as the whole response with this status and
 * content type, marked Cache-Control: no-store; the body is left out for a
 * HEAD request.  Returns OK, for a handler to return.
 */
int idgw_send_answer(request_rec *r, int status, const char *content_type,
                     const void *body, apr_size_t len);

/*
 * idgw_send_answer without the Cache-Control header: for a sender that sets
 * its own headers (the XML error answer puts them in err_headers_out).
 */
void idgw_write_answer(request_rec *r, int status, const char *content_type,
                       const void *body, apr_size_t len);

#endif
