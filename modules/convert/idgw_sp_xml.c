/*
 * idgw_sp_xml.c - the safe XML parse of the app's requests (idgw_sp_xml.h).
 */
#include "idgw_sp_xml.h"

#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

void idgw_sp_xml_default_limits(idgw_sp_xml_limits *lim)
{
    lim->max_bytes = IDGW_SP_XML_DEFAULT_MAX_BYTES;
    lim->max_depth = IDGW_SP_XML_DEFAULT_MAX_DEPTH;
    lim->max_elements = IDGW_SP_XML_DEFAULT_MAX_ELEMENTS;
}

const char *idgw_sp_xml_status_name(idgw_sp_xml_status st)
{
    switch (st) {
    case IDGW_SP_XML_OK:        return "ok";
    case IDGW_SP_XML_EMPTY:     return "empty";
    case IDGW_SP_XML_TOO_LARGE: return "too_large";
    case IDGW_SP_XML_ENCODING:  return "encoding";
    case IDGW_SP_XML_DOCTYPE:   return "doctype";
    case IDGW_SP_XML_TOO_DEEP:  return "too_deep";
    case IDGW_SP_XML_TOO_MANY:  return "too_many";
    case IDGW_SP_XML_MALFORMED: return "malformed";
    case IDGW_SP_XML_INTERNAL:  return "internal";
    }
    return "unknown";
}

/* ---- encoding ---------------------------------------------------------- */

int idgw_sp_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp, min;

        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 1; cp = c & 0x1F; min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2; cp = c & 0x0F; min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3; cp = c & 0x07; min = 0x10000;
        } else {
            return 0;
        }
        if (len - i - 1 < n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

size_t idgw_sp_utf8_length(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* A BOM other than UTF-8's means another encoding. */
static int foreign_bom(const unsigned char *b, size_t len)
{
    if (len >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE)))
        return 1;
    if (len >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF)
        return 1;
    return 0;
}

/* The XML declaration, if any, may name UTF-8 only.  The declaration must
 * come first (after a UTF-8 BOM); its end is searched in the first 200
 * bytes, which is far more than any honest declaration needs. */
static int declared_encoding_ok(const char *buf, size_t len)
{
    const char *p = buf, *end, *enc;
    char q;
    size_t n;

    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        len -= 3;
    }
    if (len < 5 || memcmp(p, "<?xml", 5) != 0)
        return 1;
    n = len < 200 ? len : 200;
    end = memmem(p, n, "?>", 2);
    if (!end)
        return 0;
    enc = memmem(p, (size_t)(end - p), "encoding", 8);
    if (!enc)
        return 1;
    enc += 8;
    while (enc < end && (*enc == ' ' || *enc == '\t' || *enc == '\r' || *enc == '\n'))
        enc++;
    if (enc >= end || *enc != '=')
        return 0;
    enc++;
    while (enc < end && (*enc == ' ' || *enc == '\t' || *enc == '\r' || *enc == '\n'))
        enc++;
    if (enc >= end || (*enc != '"' && *enc != '\''))
        return 0;
    q = *enc++;
    if ((size_t)(end - enc) < 6 || enc[5] != q)
        return 0;
    return strncasecmp(enc, "UTF-8", 5) == 0;
}

/* "<!DOCTYPE" and "<!ENTITY" have no business in an app request, not even
 * inside a comment or CDATA: refusing the bytes is simpler than arguing. */
static int has_dtd_markup(const char *buf, size_t len)
{
    return memmem(buf, len, "<!DOCTYPE", 9) != NULL
        || memmem(buf, len, "<!ENTITY", 8) != NULL;
}

/* ---- the parser with its per-context hooks ------------------------------- */

typedef struct parse_state {
    const idgw_sp_xml_limits *lim;
    unsigned depth;
    unsigned elements;
    idgw_sp_xml_status verdict;          /* set by a hook that stopped the parser */
    startElementNsSAX2Func start_element;
    endElementNsSAX2Func end_element;
} parse_state;

static void refuse(xmlParserCtxtPtr ctxt, idgw_sp_xml_status why)
{
    parse_state *ps = ctxt->_private;

    if (ps->verdict == IDGW_SP_XML_OK)
        ps->verdict = why;
    xmlStopParser(ctxt);
}

static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                               const xmlChar *sys_id)
{
    refuse(ctx, IDGW_SP_XML_DOCTYPE);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content)
{
    refuse(ctx, IDGW_SP_XML_DOCTYPE);
}

static void on_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                             const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                             int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    parse_state *ps = ctxt->_private;

    if (ps->verdict != IDGW_SP_XML_OK)
        return;
    if (++ps->depth > ps->lim->max_depth) {
        refuse(ctxt, IDGW_SP_XML_TOO_DEEP);
        return;
    }
    if (++ps->elements > ps->lim->max_elements) {
        refuse(ctxt, IDGW_SP_XML_TOO_MANY);
        return;
    }
    ps->start_element(ctx, localname, prefix, uri, nb_namespaces, namespaces,
                      nb_attributes, nb_defaulted, attributes);
}

static void on_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                           const xmlChar *uri)
{
    xmlParserCtxtPtr ctxt = ctx;
    parse_state *ps = ctxt->_private;

    if (ps->verdict != IDGW_SP_XML_OK)
        return;
    if (ps->depth > 0)
        ps->depth--;
    ps->end_element(ctx, localname, prefix, uri);
}

