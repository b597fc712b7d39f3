/* Check tests of the blacklist/whitelist snapshot, its cache and the script
 * helpers (modules/idgw_acl_lists.c, idgw_acl_cache.c, idgw_acl_script.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "idgw_acl_cache.h"
#include "idgw_acl_errors.h"
#include "idgw_acl_lease.h"
#include "idgw_acl_reply.h"
#include "idgw_acl_lists.h"
#include "idgw_acl_script.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

static const char *norm(idgw_acl_kind kind, const char *text)
{
    const char *out = NULL;
    const char *err = idgw_acl_value_check(pool, kind, text, &out);
    return err ? NULL : out;
}

static idgw_acl_identity identity(const char *addr, const char *terminal,
                                  const char *idm, const char *user)
{
    idgw_acl_identity id;

    memset(&id, 0, sizeof(id));
    if (addr) {
        ck_assert(idgw_ip_parse(addr, &id.ip));
        id.has_ip = 1;
        id.v[IDGW_ACL_ADDR] = addr;
    }
    id.v[IDGW_ACL_TERMINAL] = terminal;
    id.v[IDGW_ACL_IDM] = idm;
    id.v[IDGW_ACL_USER] = user;
    return id;
}

START_TEST(values_are_checked_and_normalised)
{
    ck_assert_str_eq(norm(IDGW_ACL_TERMINAL, "T-0001.a:b_c"), "T-0001.a:b_c");
    ck_assert_ptr_null(norm(IDGW_ACL_TERMINAL, "T 1"));
    ck_assert_ptr_null(norm(IDGW_ACL_TERMINAL, "T|1"));
    ck_assert_ptr_null(norm(IDGW_ACL_TERMINAL, ""));
    ck_assert_ptr_nonnull(norm(IDGW_ACL_TERMINAL,
        "1234567890123456789012345678901234567890123456789012345678901234"));
    ck_assert_ptr_null(norm(IDGW_ACL_TERMINAL,
        "12345678901234567890123456789012345678901234567890123456789012345"));
    ck_assert_str_eq(norm(IDGW_ACL_IDM, "01fe0102030405aB"), "01FE0102030405AB");
    ck_assert_ptr_null(norm(IDGW_ACL_IDM, "01fe0102030405a"));
    ck_assert_ptr_null(norm(IDGW_ACL_IDM, "01fe0102030405ag"));
    ck_assert_str_eq(norm(IDGW_ACL_USER, "alice+test@example.jp"), "alice+test@example.jp");
    ck_assert_ptr_null(norm(IDGW_ACL_USER, "alice smith"));
    ck_assert_str_eq(norm(IDGW_ACL_ADDR, "192.0.2.7"), "192.0.2.7/32");
    ck_assert_str_eq(norm(IDGW_ACL_ADDR, "2001:DB8::/32"), "2001:db8::/32");
    ck_assert_ptr_null(norm(IDGW_ACL_ADDR, "192.0.2.7/24"));
    ck_assert_int_eq(idgw_acl_kind_parse("idm"), IDGW_ACL_IDM);
    ck_assert_int_eq(idgw_acl_kind_parse("card"), -1);
    ck_assert_str_eq(idgw_acl_kind_name(IDGW_ACL_ADDR), "addr");
}
END_TEST

START_TEST(entries_encode_and_decode)
{
    idgw_acl_entry e;
    const char *enc = idgw_acl_entry_encode(pool, 1700000000123LL, 1690000000000LL,
                                            "admin", "fraud|report\nseen");

    ck_assert_str_eq(enc, "1700000000123|1690000000000|admin|fraud report seen");
    ck_assert_ptr_null(idgw_acl_entry_decode(pool, enc, &e));
    ck_assert_int_eq(e.expires_ms, 1700000000123LL);
    ck_assert_int_eq(e.added_ms, 1690000000000LL);
    ck_assert_str_eq(e.source, "admin");
    ck_assert_str_eq(e.reason, "fraud report seen");
    /* The reason may contain '|' when read back: only the first three split. */
    ck_assert_ptr_null(idgw_acl_entry_decode(pool, "0|5|auto-strikes|a|b", &e));
    ck_assert_str_eq(e.reason, "a|b");
    {
        const char *bad[] = { "", "0|0|admin", "x|0|admin|r", "0|-1|admin|r",
                              "0|0||r", "0|0|ad min|r", "1234567890123456|0|admin|r" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            ck_assert_msg(idgw_acl_entry_decode(pool, bad[i], &e) != NULL,
                          "'%s' accepted", bad[i]);
        }
    }
    ck_assert_ptr_nonnull(idgw_acl_entry_decode(pool, NULL, &e));
}
END_TEST

