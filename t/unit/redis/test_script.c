/*
 * test_script.c - the per-request script composer: part checks, the core and
 * dispatch around the parts, script identity and the KEYS/ARGV layout.
 */
#include <check.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "idgw_script.h"

/* A core as the session module gives one: it defines core(K, A). */
#define CORE "local function core_begin() end\n" \
             "local function core_proven(K, A) return false end\n" \
             "local function script_time() return redis.call('TIME') end\n" \
             "local function core(K, A) return {'OK'} end\n"

START_TEST(script_parts_checked)
{
    apr_pool_t *p;
    char err[128];
    idgw_script_part_text good = { "acl_check", "return nil", 0 };
    idgw_script_part_text bad = { "acl check", "return nil", 0 };
    const char *text;

    apr_pool_create(&p, NULL);
    text = idgw_script_assemble(p, CORE, &good, 1, err, sizeof(err));
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "P[1] = { after = false, fn = function(K, A, core, clock)\nreturn nil"));
    ck_assert_ptr_null(idgw_script_assemble(p, CORE, &bad, 1, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "part 1"));
    ck_assert_ptr_null(idgw_script_assemble(p, CORE, &good, IDGW_SCRIPT_MAX_PARTS + 1, err,
                                            sizeof(err)));
    apr_pool_destroy(p);
}
END_TEST

START_TEST(core_runs_between_the_parts)
{
    apr_pool_t *p;
    char err[128];
    idgw_script_part_text parts[2] = { { "before", "return nil", 0 },
                                       { "after", "return core", 1 } };
    const char *text, *core_at, *dispatch_at;

    apr_pool_create(&p, NULL);
    text = idgw_script_assemble(p, CORE, parts, 2, err, sizeof(err));
    ck_assert_ptr_nonnull(text);
    core_at = strstr(text, CORE);
    dispatch_at = strstr(text, "local result = core(slices[0][1], slices[0][2])");
    ck_assert_ptr_nonnull(core_at);
    ck_assert_ptr_nonnull(dispatch_at);
    ck_assert_ptr_nonnull(strstr(text, "P[2] = { after = true"));
    ck_assert(core_at < strstr(text, "P[1] =") && strstr(text, "P[2] =") < dispatch_at);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(script_args_layout)
{
    apr_pool_t *p;
    idgw_script_args a;
    idgw_script s;
    const char **argv;
    size_t *lens;
    int argc;

    apr_pool_create(&p, NULL);
    idgw_script_init(&s, "t", "return 1");
    ck_assert_str_eq(s.sha1, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    idgw_script_args_init(&a, p);
    idgw_script_args_part(&a);
    idgw_script_args_key(&a, "k1");
    idgw_script_args_str(&a, "a1");
    idgw_script_args_arg(&a, "a\0b", 3);
    idgw_script_args_part(&a);
    idgw_script_args_key(&a, "k2");
    idgw_script_args_int(&a, -42);
    argc = idgw_script_args_argv(&a, &s, 1, &argv, &lens);
    /* EVALSHA sha 2 k1 k2 | 1 | 1 2 | 1 1 | a1 a\0b -42 */
    ck_assert_int_eq(argc, 3 + 2 + 5 + 3);
    ck_assert_str_eq(argv[0], "EVALSHA");
    ck_assert_str_eq(argv[2], "2");
    ck_assert_str_eq(argv[3], "k1");
    ck_assert_str_eq(argv[4], "k2");
    ck_assert_str_eq(argv[5], "1");
    ck_assert_str_eq(argv[6], "1");
    ck_assert_str_eq(argv[7], "2");
    ck_assert_str_eq(argv[8], "1");
    ck_assert_str_eq(argv[9], "1");
    ck_assert_str_eq(argv[10], "a1");
    ck_assert_uint_eq(lens[11], 3);
    ck_assert_str_eq(argv[12], "-42");
    argc = idgw_script_args_argv(&a, &s, 0, &argv, &lens);
    ck_assert_int_eq(argc, 3 + 2 + 3);
    ck_assert_str_eq(argv[5], "a1");
    apr_pool_destroy(p);
}
END_TEST

/* The library form: named after the EVAL text's SHA, the same definitions
 * (a part's setup in a block of its own, before its body), the dispatcher
 * registered instead of called; calls go out as FCALL until functions are
 * off, then as EVALSHA of the same script. */
START_TEST(script_as_function_library)
{
    apr_pool_t *p;
    char err[128], head[80];
    idgw_script_part_text part = { "with_setup", "return helper()", 0,
                                   "local function helper() return 1 end" };
    idgw_script s;
    idgw_script_args a;
    const char **argv;
    size_t *lens;
    const char *text;

    apr_pool_create(&p, NULL);
    ck_assert(idgw_script_compose(&s, p, "t", CORE, &part, 1, err, sizeof(err)));
    text = idgw_script_assemble(p, CORE, &part, 1, err, sizeof(err));
    ck_assert_str_eq(s.text, text);
    ck_assert_ptr_nonnull(strstr(s.text, "return dispatch(KEYS, ARGV)"));
    ck_assert_str_eq(s.fname + 5, s.sha1);
    apr_snprintf(head, sizeof(head), "#!lua name=idgw_%s\n", s.sha1);
    ck_assert_int_eq(strncmp(s.lib, head, strlen(head)), 0);
    ck_assert_uint_eq(s.lib_len, strlen(s.lib));
    ck_assert_ptr_nonnull(strstr(s.lib, "redis.register_function('idgw_"));
    ck_assert_ptr_null(strstr(s.lib, "return dispatch("));
    ck_assert_ptr_nonnull(strstr(s.lib, "do\nlocal function helper() return 1 end\nP[1] = "));
    ck_assert(!idgw_script_compose(&s, p, "t", CORE, &part, IDGW_SCRIPT_MAX_PARTS + 1,
                                   err, sizeof(err)));

    idgw_script_args_init(&a, p);
    idgw_script_args_key(&a, "k1");
    ck_assert_int_eq(idgw_script_args_argv(&a, &s, 1, &argv, &lens), 3 + 1 + 3);
    ck_assert_str_eq(argv[0], "FCALL");
    ck_assert_str_eq(argv[1], s.fname);
    ck_assert_uint_eq(lens[1], 45);
    ck_assert(!idgw_script_functions_off());
    idgw_script_functions_disable();
    ck_assert(idgw_script_functions_off());
    idgw_script_args_argv(&a, &s, 1, &argv, &lens);
    ck_assert_str_eq(argv[0], "EVALSHA");
    ck_assert_str_eq(argv[1], s.sha1);
    apr_pool_destroy(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("script");
    TCase *tc = tcase_create("composer");
    SRunner *sr;
    int failed;

    apr_initialize();
    tcase_add_test(tc, script_parts_checked);
    tcase_add_test(tc, core_runs_between_the_parts);
    tcase_add_test(tc, script_args_layout);
    tcase_add_test(tc, script_as_function_library);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
