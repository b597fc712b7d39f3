/* idgw_acl_bans: the automatic bans a request earns, written by this node
 * with scripts of their own (idgw_acl_script.h: BAN, STRIKES), outside the
 * per-request script: that one carries no list key, so the steady request
 * pays nothing for bans it does not earn.
 *
 *  - breaches: the fleet-wide CHECK reports a ban due when a limit's
 *    refusals reach IdgwAclAutoBan breaches; BAN writes it (one round trip,
 *    paid by the refused request);
 *  - strikes: when the session core refused a request with a strike (a
 *    sequence error; mod_idgw_session notes whom it counts against),
 *    STRIKES counts it and bans at IdgwAclAutoBan strikes (one round trip,
 *    paid by the refused request).
 *
 * Either way this child reloads its lists before the request is answered
 * (idgw_acl_sync_refresh): its next request refuses, whichever thread serves
 * it; the other children hear of the ban from their listeners.  A failure
 * is logged (IDGW0323) and loses that ban only: the counters start again.
 */
#ifndef IDGW_ACL_BANS_H
#define IDGW_ACL_BANS_H

#include "idgw_acl_reply.h"
#include "idgw_acl_request.h"

/* g: the module's state (its Redis pool, scripts, key prefix, lists sync). */

/* The bans CHECK's reply says are due for q's dimensions, written and logged. */
void idgw_acl_breach_bans(request_rec *r, const idgw_acl_globals *g, idgw_acl_req *q,
                          const idgw_acl_check_reply *rep);

/* The strike the session module noted on r (IDGW_NOTE_STRIKE), counted;
 * bans written and logged. */
void idgw_acl_strike(request_rec *r, const idgw_acl_globals *g, idgw_acl_req *q);

#endif /* IDGW_ACL_BANS_H */
