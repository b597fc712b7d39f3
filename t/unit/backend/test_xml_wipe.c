/* test_xml_wipe.c: libxml2 memory that held card data or a password is
 * cleared before libxml2 frees it (idgw_xml_wipe.h): trees, parser contexts,
 * telegrams parsed and built (Shift_JIS included), on error paths too.  The
 * wiping layer sits on a recording allocator (xml_free_recorder.h) that
 * looks into every block it takes back. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "idgw_telegram.h"
#include "idgw_xml_wipe.h"
#include "xml_free_recorder.h"

#define CORR "c0ffee00-1234-5678-9abc-def012345678"
#define PAN "4980000000000006"
#define EXPIRY_HOLDER "YAMADAXTAROX"
#define PASSWORD "pass~1234!"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    xml_recorder_reset();
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}


static void parse_and_free(const char *xml)
{
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    xmlDocPtr doc;

    ck_assert_ptr_nonnull(ctxt);
    doc = xmlCtxtReadMemory(ctxt, xml, (int)strlen(xml), NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlFreeDoc(doc ? doc : ctxt->myDoc);
    ctxt->myDoc = NULL;
    xmlFreeParserCtxt(ctxt);
}

#define DOC "<a k=\"" PASSWORD "\"><b>" PAN "</b><!-- " PAN " --><c><![CDATA[" PAN "]]></c></a>"

START_TEST(recorder_sees_plain_frees)
{
    /* the control: libxml2 alone gives the secrets back as they were */
    xmlMemSetup(rec_free, rec_malloc, rec_realloc, rec_strdup);
    xml_recorder_watch(PAN);
    xml_recorder_watch(PASSWORD);
    parse_and_free(DOC);
    ck_assert_int_gt(xml_recorder_leaks(), 0);
    idgw_xml_wipe_use(&recorder);
}
END_TEST

START_TEST(tree_and_context_wiped)
{
    xml_recorder_watch(PAN);
    xml_recorder_watch(PASSWORD);
    parse_and_free(DOC);
    ck_assert_int_eq(xml_recorder_leaks(), 0);
}
END_TEST

START_TEST(malformed_after_the_secret)
{
    xml_recorder_watch(PAN);
    xml_recorder_watch(PASSWORD);
    parse_and_free("<a><b>" PAN "</b><c>" PASSWORD "</c><d></a>");
    ck_assert_int_eq(xml_recorder_leaks(), 0);
}
END_TEST

static idgw_telegram_t *card_answer(void)
{
    idgw_telegram_t *t = idgw_tg_new(pool, IDGW_TG_CARD_DOWNLOAD_RES, CORR);

    t->result = "0000";
    idgw_tg_add(t, "cardId", "C1");
    idgw_tg_add(t, "issuerCode", "DCM");
    idgw_tg_add(t, "pan", PAN);
    idgw_tg_add(t, "expiry", "2811");
    idgw_tg_add(t, "holderName", EXPIRY_HOLDER);
    idgw_tg_add(t, "brandVersion", "3");
    return t;
}

static void telegram_round_trip(const char *encoding)
{
    idgw_telegram_t *back;
    idgw_tg_error_t err;
    char *wire;
    apr_size_t len;

    xml_recorder_watch(PAN);
    xml_recorder_watch(EXPIRY_HOLDER);
    ck_assert_int_eq(idgw_tg_build(pool, card_answer(), encoding, &wire, &len, &err), 0);
    ck_assert_int_eq(xml_recorder_leaks(), 0);
    ck_assert_int_eq(idgw_tg_parse(pool, wire, len, &back, &err), 0);
    ck_assert_int_eq(xml_recorder_leaks(), 0);
}

START_TEST(telegram_shift_jis)
{
    telegram_round_trip("Shift_JIS");
}
END_TEST

START_TEST(telegram_utf8)
{
    telegram_round_trip("UTF-8");
}
END_TEST

START_TEST(telegram_malformed_after_pan)
{
    static const char *const encs[] = { "UTF-8", "Shift_JIS" };

    for (int i = 0; i < 2; i++) {
        const char *xml = apr_psprintf(pool,
            "<?xml version=\"1.0\" encoding=\"%s\"?><fpTelegram version=\"1.0\"><header>"
            "<type>CARD_DOWNLOAD_RES</type><correlationId>" CORR "</correlationId>"
            "<terminalType>FP</terminalType><timestamp>2026-01-01T00:00:00Z</timestamp>"
            "<result>0000</result></header><body><pan>" PAN "</pan><expiry>2811</expiry>"
            "<holderName>" EXPIRY_HOLDER "</holderName><broken></body>", encs[i]);
        idgw_telegram_t *t;
        idgw_tg_error_t err;

        xml_recorder_watch(PAN);
        xml_recorder_watch(EXPIRY_HOLDER);
        ck_assert_int_eq(idgw_tg_parse(pool, xml, strlen(xml), &t, &err), -1);
        ck_assert_msg(xml_recorder_leaks() == 0, "%s: %d blocks freed with card data",
                      encs[i], xml_recorder_leaks());
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("xml_wipe");
    TCase *tc = tcase_create("wipe");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, recorder_sees_plain_frees);
    tcase_add_test(tc, tree_and_context_wiped);
    tcase_add_test(tc, malformed_after_the_secret);
    tcase_add_test(tc, telegram_shift_jis);
    tcase_add_test(tc, telegram_utf8);
    tcase_add_test(tc, telegram_malformed_after_pan);
    suite_add_tcase(s, tc);
    return xml_recorder_run(s);
}
