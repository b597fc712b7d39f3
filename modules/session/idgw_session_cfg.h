/*
 * idgw_session_cfg.h - mod_idgw_session's configuration and its internal
 * shared declarations (the module's files only; other modules use mod_idgw.h).
 */
#ifndef IDGW_SESSION_CFG_H
#define IDGW_SESSION_CFG_H

#include "idgw_httpd.h"
#include <http_config.h>

#include "idgw_conf.h"

#include "idgw_cluster.h"
#include "idgw_redis_batch.h"
#include "idgw_redis_pool.h"
#include "idgw_session_call.h"
#include "idgw_session_touch.h"
#include "idgw_session_shed.h"
#include "idgw_vault.h"
#include "mod_idgw.h"

/* Server-wide settings (main server only: one pool per child). */
typedef struct idgw_session_srv {
    idgw_redis_cfg redis;         /* numeric fields IDGW_UNSET until set */
    int redis_server_set;
    const char *key_prefix;
    apr_interval_time_t idle, lifetime, strike_window, pending_lease;
    int max_relays;
    int addr_policy;              /* idgw_addr_policy or IDGW_UNSET */
    long max_body;
    int used;                     /* an IdgwSession On in this server's sections */
    const char *vault_key_file;
    idgw_vault_keys *vault_keys;  /* loaded by the directive, so httpd -t checks the file */
    apr_interval_time_t reaper_grace, reaper_interval;   /* interval 0: reaper off */
    int wait_replicas;            /* IdgwSessionWaitReplicas; 0: commits not confirmed */
    apr_interval_time_t wait_timeout;
} idgw_session_srv;

typedef struct idgw_session_dir {
    int enabled;                  /* IdgwSession; IDGW_UNSET */
    idgw_shed_dir shed;           /* IdgwShedLocalLimit, IdgwShedLatency */
    int allow_plain;              /* IdgwAllowPlainHttp; IDGW_UNSET (off) */
} idgw_session_dir;

extern module AP_MODULE_DECLARE_DATA idgw_session_module;
extern const command_rec idgw_session_cmds[];

void *idgw_session_create_srv(apr_pool_t *p, server_rec *s);
void *idgw_session_merge_srv(apr_pool_t *p, void *base, void *add);
void *idgw_session_create_dir(apr_pool_t *p, char *dir);
void *idgw_session_merge_dir(apr_pool_t *p, void *base, void *add);

/* Fill in defaults and check combinations; NULL or a message. */
const char *idgw_session_cfg_finish(apr_pool_t *p, server_rec *s, idgw_session_srv *c);

/* Values after finish(). */
void idgw_session_limits_get(const idgw_session_srv *c, idgw_session_limits *lim);
int idgw_session_dir_enabled(const idgw_session_dir *d);
int idgw_session_dir_allow_plain(const idgw_session_dir *d);

/* Process-wide state of the module (one per child, set up in post_config/child_init);
 * defined, with who writes what and when, in idgw_session_state.c. */
#define IDGW_SESSION_NSCRIPTS 8

typedef struct idgw_session_globals {
    idgw_session_srv *srv;            /* main server's settings */
    idgw_session_limits limits;
    idgw_vault_keys *vault_keys;      /* NULL: vault disabled */
    idgw_script request_script;       /* per-request script (core + parts) */
    idgw_script commit_script, strike_script, vault_put_script, reap_claim_script;
    idgw_script count_script;         /* a strike counter on its own slot (Cluster) */
    idgw_script reap_putback_script, unwatch_script;
    const idgw_script *all_scripts[IDGW_SESSION_NSCRIPTS];
    /* the reaper (idgw_reaper.c): the handler that tells the backends, and
     * the settings of IdgwSessionReaper (interval 0: off) */
    idgw_reaper_fn reaper_fn;
    apr_interval_time_t reaper_grace, reaper_interval;
    idgw_redis_pool *pool;            /* per child (single server or Sentinel) */
    idgw_cluster *cluster;            /* per child, IdgwRedisCluster (pool is then NULL) */
    /* per child with a pool: the status read's batcher and the sessions this
     * child refreshed a moment ago (idgw_session_read.c; NULL: reads off) */
    idgw_redis_batch *batch;
    idgw_touch_table *touched;
    /* the longest a step may take, declared by the content handler's module
     * (idgw_session_step_budget, post_config; 0: none declared) */
    apr_interval_time_t step_worst;
    const char *step_worst_by;
    const idgw_script_part *parts[IDGW_SCRIPT_MAX_PARTS];
    int nparts;
    /* per step kind: the operation vault's items its handler reads, read
     * with the claim (idgw_vault_prefetch, post_config; NULL: none) */
    const char *prefetch[IDGW_STEP_COUNT];
} idgw_session_globals;

