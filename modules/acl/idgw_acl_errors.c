/* idgw_acl_errors: the XML error codes of mod_idgw_acl (area ACL of the
 * scheme in idgw_xml_error.h).  Messages are fixed text: a refused client
 * learns which rule refused it, never which entry or why. */
#include "idgw_acl_errors.h"

#include <stddef.h>

const idgw_error_def IDGW_E_ACL_BEARER = {
    "IDGW-ACL-001", 403, "access is only possible over the carrier network"
};
const idgw_error_def IDGW_E_ACL_BLOCKED = {
    "IDGW-ACL-002", 403, "access refused"
};
const idgw_error_def IDGW_E_ACL_NOT_LISTED = {
    "IDGW-ACL-003", 403, "the service is not available to this terminal yet"
};
const idgw_error_def IDGW_E_ACL_RATE = {
    "IDGW-ACL-004", 429, "too many requests, retry later"
};
const idgw_error_def IDGW_E_ACL_IDENTITY = {
    "IDGW-ACL-005", 400, "malformed terminal id, IDm or user"
};
const idgw_error_def IDGW_E_ACL_UNAVAILABLE = {
    "IDGW-ACL-006", 503, "access control temporarily unavailable"
};

static const idgw_error_def *const catalogue[] = {
    &IDGW_E_ACL_BEARER, &IDGW_E_ACL_BLOCKED, &IDGW_E_ACL_NOT_LISTED,
    &IDGW_E_ACL_RATE, &IDGW_E_ACL_IDENTITY, &IDGW_E_ACL_UNAVAILABLE,
};

const idgw_error_def *const *idgw_acl_error_catalogue(int *count)
{
    *count = (int)(sizeof(catalogue) / sizeof(catalogue[0]));
    return catalogue;
}
