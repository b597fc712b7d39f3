/* idgw_telegram_xml.c: telegrams to and from XML with libxml2.
 *
 *   <?xml version="1.0" encoding="Shift_JIS"?>
 *   <fpTelegram version="1.0">
 *     <header><type/><correlationId/><terminalType/><timestamp/>[<result/>[<resultMessage/>]]</header>
 *     <body><field>value</field>...</body>
 *   </fpTelegram>
 *
 * Parsing is defensive: size bound before libxml2 sees a byte, a parser
 * context of our own per call with its own options (no network, no DTD
 * loading, no entity substitution, errors to a silent handler rather than
 * stderr), any DOCTYPE refused, a fixed shape walked with bounded counts, and
 * field elements holding text only. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include "idgw_telegram.h"

#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

static int fail(idgw_tg_error_t *err, const char *result, const char *msg)
{
    err->result = result;
    snprintf(err->msg, sizeof(err->msg), "%s", msg);
    return -1;
}

/* Feature phones' "Shift_JIS" is Microsoft's code page 932 in practice:
 * bytes 0x5C and 0x7E are '\' and '~' there, where glibc's SHIFT_JIS reads
 * YEN SIGN and OVERLINE, so a password with a tilde would not survive the
 * trip.  Telegrams keep the Shift_JIS label on the wire; the conversion in
 * both directions uses CP932. */
#define SJIS_CONVERTER "CP932"

static int is_shift_jis(const char *enc)
{
    return enc && (strcasecmp(enc, "Shift_JIS") == 0 || strcasecmp(enc, "Shift-JIS") == 0
                   || strcasecmp(enc, "SJIS") == 0);
}

/* The encoding an XML declaration names, into out ("" when none). */
static void declared_encoding(const char *buf, apr_size_t len, char *out, size_t cap)
{
    const char *end, *e, *q;
    char quote;

    out[0] = '\0';
    if (len < 6 || memcmp(buf, "<?xml", 5) != 0)
        return;
    end = memchr(buf, '>', len < 256 ? len : 256);
    if (!end)
        return;
    for (e = buf; e + 8 < end; e++)
        if (memcmp(e, "encoding", 8) == 0)
            break;
    if (e + 8 >= end)
        return;
    for (e += 8; e < end && (*e == ' ' || *e == '=' || *e == '\t'); e++)
        ;
    if (e >= end || (*e != '"' && *e != '\''))
        return;
    quote = *e++;
    q = memchr(e, quote, (size_t)(end - e));
    if (q && (size_t)(q - e) < cap) {
        memcpy(out, e, (size_t)(q - e));
        out[q - e] = '\0';
    }
}

static const char *now_stamp(apr_pool_t *p)
{
    apr_time_exp_t t;

    apr_time_exp_gmt(&t, apr_time_now());
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.tm_year + 1900, t.tm_mon + 1,
                        t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
}

static void add_text(xmlNodePtr parent, const char *name, const char *value)
{
    xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)value);
}

/* libxml2 wrote encoding="CP932" in the declaration: put the wire label back. */
static char *relabel_declaration(apr_pool_t *p, const char *doc, apr_size_t len,
                                 const char *label, apr_size_t *out_len)
{
    const char *decl_end = memchr(doc, '>', len < 256 ? len : 256);
    char *head, *out;
    apr_size_t head_len, rest;

    if (!decl_end || memcmp(doc, "<?xml", 5) != 0)
        return NULL;
    head = apr_psprintf(p, "<?xml version=\"1.0\" encoding=\"%s\"?>", label);
    head_len = strlen(head);
    rest = len - (apr_size_t)(decl_end + 1 - doc);
    out = apr_palloc(p, head_len + rest + 1);
    memcpy(out, head, head_len);
    memcpy(out + head_len, decl_end + 1, rest);
    out[head_len + rest] = '\0';
    *out_len = head_len + rest;
    return out;
}

static int same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A conversion that is not one to one (a YEN SIGN written as 0x5C reads back
 * as a backslash) would change what the backend sees: read the telegram back
 * and insist on the same values. */
static int survives(apr_pool_t *p, const idgw_telegram_t *tg, const char *buf, apr_size_t len)
{
    idgw_telegram_t *back;
    idgw_tg_error_t err;
    const idgw_tg_field_t *a, *b;

    if (idgw_tg_parse(p, buf, len, &back, &err) != 0 || back->type != tg->type
        || !same_text(back->correlation_id, tg->correlation_id)
        || !same_text(back->result, tg->result)
        || !same_text(back->result_message, tg->result_message)
        || back->fields->nelts != tg->fields->nelts)
        return 0;
    a = (const idgw_tg_field_t *)tg->fields->elts;
    b = (const idgw_tg_field_t *)back->fields->elts;
    for (int i = 0; i < tg->fields->nelts; i++)
        if (strcmp(a[i].name, b[i].name) != 0 || strcmp(a[i].value, b[i].value) != 0)
            return 0;
    return 1;
}

