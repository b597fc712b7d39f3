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

const char *idgw_key_session(apr_pool_t *p, const char *prefix, const char *sid)
{
    return apr_pstrcat(p, prefix, "s:{", sid, "}", NULL);
}

const char *idgw_key_vault_operation(apr_pool_t *p, const char *prefix, const char *sid)
{
    return apr_pstrcat(p, prefix, "vo:{", sid, "}", NULL);
}

const char *idgw_key_vault_session(apr_pool_t *p, const char *prefix, const char *sid)
{
    return apr_pstrcat(p, prefix, "vs:{", sid, "}", NULL);
}

/* The reaper's set of open operations (member: session id, score: when the
 * operation counts as abandoned) and its record of one session's operation.
 * idgw_lua_reap_claim derives the record's and the session's names from the
 * prefix the same way: keep them in step. */
const char *idgw_key_reap_set(apr_pool_t *p, const char *prefix)
{
    return apr_pstrcat(p, prefix, "reap", NULL);
}

const char *idgw_key_reap_record(apr_pool_t *p, const char *prefix, const char *sid)
{
    return apr_pstrcat(p, prefix, "reap:{", sid, "}", NULL);
}

const char *idgw_key_strike_terminal(apr_pool_t *p, const char *prefix, const char *tid)
{
    return apr_pstrcat(p, prefix, "strike:t:", tid, NULL);
}

/* Counted per address; the auto-ban of mod_idgw_acl counts an IPv6 client
 * by its /64 in its own keys. */
const char *idgw_key_strike_address(apr_pool_t *p, const char *prefix, const char *addr)
{
    return apr_pstrcat(p, prefix, "strike:a:", addr, NULL);
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
