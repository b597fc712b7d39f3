/*
 * idgw_convert_errors.h - the handler's own error codes (IDGW-CNV-nnn),
 * documented in docs/smartphone-api.md section 2.2.  Same shape and rules as
 * the session module's catalogue (idgw_xml_error.h): a code never changes
 * meaning once published, the message is fixed text without request data.
 */
#ifndef IDGW_CONVERT_ERRORS_H
#define IDGW_CONVERT_ERRORS_H

#include "idgw_xml_error.h"

extern const idgw_error_def IDGW_E_CNV_XML;          /* 400 not well-formed / not UTF-8 */
extern const idgw_error_def IDGW_E_CNV_DOCTYPE;      /* 400 DOCTYPE or entity declaration */
extern const idgw_error_def IDGW_E_CNV_LIMITS;       /* 413 too large, deep or wide */
extern const idgw_error_def IDGW_E_CNV_FIELD;        /* 400 field missing/repeated/unknown/invalid */
extern const idgw_error_def IDGW_E_CNV_CTYPE;        /* 415 content type */
extern const idgw_error_def IDGW_E_CNV_METHOD;       /* 405 method */
extern const idgw_error_def IDGW_E_CNV_AUTH;         /* 403 cardholder authentication refused */
extern const idgw_error_def IDGW_E_CNV_EXPIRED;      /* 403 card expired */
extern const idgw_error_def IDGW_E_CNV_SUSPENDED;    /* 403 member suspended */
extern const idgw_error_def IDGW_E_CNV_FULL;         /* 409 no free card slot */
extern const idgw_error_def IDGW_E_CNV_NO_CARD;      /* 404 no such card */
extern const idgw_error_def IDGW_E_CNV_AREA_EXISTS;  /* 409 iD area already issued */
extern const idgw_error_def IDGW_E_CNV_NO_AREA;      /* 409 iD area not issued */
extern const idgw_error_def IDGW_E_CNV_NOT_STORED;   /* 404 no deposited card */
extern const idgw_error_def IDGW_E_CNV_DUPLICATE;    /* 409 already on the chip / already deposited */
extern const idgw_error_def IDGW_E_CNV_BACKEND;      /* 502 backend refused */
extern const idgw_error_def IDGW_E_CNV_TIMEOUT;      /* 504 backend timed out */
extern const idgw_error_def IDGW_E_CNV_TELEGRAM;     /* 502 backend answer not a valid telegram */
extern const idgw_error_def IDGW_E_CNV_UNREACHABLE;  /* 503 backend unreachable */
extern const idgw_error_def IDGW_E_CNV_PACKET;       /* 400 chip packet malformed / too large */
extern const idgw_error_def IDGW_E_CNV_WRONG_IDM;    /* 403 chip packet of another chip */
extern const idgw_error_def IDGW_E_CNV_UNEXPECTED;   /* 409 chip packet not the expected answer */
extern const idgw_error_def IDGW_E_CNV_CHIP_VERIFY;  /* 422 chip answer failed verification */
extern const idgw_error_def IDGW_E_CNV_CHIP_REFUSED; /* 409 chip refused the operation */
extern const idgw_error_def IDGW_E_CNV_INTERNAL;     /* 500 handler internal error */

/* Every CNV code, for the mapping file's checks and the documentation test. */
const idgw_error_def *const *idgw_convert_error_catalogue(int *count);
/* A CNV code by name; NULL when unknown. */
const idgw_error_def *idgw_convert_error_find(const char *code);

#endif
