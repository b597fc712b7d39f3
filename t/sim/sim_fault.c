/* sim_fault.c: fault injection for the simulators.
 *
 * A fault spec is a ';'-separated list of:
 *   delay=MS    wait before answering          refuse     reset, no answer
 *   reset       part of the answer, then reset status=CODE HTTP CODE (400..599)
 *   malformed   200 with a body that is no telegram
 *   truncated   full Content-Length, half the body, then close
 *   unframed    the whole body without Content-Length or chunked coding, then
 *               a clean close (close_notify): a close-delimited answer
 *   slow=MS     the body in 64-byte pieces, MS apart
 *   logo=BYTES  brand: a logo of BYTES bytes (1..73728, the schema's largest)
 *               instead of the issuer's; byte i is (131 * i + 7) mod 256
 *   only=TYPE   a switch file's fault for telegrams of TYPE only (e.g.
 *               CARD_WRITTEN_REQ): others pass it by without using its count;
 *               applied once the telegram is read (delay, status, refuse)
 * Per request: the request header X-Idgw-Sim-Fault.  Per run: a switch file
 * IdgwSimRunDir/faults/<service> holding "SPEC COUNT" (COUNT requests, -1 =
 * until cleared), set through the control location or scripts/idgw-sim fault;
 * it is read and decremented under an exclusive lock, so it is exact across
 * child processes.  Without a switch file the cost is one failed stat. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_portable.h>
#include <http_protocol.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_log.h>
#include "sim.h"

#define MAX_SPEC 200
#define PIECE 64

static int parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (end == s || *end || v < min || v > max)
        return 0;
    *out = (int)v;
    return 1;
}

const char *sim_fault_parse(const char *spec, sim_fault_t *f)
{
    char buf[MAX_SPEC + 1];
    char *save = NULL;

    memset(f, 0, sizeof(*f));
    if (strlen(spec) > MAX_SPEC)
        return "fault spec too long";
    strcpy(buf, spec);
    for (char *item = strtok_r(buf, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(item, '=');
        const char *val = eq ? eq + 1 : NULL;
        if (eq)
            *eq = '\0';
        if (strcmp(item, "delay") == 0 && val && parse_int(val, 0, 60000, &f->delay_ms))
            continue;
        if (strcmp(item, "slow") == 0 && val && parse_int(val, 1, 10000, &f->slow_ms))
            continue;
        if (strcmp(item, "status") == 0 && val && parse_int(val, 400, 599, &f->status))
            continue;
        if (strcmp(item, "logo") == 0 && val && parse_int(val, 1, SIM_LOGO_MAX_BYTES, &f->logo_bytes))
            continue;
        if (strcmp(item, "only") == 0 && val && *val && strlen(val) < sizeof(f->only)) {
            strcpy(f->only, val);
            continue;
        }
        if (!val && strcmp(item, "refuse") == 0)
            f->refuse = 1;
        else if (!val && strcmp(item, "reset") == 0)
            f->reset_mid = 1;
        else if (!val && strcmp(item, "malformed") == 0)
            f->malformed = 1;
        else if (!val && strcmp(item, "truncated") == 0)
            f->truncated = 1;
        else if (!val && strcmp(item, "unframed") == 0)
            f->unframed = 1;
        else if (!val && strcmp(item, "none") == 0)
            continue;
        else
            return "unknown fault (delay=MS, refuse, reset, status=CODE, malformed, truncated, "
                   "unframed, slow=MS, logo=BYTES, only=TYPE)";
    }
    return NULL;
}

static const char *switch_path(apr_pool_t *p, const sim_server_conf_t *sc, sim_service_t svc)
{
    return apr_pstrcat(p, sc->run_dir, "/faults/", sim_service_name(svc), NULL);
}

/* Whether a switch's spec is for this call: one without only= before the
 * telegram is read (type NULL), one with only=type after. */
static int switch_applies(const char *spec, const char *type)
{
    sim_fault_t f;

    if (sim_fault_parse(spec, &f) != NULL)
        return type == NULL;
    return type ? strcmp(f.only, type) == 0 : f.only[0] == '\0';
}

/* Reads "SPEC COUNT", takes one use when it applies (switch_applies),
 * rewrites or removes the file. */
static int take_switch(request_rec *r, const char *path, const char *type, char *spec,
                       size_t cap)
{
    char buf[MAX_SPEC + 32];
    int fd = open(path, O_RDWR);
    ssize_t n;
    long count;
    char *sp;
    int got = 0;

    if (fd < 0)
        return 0;
    if (flock(fd, LOCK_EX) == 0 && (n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        sp = strrchr(buf, ' ');
        count = sp ? strtol(sp + 1, NULL, 10) : 0;
        if (sp)
            *sp = '\0';
        if (sp && count != 0 && (size_t)(sp - buf) < cap && switch_applies(buf, type)) {
            strcpy(spec, buf);
            got = 1;
            if (count > 0) {
                char line[MAX_SPEC + 32];
                int len = snprintf(line, sizeof(line), "%s %ld\n", spec, count - 1);
                if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len)
                    ap_log_rerror(APLOG_MARK, APLOG_WARNING, errno, r,
                                  "IDGWSIM0010: cannot update fault switch");
            }
        }
    }
    close(fd);
    return got;
}

