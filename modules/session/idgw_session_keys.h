/*
 * idgw_session_keys.h - session tokens, session ids, Redis key names, digests.
 *
 * The terminal holds a token: 128 random bits issued by the gateway, 32
 * lowercase hex digits.  Redis never sees it: the session id (sid) is the
 * first 128 bits of SHA-256(token), so a dump of Redis does not hand out live
 * sessions.  Logs show only the first 8 hex digits of the sid.
 *
 * Key names (prefix from IdgwRedisKeyPrefix, "idgw:" by default):
 *   <prefix>s:{<sid>}         session hash
 *   <prefix>vo:{<sid>}        vault: items of the operation in progress
 *   <prefix>vs:{<sid>}        vault: items kept for the whole session
 *   <prefix>strike:t:<tid>    strike counter of a terminal id
 *   <prefix>strike:a:<addr>   strike counter of a client address
 * The {sid} hash tag keeps a session's keys in one slot.
 *
 * Redis Cluster layout (IdgwRedisCluster; idgw_keys_cluster_layout(1) in
 * post_config, before the children fork): every script must touch one slot,
 * and the reaper must find its shard in the session's slot, so a session's
 * keys carry the tag of its reaper shard (IDGW_REAP_SHARDS of them, chosen
 * by the session id) instead of the whole session id:
 *   <prefix>s:{<shard>}:<sid>, vo:{<shard>}:<sid>, vs:{<shard>}:<sid>,
 *   <prefix>reap:{<shard>}:<sid>  the reaper's record,
 *   <prefix>reap:{<shard>}        the reaper's shard of open operations,
 *   <prefix>strike:t:{<tid>}, <prefix>strike:a:{<addr>}  (a slot each).
 */
#ifndef IDGW_SESSION_KEYS_H
#define IDGW_SESSION_KEYS_H

#include <apr_pools.h>
#include <stddef.h>

#include "idgw_identity.h"

#define IDGW_TOKEN_BYTES 16
#define IDGW_TOKEN_HEX (2 * IDGW_TOKEN_BYTES)
#define IDGW_SID_HEX 32
#define IDGW_DIGEST_HEX 64
#define IDGW_KEY_PREFIX_MAX 64
#define IDGW_SID_LOG_HEX 8

/* A new token (IDGW_TOKEN_HEX digits + NUL); APR_EGENERAL if the RNG fails. */
apr_status_t idgw_token_new(char token[IDGW_TOKEN_HEX + 1]);

/* Exactly IDGW_TOKEN_HEX lowercase hex digits? */
int idgw_token_valid(const char *s);

/* A new correlation id for the backends: "idgw-" and 128 random bits in hex.
 * Random, not derived from the token or the session id: a leaked log line or
 * backend record names no session and no Redis key.  Drawn once, at open, and
 * kept in the session hash (every telegram of the session carries it). */
#define IDGW_CORRELATION_LEN (5 + IDGW_TOKEN_HEX)
apr_status_t idgw_correlation_new(char out[IDGW_CORRELATION_LEN + 1]);

/* sid = hex(SHA-256(token)[0..15]). */
void idgw_sid_from_token(const char *token, char sid[IDGW_SID_HEX + 1]);

/* Key prefix: 1..64 printable characters without spaces or braces. */
int idgw_key_prefix_valid(const char *s);

#define IDGW_REAP_SHARDS 256

/* Choose the Cluster layout (1) or the single-server one (0, the default). */
void idgw_keys_cluster_layout(int on);
int idgw_keys_cluster(void);
/* The reaper shard of a session id (0 .. IDGW_REAP_SHARDS - 1). */
unsigned idgw_key_shard_of(const char *sid);
/* The hash tag of a session's keys in the Cluster layout ("" otherwise). */
const char *idgw_key_tag(apr_pool_t *p, const char *sid);

const char *idgw_key_session(apr_pool_t *p, const char *prefix, const char *sid);
const char *idgw_key_vault_operation(apr_pool_t *p, const char *prefix, const char *sid);
const char *idgw_key_vault_session(apr_pool_t *p, const char *prefix, const char *sid);
/* The reaper's set the session's operation is watched in (one set, or its shard). */
const char *idgw_key_reap_set(apr_pool_t *p, const char *prefix, const char *sid);
const char *idgw_key_reap_shard(apr_pool_t *p, const char *prefix, unsigned shard);
const char *idgw_key_reap_record(apr_pool_t *p, const char *prefix, const char *sid);
const char *idgw_key_strike_terminal(apr_pool_t *p, const char *prefix, const char *tid);
const char *idgw_key_strike_address(apr_pool_t *p, const char *prefix, const char *addr);

/* Digest of one message: SHA-256(op NUL step NUL body), hex. */
void idgw_message_digest(const char *op, const char *step, const void *body, size_t len,
                         char out[IDGW_DIGEST_HEX + 1]);

#endif
