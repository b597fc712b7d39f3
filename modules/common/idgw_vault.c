/*
 * idgw_vault.c - AES-256-GCM sealing of session secrets (see idgw_vault.h).
 */
#include "idgw_vault.h"

#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/stat.h>

#define VAULT_VERSION 1
#define NONCE_LEN 12
#define TAG_LEN 16
#define KEY_ID_LEN 4
#define AAD_LABEL "idgw-vault-v1"

typedef struct vault_key {
    unsigned char id[KEY_ID_LEN];
    unsigned char key[IDGW_VAULT_KEY_LEN];
} vault_key;

struct idgw_vault_keys {
    int count;
    vault_key keys[IDGW_VAULT_MAX_KEYS];
};

static apr_status_t wipe_keys(void *data)
{
    OPENSSL_cleanse(data, sizeof(idgw_vault_keys));
    return APR_SUCCESS;
}

typedef struct wipe_buf {
    void *buf;
    size_t len;
} wipe_buf;

static apr_status_t wipe_buffer(void *data)
{
    wipe_buf *w = data;

    OPENSSL_cleanse(w->buf, w->len);
    return APR_SUCCESS;
}

void idgw_vault_wipe_on_cleanup(apr_pool_t *p, void *mem, size_t len)
{
    wipe_buf *w = apr_palloc(p, sizeof(*w));

    w->buf = mem;
    w->len = len;
    apr_pool_cleanup_register(p, w, wipe_buffer, apr_pool_cleanup_null);
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The key id names a key without revealing it: SHA-256 over a label and the key. */
static int derive_key_id(vault_key *k)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
        && EVP_DigestUpdate(ctx, "idgw-vault-key-id", 17)
        && EVP_DigestUpdate(ctx, k->key, sizeof(k->key))
        && EVP_DigestFinal_ex(ctx, md, &mdlen);

    EVP_MD_CTX_free(ctx);
    if (ok)
        memcpy(k->id, md, KEY_ID_LEN);
    return ok;
}

static int parse_key_line(const char *line, size_t len, vault_key *k)
{
    size_t i;

    if (len != 2 * IDGW_VAULT_KEY_LEN)
        return 0;
    for (i = 0; i < IDGW_VAULT_KEY_LEN; i++) {
        int hi = hex_value((unsigned char)line[2 * i]);
        int lo = hex_value((unsigned char)line[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return 0;
        k->key[i] = (unsigned char)(hi << 4 | lo);
    }
    return derive_key_id(k);
}

apr_status_t idgw_vault_keys_parse(apr_pool_t *p, const char *text, size_t len,
                                   idgw_vault_keys **out, char *err, size_t errlen)
{
    idgw_vault_keys *ks = apr_pcalloc(p, sizeof(*ks));
    size_t pos = 0;
    int lineno = 0, i;

    apr_pool_cleanup_register(p, ks, wipe_keys, apr_pool_cleanup_null);
    while (pos < len) {
        size_t start = pos, end;

        while (pos < len && text[pos] != '\n')
            pos++;
        end = pos++;
        lineno++;
        while (start < end && (text[start] == ' ' || text[start] == '\t'))
            start++;
        while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t'
                               || text[end - 1] == '\r'))
            end--;
        if (start == end || text[start] == '#')
            continue;
        if (ks->count == IDGW_VAULT_MAX_KEYS) {
            apr_snprintf(err, errlen, "more than %d keys", IDGW_VAULT_MAX_KEYS);
            return APR_EINVAL;
        }
        if (!parse_key_line(text + start, end - start, &ks->keys[ks->count])) {
            apr_snprintf(err, errlen, "line %d: expected %d hexadecimal digits",
                         lineno, 2 * IDGW_VAULT_KEY_LEN);
            return APR_EINVAL;
        }
        for (i = 0; i < ks->count; i++) {
            if (memcmp(ks->keys[i].id, ks->keys[ks->count].id, KEY_ID_LEN) == 0) {
                apr_snprintf(err, errlen, "line %d: duplicate key", lineno);
                return APR_EINVAL;
            }
        }
        ks->count++;
    }
    if (ks->count == 0) {
        apr_snprintf(err, errlen, "no key");
        return APR_EINVAL;
    }
    *out = ks;
    return APR_SUCCESS;
}

