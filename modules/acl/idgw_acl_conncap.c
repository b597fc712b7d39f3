/* idgw_acl_conncap: IdgwAclMaxConnPerAddr, the shared table's life, and the
 * pre_connection hook that closes a connection over its address's cap (see
 * idgw_acl_conncap.h).
 *
 * Why a cap of our own rather than mod_qos's QS_SrvMaxConnPerIP: mod_qos's
 * connection-level limits are documented by its author as limited under the
 * event MPM, which this gateway runs; its per-address exemption is all or
 * nothing, while a carrier NAT address needs a larger cap, not none.
 *
 * Why pre_connection: on httpd 2.4 a worker does the TLS handshake and reads
 * the request headers, so a slow client holds a worker from its first byte;
 * refusing before the handshake costs one short worker turn per refused
 * connection, and the addresses that hold connections open can hold no more
 * than their cap of workers. */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <http_log.h>

#include "idgw_acl_conncap.h"
#include "idgw_conncap.h"
#include "idgw_log_limit.h"

APLOG_USE_MODULE(idgw_acl);

#define CAP_MAX 1000000

/* A cap for the networks of one directive line. */
typedef struct {
    idgw_cidr_set *nets;
    unsigned cap;
} cap_range;

static struct {
    int default_cap;                 /* -1: unset (no cap) */
    apr_array_header_t *ranges;      /* cap_range, in configuration order */
    idgw_conncap *table;             /* NULL: no cap configured */
    int row;                         /* this child's row, -1 before child_init */
    const idgw_metrics_fns *metrics;
    idgw_log_limit refusal_log;      /* IDGW0350: one line a second */
} cc = { -1, NULL, NULL, -1, NULL, { 0, 0 } };

void idgw_acl_conncap_reset(void)
{
    cc.default_cap = -1;
    cc.ranges = NULL;
    cc.table = NULL;
    cc.row = -1;
}

const char *idgw_acl_conncap_set(cmd_parms *cmd, void *dconf, int argc, char *const argv[])
{
    const char *err;
    char *end;
    long n;
    cap_range *range;

    if (cmd->server->is_virtual) {
        return "IdgwAclMaxConnPerAddr is server-wide: set it outside <VirtualHost>";
    }
    if (argc < 1) {
        return "IdgwAclMaxConnPerAddr needs a number of connections (0 = no cap)";
    }
    errno = 0;
    n = strtol(argv[0], &end, 10);
    if (errno || end == argv[0] || *end || n < 0 || n > CAP_MAX) {
        return apr_psprintf(cmd->pool, "IdgwAclMaxConnPerAddr: '%s' is not a number of "
                            "connections from 0 (no cap) to %d", argv[0], CAP_MAX);
    }
    if (argc == 1) {
        if (cc.default_cap >= 0) {
            return "IdgwAclMaxConnPerAddr without networks is given twice";
        }
        cc.default_cap = (int)n;
        return NULL;
    }
    if (cc.ranges == NULL) {
        cc.ranges = apr_array_make(cmd->pool, 4, sizeof(cap_range));
    }
    range = apr_array_push(cc.ranges);
    range->cap = (unsigned)n;
    range->nets = idgw_cidr_set_make(cmd->pool);
    for (int i = 1; i < argc; i++) {
        if ((err = idgw_cidr_set_add(range->nets, argv[i])) != NULL) {
            return apr_psprintf(cmd->pool, "IdgwAclMaxConnPerAddr: %s", err);
        }
    }
    return NULL;
}

/* The cap of an address: the first line whose networks hold it, else the
 * default; 0 = none. */
static unsigned cap_of(const idgw_ip *ip)
{
    if (cc.ranges != NULL) {
        for (int i = 0; i < cc.ranges->nelts; i++) {
            const cap_range *r = &APR_ARRAY_IDX(cc.ranges, i, cap_range);

            if (idgw_cidr_set_find(r->nets, ip) >= 0) {
                return r->cap;
            }
        }
    }
    return cc.default_cap > 0 ? (unsigned)cc.default_cap : 0;
}

