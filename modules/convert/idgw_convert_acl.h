/*
 * idgw_convert_acl.h - the conversion handler serves only where access
 * control applies: "IdgwAcl On" in its <Location>, or "IdgwAcl Off" written
 * there on purpose (a warning at every start).  Asked of mod_idgw_acl through
 * idgw_acl_dir_state (mod_idgw.h); without mod_idgw_acl the handler refuses
 * to start.  Checked at start (every section that sets the handler) and again
 * per request, so an odd configuration the start-up walk cannot see through
 * (a handler set by an expression, a <Directory>) fails closed.
 */
#ifndef IDGW_CONVERT_ACL_H
#define IDGW_CONVERT_ACL_H

#include "idgw_httpd.h"

/* Walk every <Location> of every server that sets the handler; NULL when
 * each has access control on or explicitly off, else the message to refuse
 * the start with.  Explicit Offs are logged (IDGW0443, warning) when
 * log_offs is set.  Call from check_config (runs in "httpd -t") and
 * post_config. */
const char *idgw_convert_acl_startup(apr_pool_t *ptemp, server_rec *s, int log_offs);

/* OK where access control is on or explicitly off for the request's
 * section; otherwise logged (IDGW0441) and refused with 500 IDGW-CNV-...:
 * returns the DONE of the answer sent. */
int idgw_convert_acl_request(request_rec *r);

#endif
