/*
 * idgw_conf_parse.c - directive value parsers (see idgw_conf_parse.h).
 */
#include "idgw_conf_parse.h"

#include <apr_lib.h>
#include <apr_network_io.h>
#include <arpa/inet.h>
#include <apr_strings.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *idgw_parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s || !*s || !(*s == '-' || (*s >= '0' && *s <= '9')))
        return "expected a decimal number";
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end)
        return "expected a decimal number";
    if (v < min || v > max)
        return "number out of range";
    *out = v;
    return NULL;
}

/* A number with a unit suffix: the digits (at most 10^8), then one of units,
 * whose factors scale the number.  NULL, or which message applies. */
typedef struct unit {
    const char *suffix;
    apr_int64_t factor;
} unit;

enum { NUM_OK, NUM_SYNTAX, NUM_UNIT, NUM_LARGE };

static int number_with_unit(const char *s, const unit *units, apr_int64_t *out)
{
    char *end;
    long long v;

    if (!s || !(*s >= '0' && *s <= '9'))
        return NUM_SYNTAX;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || v > 100000000LL)
        return NUM_LARGE;
    for (; units->suffix; units++)
        if (strcmp(end, units->suffix) == 0) {
            *out = (apr_int64_t)v * units->factor;
            return NUM_OK;
        }
    return NUM_UNIT;
}

#define DURATION_EXAMPLE "expected a duration such as 250ms, 30s, 15m or 2h"

/* The union of what the modules' durations accepted: ms, s, m, h, d. */
static const unit duration_units[] = {
    { "", APR_USEC_PER_SEC }, { "s", APR_USEC_PER_SEC }, { "ms", 1000 },
    { "m", 60 * APR_USEC_PER_SEC }, { "h", 3600 * APR_USEC_PER_SEC },
    { "d", 86400 * APR_USEC_PER_SEC }, { NULL, 0 }
};

const char *idgw_parse_duration(const char *s, apr_interval_time_t min,
                                apr_interval_time_t max, apr_interval_time_t *out)
{
    apr_int64_t t;

    switch (number_with_unit(s, duration_units, &t)) {
    case NUM_SYNTAX:
        return DURATION_EXAMPLE;
    case NUM_UNIT:
        return DURATION_EXAMPLE ": duration unit must be ms, s, m, h or d";
    case NUM_LARGE:
        return "duration too large";
    }
    if (t < min || t > max)
        return "duration out of range";
    *out = t;
    return NULL;
}

static const unit size_units[] = {
    { "", 1 }, { "k", 1024 }, { "K", 1024 }, { "m", 1024 * 1024 }, { "M", 1024 * 1024 },
    { NULL, 0 }
};

const char *idgw_parse_size(const char *s, apr_int64_t min, apr_int64_t max, apr_int64_t *out)
{
    apr_int64_t n;

    switch (number_with_unit(s, size_units, &n)) {
    case NUM_SYNTAX:
    case NUM_UNIT:
        return "expected a size such as 65536, 64k or 1m";
    case NUM_LARGE:
        return "size too large";
    }
    if (n < min || n > max)
        return "size out of range";
    *out = n;
    return NULL;
}

const char *idgw_conf_rule_set(apr_pool_t *p, const idgw_conf_rule *rule, void *conf,
                               const char *value)
{
    char *field = (char *)conf + rule->offset;
    const char *err = NULL;
    long n;

    switch (rule->kind) {
    case IDGW_CONF_DURATION:
        err = idgw_parse_duration(value, rule->min, rule->max, (apr_interval_time_t *)field);
        break;
    case IDGW_CONF_SIZE:
        err = idgw_parse_size(value, rule->min, rule->max, (apr_int64_t *)field);
        break;
    case IDGW_CONF_INT:
    case IDGW_CONF_LONG:
        if ((err = idgw_parse_int(value, (long)rule->min, (long)rule->max, &n)))
            break;
        if (rule->kind == IDGW_CONF_INT)
            *(int *)field = (int)n;
        else
            *(long *)field = n;
        break;
    }
    if (err && rule->range)
        return apr_pstrcat(p, err, " (", rule->range, ")", NULL);
    return err;
}

/* A DNS name (RFC 1123: dot-separated labels of letters, digits and '-', not
 * at either end of a label; '_' tolerated as resolvers do), an IPv4 address
 * in dotted decimal, or an IPv6 address (given in brackets).
 * apr_parse_addr_port takes any text without a ':' as a host name, so
 * "127.0.0.1;16390" reached the resolver at the first request. */
static int host_valid(const char *host)
{
    struct in6_addr a6;
    struct in_addr a4;
    const char *c, *label = host;
    int numeric = 1;

    if (strchr(host, ':'))
        return inet_pton(AF_INET6, host, &a6) == 1;
    for (c = host;; c++) {
        if (*c == '.' || !*c) {
            if (c == label || c - label > 63 || label[0] == '-' || c[-1] == '-')
                return 0;
            if (!*c)
                break;
            label = c + 1;
        } else if (apr_isalpha(*c) || *c == '-' || *c == '_') {
            numeric = 0;
        } else if (!apr_isdigit(*c)) {
            return 0;
        }
    }
    /* all digits and dots: an IPv4 address or nothing (no "999.1.1.1") */
    return !numeric || inet_pton(AF_INET, host, &a4) == 1;
}

const char *idgw_parse_hostport(apr_pool_t *p, const char *s, int default_port,
                                idgw_hostport *out)
{
    char *host = NULL, *scope = NULL;
    apr_port_t port = 0;

    if (!s || !*s || apr_parse_addr_port(&host, &scope, &port, s, p) != APR_SUCCESS
        || !host || scope)
        return "expected host, host:port or [address]:port";
    if (strlen(host) >= IDGW_HOST_MAX)
        return "host name too long";
    if (!host_valid(host))
        return "expected host, host:port or [address]:port; the host must be a DNS name "
               "(letters, digits, '-', '.'), an IPv4 address or an IPv6 address in brackets";
    out->host = host;
    out->port = port ? port : default_port;
    return NULL;
}
