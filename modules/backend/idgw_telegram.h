/* idgw_telegram.h: the feature-phone interface telegrams (docs/feature-phone-interface.md):
 * what the gateway sends to CREMO, the card information download center, the
 * brand download center and the FeliCa server, exactly as a feature phone
 * did, and what they answer.  Shared by the gateway (mod_idgw_convert) and
 * the backend simulators (t/sim).
 *
 * A telegram is a type, a header (correlation id, terminal type "FP",
 * timestamp, and for responses a result code) and an ordered list of body
 * fields (name, UTF-8 value; a name may repeat where the schema allows).
 * idgw_tg_validate checks a telegram against the schema of its type;
 * idgw_tg_build serialises it (Shift_JIS for the card and brand centres,
 * UTF-8 for the FeliCa server); idgw_tg_parse reads one safely (no network,
 * no DTD, no entity expansion, size bounded) and validates it. */
#ifndef IDGW_TELEGRAM_H
#define IDGW_TELEGRAM_H

#include <apr_pools.h>
#include <apr_tables.h>

#define IDGW_TG_VERSION "1.0"
#define IDGW_TG_TERMINAL "FP"
#define IDGW_TG_MAX_SIZE (256 * 1024)     /* bytes of one serialised telegram */
#define IDGW_TG_MAX_FIELDS 64
#define IDGW_TG_ROOT "fpTelegram"

typedef enum idgw_tg_type {
    IDGW_TG_CARD_AUTH_REQ = 0,
    IDGW_TG_CARD_AUTH_RES,
    IDGW_TG_CARD_DOWNLOAD_REQ,
    IDGW_TG_CARD_DOWNLOAD_RES,
    IDGW_TG_CARD_WRITTEN_REQ,
    IDGW_TG_CARD_WRITTEN_RES,
    IDGW_TG_CARD_DELETED_REQ,
    IDGW_TG_CARD_DELETED_RES,
    IDGW_TG_CARD_UPDATE_REQ,
    IDGW_TG_CARD_UPDATE_RES,
    IDGW_TG_CARD_STORE_REQ,
    IDGW_TG_CARD_STORE_RES,
    IDGW_TG_CARD_RESTORE_REQ,
    IDGW_TG_CARD_RESTORE_RES,
    IDGW_TG_BRAND_DOWNLOAD_REQ,
    IDGW_TG_BRAND_DOWNLOAD_RES,
    IDGW_TG_FELICA_START_REQ,
    IDGW_TG_FELICA_START_RES,
    IDGW_TG_FELICA_EXCHANGE_REQ,
    IDGW_TG_FELICA_EXCHANGE_RES,
    IDGW_TG_ERROR_RES,               /* answer to a telegram that could not be read */
    IDGW_TG_TYPE_COUNT
} idgw_tg_type_t;

/* Which backend serves a telegram type. */
typedef enum idgw_tg_service {
    IDGW_TG_SVC_CARD = 0,     /* CREMO and the card information download center */
    IDGW_TG_SVC_BRAND,        /* brand download center */
    IDGW_TG_SVC_FELICA,       /* FeliCa server */
    IDGW_TG_SVC_ANY           /* ERROR_RES */
} idgw_tg_service_t;

/* Result codes (header <result>), see the doc for their meanings. */
#define IDGW_TG_R_OK                "0000"
#define IDGW_TG_R_MALFORMED         "1001"
#define IDGW_TG_R_UNKNOWN_TYPE      "1002"
#define IDGW_TG_R_VERSION           "1003"
#define IDGW_TG_R_CORRELATION       "1004"
#define IDGW_TG_R_AUTH_FAILED       "2001"
#define IDGW_TG_R_SUSPENDED         "2002"
#define IDGW_TG_R_EXPIRED           "2003"
#define IDGW_TG_R_TICKET            "2004"
#define IDGW_TG_R_NO_CARD           "2005"
#define IDGW_TG_R_NOT_STORED        "2006"
#define IDGW_TG_R_ALREADY_STORED    "2007"
#define IDGW_TG_R_UNKNOWN_ISSUER    "3001"
#define IDGW_TG_R_NO_OPERATION      "4001"
#define IDGW_TG_R_CHIP_VERIFY       "4002"
#define IDGW_TG_R_CHIP_STATUS       "4003"
#define IDGW_TG_R_CHIP_STATE        "4004"
#define IDGW_TG_R_SYSTEM            "9001"

typedef struct idgw_tg_field {
    const char *name;
    const char *value;       /* UTF-8 */
} idgw_tg_field_t;

typedef struct idgw_telegram {
    idgw_tg_type_t type;
    const char *version;           /* IDGW_TG_VERSION */
    const char *correlation_id;
    const char *terminal_type;     /* "FP" */
    const char *timestamp;         /* YYYY-MM-DDThh:mm:ssZ; NULL: now, at build */
    const char *result;            /* responses only: 4 digits */
    const char *result_message;    /* responses only, optional, UTF-8 text */
    apr_array_header_t *fields;    /* of idgw_tg_field_t */
    const char *encoding;          /* set by parse: the declared encoding */
} idgw_telegram_t;

