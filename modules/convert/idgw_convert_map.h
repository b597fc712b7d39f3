/*
 * idgw_convert_map.h - the mapping from smartphone operations to
 * feature-phone telegrams, as data (conf.d/idgw-map.conf).
 *
 * The file is read and compiled once, when httpd starts (IdgwConvertMap);
 * any error stops the start with "file:line: what is wrong".  A backend
 * interface revision (a renamed field, another telegram in a sequence, a new
 * result code) is an edit of this file, not of the module.
 *
 * Format: one statement per line, '#' starts a comment, tokens separated by
 * blanks; a quoted literal is 'text' (no blanks, no quote inside).
 *
 *   version 1                                   first statement, required
 *   call <op> <stage> <TYPE> <backend> [for=ctx.NAME] <assign>* [> <capture>*]
 *   relay <op> <class>[,<class>...]             chip command classes relayed for op
 *   done <op> <capture>*                        fields of the FeliCa server's DONE
 *   result <code> <IDGW-CNV-nnn> [<op>...]      backend result code -> app error
 *                                               (for those operations only, when named)
 *   default <IDGW-CNV-nnn>                      any other non-zero result
 *   identity <TYPE> user <FIELD>                a result 0000 to TYPE proves the user
 *                                               that the request telegram's FIELD names
 *
 *   op       an operation name (idgw_transitions.h), e.g. add_card
 *   stage    request   run in order when <op>/request arrives; a
 *                      FELICA_START_REQ, if any, is the last one and starts the
 *                      chip relay
 *            complete  run when <op>/complete arrives (after the DONE)
 *            abort     run when the operation fails or is cancelled after
 *                      its request stage began (telegrams that fail to build
 *                      for lack of a value are skipped)
 *   TYPE     a request telegram type (idgw_telegram.h), e.g. CARD_AUTH_REQ
 *   backend  card (the request's source: cremo or dlc) | cremo | dlc | brand | felica;
 *            must serve TYPE
 *   assign   FIELD=SOURCE[|SOURCE...]: the first source with a value; a field
 *            with no value is left out
 *   class    polling public_info read_plain write_plain auth secure_rw area_admin
 *            (felica_relay.h); every operation with a chip relay needs a relay line
 *   SOURCE   req.NAME   from the app's request or session: member password
 *                       issuer cardId slot1 (1|2, empty for 'any') idm pmm
 *                       main (1|0) source (cremo|dlc); all but the password
 *                       are kept for the later stages
 *            ctx.NAME   captured earlier in the same operation; in the abort
 *                       stage also ctx.chipWrite (IDGW_MAP_CTX_CHIP_WRITE), which
 *                       the engine sets to what the chip holds (OK, NG, UNCONFIRMED)
 *            item       the current element of a for= list
 *            'literal'
 *   capture  RESFIELD:NAME   first value of RESFIELD into ctx.NAME;
 *            RESFIELD*:NAME  all values, comma separated;
 *            with for=, NAME gets ".<item>" appended
 *
 *   identity the backend's proof of who the cardholder is: once a card source
 *            answered TYPE (a login, e.g. CARD_AUTH_REQ with memberId and
 *            password) with 0000, the value the gateway sent in FIELD is the
 *            authenticated user.  The engine hands it to access control
 *            (mod_idgw_acl's user blacklist and whitelist) before any further
 *            telegram of the operation goes out, remembers it in ctx for the
 *            operation, and checks it again before each chip relay round
 *            trip.  TYPE must be a card source's request telegram, FIELD a
 *            field it carries exactly once; one line per TYPE, and it applies
 *            to every call of TYPE in every operation.  Nothing the app
 *            asserts (a header, a body field not sent to a backend) is an
 *            identity.
 *
 * The operation context (ctx) lives sealed in the session vault between the
 * app's requests; it may hold card data, the password never goes into it.
 */
#ifndef IDGW_CONVERT_MAP_H
#define IDGW_CONVERT_MAP_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "idgw_telegram.h"
#include "idgw_transitions.h"
#include "idgw_xml_error.h"

