/* felica_issuance_plan.c: what each operation reads from the iD area, what it
 * refuses, and the one Secure Write that applies it (felica_card.h layout). */
#include <string.h>
#include "felica_issuance_int.h"
#include "felica_crypto.h"

int iss_op_valid(int op)
{
    return op >= FELICA_ISS_ISSUE_AREA && op <= FELICA_ISS_READ_CARDS_FULL;
}

int iss_is_card_op(int op)
{
    return iss_op_valid(op) && op != FELICA_ISS_ISSUE_AREA && op != FELICA_ISS_DELETE_AREA;
}

static int is_read_op(int op)
{
    return op == FELICA_ISS_READ_CARDS || op == FELICA_ISS_READ_CARDS_FULL;
}

uint8_t iss_step_after(const struct felica_issuance *s, uint8_t step)
{
    switch (step) {
    case ISS_STEP_AUTH1:
        return ISS_STEP_AUTH2;
    case ISS_STEP_AUTH2:
        return iss_is_card_op(s->op) ? ISS_STEP_READ_A : ISS_STEP_CHANGE;
    case ISS_STEP_READ_A:
        if (s->op == FELICA_ISS_READ_CARDS_FULL)
            return ISS_STEP_READ_B;
        return is_read_op(s->op) ? ISS_STEP_END : ISS_STEP_CHANGE;
    default:
        return ISS_STEP_END;
    }
}

uint8_t iss_step_code(const struct felica_issuance *s, uint8_t step)
{
    switch (step) {
    case ISS_STEP_AUTH1: return FELICA_CMD_AUTH1;
    case ISS_STEP_AUTH2: return FELICA_CMD_AUTH2;
    case ISS_STEP_READ_A:
    case ISS_STEP_READ_B: return FELICA_CMD_SECURE_READ;
    case ISS_STEP_CHANGE:
        if (s->op == FELICA_ISS_ISSUE_AREA)
            return FELICA_CMD_CREATE_AREA;
        return s->op == FELICA_ISS_DELETE_AREA ? FELICA_CMD_DELETE_AREA : FELICA_CMD_SECURE_WRITE;
    default: return 0;
    }
}

int iss_step_valid(const struct felica_issuance *s, uint8_t step)
{
    for (uint8_t st = ISS_STEP_AUTH1;; st = iss_step_after(s, st)) {
        if (st == step)
            return 1;
        if (st == ISS_STEP_END)
            return 0;
    }
}

uint16_t iss_blocks_read_before(const struct felica_issuance *s, uint8_t step)
{
    uint16_t have = 0;
    felica_secure_rw_t rw;
    for (uint8_t st = ISS_STEP_AUTH1; st < step && st != ISS_STEP_END; st = iss_step_after(s, st)) {
        if (st != ISS_STEP_READ_A && st != ISS_STEP_READ_B)
            continue;
        iss_read_list(s, st, &rw);
        for (unsigned i = 0; i < rw.n; i++)
            have = (uint16_t)(have | 1u << rw.block[i]);
    }
    return have;
}

static void add_block(felica_secure_rw_t *rw, uint16_t block)
{
    rw->block[rw->n++] = block;
}

void iss_read_list(const struct felica_issuance *s, uint8_t step, felica_secure_rw_t *rw)
{
    memset(rw, 0, sizeof *rw);
    rw->area = FELICA_ID_AREA;
    if (s->op == FELICA_ISS_READ_CARDS_FULL) {
        /* 13 blocks exceed one Secure Read (12): header + slot 0, then slot 1 */
        unsigned first = step == ISS_STEP_READ_A ? 0 : felica_card_block(1, 0);
        unsigned last = step == ISS_STEP_READ_A ? felica_card_block(1, 0) : FELICA_CARD_USED_BLOCKS;
        for (unsigned b = first; b < last; b++)
            add_block(rw, (uint16_t)b);
        return;
    }
    add_block(rw, 0);
    for (unsigned slot = 0; slot < FELICA_CARD_SLOTS; slot++)
        add_block(rw, felica_card_block(slot, FELICA_CARD_BLK_STATUS));
    /* a card write compares PANs: no card twice, an update keeps its PAN,
     * a delete with an expected card removes only that card (a delete
     * always reads them, so the plan does not depend on the expectation) */
    if (s->op == FELICA_ISS_WRITE_CARD || s->op == FELICA_ISS_UPDATE_CARD
        || s->op == FELICA_ISS_DELETE_CARD)
        for (unsigned slot = 0; slot < FELICA_CARD_SLOTS; slot++)
            add_block(rw, felica_card_block(slot, FELICA_CARD_BLK_PAN));
}

