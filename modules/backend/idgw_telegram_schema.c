/* idgw_telegram_schema.c: the body schema of every telegram type and the
 * validation of a telegram against it.  The tables are the single source of
 * truth for docs/feature-phone-interface.md's field lists. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <libxml/xmlstring.h>
#include "idgw_telegram.h"

typedef idgw_tg_field_spec_t field_spec_t;

#define F(n, k, lo, hi, mino, maxo) {n, IDGW_TG_##k, lo, hi, mino, maxo, NULL}
#define E(n, vals, mino, maxo) {n, IDGW_TG_K_ENUM, 1, 32, mino, maxo, vals}
#define END {NULL, IDGW_TG_K_DIGITS, 0, 0, 0, 0, NULL}

#define TICKET F("authTicket", K_ALNUM, 16, 128, 1, 1)
#define CARD_ID F("cardId", K_ALNUM, 1, 20, 1, 1)
#define IDM F("idm", K_HEX, 16, 16, 1, 1)
#define CARD_INFO                                                                          \
    CARD_ID, F("issuerCode", K_ALNUM, 2, 8, 1, 1), F("pan", K_PAN, 12, 19, 1, 1),          \
        F("expiry", K_YYMM, 4, 4, 1, 1), F("holderName", K_TEXT, 1, 26, 1, 1),             \
        F("brandVersion", K_DIGITS, 1, 8, 1, 1)

static const field_spec_t s_auth_req[] = {
    F("memberId", K_ALNUM, 4, 20, 1, 1), F("password", K_ASCII, 4, 32, 1, 1),
    F("issuerCode", K_ALNUM, 2, 8, 1, 1), END};
static const field_spec_t s_auth_res[] = {
    TICKET, F("memberName", K_TEXT, 1, 40, 0, 1), F("cardId", K_ALNUM, 1, 20, 1, 4), END};
static const field_spec_t s_ticket_card[] = {TICKET, CARD_ID, END};
static const field_spec_t s_card_info[] = {CARD_INFO, END};
static const field_spec_t s_written_req[] = {
    TICKET, CARD_ID, IDM, E("slot", "1|2", 1, 1), E("writeResult", "OK|NG", 1, 1), END};
static const field_spec_t s_ticket_card_idm[] = {TICKET, CARD_ID, IDM, END};
static const field_spec_t s_empty[] = {END};
static const field_spec_t s_store_res[] = {F("storeId", K_ALNUM, 8, 40, 1, 1), END};
static const field_spec_t s_brand_req[] = {
    F("issuerCode", K_ALNUM, 2, 8, 1, 1), F("knownVersion", K_DIGITS, 1, 8, 0, 1), END};
static const field_spec_t s_brand_res[] = {
    F("issuerCode", K_ALNUM, 2, 8, 1, 1), F("version", K_DIGITS, 1, 8, 1, 1),
    E("unchanged", "0|1", 1, 1), F("issuerName", K_TEXT, 1, 40, 0, 1),
    F("message", K_TEXT, 1, 200, 0, 8), F("logo", K_BASE64, 4, 98304, 0, 1),
    E("logoType", "image/png|image/gif", 0, 1), END};
static const field_spec_t s_felica_start_req[] = {
    IDM, F("pmm", K_HEX, 16, 16, 0, 1),
    E("operation", "ISSUE_AREA|DELETE_AREA|WRITE_CARD|UPDATE_CARD|DELETE_CARD|SET_MAIN|READ_CARDS",
      1, 1),
    E("slot", "1|2", 0, 1), E("makeMain", "0|1", 0, 1), F("cardId", K_ALNUM, 1, 20, 0, 1),
    F("issuerCode", K_ALNUM, 2, 8, 0, 1), F("pan", K_PAN, 12, 19, 0, 1),
    F("expiry", K_YYMM, 4, 4, 0, 1), F("holderName", K_TEXT, 1, 26, 0, 1),
    F("brandVersion", K_DIGITS, 1, 8, 0, 1), END};
#define OP_ID(mino) F("operationId", K_ALNUM, 16, 64, mino, 1)
#define PACKETS(mino) F("packet", K_HEX, 2, 512, mino, 8)
static const field_spec_t s_felica_start_res[] = {
    OP_ID(1), E("state", "CONTINUE|DONE", 1, 1), PACKETS(0), END};
static const field_spec_t s_felica_exchange_req[] = {OP_ID(1), PACKETS(1), END};
static const field_spec_t s_felica_exchange_res[] = {
    OP_ID(1), E("state", "CONTINUE|DONE", 1, 1), PACKETS(0), E("mainSlot", "0|1|2", 0, 1),
    E("cardSlot", "1|2", 0, 2), E("cardStatus", "ACTIVE|SUSPENDED|DEPOSITED", 0, 2),
    F("issuerCode", K_ALNUM, 2, 8, 0, 2), F("last4", K_DIGITS, 4, 4, 0, 2),
    F("brandVersion", K_DIGITS, 1, 8, 0, 2), END};

static const field_spec_t *const schemas[IDGW_TG_TYPE_COUNT] = {
    [IDGW_TG_CARD_AUTH_REQ] = s_auth_req,
    [IDGW_TG_CARD_AUTH_RES] = s_auth_res,
    [IDGW_TG_CARD_DOWNLOAD_REQ] = s_ticket_card,
    [IDGW_TG_CARD_DOWNLOAD_RES] = s_card_info,
    [IDGW_TG_CARD_WRITTEN_REQ] = s_written_req,
    [IDGW_TG_CARD_WRITTEN_RES] = s_empty,
    [IDGW_TG_CARD_DELETED_REQ] = s_ticket_card_idm,
    [IDGW_TG_CARD_DELETED_RES] = s_empty,
    [IDGW_TG_CARD_UPDATE_REQ] = s_ticket_card,
    [IDGW_TG_CARD_UPDATE_RES] = s_card_info,
    [IDGW_TG_CARD_STORE_REQ] = s_ticket_card_idm,
    [IDGW_TG_CARD_STORE_RES] = s_store_res,
    [IDGW_TG_CARD_RESTORE_REQ] = s_ticket_card,
    [IDGW_TG_CARD_RESTORE_RES] = s_card_info,
    [IDGW_TG_BRAND_DOWNLOAD_REQ] = s_brand_req,
    [IDGW_TG_BRAND_DOWNLOAD_RES] = s_brand_res,
    [IDGW_TG_FELICA_START_REQ] = s_felica_start_req,
    [IDGW_TG_FELICA_START_RES] = s_felica_start_res,
    [IDGW_TG_FELICA_EXCHANGE_REQ] = s_felica_exchange_req,
    [IDGW_TG_FELICA_EXCHANGE_RES] = s_felica_exchange_res,
    [IDGW_TG_ERROR_RES] = s_empty,
};

static int fail(idgw_tg_error_t *err, const char *result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(idgw_tg_error_t *err, const char *result, const char *fmt, ...)
{
    va_list ap;

    err->result = result;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int idgw_tg_luhn_ok(const char *d)
{
    size_t n = strlen(d);
    int sum = 0;

    if (n < 12 || n > 19)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int v = d[n - 1 - i] - '0';
        if (v < 0 || v > 9)
            return 0;
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

int idgw_tg_correlation_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n < 8 || n > 64)
        return 0;
    for (const char *q = id; *q; q++)
        if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')
              || *q == '-' || *q == '_'))
            return 0;
    return 1;
}

static int all_chars(const char *v, const char *set_desc)
{
    for (; *v; v++) {
        unsigned char ch = (unsigned char)*v;
        int ok = 0;
        if (strcmp(set_desc, "digits") == 0)
            ok = ch >= '0' && ch <= '9';
        else if (strcmp(set_desc, "alnum") == 0)
            ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                 || ch == '-' || ch == '_';
        else if (strcmp(set_desc, "hex") == 0)
            ok = (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F');
        else if (strcmp(set_desc, "ascii") == 0)
            ok = ch >= 0x20 && ch < 0x7f;
        else if (strcmp(set_desc, "base64") == 0)
            ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                 || ch == '+' || ch == '/' || ch == '=';
        if (!ok)
            return 0;
    }
    return 1;
}

static int enum_ok(const char *v, const char *values)
{
    size_t n = strlen(v);

    for (const char *s = values; s && *s;) {
        const char *bar = strchr(s, '|');
        size_t len = bar ? (size_t)(bar - s) : strlen(s);
        if (len == n && strncmp(s, v, n) == 0)
            return 1;
        s = bar ? bar + 1 : NULL;
    }
    return 0;
}

/* UTF-8 text: valid, no C0/C1 controls or DEL; length in characters. */
static int text_ok(const char *v, int min, int max)
{
    int chars;

    if (!xmlCheckUTF8((const xmlChar *)v))
        return 0;
    chars = xmlUTF8Strlen((const xmlChar *)v);
    if (chars < min || chars > max)
        return 0;
    for (const unsigned char *q = (const unsigned char *)v; *q; q++)
        if (*q < 0x20 || *q == 0x7f || (q[0] == 0xC2 && q[1] >= 0x80 && q[1] < 0xA0))
            return 0;
    return 1;
}

