/* iss_fixture.h: shared helpers for the issuance tests: test master keys, a
 * chip emulator provisioned with the system keys for one IDm, sample cards,
 * and a relay loop that runs a session against a chip. */
#ifndef ISS_FIXTURE_H
#define ISS_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include "felica_issuance.h"
#include "felica_chip.h"

extern const uint8_t fx_idm[FELICA_IDM_LEN];
extern const uint8_t fx_seal_key[FELICA_ISS_SEAL_KEY_LEN];

/* The issuer's master keys (system KVN 0x30, iD area KVN FELICA_ID_AREA_KVN). */
void fx_keys(felica_iss_keys_t *keys);
/* A fresh chip image with the system keys diversified for fx_idm. */
void fx_image(felica_image_t *img);
/* Sample card number i (0..3): distinct PANs, names, issuers. */
void fx_card(felica_card_t *card, unsigned i);
/* A request for op (slot, card i, make_main). */
void fx_request(felica_iss_request_t *req, int op, uint8_t slot, unsigned card, uint8_t make_main);

/* Relay one packet to the chip; the response (possibly empty) into res. */
void fx_relay(felica_chip_t *chip, const uint8_t *pkt, size_t len, uint8_t *res, size_t *res_len);
/* Run a whole operation; returns FELICA_OK when DONE, else the session's error.
 * *out (if not NULL) gets the finished session, else it is freed. */
int fx_run(felica_chip_t *chip, const felica_iss_request_t *req, felica_issuance_t **out);
int fx_run_op(felica_chip_t *chip, int op, uint8_t slot, unsigned card, uint8_t make_main);

/* The iD area's blocks of a chip (NULL when no iD area). */
const felica_area_state_t *fx_area(const felica_chip_t *chip);

/* A temporary directory for image files, removed with its content by fx_tmpdir_remove. */
void fx_tmpdir(char *dir, size_t cap);
void fx_tmpdir_remove(const char *dir);

#endif
