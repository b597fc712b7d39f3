/*
 * idgw_conf_parse.c - directive value parsers (see idgw_conf_parse.h).
 */
#include "idgw_conf_parse.h"

#include <apr_network_io.h>
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

const char *idgw_parse_duration(const char *s, apr_interval_time_t min,
                                apr_interval_time_t max, apr_interval_time_t *out)
{
    char *end;
    long long v;
    apr_interval_time_t t;

    if (!s || !(*s >= '0' && *s <= '9'))
        return "expected a duration such as 250ms, 30s, 15m or 2h";
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || v > 100000000LL)
        return "duration too large";
    if (*end == '\0' || strcmp(end, "s") == 0)
        t = apr_time_from_sec(v);
    else if (strcmp(end, "ms") == 0)
        t = (apr_interval_time_t)v * 1000;
    else if (strcmp(end, "m") == 0)
        t = apr_time_from_sec(v * 60);
    else if (strcmp(end, "h") == 0)
        t = apr_time_from_sec(v * 3600);
    else
        return "expected a duration such as 250ms, 30s, 15m or 2h";
    if (t < min || t > max)
        return "duration out of range";
    *out = t;
    return NULL;
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
    out->host = host;
    out->port = port ? port : default_port;
    return NULL;
}
