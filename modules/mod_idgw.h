/*
 * mod_idgw.h - the only thing one idgw module knows of another: the optional
 * functions mod_idgw_session (and, at the end, mod_idgw_acl) exports.
 *
 * mod_idgw_session checks every request under <Location> with
 * "IdgwSession On" before the content handler runs (fixups hook): it reads
 * the request body, then runs ONE Redis script that checks the token, the
 * binding, the timeouts, the sequence number and the transition table, and
 * claims the transition.  The content handler (mod_idgw_convert, or the
 * session module's own "idgw-session" handler) then does the work and
 * commits the answer with idgw_session_commit, so a retransmission of the
 * same message gets the same answer.
 *
 * The other modules reach these functions as optional functions, e.g.
 *     static APR_OPTIONAL_FN_TYPE(idgw_session_get) *session_get;
 *     ... in an optional_fn_retrieve hook:
 *     session_get = APR_RETRIEVE_OPTIONAL_FN(idgw_session_get);
 *     if (!session_get) -> refuse to start: "mod_idgw_session is not loaded"
 *
 * Wire contract (smartphone interface, HTTP level):
 *   URL:     .../<operation>/<step>    e.g. /idgw/add_card/relay
 *            .../session/open  .../session/status  .../session/close
 *   headers: X-Idgw-Terminal   terminal id            (every request)
 *            X-Idgw-IDm        chip IDm, 16 hex       (every request)
 *            X-Idgw-Token      session token          (all but open)
 *            X-Idgw-Seq        sequence number 1,2,.. (all but open and status)
 *   A replayed answer carries "X-Idgw-Replay: 1".  Errors are XML
 *   (idgw_xml_error.h).
 */
#ifndef MOD_IDGW_H
#define MOD_IDGW_H

#include "idgw_httpd.h"
#include <apr_optional.h>

#include "idgw_redis.h"
#include "idgw_script.h"
#include "idgw_identity.h"
#include "idgw_transitions.h"
#include "idgw_xml_error.h"

#define IDGW_HEADER_TERMINAL "X-Idgw-Terminal"
#define IDGW_HEADER_IDM      "X-Idgw-IDm"
#define IDGW_HEADER_TOKEN    "X-Idgw-Token"
#define IDGW_HEADER_SEQ      "X-Idgw-Seq"
#define IDGW_HEADER_REPLAY   "X-Idgw-Replay"

/* r->notes entry a refused request carries when it earned a strike:
 * "session" (it proved it belongs to a proven session: token and binding
 * matched, and the session's chip or user was proven, idgw_session_prove; its
 * terminal id and address are struck) or "address" (anything else: unknown,
 * expired or closed token, binding mismatch, or a session nothing has proven
 * yet; only the client address, an IPv6 client by its /64, is struck, never
 * the terminal id it merely names: session/open accepts any). */
#define IDGW_NOTE_STRIKE     "idgw-strike-scope"

/* r->notes entry a step carries when it lost its claim while it ran: its
 * commit or a vault write was refused because the session was ended meanwhile
 * (the code that ended it, e.g. IDGW-SEQ-003 when another message took the
 * same sequence number), has expired (IDGW-SES-001/-004), or a retry took the
 * step over after the lease (IDGW-SEQ-006); or because Redis did not store it
 * (IDGW-SRV-003).  The value is the code of the error to answer instead. */
#define IDGW_NOTE_STEP_LOST  "idgw-step-lost"

/* handler names */
#define IDGW_SESSION_HANDLER "idgw-session"          /* open / status / close answers */

/* The session as this request sees it (valid for the request's lifetime). */
typedef struct idgw_session_info {
    const char *sid;            /* hash of the token: names the Redis keys */
    const char *sid_log;        /* first 8 hex digits of sid: the only form to log */
    const char *token;          /* the token: only on the open request (for the answer) */
    idgw_op op;                 /* what this request is */
    idgw_step step;
    idgw_state from;            /* state before this request */
    idgw_state to;              /* state after it */
    apr_int64_t seq;              /* this request's sequence number (0 for open/status) */
    int relays;                 /* relay round trips so far in this operation */
    int reclaimed;              /* a retry of a step whose first attempt never answered
                                   within the lease: the handler must not run a
                                   non-idempotent step again (mod_idgw_convert aborts the
                                   operation: IDGW-SEQ-006) */
    const char *terminal_id;
    const char *idm;            /* uppercase hex */
    const char *client_addr;
    apr_time_t created;
    apr_time_t deadline;        /* absolute end of the session */
    const char *correlation_id; /* one id per gateway session for backend telegrams:
                                   random, drawn at open, never derived from the token */
} idgw_session_info;

