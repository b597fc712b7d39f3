/* idgw_acl_export: what mod_idgw_acl offers the other idgw modules.
 *
 * mod_idgw_acl decides early (access phase) on what the request's headers
 * say: X-Idgw-Terminal, X-Idgw-IDm and X-Idgw-User.  An identity that only
 * the request body carries (the user of a session-open message, parsed by
 * mod_idgw_convert) is handed over with idgw_acl_identity_check, which
 * checks it against the blacklist and, in whitelist mode, the whitelist:
 *
 *     static APR_OPTIONAL_FN_TYPE(idgw_acl_identity_check) *acl_check;
 *     acl_check = APR_RETRIEVE_OPTIONAL_FN(idgw_acl_identity_check);
 *     if (acl_check && (rc = acl_check(r, "user", user_id)) != OK)
 *         return rc;      -- DONE: the XML error has been sent
 *
 * kind is "terminal", "idm" or "user".  Returns OK (go on; also where
 * IdgwAcl is off) or DONE after sending a 400 (malformed) or 403 (refused);
 * HTTP_INTERNAL_SERVER_ERROR for any other kind (a programming error).
 * The lists are this node's copy, which the request's own fleet-wide check
 * (run before the handler) has just brought up to date.
 */
#ifndef IDGW_ACL_EXPORT_H
#define IDGW_ACL_EXPORT_H

#include <httpd.h>
#include <apr_optional.h>

APR_DECLARE_OPTIONAL_FN(int, idgw_acl_identity_check,
                        (request_rec *r, const char *kind, const char *value));

#endif /* IDGW_ACL_EXPORT_H */
