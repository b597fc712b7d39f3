/* test_sp_request.c: every app request is checked field by field: the honest
 * examples of docs/smartphone-api.md pass, anything missing, repeated,
 * unknown or out of range is refused with the field named. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <libxml/parser.h>

#include "idgw_sp_request.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static idgw_sp_result decode(idgw_op op, idgw_step step, const char *body, idgw_sp_request *rq)
{
    idgw_sp_result res;

    idgw_sp_request_decode(pool, op, step, body, strlen(body), NULL, rq, &res);
    return res;
}

#define OPEN_BODY(idm) \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><open version=\"1\">" \
    "<terminal>T-0001</terminal><appVersion>1.0.0</appVersion>" \
    "<idm>" idm "</idm><pmm>0120220427674EFF</pmm></open>"

START_TEST(open_example)
{
    idgw_sp_request rq;
    idgw_sp_result r = decode(IDGW_OP_OPEN, IDGW_STEP_REQUEST, OPEN_BODY("012e4cd1a2b3c4d5"), &rq);

    ck_assert_int_eq(r.status, IDGW_SP_OK);
    ck_assert_str_eq(rq.terminal, "T-0001");
    ck_assert_str_eq(rq.app_version, "1.0.0");
    ck_assert_str_eq(rq.idm, "012E4CD1A2B3C4D5");
    ck_assert_str_eq(rq.pmm, "0120220427674EFF");
}
END_TEST

START_TEST(open_bad_fields)
{
    static const struct { const char *body; const char *field; } cases[] = {
        { OPEN_BODY("012E4CD1A2B3C4"), "idm" },
        { OPEN_BODY("012E4CD1A2B3C4DX"), "idm" },
        { OPEN_BODY("012E4CD1A2B3C4D5</idm><idm>012E4CD1A2B3C4D5"), "idm" },
        { "<open version=\"1\"><terminal>T 1</terminal><appVersion>1</appVersion>"
          "<idm>012E4CD1A2B3C4D5</idm><pmm>0120220427674EFF</pmm></open>", "terminal" },
        { "<open version=\"1\"><terminal>T1</terminal><terminal>T2</terminal><appVersion>1</appVersion>"
          "<idm>012E4CD1A2B3C4D5</idm><pmm>0120220427674EFF</pmm></open>", "terminal" },
        { "<open version=\"1\"><terminal>T1</terminal><appVersion>1</appVersion>"
          "<idm>012E4CD1A2B3C4D5</idm></open>", "pmm" },
        { "<open version=\"1\"><terminal>T1</terminal><appVersion>1</appVersion><idm>012E4CD1A2B3C4D5</idm>"
          "<pmm>0120220427674EFF</pmm><pan>4111</pan></open>", "pan" },
        { "<open version=\"1\"><terminal><b/></terminal><appVersion>1</appVersion>"
          "<idm>012E4CD1A2B3C4D5</idm><pmm>0120220427674EFF</pmm></open>", "terminal" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        idgw_sp_request rq;
        idgw_sp_result r = decode(IDGW_OP_OPEN, IDGW_STEP_REQUEST, cases[i].body, &rq);

        ck_assert_msg(r.status == IDGW_SP_BAD_FIELD, "case %zu status %d", i, r.status);
        ck_assert_str_eq(r.field, cases[i].field);
    }
}
END_TEST

START_TEST(root_and_version)
{
    idgw_sp_request rq;

    ck_assert_int_eq(decode(IDGW_OP_CLOSE, IDGW_STEP_REQUEST, "<close version=\"1\"/>", &rq).status,
                     IDGW_SP_OK);
    ck_assert_int_eq(decode(IDGW_OP_CLOSE, IDGW_STEP_REQUEST, "<close/>", &rq).status,
                     IDGW_SP_BAD_ROOT);
    ck_assert_int_eq(decode(IDGW_OP_CLOSE, IDGW_STEP_REQUEST, "<close version=\"2\"/>", &rq).status,
                     IDGW_SP_BAD_ROOT);
    ck_assert_int_eq(decode(IDGW_OP_CLOSE, IDGW_STEP_REQUEST, "<open version=\"1\"/>", &rq).status,
                     IDGW_SP_BAD_ROOT);
    ck_assert_int_eq(decode(IDGW_OP_CLOSE, IDGW_STEP_REQUEST,
                            "<close version=\"1\" admin=\"yes\"/>", &rq).status, IDGW_SP_BAD_ROOT);
    ck_assert_int_eq(decode(IDGW_OP_ADD_CARD, IDGW_STEP_COMPLETE, "<complete version=\"1\"/>",
                            &rq).status, IDGW_SP_OK);
    ck_assert_int_eq(decode(IDGW_OP_ADD_CARD, IDGW_STEP_COMPLETE,
                            "<complete version=\"1\"><x/></complete>", &rq).status, IDGW_SP_BAD_FIELD);
    ck_assert_int_eq(decode(IDGW_OP_ISSUE_AREA, IDGW_STEP_REQUEST,
                            "<issue_area version=\"1\"><slot>0</slot></issue_area>", &rq).status,
                     IDGW_SP_BAD_FIELD);
}
END_TEST

START_TEST(hostile_xml_is_bad_xml)
{
    idgw_sp_request rq;
    idgw_sp_result r = decode(IDGW_OP_CLOSE, IDGW_STEP_REQUEST,
        "<!DOCTYPE close [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><close version=\"1\">&x;</close>",
        &rq);

    ck_assert_int_eq(r.status, IDGW_SP_BAD_XML);
    ck_assert_int_eq(r.xml_status, IDGW_SP_XML_DOCTYPE);
}
END_TEST

#define CREDS_CREMO "<source>cremo</source><member>DCM0001</member><password>docomo01</password>"
#define CREDS_DLC "<source>dlc</source><issuer>SKR</issuer><member>SKR0001</member>" \
    "<password>sakura01</password>"

START_TEST(add_card_sources)
{
    idgw_sp_request rq;
    idgw_sp_result r;

    r = decode(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST,
               "<add_card version=\"1\">" CREDS_CREMO "<slot>any</slot></add_card>", &rq);
    ck_assert_int_eq(r.status, IDGW_SP_OK);
    ck_assert_int_eq(rq.source, IDGW_SP_SOURCE_CREMO);
    ck_assert_str_eq(rq.member, "DCM0001");
    ck_assert_str_eq(rq.password, "docomo01");
    ck_assert_int_eq(rq.slot, IDGW_SP_SLOT_ANY);
    ck_assert_int_eq(rq.make_main, 0);
    ck_assert_str_eq(rq.issuer, "");
    ck_assert_ptr_null(rq.card_id);

    r = decode(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST,
               "<add_card version=\"1\">" CREDS_DLC "<cardId>C401</cardId><slot>1</slot>"
               "<main>true</main></add_card>", &rq);
    ck_assert_int_eq(r.status, IDGW_SP_OK);
    ck_assert_int_eq(rq.source, IDGW_SP_SOURCE_DLC);
    ck_assert_str_eq(rq.issuer, "SKR");
    ck_assert_str_eq(rq.card_id, "C401");
    ck_assert_int_eq(rq.slot, 1);
    ck_assert_int_eq(rq.make_main, 1);

    /* the download center needs an issuer, CREMO refuses one */
    r = decode(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST,
               "<add_card version=\"1\"><source>dlc</source><member>SKR0001</member>"
               "<password>sakura01</password><slot>1</slot></add_card>", &rq);
    ck_assert_int_eq(r.status, IDGW_SP_BAD_FIELD);
    ck_assert_str_eq(r.field, "issuer");
    r = decode(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST,
               "<add_card version=\"1\">" CREDS_CREMO "<issuer>DCM</issuer><slot>0</slot></add_card>",
               &rq);
    ck_assert_str_eq(r.field, "issuer");
    r = decode(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST,
               "<add_card version=\"1\"><source>bank</source><slot>0</slot></add_card>", &rq);
    ck_assert_str_eq(r.field, "source");
    r = decode(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST,
               "<add_card version=\"1\">" CREDS_CREMO "<slot>2</slot></add_card>", &rq);
    ck_assert_str_eq(r.field, "slot");
    r = decode(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST,
               "<add_card version=\"1\">" CREDS_CREMO "<slot>0</slot><main>yes</main></add_card>", &rq);
    ck_assert_str_eq(r.field, "main");
    r = decode(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST,
               "<add_card version=\"1\"><source>cremo</source><member>DCM0001</member>"
               "<password>a b c</password><slot>0</slot></add_card>", &rq);
    ck_assert_str_eq(r.field, "password");
    r = decode(IDGW_OP_ADD_CARD, IDGW_STEP_REQUEST,
               "<add_card version=\"1\">" CREDS_CREMO "<cardId>C-1</cardId><slot>0</slot></add_card>",
               &rq);
    ck_assert_str_eq(r.field, "cardId");
}
END_TEST

