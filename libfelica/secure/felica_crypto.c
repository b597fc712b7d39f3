/* felica_crypto.c: AES primitives of the secure channel over OpenSSL 3 EVP.
 *
 * Algorithms are fetched per call and freed before returning: the callers
 * (chip emulator, FeliCa server, httpd children) use a handful of operations
 * per packet, so a fetch costs nothing that matters, and there is no global
 * state to initialise under threads or to leak. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "felica_crypto.h"

/* The CBC cipher name CMAC needs for a key of this length, or NULL. */
static const char *cmac_cipher_for(size_t key_len)
{
    switch (key_len) {
    case 16: return "AES-128-CBC";
    case 24: return "AES-192-CBC";
    case 32: return "AES-256-CBC";
    default: return NULL;
    }
}

/* A CMAC context keyed and ready for updates, or NULL. */
static EVP_MAC_CTX *cmac_start(const uint8_t *key, size_t key_len)
{
    const char *cipher = cmac_cipher_for(key_len);
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;
    OSSL_PARAM params[2];

    if (cipher == NULL)
        return NULL;
    mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    if (mac == NULL)
        return NULL;
    ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);              /* the context keeps its own reference */
    if (ctx == NULL)
        return NULL;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)cipher, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(ctx, key, key_len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Finish a CMAC into mac[16] and free the context. */
static int cmac_finish(EVP_MAC_CTX *ctx, uint8_t mac[16])
{
    size_t out_len = 0;
    int ok = EVP_MAC_final(ctx, mac, &out_len, 16) == 1 && out_len == 16;

    EVP_MAC_CTX_free(ctx);
    return ok ? FELICA_OK : FELICA_ERR_CRYPTO;
}

int felica_aes_cmac(const uint8_t *key, size_t key_len,
                    const uint8_t *msg, size_t msg_len, uint8_t mac[16])
{
    EVP_MAC_CTX *ctx;

    if (key == NULL || mac == NULL || (msg == NULL && msg_len != 0))
        return FELICA_ERR_BAD_PARAM;
    if (cmac_cipher_for(key_len) == NULL)
        return FELICA_ERR_BAD_PARAM;
    ctx = cmac_start(key, key_len);
    if (ctx == NULL)
        return FELICA_ERR_CRYPTO;
    if (msg_len != 0 && EVP_MAC_update(ctx, msg, msg_len) != 1) {
        EVP_MAC_CTX_free(ctx);
        return FELICA_ERR_CRYPTO;
    }
    return cmac_finish(ctx, mac);
}

/* SCP03 derivation data up to (not including) the context:
 * label = 11 zero bytes || constant, separator 0x00, L (bits, BE), counter i. */
static void kdf_fixed_part(uint8_t constant, uint16_t l_bits, uint8_t i, uint8_t out[16])
{
    memset(out, 0, 11);
    out[11] = constant;
    out[12] = 0x00;
    out[13] = (uint8_t)(l_bits >> 8);
    out[14] = (uint8_t)(l_bits & 0xFF);
    out[15] = i;
}

int felica_scp03_kdf(const uint8_t key[16], uint8_t constant,
                     const uint8_t *context, size_t context_len,
                     uint16_t l_bits, uint8_t *out)
{
    size_t out_len = (size_t)l_bits / 8;
    size_t done = 0;
    uint8_t block[16];
    uint8_t fixed[16];
    uint8_t i;

    if (key == NULL || out == NULL || (context == NULL && context_len != 0))
        return FELICA_ERR_BAD_PARAM;
    if (l_bits != 64 && l_bits != 128 && l_bits != 192 && l_bits != 256)
        return FELICA_ERR_BAD_PARAM;
    for (i = 1; done < out_len; i++) {
        EVP_MAC_CTX *ctx = cmac_start(key, 16);
        size_t take = out_len - done < 16 ? out_len - done : 16;
        int rc;

        if (ctx == NULL)
            goto fail;
        kdf_fixed_part(constant, l_bits, i, fixed);
        if (EVP_MAC_update(ctx, fixed, sizeof fixed) != 1
            || (context_len != 0 && EVP_MAC_update(ctx, context, context_len) != 1)) {
            EVP_MAC_CTX_free(ctx);
            goto fail;
        }
        rc = cmac_finish(ctx, block);
        if (rc != FELICA_OK)
            goto fail;
        memcpy(out + done, block, take);
        done += take;
    }
    felica_wipe(block, sizeof block);
    return FELICA_OK;
fail:
    felica_wipe(block, sizeof block);
    felica_wipe(out, out_len);
    return FELICA_ERR_CRYPTO;
}

/* One AES-128 pass without padding; encrypt 1 or 0; iv NULL for ECB. */
static int aes_run(const uint8_t key[16], const uint8_t *iv, int encrypt,
                   const uint8_t *in, size_t len, uint8_t *out)
{
    EVP_CIPHER *cipher;
    EVP_CIPHER_CTX *ctx;
    int out1 = 0, out2 = 0, ok = 0;

    if (key == NULL || in == NULL || out == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (len % FELICA_AES_BLOCK != 0 || len > (size_t)0x7FFFFFF0)
        return FELICA_ERR_BAD_PARAM;
    if (len == 0)
        return FELICA_OK;
    cipher = EVP_CIPHER_fetch(NULL, iv != NULL ? "AES-128-CBC" : "AES-128-ECB", NULL);
    if (cipher == NULL)
        return FELICA_ERR_CRYPTO;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx != NULL
        && EVP_CipherInit_ex2(ctx, cipher, key, iv, encrypt, NULL) == 1
        && EVP_CIPHER_CTX_set_padding(ctx, 0) == 1
        && EVP_CipherUpdate(ctx, out, &out1, in, (int)len) == 1
        && EVP_CipherFinal_ex(ctx, out + out1, &out2) == 1
        && (size_t)out1 + (size_t)out2 == len)
        ok = 1;
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);
    return ok ? FELICA_OK : FELICA_ERR_CRYPTO;
}

