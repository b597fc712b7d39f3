/*
 * test_session_keys.c - tokens, session ids, key naming, digests, input
 * validation, XML error bodies, the address policy parser, stored answers.
 */
#include <check.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "idgw_session_call.h"
#include "idgw_session_keys.h"
#include "idgw_cluster_map.h"
#include "idgw_xml_error.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

START_TEST(tokens_are_random_hex)
{
    char a[IDGW_TOKEN_HEX + 1], b[IDGW_TOKEN_HEX + 1];

    ck_assert_int_eq(idgw_token_new(a), APR_SUCCESS);
    ck_assert_int_eq(idgw_token_new(b), APR_SUCCESS);
    ck_assert_uint_eq(strlen(a), 32);
    ck_assert(idgw_token_valid(a));
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(token_validation)
{
    ck_assert(idgw_token_valid("0123456789abcdef0123456789abcdef"));
    ck_assert(!idgw_token_valid("0123456789ABCDEF0123456789abcdef"));
    ck_assert(!idgw_token_valid("0123456789abcdef0123456789abcde"));
    ck_assert(!idgw_token_valid("0123456789abcdef0123456789abcdef0"));
    ck_assert(!idgw_token_valid("0123456789abcdef0123456789abcdeg"));
    ck_assert(!idgw_token_valid(""));
}
END_TEST

START_TEST(sid_is_hash_of_token)
{
    char sid[IDGW_SID_HEX + 1];

    /* SHA-256("0123456789abcdef0123456789abcdef") = 3eb1bd43...; first 128 bits */
    idgw_sid_from_token("0123456789abcdef0123456789abcdef", sid);
    ck_assert_str_eq(sid, "3eb1bd439947eb762998e566ccc2e099");
}
END_TEST

START_TEST(key_names)
{
    const char *sid = "3eb1bd439947eb762998e566ccc2e099";

    ck_assert_str_eq(idgw_key_session(pool, "idgw:", sid), "idgw:s:{3eb1bd439947eb762998e566ccc2e099}");
    ck_assert_str_eq(idgw_key_vault_operation(pool, "gw1:", sid),
                     "gw1:vo:{3eb1bd439947eb762998e566ccc2e099}");
    ck_assert_str_eq(idgw_key_vault_session(pool, "idgw:", sid),
                     "idgw:vs:{3eb1bd439947eb762998e566ccc2e099}");
    ck_assert_str_eq(idgw_key_strike_terminal(pool, "idgw:", "T-1"), "idgw:strike:t:T-1");
    ck_assert_str_eq(idgw_key_strike_address(pool, "idgw:", "::1"), "idgw:strike:a:::1");
}
END_TEST

/* Cluster layout: every key a session script touches lies in one slot,
 * the reaper's shard included; the strike counters have a slot each. */
START_TEST(cluster_key_layout)
{
    const char *sid = "3eb1bd439947eb762998e566ccc2e099";
    const char *keys[6];
    int i, slot;

    idgw_keys_cluster_layout(1);
    ck_assert_uint_eq(idgw_key_shard_of(sid), 0x3eb1 % IDGW_REAP_SHARDS);
    ck_assert_str_eq(idgw_key_tag(pool, sid), "177");
    ck_assert_str_eq(idgw_key_session(pool, "idgw:", sid),
                     "idgw:s:{177}:3eb1bd439947eb762998e566ccc2e099");
    keys[0] = idgw_key_session(pool, "idgw:", sid);
    keys[1] = idgw_key_vault_operation(pool, "idgw:", sid);
    keys[2] = idgw_key_vault_session(pool, "idgw:", sid);
    keys[3] = idgw_key_reap_set(pool, "idgw:", sid);
    keys[4] = idgw_key_reap_record(pool, "idgw:", sid);
    keys[5] = idgw_key_reap_shard(pool, "idgw:", idgw_key_shard_of(sid));
    ck_assert_str_eq(keys[3], "idgw:reap:{177}");
    ck_assert_str_eq(keys[3], keys[5]);
    slot = idgw_cluster_key_slot(keys[0], strlen(keys[0]));
    for (i = 1; i < 6; i++)
        ck_assert_int_eq(idgw_cluster_key_slot(keys[i], strlen(keys[i])), slot);
    ck_assert_str_eq(idgw_key_strike_terminal(pool, "idgw:", "T-1"), "idgw:strike:t:{T-1}");
    ck_assert_str_eq(idgw_key_strike_address(pool, "idgw:", "::1"), "idgw:strike:a:{::1}");
    /* not a session id (a strike without a session): shard 0 */
    ck_assert_uint_eq(idgw_key_shard_of("none"), 0);
    idgw_keys_cluster_layout(0);
    ck_assert_str_eq(idgw_key_reap_set(pool, "idgw:", sid), "idgw:reap");
    ck_assert_str_eq(idgw_key_reap_record(pool, "idgw:", sid),
                     "idgw:reap:{3eb1bd439947eb762998e566ccc2e099}");
}
END_TEST

START_TEST(prefix_validation)
{
    ck_assert(idgw_key_prefix_valid("idgw:"));
    ck_assert(idgw_key_prefix_valid("prod.idgw/"));
    ck_assert(!idgw_key_prefix_valid(""));
    ck_assert(!idgw_key_prefix_valid("a b"));
    ck_assert(!idgw_key_prefix_valid("a{b"));
    ck_assert(!idgw_key_prefix_valid("a}"));
    ck_assert(!idgw_key_prefix_valid("a\n"));
    ck_assert(!idgw_key_prefix_valid("0123456789012345678901234567890123456789012345678901234567890123x"));
}
END_TEST

START_TEST(binding_validation)
{
    char idm[IDGW_IDM_HEX + 1];

    ck_assert(idgw_terminal_id_valid("T-0001"));
    ck_assert(idgw_terminal_id_valid("imei:3512.34_x"));
    ck_assert(!idgw_terminal_id_valid(""));
    ck_assert(!idgw_terminal_id_valid("T 1"));
    ck_assert(!idgw_terminal_id_valid("T{1}"));
    ck_assert(!idgw_terminal_id_valid("0123456789012345678901234567890123456789012345678901234567890123x"));
    ck_assert(idgw_terminal_id_valid("0123456789012345678901234567890123456789012345678901234567890123"));
    ck_assert(idgw_idm_normalise("0123456789abcdef", idm));
    ck_assert_str_eq(idm, "0123456789ABCDEF");
    ck_assert(!idgw_idm_normalise("0123456789abcde", idm));
    ck_assert(!idgw_idm_normalise("0123456789abcdef0", idm));
    ck_assert(!idgw_idm_normalise("0123456789abcdeg", idm));
}
END_TEST

START_TEST(message_digest)
{
    char d1[IDGW_DIGEST_HEX + 1], d2[IDGW_DIGEST_HEX + 1];

    idgw_message_digest("add_card", "relay", "<x/>", 4, d1);
    ck_assert_str_eq(d1, "668343c078cda2d961b71bee26bda5ed70a0fdfda6661c81562ccf9d125545b3");
    /* the step is part of the message: same body on another step differs */
    idgw_message_digest("add_card", "complete", "<x/>", 4, d2);
    ck_assert_str_ne(d1, d2);
    idgw_message_digest("status", "none", NULL, 0, d2);
    ck_assert_str_eq(d2, "5daf0d748d0e9412e69c4b72c5c8bef5d7fa775164aa75db25752226ff39efc3");
}
END_TEST

START_TEST(xml_error_body)
{
    const char *b = idgw_xml_error_body(pool, "IDGW-SEQ-001", "a <b> & 'c'");
    int n, i;
    const idgw_error_def *const *cat = idgw_error_catalogue(&n);

    ck_assert_str_eq(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error><code>IDGW-SEQ-001"
                     "</code><message>a &lt;b&gt; &amp; &apos;c&apos;</message></error>\n");
    ck_assert_str_eq(idgw_xml_error_body(pool, "IDGW-ACL-001", NULL),
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error><code>IDGW-ACL-001"
                     "</code></error>\n");
    ck_assert_int_ge(n, 20);
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(strlen(cat[i]->code), 12);
        ck_assert(strncmp(cat[i]->code, "IDGW-", 5) == 0);
        ck_assert_int_ge(cat[i]->http_status, 400);
        ck_assert_ptr_eq(idgw_error_find(cat[i]->code), cat[i]);
    }
    ck_assert_ptr_eq(idgw_error_find("IDGW-SEQ-003"), &IDGW_E_SEQ_REPLAY);
    ck_assert_int_eq(IDGW_E_SEQ_ORDER.http_status, 409);
    ck_assert_int_eq(IDGW_E_SRV_REDIS.http_status, 503);
    ck_assert_ptr_null(idgw_error_find("IDGW-XXX-999"));
}
END_TEST

