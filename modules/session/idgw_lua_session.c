/*
 * idgw_lua_session.c - the Lua text of the scripts Redis runs for sessions.
 *
 * Kept in C so the build needs no generator; the Redis room's composer
 * (idgw_script.c) puts the per-request script together from the core given
 * here (transition table + session core) and the parts other modules register.
 * Conventions inside the scripts:
 *   - time comes from Redis (TIME), one clock for the whole fleet;
 *   - every key written gets an expiry in the same script;
 *   - values are compared as Lua strings, which Lua interns: equality is a
 *     pointer comparison, so it does not leak how many leading bytes match.
 */
#include "idgw_lua_session.h"
#include "idgw_transitions.h"

#include <apr_strings.h>

/* Helpers and the session core: function core(K, A) -> result table (the
 * composer in idgw_script.c calls it as part 0 of the per-request script).
 * K: 1 session hash, 2 vault (operation), 3 vault (session),
 *    4 strike counter (terminal), 5 strike counter (address) (absent with a
 *    Redis Cluster: A[18])
 * A: 1 mode (open|step|status), 2 op, 3 step, 4 seq, 5 digest, 6 terminal id,
 *    7 IDm, 8 client address, 9 address policy (0 off, 1 log, 2 enforce),
 *    10 idle ms, 11 lifetime ms, 12 max relays, 13 strike window ms,
 *    14 pending lease ms, 15 correlation id (open: the new session's; else ''),
 *    16 the master's replication id, 17 its replid2 (both '' when unknown:
 *    the history rule is then off; see idgw_session_history.c),
 *    18 '1' when the strike counters (K 4, 5) live on other slots (Redis
 *    Cluster): the script then only reports the strike's scope and the
 *    caller counts it (idgw_session_cluster.c); '0' otherwise,
 *    19 the operation vault's items the step's handler reads, space-separated
 *    (idgw_vault_prefetch; '' or absent: none)
 * Results: {'OK', from, to, seq, relays, created_ms, deadline_ms, addr_mismatch, kind,
 *           attempt, correlation id[, the items of A[19] (HMGET of K 2)]}
 *          {'RETX', answer, addr_mismatch}
 *          {'ERR', code, strike, invalidated}
 *          {'COLLIDE'}                                  (open: id in use)
 * strike (IDGW_STRIKE_* in idgw_session_call.h): 0 none; 1 the request proved
 * it belongs to a PROVEN session (token and binding matched, and the session's
 * chip authenticated through the secure channel or a backend authenticated its
 * user: field pv), so its terminal and address are struck; 2 anything else
 * (unknown, dead or closed token, binding mismatch, or a session nobody has
 * proven yet), so only the address it came from is struck: a terminal id an
 * app merely names is only a claim (session/open accepts any), and striking
 * it would let anyone get any terminal banned.
 *
 * core_proven(K, A): the same test for the parts that run before the core
 * (the access checks count a terminal's rate limit only when it is proven);
 * it shares the core's one read of the session hash (read_session).
 *
 * Session hash fields: st state, seq last accepted sequence number, dg its
 * digest, ans its committed answer ('' while the step runs), pt when the step
 * was claimed, at the attempt number (the fencing token: every claim, NEW or
 * RECLAIM, increments it; only the attempt holding the current number may
 * write the step's vault items or commit its answer), prev the state before
 * the step, nr relays, tid/idm/addr the binding, ct/dl created and deadline,
 * cid the correlation id (random, drawn at open: nothing derived from the
 * token or the session id), rid the master's replication id the session was
 * last written under (open and every claim), why the code of the refusal that
 * ended the session (st dead), pv what proved the binding ('chip' or 'user';
 * absent: nothing yet; written by a commit, idgw_session_prove). */
