/* felica_sc_internal.h (private to libfelica): what the host and chip sides of
 * the secure channel share: derivations, MAC chaining, the counter ICVs and
 * payload sealing.  Both sides call the same functions, so they cannot drift
 * apart on a byte. */
#ifndef FELICA_SC_INTERNAL_H
#define FELICA_SC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "felica_sc.h"

#define SC_MAC_LEN 8
#define SC_CRYPTOGRAM_LEN 8
/* A secure frame is LEN CODE IDm [SF1 SF2] CTR ENC MAC within 255 bytes:
 * at most 14 cipher blocks, so at most 223 bytes of plaintext. */
#define SC_MAX_PAYLOAD 223
#define SC_MAX_ENC 224

/* Wipe the session and pass rc through: every detected failure ends here. */
int sc_fail(felica_sc_t *sc, int rc);

/* 1 for the levels a chip accepts in Auth2.  Our response frames always carry
 * an R-MAC, so C-MAC and R-MAC are mandatory: 0x11, 0x13 and 0x33. */
int sc_level_supported(uint8_t level);

/* Card challenge = KDF(K-ENC, 0x02, SEQ(3, BE) || IDm(8) || AREA(2, LE), 64). */
int sc_card_challenge(const uint8_t k_enc[16], uint32_t seq, const uint8_t idm[8],
                      uint16_t area, uint8_t out[8]);
/* S-ENC, S-MAC, S-RMAC from the static keys and sc's two challenges. */
int sc_derive_session_keys(felica_sc_t *sc, const uint8_t k_enc[16], const uint8_t k_mac[16]);
/* Card (0x00) or host (0x01) cryptogram from S-MAC and the two challenges. */
int sc_cryptogram(const felica_sc_t *sc, uint8_t constant, uint8_t out[8]);

/* CMAC(key, chain || data): the chained MAC of a command or a response. */
int sc_chained_mac(const uint8_t key[16], const uint8_t chain[16],
                   const uint8_t *data, size_t len, uint8_t out[16]);

/* ICVs: command AES(S-ENC, counter as 16 bytes BE), response
 * AES(S-ENC, 0x80 || counter as 15 bytes BE). */
int sc_command_icv(const felica_sc_t *sc, uint16_t counter, uint8_t icv[16]);
int sc_response_icv(const felica_sc_t *sc, uint16_t counter, uint8_t icv[16]);

/* Pad (method 2) and, when encrypt is set, CBC-encrypt payload under icv into
 * out (SC_MAX_ENC bytes); *out_len gets the ciphertext length. */
int sc_seal(const felica_sc_t *sc, const uint8_t icv[16], int encrypt,
            const uint8_t *payload, size_t payload_len, uint8_t *out, size_t *out_len);
/* The reverse: decrypt when set, strip padding, copy to payload (cap bytes). */
int sc_open(const felica_sc_t *sc, const uint8_t icv[16], int encrypt,
            const uint8_t *in, size_t in_len, uint8_t *payload, size_t cap, size_t *payload_len);

/* Encode pkt (its MAC field ignored), then put the chained MAC over every
 * byte before the MAC into the last 8 bytes; new_chain gets the full CMAC. */
int sc_encode_with_mac(const felica_packet_t *pkt, const uint8_t key[16],
                       const uint8_t chain[16], uint8_t *out, size_t cap, size_t *len,
                       uint8_t new_chain[16]);
/* Check the trailing 8-byte MAC of a received packet against
 * CMAC(key, chain || pkt[0 .. len-8)); new_chain (may be NULL) gets the CMAC. */
int sc_verify_mac(const uint8_t key[16], const uint8_t chain[16],
                  const uint8_t *pkt, size_t len, uint8_t new_chain[16]);

/* Response code for a command code (even: +1) or a response code (odd: as is). */
uint8_t sc_response_code(uint8_t code);

#endif
