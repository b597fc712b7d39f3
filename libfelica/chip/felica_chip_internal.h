/* felica_chip_internal.h (private to libfelica and its tests): the chip
 * emulator's object and the helpers its command handlers share. */
#ifndef FELICA_CHIP_INTERNAL_H
#define FELICA_CHIP_INTERNAL_H

#include "felica_chip.h"
#include "felica_image_fault.h"
#include "felica_sc.h"

struct felica_chip {
    felica_image_t img;          /* current persistent state */
    felica_image_t next;         /* scratch copy a change is applied to first */
    char *path;                  /* image file, NULL: memory only */
    int mode;                    /* enum felica_chip_mode */
    felica_sc_t sc;              /* chip side of the secure channel */
    int has_fault;               /* tests: persist with a fault plan */
    felica_image_fault_t fault;
};

/* Tests: every later persistence obeys this fault plan (NULL clears it). */
void felica_chip_set_fault(felica_chip_t *chip, const felica_image_fault_t *fault);

/* Persistence and the session (felica_chip_change.c). */
/* Start a change: chip->next = chip->img. */
void chip_begin_change(felica_chip_t *chip);
/* Persist chip->next, then make it current.  On failure nothing changes. */
int chip_commit_change(felica_chip_t *chip);
/* Wipe the session and go to Mode 0. */
void chip_drop_session(felica_chip_t *chip);

/* Response helpers (felica_chip_resp.c): LEN | CODE | IDm, then the body;
 * LEN set by resp_finish. */
typedef struct chip_resp {
    uint8_t *p;
    size_t cap, len;
} chip_resp_t;

int resp_start(chip_resp_t *r, const felica_chip_t *chip, uint8_t code);
int resp_put(chip_resp_t *r, const void *src, size_t n);
int resp_u8(chip_resp_t *r, uint8_t v);
int resp_finish(chip_resp_t *r, size_t *resp_len);

/* Handlers (felica_chip_public.c, felica_chip_secure.c), called by the
 * dispatcher (felica_chip.c): each writes the answer (or nothing) and sets
 * *resp_len. */
int chip_polling(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                 uint8_t *resp, size_t cap, size_t *resp_len);
int chip_request_service(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                         uint8_t *resp, size_t cap, size_t *resp_len);
int chip_request_response(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                          uint8_t *resp, size_t cap, size_t *resp_len);
int chip_request_system_code(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                             uint8_t *resp, size_t cap, size_t *resp_len);
int chip_read_write_plain(felica_chip_t *chip, const felica_frame_t *f, int is_write,
                          uint8_t *resp, size_t cap, size_t *resp_len);
int chip_secure(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                uint8_t *resp, size_t cap, size_t *resp_len);

#endif
