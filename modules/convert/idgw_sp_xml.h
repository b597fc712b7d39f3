/*
 * idgw_sp_xml.h - parse the smartphone app's XML safely.
 *
 * The app is an attacker's tool as much as a user's, so its XML is parsed
 * with every dangerous libxml2 feature off, per parser (never a process-wide
 * libxml2 setting changed per request):
 *   - the size is checked before libxml2 sees a byte;
 *   - the bytes must be UTF-8 (strict: no overlong forms, no surrogates, no
 *     NUL); a BOM other than UTF-8's or an XML declaration naming another
 *     encoding is refused;
 *   - any DOCTYPE is refused outright (so no internal or external entity,
 *     no entity expansion bomb, no DTD load): by a scan of the bytes and again
 *     by the parser's own SAX hooks, which stop the parser;
 *   - options: XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING,
 *     never XML_PARSE_NOENT, XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR,
 *     XML_PARSE_XINCLUDE or XML_PARSE_HUGE;
 *   - element depth and element count are limited while parsing (a SAX hook
 *     stops the parser at the first element over the limit).
 * The caller calls xmlInitParser() once per process (post_config or a test's
 * main) before the first parse.
 */
#ifndef IDGW_SP_XML_H
#define IDGW_SP_XML_H

#include <stddef.h>
#include <libxml/tree.h>

typedef enum idgw_sp_xml_status {
    IDGW_SP_XML_OK = 0,
    IDGW_SP_XML_EMPTY,         /* no body */
    IDGW_SP_XML_TOO_LARGE,     /* more bytes than the limit */
    IDGW_SP_XML_ENCODING,      /* not UTF-8, or declared as something else */
    IDGW_SP_XML_DOCTYPE,       /* a DOCTYPE or entity declaration */
    IDGW_SP_XML_TOO_DEEP,      /* element nesting over the limit */
    IDGW_SP_XML_TOO_MANY,      /* more elements than the limit */
    IDGW_SP_XML_MALFORMED,     /* not well-formed (libxml2's verdict) */
    IDGW_SP_XML_INTERNAL       /* out of memory */
} idgw_sp_xml_status;

typedef struct idgw_sp_xml_limits {
    size_t max_bytes;          /* body size */
    unsigned max_depth;        /* the root element is depth 1 */
    unsigned max_elements;     /* elements in the whole document */
} idgw_sp_xml_limits;

/* The gateway's defaults: an app request is a few hundred bytes. */
#define IDGW_SP_XML_DEFAULT_MAX_BYTES 16384
#define IDGW_SP_XML_DEFAULT_MAX_DEPTH 8
#define IDGW_SP_XML_DEFAULT_MAX_ELEMENTS 64

void idgw_sp_xml_default_limits(idgw_sp_xml_limits *lim);

/* Parse buf[0..len).  On IDGW_SP_XML_OK *doc is the document (free it with
 * xmlFreeDoc); otherwise *doc is NULL. */
idgw_sp_xml_status idgw_sp_xml_parse(const char *buf, size_t len,
                                     const idgw_sp_xml_limits *lim, xmlDocPtr *doc);

/* Stable short name of a status ("doctype", "too_deep", ...) for logs. */
const char *idgw_sp_xml_status_name(idgw_sp_xml_status st);

/* Is buf[0..len) strict UTF-8 without NUL? (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF.) */
int idgw_sp_utf8_valid(const unsigned char *buf, size_t len);

/* Number of code points in a valid UTF-8 string. */
size_t idgw_sp_utf8_length(const char *s);

/* ---- reading the tree ---------------------------------------------------- */

/* The only child element called name, or NULL when there is none.  *dup is
 * set when there is more than one (a request must not repeat a field). */
xmlNodePtr idgw_sp_xml_child(xmlNodePtr parent, const char *name, int *dup);

/* The text of an element that holds text only (no child elements).  NULL
 * when it holds an element.  The result points into the tree's own text when
 * there is one text node; otherwise "" (empty element).  Returns NULL too
 * when the text is split (CDATA mixed with text, comments inside): the app
 * has no reason to send that. */
const char *idgw_sp_xml_text(xmlNodePtr el);

/* Does parent have element children other than those listed (NULL-ended),
 * or text other than white space between them?  Returns the name of the
 * first unexpected one ("#text" for text), else NULL. */
const char *idgw_sp_xml_unexpected_child(xmlNodePtr parent, const char *const *allowed);

#endif
