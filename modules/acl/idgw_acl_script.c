/* idgw_acl_script: Lua scripts and key names of the fleet-wide access
 * control (see idgw_acl_script.h for the calling conventions).
 *
 * Lua 5.1 prints numbers with %.14g, which would round microsecond times;
 * every number written back to Redis goes through string.format('%d'). */
#include "idgw_acl_script.h"

#include <string.h>

#include <apr_strings.h>

#include "idgw_acl_shadow.h"

/* Key layouts as Lua literals: LISTS has K[1] the version and the list
 * hashes up to K[LAST_LIST_KEY]; CHECK has the first dimension's keys from
 * K[DIM_KEY0], two per dimension. */
#define LUA_LAST_LIST_KEY "13"
#define LUA_DIM_KEY0 "1"
_Static_assert(IDGW_ACL_LIST_KEYS == 12, "LUA_LAST_LIST_KEY follows the lists");
#define LUA_SHADOW_RECORD_MS "604800000"
_Static_assert(IDGW_ACL_SHADOW_RECORD_DAYS == 7, "LUA_SHADOW_RECORD_MS is 7 days");

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

/* Shared by every script that changes the lists: the new version is
 * max(current + 1, Redis's clock in microseconds), so it is strictly above
 * every number handed out before, even after Redis lost the key (a flush, a
 * restart without persistence, an older dump): a fresh counter starts from
 * the clock, not from 1, and can never repeat a number a child's stale copy
 * carries.  A current value that is not a number counts as missing.
 * The new number is announced on the channel named like the version key
 * (idgw_acl_sync.h) with pcall: a Redis user without the channel's
 * permission (Redis 7's default for new ACL users) loses the announcement,
 * not the change; the listeners' polls find it. */
#define LUA_BUMP_HELPER                                                        \
    "local function bump(vkey)\n"                                              \
    "  local t = redis.call('TIME')\n"                                         \
    "  local v = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"                  \
    "  local cur = tonumber(redis.call('GET', vkey) or '')\n"                  \
    "  if cur and cur + 1 > v then v = cur + 1 end\n"                          \
    "  local s = string.format('%d', v)\n"                                     \
    "  redis.call('SET', vkey, s)\n"                                           \
    "  redis.pcall('PUBLISH', vkey, s)\n"                                      \
    "  return s\n"                                                             \
    "end\n"

#define LUA_NOW                                                                \
    "local t = redis.call('TIME')\n"                                           \
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"                  \
    "local now_ms = math.floor(now / 1000)\n"

/* Prunes expired entries from the eight list hashes K[2..9] and returns
 * them as eight flat {field, value, ...} arrays. */
#define LUA_DUMP_HELPER \
    "local function dump(K, now_ms)\n" \
    "  local out = {}\n" \
    "  for i = 2, " LUA_LAST_LIST_KEY " do\n" \
    "    local flat = redis.call('HGETALL', K[i])\n" \
    "    local keep = {}\n" \
    "    for j = 1, #flat, 2 do\n" \
    "      local exp = tonumber(string.match(flat[j + 1], '^(%d+)|'))\n" \
    "      if exp and exp ~= 0 and exp <= now_ms then\n" \
    "        redis.call('HDEL', K[i], flat[j])\n" \
    "      else\n" \
    "        keep[#keep + 1] = flat[j]\n" \
    "        keep[#keep + 1] = flat[j + 1]\n" \
    "      end\n" \
    "    end\n" \
    "    out[#out + 1] = keep\n" \
    "  end\n" \
    "  return out\n" \
    "end\n"

/* Writes one request's shadow refusals (the "LAYER:RULE" fields) into the
 * records of its subjects K[base + 1 .. base + nsub]: a count and the time
 * of the last one per rule, the record living on for
 * IDGW_ACL_SHADOW_RECORD_DAYS after its last write.  Nothing when no shadow
 * rule would refuse: the steady path writes nothing here. */
#define LUA_SHADOW_RECORD_HELPER \
    "local function shadow_record(K, base, nsub, fields, now_ms)\n" \
    "  if #fields == 0 then return end\n" \
    "  for s = 1, nsub do\n" \
    "    local stamps = {}\n" \
    "    for _, f in ipairs(fields) do\n" \
    "      redis.call('HINCRBY', K[base + s], f, 1)\n" \
    "      stamps[#stamps + 1] = f .. ':last'\n" \
    "      stamps[#stamps + 1] = string.format('%d', now_ms)\n" \
    "    end\n" \
    "    redis.call('HSET', K[base + s], unpack(stamps))\n" \
    "    redis.call('PEXPIRE', K[base + s], '" LUA_SHADOW_RECORD_MS "')\n" \
    "  end\n" \
    "end\n"

