/* idgw_acl_shadow: shadow mode, every access-control layer and rule
 * decided as usual but let through when it would refuse.
 *
 * A shadow rule that would refuse a request is logged (IDGW0370), counted
 * (idgw_acl_shadow_refusals_total{layer,rule}) and, when the request reaches
 * its one Redis script, recorded against the terminal id and the address it
 * came from (PREFIXacl:sr:KIND:VALUE, read by `idgw-acl explain`).  On a
 * Redis Cluster each record is a slot of its own: one SHADOW_RECORD per
 * subject (idgw_acl_shadow_record_calls), sent with the request's checks.
 * Only a request a shadow rule would refuse writes anything: the steady
 * path costs what it cost before.
 *
 * Rules (LAYER:RULE, also the counter's labels):
 *   carrier:networks                       IdgwAclCarrierNetworks
 *   whitelist:mode                         IdgwAclWhitelistMode
 *   blacklist:terminal|idm|user|addr       the blacklist entries of a kind
 *   ratelimit:addr|terminal|endpoint       one IdgwAclRateLimit line
 *   autoban:strikes|breaches               one IdgwAclAutoBan line: its bans
 *                                          go to the shadow-ban hashes
 *                                          (PREFIXacl:sb:KIND), which refuse
 *                                          nobody; a request matching one is
 *                                          counted as autoban:strikes|breaches
 */
#ifndef IDGW_ACL_SHADOW_H
#define IDGW_ACL_SHADOW_H

#include <httpd.h>

#include "idgw_acl_lists.h"
#include "idgw_acl_script.h"
#include "idgw_metrics.h"

typedef enum {
    IDGW_ACL_SH_CARRIER = 0,
    IDGW_ACL_SH_WHITELIST,
    IDGW_ACL_SH_BLACKLIST,                        /* + idgw_acl_kind */
    IDGW_ACL_SH_RATELIMIT = IDGW_ACL_SH_BLACKLIST + IDGW_ACL_KINDS,  /* + idgw_acl_dim */
    IDGW_ACL_SH_STRIKES = IDGW_ACL_SH_RATELIMIT + IDGW_ACL_DIMS,
    IDGW_ACL_SH_BREACHES,
    IDGW_ACL_SH_RULES
} idgw_acl_shadow_rule;

/* Days a shadow refusal record lives after its last write. */
#define IDGW_ACL_SHADOW_RECORD_DAYS 7

const char *idgw_acl_shadow_layer(idgw_acl_shadow_rule rule);  /* "ratelimit" */
const char *idgw_acl_shadow_rule_name(idgw_acl_shadow_rule rule);  /* "terminal" */
/* "ratelimit:terminal": the field of a record in Redis (allocated from p). */
const char *idgw_acl_shadow_field(apr_pool_t *p, idgw_acl_shadow_rule rule);

/* Parses one word of IdgwAclShadow, LAYER or LAYER:RULE, into the bits of
 * the rules it names (1u << rule).  NULL or what is wrong. */
const char *idgw_acl_shadow_parse(apr_pool_t *p, const char *word, unsigned *bits);

/* Key of the shadow refusal record of one subject (a terminal id or an
 * address entry such as 10.1.2.3/32). */
const char *idgw_acl_key_shadow_record(apr_pool_t *p, const char *prefix,
                                       idgw_acl_kind kind, const char *value);

/* What shadow rules said about one request. */
typedef struct {
    unsigned noted;          /* rules that would have refused it */
    unsigned sent;           /* ... of which the script was told (to record) */
} idgw_acl_shadow_req;

/* A shadow rule would refuse the request: log IDGW0370 with what (already
 * formatted, never a secret) and count it, once per rule and request. */
void idgw_acl_shadow_note(request_rec *r, idgw_acl_shadow_req *s,
                          const idgw_metrics_fns *metrics, idgw_acl_shadow_rule rule,
                          const char *what);

#endif /* IDGW_ACL_SHADOW_H */