const char idgw_lua_session_core[] =
"-- one TIME per script: the core and the parts share it (script_time)\n"
"local time_cache = nil\n"
"local session_fields = nil\n"
"-- called first on every call: as a function library, these locals outlive\n"
"-- the call, and the next call must not see this one's clock or session\n"
"local function core_begin() time_cache = nil; session_fields = nil end\n"
"local function script_time()\n"
"  if not time_cache then time_cache = redis.call('TIME') end\n"
"  return time_cache\n"
"end\n"
"local function now_ms()\n"
"  local t = script_time()\n"
"  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"end\n"
"local function fmt(ms) return string.format('%.0f', ms) end\n"
"local function strike(K, A, scope)\n"
"  if A[18] == '1' then return end  -- Cluster: counted by the caller, on their own slots\n"
"  for i = (scope == 1 and 4 or 5), 5 do\n"
"    if redis.call('INCR', K[i]) == 1 or redis.call('PTTL', K[i]) < 0 then\n"
"      redis.call('PEXPIRE', K[i], A[13])\n"
"    end\n"
"  end\n"
"end\n"
"-- the session hash lives for the idle timeout after its last use, even past\n"
"-- the deadline (a late request then learns IDGW-SES-004, not IDGW-SES-001);\n"
"-- the vault (card data) never outlives the deadline\n"
"-- (no_op: the session is in ready, where no operation is open and its\n"
"-- vault is gone: the commit that ended it deleted it; a status poll then\n"
"-- spares that PEXPIRE, which could only lengthen what should not exist)\n"
"local function touch(K, now, dl, idle, no_op)\n"
"  local ttl = math.max(1, math.min(idle, dl - now))\n"
"  redis.call('PEXPIRE', K[1], idle)\n"
"  if not no_op then redis.call('PEXPIRE', K[2], ttl) end\n"
"  redis.call('PEXPIRE', K[3], ttl)\n"
"end\n"
"-- proven: token and binding matched in a session whose chip or user is\n"
"-- proven (a closed session proves nothing more)\n"
"local function fail(K, A, st, code, proven)\n"
"  local scope = (proven and st ~= 'closed') and 1 or 2\n"
"  strike(K, A, scope)\n"
"  if st == 'closed' then return {'ERR', code, scope, 0} end\n"
"  -- why: a step still running in this session answers the same code\n"
"  redis.call('HSET', K[1], 'st', 'dead', 'ans', '', 'why', code)\n"
"  redis.call('DEL', K[2], K[3])\n"
"  redis.call('PEXPIRE', K[1], A[10])\n"
"  return {'ERR', code, scope, 1}\n"
"end\n"
/* rolled back (IDGW-SEQ-007): this master lacks a write the gateway
 * acknowledged.  The session ends (the reaper tells the backends of an open
 * operation), nothing runs again, and nobody is struck: a failover rolls
 * back honest phones by the thousand.  Written under another history: the
 * recorded replid is neither this master's replid nor its replid2 (a restart
 * from an older snapshot, or two failovers since the last write). */