extern idgw_session_globals idgw_g;

/* Per-request state (r->request_config). */
/* A sealed vault item written by the step's commit (idgw_vault_stage). */
typedef struct idgw_vault_staged {
    int session_scope;                /* IDGW_VAULT_SESSION (else the operation's) */
    const char *name;
    const char *blob;                 /* sealed */
    size_t len;
    int reaped;                       /* the reaper keeps a copy (idgw_vault_put_reaped) */
} idgw_vault_staged;

/* An operation vault item as the step's claim read it (idgw_vault_prefetch). */
typedef struct idgw_vault_prefetched {
    const char *name;                 /* NULL: forgotten (this request wrote it) */
    const char *blob;                 /* sealed; NULL: none stored */
    size_t len;
} idgw_vault_prefetched;

typedef struct idgw_session_req {
    idgw_session_info info;
    const char *body;
    apr_size_t body_len;
    int claimed;                      /* a step transition belongs to this request */
    apr_int64_t attempt;              /* its attempt number: fences commit and vault writes */
    int committed;
    const char *proof;                /* what proved the session's identities in this
                                         request ("chip", "user"): the commit records it */
    apr_array_header_t *staged;       /* idgw_vault_staged: vault items the commit
                                         writes (idgw_vault_stage); NULL: none */
    apr_array_header_t *prefetched;   /* idgw_vault_prefetched: operation vault items
                                         the claim read (NULL: none) */
    /* retransmission: the stored answer */
    int replay;
    int replay_status;
    const char *replay_type;
    const char *replay_body;
    apr_size_t replay_len;
} idgw_session_req;

/* NULL when the request had no session check (idgw_session_state.c). */
idgw_session_req *idgw_session_req_get(request_rec *r);

/* idgw_session_unwatch.c: mod_idgw.h's optional function. */
apr_status_t idgw_session_unwatch(request_rec *r);

/*
 * Run a script and wait for its reply (every write is confirmed before the
 * answer): a connection tied to the request, EVALSHA (NOSCRIPT handled),
 * retried once on READONLY (the script wrote nothing).  Errors are logged with
 * their log id; the return value is OK, HTTP_SERVICE_UNAVAILABLE or
 * HTTP_INTERNAL_SERVER_ERROR.
 */
/* The status read (idgw_session_read.c, idgw_status_read.h): OK with res
 * filled when one pipelined read answered the status, DECLINED when the
 * script must (it was not fresh, found something only the script may
 * answer, or the breaker is open), HTTP_SERVICE_UNAVAILABLE when Redis
 * failed (logged).  The upkeep of the touch table after a script. */
int idgw_session_status_read(request_rec *r, const idgw_session_request *rq,
                             idgw_session_result *res);
int idgw_session_read_fresh(const idgw_session_request *rq);
void idgw_session_read_after_script(const idgw_session_request *rq,
                                    const idgw_session_result *res, apr_time_t sent);
void idgw_session_read_child_init(apr_pool_t *pchild, server_rec *s);

/* Detected rollback (idgw_session_history.c): the master's history into rq
 * from the request's connection; the IDGW0165 line of a rolled-back session. */
void idgw_session_history_args(request_rec *r, idgw_session_request *rq);
void idgw_session_log_rollback(request_rec *r, const idgw_session_request *rq);

