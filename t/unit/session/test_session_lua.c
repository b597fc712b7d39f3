/*
 * test_session_lua.c - the core of the per-request script carries the
 * transition table, every row of it.
 */
#include <check.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "idgw_lua_session.h"
#include "idgw_transitions.h"

START_TEST(lua_rendering_carries_every_row)
{
    apr_pool_t *p;
    const char *text;
    size_t n, i;
    const idgw_transition *t = idgw_transitions(&n);

    apr_pool_create(&p, NULL);
    text = idgw_lua_session_core_text(p);
    ck_assert_ptr_nonnull(text);
    for (i = 0; i < n; i++) {
        char from[IDGW_STATE_NAME_MAX], to[IDGW_STATE_NAME_MAX];
        const char *row;

        if (t[i].op == IDGW_OP_OPEN)
            continue;
        idgw_state_format(&t[i].from, from, sizeof(from));
        idgw_state_format(&t[i].to, to, sizeof(to));
        row = apr_psprintf(p, "['%s|%s|%s'] = '%s'", from, idgw_op_name(t[i].op),
                           idgw_step_name(t[i].step), to);
        ck_assert_msg(strstr(text, row) != NULL, "missing %s", row);
    }
    apr_pool_destroy(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("session_lua");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    apr_initialize();
    tcase_add_test(tc, lua_rendering_carries_every_row);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