apr_status_t idgw_vault_keys_load(apr_pool_t *p, const char *path,
                                  idgw_vault_keys **out, char *err, size_t errlen)
{
    apr_pool_t *tmp;
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;
    apr_status_t rv;

    apr_pool_create(&tmp, p);
    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, tmp);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&fi, APR_FINFO_PROT | APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS) {
        apr_snprintf(err, errlen, "cannot read %s: %pm", path, &rv);
    } else if (fi.filetype != APR_REG) {
        apr_snprintf(err, errlen, "%s is not a regular file", path);
        rv = APR_EINVAL;
    } else if (fi.protection & (APR_FPROT_WREAD | APR_FPROT_WWRITE | APR_FPROT_GWRITE)) {
        apr_snprintf(err, errlen, "%s must not be readable by others nor writable by "
                     "group or others (chmod 0600 or 0640)", path);
        rv = APR_EINVAL;
    } else if (fi.size <= 0 || fi.size > 16384) {
        apr_snprintf(err, errlen, "%s: unexpected size", path);
        rv = APR_EINVAL;
    } else {
        n = (apr_size_t)fi.size;
        buf = apr_palloc(tmp, n);
        rv = apr_file_read_full(f, buf, n, &n);
        if (rv != APR_SUCCESS)
            apr_snprintf(err, errlen, "cannot read %s: %pm", path, &rv);
        else
            rv = idgw_vault_keys_parse(p, buf, n, out, err, errlen);
        OPENSSL_cleanse(buf, (size_t)fi.size);
    }
    apr_pool_destroy(tmp);
    return rv;
}

int idgw_vault_key_count(const idgw_vault_keys *keys)
{
    return keys->count;
}

/* The associated data, "<label>\0<sid>\0<name>", into a context made for
 * sealing or for unsealing alike (EVP_CipherUpdate follows the context's
 * direction). */
static int add_aad(EVP_CIPHER_CTX *ctx, const char *sid, const char *name)
{
    int n;
    static const unsigned char zero = 0;

    return EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)AAD_LABEL,
                            (int)strlen(AAD_LABEL))
        && EVP_CipherUpdate(ctx, NULL, &n, &zero, 1)
        && EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)sid, (int)strlen(sid))
        && EVP_CipherUpdate(ctx, NULL, &n, &zero, 1)
        && EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)name, (int)strlen(name));
}

apr_status_t idgw_vault_seal(apr_pool_t *p, const idgw_vault_keys *keys,
                             const char *sid, const char *name,
                             const void *plain, size_t plain_len,
                             unsigned char **blob, size_t *blob_len)
{
    const vault_key *k = &keys->keys[0];
    size_t total = IDGW_VAULT_OVERHEAD + plain_len;
    unsigned char *out, *nonce, *ct;
    EVP_CIPHER_CTX *ctx;
    int n, fin, ok;

    if (plain_len > IDGW_VAULT_MAX_ITEM || keys->count < 1)
        return APR_EINVAL;
    out = apr_palloc(p, total);
    out[0] = VAULT_VERSION;
    memcpy(out + 1, k->id, KEY_ID_LEN);
    nonce = out + 1 + KEY_ID_LEN;
    ct = nonce + NONCE_LEN;
    if (RAND_bytes(nonce, NONCE_LEN) != 1)
        return APR_EGENERAL;
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL)
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL)
        && EVP_EncryptInit_ex(ctx, NULL, NULL, k->key, nonce)
        && add_aad(ctx, sid, name)
        && EVP_EncryptUpdate(ctx, ct, &n, plain, (int)plain_len)
        && EVP_EncryptFinal_ex(ctx, ct + n, &fin)
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, ct + plain_len);
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return APR_EGENERAL;
    *blob = out;
    *blob_len = total;
    return APR_SUCCESS;
}

apr_status_t idgw_vault_unseal(apr_pool_t *p, const idgw_vault_keys *keys,
                               const char *sid, const char *name,
                               const unsigned char *blob, size_t blob_len,
                               unsigned char **plain, size_t *plain_len)
{
    const vault_key *k = NULL;
    const unsigned char *nonce, *ct, *tag;
    size_t ct_len;
    unsigned char *out;
    EVP_CIPHER_CTX *ctx;
    int i, n, fin, ok;

    if (blob_len < IDGW_VAULT_OVERHEAD || blob[0] != VAULT_VERSION
        || blob_len - IDGW_VAULT_OVERHEAD > IDGW_VAULT_MAX_ITEM)
        return APR_EINVAL;
    for (i = 0; i < keys->count; i++)
        if (CRYPTO_memcmp(keys->keys[i].id, blob + 1, KEY_ID_LEN) == 0)
            k = &keys->keys[i];
    if (!k)
        return APR_ENOENT;
    nonce = blob + 1 + KEY_ID_LEN;
    ct = nonce + NONCE_LEN;
    ct_len = blob_len - IDGW_VAULT_OVERHEAD;
    tag = ct + ct_len;
    /* one spare byte: OpenSSL rejects a NULL output for empty plaintext */
    out = apr_palloc(p, ct_len + 1);
    idgw_vault_wipe_on_cleanup(p, out, ct_len + 1);
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL)
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL)
        && EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, nonce)
        && add_aad(ctx, sid, name)
        && EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len)
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)tag)
        && EVP_DecryptFinal_ex(ctx, out + n, &fin) > 0;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(out, ct_len + 1);
        return APR_EGENERAL;
    }
    out[ct_len] = '\0';
    *plain = out;
    *plain_len = ct_len;
    return APR_SUCCESS;
}
