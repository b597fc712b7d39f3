/* idgw_acl_lists: the node's snapshot of the blacklist and whitelist
 * (see idgw_acl_lists.h). */
#include "idgw_acl_lists.h"

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>

/* Address entries: host entries in a hash keyed by family+address bytes,
 * prefixes in a CIDR set with the entries alongside, in the same order. */
typedef struct {
    apr_hash_t *hosts;
    idgw_cidr_set *prefixes;
    apr_array_header_t *prefix_entries;   /* idgw_acl_entry* */
} addr_index;

struct idgw_acl_lists {
    apr_pool_t *pool;
    int64_t version;
    apr_hash_t *ids[IDGW_ACL_LISTS][IDGW_ACL_KINDS];  /* ADDR slot unused */
    addr_index addrs[IDGW_ACL_LISTS];
    int counts[IDGW_ACL_LISTS][IDGW_ACL_KINDS];
};

static const char *const kind_names[IDGW_ACL_KINDS] = {
    "terminal", "idm", "user", "addr"
};

const char *idgw_acl_kind_name(idgw_acl_kind kind)
{
    return ((int)kind >= 0 && (int)kind < IDGW_ACL_KINDS) ? kind_names[kind] : "?";
}

int idgw_acl_kind_parse(const char *name)
{
    for (int i = 0; i < IDGW_ACL_KINDS; i++) {
        if (name && strcmp(name, kind_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *idgw_acl_list_name(idgw_acl_list list)
{
    return list == IDGW_ACL_WHITELIST ? "wl" : list == IDGW_ACL_SHADOWBANS ? "sb" : "bl";
}

/* 1 if every character of s is alphanumeric or in extra, and the length is
 * 1..IDGW_ACL_VALUE_MAX. */
static int token_ok(const char *s, const char *extra)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        unsigned char c = (unsigned char)s[n];
        int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                    (c >= 'A' && c <= 'Z');
        if (n >= IDGW_ACL_VALUE_MAX || (!alnum && strchr(extra, c) == NULL)) {
            return 0;
        }
    }
    return n > 0;
}

const char *idgw_acl_value_check(apr_pool_t *p, idgw_acl_kind kind,
                                 const char *text, const char **norm)
{
    if (text == NULL || *text == '\0') {
        return "empty value";
    }
    switch (kind) {
    case IDGW_ACL_TERMINAL:
        if (!token_ok(text, "._:-")) {
            return "terminal id must be 1..64 characters of A-Z a-z 0-9 . _ : -";
        }
        *norm = text;
        return NULL;
    case IDGW_ACL_USER:
        if (!token_ok(text, "._@+-")) {
            return "user must be 1..64 characters of A-Z a-z 0-9 . _ @ + -";
        }
        *norm = text;
        return NULL;
    case IDGW_ACL_IDM: {
        char *upper;
        if (strlen(text) != 16 || strspn(text, "0123456789abcdefABCDEF") != 16) {
            return "IDm must be exactly 16 hexadecimal digits";
        }
        /* Upper case, as mod_idgw_session stores it (idgw_idm_normalise). */
        upper = apr_pstrdup(p, text);
        for (char *c = upper; *c; c++) {
            if (*c >= 'a' && *c <= 'f') {
                *c = (char)(*c - 'a' + 'A');
            }
        }
        *norm = upper;
        return NULL;
    }
    case IDGW_ACL_ADDR: {
        idgw_cidr c;
        char buf[IDGW_CIDR_TEXT_MAX];
        const char *err = idgw_cidr_parse(p, text, &c);
        if (err) {
            return err;
        }
        *norm = apr_pstrdup(p, idgw_cidr_format(&c, buf, sizeof(buf)));
        return NULL;
    }
    default:
        return "unknown kind";
    }
}

/* Parses a non-negative decimal integer of at most 15 digits in [s, end). */
static int parse_ms(const char *s, const char *end, int64_t *out)
{
    int64_t v = 0;

    if (s == end || end - s > 15) {
        return 0;
    }
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 1;
}

const char *idgw_acl_entry_decode(apr_pool_t *p, const char *encoded,
                                  idgw_acl_entry *e)
{
    const char *f1, *f2, *f3;

    memset(e, 0, sizeof(*e));
    if (encoded == NULL || strlen(encoded) > 64 + IDGW_ACL_REASON_MAX) {
        return "entry missing or too long";
    }
    f1 = strchr(encoded, '|');
    f2 = f1 ? strchr(f1 + 1, '|') : NULL;
    f3 = f2 ? strchr(f2 + 1, '|') : NULL;
    if (f3 == NULL) {
        return "entry must be EXPIRES_MS|ADDED_MS|SOURCE|REASON";
    }
    if (!parse_ms(encoded, f1, &e->expires_ms) || !parse_ms(f1 + 1, f2, &e->added_ms)) {
        return "entry times must be decimal milliseconds";
    }
    e->source = apr_pstrmemdup(p, f2 + 1, (apr_size_t)(f3 - f2 - 1));
    if (!token_ok(e->source, "._@-") || strlen(e->source) > 32) {
        return "entry source must be 1..32 characters of A-Z a-z 0-9 . _ @ -";
    }
    e->reason = apr_pstrdup(p, f3 + 1);
    return NULL;
}

const char *idgw_acl_entry_encode(apr_pool_t *p, int64_t expires_ms,
                                  int64_t added_ms, const char *source,
                                  const char *reason)
{
    char *clean = apr_pstrndup(p, reason ? reason : "", IDGW_ACL_REASON_MAX);

    for (char *c = clean; *c; c++) {
        if (*c == '|' || (unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = ' ';
        }
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT "|%" APR_INT64_T_FMT "|%s|%s",
                        expires_ms, added_ms, source, clean);
}

idgw_acl_lists *idgw_acl_lists_make(apr_pool_t *p, int64_t version)
{
    idgw_acl_lists *l = apr_pcalloc(p, sizeof(*l));

    l->pool = p;
    l->version = version;
    for (int i = 0; i < IDGW_ACL_LISTS; i++) {
        for (int k = 0; k < IDGW_ACL_KINDS; k++) {
            l->ids[i][k] = apr_hash_make(p);
        }
        l->addrs[i].hosts = apr_hash_make(p);
        l->addrs[i].prefixes = idgw_cidr_set_make(p);
        l->addrs[i].prefix_entries = apr_array_make(p, 8, sizeof(idgw_acl_entry *));
    }
    return l;
}

int64_t idgw_acl_lists_version(const idgw_acl_lists *l)
{
    return l->version;
}

/* The hash key of a host address: family byte + 16 address bytes. */
static void host_key(const unsigned char addr[16], int family, unsigned char key[17])
{
    key[0] = (unsigned char)family;
    memcpy(key + 1, addr, 16);
}

static int in_range(int list, int kind)
{
    return list >= 0 && list < IDGW_ACL_LISTS && kind >= 0 && kind < IDGW_ACL_KINDS;
}

const char *idgw_acl_lists_add(idgw_acl_lists *l, idgw_acl_list list,
                               idgw_acl_kind kind, const char *field,
                               const char *encoded)
{
    idgw_acl_entry *e = apr_palloc(l->pool, sizeof(*e));
    const char *norm, *err;

    if (!in_range((int)list, (int)kind)) {
        return "unknown list or kind";
    }
    if ((err = idgw_acl_value_check(l->pool, kind, field, &norm)) != NULL) {
        return err;
    }
    if ((err = idgw_acl_entry_decode(l->pool, encoded, e)) != NULL) {
        return err;
    }
    /* A copy in the snapshot's pool: field may live in a Redis reply that
     * is freed long before the snapshot is replaced. */
    norm = apr_pstrdup(l->pool, norm);
    e->value = norm;
    if (kind != IDGW_ACL_ADDR) {
        apr_hash_set(l->ids[list][kind], norm, APR_HASH_KEY_STRING, e);
    }
    else {
        idgw_cidr c;
        addr_index *ai = &l->addrs[list];
        idgw_cidr_parse(l->pool, norm, &c);
        if (c.bits == (c.family == 4 ? 32u : 128u)) {
            unsigned char *key = apr_palloc(l->pool, 17);
            host_key(c.addr, c.family, key);
            apr_hash_set(ai->hosts, key, 17, e);
        }
        else {
            idgw_cidr_set_add_parsed(ai->prefixes, &c);
            APR_ARRAY_PUSH(ai->prefix_entries, idgw_acl_entry *) = e;
        }
    }
    l->counts[list][kind]++;
    return NULL;
}

static int live(const idgw_acl_entry *e, int64_t now_ms)
{
    return e != NULL && (e->expires_ms == 0 || e->expires_ms > now_ms);
}

const idgw_acl_entry *idgw_acl_lists_find(const idgw_acl_lists *l,
                                          idgw_acl_list list, idgw_acl_kind kind,
                                          const char *value, int64_t now_ms)
{
    const idgw_acl_entry *e;

    if (l == NULL || value == NULL || kind == IDGW_ACL_ADDR ||
        !in_range((int)list, (int)kind)) {
        return NULL;
    }
    e = apr_hash_get(l->ids[list][kind], value, APR_HASH_KEY_STRING);
    return live(e, now_ms) ? e : NULL;
}

const idgw_acl_entry *idgw_acl_lists_find_ip(const idgw_acl_lists *l,
                                             idgw_acl_list list,
                                             const idgw_ip *ip, int64_t now_ms)
{
    const addr_index *ai;
    unsigned char key[17];
    const idgw_acl_entry *e;

    if (l == NULL || ip == NULL || !in_range((int)list, 0)) {
        return NULL;
    }
    ai = &l->addrs[list];
    host_key(ip->addr, ip->family, key);
    e = apr_hash_get(ai->hosts, key, 17);
    if (live(e, now_ms)) {
        return e;
    }
    for (int i = 0; i < idgw_cidr_set_count(ai->prefixes); i++) {
        if (idgw_cidr_contains(idgw_cidr_set_get(ai->prefixes, i), ip)) {
            e = APR_ARRAY_IDX(ai->prefix_entries, i, idgw_acl_entry *);
            if (live(e, now_ms)) {
                return e;
            }
        }
    }
    return NULL;
}

int idgw_acl_lists_count(const idgw_acl_lists *l, idgw_acl_list list,
                         idgw_acl_kind kind)
{
    if (l == NULL || !in_range((int)list, (int)kind)) {
        return 0;
    }
    return l->counts[list][kind];
}

const idgw_acl_entry *idgw_acl_lists_blocked(const idgw_acl_lists *l,
                                             const idgw_acl_identity *id,
                                             int64_t now_ms, idgw_acl_kind *kind)
{
    return idgw_acl_lists_match(l, IDGW_ACL_BLACKLIST, id, now_ms, kind);
}

const idgw_acl_entry *idgw_acl_lists_match(const idgw_acl_lists *l, idgw_acl_list list,
                                           const idgw_acl_identity *id,
                                           int64_t now_ms, idgw_acl_kind *kind)
{
    const idgw_acl_entry *e;

    if (l == NULL || id == NULL) {
        return NULL;
    }
    if (id->has_ip &&
        (e = idgw_acl_lists_find_ip(l, list, &id->ip, now_ms)) != NULL) {
        *kind = IDGW_ACL_ADDR;
        return e;
    }
    for (int k = IDGW_ACL_TERMINAL; k <= IDGW_ACL_USER; k++) {
        if (id->v[k] && (e = idgw_acl_lists_find(l, list,
                                                 (idgw_acl_kind)k, id->v[k],
                                                 now_ms)) != NULL) {
            *kind = (idgw_acl_kind)k;
            return e;
        }
    }
    return NULL;
}

int idgw_acl_lists_whitelisted(const idgw_acl_lists *l,
                               apr_hash_t *const *static_wl,
                               const idgw_acl_identity *id, int64_t now_ms)
{
    if (id == NULL) {
        return 0;
    }
    for (int k = IDGW_ACL_TERMINAL; k <= IDGW_ACL_USER; k++) {
        if (id->v[k] == NULL) {
            continue;
        }
        if (static_wl && static_wl[k] &&
            apr_hash_get(static_wl[k], id->v[k], APR_HASH_KEY_STRING) != NULL) {
            return 1;
        }
        if (idgw_acl_lists_find(l, IDGW_ACL_WHITELIST, (idgw_acl_kind)k, id->v[k],
                                now_ms) != NULL) {
            return 1;
        }
    }
    return 0;
}
