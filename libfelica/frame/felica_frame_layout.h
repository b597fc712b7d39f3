/* felica_frame_layout.h (private to libfelica): wire constants shared by the
 * decoder and the encoder, so both agree on every bit and every size. */
#ifndef FELICA_FRAME_LAYOUT_H
#define FELICA_FRAME_LAYOUT_H

#include "felica_frame.h"

/* LEN | CODE | IDm */
#define FELICA_HDR_LEN (2 + FELICA_IDM_LEN)

/* Block list element, first byte: bit 7 = 2-byte form, bits 6-4 access mode,
 * bits 3-0 position in the service code list. */
#define FELICA_BLK_TWO_BYTE 0x80
#define FELICA_BLK_MODE_SHIFT 4
#define FELICA_BLK_MODE_MASK 0x07
#define FELICA_BLK_INDEX_MASK 0x0F

/* Polling command: request codes and the time slot numbers a reader may ask for. */
#define FELICA_POLL_RC_MAX 2          /* 0 none, 1 system code, 2 comm. performance */
#define FELICA_MODE_MAX 3             /* Request Response: modes 0..3 */

/* Secure envelope sizes (after LEN | CODE | IDm). */
#define FELICA_SC_CTR_LEN 2
#define FELICA_SC_MAC_LEN 8
#define FELICA_SC_CHALLENGE_LEN 8
#define FELICA_AUTH1_SCP_ID 0x03           /* felica_sc.h's FELICA_SCP_ID */
#define FELICA_SEQ_MAX 0xFFFFFFu

/* 1 for TSN values the Polling command allows: 0x00, 0x01, 0x03, 0x07, 0x0F. */
static inline int felica_tsn_valid(uint8_t tsn)
{
    return tsn == 0x00 || tsn == 0x01 || tsn == 0x03 || tsn == 0x07 || tsn == 0x0F;
}

/* 1 for the secure commands that carry CTR | ENCRYPTED | C-MAC (0xA4..0xAA). */
static inline int felica_code_is_wrapped_cmd(uint8_t code)
{
    return code == FELICA_CMD_SECURE_READ || code == FELICA_CMD_SECURE_WRITE
        || code == FELICA_CMD_CREATE_AREA || code == FELICA_CMD_DELETE_AREA;
}

/* 1 for the responses that carry SF1 SF2 [CTR | ENCRYPTED | R-MAC] (0xA3..0xAB odd). */
static inline int felica_code_is_wrapped_res(uint8_t code)
{
    return (code & 1) && (code == FELICA_CMD_AUTH2 + 1
                          || felica_code_is_wrapped_cmd((uint8_t)(code - 1)));
}

#endif
