/* felica_card.c: the iD area's blocks <-> header and card records.
 * Byte layouts are in felica_card.h and docs/libfelica-issuance.md. */
#include <string.h>
#include "felica_card.h"
#include "felica_crypto.h"

#define HDR_MAGIC0 'i'
#define HDR_MAGIC1 'D'
#define PROFILE_TAG 'C'
#define PAN_BCD_LEN 10                  /* 20 nibbles: up to 19 digits + 0xF padding */
#define NAME_LEN (2 * FELICA_BLOCK_LEN)

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static int slot_ok(uint8_t slot)
{
    return slot < FELICA_CARD_SLOTS || slot == FELICA_CARD_NO_SLOT;
}

uint16_t felica_card_block(unsigned slot, unsigned offset)
{
    return (uint16_t)(1 + slot * FELICA_CARD_SLOT_BLOCKS + offset);
}

/* ---- header ---- */

int felica_card_header_encode(const felica_card_header_t *h, uint8_t block[FELICA_BLOCK_LEN])
{
    if (!slot_ok(h->main_slot) || !slot_ok(h->last_slot) || h->last_op > FELICA_CARD_OP_SET_MAIN)
        return FELICA_ERR_BAD_PARAM;
    memset(block, 0, FELICA_BLOCK_LEN);
    block[0] = HDR_MAGIC0;
    block[1] = HDR_MAGIC1;
    block[2] = FELICA_CARD_FORMAT_VERSION;
    block[3] = h->main_slot;
    put_be32(block + 4, h->seq);
    block[8] = h->last_op;
    block[9] = h->last_slot;
    return FELICA_OK;
}

int felica_card_header_decode(const uint8_t block[FELICA_BLOCK_LEN], felica_card_header_t *h)
{
    memset(h, 0, sizeof *h);
    h->main_slot = FELICA_CARD_NO_SLOT;
    h->last_slot = FELICA_CARD_NO_SLOT;
    if (all_zero(block, FELICA_BLOCK_LEN))
        return FELICA_OK;                           /* fresh area */
    if (block[0] != HDR_MAGIC0 || block[1] != HDR_MAGIC1)
        return FELICA_ERR_CORRUPT;
    if (block[2] != FELICA_CARD_FORMAT_VERSION)
        return FELICA_ERR_VERSION;
    if (!slot_ok(block[3]) || block[8] > FELICA_CARD_OP_SET_MAIN || !slot_ok(block[9])
        || (block[8] == FELICA_CARD_OP_NONE) != (block[9] == FELICA_CARD_NO_SLOT)
        || !all_zero(block + 10, 6))
        return FELICA_ERR_CORRUPT;
    h->version = block[2];
    h->main_slot = block[3];
    h->seq = get_be32(block + 4);
    h->last_op = block[8];
    h->last_slot = block[9];
    return FELICA_OK;
}

/* ---- slot blocks ---- */

void felica_card_history_encode(uint8_t op, uint32_t seq, uint8_t block[FELICA_BLOCK_LEN])
{
    memset(block, 0, FELICA_BLOCK_LEN);
    block[0] = op;
    put_be32(block + 1, seq);
}

static void pan_encode(const char *pan, const char *expiry, uint8_t block[FELICA_BLOCK_LEN])
{
    size_t n = strlen(pan);
    memset(block, 0, FELICA_BLOCK_LEN);
    memset(block, 0xFF, PAN_BCD_LEN);
    for (size_t i = 0; i < n; i++) {
        uint8_t d = (uint8_t)(pan[i] - '0');
        if (i % 2 == 0)
            block[i / 2] = (uint8_t)(d << 4 | 0x0F);
        else
            block[i / 2] = (uint8_t)((block[i / 2] & 0xF0) | d);
    }
    block[PAN_BCD_LEN] = (uint8_t)((expiry[0] - '0') << 4 | (expiry[1] - '0'));
    block[PAN_BCD_LEN + 1] = (uint8_t)((expiry[2] - '0') << 4 | (expiry[3] - '0'));
}

static void status_encode(const felica_card_t *rec, const char *last4,
                          uint8_t block[FELICA_BLOCK_LEN])
{
    memset(block, 0, FELICA_BLOCK_LEN);
    block[0] = rec->status;
    memcpy(block + 1, last4, 4);
    put_be32(block + 5, rec->issuer_id);
    put_be32(block + 9, rec->display.issuer_id);
    block[13] = (uint8_t)(rec->display.version >> 8);
    block[14] = (uint8_t)rec->display.version;
}

