/* idgw_acl_errors: mod_idgw_acl's XML error codes (docs/directives.md (mod_idgw_acl)
 * lists them).  Sent with idgw_xml_error_send (idgw_xml_error.h). */
#ifndef IDGW_ACL_ERRORS_H
#define IDGW_ACL_ERRORS_H

#include "idgw_xml_error.h"

extern const idgw_error_def IDGW_E_ACL_BEARER;      /* 403 not from a carrier network */
extern const idgw_error_def IDGW_E_ACL_BLOCKED;     /* 403 blacklisted */
extern const idgw_error_def IDGW_E_ACL_NOT_LISTED;  /* 403 whitelist mode, not listed */
extern const idgw_error_def IDGW_E_ACL_RATE;        /* 429 rate limit (Retry-After set) */
extern const idgw_error_def IDGW_E_ACL_IDENTITY;    /* 400 malformed identity header */
extern const idgw_error_def IDGW_E_ACL_UNAVAILABLE; /* 503 Redis down, fail closed */

const idgw_error_def *const *idgw_acl_error_catalogue(int *count);

#endif /* IDGW_ACL_ERRORS_H */
