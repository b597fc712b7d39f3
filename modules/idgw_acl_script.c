/* idgw_acl_script: Lua scripts and key names of the fleet-wide access
 * control (see idgw_acl_script.h for the calling conventions).
 *
 * Lua 5.1 prints numbers with %.14g, which would round microsecond times;
 * every number written back to Redis goes through string.format('%d'). */
#include "idgw_acl_script.h"

#include <string.h>

#include <apr_strings.h>

/* Shared by the scripts that may ban: write a temporary ban unless the value
 * is already banned permanently or for longer. */
#define LUA_BAN_HELPER                                                         \
    "local function ban(hkey, value, until_ms, now_ms, source, why)\n"         \
    "  local old = redis.call('HGET', hkey, value)\n"                          \
    "  if old then\n"                                                          \
    "    local exp = tonumber(string.match(old, '^(%d+)|'))\n"                 \
    "    if exp and (exp == 0 or exp >= until_ms) then return 0 end\n"        \
    "  end\n"                                                                  \
    "  redis.call('HSET', hkey, value, string.format('%d|%d|%s|%s',\n"         \
    "    until_ms, now_ms, source, why))\n"                                    \
    "  return 1\n"                                                             \
    "end\n"

#define LUA_NOW                                                                \
    "local t = redis.call('TIME')\n"                                           \
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"                  \
    "local now_ms = math.floor(now / 1000)\n"

/* Body of function(K, A): K and A are this check's KEYS and ARGV (the whole
 * of them standalone, its slice when folded into the session script). */
#define LUA_CHECK_BODY \
    LUA_BAN_HELPER \
    LUA_NOW \
    "local n = tonumber(A[1])\n" \
    "local refused, retry, banned = 0, 0, 0\n" \
    "local new = {}\n" \
    "for i = 1, n do\n" \
    "  local a = 2 + (i - 1) * 6\n" \
    "  local T, tau = tonumber(A[a]), tonumber(A[a + 1])\n" \
    "  local tat = tonumber(redis.call('GET', K[2 + (i - 1) * 3]) or '0') or 0\n" \
    "  local ceiling = now + tau + T\n" \
    "  if tat > ceiling then tat = ceiling end\n" \
    "  local base = tat\n" \
    "  if base < now then base = now end\n" \
    "  if base - now > tau then\n" \
    "    refused, retry = i, base - now - tau\n" \
    "    break\n" \
    "  end\n" \
    "  new[i] = base + T\n" \
    "end\n" \
    "if refused == 0 then\n" \
    "  for i = 1, n do\n" \
    "    redis.call('SET', K[2 + (i - 1) * 3], string.format('%d', new[i]),\n" \
    "      'PX', string.format('%d', math.ceil((new[i] - now) / 1000) + 1000))\n" \
    "  end\n" \
    "else\n" \
    "  local a = 2 + (refused - 1) * 6\n" \
    "  local threshold = tonumber(A[a + 2])\n" \
    "  if threshold > 0 then\n" \
    "    local bkey = K[3 + (refused - 1) * 3]\n" \
    "    local count = redis.call('INCR', bkey)\n" \
    "    if count == 1 then redis.call('PEXPIRE', bkey, A[a + 3]) end\n" \
    "    if count >= threshold then\n" \
    "      redis.call('DEL', bkey)\n" \
    "      banned = ban(K[4 + (refused - 1) * 3], A[a + 5],\n" \
    "        now_ms + tonumber(A[a + 4]), now_ms, 'auto-breaches',\n" \
    "        string.format('%d rate-limit breaches within %d s', count,\n" \
    "          tonumber(A[a + 3]) / 1000))\n" \
    "      if banned == 1 then redis.call('INCR', K[1]) end\n" \
    "    end\n" \
    "  end\n" \
    "end\n" \
    "return { redis.call('GET', K[1]) or '0', refused, retry, banned }\n"

const char idgw_acl_lua_check[] =
    "local function acl_check(K, A)\n"
    LUA_CHECK_BODY
    "end\n"
    "return acl_check(KEYS, ARGV)\n";

/* As a part of mod_idgw_session's per-request script (idgw_script.h): a
 * refusal stops the request before the session is touched, so a refused
 * request never advances the sequence number.  The code carries what the
 * standalone reply would: IDGW-ACL-429:<dimension>:<retry us>:<banned>:<version>
 * (idgw_acl_deny_code_parse reads it back). */
const char idgw_acl_lua_part[] =
    "local function acl_check(K, A)\n"
    LUA_CHECK_BODY
    "end\n"
    "local r = acl_check(K, A)\n"
    "if r[2] ~= 0 then\n"
    "  return { 'DENY', string.format('IDGW-ACL-429:%d:%d:%d:%s', r[2], r[3], r[4], r[1]), 429 }\n"
    "end\n"
    "return r\n";

const char idgw_acl_lua_strike[] =
    LUA_BAN_HELPER
    LUA_NOW
    "local n, threshold = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local window, ban_ms = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local top, bans = 0, 0\n"
    "for i = 1, n do\n"
    "  local skey, hkey, value = KEYS[2 + (i - 1) * 2], KEYS[3 + (i - 1) * 2], ARGV[4 + i]\n"
    "  local c = redis.call('INCR', skey)\n"
    "  if c == 1 then redis.call('PEXPIRE', skey, string.format('%d', window)) end\n"
    "  if c > top then top = c end\n"
    "  if threshold > 0 and c >= threshold then\n"
    "    redis.call('DEL', skey)\n"
    "    bans = bans + ban(hkey, value, now_ms + ban_ms, now_ms, 'auto-strikes',\n"
    "      string.format('%d sequence errors within %d s', c, window / 1000))\n"
    "  end\n"
    "end\n"
    "if bans > 0 then redis.call('INCR', KEYS[1]) end\n"
    "return { top, bans }\n";

