/* felica_secure_cmd.h: the plaintext payloads carried inside the secure
 * channel (felica_sc.h encrypts and MACs them).  The issuance session encodes
 * commands and decodes responses; the chip emulator does the opposite.
 *
 *   Secure Read   cmd: AREA(2, LE) | N(1, 1..12) | BLOCK(2, LE) * N
 *                 res: N(1) | DATA(16 * N)
 *   Secure Write  cmd: AREA(2, LE) | N(1, 1..12) | BLOCK(2, LE) * N | DATA(16 * N)
 *                 res: empty.  All blocks are written or none.
 *   Create Area   cmd (system channel only): AREA(2, LE) | NBLOCKS(2, LE, 1..256) | KVN(1)
 *                      | WRAP(K-ENC)(16) | WRAP(K-MAC)(16) | WRAP(K-DEK)(16)
 *                      | KCV(K-ENC)(3) | KCV(K-MAC)(3) | KCV(K-DEK)(3)
 *                 new area keys wrapped under the system's static K-DEK, never in clear.
 *                 res: empty
 *   Delete Area   cmd (system channel only): AREA(2, LE).  res: empty
 * Every decoder checks the exact length for its counts. */
#ifndef FELICA_SECURE_CMD_H
#define FELICA_SECURE_CMD_H

#include <stddef.h>
#include <stdint.h>
#include "felica_error.h"
#include "felica_frame.h"

#define FELICA_SECURE_MAX_BLOCKS 12
#define FELICA_AREA_MAX_BLOCKS 256

typedef struct felica_secure_rw {
    uint16_t area;
    uint8_t n;
    uint16_t block[FELICA_SECURE_MAX_BLOCKS];
    uint8_t data[FELICA_SECURE_MAX_BLOCKS][FELICA_BLOCK_LEN];   /* Write; Read response */
} felica_secure_rw_t;

typedef struct felica_create_area {
    uint16_t area;
    uint16_t n_blocks;
    uint8_t kvn;
    uint8_t wrapped_enc[16], wrapped_mac[16], wrapped_dek[16];
    uint8_t kcv_enc[3], kcv_mac[3], kcv_dek[3];
} felica_create_area_t;

/* Each returns FELICA_OK or a felica_err_t; encoders write *len bytes into out. */
int felica_secure_read_encode(const felica_secure_rw_t *in, uint8_t *out, size_t cap, size_t *len);
int felica_secure_read_decode(const uint8_t *p, size_t len, felica_secure_rw_t *out);
/* Read response: n and data of *in. */
int felica_secure_read_res_encode(const felica_secure_rw_t *in, uint8_t *out, size_t cap, size_t *len);
int felica_secure_read_res_decode(const uint8_t *p, size_t len, felica_secure_rw_t *out);
int felica_secure_write_encode(const felica_secure_rw_t *in, uint8_t *out, size_t cap, size_t *len);
int felica_secure_write_decode(const uint8_t *p, size_t len, felica_secure_rw_t *out);
int felica_create_area_encode(const felica_create_area_t *in, uint8_t *out, size_t cap, size_t *len);
int felica_create_area_decode(const uint8_t *p, size_t len, felica_create_area_t *out);
int felica_delete_area_encode(uint16_t area, uint8_t *out, size_t cap, size_t *len);
int felica_delete_area_decode(const uint8_t *p, size_t len, uint16_t *area);

#endif