int idgw_tg_build(apr_pool_t *p, const idgw_telegram_t *in, const char *encoding, char **out,
                  apr_size_t *out_len, idgw_tg_error_t *err)
{
    idgw_telegram_t tg = *in;
    xmlDocPtr doc;
    xmlNodePtr root, header, body;
    const idgw_tg_field_t *f;
    xmlChar *mem = NULL;
    int size = 0;

    if (!tg.timestamp)
        tg.timestamp = now_stamp(p);
    if (idgw_tg_validate(&tg, err) != 0)
        return -1;
    if (!encoding)
        encoding = idgw_tg_encoding(tg.type);
    doc = xmlNewDoc((const xmlChar *)"1.0");
    root = xmlNewNode(NULL, (const xmlChar *)IDGW_TG_ROOT);
    xmlDocSetRootElement(doc, root);
    xmlNewProp(root, (const xmlChar *)"version", (const xmlChar *)tg.version);
    header = xmlNewChild(root, NULL, (const xmlChar *)"header", NULL);
    add_text(header, "type", idgw_tg_type_name(tg.type));
    add_text(header, "correlationId", tg.correlation_id);
    add_text(header, "terminalType", tg.terminal_type);
    add_text(header, "timestamp", tg.timestamp);
    if (tg.result)
        add_text(header, "result", tg.result);
    if (tg.result_message)
        add_text(header, "resultMessage", tg.result_message);
    body = xmlNewChild(root, NULL, (const xmlChar *)"body", NULL);
    f = (const idgw_tg_field_t *)tg.fields->elts;
    for (int i = 0; i < tg.fields->nelts; i++)
        add_text(body, f[i].name, f[i].value);
    xmlDocDumpFormatMemoryEnc(doc, &mem, &size, is_shift_jis(encoding) ? SJIS_CONVERTER
                              : encoding, 1);
    xmlFreeDoc(doc);
    if (!mem || size <= 0) {
        xmlFree(mem);
        return fail(err, IDGW_TG_R_SYSTEM, "cannot serialise in that encoding");
    }
    if (is_shift_jis(encoding))
        *out = relabel_declaration(p, (const char *)mem, (apr_size_t)size, encoding, out_len);
    else {
        *out = apr_pmemdup(p, mem, (apr_size_t)size + 1);
        *out_len = (apr_size_t)size;
    }
    xmlFree(mem);
    if (!*out)
        return fail(err, IDGW_TG_R_SYSTEM, "cannot serialise in that encoding");
    if (*out_len > IDGW_TG_MAX_SIZE)
        return fail(err, IDGW_TG_R_MALFORMED, "telegram larger than the interface allows");
    if (strcasecmp(encoding, "UTF-8") != 0 && !survives(p, &tg, *out, *out_len))
        return fail(err, IDGW_TG_R_MALFORMED, "a value cannot be carried in that encoding");
    return 0;
}

/* libxml2 reports through this instead of its default stderr printer. */
static void silent_error(void *ctx, xmlErrorPtr e)
{
}

static void silent_generic(void *ctx, const char *msg, ...)
{
}

static int is_blank_text(xmlNodePtr n)
{
    return n->type == XML_TEXT_NODE && xmlIsBlankNode(n);
}

/* Next element sibling from n (inclusive); -1 when non-blank text or any
 * other node kind is met (comments and processing instructions are ignored). */
static int next_element(xmlNodePtr n, xmlNodePtr *out)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            *out = n;
            return 0;
        }
        if (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE || is_blank_text(n))
            continue;
        return -1;
    }
    *out = NULL;
    return 0;
}

/* Text content of an element that holds text only (possibly none). */
static int element_text(apr_pool_t *p, xmlNodePtr el, const char **out)
{
    size_t total = 0;
    char *buf, *w;

    for (xmlNodePtr c = el->children; c; c = c->next) {
        if (c->type != XML_TEXT_NODE)
            return -1;
        total += strlen((const char *)c->content);
    }
    if (total > IDGW_TG_MAX_SIZE)
        return -1;
    buf = w = apr_palloc(p, total + 1);
    for (xmlNodePtr c = el->children; c; c = c->next) {
        size_t n = strlen((const char *)c->content);
        memcpy(w, c->content, n);
        w += n;
    }
    *w = '\0';
    *out = buf;
    return 0;
}

static int named(xmlNodePtr n, const char *name)
{
    return n && n->ns == NULL && strcmp((const char *)n->name, name) == 0;
}

static int read_header(apr_pool_t *p, xmlNodePtr header, idgw_telegram_t *tg,
                       const char **type_name, idgw_tg_error_t *err)
{
    static const char *const order[] = {"type", "correlationId", "terminalType", "timestamp",
                                        "result", "resultMessage"};
    const char **slots[] = {type_name, &tg->correlation_id, &tg->terminal_type, &tg->timestamp,
                            &tg->result, &tg->result_message};
    size_t next = 0;
    xmlNodePtr el;

    if (next_element(header->children, &el) != 0)
        return fail(err, IDGW_TG_R_MALFORMED, "text in header");
    /* Header elements in the documented order, each at most once. */
    while (el) {
        size_t i = next;
        while (i < sizeof(order) / sizeof(order[0]) && !named(el, order[i]))
            i++;
        if (i == sizeof(order) / sizeof(order[0]))
            return fail(err, IDGW_TG_R_MALFORMED, "unexpected or repeated header element");
        if (element_text(p, el, slots[i]) != 0)
            return fail(err, IDGW_TG_R_MALFORMED, "header element with markup inside");
        next = i + 1;
        if (next_element(el->next, &el) != 0)
            return fail(err, IDGW_TG_R_MALFORMED, "text in header");
    }
    if (!*type_name || !tg->correlation_id || !tg->terminal_type || !tg->timestamp)
        return fail(err, IDGW_TG_R_MALFORMED, "header incomplete");
    return 0;
}