typedef enum idgw_commit_outcome {
    IDGW_COMMIT_OK,             /* the step succeeded: state stays as claimed */
    IDGW_COMMIT_ABORT           /* the step failed: the operation ends, state back to ready */
} idgw_commit_outcome;

typedef enum idgw_vault_scope {
    IDGW_VAULT_OPERATION,       /* deleted when the operation completes or aborts */
    IDGW_VAULT_SESSION          /* kept until the session closes or expires */
} idgw_vault_scope;

/*
 * A part of the per-request Redis script contributed by another module
 * (see idgw_script.h for the Lua side).  Register from a post_config hook
 * that runs before APR_HOOK_REALLY_LAST; the part is kept until the next
 * configuration cycle.  Per request, for every request the session module
 * checks:
 *   add_args(r, a): push the part's KEYS/ARGV with idgw_script_args_key /
 *                   idgw_script_args_arg (the part is already started);
 *   on_result(r, result): the part's own result (a redisReply, NULL when the
 *                   part returned nothing); return OK to go on, or an HTTP
 *                   status / DONE (after sending a response) to stop.
 * A "before" part's {'DENY', code, status} ends the request with that XML
 * error before the session is touched.  A "before" part receives as `core` a
 * function proven() that says whether this request belongs to a proven
 * session (token and binding match, idgw_session_prove recorded a proof); it
 * costs no Redis command beyond the session core's own read of the session.
 */
struct redisReply;
typedef struct idgw_script_part {
    const char *name;           /* [A-Za-z0-9_], for logs */
    const char *lua_body;       /* body of function(K, A, core) */
    int after_core;             /* 0: runs before the session core, may DENY */
    void (*add_args)(request_rec *r, idgw_script_args *a);
    int (*on_result)(request_rec *r, const struct redisReply *result);
    /* NULL, or Lua definitions the body uses, made once where Redis keeps
     * the script as a function library (idgw_script.h): no per-call state */
    const char *lua_setup;
    /* NULL, or called when this part denied the request, with the detail of
     * its {'DENY', code, status, detail} (NULL when it gave none), before
     * the refusal is sent: for side effects (a ban the refusal earned) */
    void (*on_deny)(request_rec *r, const struct redisReply *detail);
} idgw_script_part;

/* The checked session of this request; NULL when the request was not checked. */
APR_DECLARE_OPTIONAL_FN(const idgw_session_info *, idgw_session_get, (request_rec *r));

/*
 * Commit the answer of this request's step (store it for retransmissions;
 * ABORT also ends the operation and drops its vault items; the completion
 * step drops them too; so does close, whose request still finds an open
 * operation's items in the vault: its handler reads the context and tells
 * the backends, and the commit of close then drops every vault item).  Call
 * once, before sending the answer.  The commit is confirmed: Redis's reply is
 * read (one round trip; NOSCRIPT handled) and the answer may be sent only on
 * APR_SUCCESS.  Otherwise the step's state change did not reach Redis and the
 * handler must not answer success: r->notes IDGW_NOTE_STEP_LOST names the
 * error to answer (the operation is aborted: tell the backends).
 *   APR_ENOENT   the step lost its claim (refused: see IDGW_NOTE_STEP_LOST);
 *   APR_EGENERAL Redis failed or timed out (IDGW-SRV-003); the handler may
 *                commit once more (an ABORT with its error answer), which
 *                Redis refuses if the first one did land after all;
 *   APR_EAGAIN   stored on the master, but fewer replicas than
 *                IdgwSessionWaitReplicas acknowledged it (IDGW-SRV-006):
 *                answer that, do not abort (the step's state stands, and
 *                the retransmission gets the stored answer once confirmed).
 * Only steps and close take a commit (APR_EINVAL for open, status and
 * replays); a step whose handler never commits is aborted after the response
 * (log_transaction, IDGW0131).
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_session_commit,
                        (request_rec *r, idgw_commit_outcome outcome, int http_status,
                         const char *content_type, const char *body, apr_size_t len));

/*
 * The longest one step may take in a content handler: every backend call the
 * step can make (each bounded by its total timeout, retries included) plus the
 * abort calls a failing step makes.  A handler module declares it from its
 * post_config hook (mod_idgw_session's runs APR_HOOK_REALLY_LAST); the largest
 * declaration counts.  A retransmission gets IDGW-SEQ-004 for as long as a
 * step may still be running (IdgwSessionRetryLease): mod_idgw_session derives
 * the lease from this (worst case + 25% + 2 s) and refuses to start when
 * IdgwSessionRetryLease sets less.  who names the declaring module (logs).
 */
