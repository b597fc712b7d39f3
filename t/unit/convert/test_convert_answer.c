/* test_convert_answer.c: every answer the app can get is well-formed UTF-8
 * XML (it passes the gateway's own strict parser), escapes what the backends
 * sent, and never carries the PAN, the expiry or the holder name that the
 * operation context holds. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <libxml/parser.h>

#include "idgw_convert_answer.h"
#include "idgw_sp_xml.h"

#define PAN "4999990000001013"
#define EXPIRY "2911"
#define HOLDER "TARO YAMADA"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* A context as an add_card leaves it, plus a listing's captures. */
static idgw_ctx *full_ctx(void)
{
    idgw_ctx *c = idgw_ctx_new(pool);

    idgw_ctx_set(c, "pan", PAN);
    idgw_ctx_set(c, "expiry", EXPIRY);
    idgw_ctx_set(c, "holder", HOLDER);
    idgw_ctx_set(c, "cardId", "C101");
    idgw_ctx_set(c, "issuer", "DCM");
    idgw_ctx_set(c, "slot", "2");
    idgw_ctx_set(c, "issuerName", "\xE3\x83\x89\xE3\x82\xB3\xE3\x83\xA2 <iD> & \"co\"");
    idgw_ctx_append(c, "messages", "one");
    idgw_ctx_append(c, "messages", "two, with a comma");
    idgw_ctx_set(c, "logo", "iVBORw0KGgo=");
    idgw_ctx_set(c, "logoType", "image/png");
    idgw_ctx_set(c, "req.slot1", "2");
    idgw_ctx_set(c, "req.cardId", "C101");
    idgw_ctx_set(c, "req.issuer", "DCM");
    idgw_ctx_set(c, "storeId", "S0123456789");
    idgw_ctx_append(c, "slots", "1");
    idgw_ctx_append(c, "slots", "2");
    idgw_ctx_append(c, "issuers", "DCM");
    idgw_ctx_append(c, "issuers", "SKR");
    idgw_ctx_append(c, "last4s", "1013");
    idgw_ctx_append(c, "last4s", "4019");
    idgw_ctx_set(c, "mainSlot", "2");
    idgw_ctx_set(c, "issuerName.DCM", "DOCOMO");
    idgw_ctx_set(c, "issuerName.SKR", "\xE3\x81\x95\xE3\x81\x8F\xE3\x82\x89");
    return c;
}

static void check_answer(const char *xml, const char *what)
{
    xmlDocPtr doc;
    idgw_sp_xml_limits lim;

    ck_assert_msg(xml != NULL, "%s: no answer", what);
    ck_assert_msg(strstr(xml, PAN) == NULL, "%s carries the PAN", what);
    ck_assert_msg(strstr(xml, ">" EXPIRY "<") == NULL, "%s carries the expiry", what);
    ck_assert_msg(strstr(xml, HOLDER) == NULL, "%s carries the holder name", what);
    idgw_sp_xml_default_limits(&lim);
    ck_assert_msg(idgw_sp_xml_parse(xml, strlen(xml), &lim, &doc) == IDGW_SP_XML_OK,
                  "%s is not well-formed: %s", what, xml);
    xmlFreeDoc(doc);
}

START_TEST(no_answer_carries_card_data)
{
    idgw_ctx *c = full_ctx();

    for (int op = IDGW_OP_ISSUE_AREA; op < IDGW_OP_COUNT; op++)
        check_answer(idgw_ans_complete(pool, (idgw_op)op, c), idgw_op_name((idgw_op)op));
    check_answer(idgw_ans_session(pool, "0123456789abcdef0123456789abcdef", 0, 900), "session");
    check_answer(idgw_ans_status(pool, "add_card/relaying", 7), "status");
    check_answer(idgw_ans_closed(pool, 1), "closed");
    check_answer(idgw_ans_relay(pool, IDGW_OP_ADD_CARD, (const uint8_t *)"\x06\x00\xFF\xFF\x01\x00", 6),
                 "relay");
    check_answer(idgw_ans_relay_done(pool, IDGW_OP_ADD_CARD), "relay done");
}
END_TEST

START_TEST(card_answer_shows_last_four_and_display)
{
    const char *xml = idgw_ans_complete(pool, IDGW_OP_ADD_CARD, full_ctx());

    ck_assert_ptr_nonnull(strstr(xml, "<slot>1</slot>"));
    ck_assert_ptr_nonnull(strstr(xml, "<last4>1013</last4>"));
    ck_assert_ptr_nonnull(strstr(xml, "<cardId>C101</cardId>"));
    ck_assert_ptr_nonnull(strstr(xml, "&lt;iD&gt; &amp; &quot;co&quot;"));
    ck_assert_ptr_nonnull(strstr(xml, "<message>two, with a comma</message>"));
    ck_assert_ptr_nonnull(strstr(xml, "<logo type=\"image/png\">iVBORw0KGgo=</logo>"));
}
END_TEST

START_TEST(list_answer_per_slot)
{
    const char *xml = idgw_ans_complete(pool, IDGW_OP_LIST_CARDS, full_ctx());

    ck_assert_ptr_nonnull(strstr(xml, "<card><slot>0</slot><last4>1013</last4><issuer>DCM</issuer>"
                                      "<main>false</main><display><name>DOCOMO</name>"));
    ck_assert_ptr_nonnull(strstr(xml, "<card><slot>1</slot><last4>4019</last4><issuer>SKR</issuer>"
                                      "<main>true</main>"));
}
END_TEST

START_TEST(empty_chip_lists_nothing)
{
    idgw_ctx *c = idgw_ctx_new(pool);
    const char *xml;

    idgw_ctx_set(c, "slots", "");
    idgw_ctx_set(c, "mainSlot", "0");
    xml = idgw_ans_complete(pool, IDGW_OP_LIST_CARDS, c);
    ck_assert_ptr_null(strstr(xml, "<card>"));
    check_answer(xml, "empty list");
    /* a context without a PAN gives no last four rather than garbage */
    xml = idgw_ans_complete(pool, IDGW_OP_ADD_CARD, c);
    ck_assert_ptr_nonnull(strstr(xml, "<last4></last4>"));
}
END_TEST

START_TEST(relay_packet_is_upper_hex)
{
    const char *xml = idgw_ans_relay(pool, IDGW_OP_SET_MAIN, (const uint8_t *)"\x0a\xbc", 2);

    ck_assert_ptr_nonnull(strstr(xml, "op=\"set_main\"><packet>0ABC</packet>"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("convert_answer");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    apr_initialize();
    xmlInitParser();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, no_answer_carries_card_data);
    tcase_add_test(tc, card_answer_shows_last_four_and_display);
    tcase_add_test(tc, list_answer_per_slot);
    tcase_add_test(tc, empty_chip_lists_nothing);
    tcase_add_test(tc, relay_packet_is_upper_hex);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
