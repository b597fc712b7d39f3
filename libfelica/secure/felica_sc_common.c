/* felica_sc_common.c: the parts of the secure channel both ends compute alike
 * (SCP03 derivations, MAC chaining, counter ICVs, payload sealing, wiping). */
#include <string.h>

#include "felica_crypto.h"
#include "felica_sc_internal.h"

void felica_sc_wipe(felica_sc_t *sc)
{
    if (sc == NULL)
        return;
    felica_wipe(sc, sizeof *sc);
    sc->state = FELICA_SC_IDLE;
}

int sc_fail(felica_sc_t *sc, int rc)
{
    felica_sc_wipe(sc);
    return rc;
}

int sc_level_supported(uint8_t level)
{
    return level == (FELICA_SL_CMAC | FELICA_SL_RMAC)
        || level == (FELICA_SL_CMAC | FELICA_SL_CDEC | FELICA_SL_RMAC)
        || level == FELICA_SL_FULL;
}

int sc_card_challenge(const uint8_t k_enc[16], uint32_t seq, const uint8_t idm[8],
                      uint16_t area, uint8_t out[8])
{
    uint8_t context[3 + 8 + 2];

    context[0] = (uint8_t)(seq >> 16);
    context[1] = (uint8_t)(seq >> 8);
    context[2] = (uint8_t)seq;
    memcpy(context + 3, idm, 8);
    context[11] = (uint8_t)(area & 0xFF);       /* area codes are little-endian */
    context[12] = (uint8_t)(area >> 8);
    return felica_scp03_kdf(k_enc, FELICA_KDF_CARD_CHALLENGE, context, sizeof context, 64, out);
}

/* context = host challenge || card challenge */
static void challenge_context(const felica_sc_t *sc, uint8_t context[16])
{
    memcpy(context, sc->host_challenge, 8);
    memcpy(context + 8, sc->card_challenge, 8);
}

int sc_derive_session_keys(felica_sc_t *sc, const uint8_t k_enc[16], const uint8_t k_mac[16])
{
    uint8_t context[16], s_enc[16], s_mac[16], s_rmac[16];
    int rc;

    /* k_enc / k_mac may point into sc (the host keeps its static keys there
     * until now), so derive into locals first. */
    challenge_context(sc, context);
    rc = felica_scp03_kdf(k_enc, FELICA_KDF_S_ENC, context, 16, 128, s_enc);
    if (rc == FELICA_OK)
        rc = felica_scp03_kdf(k_mac, FELICA_KDF_S_MAC, context, 16, 128, s_mac);
    if (rc == FELICA_OK)
        rc = felica_scp03_kdf(k_mac, FELICA_KDF_S_RMAC, context, 16, 128, s_rmac);
    if (rc == FELICA_OK) {
        memcpy(sc->s_enc, s_enc, 16);
        memcpy(sc->s_mac, s_mac, 16);
        memcpy(sc->s_rmac, s_rmac, 16);
    }
    felica_wipe(s_enc, sizeof s_enc);
    felica_wipe(s_mac, sizeof s_mac);
    felica_wipe(s_rmac, sizeof s_rmac);
    return rc;
}

int sc_cryptogram(const felica_sc_t *sc, uint8_t constant, uint8_t out[8])
{
    uint8_t context[16];

    challenge_context(sc, context);
    return felica_scp03_kdf(sc->s_mac, constant, context, 16, 64, out);
}

int sc_chained_mac(const uint8_t key[16], const uint8_t chain[16],
                   const uint8_t *data, size_t len, uint8_t out[16])
{
    uint8_t buf[16 + FELICA_MAX_FRAME];

    if (len > FELICA_MAX_FRAME)
        return FELICA_ERR_OVERSIZE;
    memcpy(buf, chain, 16);
    memcpy(buf + 16, data, len);
    return felica_aes_cmac(key, 16, buf, 16 + len, out);
}

int sc_command_icv(const felica_sc_t *sc, uint16_t counter, uint8_t icv[16])
{
    uint8_t block[16] = { 0 };

    block[14] = (uint8_t)(counter >> 8);
    block[15] = (uint8_t)counter;
    return felica_aes_block(sc->s_enc, block, icv);
}

