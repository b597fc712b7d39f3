/*
 * idgw_vault.h - seal card data and passwords kept during a session.
 *
 * AES-256-GCM.  Keys come from a key file (one 64-hex-digit key per line,
 * '#' comments and blank lines ignored, at most IDGW_VAULT_MAX_KEYS): the
 * first key seals, every key unseals, so a key is rotated by putting the new
 * one first and dropping the old one after the longest session lifetime.
 *
 * Sealed blob: version (1) | key id (4) | nonce (12) | ciphertext | tag (16).
 * The associated data binds a blob to its session and item name, so a blob
 * copied to another session or another item does not unseal.
 */
#ifndef IDGW_VAULT_H
#define IDGW_VAULT_H

#include <apr_pools.h>
#include <stddef.h>

#define IDGW_VAULT_MAX_KEYS 16
#define IDGW_VAULT_KEY_LEN 32
#define IDGW_VAULT_OVERHEAD (1 + 4 + 12 + 16)
/* largest plaintext an item may hold: sized for mod_idgw_convert's largest
 * item (IDGW_CTX_MAX_BYTES: the issuer display data the brand schema allows,
 * a logo of 98304 base64 characters and 8 messages, stored as an item of its
 * own beside the card context) */
#define IDGW_VAULT_MAX_ITEM (128 * 1024)

typedef struct idgw_vault_keys idgw_vault_keys;

/* Parse key file text.  On error returns APR_EINVAL with a message in err. */
apr_status_t idgw_vault_keys_parse(apr_pool_t *p, const char *text, size_t len,
                                   idgw_vault_keys **out, char *err, size_t errlen);

/* Read and parse a key file; refuses files that other users may read or write. */
apr_status_t idgw_vault_keys_load(apr_pool_t *p, const char *path,
                                  idgw_vault_keys **out, char *err, size_t errlen);

int idgw_vault_key_count(const idgw_vault_keys *keys);

/* Seal plaintext for (sid, name); the blob is allocated from p. */
apr_status_t idgw_vault_seal(apr_pool_t *p, const idgw_vault_keys *keys,
                             const char *sid, const char *name,
                             const void *plain, size_t plain_len,
                             unsigned char **blob, size_t *blob_len);

/*
 * Unseal a blob for (sid, name).  The plaintext is allocated from p and wiped
 * when p is cleared.  APR_EINVAL: malformed; APR_ENOENT: no key with that id;
 * APR_EGENERAL: authentication failed (tampered, other session or item).
 */
apr_status_t idgw_vault_unseal(apr_pool_t *p, const idgw_vault_keys *keys,
                               const char *sid, const char *name,
                               const unsigned char *blob, size_t blob_len,
                               unsigned char **plain, size_t *plain_len);

/* Wipe len bytes of pool memory (plaintext, card data) when p is cleaned up. */
void idgw_vault_wipe_on_cleanup(apr_pool_t *p, void *mem, size_t len);

#endif
