/* test_backend_config.c: the URL parser, the settings' ranges, merge and the
 * startup check of the backend client's configuration. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include "idgw_backend.h"

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

START_TEST(url_accepts)
{
    idgw_backend_url_t u;

    ck_assert_ptr_null(idgw_backend_parse_url(pool, "https://cremo.idgw.test:8441/fp/cremo", &u));
    ck_assert_int_eq(u.tls, 1);
    ck_assert_str_eq(u.host, "cremo.idgw.test");
    ck_assert_uint_eq(u.port, 8441);
    ck_assert_str_eq(u.path, "/fp/cremo");
    ck_assert_str_eq(u.host_header, "cremo.idgw.test:8441");
    ck_assert_ptr_null(idgw_backend_parse_url(pool, "http://127.0.0.1", &u));
    ck_assert_int_eq(u.tls, 0);
    ck_assert_uint_eq(u.port, 80);
    ck_assert_str_eq(u.path, "/");
    ck_assert_ptr_null(idgw_backend_parse_url(pool, "HTTPS://[::1]:8443/x?y=1", &u));
    ck_assert_str_eq(u.host, "::1");
    ck_assert_str_eq(u.host_header, "[::1]:8443");
    ck_assert_str_eq(u.path, "/x?y=1");
    ck_assert_ptr_null(idgw_backend_parse_url(pool, "https://[::1]", &u));
    ck_assert_uint_eq(u.port, 443);
}
END_TEST

START_TEST(url_rejects)
{
    static const char *bad[] = {
        "", "ftp://x/", "https://", "https://:8443/", "https://host:0/", "https://host:65536/",
        "https://host:12a/", "https://user@host/", "https://ho st/", "https://host/a b",
        "https://host/a#frag", "https://host/\r\nX: y", "https://[::1/", "https://[zz]/",
        "https://[::1]x/", "https://host:/", "http://h\x80st/",
    };
    idgw_backend_url_t u;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(idgw_backend_parse_url(pool, bad[i], &u) != NULL, "accepted '%s'", bad[i]);
    ck_assert_ptr_nonnull(idgw_backend_parse_url(pool, NULL, &u));
}
END_TEST

/* The backend's ranges over the common parsers (t/unit/common/test_conf_parse.c):
 * durations 1ms..1h, sizes 1..64m, counts per key. */
static const char *set(idgw_backend_conf_t *c, const char *key, const char *value)
{
    return idgw_backend_conf_set(pool, c, key, value);
}

START_TEST(durations)
{
    idgw_backend_conf_t c;

    idgw_backend_conf_init(&c, "cremo");
    ck_assert_ptr_null(set(&c, "io-timeout", "250ms"));
    ck_assert_int_eq(c.io_timeout, apr_time_from_msec(250));
    ck_assert_ptr_null(set(&c, "io-timeout", "3s"));
    ck_assert_int_eq(c.io_timeout, apr_time_from_sec(3));
    ck_assert_ptr_null(set(&c, "io-timeout", "7"));
    ck_assert_int_eq(c.io_timeout, apr_time_from_sec(7));
    ck_assert_ptr_null(set(&c, "io-timeout", "2m"));
    ck_assert_int_eq(c.io_timeout, apr_time_from_sec(120));
    ck_assert_ptr_null(set(&c, "io-timeout", "1h"));
    ck_assert_int_eq(c.io_timeout, apr_time_from_sec(3600));
    ck_assert_ptr_nonnull(set(&c, "io-timeout", "0ms"));
    ck_assert_ptr_nonnull(set(&c, "io-timeout", "61m"));
    ck_assert_ptr_nonnull(set(&c, "io-timeout", "-1s"));
    ck_assert_ptr_nonnull(set(&c, "io-timeout", "5 s"));
    ck_assert_ptr_nonnull(set(&c, "io-timeout", "9999999999s"));
    ck_assert_ptr_nonnull(set(&c, "io-timeout", "s"));
    ck_assert_str_eq(set(&c, "io-timeout", "61m"),
                     "io-timeout=61m: duration out of range (1ms..1h)");
    ck_assert_int_eq(c.io_timeout, apr_time_from_sec(3600));   /* unchanged */
}
END_TEST

