/*
 * idgw_convert_settle.h - the gateway settles the phone's unsettled
 * operations by itself (docs/reconcile.md, "Automatic settlement").
 *
 * A chip-unconfirmed record of a card write (add_card, restore_card) says
 * the source was never told whether its card reached the chip.  When the
 * same phone later runs an operation that both authenticates the same member
 * at the same source (the map's CARD_AUTH_REQ: ctx.ticket) and reads the
 * chip's card list through the secure channel (READ_CARDS: ctx lists slots,
 * issuers, last4s; today store_card), the chip has answered the question:
 * the record's slot holds its card (issuer and last four digits) or not.
 * The gateway then sends the notice the abort stage of the record's
 * operation would have sent had it known (the map's abort calls of that
 * operation, writeResult OK or NG, under the record's correlation id) with
 * this operation's ticket, and settles the record (written / not-written,
 * by gateway), logged IDGW0461 and counted in
 * idgw_unsettled_settled_total{outcome,by}.
 *
 * It is best effort and never fails the operation: a record that cannot be
 * settled now stays unsettled (IDGW0462/0463) or, when the source may have
 * received the notice but its answer was lost, stays claimed for the
 * operator (IDGW0464): a notice is never sent twice for one record.
 */
#ifndef IDGW_CONVERT_SETTLE_H
#define IDGW_CONVERT_SETTLE_H

#include <httpd.h>
#include <http_config.h>
#include "mod_idgw.h"
#include "idgw_convert_engine.h"

/* At most this many records are settled in one operation (one per card
 * slot): the step's worst case grows by as many card telegrams. */
#define IDGW_CONV_SETTLE_MAX FELICA_CARD_SLOTS

typedef struct idgw_settle_fns {
    APR_OPTIONAL_FN_TYPE(idgw_unsettled_of_chip) *of_chip;
    APR_OPTIONAL_FN_TYPE(idgw_unsettled_claim) *claim;
    APR_OPTIONAL_FN_TYPE(idgw_unsettled_release) *release;
    APR_OPTIONAL_FN_TYPE(idgw_unsettled_settle) *settle;
} idgw_settle_fns;

/* Settle what the operation in env (its context loaded, the chip work
 * done) can settle; sid_log names the session in the log lines.  Returns
 * the number of records settled. */
int idgw_convert_settle(request_rec *r, const idgw_conv_env *env, const idgw_settle_fns *fn,
                        const char *sid_log);

#endif