"local function rolled_back(K, A)\n"
"  redis.call('HSET', K[1], 'st', 'dead', 'ans', '', 'why', 'IDGW-SEQ-007')\n"
"  redis.call('DEL', K[2], K[3])\n"
"  redis.call('PEXPIRE', K[1], A[10])\n"
"  return {'ERR', 'IDGW-SEQ-007', 0, 1}\n"
"end\n"
"local function other_history(A, rid)\n"
"  return A[16] ~= '' and rid ~= nil and rid ~= '' and rid ~= A[16] and rid ~= A[17]\n"
"end\n"
"local function session_open(K, A, now)\n"
"  if redis.call('EXISTS', K[1]) == 1 then return {'COLLIDE'} end\n"
"  local life, idle = tonumber(A[11]), tonumber(A[10])\n"
"  local dl = now + life\n"
"  redis.call('HSET', K[1], 'st', 'ready', 'seq', '0', 'tid', A[6], 'idm', A[7],\n"
"             'addr', A[8], 'ct', fmt(now), 'dl', fmt(dl), 'nr', '0', 'dg', '', 'ans', '',\n"
"             'pt', '0', 'prev', 'none', 'at', '0', 'cid', A[15], 'rid', A[16])\n"
"  redis.call('PEXPIRE', K[1], math.min(idle, life))\n"
"  return {'OK', 'none', 'ready', 0, 0, now, dl, 0, 'OPEN', 0, A[15]}\n"
"end\n"
"-- one read of the session hash per script, shared by core_proven and core\n"
"local function read_session(K)\n"
"  if not session_fields then\n"
"    session_fields = redis.call('HMGET', K[1], 'st', 'seq', 'tid', 'idm', 'addr', 'dl',\n"
"                                'nr', 'dg', 'ans', 'pt', 'ct', 'prev', 'at', 'cid', 'pv',\n"
"                                'rid')\n"
"  end\n"
"  return session_fields\n"
"end\n"
"local function core_proven(K, A)\n"
"  if A[1] == 'open' then return false end\n"
"  local s = read_session(K)\n"
"  return s[1] ~= false and s[1] ~= 'dead' and s[1] ~= 'closed' and s[3] == A[6]\n"
"    and s[4] == A[7] and (s[15] or '') ~= ''\n"
"end\n"
"-- what the step's handler will read of the operation vault, read with its\n"
"-- claim: the claim fences every other attempt out, so nothing but this\n"
"-- request can change them until it commits (nil: nothing asked)\n"
"local function prefetch(K, A)\n"
"  if not A[19] or A[19] == '' then return nil end\n"
"  local names = {}\n"
"  for n in string.gmatch(A[19], '[^ ]+') do names[#names + 1] = n end\n"
"  return redis.call('HMGET', K[2], unpack(names))\n"
"end\n"
"local function core(K, A)\n"
"  local now = now_ms()\n"
"  if A[1] == 'open' then return session_open(K, A, now) end\n"
"  local s = read_session(K)\n"
"  local pv = (s[15] or '') ~= ''\n"
"  if not s[1] then strike(K, A, 2); return {'ERR', 'IDGW-SES-001', 2, 0} end\n"
"  local st, lseq, dl, idle = s[1], tonumber(s[2]), tonumber(s[6]), tonumber(A[10])\n"
"  local nr, ct, at, cid = tonumber(s[7]), tonumber(s[11]), tonumber(s[13] or '0'), s[14] or ''\n"
"  if st == 'dead' then strike(K, A, 2); return {'ERR', 'IDGW-SES-002', 2, 0} end\n"
"  if s[3] ~= A[6] or s[4] ~= A[7] then return fail(K, A, st, 'IDGW-SES-005', false) end\n"
"  local amis = 0\n"
"  if s[5] ~= A[8] then\n"
"    amis = 1\n"
"    if A[9] == '2' then return fail(K, A, st, 'IDGW-SES-006', false) end\n"
"  end\n"
"  if now >= dl then\n"
"    -- the card data goes now; the hash stays until it idles out, so every\n"
"    -- request until then hears IDGW-SES-004 (it is not touched again)\n"
"    redis.call('DEL', K[2], K[3])\n"
"    return {'ERR', 'IDGW-SES-004', 0, 1}\n"
"  end\n"
"  -- a session written under another history may lack acknowledged writes\n"
"  if other_history(A, s[16]) then return rolled_back(K, A) end\n"
"  if A[1] == 'status' then\n"
"    if st == 'closed' then return {'ERR', 'IDGW-SES-003', 0, 0} end\n"
"    touch(K, now, dl, idle, st == 'ready')\n"
"    return {'OK', st, st, lseq, nr, ct, dl, amis, 'STATUS', at, cid}\n"
"  end\n"
"  local seq = tonumber(A[4])\n"
"  if seq == lseq and lseq > 0 then\n"
"    if A[5] ~= s[8] then return fail(K, A, st, 'IDGW-SEQ-003', pv) end\n"
"    if s[9] ~= '' then\n"
"      if st ~= 'closed' then touch(K, now, dl, idle) end\n"
"      return {'RETX', s[9], amis}\n"
"    end\n"
"    if now - tonumber(s[10]) < tonumber(A[14]) then return {'ERR', 'IDGW-SEQ-004', 0, 0} end\n"
"    -- the lease (no shorter than a step can take) passed without an answer:\n"
"    -- the first attempt is gone.  The retry takes the step over with a new\n"
"    -- attempt number, which fences the first attempt's writes out\n"
"    at = at + 1\n"
"    redis.call('HSET', K[1], 'pt', fmt(now), 'at', at)\n"
"    if st ~= 'closed' then touch(K, now, dl, idle) end\n"
"    return {'OK', s[12], st, seq, nr, ct, dl, amis, 'RECLAIM', at, cid, prefetch(K, A)}\n"
"  end\n"
"  if st == 'closed' then strike(K, A, 2); return {'ERR', 'IDGW-SES-003', 2, 0} end\n"
"  -- the phone is ahead of Redis: the gateway answered seq - 1, which this\n"
"  -- master never saw.  One step ahead (one lost write), or any gap in a\n"
"  -- session last written before the latest failover, is a rollback; other\n"
"  -- gaps stay sequence errors\n"
"  if seq > lseq + 1 and (seq == lseq + 2 or (A[16] ~= '' and s[16] ~= A[16])) then\n"
"    return rolled_back(K, A)\n"
"  end\n"
"  if seq ~= lseq + 1 then return fail(K, A, st, 'IDGW-SEQ-001', pv) end\n"
"  local nxt = T()[st .. '|' .. A[2] .. '|' .. A[3]]\n"
"  if not nxt then return fail(K, A, st, 'IDGW-SEQ-002', pv) end\n"
"  if A[3] == 'relay' then\n"
"    nr = nr + 1\n"
"    if nr > tonumber(A[12]) then return fail(K, A, st, 'IDGW-SEQ-005', pv) end\n"
"  else\n"
"    nr = 0\n"
"  end\n"
"  at = at + 1\n"
"  redis.call('HSET', K[1], 'st', nxt, 'seq', A[4], 'dg', A[5], 'ans', '',\n"
"             'pt', fmt(now), 'prev', st, 'nr', nr, 'at', at, 'rid', A[16])\n"
"  -- close keeps the vault items until its commit drops them: the close\n"
"  -- handler reads an open operation's context to tell the backends\n"
"  touch(K, now, dl, idle)\n"
"  return {'OK', st, nxt, seq, nr, ct, dl, amis, 'NEW', at, cid, prefetch(K, A)}\n"
"end\n";

