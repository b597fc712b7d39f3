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

#define CREDS "<add_card version=\"1\"><source>cremo</source><member>DCM0001</member>" \
    "<password>" PASSWORD "</password><slot>any</slot>"

/* Decoded, broken after the password, refused for a field after it. */
static const struct {
    const char *body;
    int ok;
} cases[] = {
    { CREDS "</add_card>", 1 },
    { CREDS "<broken></add_card>", 0 },
    { CREDS "<pan>4980000000000006</pan></add_card>", 0 },
};

START_TEST(password_cleared)
{
    idgw_sp_request rq;
    idgw_sp_result res;

    idgw_sp_request_decode(pool, IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST, cases[_i].body,
                           strlen(cases[_i].body), NULL, &rq, &res);
    ck_assert_int_eq(res.status == IDGW_SP_OK, cases[_i].ok);
    ck_assert_msg(xml_recorder_leaks() == 0, "%s: %d blocks freed with the password",
                  cases[_i].body, xml_recorder_leaks());
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sp_wipe");
    TCase *tc = tcase_create("wipe");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, password_cleared, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    suite_add_tcase(s, tc);
    return xml_recorder_run(s);
}