int sim_fault_for_request(request_rec *r, const sim_server_conf_t *sc, sim_service_t svc,
                          const char *type, sim_fault_t *out)
{
    const char *hdr = apr_table_get(r->headers_in, "X-Idgw-Sim-Fault");
    const char *path;
    char spec[MAX_SPEC + 1];
    struct stat st;

    if (hdr)
        return !type && sim_fault_parse(hdr, out) == NULL;
    path = switch_path(r->pool, sc, svc);
    if (stat(path, &st) != 0 || !take_switch(r, path, type, spec, sizeof(spec)))
        return 0;
    return sim_fault_parse(spec, out) == NULL;
}

/* POST /control?service=NAME&fault=SPEC&count=N  (fault=none clears). */
int sim_fault_control(request_rec *r, const sim_server_conf_t *sc)
{
    apr_table_t *args = apr_table_make(r->pool, 4);
    const char *svc_name, *spec, *count_s;
    sim_fault_t f;
    sim_service_t svc = SIM_NONE;
    int count = -1;
    const char *path;
    FILE *fp;
    char *q = r->args ? apr_pstrdup(r->pool, r->args) : NULL;
    char *save = NULL;

    for (char *kv = q ? apr_strtok(q, "&", &save) : NULL; kv; kv = apr_strtok(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq) {
            *eq = '\0';
            ap_unescape_url(eq + 1);
            apr_table_setn(args, kv, eq + 1);
        }
    }
    svc_name = apr_table_get(args, "service");
    spec = apr_table_get(args, "fault");
    count_s = apr_table_get(args, "count");
    for (int s = SIM_CREMO; s <= SIM_FELICA; s++)
        if (svc_name && strcmp(svc_name, sim_service_name((sim_service_t)s)) == 0)
            svc = (sim_service_t)s;
    if (svc == SIM_NONE || !spec || sim_fault_parse(spec, &f)
        || (count_s && !parse_int(count_s, -1, 1000000, &count)) || count == 0)
        return HTTP_BAD_REQUEST;
    path = switch_path(r->pool, sc, svc);
    if (strcmp(spec, "none") == 0) {
        unlink(path);
    }
    else {
        const char *tmp = apr_pstrcat(r->pool, path, ".tmp", NULL);
        if (!(fp = fopen(tmp, "w")))
            return HTTP_INTERNAL_SERVER_ERROR;
        fprintf(fp, "%s %d\n", spec, count);
        fclose(fp);
        if (rename(tmp, path) != 0)
            return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_set_content_type(r, "text/plain");
    ap_rputs("ok\n", r);
    return OK;
}

void sim_abort_connection(request_rec *r)
{
    apr_socket_t *sock = ap_get_conn_socket(r->connection);
    apr_os_sock_t fd;
    struct linger lg = {1, 0};

    /* SO_LINGER 0: the close httpd does next sends a reset, not a FIN. */
    if (sock && apr_os_sock_get(&fd, sock) == APR_SUCCESS)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    r->connection->keepalive = AP_CONN_CLOSE;
    r->connection->aborted = 1;
}

int sim_fault_send(request_rec *r, const sim_fault_t *f, const char *content_type,
                   const char *body, apr_size_t len)
{
    ap_set_content_type(r, content_type);
    if (f && f->truncated) {
        ap_set_content_length(r, (apr_off_t)len);
        ap_rwrite(body, (int)(len / 2), r);
        ap_rflush(r);
        sim_abort_connection(r);
        return OK;
    }
    if (f && f->unframed) {
        /* No keep-alive means no chunked coding; the flush before the end
         * sends the head before httpd could count a Content-Length. */
        r->connection->keepalive = AP_CONN_CLOSE;
        ap_rwrite(body, (int)(len / 2), r);
        ap_rflush(r);
        ap_rwrite(body + len / 2, (int)(len - len / 2), r);
        return OK;
    }
    if (f && f->reset_mid) {
        ap_set_content_length(r, (apr_off_t)len);
        ap_rwrite(body, (int)(len / 3), r);
        ap_rflush(r);
        apr_sleep(apr_time_from_msec(50));
        sim_abort_connection(r);
        return OK;
    }
    ap_set_content_length(r, (apr_off_t)len);
    if (f && f->slow_ms) {
        for (apr_size_t off = 0; off < len && !r->connection->aborted; off += PIECE) {
            apr_size_t n = len - off < PIECE ? len - off : PIECE;
            ap_rwrite(body + off, (int)n, r);
            ap_rflush(r);
            apr_sleep(apr_time_from_msec(f->slow_ms));
        }
        return OK;
    }
    ap_rwrite(body, (int)len, r);
    return OK;
}
