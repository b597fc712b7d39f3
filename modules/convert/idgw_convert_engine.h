/*
 * idgw_convert_engine.h - run the telegram mapping for one step of an
 * operation, and relay chip packets between the app and the FeliCa server.
 *
 * No httpd here: the telegrams go out through a sender the caller provides
 * (mod_idgw_convert: the backend client; the unit tests: a fake), so the
 * whole conversion is tested without a server.
 *
 * Context names the engine itself uses (besides the map's captures):
 *   req.*            the request's non-secret fields, kept for later stages
 *   fc.op            the FeliCa server's operationId
 *   fc.state         "CONTINUE" while relaying, "DONE" when the chip work is over
 *   fc.cmd           the chip command handed to the app (hex), awaiting its answer
 *   fc.wrote         "1" once a command that changes the chip was handed out
 *   chipWrite        set by the abort stage: OK / NG / UNCONFIRMED (see below)
 *   proven:user      the user a card source authenticated (the map's identity
 *                    lines); never what the app claims
 */
#ifndef IDGW_CONVERT_ENGINE_H
#define IDGW_CONVERT_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

#include "idgw_convert_ctx.h"
#include "idgw_convert_map.h"
#include "idgw_sp_request.h"
#include "idgw_telegram.h"
#include "idgw_xml_error.h"
#include "felica_card.h"

/* A for= call runs once per list entry, at most this many times (the lists
 * name the chip's cards: one entry per card slot); the bound makes the
 * worst case of a step finite (idgw_convert_step_worst). */
#define IDGW_CONV_LIST_MAX FELICA_CARD_SLOTS

/* What went wrong, for the answer (error) and the log (detail, no secrets). */
typedef struct idgw_conv_fail {
    const idgw_error_def *error;
    const char *detail;
    int hostile;                  /* a forged or misdirected chip packet: strike */
} idgw_conv_fail;

/* Send req to backend be; on success *res is the parsed, validated response
 * of the matching type with the same correlation id (its result code may
 * still be a failure).  On a transport or telegram failure fill f and return
 * non-zero. */
typedef int (*idgw_conv_send_fn)(void *baton, apr_pool_t *p, idgw_map_backend be,
                                 const idgw_telegram_t *req, idgw_telegram_t **res,
                                 idgw_conv_fail *f);

/* Access control for a user a backend has just authenticated (or whom the
 * operation's context remembers): 0 to go on, else fill f (the refusal the
 * app gets) and return non-zero.  kind is "user". */
typedef int (*idgw_conv_identity_fn)(void *baton, const char *kind, const char *value,
                                     idgw_conv_fail *f);

/* The context name of the proven user. */
#define IDGW_CONV_CTX_USER "proven:user"

typedef struct idgw_conv_env {
    apr_pool_t *p;
    const idgw_map *map;
    idgw_op op;
    const char *correlation_id;
    const char *idm;              /* the session's chip, 16 upper-case hex */
    idgw_ctx *ctx;
    idgw_conv_send_fn send;
    void *baton;
    size_t max_packet;            /* 0: FELICA_MAX_FRAME */
    idgw_conv_identity_fn identity_check;   /* NULL: no access control */
    void *identity_baton;
} idgw_conv_env;

/* Request stage: keep the request's non-secret fields in ctx (req.*), run
 * the stage's calls in order.  A call whose telegram type has an identity
 * line proves a user when it succeeds: the user goes into ctx
 * (IDGW_CONV_CTX_USER) and through identity_check before the next call, so
 * a refused user stops the stage with f filled and nothing more is sent.  When the stage starts the chip relay, fc.*
 * is set and *packet (of *packet_len bytes) is the first chip command (already checked
 * against the operation's relay classes).  0 on success. */
int idgw_conv_request(idgw_conv_env *env, const idgw_sp_request *rq,
                      const uint8_t **packet, size_t *packet_len, idgw_conv_fail *f);

/* One relay round trip: a user the operation proved is checked again first
 * (a ban takes effect at the next step, before the chip's answer reaches the
 * FeliCa server and before its next command reaches the app); then the chip's answer from the app is checked against
 * the command relayed (right IDm, answer code, size), passed to the FeliCa
 * server, and its next command checked likewise.  *done is set when the
 * FeliCa server finished (the map's done captures are in ctx); otherwise
 * *packet is the next command.  0 on success. */
