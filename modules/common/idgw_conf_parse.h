/*
 * idgw_conf_parse.h - parsing of directive values, shared by the idgw modules.
 * Each parser returns NULL on success or a message saying what was expected.
 */
#ifndef IDGW_CONF_PARSE_H
#define IDGW_CONF_PARSE_H

#include <apr_pools.h>
#include <apr_time.h>

#define IDGW_HOST_MAX 256

/* A host (name or address) and port, as a directive names a server. */
typedef struct idgw_hostport {
    const char *host;
    int port;
} idgw_hostport;

/* "250ms", "30s", "15m", "2h"; a bare number is seconds.  Range [min, max]. */
const char *idgw_parse_duration(const char *s, apr_interval_time_t min,
                                apr_interval_time_t max, apr_interval_time_t *out);

/* Decimal integer in [min, max]. */
const char *idgw_parse_int(const char *s, long min, long max, long *out);

/* "host:port", "host" (default port) or "[v6addr]:port". */
const char *idgw_parse_hostport(apr_pool_t *p, const char *s, int default_port,
                                idgw_hostport *out);

#endif