START_TEST(card_operations)
{
    static const idgw_op ops[] = { IDGW_OP_UPDATE_CARD, IDGW_OP_DELETE_CARD, IDGW_OP_STORE_CARD,
                                   IDGW_OP_RESTORE_CARD };

    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const char *name = idgw_op_name(ops[i]);
        char ok[300], any[300], nocard[300];
        idgw_sp_request rq;
        idgw_sp_result r;

        snprintf(ok, sizeof ok, "<%s version=\"1\">" CREDS_CREMO "<cardId>C101</cardId>"
                 "<slot>1</slot></%s>", name, name);
        snprintf(any, sizeof any, "<%s version=\"1\">" CREDS_CREMO "<cardId>C101</cardId>"
                 "<slot>any</slot></%s>", name, name);
        snprintf(nocard, sizeof nocard, "<%s version=\"1\">" CREDS_CREMO "<slot>1</slot></%s>",
                 name, name);
        r = decode(ops[i], IDGW_STEP_REQUEST, ok, &rq);
        ck_assert_int_eq(r.status, IDGW_SP_OK);
        ck_assert_int_eq(rq.slot, 1);
        ck_assert_str_eq(rq.card_id, "C101");
        /* only a restore may let the chip choose the slot */
        ck_assert_int_eq(decode(ops[i], IDGW_STEP_REQUEST, any, &rq).status,
                         ops[i] == IDGW_OP_RESTORE_CARD ? IDGW_SP_OK : IDGW_SP_BAD_FIELD);
        r = decode(ops[i], IDGW_STEP_REQUEST, nocard, &rq);
        ck_assert_int_eq(r.status, IDGW_SP_BAD_FIELD);
        ck_assert_str_eq(r.field, "cardId");
    }
}
END_TEST

