/* test_telegram.c: the feature-phone telegram codec: every type built and
 * parsed back, Shift_JIS on the wire for the card and brand centres, the
 * schema's checks, and hostile XML refused with the documented result code. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "idgw_telegram.h"

#define CORR "c0ffee00-1234-5678-9abc-def012345678"
#define PAN "4980000000000006"     /* Luhn-valid test number */
#define HOLDER "\xe3\x83\xa4\xe3\x83\x9e\xe3\x83\x80 \xe3\x82\xbf\xe3\x83\xad\xe3\x82\xa6" /* ヤマダ タロウ */
#define HOLDER_SJIS "\x83\x84\x83\x7d\x83\x5f \x83\x5e\x83\x8d\x83\x45"
#define THANKS "\xe3\x81\x94\xe5\x88\xa9\xe7\x94\xa8\xe3\x81\x82\xe3\x82\x8a\xe3\x81\x8c\xe3\x81\xa8\xe3\x81\x86" /* ご利用ありがとう */

static apr_pool_t *pool;

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

static idgw_telegram_t *sample(idgw_tg_type_t type)
{
    idgw_telegram_t *t = idgw_tg_new(pool, type, CORR);

    switch (type) {
    case IDGW_TG_CARD_AUTH_REQ:
        idgw_tg_add(t, "memberId", "DCM0001");
        idgw_tg_add(t, "password", "pass 1234!");
        idgw_tg_add(t, "issuerCode", "DCM");
        break;
    case IDGW_TG_CARD_AUTH_RES:
        idgw_tg_add(t, "authTicket", "T0123456789abcdef0123");
        idgw_tg_add(t, "memberName", HOLDER);
        idgw_tg_add(t, "cardId", "C1");
        idgw_tg_add(t, "cardId", "C2");
        break;
    case IDGW_TG_CARD_DOWNLOAD_REQ:
    case IDGW_TG_CARD_UPDATE_REQ:
    case IDGW_TG_CARD_RESTORE_REQ:
        idgw_tg_add(t, "authTicket", "T0123456789abcdef0123");
        idgw_tg_add(t, "cardId", "C1");
        break;
    case IDGW_TG_CARD_DOWNLOAD_RES:
    case IDGW_TG_CARD_UPDATE_RES:
    case IDGW_TG_CARD_RESTORE_RES:
        idgw_tg_add(t, "cardId", "C1");
        idgw_tg_add(t, "issuerCode", "DCM");
        idgw_tg_add(t, "pan", PAN);
        idgw_tg_add(t, "expiry", "2811");
        idgw_tg_add(t, "holderName", HOLDER);
        idgw_tg_add(t, "brandVersion", "3");
        break;
    case IDGW_TG_CARD_WRITTEN_REQ:
        idgw_tg_add(t, "authTicket", "T0123456789abcdef0123");
        idgw_tg_add(t, "cardId", "C1");
        idgw_tg_add(t, "idm", "0123456789ABCDEF");
        idgw_tg_add(t, "slot", "1");
        idgw_tg_add(t, "writeResult", "OK");
        break;
    case IDGW_TG_CARD_DELETED_REQ:
    case IDGW_TG_CARD_STORE_REQ:
        idgw_tg_add(t, "authTicket", "T0123456789abcdef0123");
        idgw_tg_add(t, "cardId", "C1");
        idgw_tg_add(t, "idm", "0123456789ABCDEF");
        break;
    case IDGW_TG_CARD_STORE_RES:
        idgw_tg_add(t, "storeId", "S0000000001");
        break;
    case IDGW_TG_BRAND_DOWNLOAD_REQ:
        idgw_tg_add(t, "issuerCode", "DCM");
        idgw_tg_add(t, "knownVersion", "2");
        break;
    case IDGW_TG_BRAND_DOWNLOAD_RES:
        idgw_tg_add(t, "issuerCode", "DCM");
        idgw_tg_add(t, "version", "3");
        idgw_tg_add(t, "unchanged", "0");
        idgw_tg_add(t, "issuerName", "DCM Card");
        idgw_tg_add(t, "message", THANKS);
        idgw_tg_add(t, "message", "second <message> & more");
        idgw_tg_add(t, "logo", "iVBORw0KGgo=");
        idgw_tg_add(t, "logoType", "image/png");
        break;
    case IDGW_TG_FELICA_START_REQ:
        idgw_tg_add(t, "idm", "0123456789ABCDEF");
        idgw_tg_add(t, "operation", "WRITE_CARD");
        idgw_tg_add(t, "slot", "1");
        idgw_tg_add(t, "cardId", "C1");
        idgw_tg_add(t, "issuerCode", "DCM");
        idgw_tg_add(t, "pan", PAN);
        idgw_tg_add(t, "expiry", "2811");
        idgw_tg_add(t, "holderName", "YAMADA TARO");
        idgw_tg_add(t, "brandVersion", "3");
        break;
    case IDGW_TG_FELICA_START_RES:
    case IDGW_TG_FELICA_EXCHANGE_RES:
        idgw_tg_add(t, "operationId", "OP0123456789abcdef");
        idgw_tg_add(t, "state", "CONTINUE");
        idgw_tg_add(t, "packet", "1AA10123456789ABCDEF0000");
        break;
    case IDGW_TG_FELICA_EXCHANGE_REQ:
        idgw_tg_add(t, "operationId", "OP0123456789abcdef");
        idgw_tg_add(t, "packet", "0CA20123456789ABCDEF");
        break;
    case IDGW_TG_ERROR_RES:
        t->result = IDGW_TG_R_MALFORMED;
        t->result_message = "malformed telegram";
        break;
    default:
        break;
    }
    return t;
}

