/*
 * idgw_identity.h - the identities of the smartphone API, as every module
 * checks them: the terminal id the app names and the chip's IDm.  Shared so
 * that the session binding and the access-control lists agree on one form
 * (an IDm is compared upper case everywhere).
 */
#ifndef IDGW_IDENTITY_H
#define IDGW_IDENTITY_H

#include <stddef.h>

#define IDGW_TERMINAL_ID_MAX 64
#define IDGW_IDM_HEX 16

/* Terminal id: 1..64 of [A-Za-z0-9._:-]. */
int idgw_terminal_id_valid(const char *s);

/* IDm: 16 hex digits; normalised to uppercase into out. */
int idgw_idm_normalise(const char *s, char out[IDGW_IDM_HEX + 1]);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void idgw_hex(const unsigned char *in, size_t len, char *out);

#endif
