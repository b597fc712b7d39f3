/*
 * idgw_session_call.c - arguments and results of the session scripts.
 */
#include "idgw_session_call.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const mode_names[] = { "open", "step", "status" };

void idgw_session_core_args(idgw_script_args *a, const idgw_session_limits *lim,
                            const idgw_session_request *rq)
{
    apr_pool_t *p = a->pool;

    idgw_script_args_part(a);
    idgw_script_args_key(a, idgw_key_session(p, lim->prefix, rq->sid));
    idgw_script_args_key(a, idgw_key_vault_operation(p, lim->prefix, rq->sid));
    idgw_script_args_key(a, idgw_key_vault_session(p, lim->prefix, rq->sid));
    /* Cluster: the counters lie on other slots; the script leaves them to
     * the caller (A[18]) and gets no key it may not touch */
    if (!idgw_keys_cluster()) {
        idgw_script_args_key(a, idgw_key_strike_terminal(p, lim->prefix, rq->terminal_id));
        idgw_script_args_key(a, idgw_key_strike_address(p, lim->prefix, rq->client_addr));
    }
    idgw_script_args_str(a, mode_names[rq->mode]);
    idgw_script_args_str(a, idgw_op_name(rq->op));
    idgw_script_args_str(a, idgw_step_name(rq->step));
    idgw_script_args_int(a, rq->seq);
    idgw_script_args_str(a, rq->digest);
    idgw_script_args_str(a, rq->terminal_id);
    idgw_script_args_str(a, rq->idm);
    idgw_script_args_str(a, rq->client_addr);
    idgw_script_args_int(a, (apr_int64_t)lim->addr_policy);
    idgw_script_args_int(a, (apr_int64_t)apr_time_as_msec(lim->idle));
    idgw_script_args_int(a, (apr_int64_t)apr_time_as_msec(lim->lifetime));
    idgw_script_args_int(a, lim->max_relays);
    idgw_script_args_int(a, (apr_int64_t)apr_time_as_msec(lim->strike_window));
    idgw_script_args_int(a, (apr_int64_t)apr_time_as_msec(lim->pending_lease));
    idgw_script_args_str(a, rq->correlation_id ? rq->correlation_id : "");
    /* (at CORE_ARG_REPLID: idgw_session_core_args_history) */
    idgw_script_args_str(a, rq->replid ? rq->replid : "");
    idgw_script_args_str(a, rq->replid2 ? rq->replid2 : "");
    idgw_script_args_str(a, idgw_keys_cluster() ? "1" : "0");
    idgw_script_args_str(a, rq->prefetch ? rq->prefetch : "");
}

/* A[16] and A[17] of the core: the master's replid and replid2. */
#define CORE_ARG_REPLID 15

void idgw_session_core_args_history(idgw_script_args *a, const idgw_session_request *rq)
{
    const char *id = rq->replid ? rq->replid : "", *id2 = rq->replid2 ? rq->replid2 : "";

    a->args[CORE_ARG_REPLID] = id;
    a->arg_lens[CORE_ARG_REPLID] = strlen(id);
    a->args[CORE_ARG_REPLID + 1] = id2;
    a->arg_lens[CORE_ARG_REPLID + 1] = strlen(id2);
}

static int is_str(const redisReply *r, const char *s)
{
    return r && r->type == REDIS_REPLY_STRING && strcmp(r->str, s) == 0;
}

static int get_int(const redisReply *r, apr_int64_t *v)
{
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return 0;
    *v = r->integer;
    return 1;
}

static int parse_state(const redisReply *r, idgw_state *st)
{
    return r && r->type == REDIS_REPLY_STRING && idgw_state_parse(r->str, st);
}

static apr_status_t bad(char *err, size_t errlen, const char *what)
{
    apr_snprintf(err, errlen, "unexpected script reply: %s", what);
    return APR_EINVAL;
}

static apr_status_t parse_accepted(const redisReply *c, idgw_session_result *out,
                                   char *err, size_t errlen)
{
    apr_int64_t relays, amis;

    if (c->elements < 11 || c->elements > 12 || !get_int(c->element[9], &out->attempt)
        || c->element[10]->type != REDIS_REPLY_STRING || !parse_state(c->element[1], &out->from)
        || !parse_state(c->element[2], &out->to) || !get_int(c->element[3], &out->seq)
        || !get_int(c->element[4], &relays) || !get_int(c->element[5], &out->created_ms)
        || !get_int(c->element[6], &out->deadline_ms) || !get_int(c->element[7], &amis)
        || c->element[8]->type != REDIS_REPLY_STRING)
        return bad(err, errlen, "OK");
    out->outcome = IDGW_SESSION_ACCEPTED;
    out->relays = (int)relays;
    out->addr_mismatch = amis != 0;
    out->correlation_id = c->element[10]->str;
    out->prefetched = NULL;
    if (c->elements == 12) {
        if (c->element[11]->type != REDIS_REPLY_ARRAY)
            return bad(err, errlen, "OK prefetch");
        out->prefetched = c->element[11];
    }
    if (is_str(c->element[8], "NEW"))
        out->kind = IDGW_ACCEPT_NEW;
    else if (is_str(c->element[8], "RECLAIM"))
        out->kind = IDGW_ACCEPT_RECLAIM;
    else if (is_str(c->element[8], "OPEN"))
        out->kind = IDGW_ACCEPT_OPEN;
    else if (is_str(c->element[8], "STATUS"))
        out->kind = IDGW_ACCEPT_STATUS;
    else
        return bad(err, errlen, "OK kind");
    return APR_SUCCESS;
}

