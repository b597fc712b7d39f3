/*
 * idgw_transitions.h - the session state machine as data.
 *
 * One table maps (current state, operation, step) to the next state.  The
 * same table is rendered into the session Lua script at start-up (so Redis
 * enforces exactly what C describes) and is available to mod_idgw_convert
 * through this header for its own decisions (e.g. which step comes next).
 *
 * States are short ASCII names stored in Redis:
 *   "none"                   no session yet (only "open" leaves it)
 *   "ready"                  session open, no operation in progress
 *   "<op>/requested"         the operation's request was accepted
 *   "<op>/relaying"          one or more chip relay round trips done
 *   "closed"                 closed by the terminal (tombstone)
 *   "dead"                   invalidated after a sequence error (tombstone)
 * Write operations go request -> N relay round trips (N >= 1) -> complete.
 */
#ifndef IDGW_TRANSITIONS_H
#define IDGW_TRANSITIONS_H

#include <stddef.h>

typedef enum idgw_op {
    IDGW_OP_NONE = 0,
    IDGW_OP_OPEN,
    IDGW_OP_CLOSE,
    IDGW_OP_STATUS,          /* read-only: never a transition */
    IDGW_OP_ISSUE_AREA,
    IDGW_OP_DELETE_AREA,
    IDGW_OP_ADD_CARD,
    IDGW_OP_UPDATE_CARD,
    IDGW_OP_DELETE_CARD,
    IDGW_OP_SET_MAIN,
    IDGW_OP_LIST_CARDS,
    IDGW_OP_STORE_CARD,
    IDGW_OP_RESTORE_CARD,
    IDGW_OP_DISPLAY_DATA,
    IDGW_OP_COUNT
} idgw_op;

typedef enum idgw_step {
    IDGW_STEP_NONE = 0,
    IDGW_STEP_REQUEST,
    IDGW_STEP_RELAY,
    IDGW_STEP_COMPLETE,
    IDGW_STEP_COUNT
} idgw_step;

typedef enum idgw_phase {
    IDGW_PHASE_NONE = 0,     /* no session */
    IDGW_PHASE_READY,
    IDGW_PHASE_REQUESTED,
    IDGW_PHASE_RELAYING,
    IDGW_PHASE_CLOSED,
    IDGW_PHASE_DEAD,
    IDGW_PHASE_COUNT
} idgw_phase;

/* A state: the phase, and for REQUESTED/RELAYING the operation in progress. */
typedef struct idgw_state {
    idgw_phase phase;
    idgw_op op;
} idgw_state;

/* One row of the table: in state `from`, step `step` of operation `op` leads to `to`. */
typedef struct idgw_transition {
    idgw_state from;
    idgw_op op;
    idgw_step step;
    idgw_state to;
} idgw_transition;

/* Longest state name ("restore_card/requested") plus NUL, with room to spare. */
#define IDGW_STATE_NAME_MAX 40

/* The table itself and its length. */
const idgw_transition *idgw_transitions(size_t *count);

/* Next state for (from, op, step); returns 0 when the table has no such row. */
int idgw_transition_next(const idgw_state *from, idgw_op op, idgw_step step,
                         idgw_state *to);

/* Names used on the wire (URL segments) and in Redis. NULL for out-of-range. */
const char *idgw_op_name(idgw_op op);
const char *idgw_step_name(idgw_step step);

/* Parse a name; IDGW_OP_NONE / IDGW_STEP_NONE when unknown. */
idgw_op idgw_op_from_name(const char *name);
idgw_step idgw_step_from_name(const char *name);

/*
 * The operation and step a smartphone API path names by its last two
 * segments: ".../session/open", ".../session/close" (step request),
 * ".../session/status" (step none), ".../<op>/<step>" for any other
 * operation ("/idgw/v1/add_card/relay").  Returns 0, leaving *op and *step
 * alone, when they name none: NULL or empty path, a trailing slash, an empty
 * or over-long segment, an unknown name, session/<op> for an operation that
 * is not open/close/status, or open/close/status outside session/.  The path
 * is taken as given (no percent-decoding here).
 */
int idgw_op_step_from_path(const char *path, idgw_op *op, idgw_step *step);

/* Does this operation have relay steps (request -> relay* -> complete)? */
int idgw_op_has_relay(idgw_op op);

/* State <-> name.  Formatting returns the length written (0 when it does not fit). */
size_t idgw_state_format(const idgw_state *st, char *buf, size_t len);
int idgw_state_parse(const char *name, idgw_state *st);

#endif