static idgw_telegram_t *round_trip(const idgw_telegram_t *t, char **wire, apr_size_t *len)
{
    idgw_tg_error_t err;
    idgw_telegram_t *back;

    ck_assert_msg(idgw_tg_build(pool, t, NULL, wire, len, &err) == 0, "%s: build: %s",
                  idgw_tg_type_name(t->type), err.msg);
    ck_assert_msg(idgw_tg_parse(pool, *wire, *len, &back, &err) == 0, "%s: parse: %s",
                  idgw_tg_type_name(t->type), err.msg);
    return back;
}

START_TEST(every_type_round_trips)
{
    idgw_tg_type_t type = (idgw_tg_type_t)_i;
    idgw_telegram_t *t = sample(type), *back;
    const idgw_tg_field_t *a, *b;
    char *wire;
    apr_size_t len;

    back = round_trip(t, &wire, &len);
    ck_assert_int_eq(back->type, type);
    ck_assert_str_eq(back->correlation_id, CORR);
    ck_assert_str_eq(back->terminal_type, "FP");
    ck_assert_str_eq(back->version, "1.0");
    ck_assert_ptr_nonnull(back->timestamp);
    ck_assert_int_eq(back->fields->nelts, t->fields->nelts);
    a = (const idgw_tg_field_t *)t->fields->elts;
    b = (const idgw_tg_field_t *)back->fields->elts;
    for (int i = 0; i < t->fields->nelts; i++) {
        ck_assert_str_eq(a[i].name, b[i].name);
        ck_assert_str_eq(a[i].value, b[i].value);
    }
    if (idgw_tg_is_response(type))
        ck_assert_str_eq(back->result, t->result);
    ck_assert_str_eq(back->encoding, idgw_tg_encoding(type));
    ck_assert_ptr_nonnull(strstr(wire, apr_psprintf(pool, "encoding=\"%s\"", idgw_tg_encoding(type))));
}
END_TEST

