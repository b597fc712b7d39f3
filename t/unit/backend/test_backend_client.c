/* test_backend_client.c: the backend client against an in-process server
 * (backend_test_server.c) whose faults are exact: keep-alive, stale idle
 * connections, refused, timeouts, resets, oversize, chunked, TLS failures,
 * retries only for idempotent telegrams. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "idgw_backend.h"
#include "backend_test_server.h"

#define REFUSED_PORT 8479

static char pki[256];
static apr_pool_t *pool;
static test_server_t srv;

static const char *pki_file(const char *name)
{
    return apr_pstrcat(pool, pki, "/", name, NULL);
}

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    memset(&srv, 0, sizeof(srv));
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

static void start_server(int tls, ts_mode_t mode)
{
    srv.tls = tls;
    srv.mode = mode;
    srv.require_client_cert = tls;
    srv.cert_file = pki_file("cremo.crt");
    srv.key_file = pki_file("cremo.key");
    srv.ca_file = pki_file("ca.crt");
    ck_assert_int_eq(ts_start(&srv), 0);
}

/* A configuration for the test server, TLS with the gateway's client certificate. */
static void make_conf(idgw_backend_conf_t *conf, int tls, int port)
{
    idgw_backend_conf_init(conf, "testbe");
    ck_assert_ptr_null(idgw_backend_conf_set_url(
        pool, conf, apr_psprintf(pool, "%s://127.0.0.1:%d/telegram", tls ? "https" : "http", port)));
    conf->insecure = tls ? IDGW_UNSET : 1;
    if (tls) {
        conf->ca_file = pki_file("ca.crt");
        conf->cert_file = pki_file("gateway-client.crt");
        conf->key_file = pki_file("gateway-client.key");
    }
    conf->connect_timeout = apr_time_from_msec(500);
    conf->io_timeout = apr_time_from_msec(1000);
    conf->total_timeout = apr_time_from_sec(5);
}

static idgw_backend_t *make_backend(const idgw_backend_conf_t *conf)
{
    idgw_backend_error_t err;
    idgw_backend_t *be = idgw_backend_create(pool, conf, &err);

    ck_assert_msg(be != NULL, "create: %s", err.msg);
    ck_assert_int_eq(idgw_backend_child_init(be, pool, &err), 0);
    return be;
}

static idgw_backend_category_t call(idgw_backend_t *be, const char *body, int idempotent,
                                    idgw_backend_response_t *resp, idgw_backend_error_t *err)
{
    idgw_backend_request_t req = {0};

    req.content_type = "application/xml; charset=Shift_JIS";
    req.correlation_id = "corr-0123456789abcdef";
    req.body = body;
    req.body_len = strlen(body);
    req.idempotent = idempotent;
    return idgw_backend_call(be, pool, &req, resp, err);
}

static void one_echo_test(int tls)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    start_server(tls, TS_ECHO);
    make_conf(&conf, tls, srv.port);
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "hello", 0, &resp, &err), IDGW_BE_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_uint_eq(resp.body_len, 10);
    ck_assert_str_eq(resp.body, "echo:hello");
    ck_assert_str_eq(resp.content_type, "text/plain; charset=UTF-8");
    ck_assert_int_eq(err.attempts, 1);
    ts_stop(&srv);
    ck_assert_str_eq(srv.last_correlation, "corr-0123456789abcdef");
}

START_TEST(happy_path_plain)
{
    one_echo_test(0);
}
END_TEST

START_TEST(happy_path_tls)
{
    one_echo_test(1);
}
END_TEST

START_TEST(keepalive_reuse_and_tls_resumption)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_stats_t st;
    idgw_backend_t *be;

    start_server(1, TS_ECHO);
    make_conf(&conf, 1, srv.port);
    be = make_backend(&conf);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(call(be, "k", 0, &resp, &err), IDGW_BE_OK);
        ck_assert_str_eq(resp.body, "echo:k");
    }
    ck_assert_int_eq(ts_get(&srv, &srv.accepted), 1);
    ck_assert_int_eq(ts_get(&srv, &srv.requests), 3);
    idgw_backend_get_stats(be, &st);
    ck_assert_uint_eq(st.connects, 1);
    ck_assert_uint_eq(st.reuses, 2);
    /* The server now closes each connection: the next handshake resumes. */
    srv.mode = TS_CONN_CLOSE;
    ck_assert_int_eq(call(be, "a", 0, &resp, &err), IDGW_BE_OK);
    ck_assert_int_eq(call(be, "b", 0, &resp, &err), IDGW_BE_OK);
    ck_assert_str_eq(resp.body, "echo:b");
    idgw_backend_get_stats(be, &st);
    ck_assert_uint_eq(st.connects, 2);
    ck_assert_uint_ge(st.tls_resumed, 1);
    ts_stop(&srv);
}
END_TEST