START_TEST(set_main_and_display)
{
    idgw_sp_request rq;
    idgw_sp_result r;

    r = decode(IDGW_OP_SET_MAIN, IDGW_STEP_REQUEST, "<set_main version=\"1\"><slot>1</slot></set_main>",
               &rq);
    ck_assert_int_eq(r.status, IDGW_SP_OK);
    ck_assert_int_eq(rq.slot, 1);
    ck_assert_int_eq(decode(IDGW_OP_SET_MAIN, IDGW_STEP_REQUEST,
                            "<set_main version=\"1\"><slot>any</slot></set_main>", &rq).status,
                     IDGW_SP_BAD_FIELD);
    ck_assert_int_eq(decode(IDGW_OP_SET_MAIN, IDGW_STEP_REQUEST, "<set_main version=\"1\"/>",
                            &rq).status, IDGW_SP_BAD_FIELD);
    r = decode(IDGW_OP_DISPLAY_DATA, IDGW_STEP_REQUEST,
               "<display_data version=\"1\"><issuer>DCM</issuer></display_data>", &rq);
    ck_assert_int_eq(r.status, IDGW_SP_OK);
    ck_assert_str_eq(rq.issuer, "DCM");
    r = decode(IDGW_OP_DISPLAY_DATA, IDGW_STEP_REQUEST,
               "<display_data version=\"1\"><issuer>D</issuer></display_data>", &rq);
    ck_assert_str_eq(r.field, "issuer");
    r = decode(IDGW_OP_DISPLAY_DATA, IDGW_STEP_REQUEST,
               "<display_data version=\"1\"><issuer>ABCDEFGHI</issuer></display_data>", &rq);
    ck_assert_str_eq(r.field, "issuer");
}
END_TEST