/* Runs the parts and the core; P (the parts) and T (the table) are defined
 * above it by the assembler. */

/* Commit the answer of an accepted step (read back before the answer is sent).
 * KEYS: 1 session, 2 vault (operation), [3 vault (session), 4 reaper set,
 *       5 reaper record of this session: mod_idgw_session always passes them]
 * ARGV: 1 seq, 2 outcome (ok|abort), 3 answer, 4 drop operation vault (0|1),
 *       5 session id (the reaper set's member), 6 attempt number,
 *       7 what proved the session in this step ('chip', 'user' or '': pv),
 *       8 the number n of vault items the step stored with its commit
 *       (idgw_vault_stage; absent: 0), then 4 per item: scope ('o' the
 *       operation's, KEYS 2; 's' the session's, KEYS 3), name, sealed blob,
 *       '1' when the reaper keeps a copy (idgw_vault_put_reaped's record);
 *       then, when an item is reaped: hold ms, session id, operation, IDm,
 *       correlation id, virtual host (as idgw_lua_vault_put's ARGV 4-9)
 * Returns 1, or the code of why the step lost its claim: the session is gone
 * (IDGW-SES-001), was ended meanwhile (the code that ended it, e.g.
 * IDGW-SEQ-003 when another message took the same sequence number), or the
 * step was taken over by a retry after the lease (IDGW-SEQ-006: this attempt
 * is fenced out).  Only the attempt that holds the claim may commit, once.
 * The items stored with the commit are written first, as idgw_lua_vault_put
 * writes them (refused the same way: IDGW-SES-003 closed, IDGW-SES-004 the
 * session's time is up), so the answer and the context it leads to land
 * together or not at all, in one round trip.
 * When the operation ends here (abort, completion, close) its vault items go
 * and the reaper stops watching it: its handler has told the backends.  The
 * commit of close drops the session's vault items too (close keeps them
 * until now so that its handler can read an open operation's context). */