static int value_ok(const field_spec_t *s, const char *v)
{
    int len = (int)strlen(v);

    if (s->kind != IDGW_TG_K_TEXT && (len < s->min_len || len > s->max_len))
        return 0;
    switch (s->kind) {
    case IDGW_TG_K_DIGITS:
        return all_chars(v, "digits");
    case IDGW_TG_K_ALNUM:
        return all_chars(v, "alnum");
    case IDGW_TG_K_HEX:
        return len % 2 == 0 && all_chars(v, "hex");
    case IDGW_TG_K_ASCII:
        return all_chars(v, "ascii");
    case IDGW_TG_K_TEXT:
        return text_ok(v, s->min_len, s->max_len);
    case IDGW_TG_K_BASE64: {
        const char *pad = strchr(v, '=');
        return len % 4 == 0 && all_chars(v, "base64")
               && (!pad || strspn(pad, "=") == strlen(pad)) && (!pad || strlen(pad) <= 2);
    }
    case IDGW_TG_K_ENUM:
        return enum_ok(v, s->values);
    case IDGW_TG_K_PAN:
        return all_chars(v, "digits") && idgw_tg_luhn_ok(v);
    case IDGW_TG_K_YYMM:
        return all_chars(v, "digits") && ((v[2] == '0' && v[3] >= '1') || (v[2] == '1' && v[3] <= '2'));
    }
    return 0;
}

