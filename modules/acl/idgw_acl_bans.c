/* idgw_acl_bans: automatic bans written by their own scripts
 * (see idgw_acl_bans.h). */
#include "idgw_acl_bans.h"

#include <string.h>

#include <apr_strings.h>
#include <http_log.h>

#include "idgw_acl_script.h"
#include "idgw_acl_shadow_check.h"

APLOG_USE_MODULE(idgw_acl);

/* One of BAN or STRIKES on a connection tied to the request; its integer
 * reply in *out.  0, or -1 logged (IDGW0323: what was lost). */
static int run(request_rec *r, const idgw_acl_globals *g, const idgw_script *s, idgw_script_args *a, const char *what,
               long long *out)
{
    idgw_redis_conn *c = NULL;
    redisReply *reply = NULL;
    const char **argv;
    size_t *lens;
    char err[256] = "";
    int argc = idgw_script_args_argv(a, s, 0, &argv, &lens);

    if (g->cluster) {
        /* BAN's keys share the lists' slot (PREFIXacl:{lists}:...) */
        if (g->cluster_eval == NULL) {
            apr_cpystrn(err, "no Redis Cluster router in this process", sizeof(err));
        }
        else {
            g->cluster_eval(r->pool, s, &a, 1, &reply, err, sizeof(err));
        }
    }
    else if (g->pool == NULL) {
        apr_cpystrn(err, "no Redis connection pool in this process", sizeof(err));
    }
    else if (idgw_redis_pool_acquire_for(g->pool, r->pool, &c, err, sizeof(err))
             == APR_SUCCESS) {
        reply = idgw_redis_evalsha(c, s, argc, argv, lens);
    }
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER) {
        *out = reply->integer;
        freeReplyObject(reply);
        return 0;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0323: %s not written: %s", what,
                  reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                  : reply ? "unexpected reply" : *err ? err : "connection lost");
    if (reply) {
        freeReplyObject(reply);
    }
    return -1;
}

/* This child wrote a change: its copy takes it before the answer goes out. */
static void own_change(request_rec *r, const idgw_acl_globals *g)
{
    char err[256] = "";

    if (idgw_acl_sync_refresh(g->sync, r->pool, err, sizeof(err)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "IDGW0337: the lists could not be "
                      "read after a ban: %s (the listener reloads them)", err);
    }
}

/* BAN: value into list (of its kind) for ban_ms; 1 written, 0 not (a
 * longer ban stands, or the write failed: logged as what). */
static int write_ban(request_rec *r, const idgw_acl_globals *g, idgw_acl_list list,
                     idgw_acl_kind kind, const char *value, int64_t ban_ms,
                     const char *source, const char *reason, const char *what)
{
    idgw_script_args a;
    long long written = 0;

    idgw_script_args_init(&a, r->pool);
    idgw_script_args_key(&a, idgw_acl_key_version(r->pool, g->prefix));
    idgw_script_args_key(&a, idgw_acl_key_list(r->pool, g->prefix, list, kind));
    idgw_script_args_str(&a, value);
    idgw_script_args_int(&a, ban_ms);
    idgw_script_args_str(&a, source);
    idgw_script_args_str(&a, reason);
    return run(r, g, &g->ban_script, &a, what, &written) == 0 && written == 1;
}

/* BAN of dimension i's value; 1 written, 0 not (a longer ban stands, or
 * the write failed: logged). */
static int breach_ban(request_rec *r, const idgw_acl_globals *g, idgw_acl_req *q, int i, idgw_acl_list *list)
{
    const idgw_acl_autoban *ab = idgw_acl_autoban_get(q->conf, 0);
    idgw_acl_dim d = q->dims[i];
    int kind = idgw_acl_dim_ban_kind(d);
    const char *value = kind == IDGW_ACL_ADDR ? q->ban_addr
                      : kind >= 0 ? q->id.v[kind] : NULL;

    if (ab == NULL || value == NULL) {
        return 0;
    }
    *list = idgw_acl_shadow_ban_list(q->conf, IDGW_ACL_SH_BREACHES,
                                     (idgw_acl_shadow_rule)(IDGW_ACL_SH_RATELIMIT + d));
    return write_ban(r, g, *list, (idgw_acl_kind)kind, value, ab->ban_us / 1000,
                     "auto-breaches",
                     apr_psprintf(r->pool, "%d rate-limit breaches within %" APR_INT64_T_FMT
                                  " s", ab->count, ab->window_us / 1000000),
                     "an automatic ban after limit breaches");
}

