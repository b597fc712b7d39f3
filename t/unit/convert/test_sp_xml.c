/* test_sp_xml.c: the safe XML parse of the app's requests refuses every
 * hostile document (external entity, entity bombs, huge, deep, wide, wrong
 * encoding) and accepts the honest ones. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libxml/parser.h>

#include "idgw_sp_xml.h"

static idgw_sp_xml_status parse_str(const char *s, xmlDocPtr *doc)
{
    return idgw_sp_xml_parse(s, strlen(s), NULL, doc);
}

START_TEST(accepts_honest_request)
{
    const char *s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<add_card version=\"1\"><source>cremo</source><slot>any</slot></add_card>";
    xmlDocPtr doc;
    xmlNodePtr root, slot;
    int dup;

    ck_assert_int_eq(parse_str(s, &doc), IDGW_SP_XML_OK);
    ck_assert_ptr_nonnull(doc);
    root = xmlDocGetRootElement(doc);
    ck_assert_str_eq((const char *)root->name, "add_card");
    slot = idgw_sp_xml_child(root, "slot", &dup);
    ck_assert_ptr_nonnull(slot);
    ck_assert_int_eq(dup, 0);
    ck_assert_str_eq(idgw_sp_xml_text(slot), "any");
    ck_assert_ptr_null(idgw_sp_xml_child(root, "issuer", &dup));
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(accepts_no_declaration_and_utf8_bom)
{
    xmlDocPtr doc;

    ck_assert_int_eq(parse_str("<close version=\"1\"/>", &doc), IDGW_SP_XML_OK);
    xmlFreeDoc(doc);
    ck_assert_int_eq(parse_str("\xEF\xBB\xBF<close version=\"1\"/>", &doc), IDGW_SP_XML_OK);
    xmlFreeDoc(doc);
    ck_assert_int_eq(parse_str("<?xml version='1.0' encoding='utf-8'?><a>\xE3\x83\x89</a>", &doc),
                     IDGW_SP_XML_OK);
    ck_assert_str_eq(idgw_sp_xml_text(xmlDocGetRootElement(doc)), "\xE3\x83\x89");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(refuses_external_entity)
{
    /* the classic XXE: a file read through an external entity */
    const char *s = "<?xml version=\"1.0\"?>\n"
                    "<!DOCTYPE open [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
                    "<open><password>&xxe;</password></open>";
    xmlDocPtr doc = (xmlDocPtr)1;

    ck_assert_int_eq(parse_str(s, &doc), IDGW_SP_XML_DOCTYPE);
    ck_assert_ptr_null(doc);
}
END_TEST

START_TEST(refuses_external_dtd_and_parameter_entity)
{
    xmlDocPtr doc;

    ck_assert_int_eq(parse_str("<!DOCTYPE a SYSTEM \"http://127.0.0.1:1/x.dtd\"><a/>", &doc),
                     IDGW_SP_XML_DOCTYPE);
    ck_assert_int_eq(parse_str("<!DOCTYPE a [<!ENTITY % p SYSTEM \"http://127.0.0.1:1/\"> %p;]><a/>",
                               &doc), IDGW_SP_XML_DOCTYPE);
}
END_TEST

START_TEST(refuses_billion_laughs)
{
    const char *s = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        "]>\n<lolz>&lol3;</lolz>";
    xmlDocPtr doc;

    ck_assert_int_eq(parse_str(s, &doc), IDGW_SP_XML_DOCTYPE);
    ck_assert_ptr_null(doc);
}
END_TEST

START_TEST(refuses_doctype_even_in_lower_layers)
{
    /* the byte scan is case-sensitive like XML; a DOCTYPE spelled otherwise
     * is not a DOCTYPE to libxml2 either, so it is simply malformed */
    xmlDocPtr doc;

    ck_assert_int_eq(parse_str("<!doctype a><a/>", &doc), IDGW_SP_XML_MALFORMED);
    ck_assert_int_eq(parse_str("<a><!ENTITY x \"y\"></a>", &doc), IDGW_SP_XML_DOCTYPE);
}
END_TEST