static int read_body(apr_pool_t *p, xmlNodePtr body, idgw_telegram_t *tg, idgw_tg_error_t *err)
{
    xmlNodePtr el;

    if (next_element(body->children, &el) != 0)
        return fail(err, IDGW_TG_R_MALFORMED, "text in body");
    while (el) {
        idgw_tg_field_t *f;
        if (tg->fields->nelts >= IDGW_TG_MAX_FIELDS)
            return fail(err, IDGW_TG_R_MALFORMED, "too many fields");
        if (el->ns || el->properties)
            return fail(err, IDGW_TG_R_MALFORMED, "field with namespace or attributes");
        f = apr_array_push(tg->fields);
        f->name = apr_pstrdup(p, (const char *)el->name);
        if (element_text(p, el, &f->value) != 0)
            return fail(err, IDGW_TG_R_MALFORMED, "field with markup inside");
        if (next_element(el->next, &el) != 0)
            return fail(err, IDGW_TG_R_MALFORMED, "text in body");
    }
    return 0;
}

static int read_tree(apr_pool_t *p, xmlDocPtr doc, idgw_telegram_t *tg, idgw_tg_error_t *err)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr header, body, extra;
    const char *type_name = NULL;
    xmlChar *version;

    if (doc->intSubset || doc->extSubset)
        return fail(err, IDGW_TG_R_MALFORMED, "DOCTYPE not allowed");
    if (!named(root, IDGW_TG_ROOT))
        return fail(err, IDGW_TG_R_MALFORMED, "root element is not " IDGW_TG_ROOT);
    version = xmlGetNoNsProp(root, (const xmlChar *)"version");
    tg->version = version ? apr_pstrdup(p, (const char *)version) : NULL;
    xmlFree(version);
    if (next_element(root->children, &header) != 0 || !named(header, "header"))
        return fail(err, IDGW_TG_R_MALFORMED, "header missing");
    if (read_header(p, header, tg, &type_name, err) != 0)
        return -1;
    if (next_element(header->next, &body) != 0 || !named(body, "body"))
        return fail(err, IDGW_TG_R_MALFORMED, "body missing");
    if (next_element(body->next, &extra) != 0 || extra)
        return fail(err, IDGW_TG_R_MALFORMED, "content after body");
    if (idgw_tg_type_from_name(type_name, &tg->type) != 0)
        return fail(err, IDGW_TG_R_UNKNOWN_TYPE, "unknown telegram type");
    return read_body(p, body, tg, err);
}

int idgw_tg_parse(apr_pool_t *p, const char *buf, apr_size_t len, idgw_telegram_t **out,
                  idgw_tg_error_t *err)
{
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;
    idgw_telegram_t *tg = apr_pcalloc(p, sizeof(*tg));
    char declared[32];
    int rc;

    err->result = NULL;
    err->msg[0] = '\0';
    tg->type = IDGW_TG_TYPE_COUNT;
    tg->fields = apr_array_make(p, 8, sizeof(idgw_tg_field_t));
    *out = tg;
    if (!buf || len == 0)
        return fail(err, IDGW_TG_R_MALFORMED, "empty telegram");
    if (len > IDGW_TG_MAX_SIZE)
        return fail(err, IDGW_TG_R_MALFORMED, "telegram larger than the interface allows");
    declared_encoding(buf, len, declared, sizeof(declared));
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return fail(err, IDGW_TG_R_SYSTEM, "out of memory");
    ctxt->sax->serror = silent_error;
    {
        /* The encoding converters report through the generic handler, which
         * libxml2 keeps per thread: silence it for this call and put back
         * whatever the thread had, so nothing process-wide changes. */
        xmlGenericErrorFunc saved = xmlGenericError;
        void *saved_ctx = xmlGenericErrorContext;

        xmlSetGenericErrorFunc(NULL, silent_generic);
        doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL,
                                is_shift_jis(declared) ? SJIS_CONVERTER : NULL, PARSE_OPTIONS);
        xmlSetGenericErrorFunc(saved_ctx, saved);
    }
    if (!doc || !ctxt->wellFormed) {
        xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return fail(err, IDGW_TG_R_MALFORMED, "not well-formed XML or unknown encoding");
    }
    tg->encoding = is_shift_jis(declared) ? apr_pstrdup(p, declared)
                   : doc->encoding ? apr_pstrdup(p, (const char *)doc->encoding) : "UTF-8";
    rc = read_tree(p, doc, tg, err);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    if (rc != 0)
        return -1;
    return idgw_tg_validate(tg, err);
}