START_TEST(sizes_and_counts)
{
    idgw_backend_conf_t c;

    idgw_backend_conf_init(&c, "cremo");
    ck_assert_ptr_null(set(&c, "max-response", "64k"));
    ck_assert_int_eq(c.max_response, 65536);
    ck_assert_ptr_null(set(&c, "max-response", "1M"));
    ck_assert_int_eq(c.max_response, 1048576);
    ck_assert_ptr_null(set(&c, "max-response", "100"));
    ck_assert_int_eq(c.max_response, 100);
    ck_assert_ptr_nonnull(set(&c, "max-response", "65m"));
    ck_assert_ptr_nonnull(set(&c, "max-response", "0"));
    ck_assert_ptr_nonnull(set(&c, "max-response", "1g"));
    ck_assert_ptr_null(set(&c, "pool-max", "16"));
    ck_assert_int_eq(c.pool_max, 16);
    ck_assert_ptr_nonnull(set(&c, "pool-max", "0"));
    ck_assert_ptr_nonnull(set(&c, "pool-max", "1025"));
    ck_assert_ptr_nonnull(set(&c, "pool-max", "1x"));
    ck_assert_ptr_nonnull(set(&c, "pool-max", ""));
    ck_assert_str_eq(set(&c, "pool-max", "1025"), "pool-max=1025: number out of range (1..1024)");
    ck_assert_int_eq(c.pool_max, 16);
}
END_TEST

START_TEST(merge_set_wins)
{
    idgw_backend_conf_t base, add, out;

    idgw_backend_conf_init(&base, "cremo");
    idgw_backend_conf_init(&add, NULL);
    ck_assert_ptr_null(idgw_backend_conf_set_url(pool, &base, "https://a.test/x"));
    base.io_timeout = apr_time_from_sec(9);
    base.pool_max = 4;
    add.io_timeout = apr_time_from_sec(2);
    add.ca_file = "/ca.pem";
    idgw_backend_conf_merge(&out, &base, &add);
    ck_assert_str_eq(out.name, "cremo");
    ck_assert_str_eq(out.url.host, "a.test");
    ck_assert_int_eq(out.io_timeout, apr_time_from_sec(2));
    ck_assert_int_eq(out.pool_max, 4);
    ck_assert_str_eq(out.ca_file, "/ca.pem");
    /* Defaults come from the getters, never stored. */
    ck_assert_int_eq(out.connect_timeout, IDGW_UNSET);
    ck_assert_int_eq(idgw_backend_conf_connect_timeout(&out), IDGW_BE_DEFAULT_CONNECT_TIMEOUT);
    ck_assert_int_eq(idgw_backend_conf_pool_keep(&out), 4);   /* capped by pool_max */
    ck_assert_int_eq(idgw_backend_conf_retries(&out), IDGW_BE_DEFAULT_RETRIES);
}
END_TEST