START_TEST(refuses_undeclared_entity)
{
    xmlDocPtr doc;

    ck_assert_int_eq(parse_str("<a>&xxe;</a>", &doc), IDGW_SP_XML_MALFORMED);
    ck_assert_ptr_null(doc);
}
END_TEST

START_TEST(predefined_entities_are_text)
{
    xmlDocPtr doc;

    ck_assert_int_eq(parse_str("<a>x&amp;y&lt;&#x41;</a>", &doc), IDGW_SP_XML_OK);
    ck_assert_str_eq(idgw_sp_xml_text(xmlDocGetRootElement(doc)), "x&y<A");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(refuses_huge_before_parsing)
{
    idgw_sp_xml_limits lim;
    size_t n = IDGW_SP_XML_DEFAULT_MAX_BYTES + 1;
    char *big = malloc(n);
    xmlDocPtr doc;

    ck_assert_ptr_nonnull(big);
    /* not even well formed: the size verdict must come first */
    memset(big, 'x', n);
    ck_assert_int_eq(idgw_sp_xml_parse(big, n, NULL, &doc), IDGW_SP_XML_TOO_LARGE);
    idgw_sp_xml_default_limits(&lim);
    lim.max_bytes = 10;
    ck_assert_int_eq(idgw_sp_xml_parse("<a>12345</a>", 12, &lim, &doc), IDGW_SP_XML_TOO_LARGE);
    ck_assert_int_eq(idgw_sp_xml_parse("<a>1234</a>", 11, &lim, &doc), IDGW_SP_XML_TOO_LARGE);
    lim.max_bytes = 11;
    ck_assert_int_eq(idgw_sp_xml_parse("<a>1234</a>", 11, &lim, &doc), IDGW_SP_XML_OK);
    xmlFreeDoc(doc);
    free(big);
}
END_TEST

static char *nested(unsigned depth)
{
    char *s = malloc(depth * 7 + 1), *p = s;

    for (unsigned i = 0; i < depth; i++)
        p += sprintf(p, "<a>");
    for (unsigned i = 0; i < depth; i++)
        p += sprintf(p, "</a>");
    *p = '\0';
    return s;
}

START_TEST(refuses_deep)
{
    char *ok = nested(IDGW_SP_XML_DEFAULT_MAX_DEPTH);
    char *deep = nested(IDGW_SP_XML_DEFAULT_MAX_DEPTH + 1);
    char *very = nested(2000);
    idgw_sp_xml_limits lim;
    xmlDocPtr doc;

    ck_assert_int_eq(parse_str(ok, &doc), IDGW_SP_XML_OK);
    xmlFreeDoc(doc);
    ck_assert_int_eq(parse_str(deep, &doc), IDGW_SP_XML_TOO_DEEP);
    ck_assert_ptr_null(doc);
    idgw_sp_xml_default_limits(&lim);
    lim.max_bytes = 100000;
    ck_assert_int_eq(idgw_sp_xml_parse(very, strlen(very), &lim, &doc), IDGW_SP_XML_TOO_DEEP);
    free(ok);
    free(deep);
    free(very);
}
END_TEST

START_TEST(refuses_too_many_elements)
{
    char buf[4096], *p = buf;
    xmlDocPtr doc;

    p += sprintf(p, "<r>");
    for (int i = 0; i < IDGW_SP_XML_DEFAULT_MAX_ELEMENTS; i++)
        p += sprintf(p, "<b/>");
    sprintf(p, "</r>");
    ck_assert_int_eq(parse_str(buf, &doc), IDGW_SP_XML_TOO_MANY);
    /* one element fewer (root + 63) passes */
    p = buf;
    p += sprintf(p, "<r>");
    for (int i = 0; i < IDGW_SP_XML_DEFAULT_MAX_ELEMENTS - 1; i++)
        p += sprintf(p, "<b/>");
    sprintf(p, "</r>");
    ck_assert_int_eq(parse_str(buf, &doc), IDGW_SP_XML_OK);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(refuses_wrong_encoding)
{
    /* Latin-1 byte, declared Latin-1, UTF-16 with BOM, Shift_JIS declared */
    static const char latin1[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE9</a>";
    static const char sjis[] = "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a>x</a>";
    static const char raw_latin1[] = "<a>caf\xE9</a>";
    static const char utf16[] = "\xFF\xFE<\0a\0/\0>\0";
    static const char overlong[] = "<a>\xC0\xAF</a>";
    static const char surrogate[] = "<a>\xED\xA0\x80</a>";
    static const char nul[] = "<a>x\0y</a>";
    static const char utf7[] = "<?xml version=\"1.0\" encoding=\"UTF-7\"?><a/>";
    xmlDocPtr doc;

    ck_assert_int_eq(idgw_sp_xml_parse(latin1, sizeof latin1 - 1, NULL, &doc), IDGW_SP_XML_ENCODING);
    ck_assert_int_eq(idgw_sp_xml_parse(sjis, sizeof sjis - 1, NULL, &doc), IDGW_SP_XML_ENCODING);
    ck_assert_int_eq(idgw_sp_xml_parse(raw_latin1, sizeof raw_latin1 - 1, NULL, &doc),
                     IDGW_SP_XML_ENCODING);
    ck_assert_int_eq(idgw_sp_xml_parse(utf16, sizeof utf16 - 1, NULL, &doc), IDGW_SP_XML_ENCODING);
    ck_assert_int_eq(idgw_sp_xml_parse(overlong, sizeof overlong - 1, NULL, &doc),
                     IDGW_SP_XML_ENCODING);
    ck_assert_int_eq(idgw_sp_xml_parse(surrogate, sizeof surrogate - 1, NULL, &doc),
                     IDGW_SP_XML_ENCODING);
    ck_assert_int_eq(idgw_sp_xml_parse(nul, sizeof nul - 1, NULL, &doc), IDGW_SP_XML_ENCODING);
    ck_assert_int_eq(idgw_sp_xml_parse(utf7, sizeof utf7 - 1, NULL, &doc), IDGW_SP_XML_ENCODING);
}
END_TEST

START_TEST(refuses_malformed_and_empty)
{
    xmlDocPtr doc;

    ck_assert_int_eq(idgw_sp_xml_parse("", 0, NULL, &doc), IDGW_SP_XML_EMPTY);
    ck_assert_int_eq(idgw_sp_xml_parse(NULL, 5, NULL, &doc), IDGW_SP_XML_EMPTY);
    ck_assert_int_eq(parse_str("<a>", &doc), IDGW_SP_XML_MALFORMED);
    ck_assert_int_eq(parse_str("<a></b>", &doc), IDGW_SP_XML_MALFORMED);
    ck_assert_int_eq(parse_str("<a/><b/>", &doc), IDGW_SP_XML_MALFORMED);
    ck_assert_int_eq(parse_str("just text", &doc), IDGW_SP_XML_MALFORMED);
    ck_assert_int_eq(parse_str("<?xml version=\"1.0\" encoding=\"UTF-8\"", &doc),
                     IDGW_SP_XML_ENCODING);
}
END_TEST

START_TEST(no_network_no_file_access)
{
    /* XInclude is never processed: the include element stays an element */
    const char *s = "<a xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
                    "<xi:include href=\"file:///etc/passwd\" parse=\"text\"/></a>";
    xmlDocPtr doc;
    xmlNodePtr root;

    ck_assert_int_eq(parse_str(s, &doc), IDGW_SP_XML_OK);
    root = xmlDocGetRootElement(doc);
    ck_assert_ptr_nonnull(root->children);
    ck_assert_str_eq((const char *)root->children->name, "include");
    /* a namespaced element is never taken for a field */
    ck_assert_ptr_null(idgw_sp_xml_child(root, "include", NULL));
    ck_assert_str_eq(idgw_sp_xml_unexpected_child(root, (const char *const[]){ "x", NULL }),
                     "include");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(tree_helpers)
{
    const char *s = "<r><a>1</a><a>2</a><b><c/></b><d></d><e>x<!--c-->y</e></r>";
    static const char *const allowed[] = { "a", "b", "d", "e", NULL };
    static const char *const fewer[] = { "a", "b", "e", NULL };
    xmlDocPtr doc;
    xmlNodePtr root;
    int dup;

    ck_assert_int_eq(parse_str(s, &doc), IDGW_SP_XML_OK);
    root = xmlDocGetRootElement(doc);
    ck_assert_ptr_null(idgw_sp_xml_child(root, "a", &dup));
    ck_assert_int_eq(dup, 1);
    ck_assert_ptr_null(idgw_sp_xml_text(idgw_sp_xml_child(root, "b", NULL)));
    ck_assert_str_eq(idgw_sp_xml_text(idgw_sp_xml_child(root, "d", NULL)), "");
    ck_assert_ptr_null(idgw_sp_xml_text(idgw_sp_xml_child(root, "e", NULL)));
    ck_assert_ptr_null(idgw_sp_xml_unexpected_child(root, allowed));
    ck_assert_str_eq(idgw_sp_xml_unexpected_child(root, fewer), "d");
    xmlFreeDoc(doc);
    /* white space between fields is fine, other text is not */
    ck_assert_int_eq(parse_str("<r>\n  <a>1</a>\n</r>", &doc), IDGW_SP_XML_OK);
    ck_assert_ptr_null(idgw_sp_xml_unexpected_child(xmlDocGetRootElement(doc), allowed));
    xmlFreeDoc(doc);
    ck_assert_int_eq(parse_str("<r>junk<a>1</a></r>", &doc), IDGW_SP_XML_OK);
    ck_assert_str_eq(idgw_sp_xml_unexpected_child(xmlDocGetRootElement(doc), allowed), "#text");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(utf8_validator)
{
    ck_assert_int_eq(idgw_sp_utf8_valid((const unsigned char *)"abc", 3), 1);
    ck_assert_int_eq(idgw_sp_utf8_valid((const unsigned char *)"\xF0\x9F\x98\x80", 4), 1);
    ck_assert_int_eq(idgw_sp_utf8_valid((const unsigned char *)"\xF0\x9F\x98", 3), 0);
    ck_assert_int_eq(idgw_sp_utf8_valid((const unsigned char *)"\xF4\x90\x80\x80", 4), 0);
    ck_assert_int_eq(idgw_sp_utf8_valid((const unsigned char *)"\xE0\x80\xAF", 3), 0);
    ck_assert_int_eq(idgw_sp_utf8_valid((const unsigned char *)"\x80", 1), 0);
    ck_assert_int_eq(idgw_sp_utf8_valid((const unsigned char *)"\xFF", 1), 0);
    ck_assert_uint_eq(idgw_sp_utf8_length("\xE3\x83\x89\xE3\x82\xB3x"), 3);
}
END_TEST

START_TEST(leaves_global_parser_state_alone)
{
    /* a parse must not change the process-wide defaults other code relies on */
    int subst = xmlSubstituteEntitiesDefault(0);
    int load = xmlLoadExtDtdDefaultValue;
    xmlDocPtr doc;

    xmlSubstituteEntitiesDefault(subst);
    ck_assert_int_eq(parse_str("<a>x</a>", &doc), IDGW_SP_XML_OK);
    xmlFreeDoc(doc);
    ck_assert_int_eq(xmlSubstituteEntitiesDefault(subst), subst);
    ck_assert_int_eq(xmlLoadExtDtdDefaultValue, load);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sp_xml");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    xmlInitParser();
    tcase_add_test(tc, accepts_honest_request);
    tcase_add_test(tc, accepts_no_declaration_and_utf8_bom);
    tcase_add_test(tc, refuses_external_entity);
    tcase_add_test(tc, refuses_external_dtd_and_parameter_entity);
    tcase_add_test(tc, refuses_billion_laughs);
    tcase_add_test(tc, refuses_doctype_even_in_lower_layers);
    tcase_add_test(tc, refuses_undeclared_entity);
    tcase_add_test(tc, predefined_entities_are_text);
    tcase_add_test(tc, refuses_huge_before_parsing);
    tcase_add_test(tc, refuses_deep);
    tcase_add_test(tc, refuses_too_many_elements);
    tcase_add_test(tc, refuses_wrong_encoding);
    tcase_add_test(tc, refuses_malformed_and_empty);
    tcase_add_test(tc, no_network_no_file_access);
    tcase_add_test(tc, tree_helpers);
    tcase_add_test(tc, utf8_validator);
    tcase_add_test(tc, leaves_global_parser_state_alone);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    xmlCleanupParser();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