static int have_block(const struct felica_issuance *s, unsigned block)
{
    return (s->have >> block) & 1;
}

static const uint8_t *cached(const struct felica_issuance *s, unsigned slot, unsigned offset)
{
    return s->blocks[felica_card_block(slot, offset)];
}

/* Occupancy of a slot from its status block; the PAN when that block was read too. */
static int slot_view(const struct felica_issuance *s, unsigned slot, felica_card_masked_t *m,
                     char pan[FELICA_CARD_PAN_MAX + 1])
{
    static const uint8_t zero[FELICA_BLOCK_LEN];
    memset(pan, 0, FELICA_CARD_PAN_MAX + 1);
    int rc = felica_card_status_decode(cached(s, slot, FELICA_CARD_BLK_STATUS), m);
    if (rc != FELICA_OK || !have_block(s, felica_card_block(slot, FELICA_CARD_BLK_PAN)))
        return rc;
    const uint8_t *pan_blk = cached(s, slot, FELICA_CARD_BLK_PAN);
    if (m->status == FELICA_CARD_EMPTY)
        return memcmp(pan_blk, zero, sizeof zero) == 0 ? FELICA_OK : FELICA_ERR_CORRUPT;
    rc = felica_card_pan_decode(pan_blk, pan);
    if (rc == FELICA_OK && memcmp(pan + strlen(pan) - 4, m->last4, 4) != 0)
        rc = FELICA_ERR_CORRUPT;
    return rc;
}

/* The target slot of a WRITE_CARD: refuses a slot in use, a full area, a duplicate card. */
static int check_write(struct felica_issuance *s, const felica_card_masked_t m[],
                       char pan[][FELICA_CARD_PAN_MAX + 1])
{
    uint8_t target = s->slot;
    if (target == FELICA_ISS_ANY_SLOT) {
        for (uint8_t slot = FELICA_CARD_SLOTS; slot-- > 0;)
            if (m[slot].status == FELICA_CARD_EMPTY)
                target = slot;
        if (target == FELICA_ISS_ANY_SLOT)
            return FELICA_ERR_FULL;
    } else if (m[target].status != FELICA_CARD_EMPTY) {
        return FELICA_ERR_EXISTS;
    }
    for (unsigned slot = 0; slot < FELICA_CARD_SLOTS; slot++)
        if (slot != target && m[slot].status != FELICA_CARD_EMPTY && strcmp(pan[slot], s->card.pan) == 0)
            return FELICA_ERR_EXISTS;
    s->result_slot = target;
    return FELICA_OK;
}

static int check_card_op(struct felica_issuance *s, const felica_card_header_t *h,
                         const felica_card_masked_t m[], char pan[][FELICA_CARD_PAN_MAX + 1])
{
    if (h->main_slot != FELICA_CARD_NO_SLOT && m[h->main_slot].status == FELICA_CARD_EMPTY)
        return FELICA_ERR_CORRUPT;
    if (is_read_op(s->op))
        return FELICA_OK;
    if (h->seq == UINT32_MAX)
        return FELICA_ERR_FULL;                 /* the sequence would wrap */
    if (s->op == FELICA_ISS_WRITE_CARD)
        return check_write(s, m, pan);
    if (m[s->slot].status == FELICA_CARD_EMPTY)
        return FELICA_ERR_NOT_FOUND;
    if (s->op == FELICA_ISS_UPDATE_CARD && strcmp(pan[s->slot], s->card.pan) != 0)
        return FELICA_ERR_BAD_PARAM;            /* another card: delete, then write */
    if (s->op == FELICA_ISS_DELETE_CARD && s->card.pan[0] != '\0'
        && (strcmp(pan[s->slot], s->card.pan) != 0
            || (s->card.issuer_id != 0 && m[s->slot].issuer_id != s->card.issuer_id)))
        return FELICA_ERR_NOT_FOUND;            /* the slot holds another card */
    s->result_slot = s->slot;
    return FELICA_OK;
}

