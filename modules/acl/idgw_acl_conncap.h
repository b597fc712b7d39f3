/* idgw_acl_conncap: the per-client-address connection cap of mod_idgw_acl
 * (IdgwAclMaxConnPerAddr): httpd's side of idgw_conncap.  A connection from
 * an address that already has its cap of connections open is closed in
 * pre_connection, before TLS and before a worker reads anything from it;
 * refusals are counted (idgw_acl_denials_total{reason="connections"}) and
 * logged (IDGW0350) at most once a second per process.
 *
 * Server-wide: one shared table for every virtual host, like the MPM's
 * limits (the directive is refused inside <VirtualHost>). */
#ifndef IDGW_ACL_CONNCAP_H
#define IDGW_ACL_CONNCAP_H

#include <httpd.h>
#include <http_config.h>

#include "idgw_metrics.h"

/* The directive, for the module's command table. */
const char *idgw_acl_conncap_set(cmd_parms *cmd, void *dconf, int argc, char *const argv[]);
#define IDGW_ACL_CONNCAP_CMDS                                                            \
    AP_INIT_TAKE_ARGV("IdgwAclMaxConnPerAddr", idgw_acl_conncap_set, NULL, RSRC_CONF,    \
        "N [CIDR ...]: open connections one client address (IPv4, or IPv6 /64) may "    \
        "hold; 0 = no cap.  Without CIDRs the default for every address (none: off); "  \
        "with CIDRs the cap of those networks (e.g. a carrier's NAT pool, or 0 for a "   \
        "proxy in front)")

/* pre_config: forget the previous configuration cycle's settings. */
void idgw_acl_conncap_reset(void);

/* post_config (parent): the shared table when a cap is configured.  NULL,
 * or a message saying why httpd cannot start. */
const char *idgw_acl_conncap_post_config(apr_pool_t *pconf, server_rec *s);

/* child_init: claim this child's row of the table; metrics: where refusals
 * are counted (the module's retrieved functions; may stay all NULL). */
void idgw_acl_conncap_child_init(apr_pool_t *pchild, server_rec *s,
                                 const idgw_metrics_fns *metrics);

/* The pre_connection hook. */
int idgw_acl_conncap_pre_connection(conn_rec *c, void *csd);

#endif
