/*
 * test_transitions.c - the operation/step transition table and its names.
 */
#include <check.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "idgw_transitions.h"

static const idgw_op write_ops[] = {
    IDGW_OP_ISSUE_AREA, IDGW_OP_DELETE_AREA, IDGW_OP_ADD_CARD, IDGW_OP_UPDATE_CARD,
    IDGW_OP_DELETE_CARD, IDGW_OP_SET_MAIN, IDGW_OP_LIST_CARDS, IDGW_OP_STORE_CARD,
    IDGW_OP_RESTORE_CARD,
};
#define NWRITE (sizeof(write_ops) / sizeof(write_ops[0]))

static idgw_state st(idgw_phase ph, idgw_op op)
{
    idgw_state s = { ph, op };
    return s;
}

static int next(idgw_state from, idgw_op op, idgw_step step, idgw_state *to)
{
    return idgw_transition_next(&from, op, step, to);
}

START_TEST(write_op_full_sequence)
{
    idgw_op op = write_ops[_i];
    idgw_state s = st(IDGW_PHASE_READY, IDGW_OP_NONE), n;
    int i;

    ck_assert(next(s, op, IDGW_STEP_REQUEST, &n));
    ck_assert_int_eq(n.phase, IDGW_PHASE_REQUESTED);
    ck_assert_int_eq(n.op, op);
    /* completion needs at least one relay */
    ck_assert(!next(n, op, IDGW_STEP_COMPLETE, &s));
    for (i = 0; i < 3; i++) {
        s = n;
        ck_assert(next(s, op, IDGW_STEP_RELAY, &n));
        ck_assert_int_eq(n.phase, IDGW_PHASE_RELAYING);
        ck_assert_int_eq(n.op, op);
    }
    ck_assert(!next(n, op, IDGW_STEP_REQUEST, &s));
    ck_assert(next(n, op, IDGW_STEP_COMPLETE, &s));
    ck_assert_int_eq(s.phase, IDGW_PHASE_READY);
    ck_assert_int_eq(s.op, IDGW_OP_NONE);
    ck_assert(idgw_op_has_relay(op));
}
END_TEST

START_TEST(steps_of_other_operation_refused)
{
    idgw_state req = st(IDGW_PHASE_REQUESTED, IDGW_OP_ADD_CARD), n;

    ck_assert(!next(req, IDGW_OP_DELETE_CARD, IDGW_STEP_RELAY, &n));
    ck_assert(!next(req, IDGW_OP_ISSUE_AREA, IDGW_STEP_REQUEST, &n));
    ck_assert(!next(st(IDGW_PHASE_READY, IDGW_OP_NONE), IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, &n));
    ck_assert(!next(st(IDGW_PHASE_READY, IDGW_OP_NONE), IDGW_OP_ADD_CARD,
                    IDGW_STEP_COMPLETE, &n));
}
END_TEST

START_TEST(open_close_and_display)
{
    idgw_state n;

    ck_assert(next(st(IDGW_PHASE_NONE, IDGW_OP_NONE), IDGW_OP_OPEN, IDGW_STEP_REQUEST, &n));
    ck_assert_int_eq(n.phase, IDGW_PHASE_READY);
    ck_assert(next(st(IDGW_PHASE_READY, IDGW_OP_NONE), IDGW_OP_CLOSE, IDGW_STEP_REQUEST, &n));
    ck_assert_int_eq(n.phase, IDGW_PHASE_CLOSED);
    ck_assert(next(st(IDGW_PHASE_RELAYING, IDGW_OP_STORE_CARD), IDGW_OP_CLOSE,
                   IDGW_STEP_REQUEST, &n));
    ck_assert_int_eq(n.phase, IDGW_PHASE_CLOSED);
    ck_assert(next(st(IDGW_PHASE_READY, IDGW_OP_NONE), IDGW_OP_DISPLAY_DATA,
                   IDGW_STEP_REQUEST, &n));
    ck_assert_int_eq(n.phase, IDGW_PHASE_READY);
    ck_assert(!idgw_op_has_relay(IDGW_OP_DISPLAY_DATA));
    /* status is never a transition */
    ck_assert(!next(st(IDGW_PHASE_READY, IDGW_OP_NONE), IDGW_OP_STATUS, IDGW_STEP_REQUEST, &n));
}
END_TEST

START_TEST(terminal_states_have_no_way_out)
{
    size_t n, i;
    const idgw_transition *t = idgw_transitions(&n);

    ck_assert_uint_gt(n, 40);
    for (i = 0; i < n; i++) {
        ck_assert_int_ne(t[i].from.phase, IDGW_PHASE_CLOSED);
        ck_assert_int_ne(t[i].from.phase, IDGW_PHASE_DEAD);
        ck_assert_int_ne(t[i].to.phase, IDGW_PHASE_DEAD);
    }
}
END_TEST

START_TEST(table_is_a_function)
{
    size_t n, i, j;
    const idgw_transition *t = idgw_transitions(&n);

    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            ck_assert(!(t[i].op == t[j].op && t[i].step == t[j].step
                        && t[i].from.phase == t[j].from.phase && t[i].from.op == t[j].from.op));
}
END_TEST

START_TEST(names_round_trip)
{
    int i;
    idgw_state s, back;
    char buf[IDGW_STATE_NAME_MAX];

    for (i = IDGW_OP_OPEN; i < IDGW_OP_COUNT; i++)
        ck_assert_int_eq(idgw_op_from_name(idgw_op_name((idgw_op)i)), i);
    for (i = IDGW_STEP_REQUEST; i < IDGW_STEP_COUNT; i++)
        ck_assert_int_eq(idgw_step_from_name(idgw_step_name((idgw_step)i)), i);
    ck_assert_int_eq(idgw_op_from_name("none"), IDGW_OP_NONE);
    ck_assert_int_eq(idgw_op_from_name("add_card "), IDGW_OP_NONE);
    ck_assert_int_eq(idgw_op_from_name(NULL), IDGW_OP_NONE);
    ck_assert_ptr_null(idgw_op_name(IDGW_OP_COUNT));
    s = st(IDGW_PHASE_RELAYING, IDGW_OP_RESTORE_CARD);
    ck_assert_uint_gt(idgw_state_format(&s, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "restore_card/relaying");
    ck_assert(idgw_state_parse(buf, &back));
    ck_assert_int_eq(back.phase, s.phase);
    ck_assert_int_eq(back.op, s.op);
    ck_assert(idgw_state_parse("ready", &back));
    ck_assert_int_eq(back.phase, IDGW_PHASE_READY);
    ck_assert(!idgw_state_parse("relaying", &back));
    ck_assert(!idgw_state_parse("ready/relaying", &back));
    ck_assert(!idgw_state_parse("add_card/ready", &back));
    ck_assert(!idgw_state_parse("add_card/", &back));
    ck_assert_uint_eq(idgw_state_format(&s, buf, 5), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transitions");
    TCase *tc = tcase_create("table");
    SRunner *sr;
    int failed;

    apr_initialize();
    tcase_add_loop_test(tc, write_op_full_sequence, 0, (int)NWRITE);
    tcase_add_test(tc, steps_of_other_operation_refused);
    tcase_add_test(tc, open_close_and_display);
    tcase_add_test(tc, terminal_states_have_no_way_out);
    tcase_add_test(tc, table_is_a_function);
    tcase_add_test(tc, names_round_trip);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