/* Only this context's handler table is changed; the defaults every other
 * parser in the process uses stay as they are. */
static void install_hooks(xmlParserCtxtPtr ctxt, parse_state *ps)
{
    ctxt->_private = ps;
    ps->start_element = ctxt->sax->startElementNs;
    ps->end_element = ctxt->sax->endElementNs;
    ctxt->sax->startElementNs = on_start_element;
    ctxt->sax->endElementNs = on_end_element;
    ctxt->sax->internalSubset = on_internal_subset;
    ctxt->sax->externalSubset = on_internal_subset;
    ctxt->sax->entityDecl = on_entity_decl;
}

#define IDGW_SP_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static idgw_sp_xml_status run_parser(const char *buf, size_t len,
                                     const idgw_sp_xml_limits *lim, xmlDocPtr *doc)
{
    xmlParserCtxtPtr ctxt;
    parse_state ps;
    idgw_sp_xml_status st;

    memset(&ps, 0, sizeof(ps));
    ps.lim = lim;
    ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
    if (!ctxt)
        return IDGW_SP_XML_INTERNAL;
    if (xmlCtxtUseOptions(ctxt, IDGW_SP_XML_OPTIONS) != 0 || !ctxt->sax
        || !ctxt->sax->startElementNs || !ctxt->sax->endElementNs) {
        xmlFreeParserCtxt(ctxt);
        return IDGW_SP_XML_INTERNAL;
    }
    install_hooks(ctxt, &ps);
    xmlParseDocument(ctxt);

    if (ps.verdict != IDGW_SP_XML_OK)
        st = ps.verdict;
    else if (!ctxt->wellFormed || !ctxt->myDoc)
        st = IDGW_SP_XML_MALFORMED;
    else if (ctxt->myDoc->intSubset || ctxt->myDoc->extSubset)
        st = IDGW_SP_XML_DOCTYPE;
    else if (!xmlDocGetRootElement(ctxt->myDoc))
        st = IDGW_SP_XML_MALFORMED;
    else
        st = IDGW_SP_XML_OK;

    if (st == IDGW_SP_XML_OK) {
        *doc = ctxt->myDoc;
    } else if (ctxt->myDoc) {
        xmlFreeDoc(ctxt->myDoc);
    }
    ctxt->myDoc = NULL;
    xmlFreeParserCtxt(ctxt);
    return st;
}

idgw_sp_xml_status idgw_sp_xml_parse(const char *buf, size_t len,
                                     const idgw_sp_xml_limits *lim, xmlDocPtr *doc)
{
    idgw_sp_xml_limits defaults;

    *doc = NULL;
    if (!lim) {
        idgw_sp_xml_default_limits(&defaults);
        lim = &defaults;
    }
    if (!buf || len == 0)
        return IDGW_SP_XML_EMPTY;
    if (len > lim->max_bytes || len > (size_t)0x7FFFFFFF)
        return IDGW_SP_XML_TOO_LARGE;
    if (foreign_bom((const unsigned char *)buf, len)
        || !idgw_sp_utf8_valid((const unsigned char *)buf, len)
        || !declared_encoding_ok(buf, len))
        return IDGW_SP_XML_ENCODING;
    if (has_dtd_markup(buf, len))
        return IDGW_SP_XML_DOCTYPE;
    return run_parser(buf, len, lim, doc);
}

/* ---- reading the tree ---------------------------------------------------- */

xmlNodePtr idgw_sp_xml_child(xmlNodePtr parent, const char *name, int *dup)
{
    xmlNodePtr n, found = NULL;

    if (dup)
        *dup = 0;
    for (n = parent ? parent->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || n->ns
            || strcmp((const char *)n->name, name) != 0)
            continue;
        if (found) {
            if (dup)
                *dup = 1;
            return NULL;
        }
        found = n;
    }
    return found;
}

const char *idgw_sp_xml_text(xmlNodePtr el)
{
    xmlNodePtr n, text = NULL;

    if (!el || el->type != XML_ELEMENT_NODE)
        return NULL;
    for (n = el->children; n; n = n->next) {
        if (n->type != XML_TEXT_NODE || text)
            return NULL;
        text = n;
    }
    if (!text)
        return "";
    return text->content ? (const char *)text->content : "";
}

const char *idgw_sp_xml_unexpected_child(xmlNodePtr parent, const char *const *allowed)
{
    xmlNodePtr n;

    for (n = parent ? parent->children : NULL; n; n = n->next) {
        const char *const *a;
        int ok = 0;

        if (n->type == XML_COMMENT_NODE)
            continue;
        /* between fields only white space: stray text is a field without a name */
        if (n->type == XML_TEXT_NODE) {
            if (n->content && !xmlIsBlankNode(n))
                return "#text";
            continue;
        }
        if (n->type != XML_ELEMENT_NODE || n->ns)
            return n->name ? (const char *)n->name : "?";
        for (a = allowed; *a; a++)
            if (strcmp(*a, (const char *)n->name) == 0)
                ok = 1;
        if (!ok)
            return (const char *)n->name;
    }
    return NULL;
}
