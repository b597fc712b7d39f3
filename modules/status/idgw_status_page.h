/*
 * idgw_status_page.h - the human status page of mod_idgw_status.
 *
 * One self-contained HTML answer (inline CSS, no scripts, no external
 * assets): a health summary first (Redis, error ratio, backend failures,
 * degraded decisions, sequence errors, ACL denials, fleet figures over the
 * last minutes, each with a state ok / warn / bad / info written as text and
 * shown in colour), then the counter tables sorted by label values
 * (idgw_metrics_render_html), then the fleet figures.  Thresholds are below
 * and in docs/directives.md (mod_idgw_status, "The page").
 */
#ifndef IDGW_STATUS_PAGE_H
#define IDGW_STATUS_PAGE_H

#include <httpd.h>
#include <apr.h>

#include "idgw_metrics.h"

/* The summary's window: the states are judged over the last 5 minutes (an
 * alert-sized window that still reacts within a minute); the error and
 * backend ratios are also shown over 15 minutes for comparison. */
#define IDGW_PAGE_WINDOW_MIN      5
#define IDGW_PAGE_WINDOW_LONG_MIN 15

/* Error ratio (requests whose result is neither ok nor replay), per mille:
 * warn from 2 %, bad from 10 % (the alert IdgwErrorRatioHigh fires at 10 %). */
#define IDGW_PAGE_ERRORS_WARN_PERMILLE 20
#define IDGW_PAGE_ERRORS_BAD_PERMILLE  100
/* Backend failures (calls whose result is not ok): warn on any, bad from 5 %
 * (the alert IdgwBackendFailureRatioHigh fires at 5 %). */
#define IDGW_PAGE_BACKEND_BAD_PERMILLE 50
/* Sequence errors: warn from 5 % of the requests (at least 5 of them). */
#define IDGW_PAGE_SEQ_WARN_PERMILLE 50
#define IDGW_PAGE_SEQ_WARN_MIN      5

/* What the page shows of the fleet read (IdgwStatusRedis, IdgwStatusFleetKey). */
typedef struct idgw_status_fleet_view {
    int configured;               /* a Redis and at least one key are set */
    int up;                       /* the read of this request succeeded */
    const char *redis;            /* "host:port", for the text */
    int n;
    const char *const *names;     /* n names */
    const apr_int64_t *values;    /* n values; -1: the key holds no number */
} idgw_status_fleet_view;

/* Write the whole page (headers already set).  Records the current minute's
 * snapshot first (idgw_metrics_tick).  Returns OK. */
int idgw_status_page(request_rec *r, idgw_metrics *m, const idgw_status_fleet_view *fleet);

#endif