int felica_card_to_blocks(const felica_card_t *rec, uint8_t op, uint32_t seq,
                          uint8_t blocks[FELICA_CARD_SLOT_BLOCKS][FELICA_BLOCK_LEN])
{
    int rc = felica_card_validate(rec);
    if (rc != FELICA_OK)
        return rc;
    if (op != FELICA_CARD_OP_WRITE && op != FELICA_CARD_OP_UPDATE && op != FELICA_CARD_OP_SET_MAIN)
        return FELICA_ERR_BAD_PARAM;
    size_t pan_len = strlen(rec->pan), name_len = strlen(rec->name);

    uint8_t *profile = blocks[FELICA_CARD_BLK_PROFILE];
    memset(profile, 0, FELICA_BLOCK_LEN);
    profile[0] = PROFILE_TAG;
    profile[1] = FELICA_CARD_FORMAT_VERSION;
    put_be32(profile + 2, rec->issuer_id);
    profile[6] = (uint8_t)pan_len;
    profile[7] = (uint8_t)name_len;

    pan_encode(rec->pan, rec->expiry, blocks[FELICA_CARD_BLK_PAN]);

    memset(blocks[FELICA_CARD_BLK_NAME], 0, NAME_LEN);     /* spans blocks 2 and 3 */
    memcpy(blocks[FELICA_CARD_BLK_NAME], rec->name, name_len);

    status_encode(rec, rec->pan + pan_len - 4, blocks[FELICA_CARD_BLK_STATUS]);
    felica_card_history_encode(op, seq, blocks[FELICA_CARD_BLK_HISTORY]);
    return FELICA_OK;
}

void felica_card_empty_blocks(uint8_t op, uint32_t seq,
                              uint8_t blocks[FELICA_CARD_SLOT_BLOCKS][FELICA_BLOCK_LEN])
{
    memset(blocks, 0, FELICA_CARD_SLOT_BLOCKS * FELICA_BLOCK_LEN);
    felica_card_history_encode(op, seq, blocks[FELICA_CARD_BLK_HISTORY]);
}

static int bcd_byte(uint8_t b, int *value)
{
    if ((b >> 4) > 9 || (b & 0x0F) > 9)
        return 0;
    *value = (b >> 4) * 10 + (b & 0x0F);
    return 1;
}

int felica_card_pan_decode(const uint8_t block[FELICA_BLOCK_LEN], char pan[FELICA_CARD_PAN_MAX + 1])
{
    size_t n = 0;
    memset(pan, 0, FELICA_CARD_PAN_MAX + 1);
    /* digits, then nothing but 0xF padding nibbles */
    for (size_t i = 0; i < 2 * PAN_BCD_LEN; i++) {
        uint8_t nib = (i % 2 == 0) ? block[i / 2] >> 4 : block[i / 2] & 0x0F;
        if (nib <= 9 && n == i && n < FELICA_CARD_PAN_MAX)
            pan[n++] = (char)('0' + nib);
        else if (nib != 0x0F)
            goto bad;
    }
    int yy, mm;
    if (!bcd_byte(block[PAN_BCD_LEN], &yy) || !bcd_byte(block[PAN_BCD_LEN + 1], &mm)
        || mm < 1 || mm > 12 || !all_zero(block + PAN_BCD_LEN + 2, 4)
        || !felica_card_pan_valid(pan))
        goto bad;
    return FELICA_OK;
bad:
    felica_wipe(pan, FELICA_CARD_PAN_MAX + 1);
    return FELICA_ERR_CORRUPT;
}

int felica_card_status_decode(const uint8_t block[FELICA_BLOCK_LEN], felica_card_masked_t *m)
{
    memset(m, 0, sizeof *m);
    if (all_zero(block, FELICA_BLOCK_LEN))
        return FELICA_OK;                           /* empty slot */
    uint8_t st = block[0];
    if (st != FELICA_CARD_ACTIVE && st != FELICA_CARD_SUSPENDED && st != FELICA_CARD_DEPOSITED)
        return FELICA_ERR_CORRUPT;
    for (int i = 1; i <= 4; i++)
        if (block[i] < '0' || block[i] > '9')
            return FELICA_ERR_CORRUPT;
    uint32_t issuer = get_be32(block + 5), disp_issuer = get_be32(block + 9);
    if (issuer == 0 || disp_issuer == 0 || block[15] != 0)
        return FELICA_ERR_CORRUPT;
    m->status = st;
    memcpy(m->last4, block + 1, 4);
    m->issuer_id = issuer;
    m->display.issuer_id = disp_issuer;
    m->display.version = (uint16_t)(block[13] << 8 | block[14]);
    return FELICA_OK;
}

static int history_decode(const uint8_t block[FELICA_BLOCK_LEN], int empty, felica_card_t *rec)
{
    uint8_t op = block[0];
    uint32_t seq = get_be32(block + 1);
    if (!all_zero(block + 5, FELICA_BLOCK_LEN - 5))
        return FELICA_ERR_CORRUPT;
    if (empty) {
        if (!(op == FELICA_CARD_OP_DELETE || (op == FELICA_CARD_OP_NONE && seq == 0)))
            return FELICA_ERR_CORRUPT;
    } else if (op != FELICA_CARD_OP_WRITE && op != FELICA_CARD_OP_UPDATE
               && op != FELICA_CARD_OP_SET_MAIN) {
        return FELICA_ERR_CORRUPT;
    }
    rec->last_op = op;
    rec->last_seq = seq;
    return FELICA_OK;
}