static apr_status_t parse_core(const redisReply *c, idgw_session_result *out,
                               char *err, size_t errlen)
{
    apr_int64_t struck, inval, amis;

    if (!c || c->type != REDIS_REPLY_ARRAY || c->elements < 1)
        return bad(err, errlen, "core result");
    if (is_str(c->element[0], "OK"))
        return parse_accepted(c, out, err, errlen);
    if (is_str(c->element[0], "RETX")) {
        if (c->elements != 3 || c->element[1]->type != REDIS_REPLY_STRING
            || !get_int(c->element[2], &amis))
            return bad(err, errlen, "RETX");
        out->outcome = IDGW_SESSION_RETRANSMIT;
        out->answer = c->element[1]->str;
        out->answer_len = c->element[1]->len;
        out->addr_mismatch = amis != 0;
        return APR_SUCCESS;
    }
    if (is_str(c->element[0], "ERR")) {
        if (c->elements != 4 || c->element[1]->type != REDIS_REPLY_STRING
            || !get_int(c->element[2], &struck) || !get_int(c->element[3], &inval))
            return bad(err, errlen, "ERR");
        out->error = idgw_error_find(c->element[1]->str);
        if (!out->error)
            return bad(err, errlen, "unknown error code");
        if (struck != IDGW_STRIKE_NONE && struck != IDGW_STRIKE_SESSION
            && struck != IDGW_STRIKE_ADDRESS)
            return bad(err, errlen, "ERR strike scope");
        out->outcome = IDGW_SESSION_REFUSED;
        out->struck = struck != IDGW_STRIKE_NONE;
        out->strike_scope = (int)struck;
        out->invalidated = inval != 0;
        return APR_SUCCESS;
    }
    if (is_str(c->element[0], "COLLIDE") && c->elements == 1) {
        out->outcome = IDGW_SESSION_COLLISION;
        return APR_SUCCESS;
    }
    return bad(err, errlen, "core status");
}

apr_status_t idgw_session_parse_reply(apr_pool_t *p, const redisReply *reply,
                                      idgw_session_result *out, char *err, size_t errlen)
{
    const redisReply *first;
    apr_int64_t part, status;

    memset(out, 0, sizeof(*out));
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1)
        return bad(err, errlen, "not an array");
    first = reply->element[0];
    if (first->type == REDIS_REPLY_ARRAY && (first->elements == 4 || first->elements == 5)
        && is_str(first->element[0], "DENY")) {
        if (!get_int(first->element[1], &part) || first->element[2]->type != REDIS_REPLY_STRING
            || !get_int(first->element[3], &status) || status < 400 || status > 599)
            return bad(err, errlen, "DENY");
        out->outcome = IDGW_SESSION_DENIED;
        out->deny_part = (int)part;
        out->deny_code = apr_pstrmemdup(p, first->element[2]->str, first->element[2]->len);
        out->deny_status = (int)status;
        out->deny_detail = first->elements == 5 ? first->element[4] : NULL;
        return APR_SUCCESS;
    }
    out->parts = (const redisReply *const *)reply->element + 1;
    out->nparts = (int)reply->elements - 1;
    return parse_core(first, out, err, errlen);
}

const char *idgw_answer_encode(apr_pool_t *p, int status, const char *content_type,
                               const char *body, size_t body_len, size_t *out_len)
{
    const char *head = apr_psprintf(p, "%d %s\n", status, content_type ? content_type : "");
    size_t hlen = strlen(head);
    char *blob = apr_palloc(p, hlen + body_len + 1);

    memcpy(blob, head, hlen);
    if (body_len)
        memcpy(blob + hlen, body, body_len);
    blob[hlen + body_len] = '\0';
    *out_len = hlen + body_len;
    return blob;
}

int idgw_answer_decode(apr_pool_t *p, const char *blob, size_t blob_len, int *status,
                       const char **content_type, const char **body, size_t *body_len)
{
    const char *nl = memchr(blob, '\n', blob_len);
    const char *sp;
    char *end;
    long st;

    if (!nl || nl - blob < 4 || nl - blob > 200)
        return 0;
    st = strtol(blob, &end, 10);
    if (end != blob + 3 || *end != ' ' || st < 100 || st > 599)
        return 0;
    sp = end + 1;
    *status = (int)st;
    *content_type = apr_pstrmemdup(p, sp, (apr_size_t)(nl - sp));
    *body = nl + 1;
    *body_len = blob_len - (size_t)(nl + 1 - blob);
    return 1;
}

int idgw_vault_item_name_valid(const char *name)
{
    size_t i;

    for (i = 0; name[i]; i++) {
        char c = name[i];

        if (i >= 32 || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return i > 0;
}

const char *idgw_parse_addr_policy(const char *s, idgw_addr_policy *out)
{
    if (!strcasecmp(s, "off"))
        *out = IDGW_ADDR_POLICY_OFF;
    else if (!strcasecmp(s, "log"))
        *out = IDGW_ADDR_POLICY_LOG;
    else if (!strcasecmp(s, "enforce"))
        *out = IDGW_ADDR_POLICY_ENFORCE;
    else
        return "expected off, log or enforce";
    return NULL;
}
