/*
 * xml_free_recorder.h - a libxml2 allocator for tests that looks into every
 * block libxml2 gives back (free, and the old block of a moving realloc) and
 * counts the blocks still holding one of the secrets a test names.
 *
 *   xml_recorder_install();            first thing in main(), before libxml2 runs
 *   xml_recorder_watch("4980...");     up to 4 secrets
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
#include <libxml/xmlmemory.h>

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
