/* idgw_backend_directive.c: settings by directive key, so that a module's
 * command handler for "IdgwBackend NAME URL [key=value]..." (and
 * "IdgwBackendDefaults key=value...") is a loop over its arguments.  The keys
 * and their value syntax are listed in docs/directives.md (the backend client). */
#include <stddef.h>
#include <string.h>
#include <apr_strings.h>
#include "idgw_backend_int.h"
#include "idgw_conf_parse.h"

typedef enum setting_kind { S_URL, S_PATH, S_NAME, S_NUMBER, S_ON } setting_kind_t;

/* A key; a number's parsing, range and place are its rule, the modules' one
 * rule shape (idgw_conf_parse.h). */
typedef struct setting {
    const char *key;
    setting_kind_t kind;
    size_t offset;              /* S_PATH, S_NAME, S_ON */
    idgw_conf_rule rule;        /* S_NUMBER */
} setting_t;

#define AT(field) offsetof(idgw_backend_conf_t, field)
#define STR(x) #x
#define XSTR(x) STR(x)
#define TEXT(key, kind, field) { key, kind, AT(field), { 0, 0, 0, 0, NULL } }
/* Every duration 1 ms .. 1 hour, every size 1 byte .. 64m. */
#define DURATION(key, field) { key, S_NUMBER, 0, \
    { IDGW_CONF_DURATION, AT(field), apr_time_from_msec(1), apr_time_from_sec(3600), "1ms..1h" } }
#define SIZE(key, field) { key, S_NUMBER, 0, \
    { IDGW_CONF_SIZE, AT(field), 1, 64 * 1024 * 1024, "1..64m" } }
#define COUNT(key, field, min, max, range) { key, S_NUMBER, 0, \
    { IDGW_CONF_INT, AT(field), min, max, range } }

static const setting_t settings[] = {
    { "url", S_URL, 0, { 0, 0, 0, 0, NULL } },
    TEXT("ca", S_PATH, ca_file),
    TEXT("cert", S_PATH, cert_file),
    TEXT("key", S_PATH, key_file),
    TEXT("tls-name", S_NAME, tls_name),
    DURATION("connect-timeout", connect_timeout),
    DURATION("io-timeout", io_timeout),
    DURATION("total-timeout", total_timeout),
    DURATION("idle-timeout", idle_timeout),
    DURATION("pool-wait", pool_wait),
    SIZE("max-response", max_response),
    COUNT("pool-max", pool_max, 1, 1024, "1..1024"),
    COUNT("pool-keep", pool_keep, 0, 1024, "0..1024"),
    COUNT("retries", retries, 0, IDGW_BE_MAX_RETRIES, "0.." XSTR(IDGW_BE_MAX_RETRIES)),
    TEXT("insecure", S_ON, insecure),
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
        case S_NUMBER:
            err = idgw_conf_rule_set(p, &s->rule, conf, value);
            break;
        case S_ON:
            /* only ever switched on: leaving it out is the way to say no */
            if (strcmp(value, "on") != 0)
                err = "only 'on' (or the bare word) is accepted";
            else
                *(int *)(base + s->offset) = 1;
            break;
        }
        return err ? apr_psprintf(p, "%s=%s: %s", key, value, err) : NULL;
    }
    return apr_psprintf(p, "unknown backend setting '%s' (url, ca, cert, key, tls-name, "
                           "connect-timeout, io-timeout, total-timeout, idle-timeout, pool-wait, "
                           "max-response, pool-max, pool-keep, retries, insecure)", key);
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

        if (strcmp(*argv, "insecure") == 0) {
            err = idgw_backend_conf_set(p, conf, "insecure", "on");
            if (err)
                return err;
            continue;
        }
        if (!eq || eq == *argv)
            return apr_psprintf(p, "'%s' is not key=value", *argv);
        *eq = '\0';
        err = idgw_backend_conf_set(p, conf, *argv, eq + 1);
        if (err)
            return err;
    }
    return NULL;
}
