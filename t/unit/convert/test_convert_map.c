/* test_convert_map.c: the shipped telegram mapping compiles and says what the
 * docs say; every kind of broken mapping is refused with its file and line. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "idgw_convert_map.h"
#include "idgw_convert_errors.h"
#include "felica_relay.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static const char *shipped(void)
{
    return apr_pstrcat(pool, IDGW_SRCDIR, "/conf.d/idgw-map.conf", NULL);
}

START_TEST(shipped_map_compiles)
{
    idgw_map *m = NULL;
    const char *err = idgw_map_load(pool, shipped(), &m);
    const apr_array_header_t *calls;
    const idgw_map_call *c;

    ck_assert_msg(err == NULL, "%s", err);
    /* add_card: auth, download, brand, then the chip write */
    calls = idgw_map_calls(m, IDGW_OP_ADD_CARD, IDGW_MAP_REQUEST);
    ck_assert_int_eq(calls->nelts, 4);
    c = &APR_ARRAY_IDX(calls, 0, idgw_map_call);
    ck_assert_int_eq(c->type, IDGW_TG_CARD_AUTH_REQ);
    ck_assert_int_eq(c->backend, IDGW_MAP_BE_CARD);
    c = &APR_ARRAY_IDX(calls, 3, idgw_map_call);
    ck_assert_int_eq(c->type, IDGW_TG_FELICA_START_REQ);
    ck_assert_int_eq(idgw_map_has_relay(m, IDGW_OP_ADD_CARD), 1);
    ck_assert_int_eq(idgw_map_has_relay(m, IDGW_OP_DISPLAY_DATA), 0);
    ck_assert_uint_eq(idgw_map_relay_classes(m, IDGW_OP_ADD_CARD),
                      FELICA_RELAY_AUTH | FELICA_RELAY_SECURE_RW);
    ck_assert_uint_eq(idgw_map_relay_classes(m, IDGW_OP_ISSUE_AREA),
                      FELICA_RELAY_AUTH | FELICA_RELAY_AREA_ADMIN);
    /* the list's display data comes once per issuer */
    calls = idgw_map_calls(m, IDGW_OP_LIST_CARDS, IDGW_MAP_COMPLETE);
    ck_assert_int_eq(calls->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(calls, 0, idgw_map_call).for_each, "issuers");
}
END_TEST

START_TEST(result_codes_per_operation)
{
    idgw_map *m = NULL;

    ck_assert_ptr_null(idgw_map_load(pool, shipped(), &m));
    ck_assert_ptr_eq(idgw_map_error_for(m, IDGW_OP_ADD_CARD, "2001"), &IDGW_E_CNV_AUTH);
    ck_assert_ptr_eq(idgw_map_error_for(m, IDGW_OP_ADD_CARD, "2002"), &IDGW_E_CNV_SUSPENDED);
    ck_assert_ptr_eq(idgw_map_error_for(m, IDGW_OP_ADD_CARD, "2003"), &IDGW_E_CNV_EXPIRED);
    /* the same chip refusal means a full chip for add_card, an issued area for issue_area */
    ck_assert_ptr_eq(idgw_map_error_for(m, IDGW_OP_ADD_CARD, "4004"), &IDGW_E_CNV_FULL);
    ck_assert_ptr_eq(idgw_map_error_for(m, IDGW_OP_ISSUE_AREA, "4004"), &IDGW_E_CNV_AREA_EXISTS);
    ck_assert_ptr_eq(idgw_map_error_for(m, IDGW_OP_LIST_CARDS, "4004"), &IDGW_E_CNV_CHIP_REFUSED);
    ck_assert_ptr_eq(idgw_map_error_for(m, IDGW_OP_ADD_CARD, "9001"), &IDGW_E_CNV_BACKEND);
}
END_TEST

