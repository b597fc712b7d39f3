/* felica_crypto.h: the AES primitives of idgw's secure channel (OpenSSL 3 EVP).
 *
 * AES-CMAC (RFC 4493), the SCP03 key derivation function (NIST SP 800-108
 * counter mode with AES-CMAC in GlobalPlatform SCP03's data layout, which
 * OpenSSL's KBKDF cannot produce because it puts the counter first), raw
 * AES-CBC / ECB without padding, ISO/IEC 9797-1 method 2 padding, key
 * wrapping with key check values, randomness and constant-time compare. */
#ifndef FELICA_CRYPTO_H
#define FELICA_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include "felica_error.h"

#define FELICA_AES_KEY_LEN 16
#define FELICA_AES_BLOCK 16

/* SCP03 derivation constants (GlobalPlatform Card Spec. Amendment D, 4.1.5). */
enum felica_kdf_const {
    FELICA_KDF_CARD_CRYPTOGRAM = 0x00,
    FELICA_KDF_HOST_CRYPTOGRAM = 0x01,
    FELICA_KDF_CARD_CHALLENGE = 0x02,
    FELICA_KDF_S_ENC = 0x04,
    FELICA_KDF_S_MAC = 0x06,
    FELICA_KDF_S_RMAC = 0x07,
    /* idgw's own, from SCP03's reserved range: per-chip key diversification */
    FELICA_KDF_DIV_ENC = 0x70,
    FELICA_KDF_DIV_MAC = 0x71,
    FELICA_KDF_DIV_DEK = 0x72
};

/* AES-CMAC with a 16-, 24- or 32-byte key. */
int felica_aes_cmac(const uint8_t *key, size_t key_len,
                    const uint8_t *msg, size_t msg_len, uint8_t mac[16]);

/* SCP03 KDF: for i = 1..ceil(L/128):
 *   CMAC(key, 00*11 || constant || 0x00 || L(2 bytes, BE, bits) || i(1) || context)
 * concatenated and cut to L bits.  l_bits is 64, 128, 192 or 256. */
int felica_scp03_kdf(const uint8_t key[16], uint8_t constant,
                     const uint8_t *context, size_t context_len,
                     uint16_t l_bits, uint8_t *out);

/* AES-128 CBC, len a multiple of 16, no padding; in and out may be the same. */
int felica_aes_cbc_encrypt(const uint8_t key[16], const uint8_t iv[16],
                           const uint8_t *in, size_t len, uint8_t *out);
int felica_aes_cbc_decrypt(const uint8_t key[16], const uint8_t iv[16],
                           const uint8_t *in, size_t len, uint8_t *out);
/* One AES-128 block encryption (ECB). */
int felica_aes_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);

/* ISO/IEC 9797-1 method 2: append 0x80 then zeros up to a multiple of 16.
 * buf holds len bytes and has room for cap; *padded_len gets the new length. */
int felica_pad_m2(uint8_t *buf, size_t len, size_t cap, size_t *padded_len);
/* Strip method 2 padding; FELICA_ERR_PADDING when malformed. */
int felica_unpad_m2(const uint8_t *buf, size_t len, size_t *unpadded_len);

/* Key check value: first 3 bytes of AES(key, 16 * 0x01) (SCP03 style). */
int felica_kcv(const uint8_t key[16], uint8_t kcv[3]);
/* Wrap / unwrap one 16-byte key under a DEK (AES-CBC, zero ICV, one block). */
int felica_key_wrap(const uint8_t dek[16], const uint8_t key[16], uint8_t out[16]);
int felica_key_unwrap(const uint8_t dek[16], const uint8_t in[16], uint8_t key[16]);

/* Cryptographically secure random bytes (RAND_bytes). */
int felica_random(uint8_t *buf, size_t len);
/* 1 when equal; time independent of where they differ. */
int felica_memeq(const void *a, const void *b, size_t len);
/* Wipe secrets (OPENSSL_cleanse). */
void felica_wipe(void *p, size_t len);

#endif