void idgw_acl_breach_bans(request_rec *r, const idgw_acl_globals *g, idgw_acl_req *q,
                          const idgw_acl_check_reply *rep)
{
    int wrote = 0;

    for (int i = 0; i < q->ndims; i++) {
        int due = (rep->refused == i + 1 && rep->banned) || (rep->shadow_banned & (1u << i));
        idgw_acl_list list;

        if (!due || !breach_ban(r, g, q, i, &list)) {
            continue;
        }
        wrote = 1;
        if (list == IDGW_ACL_SHADOWBANS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "IDGW0372: shadow auto-ban (refuses nobody): %s %s after "
                          "repeated rate-limit breaches", idgw_acl_dim_name(q->dims[i]),
                          q->dim_values[i]);
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "IDGW0322: auto-ban: %s %s after repeated rate-limit breaches",
                          idgw_acl_dim_name(q->dims[i]), q->dim_values[i]);
        }
    }
    if (wrote) {
        own_change(r, g);
    }
}

/* STRIKES' keys and arguments for this request (idgw_acl_script.h). */
static void strikes_args(request_rec *r, const idgw_acl_globals *g, idgw_acl_req *q, int proven, idgw_script_args *a)
{
    const idgw_acl_autoban *ab = idgw_acl_autoban_get(q->conf, 1);
    const char *prefix = g->prefix;
    const char *ver = idgw_acl_key_version(r->pool, prefix);
    const char *tid = q->id.v[IDGW_ACL_TERMINAL];
    /* strikes at a carrier NAT address count per session and per proven
     * terminal only: the address is every subscriber's behind it */
    const char *addr = !q->nat_subscribers ? q->ban_addr : NULL;
    /* in shadow mode the bans go to the shadow bans, which refuse nobody */
    idgw_acl_list ban_list = idgw_acl_shadow_ban_list(q->conf, IDGW_ACL_SH_STRIKES,
                                                      IDGW_ACL_SH_RULES);

    idgw_script_args_init(a, r->pool);
    idgw_script_args_key(a, ver);
    /* Absent identities keep their key slot (the script skips them). */
    idgw_script_args_key(a, tid ? idgw_acl_key_strike(r->pool, prefix, IDGW_ACL_TERMINAL, tid)
                                : ver);
    idgw_script_args_key(a, addr ? idgw_acl_key_strike(r->pool, prefix, IDGW_ACL_ADDR, addr)
                                 : ver);
    idgw_script_args_key(a, idgw_acl_key_list(r->pool, prefix, ban_list, IDGW_ACL_TERMINAL));
    idgw_script_args_key(a, idgw_acl_key_list(r->pool, prefix, ban_list, IDGW_ACL_ADDR));
    idgw_script_args_int(a, ab ? ab->count : 0);
    idgw_script_args_int(a, ab ? ab->window_us / 1000 : 1000);
    idgw_script_args_int(a, ab ? ab->ban_us / 1000 : 0);
    idgw_script_args_str(a, tid ? tid : "");
    idgw_script_args_str(a, addr ? addr : "");
    idgw_script_args_int(a, proven ? 1 : 2);
}

/* The log line of the bans a strike earned. */
static void log_strike_bans(request_rec *r, idgw_acl_req *q, int proven)
{
    const idgw_acl_autoban *ab = idgw_acl_autoban_get(q->conf, 1);
    const char *tid = q->id.v[IDGW_ACL_TERMINAL];
    int shadow = idgw_acl_shadowed(q->conf, IDGW_ACL_SH_STRIKES);
    const char *what = shadow ? "IDGW0371: shadow auto-ban (refuses nobody)"
                              : "IDGW0330: auto-ban";
    int64_t secs = ab ? ab->ban_us / 1000000 : 0;
    int count = ab ? ab->count : 0;

    if (q->nat_subscribers) {
        /* only a proven terminal is banned at a carrier NAT address */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "%s for %" APR_INT64_T_FMT " s: terminal %s after %d sequence errors "
                      "(address %s is a carrier NAT address: not banned)", what, secs,
                      tid ? tid : "-", count, q->addr_text);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "%s for %" APR_INT64_T_FMT " s: %s%s%saddress %s after %d sequence errors",
                  what, secs, proven && tid ? "terminal " : "", proven && tid ? tid : "",
                  proven && tid ? " / " : "", q->ban_addr ? q->ban_addr : q->addr_text,
                  count);
}

