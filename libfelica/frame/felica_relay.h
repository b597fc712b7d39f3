/* felica_relay.h: what the gateway checks before it relays a chip packet.
 *
 * The smartphone app carries packets between the FeliCa server and the chip;
 * the gateway sees every one of them and must not become a tool for an app that
 * forges, redirects or floods: a command must be well formed, addressed to the
 * session's chip, of a class the current step expects, and within a size
 * limit; an answer must be well formed, the answer to that command, from that
 * chip.  These checks are about the envelope only: the secure channel's MACs
 * are verified end to end by the FeliCa server and the chip (felica_sc.h). */
#ifndef FELICA_RELAY_H
#define FELICA_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include "felica_error.h"
#include "felica_frame.h"

/* Command classes, combined as a bitmask of what a step allows. */
#define FELICA_RELAY_POLLING      0x01u  /* Polling */
#define FELICA_RELAY_PUBLIC_INFO  0x02u  /* Request Service / Response / System Code */
#define FELICA_RELAY_READ_PLAIN   0x04u  /* Read Without Encryption */
#define FELICA_RELAY_WRITE_PLAIN  0x08u  /* Write Without Encryption */
#define FELICA_RELAY_AUTH         0x10u  /* Auth1, Auth2 */
#define FELICA_RELAY_SECURE_RW    0x20u  /* Secure Read, Secure Write */
#define FELICA_RELAY_AREA_ADMIN   0x40u  /* Create Area, Delete Area */
#define FELICA_RELAY_ALL          0x7Fu

/* The class of a command code (a response code has none): one FELICA_RELAY_*
 * bit, or 0 for a response or an unknown code. */
unsigned felica_relay_class(uint8_t command_code);

/* A packet on its way to the chip.  max_len: the gateway's size limit
 * (0 means FELICA_MAX_FRAME).  Returns:
 *   FELICA_OK                  relay it;
 *   FELICA_ERR_OVERSIZE        longer than max_len (checked before parsing);
 *   FELICA_ERR_TRUNCATED, _LEN_MISMATCH, _BAD_PARAM
 *                              malformed (felica_decode's verdict): refuse;
 *   FELICA_ERR_BAD_CODE        unknown code, or a response where a command
 *                              belongs: refuse;
 *   FELICA_ERR_STATE           a well-formed command of a class the current
 *                              step does not allow (e.g. Create Area while
 *                              adding a card): a protocol violation;
 *   FELICA_ERR_WRONG_IDM       addressed to another chip than the session's
 *                              (Polling carries no IDm and is not checked).
 * idm NULL: FELICA_ERR_BAD_PARAM. */
int felica_relay_check_command(const uint8_t *pkt, size_t len, const uint8_t idm[FELICA_IDM_LEN],
                               unsigned allowed_classes, size_t max_len);

/* A chip answer coming back to the FeliCa server, for the command whose code
 * the gateway relayed.  Returns:
 *   FELICA_OK                  pass it on;
 *   FELICA_ERR_BAD_PARAM       command_code is not a known command, or idm NULL
 *                              (the caller's mistake), or the answer is malformed;
 *   FELICA_ERR_OVERSIZE        longer than max_len (0 means FELICA_MAX_FRAME);
 *   FELICA_ERR_TRUNCATED, _LEN_MISMATCH
 *                              malformed (felica_decode's verdict);
 *   FELICA_ERR_BAD_CODE        unknown code, or not command_code + 1 (an answer
 *                              to another command: reordered or forged);
 *   FELICA_ERR_WRONG_IDM       answered by another chip than the session's. */
int felica_relay_check_response(const uint8_t *pkt, size_t len, const uint8_t idm[FELICA_IDM_LEN],
                                uint8_t command_code, size_t max_len);

#endif
