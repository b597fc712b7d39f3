/*
 * idgw_convert_answer.h - the XML answers to the app (docs/smartphone-api.md
 * section 3).  Built from the operation context; a card appears as its slot,
 * last four digits, issuer and the issuer's display data, never more: the
 * PAN and expiry in the context are read here only to take the last four.
 */
#ifndef IDGW_CONVERT_ANSWER_H
#define IDGW_CONVERT_ANSWER_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

#include "idgw_convert_ctx.h"
#include "idgw_transitions.h"

#define IDGW_ANSWER_TYPE "application/xml; charset=UTF-8"

/* <relay op=".."><packet>HEX</packet></relay> */
const char *idgw_ans_relay(apr_pool_t *p, idgw_op op, const uint8_t *packet, size_t len);
/* <relay op=".."><done/></relay> */
const char *idgw_ans_relay_done(apr_pool_t *p, idgw_op op);
/* open: <session><token/><seq/><expires/></session> */
const char *idgw_ans_session(apr_pool_t *p, const char *token, long long seq, long expires_s);
const char *idgw_ans_status(apr_pool_t *p, const char *state, long long seq);
const char *idgw_ans_closed(apr_pool_t *p, int cancelled);
/* The answer of op's complete step (or of display_data's request). */
const char *idgw_ans_complete(apr_pool_t *p, idgw_op op, const idgw_ctx *ctx);

#endif
