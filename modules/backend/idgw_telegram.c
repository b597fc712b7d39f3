/* idgw_telegram.c: the telegram structure, type properties and result codes
 * of the feature-phone interface. */
#include <string.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include "idgw_telegram.h"

static const struct {
    const char *name;
    idgw_tg_service_t service;
    int idempotent;          /* requests only */
} types[IDGW_TG_TYPE_COUNT] = {
    [IDGW_TG_CARD_AUTH_REQ] = {"CARD_AUTH_REQ", IDGW_TG_SVC_CARD, 0},   /* counts failures */
    [IDGW_TG_CARD_AUTH_RES] = {"CARD_AUTH_RES", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_CARD_DOWNLOAD_REQ] = {"CARD_DOWNLOAD_REQ", IDGW_TG_SVC_CARD, 1},
    [IDGW_TG_CARD_DOWNLOAD_RES] = {"CARD_DOWNLOAD_RES", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_CARD_WRITTEN_REQ] = {"CARD_WRITTEN_REQ", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_CARD_WRITTEN_RES] = {"CARD_WRITTEN_RES", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_CARD_DELETED_REQ] = {"CARD_DELETED_REQ", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_CARD_DELETED_RES] = {"CARD_DELETED_RES", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_CARD_UPDATE_REQ] = {"CARD_UPDATE_REQ", IDGW_TG_SVC_CARD, 1},
    [IDGW_TG_CARD_UPDATE_RES] = {"CARD_UPDATE_RES", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_CARD_STORE_REQ] = {"CARD_STORE_REQ", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_CARD_STORE_RES] = {"CARD_STORE_RES", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_CARD_RESTORE_REQ] = {"CARD_RESTORE_REQ", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_CARD_RESTORE_RES] = {"CARD_RESTORE_RES", IDGW_TG_SVC_CARD, 0},
    [IDGW_TG_BRAND_DOWNLOAD_REQ] = {"BRAND_DOWNLOAD_REQ", IDGW_TG_SVC_BRAND, 1},
    [IDGW_TG_BRAND_DOWNLOAD_RES] = {"BRAND_DOWNLOAD_RES", IDGW_TG_SVC_BRAND, 0},
    [IDGW_TG_FELICA_START_REQ] = {"FELICA_START_REQ", IDGW_TG_SVC_FELICA, 0},
    [IDGW_TG_FELICA_START_RES] = {"FELICA_START_RES", IDGW_TG_SVC_FELICA, 0},
    [IDGW_TG_FELICA_EXCHANGE_REQ] = {"FELICA_EXCHANGE_REQ", IDGW_TG_SVC_FELICA, 0},
    [IDGW_TG_FELICA_EXCHANGE_RES] = {"FELICA_EXCHANGE_RES", IDGW_TG_SVC_FELICA, 0},
    [IDGW_TG_ERROR_RES] = {"ERROR_RES", IDGW_TG_SVC_ANY, 0},
};

static const struct {
    const char *code;
    const char *text;
} results[] = {
    {IDGW_TG_R_OK, "success"},
    {IDGW_TG_R_MALFORMED, "malformed telegram"},
    {IDGW_TG_R_UNKNOWN_TYPE, "telegram type unknown to this service"},
    {IDGW_TG_R_VERSION, "unsupported interface version"},
    {IDGW_TG_R_CORRELATION, "missing or malformed correlation id"},
    {IDGW_TG_R_AUTH_FAILED, "cardholder authentication failed"},
    {IDGW_TG_R_SUSPENDED, "membership suspended"},
    {IDGW_TG_R_EXPIRED, "card expired"},
    {IDGW_TG_R_TICKET, "authentication ticket invalid or expired"},
    {IDGW_TG_R_NO_CARD, "card not found for this member"},
    {IDGW_TG_R_NOT_STORED, "no deposited card to restore"},
    {IDGW_TG_R_ALREADY_STORED, "card already deposited"},
    {IDGW_TG_R_UNKNOWN_ISSUER, "issuer unknown"},
    {IDGW_TG_R_NO_OPERATION, "chip operation unknown, finished or expired"},
    {IDGW_TG_R_CHIP_VERIFY, "chip response failed secure channel verification"},
    {IDGW_TG_R_CHIP_STATUS, "chip reported an error"},
    {IDGW_TG_R_CHIP_STATE, "operation not possible in the chip's state"},
    {IDGW_TG_R_SYSTEM, "system error, try again later"},
};

