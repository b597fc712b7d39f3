/*
 * idgw_convert_map.c - compile the telegram mapping file (idgw_convert_map.h).
 */
#include "idgw_convert_map.h"

#include <stdarg.h>
#include <string.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "idgw_convert_errors.h"
#include "felica_relay.h"

#define MAP_MAX_BYTES (256 * 1024)
#define MAP_MAX_TOKENS 48

static const char *const backend_names[IDGW_MAP_BE_COUNT] = {
    [IDGW_MAP_BE_CARD] = "card", [IDGW_MAP_BE_CREMO] = "cremo", [IDGW_MAP_BE_DLC] = "dlc",
    [IDGW_MAP_BE_BRAND] = "brand", [IDGW_MAP_BE_FELICA] = "felica",
};

static const char *const stage_names[IDGW_MAP_STAGE_COUNT] = {
    [IDGW_MAP_REQUEST] = "request", [IDGW_MAP_COMPLETE] = "complete",
    [IDGW_MAP_ABORT] = "abort",
};

/* What req.NAME may name; the password only while the request is at hand. */
static const char *const req_names[] = {
    "member", "password", "issuer", "cardId", "slot1", "idm", "pmm", "main", "source", NULL
};

static const struct {
    const char *name;
    unsigned bit;
} relay_classes[] = {
    { "polling", FELICA_RELAY_POLLING }, { "public_info", FELICA_RELAY_PUBLIC_INFO },
    { "read_plain", FELICA_RELAY_READ_PLAIN }, { "write_plain", FELICA_RELAY_WRITE_PLAIN },
    { "auth", FELICA_RELAY_AUTH }, { "secure_rw", FELICA_RELAY_SECURE_RW },
    { "area_admin", FELICA_RELAY_AREA_ADMIN },
};

const char *idgw_map_backend_name(idgw_map_backend be)
{
    return (unsigned)be < IDGW_MAP_BE_COUNT ? backend_names[be] : NULL;
}

const char *idgw_map_stage_name(idgw_map_stage st)
{
    return (unsigned)st < IDGW_MAP_STAGE_COUNT ? stage_names[st] : NULL;
}

typedef struct compiler {
    apr_pool_t *p;
    const char *name;
    int line;
    idgw_map *map;
    int have_version;
    /* ctx names defined so far, per operation: request-stage captures, then done */
    apr_hash_t *defined[IDGW_OP_COUNT];
} compiler;

static const char *fail(compiler *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "file:line: message": what an operator needs to fix the map */
static const char *fail(compiler *c, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(c->p, fmt, ap);
    va_end(ap);
    return apr_psprintf(c->p, "%s:%d: %s", c->name, c->line, msg);
}

static int name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 40)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || *s == '_'))
            return 0;
    return 1;
}

