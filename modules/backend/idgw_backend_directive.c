/* idgw_backend_directive.c: settings by directive key, so that a module's
 * command handler for "IdgwBackend NAME URL [key=value]..." (and
 * "IdgwBackendDefaults key=value...") is a loop over its arguments.  The keys
 * and their value syntax are listed in docs/directives.md (the backend client). */
#include <stddef.h>
#include <string.h>
#include <apr_strings.h>
#include "idgw_backend_int.h"
#include "idgw_conf_parse.h"

typedef enum setting_kind { S_URL, S_PATH, S_NAME, S_DURATION, S_SIZE, S_COUNT } setting_kind_t;

typedef struct setting {
    const char *key;
    setting_kind_t kind;
    size_t offset;
    int min, max;           /* S_COUNT */
} setting_t;

/* Every duration 1 ms .. 1 hour, every size 1 byte .. 64m. */
#define MIN_DURATION apr_time_from_msec(1)
#define MAX_DURATION apr_time_from_sec(3600)
#define MAX_SIZE (64 * 1024 * 1024)

#define AT(field) offsetof(idgw_backend_conf_t, field)

static const setting_t settings[] = {
    {"url", S_URL, 0, 0, 0},
    {"ca", S_PATH, AT(ca_file), 0, 0},
    {"cert", S_PATH, AT(cert_file), 0, 0},
    {"key", S_PATH, AT(key_file), 0, 0},
    {"tls-name", S_NAME, AT(tls_name), 0, 0},
    {"connect-timeout", S_DURATION, AT(connect_timeout), 0, 0},
    {"io-timeout", S_DURATION, AT(io_timeout), 0, 0},
    {"total-timeout", S_DURATION, AT(total_timeout), 0, 0},
    {"idle-timeout", S_DURATION, AT(idle_timeout), 0, 0},
    {"pool-wait", S_DURATION, AT(pool_wait), 0, 0},
    {"max-response", S_SIZE, AT(max_response), 0, 0},
    {"pool-max", S_COUNT, AT(pool_max), 1, 1024},
    {"pool-keep", S_COUNT, AT(pool_keep), 0, 1024},
    {"retries", S_COUNT, AT(retries), 0, IDGW_BE_MAX_RETRIES},
};

/* A TLS peer name: a host name or an IP literal, nothing else. */
static int name_ok(const char *v)
{
    size_t n = strlen(v);

    if (n == 0 || n > 253)
        return 0;
    return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") == n;
}

const char *idgw_backend_conf_set(apr_pool_t *p, idgw_backend_conf_t *conf, const char *key,
                                  const char *value)
{
    char *base = (char *)conf;

    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        const setting_t *s = &settings[i];
        const char *err = NULL;
        long n;

        if (strcmp(s->key, key) != 0)
            continue;
        switch (s->kind) {
        case S_URL:
            err = idgw_backend_conf_set_url(p, conf, value);
            break;
        case S_PATH:
            if (!*value)
                err = "empty file name";
            else
                *(const char **)(base + s->offset) = apr_pstrdup(p, value);
            break;
        case S_NAME:
            if (!name_ok(value))
                err = "not a host name or IP address";
            else
                *(const char **)(base + s->offset) = apr_pstrdup(p, value);
            break;
        case S_DURATION:
            if ((err = idgw_parse_duration(value, MIN_DURATION, MAX_DURATION,
                                           (apr_interval_time_t *)(base + s->offset))))
                err = apr_pstrcat(p, err, " (1ms..1h)", NULL);
            break;
        case S_SIZE:
            if ((err = idgw_parse_size(value, 1, MAX_SIZE, (apr_int64_t *)(base + s->offset))))
                err = apr_pstrcat(p, err, " (1..64m)", NULL);
            break;
        case S_COUNT:
            if ((err = idgw_parse_int(value, s->min, s->max, &n)))
                err = apr_psprintf(p, "%s (%d..%d)", err, s->min, s->max);
            else
                *(int *)(base + s->offset) = (int)n;
            break;
        }
        return err ? apr_psprintf(p, "%s=%s: %s", key, value, err) : NULL;
    }
    return apr_psprintf(p, "unknown backend setting '%s' (url, ca, cert, key, tls-name, "
                           "connect-timeout, io-timeout, total-timeout, idle-timeout, pool-wait, "
                           "max-response, pool-max, pool-keep, retries)", key);
}

const char *idgw_backend_conf_set_args(apr_pool_t *p, idgw_backend_conf_t *conf,
                                       const char *args)
{
    char **argv;

    if (apr_tokenize_to_argv(args, &argv, p) != APR_SUCCESS)
        return "cannot split the arguments";
    for (; *argv; argv++) {
        char *eq = strchr(*argv, '=');
        const char *err;

        if (!eq || eq == *argv)
            return apr_psprintf(p, "'%s' is not key=value", *argv);
        *eq = '\0';
        err = idgw_backend_conf_set(p, conf, *argv, eq + 1);
        if (err)
            return err;
    }
    return NULL;
}
