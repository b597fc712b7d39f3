/*
 * xml_free_recorder.h - a libxml2 allocator for tests that looks into every
 * block libxml2 gives back (free, and the old block of a moving realloc) and
 * counts the blocks still holding one of the secrets a test names.
 *
 *   return xml_recorder_run(suite);    from main(): the recorder, the wiping
 *                                      layer (idgw_xml_wipe.h) on top, the suite
 *   xml_recorder_watch("4980...");     in a test: up to 4 secrets
 *   ... parse, free ...
 *   ck_assert_int_eq(xml_recorder_leaks(), 0);
 */
#ifndef XML_FREE_RECORDER_H
#define XML_FREE_RECORDER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <apr_general.h>
#include <libxml/xmlmemory.h>
#include "idgw_xml_wipe.h"

#define REC_HEAD 16

static const char *rec_secrets[4];
static int rec_nsecrets;
static int rec_leaks;

static void rec_scan(const void *p, size_t n)
{
    for (int i = 0; i < rec_nsecrets; i++)
        if (memmem(p, n, rec_secrets[i], strlen(rec_secrets[i])))
            rec_leaks++;
}

static void *rec_malloc(size_t n)
{
    unsigned char *b = malloc(n + REC_HEAD);

    if (!b)
        return NULL;
    memcpy(b, &n, sizeof(n));
    return b + REC_HEAD;
}

static size_t rec_size(void *p)
{
    size_t n;

    memcpy(&n, (unsigned char *)p - REC_HEAD, sizeof(n));
    return n;
}

static void rec_free(void *p)
{
    if (!p)
        return;
    rec_scan(p, rec_size(p));
    free((unsigned char *)p - REC_HEAD);
}

static void *rec_realloc(void *p, size_t n)
{
    void *q;

    if (!p)
        return rec_malloc(n);
    if (!(q = rec_malloc(n)))
        return NULL;
    memcpy(q, p, rec_size(p) < n ? rec_size(p) : n);
    rec_free(p);
    return q;
}

static char *rec_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *q = rec_malloc(n);

    if (q)
        memcpy(q, s, n);
    return q;
}

static void xml_recorder_install(void)
{
    xmlMemSetup(rec_free, rec_malloc, rec_realloc, rec_strdup);
}

static const idgw_xml_alloc recorder = { rec_free, rec_malloc, rec_size };

/* Run the suite with the wiping layer on the recorder; main()'s result. */
static int xml_recorder_run(Suite *s)
{
    SRunner *sr;
    int failed;

    xml_recorder_install();
    if (idgw_xml_wipe_use(&recorder) != 0)
        return 1;
    apr_initialize();
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? 1 : 0;
}

static void xml_recorder_watch(const char *secret)
{
    if (rec_nsecrets < 4)
        rec_secrets[rec_nsecrets++] = secret;
    rec_leaks = 0;
}

static void xml_recorder_reset(void)
{
    rec_nsecrets = 0;
    rec_leaks = 0;
}

static int xml_recorder_leaks(void)
{
    return rec_leaks;
}

#endif