/* The occupied slot's profile, name and status blocks, given the decoded PAN. */
static int card_fields_decode(const uint8_t (*blocks)[FELICA_BLOCK_LEN],
                              felica_card_t *rec)
{
    const uint8_t *profile = blocks[FELICA_CARD_BLK_PROFILE];
    const uint8_t *name = blocks[FELICA_CARD_BLK_NAME];        /* 32 bytes over two blocks */
    const uint8_t *pan_blk = blocks[FELICA_CARD_BLK_PAN];
    if (profile[0] != PROFILE_TAG)
        return FELICA_ERR_CORRUPT;
    if (profile[1] != FELICA_CARD_FORMAT_VERSION)
        return FELICA_ERR_VERSION;
    size_t name_len = profile[7];
    if (!all_zero(profile + 8, 8) || profile[6] != strlen(rec->pan)
        || name_len == 0 || name_len > FELICA_CARD_NAME_MAX
        || !all_zero(name + name_len, NAME_LEN - name_len))
        return FELICA_ERR_CORRUPT;
    memcpy(rec->name, name, name_len);
    rec->name[name_len] = '\0';
    if (strlen(rec->name) != name_len || !felica_card_name_valid(rec->name))
        return FELICA_ERR_CORRUPT;
    rec->expiry[0] = (char)('0' + (pan_blk[PAN_BCD_LEN] >> 4));
    rec->expiry[1] = (char)('0' + (pan_blk[PAN_BCD_LEN] & 0x0F));
    rec->expiry[2] = (char)('0' + (pan_blk[PAN_BCD_LEN + 1] >> 4));
    rec->expiry[3] = (char)('0' + (pan_blk[PAN_BCD_LEN + 1] & 0x0F));
    rec->expiry[4] = '\0';

    felica_card_masked_t m;
    int rc = felica_card_status_decode(blocks[FELICA_CARD_BLK_STATUS], &m);
    if (rc != FELICA_OK)
        return rc;
    size_t pan_len = strlen(rec->pan);
    if (m.status == FELICA_CARD_EMPTY || m.issuer_id != get_be32(profile + 2)
        || memcmp(m.last4, rec->pan + pan_len - 4, 4) != 0)
        return FELICA_ERR_CORRUPT;
    rec->status = m.status;
    rec->issuer_id = m.issuer_id;
    rec->display = m.display;
    memcpy(rec->last4, m.last4, sizeof rec->last4);
    return FELICA_OK;
}

int felica_card_from_blocks(const uint8_t (*blocks)[FELICA_BLOCK_LEN],
                            felica_card_t *rec)
{
    memset(rec, 0, sizeof *rec);
    int empty = all_zero(blocks[0], FELICA_CARD_BLK_HISTORY * FELICA_BLOCK_LEN);
    int rc = history_decode(blocks[FELICA_CARD_BLK_HISTORY], empty, rec);
    if (rc != FELICA_OK || empty)
        return rc;
    rc = felica_card_pan_decode(blocks[FELICA_CARD_BLK_PAN], rec->pan);
    if (rc == FELICA_OK)
        rc = card_fields_decode(blocks, rec);
    if (rc != FELICA_OK)
        felica_card_wipe(rec);
    return rc;
}

int felica_card_area_decode(const uint8_t (*blocks)[FELICA_BLOCK_LEN],
                            felica_card_area_t *area)
{
    memset(area, 0, sizeof *area);
    int rc = felica_card_header_decode(blocks[0], &area->header);
    for (unsigned s = 0; rc == FELICA_OK && s < FELICA_CARD_SLOTS; s++)
        rc = felica_card_from_blocks(blocks + felica_card_block(s, 0), &area->card[s]);
    if (rc == FELICA_OK && area->header.main_slot != FELICA_CARD_NO_SLOT) {
        felica_card_t *main_card = &area->card[area->header.main_slot];
        if (main_card->status == FELICA_CARD_EMPTY)
            rc = FELICA_ERR_CORRUPT;
        else
            main_card->is_main = 1;
    }
    if (rc != FELICA_OK)
        felica_card_area_wipe(area);
    return rc;
}

void felica_card_mask(const felica_card_t *rec, felica_card_masked_t *m)
{
    memset(m, 0, sizeof *m);
    m->status = rec->status;
    if (rec->status == FELICA_CARD_EMPTY)
        return;
    size_t n = strnlen(rec->pan, FELICA_CARD_PAN_MAX);
    if (n >= 4)
        memcpy(m->last4, rec->pan + n - 4, 4);
    m->issuer_id = rec->issuer_id;
    m->is_main = rec->is_main;
    m->display = rec->display;
}

void felica_card_wipe(felica_card_t *rec)
{
    felica_wipe(rec, sizeof *rec);
}

void felica_card_area_wipe(felica_card_area_t *area)
{
    felica_wipe(area, sizeof *area);
}
