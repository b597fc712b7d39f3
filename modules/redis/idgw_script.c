/*
 * idgw_script.c - script identity, assembly of the per-request script, and
 * its argument layout (see idgw_script.h).
 */
#include "idgw_script.h"

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
    s->lib = NULL;
    s->lib_len = 0;
    memcpy(s->fname, "idgw_", 5);
    memcpy(s->fname + 5, s->sha1, 41);
    memcpy(s->core_fname, s->fname, 45);
    memcpy(s->core_fname + 45, "_c", 3);
}

/* Runs the parts and the core (part 0) on their slices of KEYS and ARGV
 * (layout in idgw_script.h): the "before" parts first, any of which may DENY
 * (they get the core's core_proven as a function of no arguments), then the
 * core, then the "after" parts, which see the core's result.  A part whose
 * slice is empty (no key, no argument: it has nothing to do for this
 * request) is not run; its result is false.  Defined as a function: a
 * library registers it, the EVAL text calls it.  core_begin() first: in a
 * library the core's locals outlive the call.
 *
 * core_only: the same call when no part has anything to do (the caller
 * knows: every part's slice is empty), registered beside the dispatcher in
 * a library.  It skips the slicing, the parts' loop and their closures,
 * about a third of a steady status call's script time, and answers
 * {core's result}. */
static const char dispatch[] =
"-- one table built in C (unpack), not grown element by element: a third of\n"
"-- the dispatcher's cost with the access-control parts' 60-odd arguments\n"
"local function take(t, from, n)\n"
"  return {unpack(t, from, from + n - 1)}\n"
"end\n"
"local function core_only(KEYS, ARGV)\n"
"  core_begin()\n"
"  local ai = 2 + 2 * (tonumber(ARGV[1]) + 1)\n"
"  return {core(KEYS, take(ARGV, ai, tonumber(ARGV[3])))}\n"
"end\n"
"local function dispatch(KEYS, ARGV)\n"
"core_begin()\n"
"local nparts = tonumber(ARGV[1])\n"
"if nparts ~= #P then return redis.error_reply('idgw: script part count mismatch') end\n"
"local slices, ki, ai = {}, 1, 2 + 2 * (nparts + 1)\n"
"for i = 0, nparts do\n"
"  local nk, na = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])\n"
"  slices[i] = {take(KEYS, ki, nk), take(ARGV, ai, na)}\n"
"  ki, ai = ki + nk, ai + na\n"
"end\n"
"-- before the core, a part learns whether the request's session is proven\n"
"local function proven() return core_proven(slices[0][1], slices[0][2]) end\n"
"local out = {}\n"
"local function idle(i) return #slices[i][1] == 0 and #slices[i][2] == 0 end\n"
"for i = 1, nparts do\n"
"  if not P[i].after and idle(i) then\n"
"    out[i + 1] = false\n"
"  elseif not P[i].after then\n"
"    local r = P[i].fn(slices[i][1], slices[i][2], proven, script_time)\n"
"    if type(r) == 'table' and r[1] == 'DENY' then\n"
"      return {{'DENY', i, tostring(r[2]), tonumber(r[3]) or 403, r[4]}}\n"
"    end\n"
"    out[i + 1] = r or false\n"
"  end\n"
"end\n"
"local result = core(slices[0][1], slices[0][2])\n"
"out[1] = result\n"
"for i = 1, nparts do\n"
"  if P[i].after then\n"
"    out[i + 1] = not idle(i) and P[i].fn(slices[i][1], slices[i][2], result) or false\n"
"  end\n"
"end\n"
"return out\n"
"end\n";

static volatile int functions_off;

int idgw_script_functions_off(void)
{
    return functions_off;
}

void idgw_script_functions_disable(void)
{
    functions_off = 1;
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

/* The definitions shared by both forms: core, parts, dispatcher. */
static const char *definitions(apr_pool_t *p, const char *core_lua,
                               const idgw_script_part_text *parts, int nparts,
                               char *err, size_t errlen)
{
    const char *out;
    int i;

    if (nparts < 0 || nparts > IDGW_SCRIPT_MAX_PARTS) {
        apr_snprintf(err, errlen, "at most %d script parts", IDGW_SCRIPT_MAX_PARTS);
        return NULL;
    }
    out = apr_pstrcat(p, core_lua, "local P = {}\n", NULL);
    for (i = 0; i < nparts; i++) {
        const char *setup = parts[i].lua_setup;

        if (!parts[i].name || !part_name_valid(parts[i].name) || !parts[i].lua_body) {
            apr_snprintf(err, errlen, "script part %d: missing or malformed name or body", i + 1);
            return NULL;
        }
        /* a part's setup in its own block: parts may reuse helper names */
        out = apr_psprintf(p, "%s-- part %d: %s\n%s%s%sP[%d] = { after = %s, fn = function(K, A, core, clock)\n"
                           "%s\nend }\n%s", out, i + 1, parts[i].name,
                           setup ? "do\n" : "", setup ? setup : "", setup ? "\n" : "", i + 1,
                           parts[i].after_core ? "true" : "false", parts[i].lua_body,
                           setup ? "end\n" : "");
    }
    return apr_pstrcat(p, out, dispatch, NULL);
}

/* The EVAL form: the definitions, then one call of the dispatcher. */
static const char *eval_text(apr_pool_t *p, const char *defs)
{
    return apr_pstrcat(p, "-- idgw per-request script (assembled at start-up)\n", defs,
                       "return dispatch(KEYS, ARGV)\n", NULL);
}

const char *idgw_script_assemble(apr_pool_t *p, const char *core_lua,
                                 const idgw_script_part_text *parts, int nparts,
                                 char *err, size_t errlen)
{
    const char *defs = definitions(p, core_lua, parts, nparts, err, errlen);

    return defs ? eval_text(p, defs) : NULL;
}

int idgw_script_compose(idgw_script *s, apr_pool_t *p, const char *name, const char *core_lua,
                        const idgw_script_part_text *parts, int nparts,
                        char *err, size_t errlen)
{
    const char *defs = definitions(p, core_lua, parts, nparts, err, errlen);

    if (!defs)
        return 0;
    idgw_script_init(s, name, eval_text(p, defs));
    /* named after the EVAL text's SHA: another build is another library */
    s->lib = apr_pstrcat(p, "#!lua name=", s->fname, "\n", defs,
                         "redis.register_function('", s->fname, "', dispatch)\n",
                         "redis.register_function('", s->core_fname, "', core_only)\n", NULL);
    s->lib_len = strlen(s->lib);
    return 1;
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

int idgw_script_args_parts_idle(const idgw_script_args *a)
{
    int i;

    for (i = 1; i < a->nparts; i++) {
        if (a->nkeys[i] || a->nargs[i])
            return 0;
    }
    return 1;
}

int idgw_script_args_core_only(const idgw_script_args *a)
{
    return a->nparts >= 2 && idgw_script_args_parts_idle(a);
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
    if (s->lib && !functions_off && parts_header && idgw_script_args_core_only(a)) {
        /* the same arguments: EVALSHA of the whole script still takes them
         * should FCALL turn out unusable (idgw_redis.c, evalsha_instead) */
        PUTS("FCALL");
        PUT(s->core_fname, 47);
    } else if (s->lib && !functions_off) {
        PUTS("FCALL");
        PUT(s->fname, 45);
    } else {
        PUTS("EVALSHA");
        PUT(s->sha1, 40);
    }
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