static const field_spec_t *find_spec(const field_spec_t *schema, const char *name)
{
    for (; schema->name; schema++)
        if (strcmp(schema->name, name) == 0)
            return schema;
    return NULL;
}

static int timestamp_ok(const char *t)
{
    /* YYYY-MM-DDThh:mm:ssZ */
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

    if (strlen(t) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; i < sizeof(shape) - 1; i++)
        if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
            return 0;
    return 1;
}

static int validate_header(const idgw_telegram_t *tg, idgw_tg_error_t *err)
{
    if ((unsigned)tg->type >= IDGW_TG_TYPE_COUNT)
        return fail(err, IDGW_TG_R_UNKNOWN_TYPE, "unknown telegram type");
    if (!tg->version || strcmp(tg->version, IDGW_TG_VERSION) != 0)
        return fail(err, IDGW_TG_R_VERSION, "interface version must be %s", IDGW_TG_VERSION);
    if (!idgw_tg_correlation_ok(tg->correlation_id))
        return fail(err, IDGW_TG_R_CORRELATION, "bad correlation id");
    if (!tg->terminal_type || strcmp(tg->terminal_type, IDGW_TG_TERMINAL) != 0)
        return fail(err, IDGW_TG_R_MALFORMED, "terminal type must be %s", IDGW_TG_TERMINAL);
    if (tg->timestamp && !timestamp_ok(tg->timestamp))
        return fail(err, IDGW_TG_R_MALFORMED, "bad timestamp");
    if (idgw_tg_is_response(tg->type)) {
        if (!tg->result || !idgw_tg_result_text(tg->result))
            return fail(err, IDGW_TG_R_MALFORMED, "response without a known result code");
        if (tg->type == IDGW_TG_ERROR_RES && strcmp(tg->result, IDGW_TG_R_OK) == 0)
            return fail(err, IDGW_TG_R_MALFORMED, "ERROR_RES with result 0000");
        if (tg->result_message && !text_ok(tg->result_message, 1, 200))
            return fail(err, IDGW_TG_R_MALFORMED, "bad result message");
    }
    else if (tg->result || tg->result_message)
        return fail(err, IDGW_TG_R_MALFORMED, "a request carries no result");
    return 0;
}