int sc_response_icv(const felica_sc_t *sc, uint16_t counter, uint8_t icv[16])
{
    uint8_t block[16] = { 0 };

    block[0] = 0x80;
    block[14] = (uint8_t)(counter >> 8);
    block[15] = (uint8_t)counter;
    return felica_aes_block(sc->s_enc, block, icv);
}

int sc_seal(const felica_sc_t *sc, const uint8_t icv[16], int encrypt,
            const uint8_t *payload, size_t payload_len, uint8_t *out, size_t *out_len)
{
    size_t padded = 0;
    int rc;

    if (payload_len > SC_MAX_PAYLOAD)
        return FELICA_ERR_OVERSIZE;
    if (payload_len != 0)
        memcpy(out, payload, payload_len);
    rc = felica_pad_m2(out, payload_len, SC_MAX_ENC, &padded);
    if (rc == FELICA_OK && encrypt)
        rc = felica_aes_cbc_encrypt(sc->s_enc, icv, out, padded, out);
    if (rc == FELICA_OK)
        *out_len = padded;
    return rc;
}

int sc_open(const felica_sc_t *sc, const uint8_t icv[16], int encrypt,
            const uint8_t *in, size_t in_len, uint8_t *payload, size_t cap, size_t *payload_len)
{
    uint8_t plain[FELICA_MAX_FRAME];
    size_t n = 0;
    int rc;

    if (in_len == 0 || in_len > sizeof plain || in_len % FELICA_AES_BLOCK != 0)
        return FELICA_ERR_PADDING;
    if (encrypt)
        rc = felica_aes_cbc_decrypt(sc->s_enc, icv, in, in_len, plain);
    else {
        memcpy(plain, in, in_len);
        rc = FELICA_OK;
    }
    if (rc == FELICA_OK)
        rc = felica_unpad_m2(plain, in_len, &n);
    if (rc == FELICA_OK && n > cap)
        rc = FELICA_ERR_BUFFER;
    if (rc == FELICA_OK) {
        if (n != 0)
            memcpy(payload, plain, n);
        *payload_len = n;
    }
    felica_wipe(plain, sizeof plain);
    return rc;
}

int sc_encode_with_mac(const felica_packet_t *pkt, const uint8_t key[16],
                       const uint8_t chain[16], uint8_t *out, size_t cap, size_t *len,
                       uint8_t new_chain[16])
{
    uint8_t mac[16];
    size_t n = 0;
    int rc = felica_encode(pkt, out, cap, &n);

    if (rc != FELICA_OK)
        return rc;
    if (n < 2 + FELICA_IDM_LEN + SC_MAC_LEN)
        return FELICA_ERR_BAD_PARAM;
    /* LEN already counts the MAC: the MAC input is the final header. */
    rc = sc_chained_mac(key, chain, out, n - SC_MAC_LEN, mac);
    if (rc != FELICA_OK)
        return rc;
    memcpy(out + n - SC_MAC_LEN, mac, SC_MAC_LEN);
    memcpy(new_chain, mac, 16);
    *len = n;
    return FELICA_OK;
}

int sc_verify_mac(const uint8_t key[16], const uint8_t chain[16],
                  const uint8_t *pkt, size_t len, uint8_t new_chain[16])
{
    uint8_t mac[16];
    int rc;

    if (len < 2 + FELICA_IDM_LEN + SC_MAC_LEN)
        return FELICA_ERR_TRUNCATED;
    rc = sc_chained_mac(key, chain, pkt, len - SC_MAC_LEN, mac);
    if (rc != FELICA_OK)
        return rc;
    if (!felica_memeq(mac, pkt + len - SC_MAC_LEN, SC_MAC_LEN))
        return FELICA_ERR_MAC;
    if (new_chain != NULL)
        memcpy(new_chain, mac, 16);
    return FELICA_OK;
}

uint8_t sc_response_code(uint8_t code)
{
    return (code & 1) ? code : (uint8_t)(code + 1);
}
