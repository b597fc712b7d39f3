/* felica_issuance.h: the host side of one chip operation, as the FeliCa server
 * runs it.  The session plans the chip commands (Auth1 -> Auth2 -> secure
 * commands), verifies every chip response (frame, IDm, code, R-MAC, counter,
 * status flags) and keeps what it read.  The phone only relays the packets.
 *
 *   felica_issuance_t *s;
 *   felica_issuance_new(&s, idm, &keys, &req);
 *   while (felica_issuance_state(s) == FELICA_ISS_RUNNING) {
 *       felica_issuance_next(s, pkt, sizeof pkt, &len);     -> relay pkt to the chip
 *       felica_issuance_consume(s, res, res_len);           <- the chip's answer
 *   }
 *   felica_issuance_result_slot(s) / _masked(s, ...) / _full(s, ...); felica_issuance_free(s);
 *
 * Between HTTP requests a server keeps the session as a sealed blob
 * (felica_issuance_save / felica_issuance_load, AES-256-GCM under a 32-byte
 * key of the caller's).  The session has no global state; one session is
 * used by one thread at a time.
 *
 * Any failure (a response that does not verify, a refused operation such as a
 * slot in use, a chip error status) fails the session: it wipes its keys and
 * never produces another command.  Each chip update is one Secure Write (or one
 * Create/Delete Area), which the chip applies all-or-nothing, so an operation
 * cut off at any point leaves the chip as before or as intended.
 *
 * Operations and their command plans (docs/libfelica-issuance.md):
 *   ISSUE_AREA       system channel: Create Area (iD area keys diversified from
 *                    the area master keys for this IDm, wrapped under K-DEK)
 *   DELETE_AREA      system channel: Delete Area
 *   WRITE_CARD       area channel: Secure Read (header, both slots' status and
 *                    PAN) -> Secure Write (header + the slot's six blocks).
 *                    Refused: slot in use (EXISTS), no free slot for
 *                    FELICA_ISS_ANY_SLOT (FULL), the same PAN already in the
 *                    other slot (EXISTS).
 *   UPDATE_CARD      like WRITE_CARD; the slot must hold a card with the same
 *                    PAN (NOT_FOUND when empty, BAD_PARAM for another PAN).
 *                    Everything but the PAN may change (expiry, name, issuer,
 *                    status, display data).
 *   DELETE_CARD      Secure Read -> Secure Write (header + the slot emptied);
 *                    when it was the main card the other card (if any) becomes main.
 *                    Refused: slot empty (NOT_FOUND).  With an expected card
 *                    (card.pan, optionally card.issuer_id) the read also takes
 *                    the PANs and a slot holding any other card is refused
 *                    (NOT_FOUND) before the Secure Write is ever built: the
 *                    caller deletes the card it names, or nothing.
 *   SET_MAIN         Secure Read -> Secure Write (header + the slot's history).
 *   READ_CARDS       Secure Read of the header and status blocks only: the
 *                    PAN never leaves the chip for a listing.
 *   READ_CARDS_FULL  two Secure Reads of the whole layout (store / restore).
 * A WRITE_CARD into an empty area makes the card main; make_main makes the
 * written/updated card main in any case. */
#ifndef FELICA_ISSUANCE_H
#define FELICA_ISSUANCE_H

#include <stddef.h>
#include <stdint.h>
#include "felica_error.h"
#include "felica_sc.h"
#include "felica_card.h"

enum felica_iss_op {
    FELICA_ISS_ISSUE_AREA = 1,
    FELICA_ISS_DELETE_AREA = 2,
    FELICA_ISS_WRITE_CARD = 3,
    FELICA_ISS_UPDATE_CARD = 4,
    FELICA_ISS_DELETE_CARD = 5,
    FELICA_ISS_SET_MAIN = 6,
    FELICA_ISS_READ_CARDS = 7,
    FELICA_ISS_READ_CARDS_FULL = 8
};

enum felica_iss_state {
    FELICA_ISS_RUNNING = 0,
    FELICA_ISS_DONE = 1,
    FELICA_ISS_FAILED = 2
};

