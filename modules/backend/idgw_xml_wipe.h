/*
 * idgw_xml_wipe.h - libxml2 clears what it frees.
 *
 * libxml2 frees without clearing, and the heap hands the same bytes to the
 * next allocation: a backend's telegram (PAN, expiry, holder name) or an
 * app request (password) would linger in freed memory.  Clearing trees
 * before xmlFreeDoc is not enough: the parser's input buffers, the
 * Shift_JIS converter's buffers, the serialiser's output buffers and every
 * block a realloc moved hold the same text and are freed inside libxml2.
 * So libxml2's allocator is wrapped: every block it frees, or leaves behind
 * in a moving realloc, is cleared first (OPENSSL_cleanse), on every path,
 * success and error alike.
 */
#ifndef IDGW_XML_WIPE_H
#define IDGW_XML_WIPE_H

#include <stddef.h>
#include <apr_pools.h>

/* The allocator underneath: size_fn tells the usable size of a block
 * malloc_fn returned (glibc: malloc_usable_size). */
typedef struct idgw_xml_alloc {
    void (*free_fn)(void *p);
    void *(*malloc_fn)(size_t n);
    size_t (*size_fn)(void *p);
} idgw_xml_alloc;

/*
 * Make libxml2 clear what it frees, on top of the C library's allocator, for
 * as long as pconf lives (its cleanup puts libxml2's previous functions
 * back before a restart unloads this code).  Call single-threaded, at
 * start-up.  APR_EBUSY, and nothing changed, when another module already
 * gave libxml2 an allocator of its own.
 */
apr_status_t idgw_xml_wipe_install(apr_pool_t *pconf);

/* The same on top of another allocator (tests look into freed blocks).
 * 0 or libxml2's error. */
int idgw_xml_wipe_use(const idgw_xml_alloc *inner);

#endif