START_TEST(shift_jis_on_the_wire)
{
    idgw_telegram_t *t = sample(IDGW_TG_CARD_DOWNLOAD_RES), *back;
    char *wire;
    apr_size_t len;

    back = round_trip(t, &wire, &len);
    /* ヤマダ タロウ travels as Shift_JIS bytes, not UTF-8 or character references. */
    ck_assert_ptr_nonnull(memmem(wire, len, HOLDER_SJIS, strlen(HOLDER_SJIS)));
    ck_assert_ptr_null(memmem(wire, len, HOLDER, strlen(HOLDER)));
    ck_assert_ptr_null(strstr(wire, "&#"));
    ck_assert_str_eq(idgw_tg_get(back, "holderName"), HOLDER);
    ck_assert_str_eq(back->encoding, "Shift_JIS");
    t = sample(IDGW_TG_BRAND_DOWNLOAD_RES);
    back = round_trip(t, &wire, &len);
    ck_assert_str_eq(idgw_tg_get_nth(back, "message", 0), THANKS);
    ck_assert_str_eq(idgw_tg_get_nth(back, "message", 1), "second <message> & more");
    ck_assert_int_eq(idgw_tg_count(back, "message"), 2);
}
END_TEST

START_TEST(character_outside_shift_jis_survives)
{
    /* An emoji has no Shift_JIS code: libxml2 writes a character reference. */
    idgw_telegram_t *t = sample(IDGW_TG_BRAND_DOWNLOAD_RES), *back;
    char *wire;
    apr_size_t len;

    ((idgw_tg_field_t *)t->fields->elts)[4].value = "ok \xf0\x9f\x98\x80";
    back = round_trip(t, &wire, &len);
    ck_assert_str_eq(idgw_tg_get(back, "message"), "ok \xf0\x9f\x98\x80");
}
END_TEST

START_TEST(tilde_and_backslash_survive_shift_jis)
{
    /* Feature phones' Shift_JIS is code page 932: 0x7E and 0x5C are '~' and
     * '\\', so a password with them reaches the backend as typed. */
    idgw_telegram_t *t = sample(IDGW_TG_CARD_AUTH_REQ), *back;
    idgw_tg_error_t err;
    char *wire;
    apr_size_t len;

    ((idgw_tg_field_t *)t->fields->elts)[1].value = "p~ss\\word";
    back = round_trip(t, &wire, &len);
    ck_assert_str_eq(back->encoding, "Shift_JIS");
    ck_assert_ptr_nonnull(strstr(wire, "encoding=\"Shift_JIS\""));
    ck_assert_ptr_nonnull(memmem(wire, len, "p~ss\\word", 9));
    ck_assert_str_eq(idgw_tg_get(back, "password"), "p~ss\\word");
    /* A YEN SIGN would be written as 0x5C and read back as a backslash: the
     * build refuses rather than change what the backend sees. */
    t = sample(IDGW_TG_BRAND_DOWNLOAD_RES);
    ((idgw_tg_field_t *)t->fields->elts)[4].value = "1000\xc2\xa5";
    ck_assert_int_ne(idgw_tg_build(pool, t, NULL, &wire, &len, &err), 0);
    ck_assert_str_eq(err.result, IDGW_TG_R_MALFORMED);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot be carried"));
    ck_assert_int_eq(idgw_tg_build(pool, t, "UTF-8", &wire, &len, &err), 0);
}
END_TEST

START_TEST(utf8_for_felica_server_and_explicit_encoding)
{
    idgw_telegram_t *t = sample(IDGW_TG_CARD_DOWNLOAD_RES), *back;
    idgw_tg_error_t err;
    char *wire;
    apr_size_t len;

    ck_assert_int_eq(idgw_tg_build(pool, t, "UTF-8", &wire, &len, &err), 0);
    ck_assert_ptr_nonnull(memmem(wire, len, HOLDER, strlen(HOLDER)));
    ck_assert_int_eq(idgw_tg_parse(pool, wire, len, &back, &err), 0);
    ck_assert_str_eq(back->encoding, "UTF-8");
    ck_assert_str_eq(idgw_tg_encoding(IDGW_TG_FELICA_START_REQ), "UTF-8");
    ck_assert_str_eq(idgw_tg_content_type(pool, "Shift_JIS"), "application/xml; charset=Shift_JIS");
}
END_TEST