const char idgw_lua_commit[] =
"local s = redis.call('HMGET', KEYS[1], 'seq', 'st', 'ans', 'at', 'why', 'pv', 'dl')\n"
"if not s[1] then return 'IDGW-SES-001' end\n"
"if s[2] == 'dead' then return s[5] or 'IDGW-SES-002' end\n"
"if s[4] ~= ARGV[6] or s[1] ~= ARGV[1] or s[3] ~= '' then return 'IDGW-SEQ-006' end\n"
"local n = tonumber(ARGV[8] or '0')\n"
"if n > 0 then\n"
"  if s[2] == 'closed' then return 'IDGW-SES-003' end\n"
"  local t = redis.call('TIME')\n"
"  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"  local ttl = math.min(redis.call('PTTL', KEYS[1]), tonumber(s[7]) - now)\n"
"  if ttl <= 0 then return 'IDGW-SES-004' end\n"
"  local r = 9 + 4 * n\n"
"  for i = 9, 8 + 4 * n, 4 do\n"
"    local vault = ARGV[i] == 's' and KEYS[3] or KEYS[2]\n"
"    redis.call('HSET', vault, ARGV[i + 1], ARGV[i + 2])\n"
"    redis.call('PEXPIRE', vault, ttl)\n"
"    if ARGV[i + 3] == '1' then\n"
"      local hold = tonumber(ARGV[r])\n"
"      redis.call('HSET', KEYS[5], 'op', ARGV[r + 2], 'item', ARGV[i + 1], 'blob', ARGV[i + 2],\n"
"                 'idm', ARGV[r + 3], 'cid', ARGV[r + 4], 'vhost', ARGV[r + 5])\n"
"      redis.call('PEXPIRE', KEYS[5], 2 * hold)\n"
"      redis.call('ZADD', KEYS[4], string.format('%.0f', now + hold), ARGV[5])\n"
"    end\n"
"  end\n"
"end\n"
"redis.call('HSET', KEYS[1], 'ans', ARGV[3])\n"
"-- the first proof stays: later relay steps prove the same chip again\n"
"if ARGV[7] and ARGV[7] ~= '' and not s[6] then redis.call('HSET', KEYS[1], 'pv', ARGV[7]) end\n"
"if ARGV[2] == 'abort' and s[2] ~= 'closed' then\n"
"  redis.call('HSET', KEYS[1], 'st', 'ready', 'nr', '0')\n"
"end\n"
"if ARGV[2] == 'abort' or ARGV[4] == '1' or s[2] == 'closed' then\n"
"  redis.call('DEL', KEYS[2])\n"
"  if KEYS[5] then\n"
"    redis.call('DEL', KEYS[5])\n"
"    redis.call('ZREM', KEYS[4], ARGV[5])\n"
"  end\n"
"end\n"
"if s[2] == 'closed' and KEYS[3] then redis.call('DEL', KEYS[3]) end\n"
"return 1\n";

