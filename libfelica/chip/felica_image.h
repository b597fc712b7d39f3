/* felica_image.h: the chip emulator's persistent state and its image file.
 *
 * felica_image_t is everything a chip remembers across power cycles: IDm,
 * PMm, system code, the anti-replay sequence counter, the system key sets and
 * the areas with their key sets and blocks.  The session and the mode are not
 * part of it (a power cycle always starts in Mode 0 with no session).
 *
 * File format (all integers big-endian; docs/libfelica-chip.md has the table):
 *   header  MAGIC "IDGWCHIP"(8) | VERSION(2) = 1 | FLAGS(2) = 0 | BODY_LEN(4)
 *   body    IDM(8) | PMM(8) | SYSTEM_CODE(2) | SEQ(4, <= 0xFFFFFF)
 *           | NSYSKEYS(1) | KEYSET * NSYSKEYS
 *           | NAREAS(1) | AREA * NAREAS
 *           KEYSET = KVN(1) | K-ENC(16) | K-MAC(16) | K-DEK(16)
 *           AREA   = CODE(2) | ACCESS(1) | NKEYS(1) | NBLOCKS(2) | KEYSET * NKEYS | BLOCK(16) * NBLOCKS
 *   trailer SHA-256(header || body)(32)
 * Keys are stored in the clear: the file models the chip's secure storage, so
 * it is created with mode 0600 and must be protected like a key file.
 *
 * Saving is atomic: write a temporary file in the same directory (0600),
 * fsync it, rename it over the image, fsync the directory.  A crash at any
 * point leaves either the old or the new image, never a mixture. */
#ifndef FELICA_IMAGE_H
#define FELICA_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "felica_error.h"
#include "felica_frame.h"
#include "felica_sc.h"
#include "felica_secure_cmd.h"

#define FELICA_IMAGE_MAGIC "IDGWCHIP"
#define FELICA_IMAGE_VERSION 1
#define FELICA_IMAGE_HEADER_LEN 16
#define FELICA_IMAGE_SUM_LEN 32

#define FELICA_CHIP_MAX_AREAS 8          /* areas on one chip */
#define FELICA_CHIP_MAX_KEYSETS 4        /* key versions per area and for the system */
#define FELICA_CHIP_BLOCK_BUDGET 1024    /* 16-byte blocks of all areas together */
#define FELICA_CHIP_SEQ_MAX 0xFFFFFFu    /* the sequence counter has 3 bytes */

/* Largest valid file: header, body with every array full, checksum. */
#define FELICA_IMAGE_KEYSET_LEN 49
#define FELICA_IMAGE_MAX_LEN (FELICA_IMAGE_HEADER_LEN + 8 + 8 + 2 + 4 + 1 \
    + FELICA_CHIP_MAX_KEYSETS * FELICA_IMAGE_KEYSET_LEN + 1 \
    + FELICA_CHIP_MAX_AREAS * (6 + FELICA_CHIP_MAX_KEYSETS * FELICA_IMAGE_KEYSET_LEN) \
    + FELICA_CHIP_BLOCK_BUDGET * FELICA_BLOCK_LEN + FELICA_IMAGE_SUM_LEN)

/* Area codes: the low 6 bits are 0 (they hold the service attribute in a
 * service code); 0x0000 names the system root in Request Service and 0xFFC0 is
 * reserved because its services would collide with FELICA_AREA_SYSTEM. */
#define FELICA_AREA_CODE_MASK 0xFFC0
int felica_area_code_valid(uint16_t code);

/* How an area's blocks may be reached. */
enum felica_area_access {
    FELICA_ACCESS_KEYED = 0,     /* Secure Read/Write after Auth1/Auth2 with its keys */
    FELICA_ACCESS_PLAIN_RO = 1,  /* Read Without Encryption only (no keys) */
    FELICA_ACCESS_PLAIN_RW = 2   /* Read/Write Without Encryption (no keys) */
};

typedef struct felica_area_state {
    uint16_t code;
    uint8_t access;              /* enum felica_area_access */
    uint8_t n_keysets;           /* 0 for plain areas, >= 1 for keyed ones */
    uint16_t n_blocks;           /* 1..FELICA_AREA_MAX_BLOCKS */
    felica_keyset_t keys[FELICA_CHIP_MAX_KEYSETS];
    uint8_t blocks[FELICA_AREA_MAX_BLOCKS][FELICA_BLOCK_LEN];
} felica_area_state_t;

typedef struct felica_image {
    uint8_t idm[FELICA_IDM_LEN];
    uint8_t pmm[FELICA_PMM_LEN];
    uint16_t system_code;
    uint32_t seq_counter;        /* last value used by Auth1; 0 = never authenticated */
    uint8_t n_sys_keys;
    felica_keyset_t sys_keys[FELICA_CHIP_MAX_KEYSETS];
    uint8_t n_areas;
    felica_area_state_t areas[FELICA_CHIP_MAX_AREAS];
} felica_image_t;

/* A fresh chip: no keys, no areas, counter 0. */
void felica_image_init(felica_image_t *img, const uint8_t idm[8], const uint8_t pmm[8],
                       uint16_t system_code);
/* Add a key set to the system (area FELICA_AREA_SYSTEM) or to a keyed area.
 * FELICA_ERR_EXISTS when that KVN is present, FELICA_ERR_FULL when no room. */
int felica_image_add_keyset(felica_image_t *img, uint16_t area, const felica_keyset_t *keys);
/* Add an empty area (blocks zeroed).  Keyed areas need a key set added before use. */
int felica_image_add_area(felica_image_t *img, uint16_t code, uint8_t access, uint16_t n_blocks);
/* Remove an area and its keys (FELICA_ERR_NOT_FOUND when absent). */
int felica_image_delete_area(felica_image_t *img, uint16_t code);
felica_area_state_t *felica_image_find_area(felica_image_t *img, uint16_t code);
const felica_area_state_t *felica_image_find_area_const(const felica_image_t *img, uint16_t code);
/* Key set of the system or an area by KVN, or NULL. */
const felica_keyset_t *felica_image_find_keyset(const felica_image_t *img, uint16_t area, uint8_t kvn);
/* Blocks used by all areas. */
unsigned felica_image_blocks_used(const felica_image_t *img);
/* Check every invariant (counts, codes, budget, counter range). */
int felica_image_validate(const felica_image_t *img);

/* Serialise to / parse from memory (the whole file: header, body, checksum).
 * Decode returns FELICA_ERR_CORRUPT or FELICA_ERR_VERSION on a bad buffer. */
int felica_image_encode(const felica_image_t *img, uint8_t *out, size_t cap, size_t *len);
int felica_image_decode(const uint8_t *buf, size_t len, felica_image_t *img);

/* Load and save a file; save is atomic (see above). */
int felica_image_load(const char *path, felica_image_t *img);
int felica_image_save(const char *path, const felica_image_t *img);

/* Wipe the keys an image holds (before freeing it). */
void felica_image_wipe(felica_image_t *img);

#endif
