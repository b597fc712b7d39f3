/* idgw_limiter: GCRA arithmetic and the parsing of rates and durations.
 * Pure functions on integers; the per-process table is in
 * idgw_limiter_table.c. */
#include "idgw_limiter.h"

#include <string.h>

const char *idgw_gcra_init(idgw_gcra *g, uint32_t count, int64_t period_us,
                           uint32_t burst)
{
    int64_t interval;

    if (count == 0 || count > IDGW_GCRA_COUNT_MAX) {
        return "request count must be between 1 and 1000000000";
    }
    if (period_us < 1000000 || period_us > IDGW_GCRA_PERIOD_MAX_US) {
        return "period must be between 1 second and 7 days";
    }
    if (burst == 0 || burst > IDGW_GCRA_BURST_MAX) {
        return "burst must be between 1 and 1000000";
    }
    /* Round up: a limit is never looser than what was configured. */
    interval = (period_us + (int64_t)count - 1) / (int64_t)count;
    /* tau <= 1e6 * 6.048e11 = 6.048e17 < INT64_MAX / 8: no overflow, and
     * now + tau + 2T stays below INT64_MAX for now <= 2^62. */
    g->interval = interval;
    g->tolerance = (int64_t)(burst - 1) * interval;
    return NULL;
}

static uint32_t scaled(uint32_t v, uint32_t by, uint32_t max)
{
    uint64_t s = (uint64_t)v * by;

    return s > max ? max : (uint32_t)s;
}

idgw_gcra idgw_gcra_scaled(const idgw_gcra *configured, uint32_t count, int64_t period_us,
                           uint32_t burst, uint32_t by)
{
    idgw_gcra g;

    if (by <= 1 || idgw_gcra_init(&g, scaled(count, by, IDGW_GCRA_COUNT_MAX), period_us,
                                  scaled(burst, by, IDGW_GCRA_BURST_MAX)) != NULL)
        return *configured;
    return g;
}

void idgw_gcra_check(const idgw_gcra *g, int64_t tat, int64_t now,
                     idgw_gcra_result *res)
{
    int64_t ceiling, base;

    if (now < 0) {
        now = 0;
    }
    if (now > IDGW_GCRA_NOW_MAX) {
        now = IDGW_GCRA_NOW_MAX;
    }
    /* No allowed request can leave tat beyond now + tau + T unless the clock
     * went backwards (or the state is corrupt): bound the damage. */
    ceiling = now + g->tolerance + g->interval;
    if (tat > ceiling) {
        tat = ceiling;
    }
    base = tat > now ? tat : now;
    if (base - now > g->tolerance) {
        res->allowed = 0;
        res->new_tat = tat;
        res->retry_after = base - now - g->tolerance;
        return;
    }
    res->allowed = 1;
    res->new_tat = base + g->interval;
    res->retry_after = 0;
}

/* Parses a decimal unsigned integer spanning the whole of [s, end). */
static int parse_uint(const char *s, const char *end, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s == end || end - s > 19) {
        return 0;
    }
    for (const char *c = s; c < end; c++) {
        if (*c < '0' || *c > '9') {
            return 0;
        }
        v = v * 10 + (uint64_t)(*c - '0');
    }
    if (v > max) {
        return 0;
    }
    *out = v;
    return 1;
}

/* Unit suffix to seconds: s, m, h, d; 0 if unknown. */
static int64_t unit_seconds(const char *u)
{
    if (strcmp(u, "s") == 0) return 1;
    if (strcmp(u, "m") == 0) return 60;
    if (strcmp(u, "h") == 0) return 3600;
    if (strcmp(u, "d") == 0) return 86400;
    return 0;
}

const char *idgw_rate_parse(const char *text, uint32_t *count, int64_t *period_us)
{
    const char *slash;
    uint64_t n, secs;
    int64_t unit;

    if (text == NULL || (slash = strchr(text, '/')) == NULL) {
        return "rate must look like COUNT/UNIT, e.g. 20/s, 600/m, 5/30 (seconds)";
    }
    if (!parse_uint(text, slash, IDGW_GCRA_COUNT_MAX, &n) || n == 0) {
        return "rate COUNT must be an integer between 1 and 1000000000";
    }
    unit = unit_seconds(slash + 1);
    if (unit == 0) {
        if (!parse_uint(slash + 1, slash + 1 + strlen(slash + 1),
                        IDGW_GCRA_PERIOD_MAX_US / 1000000, &secs) || secs == 0) {
            return "rate UNIT must be s, m, h, d or a number of seconds (1..604800)";
        }
        unit = (int64_t)secs;
    }
    *count = (uint32_t)n;
    *period_us = unit * 1000000;
    return NULL;
}
