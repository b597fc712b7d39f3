/* felica_chip.h: a FeliCa chip emulator for idgw's secure-write protocol.
 *
 * One chip = one system (system code, IDm, PMm) holding areas of 16-byte
 * blocks (felica_image.h is the persistent model).  The chip answers the public
 * commands (Polling, Request Service, Request Response, Request System Code,
 * Read/Write Without Encryption) and idgw's secure commands (Auth1, Auth2,
 * Secure Read/Write, Create/Delete Area) through the chip side of felica_sc.
 *
 * Service codes (FeliCa attribute convention, low 6 bits of the 16-bit code):
 *   keyed area A:     A | 0x08 (random RW with key), A | 0x0A (random RO with key)
 *                     -> plain Read/Write answer SF2 0xA5 (access not allowed)
 *   plain RO area A:  A | 0x0B (random RO without key)
 *   plain RW area A:  A | 0x09 (random RW without key), A | 0x0B
 * Request Service: node 0x0000 = the system (its key version), an area code or
 * a service code = that node's key version (0x0000 for plain areas), 0xFFFF
 * for a node that does not exist.
 *
 * Modes: 0 after power-on and Polling; Auth1 answered -> 1; Auth2 accepted ->
 * 2 (area channel) or 3 (system channel).  Any secure-channel failure wipes
 * the session and drops to Mode 0 (details in docs/libfelica-chip.md).
 *
 * State changes (Write Without Encryption, Secure Write, Create/Delete Area,
 * the sequence counter in Auth1) are applied to a copy, persisted to the image
 * file atomically, and only then made current and answered. */
#ifndef FELICA_CHIP_H
#define FELICA_CHIP_H

#include <stddef.h>
#include <stdint.h>
#include "felica_error.h"
#include "felica_image.h"

enum felica_chip_mode {
    FELICA_MODE_0 = 0,   /* no session */
    FELICA_MODE_1 = 1,   /* Auth1 answered, waiting for Auth2 */
    FELICA_MODE_2 = 2,   /* authenticated to an area */
    FELICA_MODE_3 = 3    /* authenticated to the system */
};

typedef struct felica_chip felica_chip_t;

/* A chip with the given state.  path: the image file every change is
 * persisted to (it is not written now); NULL for a chip kept in memory only. */
int felica_chip_new(const felica_image_t *img, const char *path, felica_chip_t **out);
/* Load the image at path and persist changes back to it. */
int felica_chip_open(const char *path, felica_chip_t **out);
/* Wipe the session and the keys, free. */
void felica_chip_free(felica_chip_t *chip);

/* Process one command packet.  FELICA_OK with *resp_len = 0 when a real chip
 * stays silent (malformed frame, other IDm, other system in Polling);
 * otherwise the answer packet.  Errors only for bad arguments (NULL, cap <
 * FELICA_MAX_FRAME) or when the chip's own state cannot be worked with. */
int felica_chip_process(felica_chip_t *chip, const uint8_t *cmd, size_t cmd_len,
                        uint8_t *resp, size_t cap, size_t *resp_len);

/* Power cycle: session wiped, Mode 0 (the image stays). */
void felica_chip_reset(felica_chip_t *chip);
int felica_chip_mode(const felica_chip_t *chip);
/* The current persistent state (read-only view). */
const felica_image_t *felica_chip_image(const felica_chip_t *chip);

#endif