/* Body of function(K, A): K and A are this check's KEYS and ARGV (the whole
 * of them standalone, its slice when folded into the session script).  It is
 * on the path of every request no lease covers (idgw_acl_lease.h), so it
 * reads the limits' states with one MGET, asks for the clock only when a
 * limit needs it (folded: the session core's), and writes one SET per
 * limited dimension.  It neither reads
 * nor carries the lists: they reach the node through its listener
 * (idgw_acl_sync.h), and a ban the breaches earn is only reported (the node
 * writes it with BAN: one more round trip, paid by the banned request).
 *
 * P (nil when run on its own) says whether the request's session is proven
 * (mod_idgw.h: it shares the session core's read, no extra command).  After
 * the dimensions, A[2 + 4n] names the dimension that counts only proven
 * identities (the terminal's; 0: none): unproven, that dimension counts under
 * K[DIM_KEY0 + 2n] instead (the terminal id as named from this client
 * address), and its refusals earn no ban: a flood naming a victim's terminal
 * id limits the flooder's address, never the victim.
 *
 * Shadow mode (idgw_acl_shadow.h) follows from A[3 + 4n]: a dimension in
 * shadow mode that would refuse is let through, its state not advanced, its
 * breach counted (the ban it earns goes to the shadow bans), and recorded
 * against the subjects with the rules the node already noted. */
#define LUA_CHECK_HELPERS \
    LUA_SHADOW_RECORD_HELPER