APR_DECLARE_OPTIONAL_FN(void, idgw_session_step_budget,
                        (server_rec *s, const char *who, apr_interval_time_t worst));

/* The request body, read by the session check (the handler cannot read it again). */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_session_body,
                        (request_rec *r, const char **body, apr_size_t *len));

/* Seal and store / fetch and unseal / delete a vault item (name: [a-z0-9_]{1,32}).
 * Fetched plaintext lives in r->pool and is wiped when the request ends. */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_vault_put,
                        (request_rec *r, idgw_vault_scope scope, const char *name,
                         const void *data, apr_size_t len));
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_vault_get,
                        (request_rec *r, idgw_vault_scope scope, const char *name,
                         const unsigned char **data, apr_size_t *len));
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_vault_delete,
                        (request_rec *r, idgw_vault_scope scope, const char *name));

/*
 * The reaper: an app that vanishes in the middle of an operation (no step,
 * no close ever comes) must not leave the backends waiting.  A handler stores
 * the operation's context with idgw_vault_put_reaped instead of
 * idgw_vault_put(IDGW_VAULT_OPERATION, ...): the same vault item, and the
 * session module keeps a sealed copy for at least the idle timeout + the
 * grace of IdgwSessionReaper after that step.  When the operation ends (the
 * commit of its completion, an abort, or close) the copy goes.  Otherwise,
 * once the session has expired or been invalidated, one node of the fleet
 * claims it (atomically, in Redis) and calls the handler registered with
 * idgw_reaper_register, in a background thread of that node (no request):
 * the handler tells the backends.  Claims are at most once: a node that dies
 * between its claim and its notices loses them (logged as claimed first).
 */
typedef struct idgw_reaped_op {
    const char *sid;            /* the session id (names the keys; log sid_log) */
    const char *sid_log;
    const char *correlation_id; /* the session's, as its telegrams carried it */
    idgw_op op;                 /* the operation that was open */
    const char *idm;            /* the session's chip, upper-case hex */
    const char *item;           /* the vault item's name */
    const unsigned char *data;  /* the unsealed item (wiped when p goes) */
    apr_size_t len;
} idgw_reaped_op;

/* Tell the backends about op; p lives for this call only; s is the virtual
 * host the operation ran under (recorded by idgw_vault_put_reaped, found by
 * its name "ServerName:port"; the main server for an operation of the main
 * server, or when this node has no such vhost, logged IDGW0156), so its map
 * and backends are the ones to use.  Returns the number of notices sent (for
 * the reaper's log line). */
typedef int (*idgw_reaper_fn)(apr_pool_t *p, server_rec *s, const idgw_reaped_op *op);

APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_vault_put_reaped,
                        (request_rec *r, const char *name, const void *data, apr_size_t len));
/*
 * idgw_vault_put or (reaped) idgw_vault_put_reaped, written by this step's
 * commit instead of a script of its own: the item is sealed now, and the
 * commit that answers the step (outcome OK) writes it first, refused the same
 * ways, so the answer and the item land together or not at all, in the
 * commit's one round trip.  For what a step stores just before it answers (an
 * operation's context): idgw_vault_get in the same request does not see it,
 * and a failed commit is the item's failure (the handler aborts as for any
 * commit it lost).  APR_EINVAL outside a claimed step, after its commit, or
 * for a bad name; another error: the item could not be sealed (logged).
 */