START_TEST(lookups_honour_expiry)
{
    idgw_acl_lists *l = idgw_acl_lists_make(pool, 7);
    int64_t now = 1000000;

    ck_assert_int_eq(idgw_acl_lists_version(l), 7);
    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL,
                                          "T1", "0|1|admin|stolen"));
    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL,
                                          "T2", "1000500|1|auto-strikes|3 errors"));
    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_IDM,
                                          "0123456789abcdef", "0|1|admin|x"));
    /* Malformed fields or values are refused, not half-added. */
    ck_assert_ptr_nonnull(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL,
                                             "bad id", "0|1|admin|x"));
    ck_assert_ptr_nonnull(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL,
                                             "T3", "garbage"));
    ck_assert_int_eq(idgw_acl_lists_count(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL), 2);

    ck_assert_ptr_nonnull(idgw_acl_lists_find(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL, "T1", now));
    ck_assert_ptr_nonnull(idgw_acl_lists_find(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL, "T2", now));
    ck_assert_ptr_nonnull(idgw_acl_lists_find(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL, "T2", 1000499));
    ck_assert_ptr_null(idgw_acl_lists_find(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL, "T2", 1000500));
    ck_assert_ptr_null(idgw_acl_lists_find(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL, "T3", now));
    ck_assert_ptr_null(idgw_acl_lists_find(l, IDGW_ACL_WHITELIST, IDGW_ACL_TERMINAL, "T1", now));
    /* IDm entries are stored upper case, as the session module stores them. */
    ck_assert_ptr_nonnull(idgw_acl_lists_find(l, IDGW_ACL_BLACKLIST, IDGW_ACL_IDM,
                                              "0123456789ABCDEF", now));
}
END_TEST

START_TEST(address_entries_hosts_and_prefixes)
{
    idgw_acl_lists *l = idgw_acl_lists_make(pool, 1);
    idgw_ip ip;
    const idgw_acl_entry *e;

    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_ADDR,
                                          "198.51.100.7/32", "0|1|admin|host"));
    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_ADDR,
                                          "203.0.113.0/24", "500|1|admin|expired net"));
    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_ADDR,
                                          "203.0.0.0/16", "0|1|admin|live net"));
    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_ADDR,
                                          "2001:db8:bad::/48", "0|1|admin|v6"));

    ck_assert(idgw_ip_parse("198.51.100.7", &ip));
    e = idgw_acl_lists_find_ip(l, IDGW_ACL_BLACKLIST, &ip, 1000);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->reason, "host");
    ck_assert(idgw_ip_parse("198.51.100.8", &ip));
    ck_assert_ptr_null(idgw_acl_lists_find_ip(l, IDGW_ACL_BLACKLIST, &ip, 1000));
    /* The /24 has expired, the /16 around it has not: the live one answers. */
    ck_assert(idgw_ip_parse("203.0.113.9", &ip));
    e = idgw_acl_lists_find_ip(l, IDGW_ACL_BLACKLIST, &ip, 1000);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->reason, "live net");
    ck_assert(idgw_ip_parse("2001:db8:bad:1::5", &ip));
    ck_assert_ptr_nonnull(idgw_acl_lists_find_ip(l, IDGW_ACL_BLACKLIST, &ip, 1000));
    ck_assert(idgw_ip_parse("::ffff:198.51.100.7", &ip));
    ck_assert_ptr_nonnull(idgw_acl_lists_find_ip(l, IDGW_ACL_BLACKLIST, &ip, 1000));
}
END_TEST