#define FELICA_ISS_ANY_SLOT 0xFF        /* WRITE_CARD: the first free slot */
#define FELICA_ISS_SEAL_KEY_LEN 32
#define FELICA_ISS_SAVED_MAX 1024       /* a saved session never exceeds this */

/* The issuer's master key sets; the session keeps only per-chip keys. */
typedef struct felica_iss_keys {
    felica_keyset_t system_master;      /* area 0xFFFF: used by ISSUE/DELETE_AREA */
    felica_keyset_t area_master;        /* the iD area's; its kvn is the area's KVN */
} felica_iss_keys_t;

typedef struct felica_iss_request {
    int op;                             /* enum felica_iss_op */
    uint8_t slot;                       /* card operations: 0, 1 (WRITE_CARD: or ANY) */
    uint8_t make_main;                  /* WRITE/UPDATE_CARD: make this card main */
    felica_card_t card;                 /* WRITE/UPDATE_CARD (input fields only);
                                         * DELETE_CARD: the expected card, pan
                                         * (empty: none) and issuer_id (0: any) */
} felica_iss_request_t;

typedef struct felica_issuance felica_issuance_t;

/* Start an operation for the chip idm.  Refuses an invalid request
 * (FELICA_ERR_BAD_PARAM).  The request and keys are copied; wipe yours. */
int felica_issuance_new(felica_issuance_t **out, const uint8_t idm[FELICA_IDM_LEN],
                        const felica_iss_keys_t *keys, const felica_iss_request_t *req);
/* Wipe and free (NULL is fine). */
void felica_issuance_free(felica_issuance_t *s);

/* The next command packet for the chip.  While its response is outstanding,
 * calling again returns the same packet (a relay retry), never a new one.
 * FELICA_ERR_STATE when the session is DONE or FAILED. */
int felica_issuance_next(felica_issuance_t *s, uint8_t *out, size_t cap, size_t *len);
/* The chip's response to the last packet.  FELICA_OK: accepted (the session
 * is RUNNING or DONE); any error fails the session and is returned. */
int felica_issuance_consume(felica_issuance_t *s, const uint8_t *res, size_t len);

int felica_issuance_state(const felica_issuance_t *s);    /* enum felica_iss_state */
int felica_issuance_error(const felica_issuance_t *s);    /* why it FAILED, else FELICA_OK */
int felica_issuance_op(const felica_issuance_t *s);
/* The chip this session talks to (check it after a load). */
void felica_issuance_idm(const felica_issuance_t *s, uint8_t idm[FELICA_IDM_LEN]);
/* Number of chip responses accepted so far. */
unsigned felica_issuance_steps(const felica_issuance_t *s);

/* Results, once DONE (FELICA_ERR_STATE before; FELICA_ERR_BAD_PARAM when the
 * operation has no such result). */
/* WRITE/UPDATE/DELETE_CARD, SET_MAIN: the slot written. */
int felica_issuance_result_slot(const felica_issuance_t *s, uint8_t *slot);
/* READ_CARDS, READ_CARDS_FULL: both slots, masked, with the main marker. */
int felica_issuance_result_masked(const felica_issuance_t *s,
                                  felica_card_masked_t out[FELICA_CARD_SLOTS]);
/* READ_CARDS_FULL: both records (wipe them after use). */
int felica_issuance_result_full(const felica_issuance_t *s, felica_card_t out[FELICA_CARD_SLOTS]);

/* ---- serialisation (felica_issuance_codec.c) ----
 * Blob: "FISS" | VERSION(1) | 0(3) | LEN(4, BE) | NONCE(12) | CIPHERTEXT(LEN) | TAG(16),
 * AES-256-GCM, the first 12 bytes as AAD.  Load refuses a wrong version
 * (FELICA_ERR_VERSION) and anything truncated, tampered or sealed under
 * another key (FELICA_ERR_CORRUPT). */
int felica_issuance_save(const felica_issuance_t *s, const uint8_t key[FELICA_ISS_SEAL_KEY_LEN],
                         uint8_t *out, size_t cap, size_t *len);
int felica_issuance_load(felica_issuance_t **out, const uint8_t key[FELICA_ISS_SEAL_KEY_LEN],
                         const uint8_t *blob, size_t len);

#endif
