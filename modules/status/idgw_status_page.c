/*
 * idgw_status_page.c - the human status page: health summary, then tables.
 *
 * The summary answers "is Redis up, what fails?" at a glance.  Each tile has
 * a state (ok, warn, bad, info) written out as a word and repeated as a
 * colour, and a sentence that says why; the band on top names the worst
 * state and the tiles that are not ok.  Figures "over the last minutes" are
 * differences against the per-minute snapshots the counter table keeps in
 * shared memory (idgw_metrics_recent): every child answers with the same
 * figures, whichever of them serves the page.
 *
 * Everything is in the one answer (inline CSS, no scripts, no images), so
 * the page works behind "Require ip" without any other URL being reachable,
 * and it is laid out for a 1280 px wide window (tiles in a grid, tables in
 * two columns).  Every text from configuration or the counters goes through
 * ap_escape_html or the registry's escaping.
 */
#include "idgw_status_page.h"

#include <http_core.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include <string.h>

typedef enum page_state { ST_OK, ST_INFO, ST_WARN, ST_BAD } page_state;

static const char *const state_class[] = { "ok", "info", "warn", "bad" };
static const char *const state_word[] = { "OK", "INFO", "WARN", "BAD" };

typedef struct page_tile {
    const char *id, *title, *figure, *why;    /* figure and why: HTML, escaped */
    page_state state;
} page_tile;

/* The tiles, judged before anything is written: the band on top names the
 * worst state and the tiles that are warn or bad. */
typedef struct page_summary {
    apr_array_header_t *tiles;                /* page_tile */
    page_state worst;
    const char *problems;
} page_summary;

static const char page_css[] =
    "body{margin:0;font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
    "color:#1b1f24;background:#f6f7f9}"
    "header,main,#summary{max-width:1240px;margin:0 auto;padding:0 20px}"
    "header{padding-top:14px}"
    "h1{font-size:22px;margin:0 0 4px}"
    "h2{font-size:15px;margin:0 0 2px;font-family:ui-monospace,Menlo,Consolas,monospace}"
    "h3{font-size:13px;margin:0;text-transform:uppercase;letter-spacing:.04em;color:#44546a}"
    ".meta{color:#44546a;margin:0 0 12px}"
    ".overall{border-radius:6px;padding:10px 14px;font-size:16px;font-weight:600;"
    "margin-bottom:12px;border-left:8px solid}"
    ".tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}"
    ".tile{background:#fff;border-radius:6px;padding:10px 12px;border-top:6px solid;"
    "box-shadow:0 1px 2px rgba(0,0,0,.08)}"
    ".figure{font-size:24px;font-weight:700;margin:4px 0}"
    ".why{margin:0;color:#30363d}"
    ".badge{display:inline-block;font-size:11px;font-weight:700;padding:1px 6px;"
    "border-radius:3px;color:#fff;margin-right:6px;vertical-align:1px}"
    ".ok{border-color:#1e7b34}.ok .badge,.badge.ok{background:#1e7b34}"
    ".overall.ok{background:#e6f4ea;color:#14532d}"
    ".info{border-color:#6b7a90}.info .badge,.badge.info{background:#6b7a90}"
    ".overall.info{background:#eef1f5}"
    ".warn{border-color:#b7791f}.warn .badge,.badge.warn{background:#b7791f}"
    ".overall.warn{background:#fff4d6;color:#6b4500}"
    ".bad{border-color:#b42318}.bad .badge,.badge.bad{background:#b42318}"
    ".overall.bad{background:#fde8e8;color:#7a1212}"
    ".tile.warn{background:#fffaf0}.tile.bad{background:#fff5f5}"
    ".window{color:#44546a;margin:8px 0 4px}"
    "main{display:grid;grid-template-columns:1fr 1fr;gap:14px;align-items:start;padding-top:10px;"
    "padding-bottom:20px}"
    ".metric{background:#fff;border-radius:6px;padding:10px 12px;"
    "box-shadow:0 1px 2px rgba(0,0,0,.08);overflow-x:auto}"
    ".metric p{margin:0 0 6px;color:#44546a}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th{text-align:left;background:#eef1f5;font-weight:600}"
    "th,td{padding:3px 8px;border-bottom:1px solid #e3e6ea}"
    "td{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}"
    "table.counter td:last-child,table.hist td:nth-last-child(-n+4),"
    "table.fleet td:last-child{text-align:right}"
    "table tr.none td,table tr.none td:last-child{color:#6b7a90;font-style:italic;"
    "font-family:inherit;text-align:left}"
    "tbody tr:nth-child(even),table tr:nth-child(even){background:#fafbfc}"
    "main>p{grid-column:1/-1;color:#44546a;margin:0}"
    "a{color:#1f5fbf}";