START_TEST(blocked_and_whitelisted_decisions)
{
    idgw_acl_lists *l = idgw_acl_lists_make(pool, 3);
    apr_hash_t *static_wl[IDGW_ACL_KINDS] = { NULL };
    idgw_acl_identity id;
    idgw_acl_kind kind = IDGW_ACL_KINDS;
    const idgw_acl_entry *e;

    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_USER,
                                          "mallory", "0|1|admin|chargebacks"));
    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_WHITELIST, IDGW_ACL_IDM,
                                          "00112233445566AA", "0|1|admin|test chip"));
    id = identity("192.0.2.1", "T9", "0011223344556677", "mallory");
    e = idgw_acl_lists_blocked(l, &id, 10, &kind);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(kind, IDGW_ACL_USER);
    ck_assert_str_eq(e->value, "mallory");
    id = identity("192.0.2.1", "T9", "0011223344556677", "alice");
    ck_assert_ptr_null(idgw_acl_lists_blocked(l, &id, 10, &kind));
    ck_assert_ptr_null(idgw_acl_lists_blocked(NULL, &id, 10, &kind));

    ck_assert(!idgw_acl_lists_whitelisted(l, static_wl, &id, 10));
    id.v[IDGW_ACL_IDM] = "00112233445566AA";
    ck_assert(idgw_acl_lists_whitelisted(l, static_wl, &id, 10));
    /* Static entries from IdgwAclWhitelist count as well. */
    id = identity(NULL, "T-pilot-1", NULL, NULL);
    ck_assert(!idgw_acl_lists_whitelisted(l, static_wl, &id, 10));
    static_wl[IDGW_ACL_TERMINAL] = apr_hash_make(pool);
    apr_hash_set(static_wl[IDGW_ACL_TERMINAL], "T-pilot-1", APR_HASH_KEY_STRING, "1");
    ck_assert(idgw_acl_lists_whitelisted(NULL, static_wl, &id, 10));
    /* A request that names nobody is never whitelisted. */
    id = identity("192.0.2.1", NULL, NULL, NULL);
    ck_assert(!idgw_acl_lists_whitelisted(l, static_wl, &id, 10));
}
END_TEST

START_TEST(cache_installs_what_redis_reports)
{
    idgw_acl_cache *c;
    apr_pool_t *p1, *p2, *p3;
    idgw_acl_lists *l;
    idgw_acl_identity id = identity("192.0.2.1", "T1", NULL, NULL);
    idgw_acl_entry e;
    idgw_acl_kind kind;

    ck_assert_int_eq(idgw_acl_cache_version(NULL), -1);
    ck_assert(!idgw_acl_cache_blocked(NULL, &id, 10, pool, &e, &kind));
    ck_assert(!idgw_acl_cache_whitelisted(NULL, NULL, &id, 10));
    apr_pool_create(&p1, pool);
    idgw_acl_cache_install(NULL, idgw_acl_lists_make(p1, 3), p1);   /* frees p1 */

    ck_assert_ptr_null(idgw_acl_cache_create(&c, pool));
    ck_assert_int_eq(idgw_acl_cache_version(c), -1);
    ck_assert(!idgw_acl_cache_blocked(c, &id, 10, pool, &e, &kind));

    apr_pool_create(&p1, pool);
    l = idgw_acl_lists_make(p1, 5);
    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_TERMINAL,
                                          "T1", "0|1|admin|lost phone"));
    idgw_acl_cache_install(c, l, p1);
    ck_assert_int_eq(idgw_acl_cache_version(c), 5);
    ck_assert(idgw_acl_cache_blocked(c, &id, 10, pool, &e, &kind));
    ck_assert_str_eq(e.reason, "lost phone");

    /* A lower version (Redis restored from an older dump) replaces it too:
     * what Redis says now wins; the copy taken before stays valid. */
    apr_pool_create(&p2, pool);
    idgw_acl_cache_install(c, idgw_acl_lists_make(p2, 1), p2);
    ck_assert_int_eq(idgw_acl_cache_version(c), 1);
    ck_assert(!idgw_acl_cache_blocked(c, &id, 10, pool, &e, &kind));
    ck_assert_str_eq(e.reason, "lost phone");

    apr_pool_create(&p3, pool);
    l = idgw_acl_lists_make(p3, 2);
    ck_assert_ptr_null(idgw_acl_lists_add(l, IDGW_ACL_BLACKLIST, IDGW_ACL_ADDR,
                                          "192.0.2.0/24", "0|1|admin|net"));
    idgw_acl_cache_install(c, l, p3);
    ck_assert_int_eq(idgw_acl_cache_version(c), 2);
    ck_assert(idgw_acl_cache_blocked(c, &id, 10, pool, &e, &kind));
    ck_assert_int_eq(kind, IDGW_ACL_ADDR);
}
END_TEST