void idgw_tg_init(void)
{
    xmlInitParser();
}

const char *idgw_tg_type_name(idgw_tg_type_t type)
{
    return (unsigned)type < IDGW_TG_TYPE_COUNT ? types[type].name : "UNKNOWN";
}

int idgw_tg_type_from_name(const char *name, idgw_tg_type_t *out)
{
    for (int i = 0; i < IDGW_TG_TYPE_COUNT; i++)
        if (name && strcmp(types[i].name, name) == 0) {
            *out = (idgw_tg_type_t)i;
            return 0;
        }
    return -1;
}

int idgw_tg_is_response(idgw_tg_type_t type)
{
    /* Requests and responses alternate in the enum; ERROR_RES is last. */
    return type == IDGW_TG_ERROR_RES || (type % 2) == 1;
}

idgw_tg_type_t idgw_tg_response_of(idgw_tg_type_t type)
{
    if ((unsigned)type >= IDGW_TG_TYPE_COUNT || idgw_tg_is_response(type))
        return IDGW_TG_ERROR_RES;
    return (idgw_tg_type_t)(type + 1);
}

idgw_tg_service_t idgw_tg_service(idgw_tg_type_t type)
{
    return (unsigned)type < IDGW_TG_TYPE_COUNT ? types[type].service : IDGW_TG_SVC_ANY;
}

int idgw_tg_idempotent(idgw_tg_type_t type)
{
    return (unsigned)type < IDGW_TG_TYPE_COUNT && types[type].idempotent;
}

const char *idgw_tg_encoding(idgw_tg_type_t type)
{
    return idgw_tg_service(type) == IDGW_TG_SVC_FELICA ? "UTF-8" : "Shift_JIS";
}

const char *idgw_tg_content_type(apr_pool_t *p, const char *encoding)
{
    return apr_pstrcat(p, "application/xml; charset=", encoding ? encoding : "UTF-8", NULL);
}

const char *idgw_tg_result_text(const char *code)
{
    for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++)
        if (code && strcmp(results[i].code, code) == 0)
            return results[i].text;
    return NULL;
}

idgw_telegram_t *idgw_tg_new(apr_pool_t *p, idgw_tg_type_t type, const char *correlation_id)
{
    idgw_telegram_t *tg = apr_pcalloc(p, sizeof(*tg));

    tg->type = type;
    tg->version = IDGW_TG_VERSION;
    tg->correlation_id = correlation_id ? apr_pstrdup(p, correlation_id) : NULL;
    tg->terminal_type = IDGW_TG_TERMINAL;
    tg->fields = apr_array_make(p, 8, sizeof(idgw_tg_field_t));
    if (idgw_tg_is_response(type))
        tg->result = IDGW_TG_R_OK;
    return tg;
}

idgw_telegram_t *idgw_tg_new_response(apr_pool_t *p, const idgw_telegram_t *req,
                                      const char *result)
{
    idgw_telegram_t *tg = idgw_tg_new(p, idgw_tg_response_of(req->type), req->correlation_id);

    tg->result = result;
    return tg;
}

void idgw_tg_add(idgw_telegram_t *tg, const char *name, const char *value)
{
    idgw_tg_field_t *f = apr_array_push(tg->fields);

    f->name = apr_pstrdup(tg->fields->pool, name);
    f->value = apr_pstrdup(tg->fields->pool, value ? value : "");
}

const char *idgw_tg_get_nth(const idgw_telegram_t *tg, const char *name, int n)
{
    const idgw_tg_field_t *f = (const idgw_tg_field_t *)tg->fields->elts;

    for (int i = 0; i < tg->fields->nelts; i++)
        if (strcmp(f[i].name, name) == 0 && n-- == 0)
            return f[i].value;
    return NULL;
}

const char *idgw_tg_get(const idgw_telegram_t *tg, const char *name)
{
    return idgw_tg_get_nth(tg, name, 0);
}

int idgw_tg_count(const idgw_telegram_t *tg, const char *name)
{
    const idgw_tg_field_t *f = (const idgw_tg_field_t *)tg->fields->elts;
    int n = 0;

    for (int i = 0; i < tg->fields->nelts; i++)
        n += strcmp(f[i].name, name) == 0;
    return n;
}