/* "5 min 30 s" */
static const char *span_text(apr_pool_t *p, apr_interval_time_t span)
{
    apr_int64_t sec = apr_time_sec(span);

    if (sec < 60)
        return apr_psprintf(p, "%" APR_INT64_T_FMT " s", sec);
    return apr_psprintf(p, "%" APR_INT64_T_FMT " min %02" APR_INT64_T_FMT " s", sec / 60,
                        sec % 60);
}

/* part of whole, per mille (0 for an empty whole) */
static apr_uint64_t permille(apr_uint64_t part, apr_uint64_t whole)
{
    return whole ? part * 1000 / whole : 0;
}

static const char *pct(apr_pool_t *p, apr_uint64_t part, apr_uint64_t whole)
{
    return whole ? apr_psprintf(p, "%.1f %%", 100.0 * (double)part / (double)whole) : "-";
}

static void tile(request_rec *r, page_summary *sum, const char *id, const char *title,
                 page_state st, const char *figure, const char *why)
{
    page_tile *t = apr_array_push(sum->tiles);

    t->id = id;
    t->title = title;
    t->state = st;
    t->figure = figure;
    t->why = why;
    if (st > sum->worst)
        sum->worst = st;
    if (st >= ST_WARN)
        sum->problems = sum->problems ? apr_pstrcat(r->pool, sum->problems, ", ", title, NULL)
                                      : title;
}

static void tile_redis(request_rec *r, page_summary *sum, const idgw_status_fleet_view *f,
                       const idgw_metrics_summary *d)
{
    const char *where = ap_escape_html(r->pool, f->redis ? f->redis : "");
    const char *errs = apr_psprintf(r->pool, "%" APR_UINT64_T_FMT " Redis error%s counted "
                                    "in the last %d min (idgw_redis_errors_total)",
                                    d->redis_errors, d->redis_errors == 1 ? "" : "s",
                                    IDGW_PAGE_WINDOW_MIN);

    if (f->configured && !f->up)
        tile(r, sum, "sum-redis", "Redis", ST_BAD, "unreachable",
             apr_psprintf(r->pool, "the fleet read from %s failed just now; %s", where, errs));
    else if (f->configured && d->redis_errors == 0)
        tile(r, sum, "sum-redis", "Redis", ST_OK, "reachable",
             apr_psprintf(r->pool, "%s answered the fleet read; %s", where, errs));
    else if (f->configured)
        tile(r, sum, "sum-redis", "Redis", ST_WARN, "reachable, with errors",
             apr_psprintf(r->pool, "%s answered the fleet read; %s", where, errs));
    else
        tile(r, sum, "sum-redis", "Redis", d->redis_errors ? ST_WARN : ST_INFO,
             d->redis_errors ? "errors" : "not checked",
             apr_psprintf(r->pool, "no IdgwStatusRedis here to read from; %s", errs));
}

static void tile_errors(request_rec *r, page_summary *sum, const idgw_metrics_summary *d,
                        const idgw_metrics_summary *dl)
{
    apr_uint64_t pm = permille(d->request_errors, d->requests);
    page_state st = d->requests == 0 ? ST_OK
                  : pm >= IDGW_PAGE_ERRORS_BAD_PERMILLE ? ST_BAD
                  : pm >= IDGW_PAGE_ERRORS_WARN_PERMILLE ? ST_WARN : ST_OK;

    tile(r, sum, "sum-errors", "Error ratio", st,
         d->requests ? pct(r->pool, d->request_errors, d->requests) : "no requests",
         apr_psprintf(r->pool, "%" APR_UINT64_T_FMT " of %" APR_UINT64_T_FMT " requests in the "
                      "last %d min not ok (warn from %d %%, bad from %d %%); %d min: %s",
                      d->request_errors, d->requests, IDGW_PAGE_WINDOW_MIN,
                      IDGW_PAGE_ERRORS_WARN_PERMILLE / 10, IDGW_PAGE_ERRORS_BAD_PERMILLE / 10,
                      IDGW_PAGE_WINDOW_LONG_MIN,
                      pct(r->pool, dl->request_errors, dl->requests)));
}

