/* idgw_acl_shadow_check: the per-request side of shadow mode
 * (idgw_acl_shadow.h) that needs a location's configuration: which list
 * entries refuse and which only count, what CHECK is told to record, and
 * which hash an auto-ban writes to. */
#ifndef IDGW_ACL_SHADOW_CHECK_H
#define IDGW_ACL_SHADOW_CHECK_H

#include <httpd.h>

#include "idgw_acl_cache.h"
#include "idgw_acl_config.h"
#include "idgw_acl_shadow.h"
#include "idgw_redis_pool.h"
#include "idgw_script.h"

/* id split by the blacklist kinds in shadow mode here: *enforced keeps
 * the identities whose blacklist entries refuse, *shadow the others. */
void idgw_acl_shadow_split(const idgw_acl_dir_conf *conf, const idgw_acl_identity *id,
                           idgw_acl_identity *enforced, idgw_acl_identity *shadow);

/* Notes (IDGW0370, counted) a blacklist entry of a kind in shadow mode that
 * matches shadow_id, and a shadow ban that matches id. */
void idgw_acl_shadow_lists(request_rec *r, idgw_acl_shadow_req *s,
                           const idgw_metrics_fns *metrics, idgw_acl_cache *cache,
                           const idgw_acl_identity *shadow_id,
                           const idgw_acl_identity *id, int64_t now_ms);

/* The hash an auto-ban of this kind writes to: the blacklist, or the shadow
 * bans when the ban rule, or the limit whose breaches earn it (rl_rule,
 * IDGW_ACL_SH_RULES for none), is in shadow mode here. */
idgw_acl_list idgw_acl_shadow_ban_list(const idgw_acl_dir_conf *conf,
                                       idgw_acl_shadow_rule ban_rule,
                                       idgw_acl_shadow_rule rl_rule);

/* The bits of the request's dimensions (bit i for dims[i]) in shadow mode. */
unsigned idgw_acl_shadow_dims(const idgw_acl_dir_conf *conf, int ndims,
                              const idgw_acl_dim *dims);

/* Pushes CHECK's shadow keys and arguments (idgw_acl_script.h), after the
 * dimensions': the records of the subjects (terminal id, address entry;
 * either may be NULL) only when something could be recorded, the rules
 * already noted, and the dimensions' field names.  Marks the noted rules
 * as sent. */
void idgw_acl_shadow_check_args(apr_pool_t *p, idgw_acl_shadow_req *s,
                                const char *prefix, const char *terminal,
                                const char *addr, unsigned dims_shadow, int ndims,
                                const idgw_acl_dim *dims, idgw_script_args *a);

/* Records the rules noted after the request's CHECK ran (a list entry only
 * the copy it brought revealed) with the SHADOW_RECORD script: a second round
 * trip, paid only by such a request.  Failures are logged (IDGW0373), never
 * fatal: the request has been served, the log line and counter stand. */
void idgw_acl_shadow_late_record(request_rec *r, idgw_acl_shadow_req *s,
                                 idgw_redis_pool *pool, const idgw_script *script,
                                 const char *prefix, const char *terminal,
                                 const char *addr);

/* The same records on a Redis Cluster, where each subject's record is a
 * slot of its own: one SHADOW_RECORD call per subject (the terminal id,
 * the address entry; either may be NULL) for the rules noted and not yet
 * sent, its args in args[0..1] (from p), for the caller to send in one
 * round trip.  Marks those rules as sent.  Returns the number of calls
 * (0: nothing to record). */
int idgw_acl_shadow_record_calls(apr_pool_t *p, idgw_acl_shadow_req *s, const char *prefix,
                                 const char *terminal, const char *addr,
                                 idgw_script_args **args);

#endif /* IDGW_ACL_SHADOW_CHECK_H */