/* A small valid map: every chip operation needs its FeliCa start. */
static const char *base_map(const char *extra)
{
    static const char *const ops[] = { "issue_area", "delete_area", "add_card", "update_card",
                                       "delete_card", "set_main", "list_cards", "store_card",
                                       "restore_card" };
    char *s = apr_pstrdup(pool, "version 1\ndefault IDGW-CNV-020\n");

    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        s = apr_psprintf(pool, "%srelay %s auth,secure_rw\n"
                         "call %s request FELICA_START_REQ felica idm=req.idm operation='READ_CARDS'\n",
                         s, ops[i], ops[i]);
    return apr_pstrcat(pool, s, extra, NULL);
}

static const char *compile(const char *text)
{
    idgw_map *m;

    return idgw_map_parse(pool, "t.map", text, strlen(text), &m);
}

START_TEST(minimal_map_compiles)
{
    const char *err = compile(base_map(""));

    ck_assert_msg(err == NULL, "%s", err);
}
END_TEST

START_TEST(broken_maps_are_refused)
{
    static const struct { const char *text; const char *expect; } cases[] = {
        { "", "no 'version 1'" },
        { "version 2\n", "t.map:1: version" },
        { "call add_card request CARD_AUTH_REQ card\n", "t.map:1:" },
        /* unknown statement, operation, stage, telegram, backend */
        { "@version 1\nfrobnicate\n", "unknown statement frobnicate" },
        { "@version 1\ncall fly request CARD_AUTH_REQ card\n", "'fly' is not an operation" },
        { "@version 1\ncall display_data later CARD_AUTH_REQ card\n", "unknown stage later" },
        { "@version 1\ncall display_data request CARD_AUTH_RES card\n", "CARD_AUTH_RES is not a request" },
        { "@version 1\ncall display_data request NO_SUCH_REQ card\n", "NO_SUCH_REQ is not a request" },
        { "@version 1\ncall display_data request CARD_AUTH_REQ bank\n", "unknown backend bank" },
        { "@version 1\ncall display_data request CARD_AUTH_REQ brand\n", "does not serve" },
        /* sources */
        { "@version 1\ncall display_data request CARD_AUTH_REQ card memberId=req.pan\n",
          "unknown request value req.pan" },
        { "@version 1\ncall display_data request CARD_AUTH_REQ card authTicket=ctx.ticket\n",
          "ctx.ticket is not captured" },
        { "@version 1\ncall display_data request CARD_AUTH_REQ card memberId='a b'\n", "t.map:" },
        { "@version 1\ncall display_data request CARD_AUTH_REQ card memberId='x\n", "bad literal" },
        { "@version 1\ncall display_data request CARD_AUTH_REQ card memberId\n", "expected FIELD=SOURCE" },
        { "@version 1\ncall display_data request CARD_AUTH_REQ card memberId=item\n", "outside a for=" },
        { "@version 1\ncall add_card complete CARD_WRITTEN_REQ card x=req.password\n",
          "only in the request stage" },
        /* ordering and shape of the chip work */
        { "@version 1\ncall add_card complete FELICA_START_REQ felica\n", "belongs to a request stage" },
        { "@version 1\ncall add_card request FELICA_START_REQ felica idm=req.idm operation='WRITE_CARD'\n"
          "call add_card request CARD_AUTH_REQ card\n", "nothing may follow FELICA_START_REQ" },
        { "@version 1\ndone display_data a:b\n", "does not start a chip relay" },
        { "@version 1\ncall add_card request FELICA_EXCHANGE_REQ felica\n", "not a request telegram" },
        /* results */
        { "@version 1\nresult 0000 IDGW-CNV-020\n", "0000 is not a known failure" },
        { "@version 1\nresult 2001 IDGW-CNV-999\n", "unknown error code IDGW-CNV-999" },
        { "@version 1\nresult 2001 IDGW-CNV-010\nresult 2001 IDGW-CNV-011\n", "mapped twice" },
        { "@version 1\nresult 2001 IDGW-CNV-010 fly\n", "'fly' is not an operation" },
        { "@version 1\nrelay display_data teleport\n", "unknown chip command class teleport" },
        { "@version 1\nrelay add_card auth\nrelay add_card auth\n", "given twice" },
        /* identity: a card source's login proves one user, named by one field */
        { "@version 1\nidentity CARD_AUTH_REQ user\n", "expected identity <TYPE> user <FIELD>" },
        { "@version 1\nidentity CARD_AUTH_RES user memberId\n", "not a card source's request" },
        { "@version 1\nidentity BRAND_DOWNLOAD_REQ user issuerCode\n",
          "not a card source's request" },
        { "@version 1\nidentity FELICA_START_REQ user idm\n", "not a card source's request" },
        { "@version 1\nidentity CARD_AUTH_REQ terminal memberId\n", "only user is proven" },
        { "@version 1\nidentity CARD_AUTH_REQ user member\n", "CARD_AUTH_REQ has no field member" },
        { "@version 1\nidentity CARD_AUTH_REQ user password\n", "no secret may be an identity" },
        { "@version 1\nidentity CARD_AUTH_REQ user memberId\nidentity CARD_AUTH_REQ user memberId\n",
          "identity of CARD_AUTH_REQ given twice" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *text = cases[i].text;
        const char *err;

        /* '@' marks a case checked after the base map, so only its own line is wrong */
        if (text[0] == '@')
            text = apr_pstrcat(pool, base_map(""), text + 11, NULL);
        err = compile(text);
        ck_assert_msg(err != NULL, "case %zu accepted", i);
        ck_assert_msg(strstr(err, cases[i].expect) != NULL, "case %zu: %s", i, err);
        ck_assert_msg(strncmp(err, "t.map:", 6) == 0, "case %zu names no file: %s", i, err);
    }
}
END_TEST

/* Which answer proves a user is data: the shipped map names CARD_AUTH_REQ's
 * memberId, nothing else proves one, and a map may say so for another login. */
START_TEST(identity_lines)
{
    const char *text;
    idgw_map *m = NULL;
    const char *err = idgw_map_load(pool, shipped(), &m);

    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_str_eq(idgw_map_identity(m, IDGW_TG_CARD_AUTH_REQ), "memberId");
    for (int t = 0; t < IDGW_TG_TYPE_COUNT; t++)
        if (t != IDGW_TG_CARD_AUTH_REQ)
            ck_assert_ptr_null(idgw_map_identity(m, (idgw_tg_type_t)t));
    ck_assert_ptr_null(idgw_map_identity(m, IDGW_TG_TYPE_COUNT));
    ck_assert_ptr_null(idgw_map_identity(m, (idgw_tg_type_t)-1));

    err = compile(apr_pstrcat(pool, base_map(""), "identity CARD_STORE_REQ user cardId\n", NULL));
    ck_assert_msg(err == NULL, "%s", err);
    text = apr_pstrcat(pool, base_map(""), "identity CARD_AUTH_REQ user memberId # login\n", NULL);
    m = NULL;
    err = idgw_map_parse(pool, "t.map", text, strlen(text), &m);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_str_eq(idgw_map_identity(m, IDGW_TG_CARD_AUTH_REQ), "memberId");
    /* without an identity line nothing is proven */
    ck_assert_int_eq(compile(base_map("")) == NULL, 1);
}
END_TEST

START_TEST(missing_pieces_are_refused)
{
    const char *err;

    /* no default, no relay line, no start for a chip operation */
    err = compile("version 1\n");
    ck_assert_ptr_nonnull(strstr(err, "no 'default'"));
    err = compile(apr_pstrcat(pool, "version 1\ndefault IDGW-CNV-020\n", NULL));
    ck_assert_ptr_nonnull(strstr(err, "has no FELICA_START_REQ"));
    err = compile(apr_pstrcat(pool, base_map(""),
                              "call display_data request FELICA_START_REQ felica idm=req.idm "
                              "operation='READ_CARDS'\n", NULL));
    ck_assert_ptr_nonnull(strstr(err, "no chip relay step"));
    err = idgw_map_load(pool, "/nonexistent/idgw-map.conf", &(idgw_map *){ NULL });
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
    err = idgw_map_parse(pool, "bin", "version 1\0x", 11, &(idgw_map *){ NULL });
    ck_assert_ptr_nonnull(strstr(err, "binary"));
}
END_TEST

START_TEST(line_numbers_and_captures)
{
    const char *text = apr_pstrcat(pool, base_map(""),
        "# a comment line\n\n"
        "call add_card complete CARD_WRITTEN_REQ card authTicket=ctx.nothing\n", NULL);
    const char *err = compile(text);
    idgw_map *m;

    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "t.map:23:"));
    /* a capture makes the name usable later in the operation, and only there */
    text = apr_pstrcat(pool, "version 1\ndefault IDGW-CNV-020\n",
        "call display_data request BRAND_DOWNLOAD_REQ brand issuerCode=req.issuer > issuerName:n\n",
        NULL);
    ck_assert_ptr_nonnull(strstr(compile(text), "has no FELICA_START_REQ"));
    text = apr_pstrcat(pool, base_map(""),
        "call display_data request BRAND_DOWNLOAD_REQ brand issuerCode=req.issuer|'DCM' > message*:m\n",
        NULL);
    ck_assert_ptr_null(idgw_map_parse(pool, "t.map", text, strlen(text), &m));
    {
        const idgw_map_call *c = &APR_ARRAY_IDX(idgw_map_calls(m, IDGW_OP_DISPLAY_DATA,
                                                               IDGW_MAP_REQUEST), 0, idgw_map_call);
        const idgw_map_assign *a = &APR_ARRAY_IDX(c->assigns, 0, idgw_map_assign);
        const idgw_map_capture *cap = &APR_ARRAY_IDX(c->captures, 0, idgw_map_capture);

        ck_assert_int_eq(a->nalts, 2);
        ck_assert_int_eq(a->alts[1].kind, IDGW_MAP_SRC_LITERAL);
        ck_assert_str_eq(a->alts[1].name, "DCM");
        ck_assert_int_eq(cap->all, 1);
        ck_assert_str_eq(cap->res_field, "message");
    }
    text = apr_pstrcat(pool, base_map(""),
        "call set_main complete CARD_WRITTEN_REQ card authTicket=ctx.m\n", NULL);
    ck_assert_ptr_nonnull(strstr(compile(text), "ctx.m is not captured"));
}
END_TEST