const char idgw_acl_lua_lists[] =
    LUA_NOW
    "local out = { redis.call('GET', KEYS[1]) or '0' }\n"
    "for i = 2, #KEYS do\n"
    "  local flat = redis.call('HGETALL', KEYS[i])\n"
    "  local keep = {}\n"
    "  for j = 1, #flat, 2 do\n"
    "    local exp = tonumber(string.match(flat[j + 1], '^(%d+)|'))\n"
    "    if exp and exp ~= 0 and exp <= now_ms then\n"
    "      redis.call('HDEL', KEYS[i], flat[j])\n"
    "    else\n"
    "      keep[#keep + 1] = flat[j]\n"
    "      keep[#keep + 1] = flat[j + 1]\n"
    "    end\n"
    "  end\n"
    "  out[#out + 1] = keep\n"
    "end\n"
    "return out\n";

static const char *const dim_names[IDGW_ACL_DIMS] = { "addr", "terminal", "endpoint" };

const char *idgw_acl_dim_name(idgw_acl_dim dim)
{
    return ((int)dim >= 0 && (int)dim < IDGW_ACL_DIMS) ? dim_names[dim] : "?";
}

int idgw_acl_dim_parse(const char *name)
{
    for (int i = 0; i < IDGW_ACL_DIMS; i++) {
        if (name && strcmp(name, dim_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

int idgw_acl_dim_ban_kind(idgw_acl_dim dim)
{
    switch (dim) {
    case IDGW_ACL_DIM_ADDR:     return IDGW_ACL_ADDR;
    case IDGW_ACL_DIM_TERMINAL: return IDGW_ACL_TERMINAL;
    default:                    return -1;
    }
}

const char *idgw_acl_key_version(apr_pool_t *p, const char *prefix)
{
    return apr_pstrcat(p, prefix, "acl:ver", NULL);
}

const char *idgw_acl_key_list(apr_pool_t *p, const char *prefix,
                              idgw_acl_list list, idgw_acl_kind kind)
{
    return apr_pstrcat(p, prefix, "acl:", idgw_acl_list_name(list), ":",
                       idgw_acl_kind_name(kind), NULL);
}

const char *idgw_acl_key_rate(apr_pool_t *p, const char *prefix,
                              idgw_acl_dim dim, const char *value)
{
    return apr_pstrcat(p, prefix, "acl:rl:", idgw_acl_dim_name(dim), ":", value, NULL);
}

const char *idgw_acl_key_breach(apr_pool_t *p, const char *prefix,
                                idgw_acl_dim dim, const char *value)
{
    return apr_pstrcat(p, prefix, "acl:br:", idgw_acl_dim_name(dim), ":", value, NULL);
}

const char *idgw_acl_key_strike(apr_pool_t *p, const char *prefix,
                                idgw_acl_kind kind, const char *value)
{
    return apr_pstrcat(p, prefix, "acl:st:", idgw_acl_kind_name(kind), ":", value, NULL);
}

void idgw_acl_lists_keys(apr_pool_t *p, const char *prefix,
                         const char *keys[IDGW_ACL_LIST_KEYS])
{
    for (int list = 0; list < IDGW_ACL_LISTS; list++) {
        for (int kind = 0; kind < IDGW_ACL_KINDS; kind++) {
            keys[list * IDGW_ACL_KINDS + kind] =
                idgw_acl_key_list(p, prefix, (idgw_acl_list)list, (idgw_acl_kind)kind);
        }
    }
}

/* Reads a decimal integer up to the next ':' (or the end when last). */
static const char *take_int(const char *s, int last, int64_t max, int64_t *out)
{
    int64_t v = 0;
    const char *c = s;

    for (; *c >= '0' && *c <= '9'; c++) {
        if (c - s >= 18) {
            return NULL;
        }
        v = v * 10 + (*c - '0');
    }
    if (c == s || v > max || (last ? *c != '\0' : *c != ':')) {
        return NULL;
    }
    *out = v;
    return last ? c : c + 1;
}

int idgw_acl_deny_code_parse(const char *code, idgw_acl_check_reply *out)
{
    static const char tag[] = "IDGW-ACL-429:";
    const char *c;
    int64_t dim, banned;

    if (code == NULL || strncmp(code, tag, sizeof(tag) - 1) != 0) {
        return 0;
    }
    c = code + sizeof(tag) - 1;
    if ((c = take_int(c, 0, IDGW_ACL_DIMS, &dim)) == NULL || dim < 1 ||
        (c = take_int(c, 0, INT64_C(1) << 50, &out->retry_us)) == NULL ||
        (c = take_int(c, 0, 1, &banned)) == NULL ||
        take_int(c, 1, INT64_C(1) << 53, &out->version) == NULL) {
        return 0;
    }
    out->refused = (int)dim;
    out->banned = (int)banned;
    return 1;
}
