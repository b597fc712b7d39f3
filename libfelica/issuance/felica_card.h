/* felica_card.h: the iD card application's layout on the chip.
 *
 * The iD area holds a header block and two card slots of six blocks each
 * (docs/libfelica-issuance.md has every byte).  A card record carries only what a
 * contactless payment needs: PAN, expiry, holder name, issuer, status and a
 * reference to the issuer's display data.  There is no field for CVV, track
 * data or a PIN, on the chip or in these structures.
 *
 *   block 0            area header: magic "iD", format version, main slot,
 *                      write sequence, last operation and its slot
 *   block 1 + 6*s + 0  slot s profile: tag 'C', version, issuer, PAN and name lengths
 *              + 1     PAN (BCD, 0xF padded) and expiry (BCD YY MM)
 *              + 2..3  holder name (ASCII, zero padded)
 *              + 4     status, last4, issuer, display-data reference
 *              + 5     history: last operation on this slot and its sequence
 *
 * A freshly created area is all zeros: a zero header means "no card yet", and a
 * slot whose blocks 0..4 are zero is empty (its history block may still say
 * which operation emptied it).  Decoders are strict: an unknown format version
 * is FELICA_ERR_VERSION, anything else malformed (bad BCD, Luhn, status, name,
 * non-zero reserved bytes, fields that disagree) is FELICA_ERR_CORRUPT.
 * Encoders refuse an invalid record with FELICA_ERR_BAD_PARAM.
 * Records hold PANs: wipe them with felica_card_wipe after use. */
#ifndef FELICA_CARD_H
#define FELICA_CARD_H

#include <stddef.h>
#include <stdint.h>
#include "felica_error.h"
#include "felica_frame.h"

/* The iD area: area code (little-endian on the wire), the default key version
 * of its key set, and its size in blocks (13 used, room to grow). */
#define FELICA_ID_AREA 0x1000
#define FELICA_ID_AREA_KVN 0x31
#define FELICA_ID_AREA_BLOCKS 16

#define FELICA_CARD_FORMAT_VERSION 1
#define FELICA_CARD_SLOTS 2
#define FELICA_CARD_SLOT_BLOCKS 6
#define FELICA_CARD_USED_BLOCKS (1 + FELICA_CARD_SLOTS * FELICA_CARD_SLOT_BLOCKS)
#define FELICA_CARD_NO_SLOT 0xFF

/* Offsets of a slot's blocks from its first block. */
enum felica_card_blk {
    FELICA_CARD_BLK_PROFILE = 0,
    FELICA_CARD_BLK_PAN = 1,
    FELICA_CARD_BLK_NAME = 2,        /* two blocks: 2 and 3 */
    FELICA_CARD_BLK_STATUS = 4,
    FELICA_CARD_BLK_HISTORY = 5
};

#define FELICA_CARD_PAN_MIN 12
#define FELICA_CARD_PAN_MAX 19
#define FELICA_CARD_NAME_MAX 26

enum felica_card_status {
    FELICA_CARD_EMPTY = 0,
    FELICA_CARD_ACTIVE = 1,
    FELICA_CARD_SUSPENDED = 2,
    FELICA_CARD_DEPOSITED = 3        /* card info stored at the server (store/restore) */
};

/* Operations recorded in the header's and the slots' history. */
enum felica_card_op {
    FELICA_CARD_OP_NONE = 0,
    FELICA_CARD_OP_WRITE = 1,
    FELICA_CARD_OP_UPDATE = 2,
    FELICA_CARD_OP_DELETE = 3,
    FELICA_CARD_OP_SET_MAIN = 4
};

/* Which display data (messages, logo) the brand download center serves. */
typedef struct felica_display_ref {
    uint32_t issuer_id;
    uint16_t version;
} felica_display_ref_t;

/* One card.  Input fields for the encoders: pan, expiry, name, issuer_id,
 * status (not EMPTY), display.  Output only (filled by the decoders, ignored by
 * the encoders, which derive them): last4, is_main, last_op, last_seq. */
