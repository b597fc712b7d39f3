/* idgw_acl_natpool: IdgwAclNatPool, carrier NAT addresses shared by many
 * subscribers.
 *
 * The paper's gateway accepts only the carrier's networks, so thousands of
 * phones reach it from a few carrier-grade NAT addresses.  At such an
 * address, one misbehaving subscriber must not lock the others out:
 *   - the address rate limit is the configured one times the subscribers
 *     the operator counts behind one pool address (the budget of the many);
 *   - strikes and rate-limit breaches there never ban the address: they
 *     count per session (a sequence error ends it) and per proven identity
 *     (mod_idgw.h idgw_session_prove) only.
 * The trade-off (docs/directives.md): one attacker behind a pool address can
 * spend the shared address budget (the others then wait for the limit, as
 * they would behind a busy address anyway) and is banned only once it
 * proves an identity of its own; an operator can still ban the address by
 * hand (scripts/idgw-acl add addr). */
#ifndef IDGW_ACL_NATPOOL_H
#define IDGW_ACL_NATPOOL_H

#include <stdint.h>

#include <apr_tables.h>
#include <httpd.h>
#include <http_config.h>

#include "idgw_cidr.h"
#include "idgw_limiter.h"

#define IDGW_ACL_NATPOOL_SUBSCRIBERS_MAX 1000000u

/* One IdgwAclNatPool line. */
typedef struct {
    idgw_cidr_set *nets;
    uint32_t subscribers;
} idgw_acl_natpool;

/* IdgwAclNatPool SUBSCRIBERS CIDR...: appends to *pools (created from
 * cmd->pool on first use). */
const char *idgw_acl_natpool_add(cmd_parms *cmd, apr_array_header_t **pools, int argc,
                                 char *const argv[]);

/* The subscribers behind ip's pool address (the first line that holds it),
 * 0 when ip is in no pool. */
uint32_t idgw_acl_natpool_subscribers(const apr_array_header_t *pools, const idgw_ip *ip);

#endif /* IDGW_ACL_NATPOOL_H */
