/* idgw_acl_shadow_check: shadow mode per request (see idgw_acl_shadow_check.h). */
#include "idgw_acl_shadow_check.h"

#include <string.h>

#include <apr_strings.h>
#include <http_log.h>

#include "idgw_redis.h"

APLOG_USE_MODULE(idgw_acl);

void idgw_acl_shadow_split(const idgw_acl_dir_conf *conf, const idgw_acl_identity *id,
                           idgw_acl_identity *enforced, idgw_acl_identity *shadow)
{
    *enforced = *id;
    memset(shadow, 0, sizeof(*shadow));
    for (int k = 0; k < IDGW_ACL_KINDS; k++) {
        if (!idgw_acl_shadowed(conf, (idgw_acl_shadow_rule)(IDGW_ACL_SH_BLACKLIST + k))) {
            continue;
        }
        shadow->v[k] = id->v[k];
        enforced->v[k] = NULL;
        if (k == IDGW_ACL_ADDR) {
            shadow->ip = id->ip;
            shadow->has_ip = id->has_ip;
            enforced->has_ip = 0;
        }
    }
}

static const char *entry_text(apr_pool_t *p, const idgw_acl_entry *e, int64_t now_ms)
{
    const char *life = e->expires_ms == 0 ? "permanent"
        : apr_psprintf(p, "for another %" APR_INT64_T_FMT " s",
                       (e->expires_ms - now_ms + 999) / 1000);

    return apr_psprintf(p, "%s, %s%s%s", e->source, life, *e->reason ? ": " : "",
                        e->reason);
}

void idgw_acl_shadow_lists(request_rec *r, idgw_acl_shadow_req *s,
                           const idgw_metrics_fns *metrics, idgw_acl_cache *cache,
                           const idgw_acl_identity *shadow_id,
                           const idgw_acl_identity *id, int64_t now_ms)
{
    idgw_acl_entry e;
    idgw_acl_kind kind = IDGW_ACL_KINDS;

    if (idgw_acl_cache_match(cache, IDGW_ACL_BLACKLIST, shadow_id, now_ms, r->pool, &e,
                             &kind)) {
        idgw_acl_shadow_note(r, s, metrics, (idgw_acl_shadow_rule)(IDGW_ACL_SH_BLACKLIST + kind),
                             apr_psprintf(r->pool, "%s %s is blacklisted (%s)",
                                          idgw_acl_kind_name(kind), e.value,
                                          entry_text(r->pool, &e, now_ms)));
    }
    if (idgw_acl_cache_match(cache, IDGW_ACL_SHADOWBANS, id, now_ms, r->pool, &e, &kind)) {
        idgw_acl_shadow_rule rule = strcmp(e.source, "auto-breaches") == 0
                                        ? IDGW_ACL_SH_BREACHES : IDGW_ACL_SH_STRIKES;
        idgw_acl_shadow_note(r, s, metrics, rule,
                             apr_psprintf(r->pool, "%s %s has a shadow ban (%s)",
                                          idgw_acl_kind_name(kind), e.value,
                                          entry_text(r->pool, &e, now_ms)));
    }
}

idgw_acl_list idgw_acl_shadow_ban_list(const idgw_acl_dir_conf *conf,
                                       idgw_acl_shadow_rule ban_rule,
                                       idgw_acl_shadow_rule rl_rule)
{
    if (idgw_acl_shadowed(conf, ban_rule) ||
        (rl_rule != IDGW_ACL_SH_RULES && idgw_acl_shadowed(conf, rl_rule))) {
        return IDGW_ACL_SHADOWBANS;
    }
    return IDGW_ACL_BLACKLIST;
}

unsigned idgw_acl_shadow_dims(const idgw_acl_dir_conf *conf, int ndims,
                              const idgw_acl_dim *dims)
{
    unsigned mask = 0;

    for (int i = 0; i < ndims; i++) {
        if (idgw_acl_shadowed(conf, (idgw_acl_shadow_rule)(IDGW_ACL_SH_RATELIMIT + dims[i]))) {
            mask |= 1u << i;
        }
    }
    return mask;
}