int felica_aes_cbc_encrypt(const uint8_t key[16], const uint8_t iv[16],
                           const uint8_t *in, size_t len, uint8_t *out)
{
    if (iv == NULL)
        return FELICA_ERR_BAD_PARAM;
    return aes_run(key, iv, 1, in, len, out);
}

int felica_aes_cbc_decrypt(const uint8_t key[16], const uint8_t iv[16],
                           const uint8_t *in, size_t len, uint8_t *out)
{
    if (iv == NULL)
        return FELICA_ERR_BAD_PARAM;
    return aes_run(key, iv, 0, in, len, out);
}

int felica_aes_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
    return aes_run(key, NULL, 1, in, FELICA_AES_BLOCK, out);
}

int felica_pad_m2(uint8_t *buf, size_t len, size_t cap, size_t *padded_len)
{
    size_t total;

    if (buf == NULL || padded_len == NULL || len > cap)
        return FELICA_ERR_BAD_PARAM;
    total = (len / FELICA_AES_BLOCK + 1) * FELICA_AES_BLOCK;
    if (total > cap)
        return FELICA_ERR_BUFFER;
    buf[len] = 0x80;
    memset(buf + len + 1, 0, total - len - 1);
    *padded_len = total;
    return FELICA_OK;
}

/* All-ones when a == b, else zero, without a data-dependent branch. */
static size_t ct_eq_byte(uint8_t a, uint8_t b)
{
    size_t x = (size_t)(a ^ b);

    return (size_t)0 - (size_t)((x - 1) >> (sizeof(size_t) * 8 - 1));
}

/* Method 2 padding is 0x80 followed by 0..15 zeros, so the marker lies in
 * the last block.  The last 16 bytes are all visited whatever their values,
 * so the time taken does not say where a malformed pad went wrong. */
int felica_unpad_m2(const uint8_t *buf, size_t len, size_t *unpadded_len)
{
    size_t found = 0, bad = 0, pos = 0, k;

    if (buf == NULL || unpadded_len == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (len == 0 || len % FELICA_AES_BLOCK != 0)
        return FELICA_ERR_PADDING;
    for (k = 1; k <= FELICA_AES_BLOCK; k++) {
        size_t i = len - k;
        size_t is80 = ct_eq_byte(buf[i], 0x80);
        size_t is00 = ct_eq_byte(buf[i], 0x00);
        size_t searching = ~found;

        pos |= searching & is80 & i;
        bad |= searching & ~is80 & ~is00;
        found |= searching & (is80 | ~is00);
    }
    bad |= ~found;
    if (bad != 0)
        return FELICA_ERR_PADDING;
    *unpadded_len = pos;
    return FELICA_OK;
}

int felica_kcv(const uint8_t key[16], uint8_t kcv[3])
{
    uint8_t ones[16], enc[16];
    int rc;

    if (kcv == NULL)
        return FELICA_ERR_BAD_PARAM;
    memset(ones, 0x01, sizeof ones);
    rc = felica_aes_block(key, ones, enc);
    if (rc == FELICA_OK)
        memcpy(kcv, enc, 3);
    felica_wipe(enc, sizeof enc);
    return rc;
}

int felica_key_wrap(const uint8_t dek[16], const uint8_t key[16], uint8_t out[16])
{
    static const uint8_t zero_icv[16];

    return felica_aes_cbc_encrypt(dek, zero_icv, key, 16, out);
}

int felica_key_unwrap(const uint8_t dek[16], const uint8_t in[16], uint8_t key[16])
{
    static const uint8_t zero_icv[16];

    return felica_aes_cbc_decrypt(dek, zero_icv, in, 16, key);
}

int felica_random(uint8_t *buf, size_t len)
{
    if (buf == NULL && len != 0)
        return FELICA_ERR_BAD_PARAM;
    if (len == 0)
        return FELICA_OK;
    if (len > (size_t)0x7FFFFFFF)
        return FELICA_ERR_BAD_PARAM;
    return RAND_bytes(buf, (int)len) == 1 ? FELICA_OK : FELICA_ERR_CRYPTO;
}

int felica_memeq(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return 1;
    if (a == NULL || b == NULL)
        return 0;
    return CRYPTO_memcmp(a, b, len) == 0;
}

void felica_wipe(void *p, size_t len)
{
    if (p != NULL && len != 0)
        OPENSSL_cleanse(p, len);
}
