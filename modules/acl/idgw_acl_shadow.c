/* idgw_acl_shadow: names, parsing and the per-request note of shadow mode
 * (see idgw_acl_shadow.h). */
#include "idgw_acl_shadow.h"

#include <string.h>

#include <apr_strings.h>
#include <http_log.h>

APLOG_USE_MODULE(idgw_acl);

static const char *const layer_names[] = {
    "carrier", "whitelist", "blacklist", "ratelimit", "autoban"
};

const char *idgw_acl_shadow_layer(idgw_acl_shadow_rule rule)
{
    if (rule == IDGW_ACL_SH_CARRIER)   return layer_names[0];
    if (rule == IDGW_ACL_SH_WHITELIST) return layer_names[1];
    if (rule < IDGW_ACL_SH_RATELIMIT)  return layer_names[2];
    if (rule < IDGW_ACL_SH_STRIKES)    return layer_names[3];
    return layer_names[4];
}

const char *idgw_acl_shadow_rule_name(idgw_acl_shadow_rule rule)
{
    if (rule == IDGW_ACL_SH_CARRIER)   return "networks";
    if (rule == IDGW_ACL_SH_WHITELIST) return "mode";
    if (rule < IDGW_ACL_SH_RATELIMIT) {
        return idgw_acl_kind_name((idgw_acl_kind)(rule - IDGW_ACL_SH_BLACKLIST));
    }
    if (rule < IDGW_ACL_SH_STRIKES) {
        return idgw_acl_dim_name((idgw_acl_dim)(rule - IDGW_ACL_SH_RATELIMIT));
    }
    return rule == IDGW_ACL_SH_STRIKES ? "strikes" : "breaches";
}

const char *idgw_acl_shadow_field(apr_pool_t *p, idgw_acl_shadow_rule rule)
{
    return apr_pstrcat(p, idgw_acl_shadow_layer(rule), ":",
                       idgw_acl_shadow_rule_name(rule), NULL);
}

const char *idgw_acl_shadow_parse(apr_pool_t *p, const char *word, unsigned *bits)
{
    const char *colon = strchr(word, ':');
    const char *layer = colon ? apr_pstrmemdup(p, word, (apr_size_t)(colon - word)) : word;
    unsigned found = 0;

    for (int rule = 0; rule < IDGW_ACL_SH_RULES; rule++) {
        if (strcmp(layer, idgw_acl_shadow_layer((idgw_acl_shadow_rule)rule)) == 0 &&
            (colon == NULL ||
             strcmp(colon + 1, idgw_acl_shadow_rule_name((idgw_acl_shadow_rule)rule)) == 0)) {
            found |= 1u << rule;
        }
    }
    if (found == 0) {
        return apr_psprintf(p, "'%s' is not a layer (carrier, whitelist, blacklist, "
                            "ratelimit, autoban) or LAYER:RULE (e.g. blacklist:addr, "
                            "ratelimit:terminal, autoban:strikes)", word);
    }
    *bits |= found;
    return NULL;
}

const char *idgw_acl_key_shadow_record(apr_pool_t *p, const char *prefix,
                                       idgw_acl_kind kind, const char *value)
{
    return apr_pstrcat(p, prefix, "acl:sr:", idgw_acl_kind_name(kind), ":", value, NULL);
}

void idgw_acl_shadow_note(request_rec *r, idgw_acl_shadow_req *s,
                          const idgw_metrics_fns *metrics, idgw_acl_shadow_rule rule,
                          const char *what)
{
    unsigned bit = 1u << rule;

    if (s->noted & bit) {
        return;
    }
    s->noted |= bit;
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "IDGW0370: shadow %s:%s would refuse: %s; let through",
                  idgw_acl_shadow_layer(rule), idgw_acl_shadow_rule_name(rule), what);
    IDGW_METRIC_COUNT(metrics, IDGW_M_ACL_SHADOW, idgw_acl_shadow_layer(rule),
                      idgw_acl_shadow_rule_name(rule), NULL, 1);
}
