/*
 * idgw_xml_wipe.c - libxml2's allocator, clearing what it frees
 * (idgw_xml_wipe.h).
 */
#include "idgw_xml_wipe.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <libxml/xmlmemory.h>

static idgw_xml_alloc inner;

static void wipe_free(void *p)
{
    if (!p)
        return;
    OPENSSL_cleanse(p, inner.size_fn(p));
    inner.free_fn(p);
}

/* A growing block moves by hand, so the old one is cleared before it goes;
 * one that still fits stays where it is. */
static void *wipe_realloc(void *p, size_t n)
{
    size_t have;
    void *q;

    if (!p)
        return inner.malloc_fn(n);
    have = inner.size_fn(p);
    if (n <= have)
        return p;
    if (!(q = inner.malloc_fn(n)))
        return NULL;
    memcpy(q, p, have);
    wipe_free(p);
    return q;
}

static char *wipe_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *q = inner.malloc_fn(n);

    if (q)
        memcpy(q, s, n);
    return q;
}

int idgw_xml_wipe_use(const idgw_xml_alloc *a)
{
    inner = *a;
    return xmlMemSetup(wipe_free, inner.malloc_fn, wipe_realloc, wipe_strdup);
}

static size_t libc_size(void *p)
{
    return malloc_usable_size(p);
}

typedef struct saved_alloc {
    xmlFreeFunc free_fn;
    xmlMallocFunc malloc_fn;
    xmlReallocFunc realloc_fn;
    xmlStrdupFunc strdup_fn;
} saved_alloc;

static apr_status_t restore(void *data)
{
    saved_alloc *s = data;

    /* blocks our functions handed out are the C library's: libxml2's own
     * free takes them back */
    xmlMemSetup(s->free_fn, s->malloc_fn, s->realloc_fn, s->strdup_fn);
    return APR_SUCCESS;
}

apr_status_t idgw_xml_wipe_install(apr_pool_t *pconf)
{
    static const idgw_xml_alloc libc = { free, malloc, libc_size };
    saved_alloc *s = apr_palloc(pconf, sizeof(*s));

    if (xmlMemGet(&s->free_fn, &s->malloc_fn, &s->realloc_fn, &s->strdup_fn) != 0)
        return APR_EGENERAL;
    if (s->free_fn == wipe_free)
        return APR_SUCCESS;
    /* only the C library's allocator is known to match malloc_usable_size */
    if (s->free_fn != free || s->malloc_fn != malloc || s->realloc_fn != realloc)
        return APR_EBUSY;
    if (idgw_xml_wipe_use(&libc) != 0)
        return APR_EGENERAL;
    apr_pool_cleanup_register(pconf, s, restore, apr_pool_cleanup_null);
    return APR_SUCCESS;
}