/*
 * The handler of every step of kind step (IDGW_STEP_REQUEST, _RELAY or
 * _COMPLETE; close is a request step) reads the operation-scope item name:
 * the session script that claims such a step reads it too, and
 * idgw_vault_get of it in that step then costs no round trip of its own.
 * The value is the one the claim found (the claim fences every other attempt
 * out, so only this request could change it before its commit; its own
 * idgw_vault_put or idgw_vault_delete of the item sends the next get to
 * Redis).  Ask only for what the step reads every time: each name adds an
 * HMGET field, and its value travels in the claim's reply.  From a
 * post_config hook, before APR_HOOK_REALLY_LAST; APR_EINVAL for a bad step
 * or name.
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_vault_prefetch,
                        (apr_pool_t *pconf, idgw_step step, const char *name));
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_vault_stage,
                        (request_rec *r, idgw_vault_scope scope, const char *name,
                         const void *data, apr_size_t len, int reaped));
/*
 * Before a handler tells the backends about its operation itself (an abort,
 * a completion's notices), it takes the reaper's watch: whoever removes the
 * watch tells them, once.  APR_SUCCESS: the reaper will not (no watch was
 * left, or this request took it, confirmed by the replicas when
 * IdgwSessionWaitReplicas asks for them).  Anything else: do not tell them,
 * and do not end the operation (no ABORT commit): the reaper will, once the
 * app is gone (Redis failed, the step lost its claim, or the take was not
 * confirmed and was put back).
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_session_unwatch, (request_rec *r));
/* From a post_config hook (before APR_HOOK_REALLY_LAST); one handler. */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_reaper_register,
                        (apr_pool_t *pconf, idgw_reaper_fn fn));

/*
 * An operation whose outcome nobody knows for sure, left for reconciliation
 * (scripts/idgw-reconcile, docs/reconcile.md): recorded in Redis as
 * <prefix>unsettled:{<id>} (a hash of the fields below, plus "at" in ms and
 * "node") and indexed by time in <prefix>unsettled, logged (IDGW0450) and
 * counted (idgw_unsettled_total{kind}).  Never card data, passwords, keys or
 * tokens: what names the operation towards its backends and the chip.
 *   kind   "abort-unsent"      backend notices of an abort not sent;
 *          "chip-unconfirmed"  the final chip write's outcome unknown;
 *          "context-lost"      the operation's context gone from Redis;
 *          "rolled-back"       the session was rolled back by a failover
 * Any field may be NULL.  p lives at least for the call (a request's pool,
 * or the reaper's).  Returns APR_SUCCESS or the error (logged IDGW0451).
 */
typedef struct idgw_unsettled {
    const char *kind;
    const char *op, *step;       /* idgw_op_name / idgw_step_name */
    const char *correlation_id;  /* the session's, as its telegrams carried it */
    const char *terminal_id, *idm;
    const char *card, *slot;     /* the card as its source names it, its chip slot */
    const char *chip;            /* idgw_chip_truth_name, or NULL: unknown */
    const char *detail;          /* why (no secrets) */
    /* what lets the gateway settle it by itself (idgw_unsettled_claim):
     * the card's source ("cremo" / "dlc") and the member it authenticated;
     * the written card's issuer code and the last four digits of its number,
     * as the chip shows them in every card listing (never more of the PAN) */
    const char *source, *member;
    const char *issuer, *last4;
} idgw_unsettled;

APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_unsettled_record,
                        (apr_pool_t *p, server_rec *s, const idgw_unsettled *u));

/*
 * Settling by the gateway (docs/reconcile.md, "Automatic settlement"): a
 * record with an IDm is also in the per-chip index <prefix>unsettled:chip:{IDM}
 * (a set of record ids; idgw_unsettled_settle and `idgw-reconcile settle`
 * take it out).  A settlement is claim, tell the source, settle:
 *  - idgw_unsettled_of_chip: up to max open records of the chip (not settled,
 *    not claimed), each an apr_table_t of the record's fields plus "id";
 *  - idgw_unsettled_claim: marks the record claimed_by `claimer` in one
 *    script on the record; APR_EBUSY when it is settled or claimed already
 *    (a record is claimed at most once: its notice is never sent twice);
 *  - idgw_unsettled_release: the source refused the notice (nothing done
 *    there): the claim is dropped, a later operation may try again;
 *  - idgw_unsettled_settle: the notice was accepted: outcome, settled_by,
 *    settled_at, note on the record (kept as long as the tool keeps settled
 *    ones), then the indexes and <prefix>unsettled:count, as
 *    `idgw-reconcile settle` does; APR_EBUSY when the claim is not
 *    `claimer`'s any more (an operator settled it meanwhile); APR_INCOMPLETE
 *    when the record is settled but an index or the count was not updated.
 * A claim that is neither released nor settled (the gateway died, or the
 * source's answer was lost) stays: the record is left to the operator, who
 * sees the claim in `idgw-reconcile show`.  Errors: *err (no secrets).
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_unsettled_of_chip,
                        (apr_pool_t *p, const char *idm, int max, apr_array_header_t **records,
                         const char **err));
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_unsettled_claim,
                        (apr_pool_t *p, const char *id, const char *claimer, const char **err));
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_unsettled_release,
                        (apr_pool_t *p, const char *id, const char *claimer, const char **err));
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_unsettled_settle,
                        (apr_pool_t *p, const char *id, const char *idm, const char *claimer,
                         const char *outcome, const char *by, const char *note,
                         const char **err));

/* Record a strike (e.g. a forged relay packet): against the request's
 * terminal id and client address when the request passed the session check
 * (it proved its session), against the client address only otherwise; with
 * invalidate, the checked session is ended too. */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_session_strike,
                        (request_rec *r, const char *reason, int invalidate));