void idgw_acl_shadow_check_args(apr_pool_t *p, idgw_acl_shadow_req *s,
                                const char *prefix, const char *terminal,
                                const char *addr, unsigned dims_shadow, int ndims,
                                const idgw_acl_dim *dims, idgw_script_args *a)
{
    int nsub = 0, nfield = 0;
    unsigned pending = s->noted & ~s->sent;

    idgw_script_args_int(a, dims_shadow);
    /* Subjects only when there is something to record: the steady path
     * carries no extra key. */
    if (pending != 0 || dims_shadow != 0) {
        if (terminal) {
            idgw_script_args_key(a, idgw_acl_key_shadow_record(p, prefix, IDGW_ACL_TERMINAL,
                                                               terminal));
            nsub++;
        }
        if (addr) {
            idgw_script_args_key(a, idgw_acl_key_shadow_record(p, prefix, IDGW_ACL_ADDR, addr));
            nsub++;
        }
    }
    idgw_script_args_int(a, nsub);
    for (int rule = 0; rule < IDGW_ACL_SH_RULES; rule++) {
        nfield += (pending >> rule) & 1u;
    }
    idgw_script_args_int(a, nfield);
    for (int rule = 0; rule < IDGW_ACL_SH_RULES; rule++) {
        if (pending & (1u << rule)) {
            idgw_script_args_str(a, idgw_acl_shadow_field(p, (idgw_acl_shadow_rule)rule));
        }
    }
    s->sent |= pending;
    for (int i = 0; dims_shadow != 0 && i < ndims; i++) {
        idgw_script_args_str(a, idgw_acl_shadow_field(p, (idgw_acl_shadow_rule)
                                                      (IDGW_ACL_SH_RATELIMIT + dims[i])));
    }
}

/* SHADOW_RECORD's ARGV: the "LAYER:RULE" fields of the rules in bits. */
static void push_fields(apr_pool_t *p, unsigned bits, idgw_script_args *a)
{
    for (int rule = 0; rule < IDGW_ACL_SH_RULES; rule++) {
        if (bits & (1u << rule)) {
            idgw_script_args_str(a, idgw_acl_shadow_field(p, (idgw_acl_shadow_rule)rule));
        }
    }
}

/* The records of a request's subjects (the terminal id, the address
 * entry; either may be NULL) into keys[0..1]; how many. */
static int record_keys(apr_pool_t *p, const char *prefix, const char *terminal,
                       const char *addr, const char *keys[2])
{
    int n = 0;

    if (terminal) {
        keys[n++] = idgw_acl_key_shadow_record(p, prefix, IDGW_ACL_TERMINAL, terminal);
    }
    if (addr) {
        keys[n++] = idgw_acl_key_shadow_record(p, prefix, IDGW_ACL_ADDR, addr);
    }
    return n;
}

int idgw_acl_shadow_record_calls(apr_pool_t *p, idgw_acl_shadow_req *s, const char *prefix,
                                 const char *terminal, const char *addr,
                                 idgw_script_args **args)
{
    unsigned late = s->noted & ~s->sent;
    const char *keys[2];
    int n;

    if (late == 0) {
        return 0;
    }
    n = record_keys(p, prefix, terminal, addr, keys);
    for (int i = 0; i < n; i++) {
        args[i] = apr_palloc(p, sizeof(*args[i]));
        idgw_script_args_init(args[i], p);
        idgw_script_args_key(args[i], keys[i]);
        push_fields(p, late, args[i]);
    }
    s->sent |= late;
    return n;
}

void idgw_acl_shadow_late_record(request_rec *r, idgw_acl_shadow_req *s,
                                 idgw_redis_pool *pool, const idgw_script *script,
                                 const char *prefix, const char *terminal,
                                 const char *addr)
{
    unsigned late = s->noted & ~s->sent;
    idgw_script_args a;
    idgw_redis_conn *c = NULL;
    redisReply *reply;
    const char **argv;
    size_t *lens;
    char err[256] = "";
    const char *keys[2];
    int argc, nkeys;

    if (late == 0 || pool == NULL || (terminal == NULL && addr == NULL)) {
        return;
    }
    s->sent |= late;
    idgw_script_args_init(&a, r->pool);
    nkeys = record_keys(r->pool, prefix, terminal, addr, keys);
    for (int i = 0; i < nkeys; i++) {
        idgw_script_args_key(&a, keys[i]);
    }
    push_fields(r->pool, late, &a);
    argc = idgw_script_args_argv(&a, script, 0, &argv, &lens);
    if (idgw_redis_pool_acquire_for(pool, r->pool, &c, err, sizeof(err)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0373: shadow refusal not "
                      "recorded in Redis: %s", err);
        return;
    }
    reply = idgw_redis_evalsha(c, script, argc, argv, lens);
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0373: shadow refusal not "
                      "recorded in Redis: %s",
                      reply ? apr_pstrndup(r->pool, reply->str, 120) : "connection lost");
    }
    if (reply) {
        freeReplyObject(reply);
    }
}
