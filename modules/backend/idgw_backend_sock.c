/* idgw_backend_sock.c: what the connection (idgw_backend_conn.c) and its TLS
 * layer (idgw_backend_tls.c, whose BIO does the socket I/O under OpenSSL)
 * both need under them: arming a socket operation with the time the call has
 * left.  Calls nothing of the backend client but the configuration getters,
 * so the connection calls TLS, both call this, and nothing calls back up. */
#include "idgw_backend_int.h"

apr_status_t idgw_be_sock_arm(idgw_backend_conn_t *c)
{
    apr_interval_time_t left = c->deadline - apr_time_now();
    apr_interval_time_t t = idgw_backend_conf_io_timeout(&c->be->conf);

    if (left <= 0) {
        c->timed_out = 1;
        c->last_io = APR_TIMEUP;
        return APR_TIMEUP;
    }
    if (left < t)
        t = left;
    return apr_socket_timeout_set(c->sock, t);
}
