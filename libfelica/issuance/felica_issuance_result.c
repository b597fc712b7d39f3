/* felica_issuance_result.c: what a finished session hands back: the slot a
 * card operation changed, or the cards it read (masked, or full for store). */
#include <string.h>
#include "felica_issuance_int.h"

static int result_ready(const struct felica_issuance *s)
{
    if (s == NULL)
        return FELICA_ERR_BAD_PARAM;
    return s->state == FELICA_ISS_DONE ? FELICA_OK : FELICA_ERR_STATE;
}

int felica_issuance_result_slot(const felica_issuance_t *s, uint8_t *slot)
{
    int rc = result_ready(s);
    if (rc != FELICA_OK || slot == NULL)
        return rc != FELICA_OK ? rc : FELICA_ERR_BAD_PARAM;
    if (!iss_is_card_op(s->op) || s->op == FELICA_ISS_READ_CARDS
        || s->op == FELICA_ISS_READ_CARDS_FULL)
        return FELICA_ERR_BAD_PARAM;
    *slot = s->result_slot;
    return FELICA_OK;
}

/* READ_CARDS: header and status blocks only. */
static int masked_from_status(const struct felica_issuance *s,
                              felica_card_masked_t out[FELICA_CARD_SLOTS])
{
    felica_card_header_t h;
    int rc = felica_card_header_decode(s->blocks[0], &h);
    for (unsigned slot = 0; rc == FELICA_OK && slot < FELICA_CARD_SLOTS; slot++) {
        rc = felica_card_status_decode(s->blocks[felica_card_block(slot, FELICA_CARD_BLK_STATUS)],
                                       &out[slot]);
        out[slot].is_main = h.main_slot == slot;
    }
    return rc;
}

static int area_from_blocks(const struct felica_issuance *s, felica_card_area_t *area)
{
    return felica_card_area_decode((const uint8_t (*)[FELICA_BLOCK_LEN])s->blocks, area);
}

int felica_issuance_result_masked(const felica_issuance_t *s,
                                  felica_card_masked_t out[FELICA_CARD_SLOTS])
{
    int rc = result_ready(s);
    if (rc != FELICA_OK || out == NULL)
        return rc != FELICA_OK ? rc : FELICA_ERR_BAD_PARAM;
    memset(out, 0, FELICA_CARD_SLOTS * sizeof *out);
    if (s->op == FELICA_ISS_READ_CARDS)
        return masked_from_status(s, out);
    if (s->op != FELICA_ISS_READ_CARDS_FULL)
        return FELICA_ERR_BAD_PARAM;
    felica_card_area_t area;
    rc = area_from_blocks(s, &area);
    for (unsigned slot = 0; rc == FELICA_OK && slot < FELICA_CARD_SLOTS; slot++)
        felica_card_mask(&area.card[slot], &out[slot]);
    felica_card_area_wipe(&area);
    return rc;
}

int felica_issuance_result_full(const felica_issuance_t *s, felica_card_t out[FELICA_CARD_SLOTS])
{
    int rc = result_ready(s);
    if (rc != FELICA_OK || out == NULL)
        return rc != FELICA_OK ? rc : FELICA_ERR_BAD_PARAM;
    if (s->op != FELICA_ISS_READ_CARDS_FULL)
        return FELICA_ERR_BAD_PARAM;
    felica_card_area_t area;
    rc = area_from_blocks(s, &area);
    for (unsigned slot = 0; rc == FELICA_OK && slot < FELICA_CARD_SLOTS; slot++)
        out[slot] = area.card[slot];
    felica_card_area_wipe(&area);
    return rc;
}