/* Record a strike and optionally invalidate the session.
 * KEYS: 1 strike (terminal), 2 strike (address), 3 session, 4 vault op, 5 vault session,
 *       6 reaper set, 7 reaper record of the session
 * ARGV: 1 strike window ms, 2 invalidate (0|1), 3 tombstone ms,
 *       4 strike the terminal too (1: the request passed the session check
 *       and the session is proven, field pv, or 2: proven by this very request;
 *       0: it proved nothing, only its address is struck), 5 session id,
 *       6 '1': do not count (Redis Cluster: KEYS 1 and 2 are on other slots and
 *       are not touched; the caller counts them), absent or '0': count
 * Returns 2 when the terminal is struck too, 1 when only the address is.
 * A handler that invalidates its session has told the backends itself: the
 * reaper stops watching the operation. */
const char idgw_lua_strike[] =
"local whole = ARGV[4] == '2' or (ARGV[4] == '1'\n"
"  and (redis.call('HGET', KEYS[3], 'pv') or '') ~= '')\n"
"for i = (whole and 1 or 2), (ARGV[6] == '1' and 0 or 2) do\n"
"  if redis.call('INCR', KEYS[i]) == 1 or redis.call('PTTL', KEYS[i]) < 0 then\n"
"    redis.call('PEXPIRE', KEYS[i], ARGV[1])\n"
"  end\n"
"end\n"
"if ARGV[2] == '1' then\n"
"  local st = redis.call('HGET', KEYS[3], 'st')\n"
"  if st and st ~= 'closed' and st ~= 'dead' then\n"
"    redis.call('HSET', KEYS[3], 'st', 'dead', 'ans', '', 'why', 'IDGW-SES-002')\n"
"    redis.call('DEL', KEYS[4], KEYS[5])\n"
"    if KEYS[7] then\n"
"      redis.call('DEL', KEYS[7])\n"
"      redis.call('ZREM', KEYS[6], ARGV[5])\n"
"    end\n"
"    redis.call('PEXPIRE', KEYS[3], ARGV[3])\n"
"  end\n"
"end\n"
"return whole and 2 or 1\n";

/* Store a sealed vault item; the item expires with the session at the latest
 * (idle timeout or deadline, whichever comes first).
 * KEYS: 1 session, 2 vault hash   ARGV: 1 item name, 2 sealed blob, 3 attempt
 * Refused (the same codes as the commit) unless this attempt holds the claim.
 * Arming the reaper as well (idgw_vault_put_reaped): KEYS 3 reaper set,
 * 4 reaper record; ARGV 4 hold ms (idle timeout + grace), 5 session id,
 * 6 operation, 7 IDm, 8 correlation id, 9 the virtual host the operation ran
 * under (its map and backends are the ones the reaper must use).  The record keeps its own copy of the sealed item for
 * twice the hold, so it outlives an idle-expired session; the set's score
 * is when the operation counts as abandoned unless another step comes. */
const char idgw_lua_vault_put[] =
"local s = redis.call('HMGET', KEYS[1], 'st', 'at', 'dl', 'why')\n"
"if not s[1] then return 'IDGW-SES-001' end\n"
"if s[1] == 'dead' then return s[4] or 'IDGW-SES-002' end\n"
"if s[1] == 'closed' then return 'IDGW-SES-003' end\n"
"if s[2] ~= ARGV[3] then return 'IDGW-SEQ-006' end\n"
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local ttl = math.min(redis.call('PTTL', KEYS[1]), tonumber(s[3]) - now)\n"
"if ttl <= 0 then return 'IDGW-SES-004' end\n"
"redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])\n"
"redis.call('PEXPIRE', KEYS[2], ttl)\n"
"if KEYS[4] then\n"
"  local hold = tonumber(ARGV[4])\n"
"  redis.call('HSET', KEYS[4], 'op', ARGV[6], 'item', ARGV[1], 'blob', ARGV[2], 'idm', ARGV[7],\n"
"             'cid', ARGV[8], 'vhost', ARGV[9])\n"
"  redis.call('PEXPIRE', KEYS[4], 2 * hold)\n"
"  redis.call('ZADD', KEYS[3], string.format('%.0f', now + hold), ARGV[5])\n"
"end\n"
"return 1\n";