static int configured(void)
{
    int any = cc.default_cap > 0;

    for (int i = 0; !any && cc.ranges != NULL && i < cc.ranges->nelts; i++) {
        any = APR_ARRAY_IDX(cc.ranges, i, cap_range).cap > 0;
    }
    return any;
}

const char *idgw_acl_conncap_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv;
    int limit = 0;
    unsigned rows;

    cc.table = NULL;
    if (!configured()) {
        return NULL;
    }
    /* a row per child process that can live at once, twice over: a row is
     * free again only once its dead owner has been reaped */
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit) != APR_SUCCESS || limit < 1) {
        limit = 16;
    }
    rows = (unsigned)limit * 2;
    /* anonymous: inherited by the children, gone with the last of them; a
     * restart makes a new one (the old generation finishes on its own) */
    rv = apr_shm_create(&shm, idgw_conncap_size(rows), NULL, pconf);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(pconf, "cannot create the shared memory of "
                            "IdgwAclMaxConnPerAddr (%u rows): %pm", rows, &rv);
    }
    cc.table = idgw_conncap_init(apr_shm_baseaddr_get(shm), rows);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "IDGW0351: connections per client address "
                 "capped at %d (%d network-specific caps); %u process rows",
                 cc.default_cap > 0 ? cc.default_cap : 0,
                 cc.ranges ? cc.ranges->nelts : 0, rows);
    return NULL;
}

static int alive(apr_uint32_t pid)
{
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

void idgw_acl_conncap_child_init(apr_pool_t *pchild, server_rec *s,
                                 const idgw_metrics_fns *metrics)
{
    cc.metrics = metrics;
    cc.row = -1;
    if (cc.table == NULL) {
        return;
    }
    cc.row = idgw_conncap_claim_row(cc.table, (apr_uint32_t)getpid(), alive);
    if (cc.row < 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "IDGW0352: no free row in the "
                     "connection-cap table: this process does not cap connections "
                     "per address");
    }
}

typedef struct {
    int row;
    idgw_ip ip;
} held_conn;

static apr_status_t release(void *data)
{
    held_conn *h = data;

    if (cc.table != NULL) {
        idgw_conncap_release(cc.table, h->row, &h->ip);
    }
    return APR_SUCCESS;
}

/* At most one IDGW0350 a second per process, with the refusals since the
 * last one: an attack must not flood the error log. */
static void log_refusal(conn_rec *c, unsigned open, unsigned cap)
{
    apr_uint32_t n = 0;

    if (!idgw_log_limit_pass(&cc.refusal_log, &n)) {
        return;
    }
    ap_log_cerror(APLOG_MARK, APLOG_WARNING, 0, c, "IDGW0350: connection from %s closed: "
                  "%u open from this address, cap %u (IdgwAclMaxConnPerAddr); %u refused "
                  "by this process since the last IDGW0350", c->client_ip, open, cap, n);
}

int idgw_acl_conncap_pre_connection(conn_rec *c, void *csd)
{
    held_conn *h;
    unsigned cap, open;
    idgw_ip ip;

    if (cc.table == NULL || cc.row < 0 || c->master != NULL
        || !idgw_ip_from_sockaddr(c->client_addr, &ip) || (cap = cap_of(&ip)) == 0) {
        return DECLINED;
    }
    if (!idgw_conncap_acquire(cc.table, cc.row, &ip, cap, &open)) {
        log_refusal(c, open, cap);
        if (cc.metrics != NULL) {
            IDGW_METRIC_COUNT(cc.metrics, IDGW_M_ACL_DENIALS, "connections", NULL, NULL, 1);
        }
        /* an error status: httpd marks the connection aborted, skips the
         * later pre_connection hooks (no TLS set up) and closes it */
        c->aborted = 1;
        return HTTP_SERVICE_UNAVAILABLE;
    }
    h = apr_palloc(c->pool, sizeof(*h));
    h->row = cc.row;
    h->ip = ip;
    apr_pool_cleanup_register(c->pool, h, release, apr_pool_cleanup_null);
    return DECLINED;
}
