/*
 * idgw_transitions.c - the session transition table: the operations of the
 * smartphone API (docs/smartphone-api.md) and the steps of each.
 */
#include "idgw_transitions.h"

#include <stdio.h>
#include <string.h>

#define ST(ph, o) { IDGW_PHASE_##ph, IDGW_OP_##o }

/* A write operation: request -> relay (N >= 1) -> complete; the terminal may
 * close the session at any point of it (cancel), which ends the operation. */
#define WRITE_OP(o)                                                          \
    { ST(READY, NONE),     IDGW_OP_##o, IDGW_STEP_REQUEST,  ST(REQUESTED, o) }, \
    { ST(REQUESTED, o),    IDGW_OP_##o, IDGW_STEP_RELAY,    ST(RELAYING, o) },  \
    { ST(RELAYING, o),     IDGW_OP_##o, IDGW_STEP_RELAY,    ST(RELAYING, o) },  \
    { ST(RELAYING, o),     IDGW_OP_##o, IDGW_STEP_COMPLETE, ST(READY, NONE) },  \
    { ST(REQUESTED, o),    IDGW_OP_CLOSE, IDGW_STEP_REQUEST, ST(CLOSED, NONE) }, \
    { ST(RELAYING, o),     IDGW_OP_CLOSE, IDGW_STEP_REQUEST, ST(CLOSED, NONE) }

static const idgw_transition table[] = {
    { ST(NONE, NONE),  IDGW_OP_OPEN,  IDGW_STEP_REQUEST, ST(READY, NONE) },
    { ST(READY, NONE), IDGW_OP_CLOSE, IDGW_STEP_REQUEST, ST(CLOSED, NONE) },
    WRITE_OP(ISSUE_AREA),
    WRITE_OP(DELETE_AREA),
    WRITE_OP(ADD_CARD),
    WRITE_OP(UPDATE_CARD),
    WRITE_OP(DELETE_CARD),
    WRITE_OP(SET_MAIN),
    WRITE_OP(LIST_CARDS),
    WRITE_OP(STORE_CARD),
    WRITE_OP(RESTORE_CARD),
    /* issuer display data: a single request/answer, no chip access */
    { ST(READY, NONE), IDGW_OP_DISPLAY_DATA, IDGW_STEP_REQUEST, ST(READY, NONE) },
};

static const char *const op_names[IDGW_OP_COUNT] = {
    [IDGW_OP_NONE] = "none",
    [IDGW_OP_OPEN] = "open",
    [IDGW_OP_CLOSE] = "close",
    [IDGW_OP_STATUS] = "status",
    [IDGW_OP_ISSUE_AREA] = "issue_area",
    [IDGW_OP_DELETE_AREA] = "delete_area",
    [IDGW_OP_ADD_CARD] = "add_card",
    [IDGW_OP_UPDATE_CARD] = "update_card",
    [IDGW_OP_DELETE_CARD] = "delete_card",
    [IDGW_OP_SET_MAIN] = "set_main",
    [IDGW_OP_LIST_CARDS] = "list_cards",
    [IDGW_OP_STORE_CARD] = "store_card",
    [IDGW_OP_RESTORE_CARD] = "restore_card",
    [IDGW_OP_DISPLAY_DATA] = "display_data",
};

static const char *const step_names[IDGW_STEP_COUNT] = {
    [IDGW_STEP_NONE] = "none",
    [IDGW_STEP_REQUEST] = "request",
    [IDGW_STEP_RELAY] = "relay",
    [IDGW_STEP_COMPLETE] = "complete",
};

static const char *const phase_names[IDGW_PHASE_COUNT] = {
    [IDGW_PHASE_NONE] = "none",
    [IDGW_PHASE_READY] = "ready",
    [IDGW_PHASE_REQUESTED] = "requested",
    [IDGW_PHASE_RELAYING] = "relaying",
    [IDGW_PHASE_CLOSED] = "closed",
    [IDGW_PHASE_DEAD] = "dead",
};

const idgw_transition *idgw_transitions(size_t *count)
{
    *count = sizeof(table) / sizeof(table[0]);
    return table;
}

static int state_equal(const idgw_state *a, const idgw_state *b)
{
    return a->phase == b->phase && a->op == b->op;
}

int idgw_transition_next(const idgw_state *from, idgw_op op, idgw_step step,
                         idgw_state *to)
{
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (table[i].op == op && table[i].step == step
            && state_equal(&table[i].from, from)) {
            *to = table[i].to;
            return 1;
        }
    }
    return 0;
}

const char *idgw_op_name(idgw_op op)
{
    return ((unsigned)op < IDGW_OP_COUNT) ? op_names[op] : NULL;
}

const char *idgw_step_name(idgw_step step)
{
    return ((unsigned)step < IDGW_STEP_COUNT) ? step_names[step] : NULL;
}

idgw_op idgw_op_from_name(const char *name)
{
    int i;

    /* "none" is not a name a request may use */
    for (i = IDGW_OP_NONE + 1; name && i < IDGW_OP_COUNT; i++)
        if (strcmp(op_names[i], name) == 0)
            return (idgw_op)i;
    return IDGW_OP_NONE;
}

idgw_step idgw_step_from_name(const char *name)
{
    int i;

    for (i = IDGW_STEP_NONE + 1; name && i < IDGW_STEP_COUNT; i++)
        if (strcmp(step_names[i], name) == 0)
            return (idgw_step)i;
    return IDGW_STEP_NONE;
}

/* Longest URL segment looked at; any name is shorter. */
#define SEGMENT_MAX 32

int idgw_op_step_from_path(const char *path, idgw_op *op, idgw_step *step)
{
    const char *end, *b, *a;
    char seg_a[SEGMENT_MAX], seg_b[SEGMENT_MAX];
    idgw_op o;
    idgw_step st;

    if (!path)
        return 0;
    end = path + strlen(path);
    for (b = end; b > path && b[-1] != '/'; b--)
        ;
    if (b == path || b == end)
        return 0;
    for (a = b - 1; a > path && a[-1] != '/'; a--)
        ;
    if (b - 1 == a || (size_t)(b - 1 - a) >= sizeof(seg_a) || (size_t)(end - b) >= sizeof(seg_b))
        return 0;
    memcpy(seg_a, a, (size_t)(b - 1 - a));
    seg_a[b - 1 - a] = '\0';
    memcpy(seg_b, b, (size_t)(end - b));
    seg_b[end - b] = '\0';
    if (strcmp(seg_a, "session") == 0) {
        o = idgw_op_from_name(seg_b);
        if (o != IDGW_OP_OPEN && o != IDGW_OP_CLOSE && o != IDGW_OP_STATUS)
            return 0;
        st = o == IDGW_OP_STATUS ? IDGW_STEP_NONE : IDGW_STEP_REQUEST;
    } else {
        o = idgw_op_from_name(seg_a);
        st = idgw_step_from_name(seg_b);
        if (o == IDGW_OP_NONE || o == IDGW_OP_OPEN || o == IDGW_OP_CLOSE || o == IDGW_OP_STATUS
            || st == IDGW_STEP_NONE)
            return 0;
    }
    *op = o;
    *step = st;
    return 1;
}

int idgw_op_has_relay(idgw_op op)
{
    idgw_state from = { IDGW_PHASE_REQUESTED, op }, to;

    return idgw_transition_next(&from, op, IDGW_STEP_RELAY, &to);
}

/* Phases that belong to an operation carry its name: "<op>/<phase>". */
static int phase_has_op(idgw_phase ph)
{
    return ph == IDGW_PHASE_REQUESTED || ph == IDGW_PHASE_RELAYING;
}

size_t idgw_state_format(const idgw_state *st, char *buf, size_t len)
{
    int n;

    if ((unsigned)st->phase >= IDGW_PHASE_COUNT || (unsigned)st->op >= IDGW_OP_COUNT)
        return 0;
    if (phase_has_op(st->phase))
        n = snprintf(buf, len, "%s/%s", op_names[st->op], phase_names[st->phase]);
    else
        n = snprintf(buf, len, "%s", phase_names[st->phase]);
    return (n > 0 && (size_t)n < len) ? (size_t)n : 0;
}

int idgw_state_parse(const char *name, idgw_state *st)
{
    const char *slash = name ? strchr(name, '/') : NULL;
    char opname[IDGW_STATE_NAME_MAX];
    int i;

    if (!name)
        return 0;
    if (!slash) {
        for (i = 0; i < IDGW_PHASE_COUNT; i++) {
            if (!phase_has_op((idgw_phase)i) && strcmp(name, phase_names[i]) == 0) {
                st->phase = (idgw_phase)i;
                st->op = IDGW_OP_NONE;
                return 1;
            }
        }
        return 0;
    }
    if ((size_t)(slash - name) >= sizeof(opname))
        return 0;
    memcpy(opname, name, (size_t)(slash - name));
    opname[slash - name] = '\0';
    st->op = idgw_op_from_name(opname);
    if (st->op == IDGW_OP_NONE)
        return 0;
    for (i = 0; i < IDGW_PHASE_COUNT; i++) {
        if (phase_has_op((idgw_phase)i) && strcmp(slash + 1, phase_names[i]) == 0) {
            st->phase = (idgw_phase)i;
            return 1;
        }
    }
    return 0;
}