/* The reaper's claim: take the operations due (abandoned) out of the set,
 * atomically, so that exactly one node of the fleet tells their backends.
 * KEYS: 1 reaper set   ARGV: 1 key prefix, 2 most entries per claim, 3 grace ms,
 *       4 the shard's tag (Redis Cluster; absent or '': one set)
 * Keys of a member are derived from the prefix here: <prefix>s:{sid} the
 * session, <prefix>reap:{sid} the record; with a tag (idgw_session_keys.h)
 * <prefix>s:{tag}:sid and <prefix>reap:{tag}:sid, in the shard's slot.
 * Per due member:
 *   - session alive with the operation still open (status polls kept it
 *     alive without a step): looked at again when it could next be idle;
 *   - session gone (idle-expired) or invalidated: claimed, the record is
 *     returned and deleted: {sid, 'reap', op, item, blob, idm, correlation id, vhost};
 *   - session closed or back in ready (its handler ended the operation and
 *     told the backends, but the commit that stops the watch was lost):
 *     dropped: {sid, 'drop'}.
 * A member that is not a session id is dropped. */
const char idgw_lua_reap_claim[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local grace = tonumber(ARGV[3])\n"
"local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now),\n"
"                       'LIMIT', 0, tonumber(ARGV[2]))\n"
"local out = {}\n"
"for _, sid in ipairs(due) do\n"
"  if not string.match(sid, '^%x+$') or #sid > 64 then\n"
"    redis.call('ZREM', KEYS[1], sid)\n"
"    out[#out + 1] = {'-', 'drop'}\n"
"  else\n"
"    local skey = ARGV[1] .. 's:{' .. sid .. '}'\n"
"    local rkey = ARGV[1] .. 'reap:{' .. sid .. '}'\n"
"    if ARGV[4] and ARGV[4] ~= '' then\n"
"      skey = ARGV[1] .. 's:{' .. ARGV[4] .. '}:' .. sid\n"
"      rkey = ARGV[1] .. 'reap:{' .. ARGV[4] .. '}:' .. sid\n"
"    end\n"
"    local st = redis.call('HGET', skey, 'st')\n"
"    if st and st ~= 'dead' and st ~= 'closed' and st ~= 'ready' then\n"
"      local ttl = math.max(0, redis.call('PTTL', skey))\n"
"      redis.call('ZADD', KEYS[1], string.format('%.0f', now + ttl + grace), sid)\n"
"      redis.call('PEXPIRE', rkey, 2 * (ttl + grace))\n"
"    elseif st == 'closed' or st == 'ready' then\n"
"      redis.call('ZREM', KEYS[1], sid)\n"
"      redis.call('DEL', rkey)\n"
"      out[#out + 1] = {sid, 'drop'}\n"
"    else\n"
"      -- a dead session's step may still run: it must not tell them too\n"
"      if st == 'dead' then redis.call('HSET', skey, 'rp', '1') end\n"
"      local rec = redis.call('HMGET', rkey, 'op', 'item', 'blob', 'idm', 'cid', 'vhost')\n"
"      redis.call('ZREM', KEYS[1], sid)\n"
"      redis.call('DEL', rkey)\n"
"      out[#out + 1] = {sid, 'reap', rec[1] or '', rec[2] or '', rec[3] or '', rec[4] or '',\n"
"                        rec[5] or '', rec[6] or ''}\n"
"    end\n"
"  end\n"
"end\n"
"return out\n";

/* One strike counter (Redis Cluster: each counter is a slot of its own, so
 * the session scripts leave counting to this one; idgw_session_cluster.c).
 * KEYS: 1 counter   ARGV: 1 strike window ms */
const char idgw_lua_count[] =
"local n = redis.call('INCR', KEYS[1])\n"
"if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then\n"
"  redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
"end\n"
"return n\n";

/* Put a claimed operation back (idgw_reaper.c): its claim was not confirmed
 * by the replicas (IdgwSessionWaitReplicas), so a failover could undo it and
 * another node claim the operation again after this one told its backends.
 * Nothing was told: the record is restored as the claim returned it and is
 * due at once, for the next claim to try again.
 * KEYS: 1 reaper set, 2 reaper record   ARGV: 1 session id, 2 operation,
 * 3 item, 4 sealed blob, 5 IDm, 6 correlation id, 7 virtual host, 8 hold ms */
const char idgw_lua_reap_putback[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"redis.call('HSET', KEYS[2], 'op', ARGV[2], 'item', ARGV[3], 'blob', ARGV[4], 'idm', ARGV[5],\n"
"           'cid', ARGV[6], 'vhost', ARGV[7])\n"
"redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[8]))\n"
"redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[1])\n"
"return 1\n";

/* Take the reaper's watch of a session's operation before its handler tells
 * the backends itself (idgw_session_unwatch): whoever removes the watch is
 * the one who tells them, so a handler whose commit is then lost (Redis cut
 * off, a failover) cannot leave a watch behind that the reaper acts on a
 * second time.  Fenced like a vault write: only the attempt holding the
 * step's claim.  A session ended under a running step (dead: a forged or
 * conflicting message) still lets that step take the watch and tell the
 * backends, unless the reaper claimed the operation first (it marks the
 * session "rp"): then telling is the reaper's.
 * KEYS: 1 session, 2 reaper set, 3 reaper record   ARGV: 1 attempt, 2 session id
 * Returns {1, op, item, blob, idm, cid, vhost} when a watch was taken (its
 * record, for idgw_lua_reap_putback should the replicas not confirm it),
 * {0} when there was none, or an error code. */
const char idgw_lua_unwatch[] =
"local s = redis.call('HMGET', KEYS[1], 'st', 'at', 'why', 'rp')\n"
"if not s[1] then return 'IDGW-SES-001' end\n"
"if s[1] == 'closed' then return 'IDGW-SES-003' end\n"
"if s[2] ~= ARGV[1] then return 'IDGW-SEQ-006' end\n"
"if s[4] then return s[3] or 'IDGW-SES-002' end\n"
"local rec = redis.call('HMGET', KEYS[3], 'op', 'item', 'blob', 'idm', 'cid', 'vhost')\n"
"local had = redis.call('ZREM', KEYS[2], ARGV[2])\n"
"redis.call('DEL', KEYS[3])\n"
"if had == 0 or not rec[3] then return {0} end\n"
"return {1, rec[1] or '', rec[2] or '', rec[3], rec[4] or '', rec[5] or '', rec[6] or ''}\n";

/* The transition table as a Lua table: T()['<state>|<op>|<step>'] = '<next state>'.
 * Built only when a step asks for it, and kept: an EVAL script's locals are
 * made anew on every call (the steady path, status, never needs the table),
 * a function library's live as long as the library (read only: it holds no
 * per-call state). */
static const char *render_table(apr_pool_t *p)
{
    size_t n, i;
    const idgw_transition *t = idgw_transitions(&n);
    char *out = apr_pstrdup(p, "local TT = nil\nlocal function T()\n"
                               "  if TT then return TT end\n  TT = {\n");

    for (i = 0; i < n; i++) {
        char from[IDGW_STATE_NAME_MAX], to[IDGW_STATE_NAME_MAX];

        if (t[i].op == IDGW_OP_OPEN)
            continue;   /* open is its own mode: there is no session to look up */
        idgw_state_format(&t[i].from, from, sizeof(from));
        idgw_state_format(&t[i].to, to, sizeof(to));
        out = apr_pstrcat(p, out, "  ['", from, "|", idgw_op_name(t[i].op), "|",
                          idgw_step_name(t[i].step), "'] = '", to, "',\n", NULL);
    }
    return apr_pstrcat(p, out, "  }\n  return TT\nend\n", NULL);
}

const char *idgw_lua_session_core_text(apr_pool_t *p)
{
    return apr_pstrcat(p, render_table(p), idgw_lua_session_core, NULL);
}
