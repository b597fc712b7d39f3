/*
 * idgw_sp_request.c - parse and check one app request (idgw_sp_request.h).
 */
#include "idgw_sp_request.h"

#include <string.h>
#include <apr_strings.h>
#include <libxml/dict.h>
#include <libxml/tree.h>

/* ---- field checks ------------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int idgw_sp_hex_decode(const char *s, uint8_t *out, size_t n)
{
    size_t len;

    if (!s)
        return 0;
    len = strlen(s);
    if (len != 2 * n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

int idgw_sp_hex_decode_var(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n;

    if (!s)
        return 0;
    n = strlen(s);
    if (n < 2 || n % 2 != 0 || n / 2 > cap)
        return 0;
    if (!idgw_sp_hex_decode(s, out, n / 2))
        return 0;
    *len = n / 2;
    return 1;
}

int idgw_sp_idm_valid(const char *s, char out[17])
{
    uint8_t b[8];
    static const char digits[] = "0123456789ABCDEF";

    if (!idgw_sp_hex_decode(s, b, sizeof b))
        return 0;
    for (int i = 0; i < 8; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 0x0F];
    }
    out[16] = '\0';
    return 1;
}

/* 1..max characters, each in the set (or [A-Za-z0-9] plus extra). */
static int charset_valid(const char *s, size_t max, const char *extra)
{
    size_t n = 0;

    if (!s || !*s)
        return 0;
    for (; *s; s++, n++) {
        char c = *s;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                 || (extra && strchr(extra, c) != NULL);

        if (!ok || n >= max)
            return 0;
    }
    return 1;
}

int idgw_sp_terminal_valid(const char *s)
{
    return charset_valid(s, IDGW_SP_TERMINAL_MAX, "._:-");
}

int idgw_sp_app_version_valid(const char *s)
{
    return charset_valid(s, IDGW_SP_APP_VERSION_MAX, ".-");
}

int idgw_sp_member_valid(const char *s)
{
    return charset_valid(s, IDGW_SP_MEMBER_MAX, "-");
}

int idgw_sp_card_id_valid(const char *s)
{
    return charset_valid(s, IDGW_SP_CARD_ID_MAX, NULL);
}

int idgw_sp_password_valid(const char *s)
{
    size_t n = 0;

    if (!s)
        return 0;
    for (; *s; s++, n++)
        if (*s < 0x21 || *s > 0x7E || n >= IDGW_SP_PASSWORD_MAX)
            return 0;
    return n >= IDGW_SP_PASSWORD_MIN;
}

int idgw_sp_issuer_valid(const char *s)
{
    return s && strlen(s) >= IDGW_SP_ISSUER_MIN && charset_valid(s, IDGW_SP_ISSUER_MAX, NULL);
}

int idgw_sp_slot_parse(const char *s, int any_ok)
{
    if (!s)
        return -1;
    if (strcmp(s, "0") == 0)
        return 0;
    if (strcmp(s, "1") == 0)
        return 1;
    if (any_ok && strcmp(s, "any") == 0)
        return IDGW_SP_SLOT_ANY;
    return -1;
}

int idgw_sp_bool_parse(const char *s)
{
    if (s && strcmp(s, "true") == 0)
        return 1;
    if (s && strcmp(s, "false") == 0)
        return 0;
    return -1;
}

idgw_sp_source idgw_sp_source_parse(const char *s)
{
    if (s && strcmp(s, "cremo") == 0)
        return IDGW_SP_SOURCE_CREMO;
    if (s && strcmp(s, "dlc") == 0)
        return IDGW_SP_SOURCE_DLC;
    return IDGW_SP_SOURCE_NONE;
}

const char *idgw_sp_source_name(idgw_sp_source s)
{
    switch (s) {
    case IDGW_SP_SOURCE_CREMO: return "cremo";
    case IDGW_SP_SOURCE_DLC:   return "dlc";
    default:                   return "none";
    }
}

/* ---- decoding ------------------------------------------------------------------ */

typedef struct decode_ctx {
    apr_pool_t *p;
    xmlNodePtr root;
    idgw_sp_request *out;
    idgw_sp_result *res;
} decode_ctx;

static int bad_field(decode_ctx *c, const char *name)
{
    c->res->status = IDGW_SP_BAD_FIELD;
    c->res->field = name;
    return 0;
}

/* The text of a field; NULL (and the result set) when missing, repeated or
 * not plain text.  optional: a missing field returns "" without error. */
static const char *field_text(decode_ctx *c, const char *name, int optional)
{
    int dup;
    xmlNodePtr el = idgw_sp_xml_child(c->root, name, &dup);
    const char *t;

    if (!el) {
        if (optional && !dup)
            return "";
        bad_field(c, name);
        return NULL;
    }
    t = idgw_sp_xml_text(el);
    if (!t) {
        bad_field(c, name);
        return NULL;
    }
    return t;
}