static void tile_backend(request_rec *r, page_summary *sum, const idgw_metrics_summary *d,
                         const idgw_metrics_summary *dl)
{
    apr_uint64_t pm = permille(d->backend_failures, d->backend_calls);
    page_state st = d->backend_failures == 0 ? ST_OK
                  : pm >= IDGW_PAGE_BACKEND_BAD_PERMILLE ? ST_BAD : ST_WARN;

    const char *why = apr_psprintf(r->pool, "(warn on any, bad from %d %%); %d min: %"
                                   APR_UINT64_T_FMT " of %" APR_UINT64_T_FMT,
                                   IDGW_PAGE_BACKEND_BAD_PERMILLE / 10,
                                   IDGW_PAGE_WINDOW_LONG_MIN, dl->backend_failures,
                                   dl->backend_calls);

    if (d->backend_calls == 0)
        tile(r, sum, "sum-backend", "Backend failures", st, "no calls",
             apr_psprintf(r->pool, "no backend call in the last %d min %s",
                          IDGW_PAGE_WINDOW_MIN, why));
    else
        tile(r, sum, "sum-backend", "Backend failures", st,
             apr_psprintf(r->pool, "%" APR_UINT64_T_FMT " of %" APR_UINT64_T_FMT,
                          d->backend_failures, d->backend_calls),
             apr_psprintf(r->pool, "backend calls in the last %d min that did not succeed: "
                          "%s %s", IDGW_PAGE_WINDOW_MIN,
                          pct(r->pool, d->backend_failures, d->backend_calls), why));
}

static void tile_fleet(request_rec *r, page_summary *sum, const idgw_status_fleet_view *f)
{
    const char *list = "";
    int i, odd = 0;

    if (!f->configured) {
        tile(r, sum, "sum-fleet", "Fleet figures", ST_INFO, "none",
             "no IdgwStatusFleetKey configured for this server");
        return;
    }
    if (!f->up) {
        tile(r, sum, "sum-fleet", "Fleet figures", ST_BAD, "unknown",
             "Redis did not answer: no figures (never zeros that look like figures)");
        return;
    }
    for (i = 0; i < f->n; i++) {
        const char *name = ap_escape_html(r->pool, f->names[i]);
        if (f->values[i] < 0)
            odd++;
        list = apr_pstrcat(r->pool, list, i ? "; " : "", name, " ",
                           f->values[i] >= 0
                           ? apr_psprintf(r->pool, "<b>%" APR_INT64_T_FMT "</b>", f->values[i])
                           : "<b>not a number</b>", NULL);
    }
    tile(r, sum, "sum-fleet", "Fleet figures", odd ? ST_WARN : ST_OK,
         apr_psprintf(r->pool, "%d key%s", f->n, f->n == 1 ? "" : "s"), list);
}

static void render_summary(request_rec *r, idgw_metrics *m, const idgw_status_fleet_view *f,
                           apr_time_t now)
{
    idgw_metrics_summary d, dl;
    apr_interval_time_t span = idgw_metrics_recent(m, now, IDGW_PAGE_WINDOW_MIN, &d);
    apr_interval_time_t span_long = idgw_metrics_recent(m, now, IDGW_PAGE_WINDOW_LONG_MIN, &dl);
    page_summary sum = { apr_array_make(r->pool, 10, sizeof(page_tile)), ST_OK, NULL };
    apr_uint64_t seq_pm = permille(d.sequence_errors, d.requests);
    int i;

    tile_redis(r, &sum, f, &d);
    tile_errors(r, &sum, &d, &dl);
    tile_backend(r, &sum, &d, &dl);
    tile(r, &sum, "sum-degraded", "Degraded decisions", d.degraded ? ST_WARN : ST_OK,
         apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, d.degraded),
         apr_psprintf(r->pool, "decisions taken without Redis in the last %d min "
                      "(warn on any; idgw_degraded_decisions_total)", IDGW_PAGE_WINDOW_MIN));
    tile(r, &sum, "sum-sequence", "Sequence errors",
         d.sequence_errors >= IDGW_PAGE_SEQ_WARN_MIN && seq_pm >= IDGW_PAGE_SEQ_WARN_PERMILLE
         ? ST_WARN : ST_OK,
         apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, d.sequence_errors),
         apr_psprintf(r->pool, "sequence / anti-replay refusals in the last %d min: %s of the "
                      "requests (warn from %d %% and at least %d)", IDGW_PAGE_WINDOW_MIN,
                      pct(r->pool, d.sequence_errors, d.requests),
                      IDGW_PAGE_SEQ_WARN_PERMILLE / 10, IDGW_PAGE_SEQ_WARN_MIN));
    tile(r, &sum, "sum-denials", "ACL denials", ST_INFO,
         apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, d.acl_denials),
         apr_psprintf(r->pool, "access-control denials in the last %d min, by reason in "
                      "idgw_acl_denials_total below", IDGW_PAGE_WINDOW_MIN));
    tile(r, &sum, "sum-requests", "Requests", ST_INFO,
         apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, d.requests),
         apr_psprintf(r->pool, "gateway requests in the last %d min; %" APR_UINT64_T_FMT
                      " in the last %d min", IDGW_PAGE_WINDOW_MIN, dl.requests,
                      IDGW_PAGE_WINDOW_LONG_MIN));
    tile_fleet(r, &sum, f);

    ap_rprintf(r, "<section id=\"summary\" aria-label=\"health summary\">\n"
                  "<div class=\"overall %s\" id=\"sum-overall\" data-state=\"%s\">"
                  "<span class=\"badge\">%s</span>%s</div>\n<div class=\"tiles\">\n",
               state_class[sum.worst], state_class[sum.worst], state_word[sum.worst],
               sum.worst >= ST_WARN
               ? apr_pstrcat(r->pool, "needs a look: ", sum.problems, NULL)
               : "nothing needs attention");
    for (i = 0; i < sum.tiles->nelts; i++) {
        const page_tile *t = &APR_ARRAY_IDX(sum.tiles, i, page_tile);
        ap_rprintf(r, "<div class=\"tile %s\" id=\"%s\" data-state=\"%s\">"
                      "<h3>%s</h3><p class=\"figure\">%s</p>"
                      "<p class=\"why\"><span class=\"badge\">%s</span>%s</p></div>\n",
                   state_class[t->state], t->id, state_class[t->state], t->title, t->figure,
                   state_word[t->state], t->why);
    }
    ap_rputs("</div>\n", r);
    ap_rprintf(r, "<p class=\"window\">Figures over the last %s (%d min window) and %s "
                  "(%d min), from per-minute snapshots of the shared counters; states and "
                  "thresholds: docs/directives.md, mod_idgw_status.</p>\n</section>\n",
               span_text(r->pool, span), IDGW_PAGE_WINDOW_MIN,
               span_text(r->pool, span_long), IDGW_PAGE_WINDOW_LONG_MIN);
}