START_TEST(script_keys_and_codes)
{
    const char *keys[IDGW_ACL_LIST_KEYS];

    ck_assert_str_eq(idgw_acl_key_version(pool, "idgw:"), "idgw:acl:ver");
    ck_assert_str_eq(idgw_acl_key_rate(pool, "idgw:", IDGW_ACL_DIM_ADDR, "192.0.2.1"),
                     "idgw:acl:rl:addr:192.0.2.1");
    ck_assert_str_eq(idgw_acl_key_breach(pool, "x:", IDGW_ACL_DIM_TERMINAL, "T1"),
                     "x:acl:br:terminal:T1");
    ck_assert_str_eq(idgw_acl_key_strike(pool, "x:", IDGW_ACL_IDM, "00"), "x:acl:st:idm:00");
    idgw_acl_lists_keys(pool, "idgw:", keys);
    ck_assert_str_eq(keys[0], "idgw:acl:bl:terminal");
    ck_assert_str_eq(keys[3], "idgw:acl:bl:addr");
    ck_assert_str_eq(keys[IDGW_ACL_KINDS + 1], "idgw:acl:wl:idm");
    ck_assert_str_eq(keys[2 * IDGW_ACL_KINDS + 3], "idgw:acl:sb:addr");
    ck_assert_int_eq(idgw_acl_dim_parse("endpoint"), IDGW_ACL_DIM_ENDPOINT);
    ck_assert_int_eq(idgw_acl_dim_parse("user"), -1);
    ck_assert_int_eq(idgw_acl_dim_ban_kind(IDGW_ACL_DIM_ENDPOINT), -1);
    ck_assert_int_eq(idgw_acl_dim_ban_kind(IDGW_ACL_DIM_ADDR), IDGW_ACL_ADDR);

    /* The scripts never print numbers with Lua's lossy %.14g. */
    ck_assert_ptr_null(strstr(idgw_acl_lua_check, "tostring("));
    ck_assert_ptr_nonnull(strstr(idgw_acl_lua_part, "'DENY', '" IDGW_ACL_RATE_CODE "', 429"));
    /* the part denies only for a limit: the lists never reach Redis */
    ck_assert_ptr_null(strstr(idgw_acl_lua_part, "403"));
    ck_assert_ptr_nonnull(strstr(idgw_acl_lua_lists, "PUBLISH"));
    ck_assert_str_eq(IDGW_E_ACL_RATE.code, IDGW_ACL_RATE_CODE);
    ck_assert_int_eq(IDGW_E_ACL_RATE.http_status, 429);
}
END_TEST

/* ---- hand-built hiredis replies ------------------------------------------ */

static redisReply *r_int(long long v)
{
    redisReply *r = apr_pcalloc(pool, sizeof(*r));
    r->type = REDIS_REPLY_INTEGER;
    r->integer = v;
    return r;
}

static redisReply *r_str(const char *s)
{
    redisReply *r = apr_pcalloc(pool, sizeof(*r));
    r->type = REDIS_REPLY_STRING;
    r->str = apr_pstrdup(pool, s);
    r->len = strlen(s);
    return r;
}

static redisReply *r_arr(size_t n, redisReply **elems)
{
    redisReply *r = apr_pcalloc(pool, sizeof(*r));
    r->type = REDIS_REPLY_ARRAY;
    r->elements = n;
    r->element = apr_pmemdup(pool, elems, sizeof(*elems) * (n ? n : 1));
    return r;
}

/* CHECK's reply for two dimensions, no tokens granted beyond the request's */
static redisReply *check_reply5(long long refused, long long retry, long long banned,
                                long long shadow_refused, long long shadow_banned)
{
    redisReply *extra[2] = { r_int(0), r_int(0) };
    redisReply *e[6] = { r_int(refused), r_int(retry), r_int(banned), r_int(shadow_refused),
                         r_int(shadow_banned), r_arr(2, extra) };
    return r_arr(6, e);
}

static redisReply *check_reply(long long refused, long long retry, long long banned)
{
    return check_reply5(refused, retry, banned, 0, 0);
}

static redisReply *lists_reply(const char *ver, redisReply *lists)
{
    redisReply *e[2] = { r_str(ver), lists };
    return r_arr(2, e);
}