/* Operations left for reconciliation (idgw_session_unsettled.c): the
 * optional function idgw_unsettled_record, and the record of a session
 * found rolled back (correlation_id: the session's, NULL when unknown). */
void idgw_session_unsettled_register(void);
apr_status_t idgw_session_unsettled_rollback(request_rec *r, const idgw_session_request *rq,
                                             const char *correlation_id);
/* What the record writer and the settlement (idgw_session_settle.c) share:
 * a connection tied to p; one command, its reply or NULL with the error text
 * in err; the key of a chip's index of unsettled records. */
apr_status_t idgw_unsettled_conn(apr_pool_t *p, idgw_redis_conn **conn, char *err,
                                 size_t errlen);
redisReply *idgw_unsettled_run(idgw_redis_conn *conn, int argc, const char **argv,
                               const size_t *lens, char *err, size_t errlen);
const char *idgw_unsettled_chip_key(apr_pool_t *p, const char *idm);
void idgw_session_settle_register(void);

/* A script through the child's batcher (idgw_session_redis.c): OK, an
 * error (logged), DECLINED (not run: the pool should run it), or
 * IDGW_SESSION_RUN_OTHER_HISTORY (not sent: made for another master's
 * history; origin tells the one the batch met). */
#define IDGW_SESSION_RUN_OTHER_HISTORY (-4711)
/* n commands through the child's batcher, timed for load shedding: OK
 * (replies set), DECLINED (not sent: the breaker is open; the pool path
 * answers and logs it), IDGW_SESSION_RUN_OTHER_HISTORY (not sent: made for
 * another master's history, origin tells which) or HTTP_SERVICE_UNAVAILABLE
 * (the connection failed: IDGW0111 names what and name). */
int idgw_session_batch(request_rec *r, const char *what, const char *name, int n,
                       const idgw_redis_batch_cmd *cmds, const char *expect_replid,
                       redisReply **replies, idgw_redis_batch_origin *origin);
/* A reply that lives as long as the request (freed with r->pool). */
void idgw_session_keep_reply(request_rec *r, redisReply *reply);
int idgw_session_run_batched(request_rec *r, const idgw_script *s, idgw_script_args *a,
                             int parts_header, const char *expect_replid, redisReply **reply,
                             idgw_redis_batch_origin *origin);

int idgw_session_run(request_rec *r, const idgw_script *s, idgw_script_args *a,
                     int parts_header, redisReply **reply);

/*
 * Redis Cluster mode (idgw_session_cluster.c).  idgw_session_run goes here
 * when idgw_g.cluster is set: the script runs on the master of its keys' slot
 * (keys of several slots: IDGW0190, 500), redirections followed by the
 * router; not run (IDGW0191) or lost after sending (IDGW0192): 503.
 * wait_replicas > 0: WAIT behind the script on the slot master's connection,
 * on every try; *acked receives its answer (-1: none), judged by the caller
 * as in single mode (idgw_session_redis.c).
 */
int idgw_session_cluster_run(request_rec *r, const idgw_script *s, idgw_script_args *a,
                             int parts_header, redisReply **reply, int wait_replicas,
                             int *acked);

/* Partners' per-request scripts on a Cluster (mod_idgw.h, companions): sent
 * with the per-request script by idgw_session_cluster_run (parts_header), or
 * here on their own first, for a request that must not advance when one of
 * them refuses.  OK, or the status of a refusal (sent by the companion). */
apr_status_t idgw_session_cluster_companion_register(apr_pool_t *pconf,
                                                     const idgw_cluster_companion *c);
int idgw_session_cluster_companions_first(request_rec *r);
/* The status read's commands on a Cluster (idgw_status_read.h): HMGET and
 * TIME on the session's slot, with the companions' scripts, in one round
 * trip.  OK with the replies (NULL: that command did not come back; the
 * caller frees them), or the status of a companion's refusal (sent).  The
 * companions have had their replies either way. */
