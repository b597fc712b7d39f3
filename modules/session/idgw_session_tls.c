/*
 * idgw_session_tls.c - the API answers over TLS only.  The Debian
 * configuration put <Location /idgw/v1> at server level, so the plain
 * default virtual host handed out session tokens in clear; now a request
 * that did not come over TLS is refused before anything else looks at it,
 * unless "IdgwAllowPlainHttp On" covers its section: the test
 * configurations, or a virtual host behind a TLS-terminating proxy.
 *
 * mod_ssl (or another TLS module) answers ap_ssl_conn_is_ssl (httpd
 * 2.4.49+: the ssl_conn_is_ssl hook); without one no connection is TLS.
 */
#include "idgw_session_cfg.h"

#include <http_log.h>
#include <http_ssl.h>

APLOG_USE_MODULE(idgw_session);

int idgw_session_check_tls(request_rec *r, const idgw_session_dir *d)
{
    if (idgw_session_dir_allow_plain(d) || ap_ssl_conn_is_ssl(r->connection))
        return OK;
    /* WARNING: Debian's default LogLevel warn shows it; a client or proxy
     * speaking plain HTTP to the API is a deployment fault to fix */
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0180: %s over plain HTTP refused "
                  "(IDGW-REQ-009): the API answers over TLS only; behind a TLS-terminating "
                  "proxy set IdgwAllowPlainHttp On for this location", r->method);
    return idgw_xml_error_send(r, &IDGW_E_REQ_TLS);
}
