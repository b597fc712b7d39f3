/* felica_sc.h: idgw's secure channel between the FeliCa server (host) and the
 * chip, modelled on GlobalPlatform SCP03 with AES-128.
 *
 * Keys: each chip holds static key sets (K-ENC, K-MAC, K-DEK) per key version;
 * they are diversified from the issuer's master keys with the chip's IDm and the
 * key version (felica_keys_diversify).  The system key set (area 0xFFFF) allows
 * creating and deleting areas; an area's key set allows secure read/write there.
 *
 * Session (two commands, mutual authentication):
 *   Auth1: host challenge (8) -> the chip increments its persistent sequence
 *          counter, derives a pseudo-random card challenge from it
 *          (KDF(K-ENC, 0x02, SEQ(3) || IDm(8) || AREA(2, LE)), 64 bits), derives
 *          S-ENC/S-MAC/S-RMAC (context = host challenge || card challenge) and
 *          answers with the card cryptogram.
 *   Auth2: the host checks the card cryptogram and sends the host cryptogram
 *          with a C-MAC; the chip checks both.  The security level must be
 *          FELICA_SL_FULL for anything that carries card data.
 * Every later command carries CTR (the command counter, starting at 1), its
 * payload encrypted with S-ENC in CBC mode under ICV = AES(S-ENC, counter as
 * 16 bytes BE) after method-2 padding, and a C-MAC:
 *   MAC chain = CMAC(S-MAC, chain || LEN..end-of-encrypted-payload); C-MAC = chain[0..8).
 * Responses are encrypted under ICV = AES(S-ENC, 0x80 || counter as 15 bytes BE)
 * and carry R-MAC = CMAC(S-RMAC, chain || LEN..end-of-encrypted-payload)[0..8),
 * where chain is the command's new MAC chain value and LEN counts the R-MAC.
 * The C-MAC input's LEN counts the C-MAC too (it is the final packet's LEN).
 * Any MAC, cryptogram, counter or padding failure wipes the session keys: the
 * channel is then closed and must be authenticated again. */
#ifndef FELICA_SC_H
#define FELICA_SC_H

#include <stddef.h>
#include <stdint.h>
#include "felica_error.h"
#include "felica_frame.h"

#define FELICA_AREA_SYSTEM 0xFFFF
#define FELICA_SCP_ID 0x03
#define FELICA_SCP_I 0x10          /* pseudo-random card challenge */

/* Security levels (SCP03 bit meanings). */
#define FELICA_SL_CMAC 0x01
#define FELICA_SL_CDEC 0x02
#define FELICA_SL_RMAC 0x10
#define FELICA_SL_RENC 0x20
#define FELICA_SL_FULL 0x33

/* A static key set of one key version. */
typedef struct felica_keyset {
    uint8_t kvn;
    uint8_t enc[16], mac[16], dek[16];
} felica_keyset_t;

/* Per-chip keys: K-x = KDF(master K-x, 0x70/0x71/0x72, IDm(8) || KVN(1), 128). */
int felica_keys_diversify(const felica_keyset_t *master, const uint8_t idm[8],
                          felica_keyset_t *out);

enum felica_sc_state {
    FELICA_SC_IDLE = 0,      /* no session (or wiped after a failure) */
    FELICA_SC_AUTH1,         /* host: Auth1 sent; chip: Auth1 answered */
    FELICA_SC_OPEN           /* mutually authenticated */
};

/* One end of a secure channel.  Plain data so that the host side can be
 * serialised by the issuance session; wipe with felica_sc_wipe. */
typedef struct felica_sc {
    int state;                       /* enum felica_sc_state */
    uint8_t idm[FELICA_IDM_LEN];
    uint16_t area;
    uint8_t kvn;
    uint8_t level;
    uint8_t host_challenge[8], card_challenge[8];
    uint8_t s_enc[16], s_mac[16], s_rmac[16];
    uint8_t dek[16];                 /* static K-DEK, for wrapping new area keys */
    uint8_t mac_chain[16];
    uint16_t counter;                /* last command counter used/accepted */
    uint32_t seq_counter;            /* chip's sequence counter from Auth1 */
} felica_sc_t;

void felica_sc_wipe(felica_sc_t *sc);

/* ---- host side (FeliCa server) ---- */
/* Prepare a session; host_challenge NULL draws a random one. */
int felica_sc_host_begin(felica_sc_t *sc, const uint8_t idm[8], uint16_t area,
                         const felica_keyset_t *chip_keys, const uint8_t *host_challenge);
/* Auth1 command packet. */
int felica_sc_host_auth1(felica_sc_t *sc, uint8_t *out, size_t cap, size_t *len);
/* Check the Auth1 response (status, KVN, card cryptogram, card challenge
 * against the sequence counter); derives session keys. */
int felica_sc_host_auth1_done(felica_sc_t *sc, const uint8_t *res, size_t len);
/* Auth2 command packet with host cryptogram and C-MAC at the given level. */
int felica_sc_host_auth2(felica_sc_t *sc, uint8_t level, uint8_t *out, size_t cap, size_t *len);
/* Check the Auth2 response's R-MAC; the channel is then OPEN. */
int felica_sc_host_auth2_done(felica_sc_t *sc, const uint8_t *res, size_t len);
/* Build a secure command (code 0xA4..0xAA) around a plaintext payload. */
int felica_sc_host_wrap(felica_sc_t *sc, uint8_t code, const uint8_t *payload, size_t payload_len,
                        uint8_t *out, size_t cap, size_t *len);
/* Verify and decrypt the response to the last wrapped command.  Sets sf1/sf2;
 * FELICA_ERR_STATUS when the chip answered an error inside the channel. */
int felica_sc_host_unwrap(felica_sc_t *sc, const uint8_t *res, size_t len,
                          uint8_t *payload, size_t cap, size_t *payload_len,
                          uint8_t *sf1, uint8_t *sf2);

/* ---- chip side (the chip emulator) ---- */
/* Answer Auth1 with the chip's keys for the requested area/KVN and its
 * sequence counter (already incremented and persisted by the caller). */
int felica_sc_chip_auth1(felica_sc_t *sc, const felica_packet_t *cmd,
                         const felica_keyset_t *keys, uint32_t seq_counter,
                         uint8_t *out, size_t cap, size_t *len);
/* Check Auth2 (host cryptogram, C-MAC, level); on success answer with R-MAC. */
int felica_sc_chip_auth2(felica_sc_t *sc, const uint8_t *cmd, size_t cmd_len,
                         uint8_t *out, size_t cap, size_t *len);
/* Verify and decrypt a secure command: C-MAC, counter, padding.  On any failure
 * the session is wiped and the caller must drop the chip to Mode 0. */
int felica_sc_chip_unwrap(felica_sc_t *sc, const uint8_t *cmd, size_t cmd_len,
                          uint8_t *code, uint8_t *payload, size_t cap, size_t *payload_len);
/* Build the response (code = command + 1) with status, encrypted payload, R-MAC. */
int felica_sc_chip_wrap(felica_sc_t *sc, uint8_t code, uint8_t sf1, uint8_t sf2,
                        const uint8_t *payload, size_t payload_len,
                        uint8_t *out, size_t cap, size_t *len);
/* An error answered outside the channel (SF1 SF2 only): after a failure. */
int felica_sc_error_response(const uint8_t idm[8], uint8_t code, uint8_t sf1, uint8_t sf2,
                             uint8_t *out, size_t cap, size_t *len);

#endif