/* Copy a text out of the tree into the pool (the tree is freed soon). */
static const char *field_copy(decode_ctx *c, const char *name, int (*valid)(const char *))
{
    const char *t = field_text(c, name, 0);

    if (!t)
        return NULL;
    if (!valid(t)) {
        bad_field(c, name);
        return NULL;
    }
    return apr_pstrdup(c->p, t);
}

static apr_status_t wipe_string(void *data)
{
    char *s = data;

    /* explicit_bzero survives the optimiser: the pool memory is reused */
    explicit_bzero(s, strlen(s));
    return APR_SUCCESS;
}

static int only_fields(decode_ctx *c, const char *const *allowed)
{
    const char *extra = idgw_sp_xml_unexpected_child(c->root, allowed);

    return extra ? bad_field(c, apr_pstrdup(c->p, extra)) : 1;
}

static int decode_issuer(decode_ctx *c, int optional);

static int decode_open(decode_ctx *c)
{
    static const char *const allowed[] = { "terminal", "appVersion", "idm", "pmm", NULL };
    idgw_sp_request *o = c->out;
    const char *t;

    if (!only_fields(c, allowed))
        return 0;
    if (!(o->terminal = field_copy(c, "terminal", idgw_sp_terminal_valid))
        || !(o->app_version = field_copy(c, "appVersion", idgw_sp_app_version_valid)))
        return 0;
    if (!(t = field_text(c, "idm", 0)) || !idgw_sp_idm_valid(t, o->idm))
        return t ? bad_field(c, "idm") : 0;
    if (!(t = field_text(c, "pmm", 0)) || !idgw_sp_idm_valid(t, o->pmm))
        return t ? bad_field(c, "pmm") : 0;
    return 1;
}

/* source, issuer (the download center needs it, CREMO issues its own
 * cards), member, password: who the cardholder is at the card's source. */
static int decode_credentials(decode_ctx *c)
{
    idgw_sp_request *o = c->out;
    const char *t, *pw;

    if (!(t = field_text(c, "source", 0)))
        return 0;
    if ((o->source = idgw_sp_source_parse(t)) == IDGW_SP_SOURCE_NONE)
        return bad_field(c, "source");
    if (!decode_issuer(c, 1))
        return 0;
    if ((o->source == IDGW_SP_SOURCE_DLC) != (o->issuer[0] != '\0'))
        return bad_field(c, "issuer");
    if (!(o->member = field_copy(c, "member", idgw_sp_member_valid)))
        return 0;
    if (!(pw = field_text(c, "password", 0)))
        return 0;
    if (!idgw_sp_password_valid(pw))
        return bad_field(c, "password");
    o->password = apr_pstrdup(c->p, pw);
    apr_pool_cleanup_register(c->p, (void *)o->password, wipe_string, apr_pool_cleanup_null);
    return 1;
}

static int decode_card_id(decode_ctx *c, int optional)
{
    const char *t = field_text(c, "cardId", optional);

    if (!t)
        return 0;
    if (!*t && optional)
        return 1;
    if (!idgw_sp_card_id_valid(t))
        return bad_field(c, "cardId");
    c->out->card_id = apr_pstrdup(c->p, t);
    return 1;
}

static int decode_slot(decode_ctx *c, int any_ok)
{
    const char *t = field_text(c, "slot", 0);

    if (!t)
        return 0;
    c->out->slot = idgw_sp_slot_parse(t, any_ok);
    return c->out->slot < 0 ? bad_field(c, "slot") : 1;
}

static int decode_issuer(decode_ctx *c, int optional)
{
    const char *t = field_text(c, "issuer", optional);

    if (!t)
        return 0;
    if (!*t && optional)
        return 1;
    if (!idgw_sp_issuer_valid(t))
        return bad_field(c, "issuer");
    memcpy(c->out->issuer, t, strlen(t) + 1);
    return 1;
}

static int decode_add_card(decode_ctx *c)
{
    static const char *const allowed[] = { "source", "issuer", "member", "password", "cardId",
                                           "slot", "main", NULL };
    idgw_sp_request *o = c->out;
    const char *t;

    if (!only_fields(c, allowed) || !decode_credentials(c) || !decode_card_id(c, 1)
        || !decode_slot(c, 1))
        return 0;
    if (!(t = field_text(c, "main", 1)))
        return 0;
    if (*t && (o->make_main = idgw_sp_bool_parse(t)) < 0)
        return bad_field(c, "main");
    return 1;
}

static int decode_slot_only(decode_ctx *c)
{
    static const char *const allowed[] = { "slot", NULL };

    return only_fields(c, allowed) && decode_slot(c, 0);
}