START_TEST(startup_check)
{
    idgw_backend_conf_t c;
    idgw_backend_error_t err;

    idgw_backend_conf_init(&c, "brand");
    ck_assert_ptr_nonnull(idgw_backend_conf_check(pool, &c));            /* no URL */
    ck_assert_ptr_null(idgw_backend_conf_set_url(pool, &c, "https://127.0.0.1:8443/"));
    ck_assert_ptr_nonnull(idgw_backend_conf_check(pool, &c));            /* no CA */
    c.ca_file = IDGW_SRCDIR "/configure.ac";
    ck_assert_ptr_null(idgw_backend_conf_check(pool, &c));
    c.cert_file = IDGW_SRCDIR "/configure.ac";
    ck_assert_ptr_nonnull(idgw_backend_conf_check(pool, &c));            /* cert without key */
    c.cert_file = NULL;
    c.ca_file = "/nonexistent/ca.pem";
    ck_assert_ptr_nonnull(idgw_backend_conf_check(pool, &c));
    ck_assert_ptr_null(idgw_backend_create(pool, &c, &err));
    ck_assert_int_eq(err.category, IDGW_BE_ERR_CONFIG);
    /* A CA file that is not PEM fails when the TLS context is built. */
    c.ca_file = IDGW_SRCDIR "/configure.ac";
    ck_assert_ptr_null(idgw_backend_create(pool, &c, &err));
    ck_assert_int_eq(err.category, IDGW_BE_ERR_CONFIG);
    idgw_backend_conf_init(&c, "plain");
    ck_assert_ptr_null(idgw_backend_conf_set_url(pool, &c, "http://127.0.0.1:8443/"));
    c.insecure = 1;
    ck_assert_ptr_null(idgw_backend_conf_check(pool, &c));
    c.pool_max = 2;
    c.pool_keep = 3;
    ck_assert_ptr_nonnull(idgw_backend_conf_check(pool, &c));
    c.pool_keep = 2;
    c.total_timeout = apr_time_from_msec(100);
    c.connect_timeout = apr_time_from_msec(200);
    ck_assert_ptr_nonnull(idgw_backend_conf_check(pool, &c));
    c.total_timeout = apr_time_from_sec(1);
    c.connect_timeout = apr_time_from_msec(200);
    c.pool_wait = apr_time_from_sec(2);
    ck_assert_ptr_nonnull(idgw_backend_conf_check(pool, &c));            /* waits past the total */
    c.pool_wait = IDGW_UNSET;
    c.ca_file = "/x";
    c.total_timeout = IDGW_UNSET;
    c.connect_timeout = IDGW_UNSET;
    ck_assert_ptr_nonnull(idgw_backend_conf_check(pool, &c));            /* TLS opts on http */
}
END_TEST

START_TEST(directive_keys)
{
    idgw_backend_conf_t c;

    idgw_backend_conf_init(&c, "felica");
    ck_assert_ptr_null(idgw_backend_conf_set_args(
        pool, &c, "url=https://127.0.0.1:8444/fp/felica ca=/pki/ca.crt "
                  "\"cert=/pki/gw client.crt\" key=/pki/gw.key tls-name=felica.idgw.test "
                  "connect-timeout=300ms io-timeout=2s total-timeout=10s idle-timeout=1m "
                  "pool-wait=500ms max-response=64k pool-max=8 pool-keep=4 retries=0"));
    ck_assert_str_eq(c.url.host, "127.0.0.1");
    ck_assert_uint_eq(c.url.port, 8444);
    ck_assert_str_eq(c.ca_file, "/pki/ca.crt");
    ck_assert_str_eq(c.cert_file, "/pki/gw client.crt");
    ck_assert_str_eq(c.tls_name, "felica.idgw.test");
    ck_assert_int_eq(c.connect_timeout, apr_time_from_msec(300));
    ck_assert_int_eq(c.idle_timeout, apr_time_from_sec(60));
    ck_assert_int_eq(c.max_response, 65536);
    ck_assert_int_eq(c.pool_max, 8);
    ck_assert_int_eq(c.pool_keep, 4);
    ck_assert_int_eq(c.retries, 0);
    ck_assert_ptr_nonnull(idgw_backend_conf_set(pool, &c, "retries", "6"));
    ck_assert_ptr_nonnull(idgw_backend_conf_set(pool, &c, "pool-max", "0"));
    ck_assert_ptr_nonnull(idgw_backend_conf_set(pool, &c, "tls-name", "bad name"));
    ck_assert_ptr_nonnull(idgw_backend_conf_set(pool, &c, "ca", ""));
    ck_assert_ptr_nonnull(idgw_backend_conf_set(pool, &c, "url", "gopher://x/"));
    ck_assert_ptr_nonnull(idgw_backend_conf_set(pool, &c, "colour", "blue"));
    ck_assert_ptr_nonnull(idgw_backend_conf_set_args(pool, &c, "io-timeout"));
    ck_assert_ptr_nonnull(idgw_backend_conf_set_args(pool, &c, "=5s"));
    /* A failed setting leaves the earlier value. */
    ck_assert_int_eq(c.retries, 0);
    ck_assert_int_eq(c.pool_max, 8);
}
END_TEST