/* The telegram schema (idgw_telegram_schema.c) is the judge of field names,
 * required fields and literal values: a mistake stops the start with its line. */
START_TEST(map_checked_against_telegram_schema)
{
    static const char auth[] = "call display_data request CARD_AUTH_REQ card memberId=req.member "
                               "password=req.password issuerCode=req.issuer";
    static const struct { const char *line; const char *expect; } cases[] = {
        /* a misspelt or foreign field in an assignment */
        { "call display_data request BRAND_DOWNLOAD_REQ brand issuerCode=req.issuer knownVersoin='1'",
          "BRAND_DOWNLOAD_REQ has no field knownVersoin" },
        { "call display_data request BRAND_DOWNLOAD_REQ brand issuerCode=req.issuer pan=req.cardId",
          "BRAND_DOWNLOAD_REQ has no field pan" },
        /* a required field left out */
        { "call display_data request CARD_AUTH_REQ card memberId=req.member issuerCode='DCM'",
          "CARD_AUTH_REQ requires field password" },
        { "call display_data request BRAND_DOWNLOAD_REQ brand knownVersion='3'",
          "BRAND_DOWNLOAD_REQ requires field issuerCode" },
        /* a field the schema allows once, filled twice */
        { "call display_data request BRAND_DOWNLOAD_REQ brand issuerCode=req.issuer issuerCode='DCM'",
          "field issuerCode filled 2 times, BRAND_DOWNLOAD_REQ allows 1" },
        /* a literal the schema would refuse at the first request */
        { "call display_data request BRAND_DOWNLOAD_REQ brand issuerCode='D'",
          "'D' is not a valid issuerCode of BRAND_DOWNLOAD_REQ (alnum)" },
        { "call display_data request BRAND_DOWNLOAD_REQ brand issuerCode=req.issuer knownVersion='v1'",
          "not a valid knownVersion" },
        /* a capture of a field the answer does not have */
        { "call display_data request BRAND_DOWNLOAD_REQ brand issuerCode=req.issuer > logoo:logo",
          "BRAND_DOWNLOAD_RES has no field logoo" },
        { "call display_data request BRAND_DOWNLOAD_REQ brand issuerCode=req.issuer > authTicket:t",
          "BRAND_DOWNLOAD_RES has no field authTicket" },
    };
    const char *err;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err = compile(apr_pstrcat(pool, base_map(""), cases[i].line, "\n", NULL));
        ck_assert_msg(err != NULL, "case %zu accepted", i);
        /* the base map has 20 lines: the bad one is the 21st */
        ck_assert_msg(strncmp(err, "t.map:21: ", 10) == 0, "case %zu: %s", i, err);
        ck_assert_msg(strstr(err, cases[i].expect) != NULL, "case %zu: %s", i, err);
    }
    /* an enum literal outside its values names them */
    err = compile(apr_pstrcat(pool, base_map(""), "call display_data request CARD_WRITTEN_REQ card "
                              "authTicket=req.member cardId=req.cardId idm=req.idm slot='3' "
                              "writeResult='OK'\n", NULL));
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "'3' is not a valid slot of CARD_WRITTEN_REQ (enum: 1|2)"), "%s", err);
    /* FELICA_START_REQ needs its operation, and the operation must be one the server knows */
    err = compile(apr_pstrcat(pool, "version 1\ndefault IDGW-CNV-020\n"
                              "call issue_area request FELICA_START_REQ felica idm=req.idm\n", NULL));
    ck_assert_ptr_nonnull(strstr(err, "t.map:3: FELICA_START_REQ requires field operation"));
    err = compile(apr_pstrcat(pool, "version 1\ndefault IDGW-CNV-020\n"
                              "call issue_area request FELICA_START_REQ felica idm=req.idm "
                              "operation='ISSUE'\n", NULL));
    ck_assert_ptr_nonnull(strstr(err, "t.map:3: 'ISSUE' is not a valid operation"));
    /* done reads the FeliCa server's START or EXCHANGE answer */
    err = compile(apr_pstrcat(pool, base_map(""), "done set_main cardSlott:slot\n", NULL));
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "t.map:21: FELICA_EXCHANGE_RES has no field cardSlott"), "%s", err);
    ck_assert_ptr_null(compile(apr_pstrcat(pool, base_map(""),
                                           "done set_main cardSlot:slot operationId:op\n", NULL)));
    /* required fields, literals and captures that fit pass; so do alternatives */
    ck_assert_ptr_null(compile(apr_pstrcat(pool, base_map(""), auth,
                                           "|'DCM' > authTicket:ticket cardId*:cards\n", NULL)));
    /* ctx.chipWrite is the engine's, for the abort stage only */
    ck_assert_ptr_null(compile(apr_pstrcat(pool, base_map(""), "call set_main abort CARD_WRITTEN_REQ "
                                           "card authTicket=req.member cardId=req.cardId idm=req.idm "
                                           "slot='1' writeResult=ctx.chipWrite\n", NULL)));
    err = compile(apr_pstrcat(pool, base_map(""), "call set_main complete CARD_WRITTEN_REQ "
                              "card authTicket=req.member cardId=req.cardId idm=req.idm "
                              "slot='1' writeResult=ctx.chipWrite\n", NULL));
    ck_assert_ptr_nonnull(strstr(err, "t.map:21: ctx.chipWrite is not captured"));
    /* a response's fields are not a request's */
    err = compile(apr_pstrcat(pool, base_map(""), auth, " authTicket='abcdefghijklmnop'\n", NULL));
    ck_assert_ptr_nonnull(strstr(err, "CARD_AUTH_REQ has no field authTicket"));
}
END_TEST