/* update, delete, store, restore: a named card of the cardholder, a slot */
static int decode_card_op(decode_ctx *c)
{
    static const char *const allowed[] = { "source", "issuer", "member", "password", "cardId",
                                           "slot", NULL };

    return only_fields(c, allowed) && decode_credentials(c) && decode_card_id(c, 0)
        && decode_slot(c, c->out->op == IDGW_OP_RESTORE_CARD);
}

static int decode_display(decode_ctx *c)
{
    static const char *const allowed[] = { "issuer", NULL };

    return only_fields(c, allowed) && decode_issuer(c, 0);
}

static int decode_no_fields(decode_ctx *c)
{
    static const char *const none[] = { NULL };

    return only_fields(c, none);
}

static int decode_relay(decode_ctx *c)
{
    static const char *const allowed[] = { "response", NULL };
    const char *t;

    if (!only_fields(c, allowed) || !(t = field_text(c, "response", 0)))
        return 0;
    /* present but not a packet: the chip packet error the API documents,
     * not a generic field error */
    if (!idgw_sp_hex_decode_var(t, c->out->packet, sizeof c->out->packet, &c->out->packet_len)) {
        bad_field(c, "response");
        c->res->status = IDGW_SP_BAD_PACKET;
        return 0;
    }
    return 1;
}

static int decode_request_step(decode_ctx *c)
{
    switch (c->out->op) {
    case IDGW_OP_OPEN:          return decode_open(c);
    case IDGW_OP_ADD_CARD:      return decode_add_card(c);
    case IDGW_OP_UPDATE_CARD:
    case IDGW_OP_DELETE_CARD:
    case IDGW_OP_STORE_CARD:
    case IDGW_OP_RESTORE_CARD:  return decode_card_op(c);
    case IDGW_OP_SET_MAIN:      return decode_slot_only(c);
    case IDGW_OP_DISPLAY_DATA:  return decode_display(c);
    case IDGW_OP_CLOSE:
    case IDGW_OP_ISSUE_AREA:
    case IDGW_OP_DELETE_AREA:
    case IDGW_OP_LIST_CARDS:    return decode_no_fields(c);
    default:
        c->res->status = IDGW_SP_BAD_ROOT;
        return 0;
    }
}

/* The root element a step expects: the operation's name for a request. */
static const char *expected_root(idgw_op op, idgw_step step)
{
    switch (step) {
    case IDGW_STEP_REQUEST:  return idgw_op_name(op);
    case IDGW_STEP_RELAY:    return "relay";
    case IDGW_STEP_COMPLETE: return "complete";
    default:                 return NULL;
    }
}

static int root_ok(xmlNodePtr root, const char *name)
{
    xmlAttrPtr a;
    xmlChar *v;
    int ok;

    if (!name || root->ns || strcmp((const char *)root->name, name) != 0)
        return 0;
    /* version is the only attribute a request root carries */
    for (a = root->properties; a; a = a->next)
        if (a->ns || strcmp((const char *)a->name, "version") != 0)
            return 0;
    v = xmlGetNoNsProp(root, (const xmlChar *)"version");
    ok = v && strcmp((const char *)v, "1") == 0;
    xmlFree(v);
    return ok;
}

void idgw_sp_request_decode(apr_pool_t *p, idgw_op op, idgw_step step,
                            const char *body, size_t len, const idgw_sp_xml_limits *lim,
                            idgw_sp_request *out, idgw_sp_result *res)
{
    xmlDocPtr doc;
    decode_ctx c;
    int ok;

    memset(out, 0, sizeof(*out));
    memset(res, 0, sizeof(*res));
    out->op = op;
    out->step = step;
    out->slot = -1;
    res->xml_status = idgw_sp_xml_parse(body, len, lim, &doc);
    if (res->xml_status != IDGW_SP_XML_OK) {
        res->status = IDGW_SP_BAD_XML;
        return;
    }
    c.p = p;
    c.root = xmlDocGetRootElement(doc);
    c.out = out;
    c.res = res;
    if (!root_ok(c.root, expected_root(op, step))) {
        res->status = IDGW_SP_BAD_ROOT;
        xmlFreeDoc(doc);
        return;
    }
    if (step == IDGW_STEP_REQUEST)
        ok = decode_request_step(&c);
    else if (step == IDGW_STEP_RELAY)
        ok = decode_relay(&c);
    else
        ok = decode_no_fields(&c);
    if (ok)
        res->status = IDGW_SP_OK;
    /* the tree may hold a password: libxml2 frees without wiping, so wipe the
     * text nodes first (not the ones interned in the dictionary: those are
     * shared, short or blank, never a valid password) */
    for (xmlNodePtr n = c.root->children; n; n = n->next)
        for (xmlNodePtr t = n->children; t; t = t->next)
            if (t->type == XML_TEXT_NODE && t->content
                && !(doc->dict && xmlDictOwns(doc->dict, t->content)))
                explicit_bzero(t->content, strlen((const char *)t->content));
    xmlFreeDoc(doc);
}