/* A plain http:// backend would carry PAN, expiry and passwords in the
 * clear: refused unless marked insecure (tests only), with a clear message. */
START_TEST(plain_http_needs_insecure)
{
    idgw_backend_conf_t c, base, add;
    idgw_backend_error_t err;
    const char *msg;

    idgw_backend_conf_init(&c, "cremo");
    ck_assert_ptr_null(idgw_backend_conf_set_url(pool, &c, "http://127.0.0.1:8441/fp/cremo"));
    msg = idgw_backend_conf_check(pool, &c);
    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(strstr(msg, "cremo") && strstr(msg, "insecure") && strstr(msg, "clear"),
                  "message: %s", msg);
    ck_assert_ptr_null(idgw_backend_create(pool, &c, &err));
    ck_assert_int_eq(err.category, IDGW_BE_ERR_CONFIG);
    ck_assert_int_eq(idgw_backend_conf_insecure(&c), 0);
    /* the bare word, as IdgwConvertBackend writes it, and insecure=on */
    ck_assert_ptr_null(idgw_backend_conf_set_args(pool, &c, "insecure"));
    ck_assert_int_eq(idgw_backend_conf_insecure(&c), 1);
    ck_assert_ptr_null(idgw_backend_conf_check(pool, &c));
    ck_assert_ptr_nonnull(idgw_backend_create(pool, &c, &err));
    idgw_backend_conf_init(&c, "cremo");
    ck_assert_ptr_null(idgw_backend_conf_set(pool, &c, "insecure", "on"));
    ck_assert_int_eq(idgw_backend_conf_insecure(&c), 1);
    ck_assert_ptr_nonnull(idgw_backend_conf_set(pool, &c, "insecure", "off"));
    ck_assert_ptr_nonnull(idgw_backend_conf_set(pool, &c, "insecure", "yes please"));
    /* insecure on an https URL is a mistake, not a no-op */
    ck_assert_ptr_null(idgw_backend_conf_set_url(pool, &c, "https://127.0.0.1:8441/"));
    c.ca_file = IDGW_SRCDIR "/configure.ac";
    ck_assert_ptr_nonnull(idgw_backend_conf_check(pool, &c));
    /* merged like every setting: a vhost inherits it with the URL */
    idgw_backend_conf_init(&base, "dlc");
    idgw_backend_conf_init(&add, "dlc");
    ck_assert_ptr_null(idgw_backend_conf_set_args(pool, &base, "url=http://127.0.0.1/ insecure"));
    idgw_backend_conf_merge(&c, &base, &add);
    ck_assert_int_eq(idgw_backend_conf_insecure(&c), 1);
    ck_assert_ptr_null(idgw_backend_conf_check(pool, &c));
}
END_TEST

START_TEST(category_names_are_stable)
{
    ck_assert_str_eq(idgw_backend_category_name(IDGW_BE_ERR_TIMEOUT), "timeout");
    ck_assert_str_eq(idgw_backend_category_name(IDGW_BE_ERR_OVERSIZE), "oversize");
    ck_assert_str_eq(idgw_backend_category_logid(IDGW_BE_ERR_TLS), "IDGW-BE-0004");
    ck_assert_str_eq(idgw_backend_category_name((idgw_backend_category_t)99), "unknown");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backend_config");
    TCase *tc = tcase_create("config");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, url_accepts);
    tcase_add_test(tc, plain_http_needs_insecure);
    tcase_add_test(tc, url_rejects);
    tcase_add_test(tc, durations);
    tcase_add_test(tc, sizes_and_counts);
    tcase_add_test(tc, merge_set_wins);
    tcase_add_test(tc, startup_check);
    tcase_add_test(tc, directive_keys);
    tcase_add_test(tc, category_names_are_stable);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