static void expect_parse_error(const char *xml, const char *result)
{
    idgw_telegram_t *t;
    idgw_tg_error_t err;

    ck_assert_msg(idgw_tg_parse(pool, xml, strlen(xml), &t, &err) == -1, "accepted: %s", xml);
    ck_assert_msg(strcmp(err.result, result) == 0, "result %s (%s), wanted %s for %s",
                  err.result, err.msg, result, xml);
}

#define HDR(type) "<header><type>" type "</type><correlationId>" CORR "</correlationId>" \
                  "<terminalType>FP</terminalType><timestamp>2026-11-22T10:00:00Z</timestamp>"
#define DOC(type, hdr_extra, body) "<?xml version=\"1.0\"?><fpTelegram version=\"1.0\">" HDR(type) \
                  hdr_extra "</header><body>" body "</body></fpTelegram>"
#define BRAND_BODY "<issuerCode>DCM</issuerCode>"

START_TEST(hostile_and_malformed_input)
{
    /* Sanity: the template itself is accepted. */
    idgw_telegram_t *t;
    idgw_tg_error_t err;
    const char *ok = DOC("BRAND_DOWNLOAD_REQ", "", BRAND_BODY);
    ck_assert_int_eq(idgw_tg_parse(pool, ok, strlen(ok), &t, &err), 0);

    expect_parse_error("", IDGW_TG_R_MALFORMED);
    expect_parse_error("<fpTelegram", IDGW_TG_R_MALFORMED);
    expect_parse_error("not xml at all", IDGW_TG_R_MALFORMED);
    /* truncated */
    expect_parse_error(apr_pstrndup(pool, ok, strlen(ok) - 10), IDGW_TG_R_MALFORMED);
    /* entity expansion ("billion laughs") and external entities: any DOCTYPE is refused */
    expect_parse_error("<?xml version=\"1.0\"?><!DOCTYPE fpTelegram [<!ENTITY a \"aaaa\">"
                       "<!ENTITY b \"&a;&a;&a;&a;\">]><fpTelegram version=\"1.0\">" HDR("BRAND_DOWNLOAD_REQ")
                       "</header><body><issuerCode>&b;</issuerCode></body></fpTelegram>",
                       IDGW_TG_R_MALFORMED);
    expect_parse_error("<?xml version=\"1.0\"?><!DOCTYPE fpTelegram [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                       "<fpTelegram version=\"1.0\">" HDR("BRAND_DOWNLOAD_REQ")
                       "</header><body><issuerCode>&x;</issuerCode></body></fpTelegram>",
                       IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("BRAND_DOWNLOAD_REQ", "", "<issuerCode>&undefined;</issuerCode>"),
                       IDGW_TG_R_MALFORMED);
    expect_parse_error("<?xml version=\"1.0\"?><other/>", IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("NO_SUCH_REQ", "", BRAND_BODY), IDGW_TG_R_UNKNOWN_TYPE);
    expect_parse_error("<?xml version=\"1.0\"?><fpTelegram version=\"2.0\">" HDR("BRAND_DOWNLOAD_REQ")
                       "</header><body>" BRAND_BODY "</body></fpTelegram>", IDGW_TG_R_VERSION);
    expect_parse_error("<?xml version=\"1.0\"?><fpTelegram version=\"1.0\"><header><type>BRAND_DOWNLOAD_REQ"
                       "</type><correlationId>bad id!</correlationId><terminalType>FP</terminalType>"
                       "<timestamp>2026-11-22T10:00:00Z</timestamp></header><body>" BRAND_BODY
                       "</body></fpTelegram>", IDGW_TG_R_CORRELATION);
    expect_parse_error(DOC("BRAND_DOWNLOAD_REQ", "", BRAND_BODY "<surprise>1</surprise>"),
                       IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("BRAND_DOWNLOAD_REQ", "", BRAND_BODY BRAND_BODY), IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("BRAND_DOWNLOAD_REQ", "", "<issuerCode a=\"1\">DCM</issuerCode>"),
                       IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("BRAND_DOWNLOAD_REQ", "", "<issuerCode><b>DCM</b></issuerCode>"),
                       IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("BRAND_DOWNLOAD_REQ", "", "stray text" BRAND_BODY), IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("BRAND_DOWNLOAD_REQ", "", ""), IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("BRAND_DOWNLOAD_REQ", "<result>0000</result>", BRAND_BODY),
                       IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("BRAND_DOWNLOAD_RES", "", BRAND_BODY), IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("CARD_DOWNLOAD_RES", "<result>0000</result>",
                           "<cardId>C1</cardId><issuerCode>DCM</issuerCode><pan>4980000000000007</pan>"
                           "<expiry>2811</expiry><holderName>A</holderName><brandVersion>1</brandVersion>"),
                       IDGW_TG_R_MALFORMED);   /* Luhn */
    expect_parse_error(DOC("CARD_DOWNLOAD_RES", "<result>0000</result>",
                           "<cardId>C1</cardId><issuerCode>DCM</issuerCode><pan>" PAN "</pan>"
                           "<expiry>2813</expiry><holderName>A</holderName><brandVersion>1</brandVersion>"),
                       IDGW_TG_R_MALFORMED);   /* month 13 */
    expect_parse_error(DOC("CARD_AUTH_RES", "<result>7777</result>", ""), IDGW_TG_R_MALFORMED);
    expect_parse_error(DOC("FELICA_EXCHANGE_REQ", "", "<operationId>OP0123456789abcdef</operationId>"
                           "<packet>0G</packet>"), IDGW_TG_R_MALFORMED);
    /* bytes that are not Shift_JIS under a Shift_JIS declaration */
    expect_parse_error("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><fpTelegram version=\"1.0\">"
                       HDR("BRAND_DOWNLOAD_REQ") "</header><body><issuerCode>\x81\x20</issuerCode>"
                       "</body></fpTelegram>", IDGW_TG_R_MALFORMED);
    expect_parse_error("<?xml version=\"1.0\" encoding=\"X-NO-SUCH\"?><fpTelegram/>", IDGW_TG_R_MALFORMED);
}
END_TEST