static int rwrite(void *ctx, const char *data, size_t len)
{
    return ap_rwrite(data, (int)len, ctx) < 0 ? -1 : 0;
}

static void render_fleet_table(request_rec *r, const idgw_status_fleet_view *f)
{
    int i;

    if (!f->configured)
        return;
    ap_rprintf(r, "<section class=\"metric\" id=\"fleet\">\n"
                  "<h2>fleet-wide (Redis %s)</h2>\n", f->up ? "answered" : "unreachable");
    if (!f->up) {
        ap_rputs("<p>no figures: Redis did not answer this read</p>\n</section>\n", r);
        return;
    }
    ap_rputs("<table class=\"fleet\">\n<tr><th>name</th><th>value</th></tr>\n", r);
    for (i = 0; i < f->n; i++) {
        const char *name = ap_escape_html(r->pool, f->names[i]);
        if (f->values[i] >= 0)
            ap_rprintf(r, "<tr><td>%s</td><td>%" APR_INT64_T_FMT "</td></tr>\n", name,
                       f->values[i]);
        else
            ap_rprintf(r, "<tr><td>%s</td><td>not a number</td></tr>\n", name);
    }
    ap_rputs("</table>\n</section>\n", r);
}

int idgw_status_page(request_rec *r, idgw_metrics *m, const idgw_status_fleet_view *fleet)
{
    apr_time_t now = apr_time_now();
    apr_time_t created = idgw_metrics_created(m);

    idgw_metrics_tick(m, now);
    ap_rputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", r);
    ap_rprintf(r, "<title>idgw status - %s</title><style>%s</style></head><body>\n",
               ap_escape_html(r->pool, ap_get_server_name(r)), page_css);
    ap_rprintf(r, "<header><h1>idgw status</h1>\n<p class=\"meta\">server %s &middot; "
                  "counting since %s (%" APR_TIME_T_FMT " s) &middot; page at %s &middot; "
                  "machine-readable: <a href=\"?format=prometheus\">?format=prometheus</a>"
                  "</p></header>\n",
               ap_escape_html(r->pool, ap_get_server_name(r)),
               ap_ht_time(r->pool, created, "%Y-%m-%d %H:%M:%S %Z", 1),
               apr_time_sec(now - created),
               ap_ht_time(r->pool, now, "%H:%M:%S %Z", 1));
    render_summary(r, m, fleet, now);
    ap_rputs("<main>\n", r);
    render_fleet_table(r, fleet);
    idgw_metrics_render_html(m, rwrite, r);
    ap_rputs("</main>\n</body></html>\n", r);
    return OK;
}
