/* idgw_acl_reply: parse CHECK's reply (see idgw_acl_reply.h). */
#include "idgw_acl_reply.h"

#include <string.h>

#include <apr_strings.h>

#include "idgw_acl_lease.h"
#include "idgw_acl_script.h"

int idgw_acl_version_parse(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;

    if (s == NULL || len == 0 || len > 16) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int get_int(const redisReply *e, long long min, long long max, long long *out)
{
    if (e == NULL || e->type != REDIS_REPLY_INTEGER || e->integer < min ||
        e->integer > max) {
        return 0;
    }
    *out = e->integer;
    return 1;
}

/* The tokens granted per dimension: one integer each, none when refused. */
static const char *parse_extra(const redisReply *e, int ndims, idgw_acl_check_reply *out)
{
    long long v;

    /* Lua turns an empty table into an empty array: so it comes with no dimension */
    if (e == NULL || e->type != REDIS_REPLY_ARRAY || (int)e->elements != ndims) {
        return "tokens granted: not one per dimension";
    }
    for (int i = 0; i < ndims; i++) {
        if (!get_int(e->element[i], 0, IDGW_ACL_LEASE_MAX, &v) || (out->refused && v)) {
            return "tokens granted out of range";
        }
        out->extra[i] = (unsigned)v;
    }
    return NULL;
}

const char *idgw_acl_reply_parse(const redisReply *reply, int ndims,
                                 idgw_acl_check_reply *out)
{
    long long refused, retry, banned, sref, sban;
    long long dims_mask;

    memset(out, 0, sizeof(*out));
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 6) {
        return "reply is not a six-element array";
    }
    if (ndims < 0 || ndims > IDGW_ACL_DIMS) {
        return "more dimensions than there are";
    }
    dims_mask = (1LL << (ndims < 0 ? 0 : ndims > 30 ? 30 : ndims)) - 1;
    if (!get_int(reply->element[0], 0, ndims, &refused) ||
        !get_int(reply->element[1], 0, INT64_C(1) << 50, &retry) ||
        !get_int(reply->element[2], 0, 1, &banned) ||
        !get_int(reply->element[3], 0, dims_mask, &sref) ||
        !get_int(reply->element[4], 0, dims_mask, &sban) || (sban & ~sref) != 0) {
        return "refused/retry/banned/shadow out of range";
    }
    out->refused = (int)refused;
    out->retry_us = retry;
    out->banned = (int)banned;
    out->shadow_refused = (unsigned)sref;
    out->shadow_banned = (unsigned)sban;
    return parse_extra(reply->element[5], ndims, out);
}

const char *idgw_acl_reply_lists_parse(const redisReply *reply, int64_t *version,
                                       const redisReply **lists)
{
    const redisReply *ver, *l;

    *lists = NULL;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        return "reply is not a two-element array";
    }
    ver = reply->element[0];
    if (ver->type != REDIS_REPLY_STRING ||
        !idgw_acl_version_parse(ver->str, ver->len, version)) {
        return "version is not a decimal string";
    }
    l = reply->element[1];
    if (l->type == REDIS_REPLY_INTEGER && l->integer == 0) {
        return NULL;
    }
    if (l->type != REDIS_REPLY_ARRAY || l->elements != IDGW_ACL_LIST_KEYS) {
        return "lists are neither 0 nor twelve arrays";
    }
    for (size_t i = 0; i < l->elements; i++) {
        const redisReply *h = l->element[i];
        if (h->type != REDIS_REPLY_ARRAY || h->elements % 2 != 0) {
            return "a list is not an array of field/value pairs";
        }
    }
    *lists = l;
    return NULL;
}

idgw_acl_lists *idgw_acl_reply_lists(apr_pool_t *p, int64_t version,
                                     const redisReply *lists, int *skipped,
                                     const char **first_problem)
{
    idgw_acl_lists *l = idgw_acl_lists_make(p, version);

    *skipped = 0;
    if (first_problem) {
        *first_problem = NULL;
    }
    for (size_t i = 0; lists && i < lists->elements && i < IDGW_ACL_LIST_KEYS; i++) {
        const redisReply *h = lists->element[i];
        idgw_acl_list list = (idgw_acl_list)(i / IDGW_ACL_KINDS);
        idgw_acl_kind kind = (idgw_acl_kind)(i % IDGW_ACL_KINDS);

        for (size_t j = 0; j + 1 < h->elements; j += 2) {
            const redisReply *f = h->element[j], *v = h->element[j + 1];
            const char *err;

            if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
                strlen(f->str) != f->len || strlen(v->str) != v->len) {
                err = "field or value is not a plain string";
            }
            else {
                err = idgw_acl_lists_add(l, list, kind, f->str, v->str);
            }
            if (err) {
                (*skipped)++;
                if (first_problem && *first_problem == NULL) {
                    *first_problem = apr_psprintf(p, "%s:%s: %s",
                                                  idgw_acl_list_name(list),
                                                  idgw_acl_kind_name(kind), err);
                }
            }
        }
    }
    return l;
}