START_TEST(backend_closes_idle_connection)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_stats_t st;
    idgw_backend_t *be;
    int tls = _i;

    start_server(tls, TS_CLOSE_AFTER);
    make_conf(&conf, tls, srv.port);
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "one", 0, &resp, &err), IDGW_BE_OK);
    usleep(100000);   /* the server's FIN (or close_notify) arrives */
    /* Not idempotent: it must succeed without any retry, on a new connection. */
    ck_assert_int_eq(call(be, "two", 0, &resp, &err), IDGW_BE_OK);
    ck_assert_str_eq(resp.body, "echo:two");
    ck_assert_int_eq(err.attempts, 1);
    idgw_backend_get_stats(be, &st);
    ck_assert_uint_eq(st.stale, 1);
    ck_assert_uint_eq(st.connects, 2);
    ck_assert_uint_eq(st.reuses, 0);
    ts_stop(&srv);
    ck_assert_int_eq(srv.requests, 2);
}
END_TEST

START_TEST(connection_refused)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    make_conf(&conf, 0, REFUSED_PORT);
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "x", 1, &resp, &err), IDGW_BE_ERR_CONNECT);
    ck_assert_str_eq(idgw_backend_category_name(err.category), "connect");
    ck_assert_str_eq(idgw_backend_category_logid(err.category), "IDGW-BE-0002");
    /* Idempotent: tried again once (the default), then gave up. */
    ck_assert_int_eq(err.attempts, 2);
    ck_assert_ptr_nonnull(strstr(err.msg, "8479"));
}
END_TEST

START_TEST(io_timeout_is_bounded)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;
    apr_time_t t0;
    apr_interval_time_t took;

    srv.delay_ms = 3000;
    start_server(_i, TS_SLOW);
    make_conf(&conf, _i, srv.port);
    conf.io_timeout = apr_time_from_msec(300);
    be = make_backend(&conf);
    t0 = apr_time_now();
    ck_assert_int_eq(call(be, "slow", 0, &resp, &err), IDGW_BE_ERR_TIMEOUT);
    took = apr_time_now() - t0;
    ck_assert_msg(took >= apr_time_from_msec(250) && took < apr_time_from_msec(1500),
                  "took %ld us", (long)took);
    ts_stop(&srv);
}
END_TEST

START_TEST(total_timeout_bounds_retries)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;
    apr_time_t t0;
    apr_interval_time_t took;

    srv.delay_ms = 3000;
    start_server(0, TS_SLOW);
    make_conf(&conf, 0, srv.port);
    conf.io_timeout = apr_time_from_msec(400);
    conf.total_timeout = apr_time_from_msec(600);
    conf.connect_timeout = apr_time_from_msec(300);
    conf.retries = 3;
    be = make_backend(&conf);
    t0 = apr_time_now();
    ck_assert_int_eq(call(be, "slow", 1, &resp, &err), IDGW_BE_ERR_TIMEOUT);
    took = apr_time_now() - t0;
    ck_assert_msg(took < apr_time_from_msec(1500), "took %ld us", (long)took);
    ts_stop(&srv);
}
END_TEST

START_TEST(reset_mid_body)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_stats_t st;
    idgw_backend_t *be;

    start_server(_i, TS_RESET_MID_BODY);
    make_conf(&conf, _i, srv.port);
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "r", 0, &resp, &err), IDGW_BE_ERR_PROTOCOL);
    ck_assert_int_eq(err.attempts, 1);
    ck_assert_int_eq(resp.status, 0);
    ck_assert_ptr_null(resp.body);
    idgw_backend_get_stats(be, &st);
    ck_assert_uint_eq(st.invalidated, 1);
    ts_stop(&srv);
}
END_TEST

START_TEST(oversize_content_length)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    start_server(0, _i ? TS_OVERSIZE_CHUNKED : TS_OVERSIZE);
    make_conf(&conf, 0, srv.port);
    conf.max_response = 8192;
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "big", 1, &resp, &err), IDGW_BE_ERR_OVERSIZE);
    ck_assert_int_eq(err.attempts, 1);   /* an oversize answer is not retried */
    ts_stop(&srv);
}
END_TEST

