/*
 * idgw_convert_send.c - telegrams over the backend client (idgw_convert_send.h).
 */
#include "idgw_convert_send.h"

#include <string.h>
#include <apr_strings.h>

#include "idgw_convert_ctx.h"
#include "idgw_vault.h"
#include "idgw_convert_errors.h"
#include "idgw_metrics.h"      /* backend calls, for mod_idgw_status */

const idgw_error_def *idgw_convert_transport_error(idgw_backend_category_t cat)
{
    switch (cat) {
    case IDGW_BE_ERR_TIMEOUT:
        return &IDGW_E_CNV_TIMEOUT;
    case IDGW_BE_ERR_CONNECT:
    case IDGW_BE_ERR_POOL:
    case IDGW_BE_ERR_TLS:
        return &IDGW_E_CNV_UNREACHABLE;
    case IDGW_BE_ERR_PROTOCOL:
    case IDGW_BE_ERR_OVERSIZE:
        return &IDGW_E_CNV_TELEGRAM;
    case IDGW_BE_ERR_HTTP_STATUS:
        return &IDGW_E_CNV_BACKEND;
    default:
        return &IDGW_E_CNV_INTERNAL;
    }
}

static int fail(idgw_conv_fail *f, const idgw_error_def *e, const char *detail)
{
    f->error = e;
    f->detail = detail;
    f->hostile = 0;
    return -1;
}

/* The backend that serves a "card" telegram: the source the app named. */
static idgw_map_backend resolve(const idgw_send_baton *b, idgw_map_backend be)
{
    return be == IDGW_MAP_BE_CARD ? idgw_conv_card_backend(b->ctx) : be;
}

/* The answer must be the response type of req (or an error telegram) and
 * carry req's correlation id: anything else is not an answer to us. */
static int answer_matches(const idgw_telegram_t *req, const idgw_telegram_t *res)
{
    if (res->type != idgw_tg_response_of(req->type) && res->type != IDGW_TG_ERROR_RES)
        return 0;
    return res->correlation_id && strcmp(res->correlation_id, req->correlation_id) == 0;
}

/* Telegram fields may be card data (PAN, expiry, name) or a password: the
 * request pool's copies are wiped when the request ends, like the context. */
static void wipe_fields_on_cleanup(apr_pool_t *p, const idgw_telegram_t *tg)
{
    for (int i = 0; tg && tg->fields && i < tg->fields->nelts; i++) {
        const idgw_tg_field_t *f = &APR_ARRAY_IDX(tg->fields, i, idgw_tg_field_t);

        if (f->value && *f->value)
            idgw_vault_wipe_on_cleanup(p, (void *)f->value, strlen(f->value));
    }
}

int idgw_convert_send(void *baton, apr_pool_t *p, idgw_map_backend be,
                      const idgw_telegram_t *req, idgw_telegram_t **res, idgw_conv_fail *f)
{
    idgw_send_baton *b = baton;
    idgw_map_backend target = resolve(b, be);
    idgw_backend_request_t breq;
    idgw_backend_response_t bres;
    idgw_backend_error_t berr;
    idgw_tg_error_t terr;
    idgw_backend_category_t cat;
    const char *enc = idgw_tg_encoding(req->type);
    char *body;
    apr_size_t len;
    int rc;

    if (!b->be[target])
        return fail(f, &IDGW_E_CNV_INTERNAL, "backend not configured");
    if (idgw_tg_build(p, req, enc, &body, &len, &terr) != 0)
        return fail(f, &IDGW_E_CNV_INTERNAL,
                    apr_psprintf(p, "%s not built: %s", idgw_tg_type_name(req->type), terr.msg));
    memset(&breq, 0, sizeof(breq));
    breq.content_type = idgw_tg_content_type(p, enc);
    breq.accept = "application/xml";
    breq.correlation_id = req->correlation_id;
    breq.body = body;
    breq.body_len = len;
    breq.idempotent = idgw_tg_idempotent(req->type);
    wipe_fields_on_cleanup(p, req);
    apr_time_t call_started = apr_time_now();                                 /* metrics */
    cat = idgw_backend_call(b->be[target], p, &breq, &bres, &berr);
    idgw_metrics_backend_call_lookup(idgw_map_backend_name(target),            /* metrics */
                                     idgw_backend_category_name(cat),
                                     apr_time_now() - call_started);
    /* the body held card data or a password: it is not needed any more */
    explicit_bzero(body, len);
    if (cat != IDGW_BE_OK && cat != IDGW_BE_ERR_HTTP_STATUS) {
        b->log_id = idgw_backend_category_logid(cat);
        return fail(f, idgw_convert_transport_error(cat),
                    apr_psprintf(p, "%s to %s: %s (%s)", idgw_tg_type_name(req->type),
                                 idgw_map_backend_name(target), idgw_backend_category_name(cat),
                                 berr.msg));
    }
    /* error telegrams come with 4xx/5xx: read them for their result code */
    *res = NULL;
    rc = idgw_tg_parse(p, bres.body, bres.body_len, res, &terr);
    wipe_fields_on_cleanup(p, *res);
    if (bres.body)
        explicit_bzero(bres.body, bres.body_len);
    if (rc != 0 || !answer_matches(req, *res))
        return fail(f, cat == IDGW_BE_OK ? &IDGW_E_CNV_TELEGRAM : &IDGW_E_CNV_BACKEND,
                    apr_psprintf(p, "%s from %s: answer is not its telegram (HTTP %d)",
                                 idgw_tg_type_name(req->type), idgw_map_backend_name(target),
                                 bres.status));
    if (cat == IDGW_BE_ERR_HTTP_STATUS && (*res)->result
        && strcmp((*res)->result, IDGW_TG_R_OK) == 0)
        return fail(f, &IDGW_E_CNV_BACKEND,
                    apr_psprintf(p, "%s from %s: HTTP %d with result 0000",
                                 idgw_tg_type_name(req->type), idgw_map_backend_name(target),
                                 bres.status));
    return 0;
}
