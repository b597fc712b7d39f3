/* idgw-fpcall: send a telegram to a backend with idgw's backend client, as
 * the gateway does; for the simulators' tests and for poking at a backend by
 * hand.
 *
 *   idgw-fpcall [KEY=VALUE]... [body=FILE] [repeat=N] [pause=MS] [idempotent=1]
 *               [corr=ID] [print=1]
 * KEY=VALUE are the backend settings of docs/directives.md (the backend client) (url=,
 * ca=, cert=, key=, tls-name=, io-timeout=, ...).  Prints one line per call
 * ("call N: category=... status=... attempts=... bytes=... ms=...") and the
 * client's counters; print=1 also writes the last response body to stdout.
 * Exit status 0 when every call succeeded, 1 otherwise, 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "idgw_backend.h"

static int usage(const char *msg)
{
    fprintf(stderr, "idgw-fpcall: %s\nusage: idgw-fpcall [KEY=VALUE]... [body=FILE] [repeat=N] "
                    "[pause=MS] [idempotent=1] [corr=ID] [print=1]\n", msg);
    return 2;
}

static char *read_all(apr_pool_t *p, const char *path, apr_size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 65536, n = 0, got;
    char *buf;

    if (!f)
        return NULL;
    buf = apr_palloc(p, cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = apr_palloc(p, cap * 2);
            memcpy(nb, buf, n);
            buf = nb;
            cap *= 2;
        }
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    idgw_backend_conf_t conf;
    idgw_backend_request_t req = {0};
    idgw_backend_stats_t st;
    idgw_backend_error_t err;
    idgw_backend_t *be;
    const char *body_file = NULL, *last_body = NULL;
    apr_size_t last_len = 0;
    int repeat = 1, pause_ms = 0, print = 0, failures = 0;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    idgw_backend_conf_init(&conf, "fpcall");
    req.content_type = "application/xml; charset=Shift_JIS";
    req.correlation_id = "fpcall-0000000001";
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        const char *msg;
        if (!eq)
            return usage(apr_psprintf(pool, "'%s' is not KEY=VALUE", argv[i]));
        *eq = '\0';
        if (strcmp(argv[i], "body") == 0)
            body_file = eq + 1;
        else if (strcmp(argv[i], "repeat") == 0)
            repeat = atoi(eq + 1);
        else if (strcmp(argv[i], "pause") == 0)
            pause_ms = atoi(eq + 1);
        else if (strcmp(argv[i], "idempotent") == 0)
            req.idempotent = atoi(eq + 1);
        else if (strcmp(argv[i], "corr") == 0)
            req.correlation_id = eq + 1;
        else if (strcmp(argv[i], "print") == 0)
            print = atoi(eq + 1);
        else if ((msg = idgw_backend_conf_set(pool, &conf, argv[i], eq + 1)))
            return usage(msg);
    }
    if (!body_file || repeat < 1)
        return usage("body=FILE and repeat >= 1 needed");
    if (!(req.body = read_all(pool, body_file, &req.body_len)))
        return usage("cannot read the body");
    if (req.body_len > 20 && strstr(req.body, "encoding=\"UTF-8\""))
        req.content_type = "application/xml; charset=UTF-8";
    if (!(be = idgw_backend_create(pool, &conf, &err))
        || idgw_backend_child_init(be, pool, &err) != 0) {
        fprintf(stderr, "idgw-fpcall: %s\n", err.msg);
        return 2;
    }
    for (int n = 1; n <= repeat; n++) {
        idgw_backend_response_t resp;
        apr_time_t t0 = apr_time_now();
        idgw_backend_category_t cat = idgw_backend_call(be, pool, &req, &resp, &err);

        printf("call %d: category=%s status=%d attempts=%d bytes=%lu ms=%ld%s%s\n", n,
               idgw_backend_category_name(cat), resp.status, err.attempts,
               (unsigned long)resp.body_len, (long)apr_time_as_msec(apr_time_now() - t0),
               cat ? " msg=" : "", cat ? err.msg : "");
        failures += cat != IDGW_BE_OK;
        if (resp.body) {
            last_body = resp.body;
            last_len = resp.body_len;
        }
        if (pause_ms > 0 && n < repeat)
            apr_sleep(apr_time_from_msec(pause_ms));
    }
    idgw_backend_get_stats(be, &st);
    printf("stats: connects=%lu handshakes=%lu resumed=%lu reuses=%lu stale=%lu "
           "invalidated=%lu retries=%lu\n", st.connects, st.tls_handshakes, st.tls_resumed,
           st.reuses, st.stale, st.invalidated, st.retries);
    if (print && last_body)
        fwrite(last_body, 1, last_len, stdout);
    fflush(stdout);
    return failures ? 1 : 0;
}