START_TEST(chunked_body)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_stats_t st;
    idgw_backend_t *be;
    const char *text = "a chunked body that spans many chunks";

    start_server(_i, TS_CHUNKED);
    make_conf(&conf, _i, srv.port);
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, text, 0, &resp, &err), IDGW_BE_OK);
    ck_assert_str_eq(resp.body, apr_pstrcat(pool, "echo:", text, NULL));
    ck_assert_uint_eq(resp.body_len, strlen(text) + 5);
    /* Trailer consumed: the connection carries the next exchange. */
    ck_assert_int_eq(call(be, "again", 0, &resp, &err), IDGW_BE_OK);
    ck_assert_str_eq(resp.body, "echo:again");
    idgw_backend_get_stats(be, &st);
    ck_assert_uint_eq(st.reuses, 1);
    ts_stop(&srv);
}
END_TEST

START_TEST(protocol_errors)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    start_server(0, _i ? TS_BOTH_FRAMINGS : TS_BAD_STATUS_LINE);
    make_conf(&conf, 0, srv.port);
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "p", 0, &resp, &err), IDGW_BE_ERR_PROTOCOL);
    ts_stop(&srv);
}
END_TEST

/* Truncation is an error, never a short answer: an answer without
 * Content-Length or chunked framing (close-delimited), a Content-Length
 * longer than what came, a chunked body cut before its last chunk; over TLS
 * with and without close_notify (a bare TCP close is what an attacker on
 * the path can forge).  _i: bit 0 TLS, bit 1 no close_notify. */
START_TEST(truncated_answers_are_errors)
{
    static const ts_mode_t modes[] = { TS_NO_LENGTH, TS_SHORT_BODY, TS_CHUNKED_CUT };
    int tls = _i & 1;

    if ((_i & 2) && !tls)
        return;
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        idgw_backend_conf_t conf;
        idgw_backend_response_t resp;
        idgw_backend_error_t err;
        idgw_backend_t *be;

        memset(&srv, 0, sizeof(srv));
        srv.no_close_notify = (_i & 2) != 0;
        start_server(tls, modes[m]);
        make_conf(&conf, tls, srv.port);
        be = make_backend(&conf);
        ck_assert_msg(call(be, "truncate me", 0, &resp, &err) == IDGW_BE_ERR_PROTOCOL,
                      "mode %d tls %d notify %d: accepted (%s)", (int)modes[m], tls,
                      !srv.no_close_notify, err.msg);
        ck_assert_int_eq(resp.status, 0);
        ck_assert_ptr_null(resp.body);
        if (modes[m] == TS_NO_LENGTH)
            ck_assert_msg(strstr(err.msg, "framing") != NULL, "%s", err.msg);
        else if (srv.no_close_notify)   /* said for what it is */
            ck_assert_msg(strstr(err.msg, "without close_notify") != NULL, "%s", err.msg);
        ts_stop(&srv);
    }
}
END_TEST

/* A framed answer followed by a close, with or without close_notify, still
 * passes: the answer was complete. */
START_TEST(framed_answer_then_close_passes)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    srv.no_close_notify = _i;
    start_server(1, TS_CONN_CLOSE);
    make_conf(&conf, 1, srv.port);
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "whole", 0, &resp, &err), IDGW_BE_OK);
    ck_assert_str_eq(resp.body, "echo:whole");
    ts_stop(&srv);
}
END_TEST

/* A one-shot plain server answering one request with fixed bytes: for
 * answers the test server's modes do not produce (regressions found by
 * t/fuzz/fuzz_backend_http.c). */
typedef struct raw_server {
    int fd;
    int port;
    const char *answer;
    pthread_t thread;
} raw_server_t;

static void *raw_serve(void *arg)
{
    raw_server_t *rs = arg;
    char req[4096];
    size_t have = 0;
    int c = accept(rs->fd, NULL, NULL);

    if (c < 0)
        return NULL;
    /* the request head, then the answer whatever the request was */
    while (have < sizeof(req) - 1) {
        ssize_t n = read(c, req + have, sizeof(req) - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        req[have] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    if (write(c, rs->answer, strlen(rs->answer)) < 0)
        have = 0;
    close(c);
    return NULL;
}

static void raw_start(raw_server_t *rs, const char *answer)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rs->answer = answer;
    rs->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(rs->fd, 0);
    ck_assert_int_eq(bind(rs->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(rs->fd, 1), 0);
    ck_assert_int_eq(getsockname(rs->fd, (struct sockaddr *)&a, &alen), 0);
    rs->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&rs->thread, NULL, raw_serve, rs), 0);
}

static void raw_stop(raw_server_t *rs)
{
    pthread_join(rs->thread, NULL);
    close(rs->fd);
}

/* A status code above 599 is not HTTP: refused as a protocol error, not
 * passed on as an HTTP status (found by fuzz_backend_http). */