typedef struct idgw_tg_error {
    const char *result;            /* the result code that fits (1001, 1002, ...) */
    char msg[200];                 /* detail; never a field's value */
} idgw_tg_error_t;

/* libxml2's one-time initialisation: call in the main thread first. */
void idgw_tg_init(void);

const char *idgw_tg_type_name(idgw_tg_type_t type);
int idgw_tg_type_from_name(const char *name, idgw_tg_type_t *out);
int idgw_tg_is_response(idgw_tg_type_t type);
/* The response type of a request type (ERROR_RES for a response). */
idgw_tg_type_t idgw_tg_response_of(idgw_tg_type_t type);
idgw_tg_service_t idgw_tg_service(idgw_tg_type_t type);
/* May be sent again after a lost response without changing the outcome. */
int idgw_tg_idempotent(idgw_tg_type_t type);
/* "Shift_JIS" for the card and brand centres, "UTF-8" for the FeliCa server. */
const char *idgw_tg_encoding(idgw_tg_type_t type);
/* Content-Type for a body in that encoding. */
const char *idgw_tg_content_type(apr_pool_t *p, const char *encoding);
/* Human-readable meaning of a result code, NULL for an unknown code. */
const char *idgw_tg_result_text(const char *code);

idgw_telegram_t *idgw_tg_new(apr_pool_t *p, idgw_tg_type_t type, const char *correlation_id);
/* A response to req (same correlation id) with the given result. */
idgw_telegram_t *idgw_tg_new_response(apr_pool_t *p, const idgw_telegram_t *req,
                                      const char *result);
void idgw_tg_add(idgw_telegram_t *tg, const char *name, const char *value);
/* First value of name, NULL if absent. */
const char *idgw_tg_get(const idgw_telegram_t *tg, const char *name);
int idgw_tg_count(const idgw_telegram_t *tg, const char *name);
/* n-th (from 0) value of name. */
const char *idgw_tg_get_nth(const idgw_telegram_t *tg, const char *name, int n);

/* Check header and body against the schema: 0 or -1 with err filled. */
int idgw_tg_validate(const idgw_telegram_t *tg, idgw_tg_error_t *err);
/* Validate, then serialise in encoding (NULL: the type's encoding). */
int idgw_tg_build(apr_pool_t *p, const idgw_telegram_t *tg, const char *encoding, char **out,
                  apr_size_t *out_len, idgw_tg_error_t *err);
/* Parse and validate.  On failure *out may still hold what was read of the
 * header (correlation id) so that an error answer can echo it. */
int idgw_tg_parse(apr_pool_t *p, const char *buf, apr_size_t len, idgw_telegram_t **out,
                  idgw_tg_error_t *err);

/* The schema, for the mapping compiler (idgw_convert_map.c): which fields a
 * telegram type has, which are required and what values they take. */
typedef enum idgw_tg_kind {
    IDGW_TG_K_DIGITS,      /* [0-9] */
    IDGW_TG_K_ALNUM,       /* [A-Za-z0-9_-] */
    IDGW_TG_K_HEX,         /* [0-9A-F], even length */
    IDGW_TG_K_ASCII,       /* printable ASCII, for passwords */
    IDGW_TG_K_TEXT,        /* UTF-8 text without control characters; length in characters */
    IDGW_TG_K_BASE64,      /* RFC 4648 alphabet with padding */
    IDGW_TG_K_ENUM,        /* one of the '|'-separated words in values */
    IDGW_TG_K_PAN,         /* 12..19 digits passing Luhn */
    IDGW_TG_K_YYMM         /* expiry: 4 digits, month 01..12 */
} idgw_tg_kind_t;

typedef struct idgw_tg_field_spec {
    const char *name;
    idgw_tg_kind_t kind;
    int min_len, max_len;          /* bytes; characters for IDGW_TG_K_TEXT */
    int min_occurs, max_occurs;    /* min_occurs >= 1: required in a request and in a
                                    * successful response */
    const char *values;            /* IDGW_TG_K_ENUM */
} idgw_tg_field_spec_t;

/* The spec of field name in telegrams of type, NULL if the type has none. */
const idgw_tg_field_spec_t *idgw_tg_field_spec(idgw_tg_type_t type, const char *name);
/* The n-th (from 0) field spec of type, NULL past the last (or a bad type). */
const idgw_tg_field_spec_t *idgw_tg_field_spec_at(idgw_tg_type_t type, int n);
/* Does value fit the field's kind and length? */
int idgw_tg_field_value_ok(const idgw_tg_field_spec_t *spec, const char *value);
/* Name of a kind ("digits", "enum", ...), for messages. */
const char *idgw_tg_kind_name(idgw_tg_kind_t kind);

/* Helpers for field kinds the schema uses, exported for the simulators. */
int idgw_tg_luhn_ok(const char *digits);
int idgw_tg_correlation_ok(const char *id);

#endif