typedef enum idgw_map_stage {
    IDGW_MAP_REQUEST = 0,
    IDGW_MAP_COMPLETE,
    IDGW_MAP_ABORT,
    IDGW_MAP_STAGE_COUNT
} idgw_map_stage;

typedef enum idgw_map_backend {
    IDGW_MAP_BE_CARD = 0,       /* cremo or dlc, by the request's source */
    IDGW_MAP_BE_CREMO,
    IDGW_MAP_BE_DLC,
    IDGW_MAP_BE_BRAND,
    IDGW_MAP_BE_FELICA,
    IDGW_MAP_BE_COUNT
} idgw_map_backend;

typedef enum idgw_map_src_kind {
    IDGW_MAP_SRC_LITERAL = 0,
    IDGW_MAP_SRC_REQ,
    IDGW_MAP_SRC_CTX,
    IDGW_MAP_SRC_ITEM
} idgw_map_src_kind;

#define IDGW_MAP_MAX_ALTS 4
/* Context name the engine sets before the abort stage's calls. */
#define IDGW_MAP_CTX_CHIP_WRITE "chipWrite"

typedef struct idgw_map_source {
    idgw_map_src_kind kind;
    const char *name;           /* req/ctx name, or the literal */
} idgw_map_source;

typedef struct idgw_map_assign {
    const char *field;
    int nalts;
    idgw_map_source alts[IDGW_MAP_MAX_ALTS];
} idgw_map_assign;

typedef struct idgw_map_capture {
    const char *res_field;
    const char *ctx_name;
    int all;                    /* RESFIELD*: every value */
} idgw_map_capture;

typedef struct idgw_map_call {
    idgw_tg_type_t type;
    idgw_map_backend backend;
    const char *for_each;       /* ctx name of a comma list, or NULL */
    apr_array_header_t *assigns;    /* of idgw_map_assign */
    apr_array_header_t *captures;   /* of idgw_map_capture */
    int line;
} idgw_map_call;

typedef struct idgw_map_result {
    const char *code;           /* 4 digits */
    const idgw_error_def *error;
    idgw_op op;                 /* IDGW_OP_NONE: any operation */
} idgw_map_result;

typedef struct idgw_map {
    const char *path;
    /* calls[op][stage]: array of idgw_map_call */
    apr_array_header_t *calls[IDGW_OP_COUNT][IDGW_MAP_STAGE_COUNT];
    apr_array_header_t *done[IDGW_OP_COUNT];    /* of idgw_map_capture */
    unsigned relay_classes[IDGW_OP_COUNT];      /* FELICA_RELAY_* bits */
    apr_array_header_t *results;                /* of idgw_map_result */
    const idgw_error_def *default_error;
    const char *identity[IDGW_TG_TYPE_COUNT];   /* proven user's field, or NULL */
} idgw_map;

/* Compile text (name: for messages).  NULL on success, else "name:line: why". */
const char *idgw_map_parse(apr_pool_t *p, const char *name, const char *text, size_t len,
                           idgw_map **out);
/* Read and compile a file. */
const char *idgw_map_load(apr_pool_t *p, const char *path, idgw_map **out);

/* The calls of (op, stage); an empty array when none. */
const apr_array_header_t *idgw_map_calls(const idgw_map *m, idgw_op op, idgw_map_stage stage);
/* Does op's request stage start a chip relay? */
int idgw_map_has_relay(const idgw_map *m, idgw_op op);
/* The chip command classes relayed for op (FELICA_RELAY_* bits). */
unsigned idgw_map_relay_classes(const idgw_map *m, idgw_op op);
/* The app error for a non-zero backend result code of operation op: the
 * operation's own mapping first, then the general one, then the default. */
const idgw_error_def *idgw_map_error_for(const idgw_map *m, idgw_op op, const char *result);

/* The request field naming the user a 0000 answer to type proves, or NULL
 * (identity lines). */
const char *idgw_map_identity(const idgw_map *m, idgw_tg_type_t type);

const char *idgw_map_backend_name(idgw_map_backend be);
const char *idgw_map_stage_name(idgw_map_stage st);

#endif
