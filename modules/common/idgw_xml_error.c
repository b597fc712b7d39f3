/*
 * idgw_xml_error.c - the error catalogue and the XML error document.
 */
#include "idgw_xml_error.h"

#include <apr_strings.h>
#include <string.h>

#define DEF(name, c, st, msg) const idgw_error_def name = { c, st, msg }

DEF(IDGW_E_REQ_TOKEN,   "IDGW-REQ-001", 400, "missing or malformed session token");
DEF(IDGW_E_REQ_SEQ,     "IDGW-REQ-002", 400, "missing or malformed sequence number");
DEF(IDGW_E_REQ_PATH,    "IDGW-REQ-003", 404, "unknown operation or step");
DEF(IDGW_E_REQ_BODY,    "IDGW-REQ-004", 413, "request body too large");
DEF(IDGW_E_REQ_BINDING, "IDGW-REQ-005", 400, "missing or malformed terminal id or IDm");
DEF(IDGW_E_REQ_METHOD,  "IDGW-REQ-006", 405, "method not allowed");
DEF(IDGW_E_REQ_BODY_TIMEOUT, "IDGW-REQ-007", 408, "request body not received in time");
DEF(IDGW_E_REQ_BODY_FRAMING, "IDGW-REQ-008", 400, "malformed request body framing");
DEF(IDGW_E_REQ_TLS,     "IDGW-REQ-009", 403, "the API answers over TLS only");
DEF(IDGW_E_SES_UNKNOWN, "IDGW-SES-001", 403, "unknown or expired session");
DEF(IDGW_E_SES_DEAD,    "IDGW-SES-002", 403, "session invalidated");
DEF(IDGW_E_SES_CLOSED,  "IDGW-SES-003", 403, "session closed");
DEF(IDGW_E_SES_EXPIRED, "IDGW-SES-004", 403, "session lifetime exceeded");
DEF(IDGW_E_SES_BINDING, "IDGW-SES-005", 403, "session bound to another terminal or chip");
DEF(IDGW_E_SES_ADDRESS, "IDGW-SES-006", 403, "session bound to another client address");
DEF(IDGW_E_SEQ_ORDER,   "IDGW-SEQ-001", 409, "sequence number out of order");
DEF(IDGW_E_SEQ_STATE,   "IDGW-SEQ-002", 409, "step not allowed in the session state");
DEF(IDGW_E_SEQ_REPLAY,  "IDGW-SEQ-003", 409, "sequence number reused with another message");
DEF(IDGW_E_SEQ_PENDING, "IDGW-SEQ-004", 503, "previous attempt still in progress, retry");
DEF(IDGW_E_SEQ_RELAYS,  "IDGW-SEQ-005", 409, "too many relay round trips");
DEF(IDGW_E_SEQ_RESTART, "IDGW-SEQ-006", 409, "step interrupted, operation aborted: start it over");
DEF(IDGW_E_SEQ_ROLLBACK,"IDGW-SEQ-007", 409, "session rolled back, start over");
DEF(IDGW_E_SRV_REDIS,   "IDGW-SRV-001", 503, "session store unavailable");
DEF(IDGW_E_SRV_INTERNAL,"IDGW-SRV-002", 500, "internal error");
DEF(IDGW_E_SRV_STORE,   "IDGW-SRV-003", 503, "step result not stored, operation aborted");
DEF(IDGW_E_SRV_LOCAL_LIMIT, "IDGW-SRV-004", 429, "too many requests from this session or address, retry later");
DEF(IDGW_E_SRV_SHED,    "IDGW-SRV-005", 503, "gateway busy: status requests shed, retry later");
DEF(IDGW_E_SRV_UNCONFIRMED, "IDGW-SRV-006", 503, "state not confirmed by the replicas, retry");
DEF(IDGW_E_VLT_UNSEAL,  "IDGW-VLT-001", 500, "sealed session data unusable");

static const idgw_error_def *const catalogue[] = {
    &IDGW_E_REQ_TOKEN, &IDGW_E_REQ_SEQ, &IDGW_E_REQ_PATH, &IDGW_E_REQ_BODY,
    &IDGW_E_REQ_BINDING, &IDGW_E_REQ_METHOD, &IDGW_E_REQ_BODY_TIMEOUT,
    &IDGW_E_REQ_BODY_FRAMING, &IDGW_E_REQ_TLS,
    &IDGW_E_SES_UNKNOWN, &IDGW_E_SES_DEAD, &IDGW_E_SES_CLOSED, &IDGW_E_SES_EXPIRED,
    &IDGW_E_SES_BINDING, &IDGW_E_SES_ADDRESS,
    &IDGW_E_SEQ_ORDER, &IDGW_E_SEQ_STATE, &IDGW_E_SEQ_REPLAY, &IDGW_E_SEQ_PENDING,
    &IDGW_E_SEQ_RELAYS, &IDGW_E_SEQ_RESTART, &IDGW_E_SEQ_ROLLBACK,
    &IDGW_E_SRV_REDIS, &IDGW_E_SRV_INTERNAL, &IDGW_E_SRV_STORE, &IDGW_E_SRV_LOCAL_LIMIT,
    &IDGW_E_SRV_SHED, &IDGW_E_SRV_UNCONFIRMED, &IDGW_E_VLT_UNSEAL,
};

const idgw_error_def *const *idgw_error_catalogue(int *count)
{
    *count = (int)(sizeof(catalogue) / sizeof(catalogue[0]));
    return catalogue;
}

const idgw_error_def *idgw_error_find(const char *code)
{
    size_t i;

    for (i = 0; code && i < sizeof(catalogue) / sizeof(catalogue[0]); i++)
        if (strcmp(catalogue[i]->code, code) == 0)
            return catalogue[i];
    return NULL;
}

const char *idgw_xml_escape(apr_pool_t *p, const char *text)
{
    size_t len = 0, i, o = 0;
    char *out;

    for (i = 0; text[i]; i++) {
        switch (text[i]) {
        case '&': len += 5; break;
        case '<': case '>': len += 4; break;
        case '"': case '\'': len += 6; break;
        default: len += 1;
        }
    }
    out = apr_palloc(p, len + 1);
    for (i = 0; text[i]; i++) {
        const char *rep = NULL;

        switch (text[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        }
        if (rep) {
            memcpy(out + o, rep, strlen(rep));
            o += strlen(rep);
        } else {
            out[o++] = text[i];
        }
    }
    out[o] = '\0';
    return out;
}

const char *idgw_xml_error_body(apr_pool_t *p, const char *code, const char *message)
{
    return apr_pstrcat(p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error><code>",
                       idgw_xml_escape(p, code), "</code>",
                       message ? "<message>" : "",
                       message ? idgw_xml_escape(p, message) : "",
                       message ? "</message>" : "", "</error>\n", NULL);
}
