/*
 * idgw_session_keys.c - tokens, session ids, key names and message digests.
 */
#include "idgw_session_keys.h"
#include "idgw_identity.h"

#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

apr_status_t idgw_token_new(char token[IDGW_TOKEN_HEX + 1])
{
    unsigned char raw[IDGW_TOKEN_BYTES];

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return APR_EGENERAL;
    idgw_hex(raw, sizeof(raw), token);
    return APR_SUCCESS;
}

apr_status_t idgw_correlation_new(char out[IDGW_CORRELATION_LEN + 1])
{
    memcpy(out, "idgw-", 5);
    return idgw_token_new(out + 5);
}

static int is_lower_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int idgw_token_valid(const char *s)
{
    size_t i;

    for (i = 0; i < IDGW_TOKEN_HEX; i++)
        if (!s[i] || !is_lower_hex((unsigned char)s[i]))
            return 0;
    return s[IDGW_TOKEN_HEX] == '\0';
}

static void sha256_parts(const void *const *parts, const size_t *lens, int n,
                         unsigned char md[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int mdlen = 0;
    int i, ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);

    for (i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i], lens[i]);
    if (!ok || !EVP_DigestFinal_ex(ctx, md, &mdlen))
        memset(md, 0, 32);   /* allocation failure: a digest nothing will match */
    EVP_MD_CTX_free(ctx);
}

void idgw_sid_from_token(const char *token, char sid[IDGW_SID_HEX + 1])
{
    unsigned char md[32];
    const void *parts[1] = { token };
    size_t lens[1] = { strlen(token) };

    sha256_parts(parts, lens, 1, md);
    idgw_hex(md, IDGW_SID_HEX / 2, sid);
}

int idgw_key_prefix_valid(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];

        if (i >= IDGW_KEY_PREFIX_MAX || c <= ' ' || c >= 127 || c == '{' || c == '}')
            return 0;
    }
    return i > 0;
}

/* Set once, before the children fork (post_config); read-only after. */
static int cluster_layout;

void idgw_keys_cluster_layout(int on)
{
    cluster_layout = on;
}

int idgw_keys_cluster(void)
{
    return cluster_layout;
}

/* The first four hex digits of the session id, modulo the shard count
 * (anything that is not a session id goes to shard 0). */
unsigned idgw_key_shard_of(const char *sid)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        int c = (unsigned char)sid[i];

        if (c >= '0' && c <= '9')
            v = v * 16 + (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (unsigned)(c - 'a' + 10);
        else
            return 0;
    }
    return v % IDGW_REAP_SHARDS;
}

const char *idgw_key_tag(apr_pool_t *p, const char *sid)
{
    return cluster_layout ? apr_psprintf(p, "%u", idgw_key_shard_of(sid)) : "";
}

/* One key of a session: <prefix><kind>:{<sid>}, or in the Cluster layout
 * <prefix><kind>:{<shard>}:<sid> (the shard's tag: one slot with its reaper
 * shard). */
static const char *session_key(apr_pool_t *p, const char *prefix, const char *kind,
                               const char *sid)
{
    if (cluster_layout)
        return apr_psprintf(p, "%s%s:{%u}:%s", prefix, kind, idgw_key_shard_of(sid), sid);
    return apr_pstrcat(p, prefix, kind, ":{", sid, "}", NULL);
}

const char *idgw_key_session(apr_pool_t *p, const char *prefix, const char *sid)
{
    return session_key(p, prefix, "s", sid);
}

const char *idgw_key_vault_operation(apr_pool_t *p, const char *prefix, const char *sid)
{
    return session_key(p, prefix, "vo", sid);
}

const char *idgw_key_vault_session(apr_pool_t *p, const char *prefix, const char *sid)
{
    return session_key(p, prefix, "vs", sid);
}

/* The reaper's set of open operations (member: session id, score: when the
 * operation counts as abandoned) and its record of one session's operation.
 * idgw_lua_reap_claim derives the record's and the session's names from the
 * prefix (and the shard's tag) the same way: keep them in step. */
const char *idgw_key_reap_set(apr_pool_t *p, const char *prefix, const char *sid)
{
    if (cluster_layout)
        return idgw_key_reap_shard(p, prefix, idgw_key_shard_of(sid));
    return apr_pstrcat(p, prefix, "reap", NULL);
}

const char *idgw_key_reap_shard(apr_pool_t *p, const char *prefix, unsigned shard)
{
    return apr_psprintf(p, "%sreap:{%u}", prefix, shard);
}

const char *idgw_key_reap_record(apr_pool_t *p, const char *prefix, const char *sid)
{
    return session_key(p, prefix, "reap", sid);
}

/* Fleet-wide counters, one slot each in the Cluster layout (their own tag). */
const char *idgw_key_strike_terminal(apr_pool_t *p, const char *prefix, const char *tid)
{
    return cluster_layout ? apr_pstrcat(p, prefix, "strike:t:{", tid, "}", NULL)
                          : apr_pstrcat(p, prefix, "strike:t:", tid, NULL);
}

/* Counted per address; the auto-ban of mod_idgw_acl counts an IPv6 client
 * by its /64 in its own keys. */
const char *idgw_key_strike_address(apr_pool_t *p, const char *prefix, const char *addr)
{
    return cluster_layout ? apr_pstrcat(p, prefix, "strike:a:{", addr, "}", NULL)
                          : apr_pstrcat(p, prefix, "strike:a:", addr, NULL);
}

void idgw_message_digest(const char *op, const char *step, const void *body, size_t len,
                         char out[IDGW_DIGEST_HEX + 1])
{
    unsigned char md[32];
    const void *parts[3] = { op, step, body };
    size_t lens[3] = { strlen(op) + 1, strlen(step) + 1, len };

    sha256_parts(parts, lens, body ? 3 : 2, md);
    idgw_hex(md, sizeof(md), out);
}