int idgw_tg_validate(const idgw_telegram_t *tg, idgw_tg_error_t *err)
{
    const field_spec_t *schema;
    const idgw_tg_field_t *f;
    /* A failed response may leave out any body field. */
    int complete;

    err->result = NULL;
    err->msg[0] = '\0';
    if (validate_header(tg, err) != 0)
        return -1;
    complete = !idgw_tg_is_response(tg->type) || strcmp(tg->result, IDGW_TG_R_OK) == 0;
    schema = schemas[tg->type];
    f = (const idgw_tg_field_t *)tg->fields->elts;
    if (tg->fields->nelts > IDGW_TG_MAX_FIELDS)
        return fail(err, IDGW_TG_R_MALFORMED, "too many fields");
    for (int i = 0; i < tg->fields->nelts; i++) {
        const field_spec_t *s = find_spec(schema, f[i].name);
        if (!s)
            return fail(err, IDGW_TG_R_MALFORMED, "field '%.40s' not allowed here", f[i].name);
        if (!value_ok(s, f[i].value))
            return fail(err, IDGW_TG_R_MALFORMED, "bad value of field '%s'", s->name);
    }
    for (const field_spec_t *s = schema; s->name; s++) {
        int n = idgw_tg_count(tg, s->name);
        if (n > s->max_occurs || (complete && n < s->min_occurs))
            return fail(err, IDGW_TG_R_MALFORMED, "wrong number of '%s' fields", s->name);
    }
    return 0;
}

const idgw_tg_field_spec_t *idgw_tg_field_spec(idgw_tg_type_t type, const char *name)
{
    if ((unsigned)type >= IDGW_TG_TYPE_COUNT || !name)
        return NULL;
    return find_spec(schemas[type], name);
}

const idgw_tg_field_spec_t *idgw_tg_field_spec_at(idgw_tg_type_t type, int n)
{
    const field_spec_t *s;

    if ((unsigned)type >= IDGW_TG_TYPE_COUNT || n < 0)
        return NULL;
    for (s = schemas[type]; s->name && n > 0; s++, n--)
        ;
    return s->name ? s : NULL;
}

int idgw_tg_field_value_ok(const idgw_tg_field_spec_t *spec, const char *value)
{
    return spec && value && value_ok(spec, value);
}

const char *idgw_tg_kind_name(idgw_tg_kind_t kind)
{
    static const char *const names[] = {
        [IDGW_TG_K_DIGITS] = "digits", [IDGW_TG_K_ALNUM] = "alnum", [IDGW_TG_K_HEX] = "hex",
        [IDGW_TG_K_ASCII] = "ascii", [IDGW_TG_K_TEXT] = "text", [IDGW_TG_K_BASE64] = "base64",
        [IDGW_TG_K_ENUM] = "enum", [IDGW_TG_K_PAN] = "pan", [IDGW_TG_K_YYMM] = "yymm",
    };

    return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}