START_TEST(status_code_out_of_range)
{
    static const char *const answers[] = {
        "HTTP/1.1 785 Odd\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.0 600\r\n\r\n",
    };
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;
    raw_server_t rs;

    raw_start(&rs, answers[_i]);
    make_conf(&conf, 0, rs.port);
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "p", 0, &resp, &err), IDGW_BE_ERR_PROTOCOL);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad status code"));
    raw_stop(&rs);
    /* 599, the last code there is, still reads as an HTTP status */
    raw_start(&rs, "HTTP/1.1 599 Last\r\nContent-Length: 2\r\n\r\nno");
    make_conf(&conf, 0, rs.port);
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "p", 0, &resp, &err), IDGW_BE_ERR_HTTP_STATUS);
    ck_assert_int_eq(resp.status, 599);
    raw_stop(&rs);
}
END_TEST

START_TEST(bad_server_certificate)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    srv.tls = 1;
    srv.mode = TS_ECHO;
    srv.cert_file = pki_file("rogue-server.crt");
    srv.key_file = pki_file("rogue-server.key");
    srv.ca_file = pki_file("ca.crt");
    ck_assert_int_eq(ts_start(&srv), 0);
    make_conf(&conf, 1, srv.port);
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "x", 1, &resp, &err), IDGW_BE_ERR_TLS);
    ck_assert_int_eq(err.attempts, 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "certificate"));
    ts_stop(&srv);
    ck_assert_int_eq(srv.requests, 0);
}
END_TEST

START_TEST(wrong_host_name)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    start_server(1, TS_ECHO);
    make_conf(&conf, 1, srv.port);
    conf.tls_name = "felica.idgw.test";    /* the server presents cremo's certificate */
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "x", 0, &resp, &err), IDGW_BE_ERR_TLS);
    ck_assert_ptr_nonnull(strstr(err.msg, "rejected"));
    /* The right name passes with the same certificate. */
    conf.tls_name = "cremo.idgw.test";
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "y", 0, &resp, &err), IDGW_BE_OK);
    ts_stop(&srv);
    ck_assert_int_eq(srv.requests, 1);
}
END_TEST

START_TEST(no_client_certificate)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    start_server(1, TS_ECHO);
    make_conf(&conf, 1, srv.port);
    conf.cert_file = NULL;
    conf.key_file = NULL;
    be = make_backend(&conf);
    ck_assert_msg(call(be, "x", 0, &resp, &err) == IDGW_BE_ERR_TLS, "%s", err.msg);
    ts_stop(&srv);
    ck_assert_int_eq(srv.requests, 0);
    ck_assert_int_eq(srv.tls_failures, 1);
}
END_TEST

START_TEST(client_certificate_from_another_ca)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    start_server(1, TS_ECHO);
    make_conf(&conf, 1, srv.port);
    conf.cert_file = pki_file("rogue-client.crt");
    conf.key_file = pki_file("rogue-client.key");
    be = make_backend(&conf);
    ck_assert_int_eq(call(be, "x", 0, &resp, &err), IDGW_BE_ERR_TLS);
    ts_stop(&srv);
    ck_assert_int_eq(srv.requests, 0);
}
END_TEST

START_TEST(retry_only_when_idempotent)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    start_server(0, TS_STATUS_503_ONCE);
    make_conf(&conf, 0, srv.port);
    be = make_backend(&conf);
    if (_i) {
        ck_assert_msg(call(be, "read", 1, &resp, &err) == IDGW_BE_OK, "%s", err.msg);
        ck_assert_int_eq(err.attempts, 2);
        ck_assert_str_eq(resp.body, "echo:read");
    }
    else {
        ck_assert_int_eq(call(be, "write", 0, &resp, &err), IDGW_BE_ERR_HTTP_STATUS);
        ck_assert_int_eq(err.http_status, 503);
        ck_assert_int_eq(err.attempts, 1);
        ck_assert_int_eq(resp.status, 503);
        ck_assert_str_eq(resp.body, "busy");
    }
    ts_stop(&srv);
    ck_assert_int_eq(srv.requests, _i ? 2 : 1);
}
END_TEST

typedef struct slow_call {
    idgw_backend_t *be;
    idgw_backend_category_t cat;
} slow_call_t;

static void *call_in_thread(void *arg)
{
    slow_call_t *sc = arg;
    apr_pool_t *p;
    idgw_backend_request_t req = {0};
    idgw_backend_response_t resp;
    idgw_backend_error_t err;

    apr_pool_create(&p, NULL);
    req.body = "slow";
    req.body_len = 4;
    sc->cat = idgw_backend_call(sc->be, p, &req, &resp, &err);
    apr_pool_destroy(p);
    return NULL;
}