START_TEST(relay_packets)
{
    idgw_sp_request rq;
    idgw_sp_result r;
    char body[700], hex[520];

    r = decode(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY,
               "<relay version=\"1\"><response>0a0B0c0D0e</response></relay>", &rq);
    ck_assert_int_eq(r.status, IDGW_SP_OK);
    ck_assert_uint_eq(rq.packet_len, 5);
    ck_assert_int_eq(rq.packet[0], 0x0A);
    ck_assert_int_eq(rq.packet[4], 0x0E);
    /* odd length, not hex, empty, too long: the chip packet error (IDGW-CNV-030) */
    ck_assert_int_eq(decode(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY,
                            "<relay version=\"1\"><response>0a0</response></relay>", &rq).status,
                     IDGW_SP_BAD_PACKET);
    ck_assert_int_eq(decode(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY,
                            "<relay version=\"1\"><response>zz</response></relay>", &rq).status,
                     IDGW_SP_BAD_PACKET);
    ck_assert_int_eq(decode(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY,
                            "<relay version=\"1\"><response></response></relay>", &rq).status,
                     IDGW_SP_BAD_PACKET);
    memset(hex, 'A', 2 * (IDGW_SP_PACKET_MAX + 1));
    hex[2 * (IDGW_SP_PACKET_MAX + 1)] = '\0';
    snprintf(body, sizeof body, "<relay version=\"1\"><response>%s</response></relay>", hex);
    ck_assert_int_eq(decode(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, body, &rq).status, IDGW_SP_BAD_PACKET);
    hex[2 * IDGW_SP_PACKET_MAX] = '\0';
    snprintf(body, sizeof body, "<relay version=\"1\"><response>%s</response></relay>", hex);
    ck_assert_int_eq(decode(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, body, &rq).status, IDGW_SP_OK);
    ck_assert_uint_eq(rq.packet_len, IDGW_SP_PACKET_MAX);
    /* a missing response is a missing field, not a bad packet */
    ck_assert_int_eq(decode(IDGW_OP_ADD_CARD, IDGW_STEP_RELAY, "<relay version=\"1\"/>", &rq).status,
                     IDGW_SP_BAD_FIELD);
}
END_TEST

START_TEST(field_checks)
{
    char idm[17];
    uint8_t b[2];

    ck_assert_int_eq(idgw_sp_idm_valid("0123456789abcdef", idm), 1);
    ck_assert_str_eq(idm, "0123456789ABCDEF");
    ck_assert_int_eq(idgw_sp_idm_valid("0123456789abcde", idm), 0);
    ck_assert_int_eq(idgw_sp_idm_valid(NULL, idm), 0);
    ck_assert_int_eq(idgw_sp_hex_decode("0g12", b, 2), 0);
    ck_assert_int_eq(idgw_sp_terminal_valid(""), 0);
    ck_assert_int_eq(idgw_sp_terminal_valid("a.b_c:d-e"), 1);
    ck_assert_int_eq(idgw_sp_terminal_valid("a/b"), 0);
    ck_assert_int_eq(idgw_sp_password_valid("abcd"), 1);
    ck_assert_int_eq(idgw_sp_password_valid("ab\x7f" "d"), 0);
    ck_assert_int_eq(idgw_sp_issuer_valid("DC-M"), 0);
    ck_assert_int_eq(idgw_sp_issuer_valid("DCM"), 1);
    ck_assert_int_eq(idgw_sp_slot_parse("01", 1), -1);
    ck_assert_int_eq(idgw_sp_bool_parse("TRUE"), -1);
    {
        char longname[80];

        memset(longname, 'a', 65);
        longname[65] = '\0';
        ck_assert_int_eq(idgw_sp_terminal_valid(longname), 0);
        longname[64] = '\0';
        ck_assert_int_eq(idgw_sp_terminal_valid(longname), 1);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sp_request");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    apr_initialize();
    xmlInitParser();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, open_example);
    tcase_add_test(tc, open_bad_fields);
    tcase_add_test(tc, root_and_version);
    tcase_add_test(tc, hostile_xml_is_bad_xml);
    tcase_add_test(tc, add_card_sources);
    tcase_add_test(tc, card_operations);
    tcase_add_test(tc, set_main_and_display);
    tcase_add_test(tc, relay_packets);
    tcase_add_test(tc, field_checks);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    xmlCleanupParser();
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