/*
 * The request's session is proven from now on: "chip" when the chip answered
 * through the secure channel and the FeliCa server verified its answer (the
 * chip's diversified keys), "user" when a backend authenticated the user the
 * session acts for.  Before that, a session's failures (sequence errors,
 * rate-limit refusals) count only against its client address and the session
 * itself, because session/open takes any terminal id and IDm an app names;
 * after it, strikes, breaches and auto-bans go to the session's terminal id
 * (mod_idgw_acl).  Recorded by this request's commit (no round trip of its
 * own): call it before idgw_session_commit.  APR_EINVAL outside a claimed
 * step (open, status, replays) or for another word than "chip" or "user".
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_session_prove, (request_rec *r, const char *how));

/* Add a part to the per-request script (see idgw_script_part). */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_script_part_register,
                        (apr_pool_t *pconf, const idgw_script_part *part));

/*
 * What mod_idgw_acl offers the other modules.  It decides early (access
 * phase) on what the request's headers say: X-Idgw-Terminal and X-Idgw-IDm.
 * Who the user is, the app cannot say (an X-Idgw-User header is ignored):
 * it is known only once a backend has authenticated the cardholder, and
 * mod_idgw_convert hands that proven identity over with
 * idgw_acl_identity_check, which checks it against the blacklist and, in
 * whitelist mode, requires it on the whitelist:
 *
 *     static APR_OPTIONAL_FN_TYPE(idgw_acl_identity_check) *acl_check;
 *     acl_check = APR_RETRIEVE_OPTIONAL_FN(idgw_acl_identity_check);
 *     const idgw_error_def *refusal;
 *     if (acl_check && acl_check(r, "user", user_id, &refusal) != OK)
 *         -> abort the operation, commit and send *refusal (403 IDGW-ACL-002
 *            or -003, 400 IDGW-ACL-005 for a malformed value)
 *
 * kind is "user" ("terminal" and "idm" are accepted too).  Returns OK (go on;
 * also where IdgwAcl is off) or the refusal's HTTP status with *refusal set;
 * HTTP_INTERNAL_SERVER_ERROR and *refusal NULL for an unknown kind (a
 * programming error).  It logs the verdict (IDGW0312 / IDGW0313 / IDGW0311)
 * and counts the denial but sends nothing: the caller commits its answer
 * first.  The lists are this node's copy, which the request's own
 * fleet-wide check (run before the handler) has just brought up to date.
 */
APR_DECLARE_OPTIONAL_FN(int, idgw_acl_identity_check,
                        (request_rec *r, const char *kind, const char *value,
                         const idgw_error_def **refusal));

/*
 * Whether access control applies to a section of the configuration: the
 * value of IdgwAcl in a per-directory configuration vector (a request's
 * r->per_dir_config, or at start-up a <Location>'s vector merged over the
 * server's defaults).  mod_idgw_convert asks it at start (check_config, so
 * "apache2ctl configtest" fails first) and per request: the handler serves
 * only where access control is on, or where "IdgwAcl Off" was written
 * explicitly (then it warns at every start).  Absent (NULL) when
 * mod_idgw_acl is not loaded: the handler refuses to start.
 */
typedef enum idgw_acl_state {
    IDGW_ACL_STATE_UNSET = 0,   /* no IdgwAcl in the section nor above it */
    IDGW_ACL_STATE_OFF,         /* "IdgwAcl Off" written explicitly */
    IDGW_ACL_STATE_ON           /* "IdgwAcl On" */
} idgw_acl_state;

APR_DECLARE_OPTIONAL_FN(idgw_acl_state, idgw_acl_dir_state, (ap_conf_vector_t *dir_config));