/* BAN of a value a strike counter reached the threshold for. */
static long long strike_ban(request_rec *r, const idgw_acl_globals *g, idgw_acl_req *q,
                            idgw_acl_kind kind, const char *value, long long count)
{
    const idgw_acl_autoban *ab = idgw_acl_autoban_get(q->conf, 1);

    return write_ban(r, g, idgw_acl_shadow_ban_list(q->conf, IDGW_ACL_SH_STRIKES,
                                                    IDGW_ACL_SH_RULES),
                     kind, value, ab->ban_us / 1000, "auto-strikes",
                     apr_psprintf(r->pool, "%" APR_INT64_T_FMT " sequence errors within %"
                                  APR_INT64_T_FMT " s", (apr_int64_t)count,
                                  ab->window_us / 1000000),
                     "an automatic ban after sequence errors");
}

/* On a Redis Cluster STRIKES' keys span slots: each counter counts on its
 * own slot (COUNT_STRIKE, both in one round trip), and a ban due is written
 * by BAN on the lists' slot.  The number of bans written. */
static long long cluster_strikes(request_rec *r, const idgw_acl_globals *g, idgw_acl_req *q,
                                 int proven)
{
    const idgw_acl_autoban *ab = idgw_acl_autoban_get(q->conf, 1);
    const char *tid = q->id.v[IDGW_ACL_TERMINAL];
    const char *values[2];
    idgw_acl_kind kinds[2];
    idgw_script_args *args[2];
    redisReply *replies[2] = { NULL, NULL };
    char err[256] = "";
    int n = 0;
    long long bans = 0;

    if (proven && tid) {
        values[n] = tid;
        kinds[n++] = IDGW_ACL_TERMINAL;
    }
    if (!q->nat_subscribers && q->ban_addr) {
        values[n] = q->ban_addr;
        kinds[n++] = IDGW_ACL_ADDR;
    }
    if (n == 0 || g->cluster_eval == NULL) {
        return 0;
    }
    for (int i = 0; i < n; i++) {
        args[i] = apr_palloc(r->pool, sizeof(*args[i]));
        idgw_script_args_init(args[i], r->pool);
        idgw_script_args_key(args[i], idgw_acl_key_strike(r->pool, g->prefix, kinds[i],
                                                          values[i]));
        idgw_script_args_int(args[i], ab->count);
        idgw_script_args_int(args[i], ab->window_us / 1000);
    }
    g->cluster_eval(r->pool, &g->count_strike_script, args, n, replies, err, sizeof(err));
    for (int i = 0; i < n; i++) {
        if (replies[i] == NULL || replies[i]->type != REDIS_REPLY_INTEGER) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "IDGW0323: a sequence-error strike "
                          "not counted: %s", replies[i] == NULL ? err
                          : replies[i]->type == REDIS_REPLY_ERROR ? replies[i]->str
                          : "unexpected reply");
        }
        else if (replies[i]->integer > 0) {
            bans += strike_ban(r, g, q, kinds[i], values[i], replies[i]->integer);
        }
        if (replies[i]) {
            freeReplyObject(replies[i]);
        }
    }
    return bans;
}

void idgw_acl_strike(request_rec *r, const idgw_acl_globals *g, idgw_acl_req *q)
{
    const char *scope = apr_table_get(r->notes, IDGW_NOTE_STRIKE);
    const idgw_acl_autoban *ab = idgw_acl_autoban_get(q->conf, 1);
    /* only a request that proved its session strikes its terminal id */
    int proven = scope && strcmp(scope, "session") == 0;
    idgw_script_args a;
    long long bans = 0;

    if (scope == NULL || ab == NULL) {
        return;
    }
    if (g->cluster) {
        bans = cluster_strikes(r, g, q, proven);
    }
    else {
        strikes_args(r, g, q, proven, &a);
        if (run(r, g, &g->strikes_script, &a, "a sequence-error strike (and its ban)",
                &bans) != 0) {
            return;
        }
    }
    if (bans <= 0) {
        return;
    }
    log_strike_bans(r, q, proven);
    own_change(r, g);
}
