/* sim_brand.c: the brand download center: per-issuer display data (name,
 * messages in Japanese, logo), versioned so that a terminal that already has
 * the current version gets "unchanged" and no payload. */
#include <string.h>
#include <apr_base64.h>
#include "sim.h"

/* The logo of the fault logo=BYTES: byte i is (131 * i + 7) mod 256, so a
 * test computes what the app must receive. */
static const char *sized_logo(apr_pool_t *p, int bytes)
{
    unsigned char *raw = apr_palloc(p, (apr_size_t)bytes);
    char *b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len(bytes));

    for (int i = 0; i < bytes; i++)
        raw[i] = (unsigned char)((131 * i + 7) & 0xff);
    apr_base64_encode(b64, (const char *)raw, bytes);
    return b64;
}

idgw_telegram_t *sim_brand_handle(sim_call_t *call)
{
    const sim_issuer_t *is = sim_issuer_by_code(call->sc->data,
                                                idgw_tg_get(call->req, "issuerCode"));
    const char *known = idgw_tg_get(call->req, "knownVersion");
    idgw_telegram_t *res;

    if (call->req->type != IDGW_TG_BRAND_DOWNLOAD_REQ) {
        res = idgw_tg_new_response(call->r->pool, call->req, IDGW_TG_R_UNKNOWN_TYPE);
        res->result_message = idgw_tg_result_text(IDGW_TG_R_UNKNOWN_TYPE);
        return res;
    }
    if (!is) {
        res = idgw_tg_new_response(call->r->pool, call->req, IDGW_TG_R_UNKNOWN_ISSUER);
        res->result_message = idgw_tg_result_text(IDGW_TG_R_UNKNOWN_ISSUER);
        return res;
    }
    res = idgw_tg_new_response(call->r->pool, call->req, IDGW_TG_R_OK);
    idgw_tg_add(res, "issuerCode", is->code);
    idgw_tg_add(res, "version", is->version);
    if (known && strcmp(known, is->version) == 0) {
        idgw_tg_add(res, "unchanged", "1");
        return res;
    }
    idgw_tg_add(res, "unchanged", "0");
    idgw_tg_add(res, "issuerName", is->name);
    for (int i = 0; i < is->messages->nelts; i++)
        idgw_tg_add(res, "message", ((const char **)is->messages->elts)[i]);
    idgw_tg_add(res, "logo", call->fault && call->fault->logo_bytes
                             ? sized_logo(call->r->pool, call->fault->logo_bytes) : is->logo_b64);
    idgw_tg_add(res, "logoType", is->logo_type);
    return res;
}