/*
 * The subscribers behind the request's client address when the location's
 * IdgwAclNatPool lines put it in a carrier NAT pool (0 when in none, or no
 * pool is configured; whether IdgwAcl is on or off does not matter: the
 * pools describe the network).  mod_idgw_session sizes its local address
 * limit (IdgwShedLocalLimit addr) by it, as the ACL sizes its own, so that
 * the phones behind one NAT address are not shed as one phone.  Absent
 * (NULL) when mod_idgw_acl is not loaded.
 */
APR_DECLARE_OPTIONAL_FN(uint32_t, idgw_acl_nat_subscribers, (request_rec *r));

/*
 * The Redis mod_idgw_session talks to (settings complete, defaults included)
 * and its key prefix, for a partner module that keeps its keys beside the
 * sessions and folds its checks into the same script (mod_idgw_acl).  Valid
 * from the end of mod_idgw_session's post_config (so: in child_init); NULL
 * before.
 */
APR_DECLARE_OPTIONAL_FN(const idgw_redis_cfg *, idgw_session_redis,
                        (const char **key_prefix));

/*
 * Whether mod_idgw_session is configured for a Redis Cluster
 * (IdgwRedisCluster in the main server s), valid from the end of the
 * configuration's parsing (so: in check_config): a partner whose keys cannot
 * share the session's slot refuses to start (mod_idgw_acl).
 */
APR_DECLARE_OPTIONAL_FN(int, idgw_session_redis_cluster, (server_rec *s));

/*
 * On a Redis Cluster, a partner's script or command through the child's
 * router (MOVED, ASK, TRYAGAIN, a promoted replica followed; NOSCRIPT
 * loads the script): the script's keys must share one slot, a command is
 * routed by its argument key_arg.  Any thread (mod_idgw_acl's listener runs
 * its own).  The reply (the caller frees it), or NULL with why in err: not
 * run, or run with its answer lost.  NULL too outside Cluster mode.
 */
APR_DECLARE_OPTIONAL_FN(struct redisReply *, idgw_session_cluster_eval_script,
                        (apr_pool_t *owner, const idgw_script *s, idgw_script_args *a,
                         char *err, size_t errlen));
/*
 * The same for n scripts of one kind, each on the master of its own keys'
 * slot, all sent before any is read: the caller waits one round trip.
 * replies[i] is the reply of args[i] (the caller frees it), or NULL with why
 * in err (the first failure).  Returns how many came back.
 */
APR_DECLARE_OPTIONAL_FN(int, idgw_session_cluster_eval_scripts,
                        (apr_pool_t *owner, const idgw_script *s, idgw_script_args *const *args,
                         int n, struct redisReply **replies, char *err, size_t errlen));
/*
 * On a Redis Cluster a partner's per-request scripts cannot be folded into
 * the session's (their keys are on other slots).  A companion hands them to
 * mod_idgw_session instead, which sends them with its own script in one
 * round trip where that is safe (session/status only reads the session and
 * keeps it alive: if a companion refuses, its reply is dropped) and in the
 * round trip just before otherwise (open and steps must not advance a
 * request a companion refuses).
 *
 * calls: the request's scripts, each on one slot, at most max; 0: none (a
 *   companion that handed its calls over must not hand them again).
 * results: their replies in the same order (NULL: not run or answer lost,
 *   err says why); OK to go on, or the status of a refusal the companion
 *   has sent (DONE).
 * struck (may be NULL): the session check refused the request with a
 *   strike (IDGW_NOTE_STRIKE says whom it counts against), after the
 *   session module counted its own; before the refusal is sent.
 */
typedef struct idgw_cluster_companion {
    const char *name;
    int (*calls)(request_rec *r, const idgw_script **scripts, idgw_script_args **args,
                 int max);
    int (*results)(request_rec *r, struct redisReply **replies, int n, const char *err);
    void (*struck)(request_rec *r);
} idgw_cluster_companion;
#define IDGW_CLUSTER_COMPANION_CALLS 6   /* per companion and request */
APR_DECLARE_OPTIONAL_FN(apr_status_t, idgw_session_cluster_companion_register,
                        (apr_pool_t *pconf, const idgw_cluster_companion *c));
APR_DECLARE_OPTIONAL_FN(struct redisReply *, idgw_session_cluster_key_command,
                        (apr_pool_t *owner, int key_arg, int argc, const char **argv,
                         const size_t *lens, char *err, size_t errlen));

#endif
