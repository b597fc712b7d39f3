/* test_sp_wipe.c: an app request's password is cleared from every block
 * libxml2 frees while the request is decoded, when it decodes and when the
 * XML breaks after the password (idgw_xml_wipe.h under a recording
 * allocator, t/unit/backend/xml_free_recorder.h). */
#include <check.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include "idgw_sp_request.h"
#include "idgw_xml_wipe.h"
#include "../backend/xml_free_recorder.h"

#define PASSWORD "docomo~01"

static apr_pool_t *pool;
static const idgw_xml_alloc recorder = { rec_free, rec_malloc, rec_size };

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    xml_recorder_reset();
    xml_recorder_watch(PASSWORD);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static idgw_sp_result decode(const char *body)
{
    idgw_sp_request rq;
    idgw_sp_result res;

    idgw_sp_request_decode(pool, IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, body, strlen(body),
                           NULL, &rq, &res);
    return res;
}

START_TEST(decoded_request)
{
    idgw_sp_result r = decode("<add_card version=\"1\"><source>cremo</source>"
                              "<member>DCM0001</member><password>" PASSWORD "</password>"
                              "<slot>any</slot></add_card>");

    ck_assert_int_eq(r.status, IDGW_SP_OK);
    ck_assert_int_eq(xml_recorder_leaks(), 0);
}
END_TEST

START_TEST(malformed_after_the_password)
{
    idgw_sp_result r = decode("<add_card version=\"1\"><source>cremo</source>"
                              "<member>DCM0001</member><password>" PASSWORD "</password>"
                              "<slot>any</slot><broken></add_card>");

    ck_assert_int_eq(r.status, IDGW_SP_BAD_XML);
    ck_assert_int_eq(xml_recorder_leaks(), 0);
}
END_TEST

START_TEST(refused_field_after_the_password)
{
    idgw_sp_result r = decode("<add_card version=\"1\"><source>cremo</source>"
                              "<member>DCM0001</member><password>" PASSWORD "</password>"
                              "<slot>any</slot><pan>4980000000000006</pan></add_card>");

    ck_assert_int_ne(r.status, IDGW_SP_OK);
    ck_assert_int_eq(xml_recorder_leaks(), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sp_wipe");
    TCase *tc = tcase_create("wipe");
    SRunner *sr;
    int failed;

    xml_recorder_install();
    if (idgw_xml_wipe_use(&recorder) != 0)
        return 1;
    apr_initialize();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, decoded_request);
    tcase_add_test(tc, malformed_after_the_password);
    tcase_add_test(tc, refused_field_after_the_password);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? 1 : 0;
}
