/* fuzz_telegram.c: libFuzzer harness for the feature-phone telegrams the
 * backends answer (idgw_telegram_xml.c parser, idgw_telegram_schema.c
 * validation, Shift_JIS and UTF-8).  Built and run by scripts/idgw-fuzz;
 * seeds in t/fuzz/corpus/telegram/.
 * Invariants: parsing never crashes or leaks; a telegram that parses also
 * validates, builds again in its declared encoding and in the type's own,
 * and each rebuilt form parses back to the same type, header and fields.
 */
// fuzz-sources: modules/backend/idgw_telegram.c modules/backend/idgw_telegram_schema.c
// fuzz-sources: modules/backend/idgw_telegram_xml.c
// fuzz-pkgs: libxml-2.0 apr-1 apr-util-1
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>

#include "idgw_telegram.h"

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&root, NULL);
    idgw_tg_init();
    return 0;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_same(const idgw_telegram_t *a, const idgw_telegram_t *b)
{
    if (a->type != b->type || !same_str(a->correlation_id, b->correlation_id)
        || !same_str(a->result, b->result) || !same_str(a->result_message, b->result_message)
        || a->fields->nelts != b->fields->nelts)
        abort();
    for (int i = 0; i < a->fields->nelts; i++) {
        const idgw_tg_field_t *fa = &APR_ARRAY_IDX(a->fields, i, idgw_tg_field_t);
        const idgw_tg_field_t *fb = &APR_ARRAY_IDX(b->fields, i, idgw_tg_field_t);
        if (strcmp(fa->name, fb->name) != 0 || strcmp(fa->value, fb->value) != 0)
            abort();
    }
}

static void round_trip(apr_pool_t *p, const idgw_telegram_t *tg, const char *encoding)
{
    idgw_tg_error_t err;
    idgw_telegram_t *again = NULL;
    char *out;
    apr_size_t len;

    if (!encoding)
        encoding = idgw_tg_encoding(tg->type);
    if (idgw_tg_build(p, tg, encoding, &out, &len, &err) != 0) {
        /* only a value Shift_JIS cannot carry may fail to build */
        if (strcmp(encoding, "UTF-8") == 0)
            abort();
        return;
    }
    if (idgw_tg_parse(p, out, len, &again, &err) != 0)
        abort();
    check_same(tg, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    idgw_telegram_t *tg = NULL;
    idgw_tg_error_t err;

    apr_pool_create(&p, root);
    if (idgw_tg_parse(p, (const char *)data, size, &tg, &err) == 0) {
        if (!tg || idgw_tg_validate(tg, &err) != 0)
            abort();
        round_trip(p, tg, "UTF-8");
        round_trip(p, tg, NULL);
    }
    else if (!err.result)
        abort();
    apr_pool_destroy(p);
    return 0;
}