static int lookup(const char *const *names, int count, const char *s)
{
    for (int i = 0; i < count; i++)
        if (names[i] && strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static const char *parse_op(compiler *c, const char *tok, idgw_op *op)
{
    *op = idgw_op_from_name(tok);
    if (*op == IDGW_OP_NONE || *op == IDGW_OP_OPEN || *op == IDGW_OP_STATUS)
        return fail(c, "'%s' is not an operation the mapping can describe", tok);
    return NULL;
}

static const char *parse_source(compiler *c, idgw_op op, idgw_map_stage stage, int has_for,
                                const char *tok, idgw_map_source *src)
{
    size_t n = strlen(tok);

    if (tok[0] == '\'') {
        if (n < 3 || tok[n - 1] != '\'' || memchr(tok + 1, '\'', n - 2))
            return fail(c, "bad literal %s (write 'text', no blanks or quotes inside)", tok);
        src->kind = IDGW_MAP_SRC_LITERAL;
        src->name = apr_pstrndup(c->p, tok + 1, n - 2);
        return NULL;
    }
    if (strcmp(tok, "item") == 0) {
        if (!has_for)
            return fail(c, "%s outside a for= call", tok);
        src->kind = IDGW_MAP_SRC_ITEM;
        src->name = "item";
        return NULL;
    }
    if (strncmp(tok, "req.", 4) == 0) {
        int i = lookup(req_names, (int)(sizeof(req_names) / sizeof(req_names[0])) - 1, tok + 4);

        if (i < 0)
            return fail(c, "unknown request value %s", tok);
        if (strcmp(tok + 4, "password") == 0 && stage != IDGW_MAP_REQUEST)
            return fail(c, "%s exists only in the request stage (it is never kept)", tok);
        src->kind = IDGW_MAP_SRC_REQ;
        src->name = req_names[i];
        return NULL;
    }
    if (strncmp(tok, "ctx.", 4) == 0) {
        if (!name_ok(tok + 4))
            return fail(c, "bad context name %s", tok);
        /* the engine sets chipWrite itself before the abort calls run */
        if (!apr_hash_get(c->defined[op], tok + 4, APR_HASH_KEY_STRING)
            && !(stage == IDGW_MAP_ABORT && strcmp(tok + 4, IDGW_MAP_CTX_CHIP_WRITE) == 0))
            return fail(c, "%s is not captured before it is used", tok);
        src->kind = IDGW_MAP_SRC_CTX;
        src->name = apr_pstrdup(c->p, tok + 4);
        return NULL;
    }
    return fail(c, "unknown source %s (req.NAME, ctx.NAME, item or 'literal')", tok);
}

/* The field must be one the telegram schema knows, and a literal must be a
 * value the schema accepts: otherwise the mistake would surface only at the
 * first request that uses the line. */
static const char *check_assign_schema(compiler *c, idgw_tg_type_t type, const idgw_map_assign *as)
{
    const idgw_tg_field_spec_t *spec = idgw_tg_field_spec(type, as->field);

    if (!spec)
        return fail(c, "%s has no field %s", idgw_tg_type_name(type), as->field);
    for (int i = 0; i < as->nalts; i++)
        if (as->alts[i].kind == IDGW_MAP_SRC_LITERAL
            && !idgw_tg_field_value_ok(spec, as->alts[i].name))
            return fail(c, "'%s' is not a valid %s of %s (%s%s%s)", as->alts[i].name, as->field,
                        idgw_tg_type_name(type), idgw_tg_kind_name(spec->kind),
                        spec->values ? ": " : "", spec->values ? spec->values : "");
    return NULL;
}

static const char *parse_assign(compiler *c, idgw_op op, idgw_map_stage stage, int has_for,
                                idgw_tg_type_t type, const char *tok, idgw_map_assign *as)
{
    const char *eq = strchr(tok, '=');
    char *alts, *alt, *last;
    const char *err;

    if (!eq || eq == tok)
        return fail(c, "expected FIELD=SOURCE, got %s", tok);
    as->field = apr_pstrndup(c->p, tok, (apr_size_t)(eq - tok));
    if (!name_ok(as->field))
        return fail(c, "bad field name in %s", tok);
    as->nalts = 0;
    alts = apr_pstrdup(c->p, eq + 1);
    for (alt = apr_strtok(alts, "|", &last); alt; alt = apr_strtok(NULL, "|", &last)) {
        if (as->nalts == IDGW_MAP_MAX_ALTS)
            return fail(c, "too many alternatives in %s", tok);
        if ((err = parse_source(c, op, stage, has_for, alt, &as->alts[as->nalts])))
            return err;
        as->nalts++;
    }
    return as->nalts ? check_assign_schema(c, type, as) : fail(c, "no source in %s", tok);
}

/* RESFIELD must be a field of one of the answers the capture reads
 * (res_types, ntypes of them). */
static const char *parse_capture(compiler *c, idgw_op op, const idgw_tg_type_t *res_types,
                                 int ntypes, const char *tok, const char *suffix,
                                 idgw_map_capture *cap)
{
    int known = 0;

    const char *colon = strchr(tok, ':');
    size_t flen;

    if (!colon || colon == tok)
        return fail(c, "expected RESFIELD:NAME, got %s", tok);
    flen = (size_t)(colon - tok);
    cap->all = tok[flen - 1] == '*';
    cap->res_field = apr_pstrndup(c->p, tok, flen - (cap->all ? 1 : 0));
    cap->ctx_name = apr_pstrdup(c->p, colon + 1);
    if (!name_ok(cap->res_field) || !name_ok(cap->ctx_name))
        return fail(c, "bad capture %s", tok);
    for (int i = 0; i < ntypes && !known; i++)
        known = idgw_tg_field_spec(res_types[i], cap->res_field) != NULL;
    if (!known)
        return fail(c, "%s has no field %s", idgw_tg_type_name(res_types[ntypes - 1]),
                    cap->res_field);
    /* a for= capture is stored as NAME.<item>: the answer reads it, the map cannot */
    if (!suffix)
        apr_hash_set(c->defined[op], cap->ctx_name, APR_HASH_KEY_STRING, "1");
    return NULL;
}

static int backend_serves(idgw_map_backend be, idgw_tg_type_t type)
{
    switch (idgw_tg_service(type)) {
    case IDGW_TG_SVC_CARD:
        return be == IDGW_MAP_BE_CARD || be == IDGW_MAP_BE_CREMO || be == IDGW_MAP_BE_DLC;
    case IDGW_TG_SVC_BRAND:
        return be == IDGW_MAP_BE_BRAND;
    case IDGW_TG_SVC_FELICA:
        return be == IDGW_MAP_BE_FELICA;
    default:
        return 0;
    }
}

/* Every field the schema requires must be filled by an assignment, and none
 * more often than the schema allows. */
static const char *check_call_fields(compiler *c, const idgw_map_call *call)
{
    const idgw_tg_field_spec_t *spec;

    for (int k = 0; (spec = idgw_tg_field_spec_at(call->type, k)); k++) {
        int n = 0;

        for (int i = 0; i < call->assigns->nelts; i++)
            n += strcmp(APR_ARRAY_IDX(call->assigns, i, idgw_map_assign).field, spec->name) == 0;
        if (n < spec->min_occurs)
            return fail(c, "%s requires field %s, the call does not fill it",
                        idgw_tg_type_name(call->type), spec->name);
        if (n > spec->max_occurs)
            return fail(c, "field %s filled %d times, %s allows %d", spec->name, n,
                        idgw_tg_type_name(call->type), spec->max_occurs);
    }
    return NULL;
}

static int stage_starts_relay(const apr_array_header_t *calls)
{
    return calls->nelts > 0
        && APR_ARRAY_IDX(calls, calls->nelts - 1, idgw_map_call).type == IDGW_TG_FELICA_START_REQ;
}

/* call <op> <stage> <TYPE> <backend> [for=ctx.NAME] assign* [> capture*] */
static const char *parse_call(compiler *c, char **tok, int n)
{
    idgw_map_call call;
    idgw_op op;
    int st, be, i;
    const char *err;
    apr_array_header_t *calls;

    if (n < 5)
        return fail(c, "%s: expected call <op> <stage> <TYPE> <backend> ...", tok[0]);
    if ((err = parse_op(c, tok[1], &op)))
        return err;
    if ((st = lookup(stage_names, IDGW_MAP_STAGE_COUNT, tok[2])) < 0)
        return fail(c, "unknown stage %s (request, complete or abort)", tok[2]);
    memset(&call, 0, sizeof(call));
    call.line = c->line;
    if (idgw_tg_type_from_name(tok[3], &call.type) != 0 || idgw_tg_is_response(call.type)
        || call.type == IDGW_TG_FELICA_EXCHANGE_REQ)
        return fail(c, "%s is not a request telegram the mapping may send", tok[3]);
    if ((be = lookup(backend_names, IDGW_MAP_BE_COUNT, tok[4])) < 0)
        return fail(c, "unknown backend %s", tok[4]);
    call.backend = (idgw_map_backend)be;
    if (!backend_serves(call.backend, call.type))
        return fail(c, "backend %s does not serve that telegram", tok[4]);
    calls = c->map->calls[op][st];
    if (st == IDGW_MAP_REQUEST && stage_starts_relay(calls))
        return fail(c, "%s: nothing may follow FELICA_START_REQ in a request stage", tok[1]);
    if (call.type == IDGW_TG_FELICA_START_REQ && st != IDGW_MAP_REQUEST)
        return fail(c, "FELICA_START_REQ belongs to a request stage (%s)", tok[2]);
    i = 5;
    if (i < n && strncmp(tok[i], "for=ctx.", 8) == 0) {
        call.for_each = apr_pstrdup(c->p, tok[i] + 8);
        if (!apr_hash_get(c->defined[op], call.for_each, APR_HASH_KEY_STRING))
            return fail(c, "%s: the list is not captured before it is used", tok[i]);
        i++;
    }
    call.assigns = apr_array_make(c->p, 8, sizeof(idgw_map_assign));
    call.captures = apr_array_make(c->p, 4, sizeof(idgw_map_capture));
    for (; i < n && strcmp(tok[i], ">") != 0; i++)
        if ((err = parse_assign(c, op, (idgw_map_stage)st, call.for_each != NULL, call.type,
                                tok[i], apr_array_push(call.assigns))))
            return err;
    if ((err = check_call_fields(c, &call)))
        return err;
    if (i < n) {
        if (call.type == IDGW_TG_FELICA_START_REQ)
            return fail(c, "%s: capture what the chip work gives with a done line", tok[3]);
        idgw_tg_type_t res = idgw_tg_response_of(call.type);

        for (i++; i < n; i++)
            if ((err = parse_capture(c, op, &res, 1, tok[i], call.for_each,
                                     apr_array_push(call.captures))))
                return err;
    }
    *(idgw_map_call *)apr_array_push(calls) = call;
    return NULL;
}

static const char *parse_done(compiler *c, char **tok, int n)
{
    /* the DONE comes in the FeliCa server's START or EXCHANGE answer */
    static const idgw_tg_type_t res[] = { IDGW_TG_FELICA_START_RES, IDGW_TG_FELICA_EXCHANGE_RES };
    idgw_op op;
    const char *err;

    if ((err = parse_op(c, tok[1], &op)))
        return err;
    if (!stage_starts_relay(c->map->calls[op][IDGW_MAP_REQUEST]))
        return fail(c, "done %s: its request stage does not start a chip relay", tok[1]);
    for (int i = 2; i < n; i++)
        if ((err = parse_capture(c, op, res, 2, tok[i], NULL, apr_array_push(c->map->done[op]))))
            return err;
    return NULL;
}

static const char *add_result(compiler *c, const char *code, const idgw_error_def *e, idgw_op op)
{
    idgw_map_result *r;

    for (int i = 0; i < c->map->results->nelts; i++) {
        r = &APR_ARRAY_IDX(c->map->results, i, idgw_map_result);
        if (strcmp(r->code, code) == 0 && r->op == op)
            return fail(c, "result %s mapped twice for the same operations", code);
    }
    r = apr_array_push(c->map->results);
    r->code = apr_pstrdup(c->p, code);
    r->error = e;
    r->op = op;
    return NULL;
}

/* result <code> <IDGW-CNV-nnn> [<op>...] */
static const char *parse_result(compiler *c, char **tok, int n)
{
    const idgw_error_def *e;
    const char *err;
    idgw_op op;

    if (n < 3)
        return fail(c, "%s: expected result <code> <IDGW-CNV-nnn> [<op>...]", tok[0]);
    if (strlen(tok[1]) != 4 || !idgw_tg_result_text(tok[1]) || strcmp(tok[1], IDGW_TG_R_OK) == 0)
        return fail(c, "%s is not a known failure result code", tok[1]);
    if (!(e = idgw_convert_error_find(tok[2])))
        return fail(c, "unknown error code %s", tok[2]);
    if (n == 3)
        return add_result(c, tok[1], e, IDGW_OP_NONE);
    for (int i = 3; i < n; i++) {
        if ((err = parse_op(c, tok[i], &op)) || (err = add_result(c, tok[1], e, op)))
            return err;
    }
    return NULL;
}

/* relay <op> <class>[,<class>...] */
static const char *parse_relay(compiler *c, char **tok, int n)
{
    char *list, *cls, *last;
    const char *err;
    idgw_op op;
    unsigned bits = 0;

    if (n != 3)
        return fail(c, "%s: expected relay <op> <class>[,<class>...]", tok[0]);
    if ((err = parse_op(c, tok[1], &op)))
        return err;
    if (c->map->relay_classes[op])
        return fail(c, "relay classes of %s given twice", tok[1]);
    list = apr_pstrdup(c->p, tok[2]);
    for (cls = apr_strtok(list, ",", &last); cls; cls = apr_strtok(NULL, ",", &last)) {
        size_t i;

        for (i = 0; i < sizeof(relay_classes) / sizeof(relay_classes[0]); i++)
            if (strcmp(relay_classes[i].name, cls) == 0)
                break;
        if (i == sizeof(relay_classes) / sizeof(relay_classes[0]))
            return fail(c, "unknown chip command class %s", cls);
        bits |= relay_classes[i].bit;
    }
    if (!bits)
        return fail(c, "%s: no command class", tok[1]);
    c->map->relay_classes[op] = bits;
    return NULL;
}

/* identity <TYPE> user <FIELD>: a successful answer to TYPE proves that
 * the backend authenticated the user the request telegram's FIELD names. */
static const char *parse_identity(compiler *c, char **tok, int n)
{
    idgw_tg_type_t type;
    const idgw_tg_field_spec_t *spec;

    if (n != 4)
        return fail(c, "%s: expected identity <TYPE> user <FIELD>", tok[0]);
    if (idgw_tg_type_from_name(tok[1], &type) != 0 || idgw_tg_is_response(type)
        || type == IDGW_TG_FELICA_EXCHANGE_REQ || idgw_tg_service(type) != IDGW_TG_SVC_CARD)
        return fail(c, "%s is not a card source's request telegram (an identity is what a "
                    "card source authenticates)", tok[1]);
    /* terminal id and IDm are the session's binding, not a backend's proof */
    if (strcmp(tok[2], "user") != 0)
        return fail(c, "identity kind %s: only user is proven by a backend", tok[2]);
    spec = idgw_tg_field_spec(type, tok[3]);
    if (!spec)
        return fail(c, "%s has no field %s", idgw_tg_type_name(type), tok[3]);
    /* exactly one value, always there: the identity is never a guess */
    if (spec->min_occurs != 1 || spec->max_occurs != 1)
        return fail(c, "%s of %s is not a single required field", tok[3],
                    idgw_tg_type_name(type));
    /* an identity is logged and listed: an id, never a password or card data */
    if (spec->kind != IDGW_TG_K_ALNUM)
        return fail(c, "%s of %s is not an id field (%s): no secret may be an identity",
                    tok[3], idgw_tg_type_name(type), idgw_tg_kind_name(spec->kind));
    if (c->map->identity[type])
        return fail(c, "identity of %s given twice", tok[1]);
    c->map->identity[type] = spec->name;
    return NULL;
}

static const char *parse_statement(compiler *c, char **tok, int n)
{
    if (!c->have_version) {
        if (n != 2 || strcmp(tok[0], "version") != 0 || strcmp(tok[1], "1") != 0)
            return fail(c, "%s: the first statement must be 'version 1'", tok[0]);
        c->have_version = 1;
        return NULL;
    }
    if (strcmp(tok[0], "call") == 0)
        return parse_call(c, tok, n);
    if (strcmp(tok[0], "done") == 0)
        return n >= 2 ? parse_done(c, tok, n) : fail(c, "%s: expected done <op> ...", tok[0]);
    if (strcmp(tok[0], "result") == 0)
        return parse_result(c, tok, n);
    if (strcmp(tok[0], "relay") == 0)
        return parse_relay(c, tok, n);
    if (strcmp(tok[0], "identity") == 0)
        return parse_identity(c, tok, n);
    if (strcmp(tok[0], "default") == 0) {
        if (n != 2 || !(c->map->default_error = idgw_convert_error_find(tok[1])))
            return fail(c, "%s: expected default <IDGW-CNV-nnn>", tok[0]);
        return NULL;
    }
    return fail(c, "unknown statement %s", tok[0]);
}

/* Split one line into blank-separated tokens, dropping a '#' comment. */
static int tokenize(char *line, char **tok, int max)
{
    char *hash = strchr(line, '#'), *last, *t;
    int n = 0;

    if (hash)
        *hash = '\0';
    for (t = apr_strtok(line, " \t\r", &last); t; t = apr_strtok(NULL, " \t\r", &last)) {
        if (n == max)
            return -1;
        tok[n++] = t;
    }
    return n;
}

/* Whole-map checks: every chip operation the session allows is described. */
static const char *check_complete(compiler *c)
{
    c->line = 0;
    if (!c->have_version)
        return fail(c, "%s", "empty mapping (no 'version 1')");
    if (!c->map->default_error)
        return fail(c, "%s", "no 'default' error for unmapped result codes");
    for (int op = IDGW_OP_NONE + 1; op < IDGW_OP_COUNT; op++) {
        int relay = stage_starts_relay(c->map->calls[op][IDGW_MAP_REQUEST]);

        if (op == IDGW_OP_OPEN || op == IDGW_OP_CLOSE || op == IDGW_OP_STATUS)
            continue;
        if (idgw_op_has_relay((idgw_op)op) && !relay)
            return fail(c, "operation %s has no FELICA_START_REQ in its request stage",
                        idgw_op_name((idgw_op)op));
        if (!idgw_op_has_relay((idgw_op)op) && relay)
            return fail(c, "operation %s has no chip relay step, but starts one",
                        idgw_op_name((idgw_op)op));
        if (relay && !c->map->relay_classes[op])
            return fail(c, "operation %s relays chip packets but has no relay line",
                        idgw_op_name((idgw_op)op));
    }
    return NULL;
}

const char *idgw_map_parse(apr_pool_t *p, const char *name, const char *text, size_t len,
                           idgw_map **out)
{
    compiler c;
    char *buf, *line, *next;
    const char *err;

    memset(&c, 0, sizeof(c));
    c.p = p;
    c.name = name;
    c.map = apr_pcalloc(p, sizeof(idgw_map));
    c.map->path = name;
    c.map->results = apr_array_make(p, 16, sizeof(idgw_map_result));
    for (int op = 0; op < IDGW_OP_COUNT; op++) {
        c.defined[op] = apr_hash_make(p);
        c.map->done[op] = apr_array_make(p, 4, sizeof(idgw_map_capture));
        for (int st = 0; st < IDGW_MAP_STAGE_COUNT; st++)
            c.map->calls[op][st] = apr_array_make(p, 4, sizeof(idgw_map_call));
    }
    if (len > MAP_MAX_BYTES || memchr(text, '\0', len))
        return apr_psprintf(p, "%s: not a mapping file (too large or binary)", name);
    buf = apr_pstrmemdup(p, text, len);
    for (line = buf; line; line = next) {
        char *tok[MAP_MAX_TOKENS];
        int n;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        c.line++;
        if ((n = tokenize(line, tok, MAP_MAX_TOKENS)) < 0)
            return fail(&c, "%s", "too many tokens on one line");
        if (n == 0)
            continue;
        if ((err = parse_statement(&c, tok, n)))
            return err;
    }
    if ((err = check_complete(&c)))
        return err;
    *out = c.map;
    return NULL;
}

const char *idgw_map_load(apr_pool_t *p, const char *path, idgw_map **out)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *buf;
    apr_status_t rv;

    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p)) != APR_SUCCESS)
        return apr_psprintf(p, "%s: cannot open the mapping file", path);
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS || fi.size > MAP_MAX_BYTES) {
        apr_file_close(f);
        return apr_psprintf(p, "%s: cannot read the mapping file (or larger than %d bytes)",
                            path, MAP_MAX_BYTES);
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    rv = n ? apr_file_read_full(f, buf, n, &n) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS)
        return apr_psprintf(p, "%s: cannot read the mapping file", path);
    return idgw_map_parse(p, path, buf, n, out);
}

