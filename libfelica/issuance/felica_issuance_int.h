/* felica_issuance_int.h: the issuance session's state, shared by the state
 * machine (felica_issuance.c), the command planner (felica_issuance_plan.c)
 * and the serialiser (felica_issuance_codec.c).  Not a public header. */
#ifndef FELICA_ISSUANCE_INT_H
#define FELICA_ISSUANCE_INT_H

#include "felica_issuance.h"
#include "felica_secure_cmd.h"

/* Steps of every plan, in order; an operation skips the ones it does not need. */
enum iss_step {
    ISS_STEP_AUTH1 = 0,
    ISS_STEP_AUTH2 = 1,
    ISS_STEP_READ_A = 2,        /* card operations: the blocks the decision needs */
    ISS_STEP_READ_B = 3,        /* READ_CARDS_FULL: the rest of the layout */
    ISS_STEP_CHANGE = 4,        /* the one chip update: Secure Write / Create / Delete Area */
    ISS_STEP_END = 5
};

/* Create Area payload: AREA(2) NBLOCKS(2) KVN(1) 3 wrapped keys, 3 KCVs. */
#define ISS_CREATE_LEN (2 + 2 + 1 + 3 * 16 + 3 * 3)

struct felica_issuance {
    uint8_t op;                 /* enum felica_iss_op */
    uint8_t slot;               /* requested slot (or FELICA_ISS_ANY_SLOT) */
    uint8_t make_main;
    uint8_t result_slot;        /* the slot chosen, once the write is planned */
    uint8_t step;               /* enum iss_step: the command now due or outstanding */
    uint8_t state;              /* enum felica_iss_state */
    uint8_t awaiting;           /* 1: pending[] was handed out, its response is due */
    int error;
    uint32_t steps;             /* responses accepted */
    uint8_t idm[FELICA_IDM_LEN];
    felica_sc_t sc;
    felica_card_t card;         /* WRITE/UPDATE_CARD record */
    uint8_t create[ISS_CREATE_LEN];     /* ISSUE_AREA: the Create Area payload */
    uint8_t pending[FELICA_MAX_FRAME];
    size_t pending_len;
    uint16_t have;              /* bit b: blocks[b] holds the chip's block b */
    uint8_t blocks[FELICA_CARD_USED_BLOCKS][FELICA_BLOCK_LEN];
};

/* ---- felica_issuance_codec.c ---- */
/* Plaintext body of a saved session (the sealed part of the blob). */
#define ISS_SC_LEN (1 + 8 + 2 + 1 + 1 + 8 + 8 + 5 * 16 + 2 + 4)
#define ISS_BODY_LEN (8 + 4 + FELICA_IDM_LEN + ISS_SC_LEN \
                      + FELICA_CARD_SLOT_BLOCKS * FELICA_BLOCK_LEN + ISS_CREATE_LEN \
                      + 1 + FELICA_MAX_FRAME + 2 + FELICA_CARD_USED_BLOCKS * FELICA_BLOCK_LEN)
/* Serialise / parse and check a body (into a zeroed *s; FELICA_ERR_CORRUPT).
 * The fuzz harness and its seed generator use them to reach past the seal. */
int iss_body_encode(const struct felica_issuance *s, uint8_t body[ISS_BODY_LEN]);
int iss_body_decode(const uint8_t body[ISS_BODY_LEN], struct felica_issuance *s);

/* ---- felica_issuance_plan.c ---- */
int iss_op_valid(int op);
int iss_is_card_op(int op);
/* The step after `step` for this operation. */
uint8_t iss_step_after(const struct felica_issuance *s, uint8_t step);
/* The blocks the READ_A / READ_B step reads. */
void iss_read_list(const struct felica_issuance *s, uint8_t step, felica_secure_rw_t *rw);
/* The command code of a step (0 for END). */
uint8_t iss_step_code(const struct felica_issuance *s, uint8_t step);
/* Whether step is on this operation's plan. */
int iss_step_valid(const struct felica_issuance *s, uint8_t step);
/* The blocks held once every read before step is done. */
uint16_t iss_blocks_read_before(const struct felica_issuance *s, uint8_t step);
/* After the reads: check the chip's blocks and refuse what the layout forbids. */
int iss_check_reads(struct felica_issuance *s);
/* The Secure Write of a card operation (sets result_slot). */
int iss_plan_write(struct felica_issuance *s, felica_secure_rw_t *rw);

#endif
