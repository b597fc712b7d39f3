/*
 * idgw_convert_send.h - send one telegram to a backend over the backend
 * client and read its answer (the engine's sender in httpd).
 */
#ifndef IDGW_CONVERT_SEND_H
#define IDGW_CONVERT_SEND_H

#include "idgw_backend.h"
#include "idgw_convert_engine.h"

typedef struct idgw_send_baton {
    idgw_backend_t *const *be;      /* indexed by idgw_map_backend */
    const idgw_ctx *ctx;            /* req.source picks the card backend */
    const char *log_id;             /* for the caller's log line: the last failure */
    const char *log_detail;
} idgw_send_baton;

/* idgw_conv_send_fn over idgw_backend_call. */
int idgw_convert_send(void *baton, apr_pool_t *p, idgw_map_backend be,
                      const idgw_telegram_t *req, idgw_telegram_t **res, idgw_conv_fail *f);

/* The app error for a backend client failure category. */
const idgw_error_def *idgw_convert_transport_error(idgw_backend_category_t cat);

#endif
