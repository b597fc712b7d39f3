/*
 * idgw_conf_parse.h - THE parsers of directive values, shared by the idgw
 * modules: one per unit (duration, size, integer, host:port; networks are
 * idgw_cidr.h).  Each returns NULL on success or a static message saying what
 * was expected; the caller names the directive and, if it likes, the range.
 * The configuration style they serve (IDGW_UNSET, merge helpers) is idgw_conf.h.
 */
#ifndef IDGW_CONF_PARSE_H
#define IDGW_CONF_PARSE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "idgw_conf.h"

#define IDGW_HOST_MAX 256

/* A host (name or address) and port, as a directive names a server. */
typedef struct idgw_hostport {
    const char *host;
    int port;
} idgw_hostport;

/* "250ms", "30s", "15m", "2h", "1d"; a bare number is seconds.  Range [min, max]. */
const char *idgw_parse_duration(const char *s, apr_interval_time_t min,
                                apr_interval_time_t max, apr_interval_time_t *out);

/* "65536", "64k"/"64K", "1m"/"1M" (k and m are 1024 and 1024*1024 bytes).
 * Range [min, max]. */
const char *idgw_parse_size(const char *s, apr_int64_t min, apr_int64_t max, apr_int64_t *out);

/* Decimal integer in [min, max]. */
const char *idgw_parse_int(const char *s, long min, long max, long *out);

/* "host:port", "host" (default port) or "[v6addr]:port". */
const char *idgw_parse_hostport(apr_pool_t *p, const char *s, int default_port,
                                idgw_hostport *out);

/*
 * A numeric setting as a rule: the one shape of the modules' rule tables
 * (a directive's cmd->info, a backend key).  idgw_conf_rule_set parses value
 * with the parser of the rule's kind, checks [min, max] and stores the result
 * at offset in conf; a failure leaves the field as it was and returns the
 * parser's message, followed by " (range)" when the rule has a range text.
 */
typedef enum idgw_conf_kind {
    IDGW_CONF_DURATION,     /* apr_interval_time_t, idgw_parse_duration */
    IDGW_CONF_SIZE,         /* apr_int64_t, idgw_parse_size */
    IDGW_CONF_INT,          /* int, idgw_parse_int */
    IDGW_CONF_LONG          /* long, idgw_parse_int */
} idgw_conf_kind;

typedef struct idgw_conf_rule {
    idgw_conf_kind kind;
    apr_size_t offset;
    apr_int64_t min, max;
    const char *range;      /* e.g. "1..1024", or NULL */
} idgw_conf_rule;

const char *idgw_conf_rule_set(apr_pool_t *p, const idgw_conf_rule *rule, void *conf,
                               const char *value);

#endif