typedef struct felica_card {
    char pan[FELICA_CARD_PAN_MAX + 1];      /* 12..19 digits, Luhn-valid */
    char expiry[5];                         /* "YYMM", MM 01..12 */
    char name[FELICA_CARD_NAME_MAX + 1];    /* 1..26 printable ASCII, no lowercase */
    uint32_t issuer_id;                     /* non-zero */
    uint8_t status;                         /* enum felica_card_status */
    felica_display_ref_t display;
    char last4[5];
    uint8_t is_main;
    uint8_t last_op;                        /* enum felica_card_op */
    uint32_t last_seq;
} felica_card_t;

/* What "list cards" may show: never the PAN or expiry. */
typedef struct felica_card_masked {
    uint8_t status;                         /* EMPTY: the other fields are zero */
    char last4[5];
    uint32_t issuer_id;
    uint8_t is_main;
    felica_display_ref_t display;
} felica_card_masked_t;

/* Area header (block 0). */
typedef struct felica_card_header {
    uint8_t version;                        /* 0 only for a fresh (all-zero) area */
    uint8_t main_slot;                      /* 0, 1 or FELICA_CARD_NO_SLOT */
    uint32_t seq;                           /* card writes applied to this area */
    uint8_t last_op;                        /* enum felica_card_op */
    uint8_t last_slot;                      /* 0, 1 or FELICA_CARD_NO_SLOT */
} felica_card_header_t;

/* The used part of the area, decoded. */
typedef struct felica_card_area {
    felica_card_header_t header;
    felica_card_t card[FELICA_CARD_SLOTS];
} felica_card_area_t;

/* Block number of a slot's block (slot 0..1, offset enum felica_card_blk). */
uint16_t felica_card_block(unsigned slot, unsigned offset);

/* ---- field checks (felica_card_check.c) ---- */
/* 1 when pan is 12..19 ASCII digits with a valid Luhn check digit. */
int felica_card_pan_valid(const char *pan);
/* 1 when expiry is "YYMM" with a month 01..12. */
int felica_card_expiry_valid(const char *expiry);
/* 1 when name is 1..26 printable ASCII characters without lowercase letters,
 * not starting or ending with a space. */
int felica_card_name_valid(const char *name);
/* FELICA_OK when every input field of rec is valid, else FELICA_ERR_BAD_PARAM. */
int felica_card_validate(const felica_card_t *rec);

/* ---- blocks <-> records (felica_card.c) ---- */
int felica_card_header_encode(const felica_card_header_t *h, uint8_t block[FELICA_BLOCK_LEN]);
int felica_card_header_decode(const uint8_t block[FELICA_BLOCK_LEN], felica_card_header_t *h);

/* A card into its slot's six blocks; the history block gets (op, seq). */
int felica_card_to_blocks(const felica_card_t *rec, uint8_t op, uint32_t seq,
                          uint8_t blocks[FELICA_CARD_SLOT_BLOCKS][FELICA_BLOCK_LEN]);
/* A slot's history block alone (SET_MAIN rewrites only this one). */
void felica_card_history_encode(uint8_t op, uint32_t seq, uint8_t block[FELICA_BLOCK_LEN]);
/* An emptied slot's six blocks: zeros and the history (op, seq). */
void felica_card_empty_blocks(uint8_t op, uint32_t seq,
                              uint8_t blocks[FELICA_CARD_SLOT_BLOCKS][FELICA_BLOCK_LEN]);
/* A slot's six blocks into a record (status EMPTY for an empty slot). */
int felica_card_from_blocks(const uint8_t (*blocks)[FELICA_BLOCK_LEN],
                            felica_card_t *rec);
/* The status block alone into a masked view (what "list cards" reads). */
int felica_card_status_decode(const uint8_t block[FELICA_BLOCK_LEN], felica_card_masked_t *m);
/* The PAN block alone: the PAN (for "same card" checks) into pan[20]. */
int felica_card_pan_decode(const uint8_t block[FELICA_BLOCK_LEN], char pan[FELICA_CARD_PAN_MAX + 1]);

/* The area's first FELICA_CARD_USED_BLOCKS blocks <-> header and both cards;
 * decoding also checks that the main slot holds a card and sets is_main. */
int felica_card_area_decode(const uint8_t (*blocks)[FELICA_BLOCK_LEN],
                            felica_card_area_t *area);

/* Masked view of a record (an EMPTY record gives an all-zero view but status). */
void felica_card_mask(const felica_card_t *rec, felica_card_masked_t *m);

void felica_card_wipe(felica_card_t *rec);
void felica_card_area_wipe(felica_card_area_t *area);

#endif