START_TEST(schema_lookup)
{
    const idgw_tg_field_spec_t *f;
    int required = 0, n;

    f = idgw_tg_field_spec(IDGW_TG_CARD_AUTH_REQ, "password");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->kind, IDGW_TG_K_ASCII);
    ck_assert_int_eq(f->min_occurs, 1);
    ck_assert_ptr_null(idgw_tg_field_spec(IDGW_TG_CARD_AUTH_REQ, "authTicket"));
    ck_assert_ptr_null(idgw_tg_field_spec(IDGW_TG_TYPE_COUNT, "password"));
    ck_assert_ptr_null(idgw_tg_field_spec(IDGW_TG_CARD_AUTH_REQ, NULL));
    f = idgw_tg_field_spec(IDGW_TG_BRAND_DOWNLOAD_REQ, "knownVersion");
    ck_assert_int_eq(f->min_occurs, 0);
    ck_assert_str_eq(idgw_tg_kind_name(f->kind), "digits");
    /* walking the schema: CARD_WRITTEN_REQ has five fields, all required */
    for (n = 0; (f = idgw_tg_field_spec_at(IDGW_TG_CARD_WRITTEN_REQ, n)); n++)
        required += f->min_occurs >= 1;
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(required, 5);
    ck_assert_ptr_null(idgw_tg_field_spec_at(IDGW_TG_CARD_WRITTEN_RES, 0));
    ck_assert_ptr_null(idgw_tg_field_spec_at(IDGW_TG_CARD_WRITTEN_REQ, -1));
    f = idgw_tg_field_spec(IDGW_TG_FELICA_START_REQ, "operation");
    ck_assert_int_eq(idgw_tg_field_value_ok(f, "WRITE_CARD"), 1);
    ck_assert_int_eq(idgw_tg_field_value_ok(f, "WRITE"), 0);
    ck_assert_int_eq(idgw_tg_field_value_ok(f, NULL), 0);
    f = idgw_tg_field_spec(IDGW_TG_CARD_DOWNLOAD_RES, "expiry");
    ck_assert_int_eq(idgw_tg_field_value_ok(f, "2812"), 1);
    ck_assert_int_eq(idgw_tg_field_value_ok(f, "2813"), 0);
}
END_TEST