START_TEST(failed_response_may_omit_fields)
{
    idgw_telegram_t *req = sample(IDGW_TG_CARD_AUTH_REQ);
    idgw_telegram_t *res = idgw_tg_new_response(pool, req, IDGW_TG_R_AUTH_FAILED), *back;
    char *wire;
    apr_size_t len;

    res->result_message = idgw_tg_result_text(IDGW_TG_R_AUTH_FAILED);
    back = round_trip(res, &wire, &len);
    ck_assert_int_eq(back->type, IDGW_TG_CARD_AUTH_RES);
    ck_assert_str_eq(back->result, "2001");
    ck_assert_str_eq(back->result_message, "cardholder authentication failed");
    /* ...but a successful one may not. */
    res->result = IDGW_TG_R_OK;
    {
        idgw_tg_error_t err;
        ck_assert_int_eq(idgw_tg_build(pool, res, NULL, &wire, &len, &err), -1);
        ck_assert_str_eq(err.result, IDGW_TG_R_MALFORMED);
    }
}
END_TEST

START_TEST(delete_card_names_its_card)
{
    /* the FELICA_START_REQ conf.d/idgw-map.conf builds for delete_card: the
     * slot and the card expected there */
    idgw_telegram_t *t = idgw_tg_new(pool, IDGW_TG_FELICA_START_REQ, CORR), *back;
    idgw_tg_error_t err;
    char *wire;
    apr_size_t len;

    idgw_tg_add(t, "idm", "0123456789ABCDEF");
    idgw_tg_add(t, "operation", "DELETE_CARD");
    idgw_tg_add(t, "slot", "2");
    idgw_tg_add(t, "issuerCode", "DCM");
    idgw_tg_add(t, "pan", PAN);
    back = round_trip(t, &wire, &len);
    ck_assert_str_eq(idgw_tg_get(back, "operation"), "DELETE_CARD");
    ck_assert_str_eq(idgw_tg_get(back, "pan"), PAN);
    ck_assert_str_eq(idgw_tg_get(back, "issuerCode"), "DCM");
    /* a card number that fails Luhn names no card */
    t = idgw_tg_new(pool, IDGW_TG_FELICA_START_REQ, CORR);
    idgw_tg_add(t, "idm", "0123456789ABCDEF");
    idgw_tg_add(t, "operation", "DELETE_CARD");
    idgw_tg_add(t, "slot", "2");
    idgw_tg_add(t, "pan", "4980000000000007");
    ck_assert_int_eq(idgw_tg_validate(t, &err), -1);
    ck_assert_str_eq(err.result, IDGW_TG_R_MALFORMED);
}
END_TEST