struct idgw_status_read_cmds;
int idgw_session_cluster_read(request_rec *r, struct idgw_status_read_cmds *cmds,
                              redisReply **hm_reply, redisReply **tm_reply);
/* A refusal with a strike: the companions count theirs (mod_idgw.h). */
void idgw_session_cluster_companions_struck(request_rec *r);

/* A plain command on the master of argv[1]'s slot (owner: the request's pool
 * or a pool the caller destroys); NULL with the reason in err. */
/* A partner's script through the router (mod_idgw.h). */
redisReply *idgw_session_cluster_eval_script(apr_pool_t *owner, const idgw_script *s,
                                             idgw_script_args *a, char *err, size_t errlen);
int idgw_session_cluster_eval_scripts(apr_pool_t *owner, const idgw_script *s,
                                      idgw_script_args *const *args, int n,
                                      redisReply **replies, char *err, size_t errlen);
redisReply *idgw_session_cluster_command(apr_pool_t *owner, int argc, const char **argv,
                                         const size_t *lens, char *err, size_t errlen);

/* The same, routed by argv[key_arg] (EVAL of a script: its first key, 3). */
redisReply *idgw_session_cluster_command_at(apr_pool_t *owner, int key_arg, int argc,
                                            const char **argv, const size_t *lens, char *err,
                                            size_t errlen);

/* The strike counters the script left to the caller (Cluster): the address,
 * and the terminal too when terminal is set, each on its own slot, in one
 * round trip.  APR_SUCCESS or not (IDGW0193 logged). */
apr_status_t idgw_session_cluster_strikes(request_rec *r, const char *tid, const char *addr,
                                          int terminal);

/* What a script's reply means (idgw_session_redis.c): OK, or 503/500 logged
 * (conn: the connection it came on, NULL in Cluster mode). */
int idgw_session_reply_status(request_rec *r, const idgw_script *s, idgw_redis_conn *conn,
                              redisReply *reply);

/*
 * idgw_session_run for a write that advances a session (open, a step's
 * claim, its commit, close): with IdgwSessionWaitReplicas N, WAIT N follows
 * the script in the same round trip.  *confirmed is 1 when N replicas (or
 * none asked for) acknowledged it, 0 when not (IDGW0166 logged: the write is
 * on the master only and a failover may lose it; answer IDGW-SRV-006).
 */
int idgw_session_run_confirmed(request_rec *r, const idgw_script *s, idgw_script_args *a,
                               int parts_header, redisReply **reply, int *confirmed);

/*
 * Read what the message asks for into rq and its body into req
 * (idgw_session_request.c).  OK, or the DONE of the error response sent.
 */
int idgw_session_parse_request(request_rec *r, idgw_session_request *rq,
                               idgw_session_req *req, const char **token);

/*
 * The method check alone, for the translate_name hook: httpd's core answers
 * TRACE in map_to_storage, before fixups, so the session check would never
 * see it (idgw_session_request.c).  OK, or the DONE of the 405 sent.
 */
int idgw_session_check_method(request_rec *r);

/*
 * The transport check (idgw_session_tls.c): the API answers over TLS only,
 * unless IdgwAllowPlainHttp On allows plain HTTP for the section (tests, or
 * behind a TLS-terminating proxy).  OK, or the DONE of the 403 IDGW-REQ-009
 * sent (logged IDGW0180).  Runs before the method check and again before the
 * session check, so no token is ever issued in clear.
 */
int idgw_session_check_tls(request_rec *r, const idgw_session_dir *d);

/* The filter that makes httpd's own answer to broken chunks XML
 * (idgw_session_request.c): called from register_hooks. */
void idgw_session_body_hooks(void);

/* Handlers (idgw_session_http.c). */
int idgw_session_handler(request_rec *r);

/* Optional functions (idgw_session_exports.c). */
void idgw_session_register_exports(void);
void idgw_session_auto_commit(request_rec *r);
/* Commit this request's claimed step as aborted, with an XML error body as its answer. */
void idgw_session_commit_abort(request_rec *r, int http_status, const char *body);

#endif
