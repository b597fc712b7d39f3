/*
 * idgw_convert_errors.c - the IDGW-CNV catalogue (docs/smartphone-api.md 2.2).
 */
#include "idgw_convert_errors.h"

#include <string.h>

#define DEF(name, c, st, msg) const idgw_error_def name = { c, st, msg }

DEF(IDGW_E_CNV_XML,          "IDGW-CNV-001", 400, "request body is not well-formed UTF-8 XML");
DEF(IDGW_E_CNV_DOCTYPE,      "IDGW-CNV-002", 400, "document type declarations are not accepted");
DEF(IDGW_E_CNV_LIMITS,       "IDGW-CNV-003", 413, "request body too large, too deep or too wide");
DEF(IDGW_E_CNV_FIELD,        "IDGW-CNV-004", 400, "a request field is missing, repeated, unknown or invalid");
DEF(IDGW_E_CNV_CTYPE,        "IDGW-CNV-005", 415, "content type must be application/xml in UTF-8");
DEF(IDGW_E_CNV_METHOD,       "IDGW-CNV-006", 405, "method not allowed");
DEF(IDGW_E_CNV_AUTH,         "IDGW-CNV-010", 403, "cardholder authentication refused");
DEF(IDGW_E_CNV_EXPIRED,      "IDGW-CNV-011", 403, "the card has expired");
DEF(IDGW_E_CNV_SUSPENDED,    "IDGW-CNV-012", 403, "the member is suspended");
DEF(IDGW_E_CNV_FULL,         "IDGW-CNV-013", 409, "no free card slot on the chip");
DEF(IDGW_E_CNV_NO_CARD,      "IDGW-CNV-014", 404, "no such card");
DEF(IDGW_E_CNV_AREA_EXISTS,  "IDGW-CNV-015", 409, "the iD area is already issued");
DEF(IDGW_E_CNV_NO_AREA,      "IDGW-CNV-016", 409, "the iD area is not issued");
DEF(IDGW_E_CNV_NOT_STORED,   "IDGW-CNV-017", 404, "no deposited card to restore");
DEF(IDGW_E_CNV_DUPLICATE,    "IDGW-CNV-018", 409, "the card is already there");
DEF(IDGW_E_CNV_BACKEND,      "IDGW-CNV-020", 502, "a backend refused the request");
DEF(IDGW_E_CNV_TIMEOUT,      "IDGW-CNV-021", 504, "a backend did not answer in time");
DEF(IDGW_E_CNV_TELEGRAM,     "IDGW-CNV-022", 502, "a backend answered with an invalid telegram");
DEF(IDGW_E_CNV_UNREACHABLE,  "IDGW-CNV-023", 503, "a backend is unreachable");
DEF(IDGW_E_CNV_PACKET,       "IDGW-CNV-030", 400, "chip packet malformed or too large");
DEF(IDGW_E_CNV_WRONG_IDM,    "IDGW-CNV-031", 403, "chip packet of another chip");
DEF(IDGW_E_CNV_UNEXPECTED,   "IDGW-CNV-032", 409, "chip packet does not answer the command relayed");
DEF(IDGW_E_CNV_CHIP_VERIFY,  "IDGW-CNV-033", 422, "chip answer failed verification");
DEF(IDGW_E_CNV_CHIP_REFUSED, "IDGW-CNV-034", 409, "the chip refused the operation");
DEF(IDGW_E_CNV_INTERNAL,     "IDGW-CNV-040", 500, "gateway internal error");

static const idgw_error_def *const catalogue[] = {
    &IDGW_E_CNV_XML, &IDGW_E_CNV_DOCTYPE, &IDGW_E_CNV_LIMITS, &IDGW_E_CNV_FIELD,
    &IDGW_E_CNV_CTYPE, &IDGW_E_CNV_METHOD,
    &IDGW_E_CNV_AUTH, &IDGW_E_CNV_EXPIRED, &IDGW_E_CNV_SUSPENDED, &IDGW_E_CNV_FULL,
    &IDGW_E_CNV_NO_CARD, &IDGW_E_CNV_AREA_EXISTS, &IDGW_E_CNV_NO_AREA, &IDGW_E_CNV_NOT_STORED,
    &IDGW_E_CNV_DUPLICATE,
    &IDGW_E_CNV_BACKEND, &IDGW_E_CNV_TIMEOUT, &IDGW_E_CNV_TELEGRAM, &IDGW_E_CNV_UNREACHABLE,
    &IDGW_E_CNV_PACKET, &IDGW_E_CNV_WRONG_IDM, &IDGW_E_CNV_UNEXPECTED, &IDGW_E_CNV_CHIP_VERIFY,
    &IDGW_E_CNV_CHIP_REFUSED, &IDGW_E_CNV_INTERNAL,
};

const idgw_error_def *const *idgw_convert_error_catalogue(int *count)
{
    *count = (int)(sizeof(catalogue) / sizeof(catalogue[0]));
    return catalogue;
}

const idgw_error_def *idgw_convert_error_find(const char *code)
{
    size_t i;

    for (i = 0; code && i < sizeof(catalogue) / sizeof(catalogue[0]); i++)
        if (strcmp(catalogue[i]->code, code) == 0)
            return catalogue[i];
    return NULL;
}