int idgw_conv_relay(idgw_conv_env *env, const uint8_t *answer, size_t answer_len,
                    int *done, const uint8_t **packet, size_t *packet_len, idgw_conv_fail *f);

/* Complete stage (requires fc.state DONE when the operation relays). */
int idgw_conv_complete(idgw_conv_env *env, idgw_conv_fail *f);

/* What the chip holds when an operation ends before its completion, from
 * the context: WRITTEN when the FeliCa server saw the chip's verified answer
 * to the end (fc.state DONE); UNCONFIRMED when a command that changes the chip
 * (Secure Write, Create/Delete Area, Write Without Encryption) was handed to
 * the app but the operation never reached DONE (the chip may or may not have
 * applied it: its answer was lost or never verified); NOT_WRITTEN otherwise. */
typedef enum idgw_chip_truth {
    IDGW_CHIP_NOT_WRITTEN,
    IDGW_CHIP_UNCONFIRMED,
    IDGW_CHIP_WRITTEN
} idgw_chip_truth;

idgw_chip_truth idgw_conv_chip_truth(const idgw_ctx *ctx);
const char *idgw_chip_truth_name(idgw_chip_truth t);   /* for logs */

/* The card an operation names, as its source names it (ctx cardId, else the
 * app's req.cardId) and the chip slot it went to (ctx slot, else
 * req.slot1): what an operator asks the source and reads on the chip to
 * settle it (docs/reconcile.md).  Each NULL when unknown, and the card also
 * when it is no plain card reference (not 1..IDGW_SP_CARD_ID_MAX letters and
 * digits) or when it equals the card number: a record for reconciliation
 * must never carry the PAN.  ctx may be NULL. */
void idgw_conv_card_ref(const idgw_ctx *ctx, const char **card, const char **slot);

/* The card source a "card" telegram of this context goes to: DLC when the
 * app named it (req.source), else CREMO. */
idgw_map_backend idgw_conv_card_backend(const idgw_ctx *ctx);

/* What lets the gateway settle the operation's record by itself when the
 * phone comes back (docs/reconcile.md): the card's source (NULL when the
 * operation authenticated at none), the member it authenticated, the card's
 * issuer code and the last four digits of its number (as every chip listing
 * shows them; NULL unless the context has the card's number).  ctx may be
 * NULL (all NULL). */
void idgw_conv_settle_ref(const idgw_ctx *ctx, const char **source, const char **member,
                          const char **issuer, const char **last4);

/* Whether the chip listing the operation read (the FeliCa server's card
 * list: ctx lists slots, issuers, last4s) shows in slot slot ("1", "2") the
 * card of issuer and last4: 1 it does, 0 it does not, -1 the context holds
 * no complete listing. */
int idgw_conv_chip_holds(apr_pool_t *p, const idgw_ctx *ctx, const char *slot,
                         const char *issuer, const char *last4);

typedef struct idgw_abort_report {
    idgw_chip_truth truth;
    int sent;                     /* notices sent and accepted */
    int skipped;                  /* not built (value missing, not allowed) or refused */
    const char *first_skip;       /* why the first one was skipped (no secrets) */
} idgw_abort_report;

/* Abort stage: tell the backends how far the operation got.  Sets
 * ctx "chipWrite" to the chip's truth (OK written, NG not written,
 * UNCONFIRMED) for the map's abort calls (writeResult=ctx.chipWrite).  Best
 * effort: a telegram that cannot be built (a value never captured, or a
 * value the interface does not allow) or is refused is skipped and counted
 * in rep; returns the number of telegrams sent and accepted. */
int idgw_conv_abort_report(idgw_conv_env *env, idgw_abort_report *rep);
/* The same without the report. */
int idgw_conv_abort(idgw_conv_env *env);

/* Build the telegram of one map call from ctx (and item for for= calls);
 * NULL with f filled when the telegram does not validate. */
idgw_telegram_t *idgw_conv_build(idgw_conv_env *env, const idgw_map_call *call,
                                 const char *item, idgw_conv_fail *f);

#endif
