/*
 * test_op_path.c - the operation and step a smartphone API path names
 * (idgw_op_step_from_path), as mod_idgw_session parses a request and
 * mod_idgw_status names the requests it counts.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idgw_transitions.h"

/* What a path names, or 0; *op and *step are left alone on refusal. */
static int parse(const char *path, idgw_op *op, idgw_step *step)
{
    *op = IDGW_OP_COUNT;
    *step = IDGW_STEP_COUNT;
    return idgw_op_step_from_path(path, op, step);
}

static void assert_names(const char *path, idgw_op want_op, idgw_step want_step)
{
    idgw_op op;
    idgw_step step;

    ck_assert_msg(parse(path, &op, &step), "%s refused", path);
    ck_assert_msg(op == want_op && step == want_step, "%s: op %d step %d", path, op, step);
}

static void assert_refused(const char *path)
{
    idgw_op op;
    idgw_step step;

    ck_assert_msg(!parse(path, &op, &step), "%s accepted", path ? path : "(null)");
    ck_assert_msg(op == IDGW_OP_COUNT && step == IDGW_STEP_COUNT, "%s: outputs written",
                  path ? path : "(null)");
}

START_TEST(session_paths)
{
    assert_names("/idgw/v1/session/open", IDGW_OP_OPEN, IDGW_STEP_REQUEST);
    assert_names("/idgw/v1/session/close", IDGW_OP_CLOSE, IDGW_STEP_REQUEST);
    assert_names("/idgw/v1/session/status", IDGW_OP_STATUS, IDGW_STEP_NONE);
    /* only the last two segments count: any prefix, or none */
    assert_names("/session/open", IDGW_OP_OPEN, IDGW_STEP_REQUEST);
    assert_names("session/open", IDGW_OP_OPEN, IDGW_STEP_REQUEST);
    assert_names("/a/b/c/d/session/status", IDGW_OP_STATUS, IDGW_STEP_NONE);
}
END_TEST

START_TEST(operation_paths)
{
    int o, s;

    for (o = IDGW_OP_ISSUE_AREA; o < IDGW_OP_COUNT; o++) {
        for (s = IDGW_STEP_REQUEST; s < IDGW_STEP_COUNT; s++) {
            char path[96];

            snprintf(path, sizeof(path), "/idgw/v1/%s/%s", idgw_op_name((idgw_op)o),
                     idgw_step_name((idgw_step)s));
            assert_names(path, (idgw_op)o, (idgw_step)s);
        }
    }
    /* the step is a name, whether or not the operation has it */
    assert_names("/idgw/v1/display_data/relay", IDGW_OP_DISPLAY_DATA, IDGW_STEP_RELAY);
    assert_names("add_card/complete", IDGW_OP_ADD_CARD, IDGW_STEP_COMPLETE);
}
END_TEST

START_TEST(empty_and_slashes)
{
    assert_refused(NULL);
    assert_refused("");
    assert_refused("/");
    assert_refused("//");
    assert_refused("open");                       /* one segment */
    assert_refused("/open");
    assert_refused("/idgw/v1/session/open/");     /* trailing slash */
    assert_refused("/idgw/v1/add_card/relay/");
    assert_refused("/idgw/v1/add_card//relay");   /* empty segment before the step */
    assert_refused("/idgw/v1//relay");
    assert_refused("/idgw/v1/session//open");
}
END_TEST

START_TEST(extra_segments_and_unknown_names)
{
    assert_refused("/idgw/v1/add_card/relay/extra");
    assert_refused("/idgw/v1/session/open/extra");
    assert_refused("/idgw/v1/session/open/request");
    assert_refused("/idgw/v1/add_card");
    assert_refused("/idgw/v1/session");
    assert_refused("/idgw/v1/session/add_card");  /* session/ names open, close, status only */
    assert_refused("/idgw/v1/session/none");
    assert_refused("/idgw/v1/session/reopen");
    assert_refused("/idgw/v1/open/request");      /* open, close, status only under session/ */
    assert_refused("/idgw/v1/close/request");
    assert_refused("/idgw/v1/status/request");
    assert_refused("/idgw/v1/none/request");
    assert_refused("/idgw/v1/add_card/none");
    assert_refused("/idgw/v1/add_card/relays");
    assert_refused("/idgw/v1/frobnicate/request");
    /* names are matched exactly: case, spaces and query-like tails count */
    assert_refused("/idgw/v1/Add_Card/relay");
    assert_refused("/idgw/v1/session/OPEN");
    assert_refused("/idgw/v1/add_card/relay ");
    assert_refused("/idgw/v1/add_card/relay?x=1");
}
END_TEST

START_TEST(percent_encoding_not_decoded)
{
    /* neither caller decodes: httpd hands them the path; an escape is no name */
    assert_refused("/idgw/v1/%61dd_card/relay");
    assert_refused("/idgw/v1/session/%6Fpen");
    assert_refused("/idgw/v1/add_card%2Frelay");
    assert_refused("/idgw/v1/session%2Fopen");
}
END_TEST

START_TEST(very_long_paths)
{
    size_t n = 100000;
    char *path = malloc(n + 64);

    /* a long prefix is fine: only the last two segments are looked at */
    memset(path, 'x', n);
    path[0] = '/';
    strcpy(path + n, "/add_card/relay");
    assert_names(path, IDGW_OP_ADD_CARD, IDGW_STEP_RELAY);
    strcpy(path + n, "/session/open");
    assert_names(path, IDGW_OP_OPEN, IDGW_STEP_REQUEST);
    /* long segments are refused without overflowing anything */
    memset(path, 'y', n);
    path[n] = '\0';
    assert_refused(path);                              /* one huge segment */
    path[0] = '/';
    assert_refused(path);
    memcpy(path + n - 6, "/relay", 6);
    assert_refused(path);                              /* huge operation segment */
    strcpy(path, "/add_card/");
    memset(path + 10, 'r', n);
    path[10 + n] = '\0';
    assert_refused(path);                              /* huge step segment */
    strcpy(path, "/session/");
    memset(path + 9, 'o', n);
    path[9 + n] = '\0';
    assert_refused(path);
    /* a name followed by padding is not that name */
    strcpy(path, "/add_card/relay");
    memset(path + 15, ' ', 40);
    path[55] = '\0';
    assert_refused(path);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("op_path");
    TCase *tc = tcase_create("parse");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, session_paths);
    tcase_add_test(tc, operation_paths);
    tcase_add_test(tc, empty_and_slashes);
    tcase_add_test(tc, extra_segments_and_unknown_names);
    tcase_add_test(tc, percent_encoding_not_decoded);
    tcase_add_test(tc, very_long_paths);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