START_TEST(oversize_refused_before_parsing)
{
    idgw_telegram_t *t;
    idgw_tg_error_t err;
    char *big = apr_palloc(pool, IDGW_TG_MAX_SIZE + 2);

    memset(big, ' ', IDGW_TG_MAX_SIZE + 1);
    big[IDGW_TG_MAX_SIZE + 1] = '\0';
    ck_assert_int_eq(idgw_tg_parse(pool, big, IDGW_TG_MAX_SIZE + 1, &t, &err), -1);
    ck_assert_str_eq(err.result, IDGW_TG_R_MALFORMED);
    ck_assert_ptr_nonnull(strstr(err.msg, "larger"));
}
END_TEST

START_TEST(type_properties)
{
    idgw_tg_type_t t;

    ck_assert_int_eq(idgw_tg_type_from_name("CARD_STORE_REQ", &t), 0);
    ck_assert_int_eq(t, IDGW_TG_CARD_STORE_REQ);
    ck_assert_int_eq(idgw_tg_response_of(t), IDGW_TG_CARD_STORE_RES);
    ck_assert_int_eq(idgw_tg_response_of(IDGW_TG_CARD_STORE_RES), IDGW_TG_ERROR_RES);
    ck_assert_int_eq(idgw_tg_type_from_name("card_store_req", &t), -1);
    ck_assert(idgw_tg_idempotent(IDGW_TG_CARD_DOWNLOAD_REQ));
    ck_assert(idgw_tg_idempotent(IDGW_TG_BRAND_DOWNLOAD_REQ));
    ck_assert(!idgw_tg_idempotent(IDGW_TG_CARD_WRITTEN_REQ));
    ck_assert(!idgw_tg_idempotent(IDGW_TG_FELICA_EXCHANGE_REQ));
    ck_assert(!idgw_tg_idempotent(IDGW_TG_CARD_AUTH_REQ));
    ck_assert_int_eq(idgw_tg_service(IDGW_TG_FELICA_START_REQ), IDGW_TG_SVC_FELICA);
    ck_assert_int_eq(idgw_tg_service(IDGW_TG_BRAND_DOWNLOAD_RES), IDGW_TG_SVC_BRAND);
    ck_assert(idgw_tg_luhn_ok(PAN));
    ck_assert(!idgw_tg_luhn_ok("4980000000000007"));
    ck_assert(!idgw_tg_luhn_ok("12345"));
    ck_assert(idgw_tg_correlation_ok(CORR));
    ck_assert(!idgw_tg_correlation_ok("short"));
    ck_assert_ptr_null(idgw_tg_result_text("5555"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("telegram");
    TCase *tc = tcase_create("codec");
    SRunner *sr;
    int failed;

    idgw_tg_init();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, every_type_round_trips, 0, IDGW_TG_TYPE_COUNT);
    tcase_add_test(tc, shift_jis_on_the_wire);
    tcase_add_test(tc, character_outside_shift_jis_survives);
    tcase_add_test(tc, tilde_and_backslash_survive_shift_jis);
    tcase_add_test(tc, utf8_for_felica_server_and_explicit_encoding);
    tcase_add_test(tc, hostile_and_malformed_input);
    tcase_add_test(tc, failed_response_may_omit_fields);
    tcase_add_test(tc, oversize_refused_before_parsing);
    tcase_add_test(tc, type_properties);
    tcase_add_test(tc, delete_card_names_its_card);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