START_TEST(pool_exhausted)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    slow_call_t sc;
    pthread_t th;
    apr_time_t t0;

    srv.delay_ms = 800;
    start_server(0, TS_SLOW);
    make_conf(&conf, 0, srv.port);
    conf.pool_max = 1;
    conf.pool_wait = apr_time_from_msec(150);
    sc.be = make_backend(&conf);
    ck_assert_int_eq(pthread_create(&th, NULL, call_in_thread, &sc), 0);
    usleep(200000);   /* the thread holds the only connection */
    t0 = apr_time_now();
    ck_assert_int_eq(call(sc.be, "x", 1, &resp, &err), IDGW_BE_ERR_POOL);
    ck_assert_str_eq(idgw_backend_category_logid(err.category), "IDGW-BE-0008");
    ck_assert(apr_time_now() - t0 < apr_time_from_msec(700));
    pthread_join(th, NULL);
    ck_assert_int_eq(sc.cat, IDGW_BE_OK);
    ts_stop(&srv);
}
END_TEST

START_TEST(connect_timeout_is_bounded)
{
    /* A listener that never accepts, its queue filled: further SYNs are
     * dropped and connect() waits. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0), fillers[8];
    int one = 1;
    struct sockaddr_in sa;
    socklen_t slen = sizeof(sa);
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;
    apr_time_t t0;
    apr_interval_time_t took;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;                     /* any free port: nothing else may hold it */
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 0), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &slen), 0);
    for (int i = 0; i < 8; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    usleep(100000);
    make_conf(&conf, 0, ntohs(sa.sin_port));
    conf.connect_timeout = apr_time_from_msec(300);
    be = make_backend(&conf);
    t0 = apr_time_now();
    ck_assert_int_eq(call(be, "x", 0, &resp, &err), IDGW_BE_ERR_TIMEOUT);
    took = apr_time_now() - t0;
    ck_assert_msg(took >= apr_time_from_msec(250) && took < apr_time_from_msec(1500),
                  "took %ld us", (long)took);
    for (int i = 0; i < 8; i++)
        close(fillers[i]);
    close(lfd);
}
END_TEST

START_TEST(not_initialised_in_child)
{
    idgw_backend_conf_t conf;
    idgw_backend_response_t resp;
    idgw_backend_error_t err;
    idgw_backend_t *be;

    make_conf(&conf, 0, REFUSED_PORT);
    be = idgw_backend_create(pool, &conf, &err);
    ck_assert_ptr_nonnull(be);
    ck_assert_int_eq(call(be, "x", 0, &resp, &err), IDGW_BE_ERR_CONFIG);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("backend_client");
    TCase *tc = tcase_create("client");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, happy_path_plain);
    tcase_add_test(tc, happy_path_tls);
    tcase_add_test(tc, keepalive_reuse_and_tls_resumption);
    tcase_add_loop_test(tc, backend_closes_idle_connection, 0, 2);
    tcase_add_test(tc, connection_refused);
    tcase_add_loop_test(tc, io_timeout_is_bounded, 0, 2);
    tcase_add_test(tc, total_timeout_bounds_retries);
    tcase_add_loop_test(tc, reset_mid_body, 0, 2);
    tcase_add_loop_test(tc, oversize_content_length, 0, 2);
    tcase_add_loop_test(tc, chunked_body, 0, 2);
    tcase_add_loop_test(tc, protocol_errors, 0, 2);
    tcase_add_loop_test(tc, truncated_answers_are_errors, 0, 4);
    tcase_add_loop_test(tc, framed_answer_then_close_passes, 0, 2);
    tcase_add_loop_test(tc, status_code_out_of_range, 0, 2);
    tcase_add_test(tc, bad_server_certificate);
    tcase_add_test(tc, wrong_host_name);
    tcase_add_test(tc, no_client_certificate);
    tcase_add_test(tc, client_certificate_from_another_ca);
    tcase_add_loop_test(tc, retry_only_when_idempotent, 0, 2);
    tcase_add_test(tc, pool_exhausted);
    tcase_add_test(tc, connect_timeout_is_bounded);
    tcase_add_test(tc, not_initialised_in_child);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char cmd[600];
    int failed;
    SRunner *sr;

    snprintf(pki, sizeof(pki), "/tmp/idgw-test-pki.XXXXXX");
    if (!mkdtemp(pki))
        return 99;
    snprintf(cmd, sizeof(cmd), "'%s/scripts/idgw-pki' '%s' >/dev/null", IDGW_SRCDIR, pki);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot make the test PKI with %s\n", cmd);
        return 99;
    }
    sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", pki);
    return failed ? 1 : 0;
}
