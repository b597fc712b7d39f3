/*
 * idgw_session_call.h - the C side of the session scripts: what goes into a
 * call (arguments of the core part) and what comes back (parsed results),
 * plus the stored-answer format.  No httpd here, so the unit tests can drive
 * the real scripts against a real redis-server.
 */
#ifndef IDGW_SESSION_CALL_H
#define IDGW_SESSION_CALL_H

#include <apr_pools.h>
#include <hiredis/hiredis.h>

#include "idgw_script.h"
#include "idgw_session_keys.h"
#include "idgw_transitions.h"
#include "idgw_xml_error.h"

typedef enum idgw_addr_policy {
    IDGW_ADDR_POLICY_OFF = 0,     /* the client address may change */
    IDGW_ADDR_POLICY_LOG = 1,     /* a change is logged */
    IDGW_ADDR_POLICY_ENFORCE = 2  /* a change is a sequence error */
} idgw_addr_policy;

/* IdgwSessionAddressPolicy's value: off | log | enforce; NULL or a message. */
const char *idgw_parse_addr_policy(const char *s, idgw_addr_policy *out);

typedef struct idgw_session_limits {
    const char *prefix;                   /* Redis key prefix */
    apr_interval_time_t idle;             /* idle timeout */
    apr_interval_time_t lifetime;         /* absolute timeout */
    apr_interval_time_t strike_window;    /* how long a strike counts */
    apr_interval_time_t pending_lease;    /* how long an unanswered step blocks its retry */
    int max_relays;                       /* relay round trips per operation */
    idgw_addr_policy addr_policy;
} idgw_session_limits;

typedef enum idgw_session_mode {
    IDGW_MODE_OPEN,      /* create a session (sid is new) */
    IDGW_MODE_STEP,      /* one step of an operation, or close */
    IDGW_MODE_STATUS     /* read the state, no transition */
} idgw_session_mode;

typedef struct idgw_session_request {
    idgw_session_mode mode;
    idgw_op op;
    idgw_step step;
    apr_int64_t seq;                        /* 1.. for steps */
    char digest[IDGW_DIGEST_HEX + 1];     /* idgw_message_digest of the message */
    const char *sid;
    const char *terminal_id;
    const char *idm;                      /* normalised */
    const char *client_addr;
    const char *correlation_id;           /* open: the new session's (random); else NULL */
    const char *replid, *replid2;         /* the master's history (NULL: unknown, rule off) */
    const char *prefetch;                 /* step: operation vault items read with the
                                             claim, space-separated (NULL: none) */
} idgw_session_request;

/* Keys and arguments of the core part (part 0) of the per-request script. */
void idgw_session_core_args(idgw_script_args *a, const idgw_session_limits *lim,
                            const idgw_session_request *rq);
/* Set the master's history (rq->replid, replid2) in core arguments made
 * before it was known (the status read declined: idgw_status_read.h). */
void idgw_session_core_args_history(idgw_script_args *a, const idgw_session_request *rq);

typedef enum idgw_session_outcome {
    IDGW_SESSION_ACCEPTED,     /* the step is this request's to run */
    IDGW_SESSION_RETRANSMIT,   /* same message again: answer is the stored answer */
    IDGW_SESSION_REFUSED,      /* error: see error, struck, invalidated */
    IDGW_SESSION_COLLISION,    /* open: the new id exists (draw another) */
    IDGW_SESSION_DENIED        /* a script part (e.g. ACL) refused */
} idgw_session_outcome;

typedef enum idgw_accept_kind {
    IDGW_ACCEPT_NEW,           /* first attempt of this sequence number */
    IDGW_ACCEPT_RECLAIM,       /* retry of a step whose first attempt never answered */
    IDGW_ACCEPT_OPEN,
    IDGW_ACCEPT_STATUS
} idgw_accept_kind;

/* Who a refused request's strike counts against (the core's ERR result).
 * Only a request that proved it belongs to the session (its token named a
 * live session and its terminal id and IDm matched the binding) strikes the
 * terminal; any other failure strikes only the address it came from (an
 * IPv6 client by its /64), because the terminal id it names is only a claim. */
#define IDGW_STRIKE_NONE     0
#define IDGW_STRIKE_SESSION  1   /* terminal and address */
#define IDGW_STRIKE_ADDRESS  2   /* address only */

typedef struct idgw_session_result {
    idgw_session_outcome outcome;
    /* ACCEPTED */
    idgw_accept_kind kind;
    idgw_state from, to;
    apr_int64_t seq;
    int relays;
    apr_int64_t created_ms, deadline_ms;
    int addr_mismatch;
    apr_int64_t attempt;       /* the claim's attempt number (fencing token) */
    const char *correlation_id;
    const redisReply *prefetched; /* NEW, RECLAIM: the items of rq->prefetch in its
                                     order (nil: none stored), or NULL */
    /* RETRANSMIT */
    const char *answer;
    size_t answer_len;
    /* REFUSED */
    const idgw_error_def *error;
    int struck, invalidated;   /* struck: a strike was recorded */
    int strike_scope;          /* IDGW_STRIKE_* */
    /* DENIED */
    int deny_part;             /* 1-based part index */
    const char *deny_code;
    int deny_status;
    const redisReply *deny_detail; /* the DENY's detail (NULL: none); lives with the reply */
    /* results of the other parts: part i at parts[i - 1] (NULL: none) */
    const redisReply *const *parts;
    int nparts;
} idgw_session_result;

/*
 * Parse the per-request script's reply.  APR_EINVAL (with err) when the reply
 * does not have the documented shape.  Strings point into the reply or p.
 */
apr_status_t idgw_session_parse_reply(apr_pool_t *p, const redisReply *reply,
                                      idgw_session_result *out, char *err, size_t errlen);

/* Stored answer: "<status> <content-type>\n<body>". */
const char *idgw_answer_encode(apr_pool_t *p, int status, const char *content_type,
                               const char *body, size_t body_len, size_t *out_len);
int idgw_answer_decode(apr_pool_t *p, const char *blob, size_t blob_len, int *status,
                       const char **content_type, const char **body, size_t *body_len);

/* Vault item names: 1..32 of [a-z0-9_]. */
int idgw_vault_item_name_valid(const char *name);

#endif