#define LUA_CHECK_BODY \
    "local n = tonumber(A[1])\n" \
    "local rk = {}\n" \
    "for i = 1, n do rk[i] = K[" LUA_DIM_KEY0 " + (i - 1) * 2] end\n" \
    "local g = tonumber(A[2 + n * 5] or '') or 0\n" \
    "local subk = " LUA_DIM_KEY0 " - 1 + n * 2 + (g > 0 and 1 or 0)\n" \
    "if g > 0 and not (P and P()) then rk[g] = K[" LUA_DIM_KEY0 " + n * 2] else g = 0 end\n" \
    "local x = 3 + n * 5\n" \
    "local smask = tonumber(A[x] or '0') or 0\n" \
    "local nsub = tonumber(A[x + 1] or '0') or 0\n" \
    "local nfield = tonumber(A[x + 2] or '0') or 0\n" \
    "local fields = {}\n" \
    "for f = 1, nfield do fields[f] = A[x + 2 + f] end\n" \
    "if n == 0 and nfield == 0 then return { 0, 0, 0, 0, 0, {} } end\n" \
    "local got = n > 0 and redis.call('MGET', unpack(rk)) or {}\n" \
    "local t = C and C() or redis.call('TIME')\n" \
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n" \
    "local now_ms = math.floor(now / 1000)\n" \
    "local function shadowed(i) return math.floor(smask / 2 ^ (i - 1)) % 2 == 1 end\n" \
    "local function breach(i)\n" \
    "  local a, k = 2 + (i - 1) * 5, " LUA_DIM_KEY0 " + (i - 1) * 2\n" \
    "  local threshold = tonumber(A[a + 2])\n" \
    "  if threshold <= 0 or i == g then return 0 end\n" \
    "  local count = redis.call('INCR', K[k + 1])\n" \
    "  if count == 1 then redis.call('PEXPIRE', K[k + 1], A[a + 3]) end\n" \
    "  if count < threshold then return 0 end\n" \
    "  redis.call('DEL', K[k + 1])\n" \
    "  return 1\n" \
    "end\n" \
    "local refused, retry, due, sref, sdue = 0, 0, 0, 0, 0\n" \
    "local new, extra = {}, {}\n" \
    "for i = 1, n do extra[i] = 0 end\n" \
    "for i = 1, n do\n" \
    "  local a = 2 + (i - 1) * 5\n" \
    "  local T, tau = tonumber(A[a]), tonumber(A[a + 1])\n" \
    "  local tat = tonumber(got[i] or '0') or 0\n" \
    "  local ceiling = now + tau + T\n" \
    "  if tat > ceiling then tat = ceiling end\n" \
    "  local base = tat\n" \
    "  if base < now then base = now end\n" \
    "  if base - now <= tau then\n" \
    "    local want = tonumber(A[a + 4]) or 1\n" \
    "    if want > 1 then\n" \
    "      local room = math.floor((tau / 2 - (base - now)) / T)\n" \
    "      if room > 0 then extra[i] = math.min(room, want - 1) end\n" \
    "    end\n" \
    "    new[i] = base + (1 + extra[i]) * T\n" \
    "  elseif shadowed(i) then\n" \
    "    sref = sref + 2 ^ (i - 1)\n" \
    "    fields[#fields + 1] = A[x + 2 + nfield + i]\n" \
    "  else\n" \
    "    refused, retry = i, base - now - tau\n" \
    "    break\n" \
    "  end\n" \
    "end\n" \
    "if refused == 0 then\n" \
    "  for i = 1, n do\n" \
    "    if new[i] then redis.call('SET', rk[i], string.format('%d', new[i]),\n" \
    "      'PX', string.format('%d', math.ceil((new[i] - now) / 1000) + 1000)) end\n" \
    "  end\n" \
    "else\n" \
    "  due = breach(refused)\n" \
    "  for i = 1, n do extra[i] = 0 end\n" \
    "end\n" \
    "for i = 1, n do\n" \
    "  if math.floor(sref / 2 ^ (i - 1)) % 2 == 1 and breach(i) == 1 then\n" \
    "    sdue = sdue + 2 ^ (i - 1)\n" \
    "  end\n" \
    "end\n" \
    "shadow_record(K, subk, nsub, fields, now_ms)\n" \
    "return { refused, retry, due, sref, sdue, extra }\n"

/* BAN: writes one temporary ban and announces the lists' new version.
 * K[1] version key, K[2] the list hash; A[1] the value, A[2] the duration
 * (ms), A[3] the source, A[4] the reason.  Reply: 1 when written, 0 when
 * the value is already banned for good or for longer (nothing changes). */
const char idgw_acl_lua_ban[] =
    LUA_BAN_HELPER
    LUA_BUMP_HELPER
    LUA_NOW
    "local w = ban(KEYS[2], ARGV[1], now_ms + tonumber(ARGV[2]), now_ms, ARGV[3], ARGV[4])\n"
    "if w == 1 then bump(KEYS[1]) end\n"
    "return w\n";

/* LISTS, run by a node's listener (idgw_acl_sync.h) when it starts, when a
 * change is announced and at least every poll interval: K[1] the version,
 * K[2..13] the list hashes (idgw_acl_lists_keys order), A[1] the version the
 * node holds ("-1": none).  A missing version key (the lists were reset: a
 * flush, a restart without persistence) or one no node could hold (not a
 * plain decimal in range) is replaced at once with a number from the clock:
 * it must never match a node's copy, and every node reloads once.
 * Reply: { version, 0 } when the node's copy is current, else
 * { version, twelve flat {field, value, ...} arrays } (expired entries
 * pruned on the way). */
const char idgw_acl_lua_lists[] =
    LUA_BUMP_HELPER
    LUA_DUMP_HELPER
    "local ver = redis.call('GET', KEYS[1])\n"
    "if not ver or #ver > 16 or not string.match(ver, '^[1-9]%d*$') then\n"
    "  ver = bump(KEYS[1])\n"
    "end\n"
    "if ver == ARGV[1] then return { ver, 0 } end\n"
    "local t = redis.call('TIME')\n"
    "return { ver, dump(KEYS, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) }\n";

/* The shadow refusals a request learnt only after its CHECK (a list entry
 * its node's refreshed copy revealed): KEYS the subjects' records, ARGV the
 * "LAYER:RULE" fields.  Run only for such a request. */
const char idgw_acl_lua_shadow_record[] =
    LUA_SHADOW_RECORD_HELPER
    "local t = redis.call('TIME')\n"
    "shadow_record(KEYS, 0, #KEYS, ARGV, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))\n"
    "return #KEYS\n";

#define LUA_CHECK_FUNCTION \
    LUA_CHECK_HELPERS \
    "local function acl_check(K, A, P, C)\n" \
    LUA_CHECK_BODY \
    "end\n"

const char idgw_acl_lua_check[] =
    LUA_CHECK_FUNCTION
    "return acl_check(KEYS, ARGV, nil, nil)\n";

/* As a part of mod_idgw_session's per-request script (idgw_script.h): a
 * refusal stops the request before the session is touched, so a refused
 * request never advances the sequence number.  The definitions are the
 * part's setup: in the function library they are made once, not per call
 * (they keep no per-call state: acl_check's locals are its own). */
const char idgw_acl_lua_part_setup[] =
    LUA_CHECK_FUNCTION;

const char idgw_acl_lua_part[] =
    "local r = acl_check(K, A, core, clock)\n"
    "if r[1] ~= 0 then return { 'DENY', '" IDGW_ACL_RATE_CODE "', 429, r } end\n"
    "return r\n";

/* STRIKES, run on its own by a node whose request the session core refused
 * with a strike (the per-request script carries nothing for it).  A[6]
 * says whom the strike counts against (idgw_lua_session.c): 1, the request
 * proved a proven session (its chip or user authenticated): terminal and
 * address; 2, anything else: the address only, so that nobody can get a
 * victim's terminal banned by naming it, with a forged token or in sessions
 * of its own opened under that name. */
const char idgw_acl_lua_strikes[] =
    LUA_BAN_HELPER
    LUA_BUMP_HELPER
    "local K, A = KEYS, ARGV\n"
    "if tonumber(A[1]) == 0 then return 0 end\n"
    "local scope = tonumber(A[6])\n"
    "if scope ~= 1 and scope ~= 2 then return 0 end\n"
    LUA_NOW
    "local bans = 0\n"
    "for i = (scope == 1 and 1 or 2), 2 do\n"
    "  local v = A[3 + i]\n"
    "  if v ~= '' then\n"
    "    local c = redis.call('INCR', K[1 + i])\n"
    "    if c == 1 then redis.call('PEXPIRE', K[1 + i], A[2]) end\n"
    "    if c >= tonumber(A[1]) then\n"
    "      redis.call('DEL', K[1 + i])\n"
    "      bans = bans + ban(K[3 + i], v, now_ms + tonumber(A[3]), now_ms,\n"
    "        'auto-strikes', string.format('%d sequence errors within %d s', c,\n"
    "          tonumber(A[2]) / 1000))\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if bans > 0 then bump(K[1]) end\n"
    "return bans\n";

/* COUNT_STRIKE, on a Redis Cluster where STRIKES' keys span slots: one
 * counter, K[1]; A[1] threshold, A[2] window (ms).  Reply: the count when
 * it reached the threshold (the counter starts again: the caller writes the
 * ban with BAN), else 0. */
const char idgw_acl_lua_count_strike[] =
    "local c = redis.call('INCR', KEYS[1])\n"
    "if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
    "if c < tonumber(ARGV[1]) then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return c\n";

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

/* Set once, before the children fork (post_config); read-only after. */
static int cluster_layout;

void idgw_acl_keys_cluster_layout(int on)
{
    cluster_layout = on;
}

/* The lists and their version share one slot on a Redis Cluster (BAN and
 * LISTS touch them together): PREFIXacl:{lists}:... */
static const char *lists_base(void)
{
    return cluster_layout ? "acl:{lists}:" : "acl:";
}

const char *idgw_acl_key_version(apr_pool_t *p, const char *prefix)
{
    return apr_pstrcat(p, prefix, lists_base(), "ver", NULL);
}

const char *idgw_acl_key_list(apr_pool_t *p, const char *prefix,
                              idgw_acl_list list, idgw_acl_kind kind)
{
    return apr_pstrcat(p, prefix, lists_base(), idgw_acl_list_name(list), ":",
                       idgw_acl_kind_name(kind), NULL);
}

/* A limit's keys: on a Redis Cluster each dimension and value is a slot of
 * its own, its rate and breach keys tagged alike (PREFIXacl:rl:{addr:V} and
 * PREFIXacl:br:{addr:V}), so one CHECK per dimension runs there. */
static const char *limit_key(apr_pool_t *p, const char *prefix, const char *what,
                             idgw_acl_dim dim, const char *value)
{
    return apr_pstrcat(p, prefix, what, cluster_layout ? "{" : "", idgw_acl_dim_name(dim),
                       ":", value, cluster_layout ? "}" : "", NULL);
}

const char *idgw_acl_key_rate(apr_pool_t *p, const char *prefix,
                              idgw_acl_dim dim, const char *value)
{
    return limit_key(p, prefix, "acl:rl:", dim, value);
}

const char *idgw_acl_key_rate_claim(apr_pool_t *p, const char *prefix,
                                    const char *terminal, const char *addr)
{
    return limit_key(p, prefix, "acl:rl:", IDGW_ACL_DIM_TERMINAL,
                     apr_pstrcat(p, terminal, "@", addr, NULL));
}

const char *idgw_acl_key_breach(apr_pool_t *p, const char *prefix,
                                idgw_acl_dim dim, const char *value)
{
    return limit_key(p, prefix, "acl:br:", dim, value);
}

const char *idgw_acl_key_strike(apr_pool_t *p, const char *prefix,
                                idgw_acl_kind kind, const char *value)
{
    /* on a Cluster each counter is a slot of its own (COUNT_STRIKE) */
    return apr_pstrcat(p, prefix, "acl:st:", cluster_layout ? "{" : "",
                       idgw_acl_kind_name(kind), ":", value, cluster_layout ? "}" : "", NULL);
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