static redisReply *eight_lists(void)
{
    redisReply *h[IDGW_ACL_LIST_KEYS];
    redisReply *bl_terminal[4] = { r_str("T1"), r_str("0|1|admin|stolen"),
                                   r_str("bad id"), r_str("0|1|admin|x") };
    redisReply *bl_addr[2] = { r_str("198.51.100.0/24"), r_str("0|1|admin|net") };
    redisReply *wl_idm[2] = { r_str("00112233445566aa"), r_str("0|1|admin|pilot") };
    redisReply *sb_terminal[2] = { r_str("T-SHADOW"), r_str("0|1|auto-strikes|3 errors") };

    for (int i = 0; i < IDGW_ACL_LIST_KEYS; i++) {
        h[i] = r_arr(0, NULL);
    }
    h[IDGW_ACL_TERMINAL] = r_arr(4, bl_terminal);
    h[IDGW_ACL_ADDR] = r_arr(2, bl_addr);
    h[IDGW_ACL_KINDS + IDGW_ACL_IDM] = r_arr(2, wl_idm);
    h[IDGW_ACL_SHADOWBANS * IDGW_ACL_KINDS + IDGW_ACL_TERMINAL] = r_arr(2, sb_terminal);
    return r_arr(IDGW_ACL_LIST_KEYS, h);
}