START_TEST(error_catalogue)
{
    int n, i, j;
    const idgw_error_def *const *cat = idgw_convert_error_catalogue(&n);

    ck_assert_int_ge(n, 20);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(strncmp(cat[i]->code, "IDGW-CNV-", 9), 0);
        ck_assert_int_ge(cat[i]->http_status, 400);
        ck_assert_int_le(cat[i]->http_status, 599);
        ck_assert_ptr_eq(idgw_convert_error_find(cat[i]->code), cat[i]);
        for (j = 0; j < i; j++)
            ck_assert_str_ne(cat[i]->code, cat[j]->code);
    }
    ck_assert_ptr_null(idgw_convert_error_find("IDGW-SEQ-001"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("convert_map");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    apr_initialize();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, shipped_map_compiles);
    tcase_add_test(tc, result_codes_per_operation);
    tcase_add_test(tc, minimal_map_compiles);
    tcase_add_test(tc, broken_maps_are_refused);
    tcase_add_test(tc, missing_pieces_are_refused);
    tcase_add_test(tc, identity_lines);
    tcase_add_test(tc, line_numbers_and_captures);
    tcase_add_test(tc, map_checked_against_telegram_schema);
    tcase_add_test(tc, schema_lookup);
    tcase_add_test(tc, error_catalogue);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