int iss_check_reads(struct felica_issuance *s)
{
    felica_card_header_t h;
    felica_card_masked_t m[FELICA_CARD_SLOTS];
    char pan[FELICA_CARD_SLOTS][FELICA_CARD_PAN_MAX + 1];
    memset(m, 0, sizeof m);
    memset(pan, 0, sizeof pan);
    int rc = felica_card_header_decode(s->blocks[0], &h);
    for (unsigned slot = 0; rc == FELICA_OK && slot < FELICA_CARD_SLOTS; slot++)
        if (have_block(s, felica_card_block(slot, FELICA_CARD_BLK_STATUS)))
            rc = slot_view(s, slot, &m[slot], pan[slot]);
    int all_read = s->have == (1u << FELICA_CARD_USED_BLOCKS) - 1;
    if (rc == FELICA_OK && s->op != FELICA_ISS_READ_CARDS_FULL) {
        rc = check_card_op(s, &h, m, pan);
    } else if (rc == FELICA_OK && all_read) {
        /* the full read: the whole layout, cross-checked (its first half
         * was checked block by block above) */
        felica_card_area_t area;
        rc = felica_card_area_decode((const uint8_t (*)[FELICA_BLOCK_LEN])s->blocks, &area);
        felica_card_area_wipe(&area);
    }
    felica_wipe(pan, sizeof pan);
    return rc;
}

/* The header after this operation. */
static void next_header(const struct felica_issuance *s, felica_card_header_t *h, uint8_t op)
{
    uint8_t slot = s->result_slot, other = (uint8_t)(1 - slot);
    felica_card_masked_t m;
    h->seq++;
    h->last_op = op;
    h->last_slot = slot;
    if (op == FELICA_CARD_OP_SET_MAIN || (s->make_main && op != FELICA_CARD_OP_DELETE)
        || (op == FELICA_CARD_OP_WRITE && h->main_slot == FELICA_CARD_NO_SLOT)) {
        h->main_slot = slot;
    } else if (op == FELICA_CARD_OP_DELETE && h->main_slot == slot) {
        /* the main card goes: the remaining card, if any, pays by default */
        int other_full = felica_card_status_decode(cached(s, other, FELICA_CARD_BLK_STATUS), &m)
                         == FELICA_OK && m.status != FELICA_CARD_EMPTY;
        h->main_slot = other_full ? other : FELICA_CARD_NO_SLOT;
    }
}

static uint8_t card_op_of(int op)
{
    switch (op) {
    case FELICA_ISS_WRITE_CARD: return FELICA_CARD_OP_WRITE;
    case FELICA_ISS_UPDATE_CARD: return FELICA_CARD_OP_UPDATE;
    case FELICA_ISS_DELETE_CARD: return FELICA_CARD_OP_DELETE;
    default: return FELICA_CARD_OP_SET_MAIN;
    }
}

int iss_plan_write(struct felica_issuance *s, felica_secure_rw_t *rw)
{
    felica_card_header_t h;
    uint8_t op = card_op_of(s->op), slot = s->result_slot;
    uint8_t slot_blocks[FELICA_CARD_SLOT_BLOCKS][FELICA_BLOCK_LEN];
    int rc = felica_card_header_decode(s->blocks[0], &h);
    if (rc != FELICA_OK)
        return rc;
    next_header(s, &h, op);
    memset(rw, 0, sizeof *rw);
    rw->area = FELICA_ID_AREA;
    rw->n = 1;
    rw->block[0] = 0;
    rc = felica_card_header_encode(&h, rw->data[0]);
    if (rc != FELICA_OK)
        return rc;
    if (op == FELICA_CARD_OP_SET_MAIN) {
        rw->block[rw->n] = felica_card_block(slot, FELICA_CARD_BLK_HISTORY);
        felica_card_history_encode(op, h.seq, rw->data[rw->n++]);
        return FELICA_OK;
    }
    if (op == FELICA_CARD_OP_DELETE)
        felica_card_empty_blocks(op, h.seq, slot_blocks);
    else
        rc = felica_card_to_blocks(&s->card, op, h.seq, slot_blocks);
    for (unsigned i = 0; rc == FELICA_OK && i < FELICA_CARD_SLOT_BLOCKS; i++) {
        rw->block[rw->n] = felica_card_block(slot, i);
        memcpy(rw->data[rw->n++], slot_blocks[i], FELICA_BLOCK_LEN);
    }
    felica_wipe(slot_blocks, sizeof slot_blocks);
    return rc;
}