START_TEST(check_replies_parse_strictly)
{
    idgw_acl_check_reply rep;
    idgw_acl_lists *l;
    idgw_acl_identity id;
    idgw_acl_kind kind;
    const redisReply *lists;
    const char *problem = NULL;
    int64_t version;
    int skipped = -1;

    ck_assert_ptr_null(idgw_acl_reply_parse(check_reply(0, 0, 0), 2, &rep));
    ck_assert_int_eq(rep.refused, 0);
    ck_assert_ptr_null(idgw_acl_reply_parse(check_reply(2, 250000, 1), 2, &rep));
    ck_assert_int_eq(rep.refused, 2);
    ck_assert_int_eq(rep.retry_us, 250000);
    ck_assert_int_eq(rep.banned, 1);

    /* LISTS: the version alone when the copy is current, else the lists */
    ck_assert_ptr_null(idgw_acl_reply_lists_parse(lists_reply("12", r_int(0)), &version,
                                                  &lists));
    ck_assert_int_eq(version, 12);
    ck_assert_ptr_null(lists);
    ck_assert_ptr_null(idgw_acl_reply_lists_parse(lists_reply("13", eight_lists()), &version,
                                                  &lists));
    ck_assert_ptr_nonnull(lists);
    l = idgw_acl_reply_lists(pool, version, lists, &skipped, &problem);
    ck_assert_int_eq(skipped, 1);
    ck_assert_ptr_nonnull(strstr(problem, "bl:terminal"));
    ck_assert_int_eq(idgw_acl_lists_version(l), 13);
    id = identity("198.51.100.77", "T2", NULL, NULL);
    ck_assert_ptr_nonnull(idgw_acl_lists_blocked(l, &id, 5, &kind));
    ck_assert_int_eq(kind, IDGW_ACL_ADDR);
    id = identity("192.0.2.1", "T1", "00112233445566AA", NULL);
    ck_assert_ptr_nonnull(idgw_acl_lists_blocked(l, &id, 5, &kind));
    ck_assert_int_eq(kind, IDGW_ACL_TERMINAL);
    ck_assert(idgw_acl_lists_whitelisted(l, NULL, &id, 5));
    /* a shadow ban is found in its own list and blocks nobody */
    id = identity("192.0.2.1", "T-SHADOW", NULL, NULL);
    ck_assert_ptr_null(idgw_acl_lists_blocked(l, &id, 5, &kind));
    ck_assert_ptr_nonnull(idgw_acl_lists_match(l, IDGW_ACL_SHADOWBANS, &id, 5, &kind));
    ck_assert_int_eq(kind, IDGW_ACL_TERMINAL);

    /* shadow masks: within the call's dimensions, a shadow ban only where a
     * shadow limit refused */
    ck_assert_ptr_null(idgw_acl_reply_parse(check_reply5(0, 0, 0, 3, 2), 2, &rep));
    ck_assert_uint_eq(rep.shadow_refused, 3);
    ck_assert_uint_eq(rep.shadow_banned, 2);
    ck_assert_ptr_nonnull(idgw_acl_reply_parse(check_reply5(0, 0, 0, 4, 0), 2, &rep));
    ck_assert_ptr_nonnull(idgw_acl_reply_parse(check_reply5(0, 0, 0, 1, 2), 2, &rep));

    /* the tokens granted: one count per dimension of the call, none for a
     * refused request, at most a lease's */
    {
        redisReply *two[2] = { r_int(7), r_int(0) };
        redisReply *one[1] = { r_int(7) };
        redisReply *big[2] = { r_int(IDGW_ACL_LEASE_MAX + 1), r_int(0) };
        redisReply *e[6] = { r_int(0), r_int(0), r_int(0), r_int(0), r_int(0), r_arr(2, two) };

        ck_assert_ptr_null(idgw_acl_reply_parse(r_arr(6, e), 2, &rep));
        ck_assert_uint_eq(rep.extra[0], 7);
        ck_assert_uint_eq(rep.extra[1], 0);
        e[5] = r_arr(1, one);
        ck_assert_ptr_nonnull(idgw_acl_reply_parse(r_arr(6, e), 2, &rep));
        e[5] = r_arr(2, big);
        ck_assert_ptr_nonnull(idgw_acl_reply_parse(r_arr(6, e), 2, &rep));
        e[0] = r_int(1);
        e[5] = r_arr(2, two);
        ck_assert_ptr_nonnull(idgw_acl_reply_parse(r_arr(6, e), 2, &rep));
        e[5] = r_int(0);
        e[0] = r_int(0);
        ck_assert_ptr_nonnull(idgw_acl_reply_parse(r_arr(6, e), 2, &rep));
    }

    /* Shapes that are not CHECK's or LISTS' are errors, never guesses. */
    ck_assert_ptr_nonnull(idgw_acl_reply_parse(NULL, 1, &rep));
    ck_assert_ptr_nonnull(idgw_acl_reply_parse(r_int(1), 1, &rep));
    {
        redisReply *eight[8] = { r_str("1"), r_int(0), r_int(0), r_int(0), r_int(0),
                                 r_int(0), r_int(0), r_int(0) };
        ck_assert_ptr_nonnull(idgw_acl_reply_parse(r_arr(8, eight), 1, &rep));
    }
    ck_assert_ptr_nonnull(idgw_acl_reply_parse(check_reply(3, 0, 0), 2, &rep));
    ck_assert_ptr_nonnull(idgw_acl_reply_parse(check_reply(0, -1, 0), 2, &rep));
    ck_assert_ptr_nonnull(idgw_acl_reply_parse(check_reply(0, 0, 2), 2, &rep));
    ck_assert_ptr_nonnull(idgw_acl_reply_lists_parse(NULL, &version, &lists));
    ck_assert_ptr_nonnull(idgw_acl_reply_lists_parse(lists_reply("x1", r_int(0)), &version,
                                                     &lists));
    ck_assert_ptr_nonnull(idgw_acl_reply_lists_parse(lists_reply("1", r_int(1)), &version,
                                                     &lists));
    {
        redisReply *few[2] = { r_arr(0, NULL), r_arr(0, NULL) };
        ck_assert_ptr_nonnull(idgw_acl_reply_lists_parse(lists_reply("1", r_arr(2, few)),
                                                         &version, &lists));
    }
    {
        redisReply *ls = eight_lists();
        redisReply *odd[1] = { r_str("T1") };
        ls->element[0] = r_arr(1, odd);
        ck_assert_ptr_nonnull(idgw_acl_reply_lists_parse(lists_reply("1", ls), &version,
                                                         &lists));
    }
    ck_assert(!idgw_acl_version_parse("", 0, &version));
    ck_assert(!idgw_acl_version_parse("12345678901234567", 17, &version));
    ck_assert(idgw_acl_version_parse("0", 1, &version));
    ck_assert_int_eq(version, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acl_lists");
    TCase *tc = tcase_create("acl_lists");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, values_are_checked_and_normalised);
    tcase_add_test(tc, entries_encode_and_decode);
    tcase_add_test(tc, lookups_honour_expiry);
    tcase_add_test(tc, address_entries_hosts_and_prefixes);
    tcase_add_test(tc, blocked_and_whitelisted_decisions);
    tcase_add_test(tc, cache_installs_what_redis_reports);
    tcase_add_test(tc, script_keys_and_codes);
    tcase_add_test(tc, check_replies_parse_strictly);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