const apr_array_header_t *idgw_map_calls(const idgw_map *m, idgw_op op, idgw_map_stage stage)
{
    return m->calls[(unsigned)op < IDGW_OP_COUNT ? op : IDGW_OP_NONE]
                   [(unsigned)stage < IDGW_MAP_STAGE_COUNT ? stage : IDGW_MAP_REQUEST];
}

int idgw_map_has_relay(const idgw_map *m, idgw_op op)
{
    return (unsigned)op < IDGW_OP_COUNT && stage_starts_relay(m->calls[op][IDGW_MAP_REQUEST]);
}

const idgw_error_def *idgw_map_error_for(const idgw_map *m, idgw_op op, const char *result)
{
    const idgw_error_def *general = NULL;

    for (int i = 0; result && i < m->results->nelts; i++) {
        const idgw_map_result *r = &APR_ARRAY_IDX(m->results, i, idgw_map_result);

        if (strcmp(r->code, result) != 0)
            continue;
        if (r->op == op && op != IDGW_OP_NONE)
            return r->error;
        if (r->op == IDGW_OP_NONE)
            general = r->error;
    }
    return general ? general : m->default_error;
}

unsigned idgw_map_relay_classes(const idgw_map *m, idgw_op op)
{
    return (unsigned)op < IDGW_OP_COUNT ? m->relay_classes[op] : 0;
}

const char *idgw_map_identity(const idgw_map *m, idgw_tg_type_t type)
{
    return (unsigned)type < IDGW_TG_TYPE_COUNT ? m->identity[type] : NULL;
}
