/*
 * idgw_sp_request.h - one app request, parsed and every field checked
 * (docs/smartphone-api.md, section 3).
 *
 * The body is parsed with idgw_sp_xml (no DTD, no entities, limits), then the
 * root element must be the one the step expects (the operation's name for a
 * request step, "relay" or "complete"), carry version="1", and hold exactly
 * the fields that operation reads: a missing, repeated, unknown or invalid
 * field refuses the whole request, naming the field (for the log only).
 */
#ifndef IDGW_SP_REQUEST_H
#define IDGW_SP_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

#include "idgw_sp_xml.h"
#include "idgw_transitions.h"

#define IDGW_SP_PACKET_MAX 254          /* a FeliCa frame (LEN is one byte) */
#define IDGW_SP_SLOT_ANY 0xFF
#define IDGW_SP_TERMINAL_MAX 64
#define IDGW_SP_MEMBER_MAX 32
#define IDGW_SP_PASSWORD_MIN 4
#define IDGW_SP_PASSWORD_MAX 64
#define IDGW_SP_APP_VERSION_MAX 16
#define IDGW_SP_CARD_ID_MAX 20
#define IDGW_SP_ISSUER_MIN 2
#define IDGW_SP_ISSUER_MAX 8

typedef enum idgw_sp_source {
    IDGW_SP_SOURCE_NONE = 0,
    IDGW_SP_SOURCE_CREMO,       /* DOCOMO credit card system */
    IDGW_SP_SOURCE_DLC          /* card information download center */
} idgw_sp_source;

typedef enum idgw_sp_status {
    IDGW_SP_OK = 0,
    IDGW_SP_BAD_XML,            /* xml_status says why */
    IDGW_SP_BAD_ROOT,           /* wrong root element or version */
    IDGW_SP_BAD_FIELD,          /* field names the culprit */
    IDGW_SP_BAD_PACKET          /* a chip packet not hex or too large (IDGW-CNV-030) */
} idgw_sp_status;

typedef struct idgw_sp_request {
    idgw_op op;
    idgw_step step;
    /* open */
    const char *terminal;               /* [A-Za-z0-9._:-]{1,64} */
    const char *app_version;            /* [0-9A-Za-z.-]{1,16} */
    char idm[17];                       /* 16 hex, upper case */
    char pmm[17];
    /* card operations: the cardholder's credentials at the card's source */
    idgw_sp_source source;
    const char *member;                 /* [A-Za-z0-9-]{1,32} */
    const char *password;               /* printable ASCII, 4..64; wiped with the pool */
    char issuer[IDGW_SP_ISSUER_MAX + 1];   /* [A-Za-z0-9]{2,8}, "" when absent */
    const char *card_id;                /* [A-Za-z0-9]{1,20}, NULL when absent */
    int slot;                           /* 0, 1, IDGW_SP_SLOT_ANY; -1 when absent */
    int make_main;
    /* relay */
    uint8_t packet[IDGW_SP_PACKET_MAX];
    size_t packet_len;
} idgw_sp_request;

typedef struct idgw_sp_result {
    idgw_sp_status status;
    idgw_sp_xml_status xml_status;      /* for IDGW_SP_BAD_XML */
    const char *field;                  /* for IDGW_SP_BAD_FIELD: element name */
} idgw_sp_result;

/* Parse and check body for (op, step).  Strings in out are allocated from p;
 * the password is wiped when p is cleaned up. */
void idgw_sp_request_decode(apr_pool_t *p, idgw_op op, idgw_step step,
                            const char *body, size_t len, const idgw_sp_xml_limits *lim,
                            idgw_sp_request *out, idgw_sp_result *res);

/* ---- field checks, shared with the answers and the terminal simulator ---- */

/* Exactly 2*n hex digits -> n bytes. */
int idgw_sp_hex_decode(const char *s, uint8_t *out, size_t n);
/* Hex of up to cap bytes of any even length >= 2: *len receives the byte count. */
int idgw_sp_hex_decode_var(const char *s, uint8_t *out, size_t cap, size_t *len);
/* 16 hex digits, normalised to upper case into out. */
int idgw_sp_idm_valid(const char *s, char out[17]);
int idgw_sp_terminal_valid(const char *s);
int idgw_sp_app_version_valid(const char *s);
int idgw_sp_member_valid(const char *s);
int idgw_sp_password_valid(const char *s);
int idgw_sp_issuer_valid(const char *s);
int idgw_sp_card_id_valid(const char *s);
/* "0", "1", or (any_ok) "any" -> 0, 1, IDGW_SP_SLOT_ANY; -1 otherwise. */
int idgw_sp_slot_parse(const char *s, int any_ok);
/* "true" / "false" -> 1 / 0; -1 otherwise. */
int idgw_sp_bool_parse(const char *s);
idgw_sp_source idgw_sp_source_parse(const char *s);
const char *idgw_sp_source_name(idgw_sp_source s);

#endif
