/*
 * idgw_convert_ctx.c - the context of one operation (idgw_convert_ctx.h).
 */
#include "idgw_convert_ctx.h"
#include "idgw_vault.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

typedef struct ctx_item {
    char *name;
    char *value;
    size_t value_len;
} ctx_item;

struct idgw_ctx {
    apr_pool_t *p;
    apr_array_header_t *items;     /* of ctx_item */
};

static char *secret_dup(apr_pool_t *p, const char *s, size_t len)
{
    char *d = apr_pstrmemdup(p, s, len);

    idgw_vault_wipe_on_cleanup(p, d, len);
    return d;
}

idgw_ctx *idgw_ctx_new(apr_pool_t *p)
{
    idgw_ctx *c = apr_palloc(p, sizeof(*c));

    c->p = p;
    c->items = apr_array_make(p, 16, sizeof(ctx_item));
    return c;
}

static ctx_item *find(const idgw_ctx *c, const char *name)
{
    for (int i = 0; i < c->items->nelts; i++) {
        ctx_item *it = &APR_ARRAY_IDX(c->items, i, ctx_item);

        if (it->name && strcmp(it->name, name) == 0)
            return it;
    }
    return NULL;
}

int idgw_ctx_set(idgw_ctx *c, const char *name, const char *value)
{
    ctx_item *it = find(c, name);

    if (!value) {
        if (it)
            it->name = NULL;
        return 1;
    }
    if (!it) {
        if (c->items->nelts >= IDGW_CTX_MAX_ITEMS)
            return 0;
        it = apr_array_push(c->items);
        it->name = apr_pstrdup(c->p, name);
    }
    it->value_len = strlen(value);
    it->value = secret_dup(c->p, value, it->value_len);
    return 1;
}

const char *idgw_ctx_get(const idgw_ctx *c, const char *name)
{
    const ctx_item *it = find(c, name);

    return it ? it->value : NULL;
}

int idgw_ctx_append(idgw_ctx *c, const char *name, const char *value)
{
    const char *old = idgw_ctx_get(c, name);
    char sep[2] = { IDGW_CTX_LIST_SEP, '\0' };

    if (!old)
        return idgw_ctx_set(c, name, value);
    return idgw_ctx_set(c, name, apr_pstrcat(c->p, old, sep, value, NULL));
}

int idgw_ctx_list_count(const idgw_ctx *c, const char *name)
{
    const char *v = idgw_ctx_get(c, name);
    int n = 1;

    if (!v)
        return 0;
    for (; *v; v++)
        if (*v == IDGW_CTX_LIST_SEP)
            n++;
    return n;
}

const char *idgw_ctx_list_item(apr_pool_t *p, const idgw_ctx *c, const char *name, int n)
{
    const char *v = idgw_ctx_get(c, name), *end;

    if (!v || n < 0)
        return NULL;
    for (; n > 0; n--) {
        v = strchr(v, IDGW_CTX_LIST_SEP);
        if (!v)
            return NULL;
        v++;
    }
    end = strchr(v, IDGW_CTX_LIST_SEP);
    return end ? secret_dup(p, v, (size_t)(end - v)) : v;
}

int idgw_ctx_count(const idgw_ctx *c)
{
    int n = 0;

    for (int i = 0; i < c->items->nelts; i++)
        if (APR_ARRAY_IDX(c->items, i, ctx_item).name)
            n++;
    return n;
}

#define CTX_MAGIC "IC1\n"

/* one part must fit one vault item */
_Static_assert(IDGW_CTX_MAX_BYTES <= IDGW_VAULT_MAX_ITEM, "a context part fits a vault item");

int idgw_ctx_is_display(const char *name)
{
    static const char *const names[] = { "issuerName", "messages", "logo", "logoType", NULL };

    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);

        if (strncmp(name, names[i], n) == 0 && (name[n] == '\0' || name[n] == '.'))
            return 1;
    }
    return 0;
}

int idgw_ctx_has_display(const idgw_ctx *c)
{
    for (int i = 0; i < c->items->nelts; i++) {
        const ctx_item *it = &APR_ARRAY_IDX(c->items, i, ctx_item);

        if (it->name && idgw_ctx_is_display(it->name))
            return 1;
    }
    return 0;
}

/* part: 1 display only, 0 card only, -1 everything */
static int in_part(const ctx_item *it, int part)
{
    return it->name && (part < 0 || idgw_ctx_is_display(it->name) == part);
}

static const char *encode(apr_pool_t *p, const idgw_ctx *c, int part, size_t *len)
{
    size_t n = sizeof(CTX_MAGIC) - 1, o;
    char *buf;

    for (int i = 0; i < c->items->nelts; i++) {
        const ctx_item *it = &APR_ARRAY_IDX(c->items, i, ctx_item);

        if (in_part(it, part))
            n += strlen(it->name) + 1 + it->value_len + 1;
    }
    buf = apr_palloc(p, n + 1);
    idgw_vault_wipe_on_cleanup(p, buf, n + 1);
    memcpy(buf, CTX_MAGIC, sizeof(CTX_MAGIC) - 1);
    o = sizeof(CTX_MAGIC) - 1;
    for (int i = 0; i < c->items->nelts; i++) {
        const ctx_item *it = &APR_ARRAY_IDX(c->items, i, ctx_item);
        size_t nl;

        if (!in_part(it, part))
            continue;
        nl = strlen(it->name) + 1;
        memcpy(buf + o, it->name, nl);
        o += nl;
        memcpy(buf + o, it->value, it->value_len + 1);
        o += it->value_len + 1;
    }
    buf[o] = '\0';
    *len = o;
    return buf;
}

const char *idgw_ctx_encode(apr_pool_t *p, const idgw_ctx *c, size_t *len)
{
    return encode(p, c, -1, len);
}

const char *idgw_ctx_encode_part(apr_pool_t *p, const idgw_ctx *c, int display, size_t *len)
{
    const char *buf = encode(p, c, display ? 1 : 0, len);

    return *len > IDGW_CTX_MAX_BYTES ? NULL : buf;
}

int idgw_ctx_merge(idgw_ctx *c, const idgw_ctx *src)
{
    for (int i = 0; i < src->items->nelts; i++) {
        const ctx_item *it = &APR_ARRAY_IDX(src->items, i, ctx_item);

        if (it->name && !idgw_ctx_set(c, it->name, it->value))
            return 0;
    }
    return 1;
}

idgw_ctx *idgw_ctx_decode(apr_pool_t *p, const char *buf, size_t len)
{
    idgw_ctx *c = idgw_ctx_new(p);
    size_t o = sizeof(CTX_MAGIC) - 1;

    if (!buf || len < o || len > IDGW_CTX_MAX_BYTES || memcmp(buf, CTX_MAGIC, o) != 0)
        return NULL;
    while (o < len) {
        const char *name = buf + o, *value;
        const char *nend = memchr(name, '\0', len - o), *vend;

        if (!nend || nend == name)
            return NULL;
        value = nend + 1;
        if ((size_t)(value - buf) >= len)
            return NULL;
        vend = memchr(value, '\0', len - (size_t)(value - buf));
        if (!vend || !idgw_ctx_set(c, name, value))
            return NULL;
        o = (size_t)(vend - buf) + 1;
    }
    return c;
}
