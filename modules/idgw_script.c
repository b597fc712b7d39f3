/*
 * idgw_script.c - script identity, assembly of the per-request script, and
 * its argument layout (see idgw_script.h).
 */
#include "idgw_script.h"
#include "idgw_lua_session.h"
#include "idgw_transitions.h"

#include <apr_strings.h>
#include <openssl/evp.h>
#include <string.h>

void idgw_script_init(idgw_script *s, const char *name, const char *text)
{
    unsigned char md[20];
    unsigned int mdlen = 0;
    static const char digits[] = "0123456789abcdef";
    int i;

    s->name = name;
    s->text = text;
    s->len = strlen(text);
    if (!EVP_Digest(text, s->len, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        memset(md, 0, sizeof(md));   /* a SHA nothing matches: EVALSHA gets NOSCRIPT */
    for (i = 0; i < 20; i++) {
        s->sha1[2 * i] = digits[md[i] >> 4];
        s->sha1[2 * i + 1] = digits[md[i] & 15];
    }
    s->sha1[40] = '\0';
}

/* The transition table as a Lua table: T['<state>|<op>|<step>'] = '<next state>'. */
static const char *render_table(apr_pool_t *p)
{
    size_t n, i;
    const idgw_transition *t = idgw_transitions(&n);
    char *out = apr_pstrdup(p, "local T = {\n");

    for (i = 0; i < n; i++) {
        char from[IDGW_STATE_NAME_MAX], to[IDGW_STATE_NAME_MAX];

        if (t[i].op == IDGW_OP_OPEN)
            continue;   /* open is its own mode: there is no session to look up */
        idgw_state_format(&t[i].from, from, sizeof(from));
        idgw_state_format(&t[i].to, to, sizeof(to));
        out = apr_pstrcat(p, out, "  ['", from, "|", idgw_op_name(t[i].op), "|",
                          idgw_step_name(t[i].step), "'] = '", to, "',\n", NULL);
    }
    return apr_pstrcat(p, out, "}\n", NULL);
}

static int part_name_valid(const char *name)
{
    size_t i;

    for (i = 0; name[i]; i++) {
        char c = name[i];

        if (i >= 32 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                         || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return i > 0;
}

const char *idgw_script_assemble(apr_pool_t *p, const idgw_script_part_text *parts,
                                 int nparts, char *err, size_t errlen)
{
    const char *out;
    int i;

    if (nparts < 0 || nparts > IDGW_SCRIPT_MAX_PARTS) {
        apr_snprintf(err, errlen, "at most %d script parts", IDGW_SCRIPT_MAX_PARTS);
        return NULL;
    }
    out = apr_pstrcat(p, "-- idgw per-request script (assembled at start-up)\n",
                      render_table(p), idgw_lua_session_core, "local P = {}\n", NULL);
    for (i = 0; i < nparts; i++) {
        if (!parts[i].name || !part_name_valid(parts[i].name) || !parts[i].lua_body) {
            apr_snprintf(err, errlen, "script part %d: missing or malformed name or body", i + 1);
            return NULL;
        }
        out = apr_psprintf(p, "%s-- part %d: %s\nP[%d] = { after = %s, fn = function(K, A, core)\n"
                           "%s\nend }\n", out, i + 1, parts[i].name, i + 1,
                           parts[i].after_core ? "true" : "false", parts[i].lua_body);
    }
    return apr_pstrcat(p, out, idgw_lua_session_dispatch, NULL);
}

const char *idgw_script_commit_text(void)
{
    return idgw_lua_commit;
}

const char *idgw_script_strike_text(void)
{
    return idgw_lua_strike;
}

const char *idgw_script_vault_put_text(void)
{
    return idgw_lua_vault_put;
}

const char *idgw_script_reap_claim_text(void)
{
    return idgw_lua_reap_claim;
}

void idgw_script_args_init(idgw_script_args *a, apr_pool_t *p)
{
    memset(a, 0, sizeof(*a));
    a->pool = p;
    a->cur = -1;
}

void idgw_script_args_part(idgw_script_args *a)
{
    /* callers stay within IDGW_SCRIPT_MAX_PARTS: registration refuses more */
    if (a->cur < IDGW_SCRIPT_MAX_PARTS) {
        a->cur++;
        a->nparts = a->cur + 1;
    }
}

static void grow(apr_pool_t *p, const char ***v, size_t **l, int used, int *cap)
{
    int ncap;
    const char **nv;
    size_t *nl;

    if (used < *cap)
        return;
    ncap = *cap ? 2 * *cap : 16;
    nv = apr_palloc(p, sizeof(*nv) * (size_t)ncap);
    nl = apr_palloc(p, sizeof(*nl) * (size_t)ncap);
    if (used) {
        memcpy(nv, *v, sizeof(*nv) * (size_t)used);
        memcpy(nl, *l, sizeof(*nl) * (size_t)used);
    }
    *v = nv;
    *l = nl;
    *cap = ncap;
}

void idgw_script_args_key(idgw_script_args *a, const char *key)
{
    if (a->cur < 0)
        idgw_script_args_part(a);
    grow(a->pool, &a->keys, &a->key_lens, a->keys_used, &a->keys_cap);
    a->keys[a->keys_used] = key;
    a->key_lens[a->keys_used++] = strlen(key);
    a->nkeys[a->cur]++;
}

void idgw_script_args_arg(idgw_script_args *a, const char *val, size_t len)
{
    if (a->cur < 0)
        idgw_script_args_part(a);
    grow(a->pool, &a->args, &a->arg_lens, a->args_used, &a->args_cap);
    a->args[a->args_used] = val;
    a->arg_lens[a->args_used++] = len;
    a->nargs[a->cur]++;
}

void idgw_script_args_str(idgw_script_args *a, const char *val)
{
    idgw_script_args_arg(a, val, strlen(val));
}

void idgw_script_args_int(idgw_script_args *a, apr_int64_t val)
{
    idgw_script_args_str(a, apr_psprintf(a->pool, "%" APR_INT64_T_FMT, (apr_int64_t)val));
}

int idgw_script_args_argv(const idgw_script_args *a, const idgw_script *s, int parts_header,
                          const char ***argv_out, size_t **lens_out)
{
    int nparts = a->nparts ? a->nparts : 1;
    int header = parts_header ? 1 + 2 * nparts : 0;
    int argc = 3 + a->keys_used + header + a->args_used;
    const char **argv = apr_palloc(a->pool, sizeof(*argv) * (size_t)argc);
    size_t *lens = apr_palloc(a->pool, sizeof(*lens) * (size_t)argc);
    int i, k = 0;

#define PUT(str, len) do { argv[k] = (str); lens[k] = (len); k++; } while (0)
#define PUTS(str) do { const char *s_ = (str); PUT(s_, strlen(s_)); } while (0)
    PUTS("EVALSHA");
    PUT(s->sha1, 40);
    PUTS(apr_itoa(a->pool, a->keys_used));
    for (i = 0; i < a->keys_used; i++)
        PUT(a->keys[i], a->key_lens[i]);
    if (parts_header) {
        PUTS(apr_itoa(a->pool, nparts - 1));
        for (i = 0; i < nparts; i++) {
            PUTS(apr_itoa(a->pool, a->nkeys[i]));
            PUTS(apr_itoa(a->pool, a->nargs[i]));
        }
    }
    for (i = 0; i < a->args_used; i++)
        PUT(a->args[i], a->arg_lens[i]);
#undef PUTS
#undef PUT
    *argv_out = argv;
    *lens_out = lens;
    return k;
}