/* The parsers of durations, sizes, numbers and host:port are common's
 * (t/unit/common/test_conf_parse.c); the address policy is the session's. */
START_TEST(policy_parser)
{
    idgw_addr_policy pol;

    ck_assert_ptr_null(idgw_parse_addr_policy("Enforce", &pol));
    ck_assert_int_eq(pol, IDGW_ADDR_POLICY_ENFORCE);
    ck_assert_ptr_null(idgw_parse_addr_policy("off", &pol));
    ck_assert_int_eq(pol, IDGW_ADDR_POLICY_OFF);
    ck_assert_ptr_nonnull(idgw_parse_addr_policy("strict", &pol));
}
END_TEST

START_TEST(stored_answer_format)
{
    size_t len, body_len;
    int status;
    const char *ct, *body;
    const char *blob = idgw_answer_encode(pool, 200, "application/xml", "<a>\n1</a>", 9, &len);

    ck_assert_uint_eq(len, strlen("200 application/xml\n") + 9);
    ck_assert(idgw_answer_decode(pool, blob, len, &status, &ct, &body, &body_len));
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(ct, "application/xml");
    ck_assert_uint_eq(body_len, 9);
    ck_assert_mem_eq(body, "<a>\n1</a>", 9);
    ck_assert(!idgw_answer_decode(pool, "20 x\nb", 6, &status, &ct, &body, &body_len));
    ck_assert(!idgw_answer_decode(pool, "200 x", 5, &status, &ct, &body, &body_len));
    ck_assert(!idgw_answer_decode(pool, "999 x\n", 6, &status, &ct, &body, &body_len));
    ck_assert(idgw_vault_item_name_valid("card_pan"));
    ck_assert(!idgw_vault_item_name_valid("Card"));
    ck_assert(!idgw_vault_item_name_valid(""));
    ck_assert(!idgw_vault_item_name_valid("a:b"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("session_keys");
    TCase *tc = tcase_create("keys");
    SRunner *sr;
    int failed;

    apr_initialize();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, tokens_are_random_hex);
    tcase_add_test(tc, token_validation);
    tcase_add_test(tc, sid_is_hash_of_token);
    tcase_add_test(tc, key_names);
    tcase_add_test(tc, cluster_key_layout);
    tcase_add_test(tc, prefix_validation);
    tcase_add_test(tc, binding_validation);
    tcase_add_test(tc, message_digest);
    tcase_add_test(tc, xml_error_body);
    tcase_add_test(tc, policy_parser);
    tcase_add_test(tc, stored_answer_format);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
