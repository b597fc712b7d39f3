/*
 * idgw_convert_answer.c - XML answers to the app (idgw_convert_answer.h).
 */
#include "idgw_convert_answer.h"

#include <string.h>
#include <apr_strings.h>

#include "idgw_xml_error.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

static const char *esc(apr_pool_t *p, const char *s)
{
    return idgw_xml_escape(p, s ? s : "");
}

const char *idgw_ans_relay(apr_pool_t *p, idgw_op op, const uint8_t *packet, size_t len)
{
    char *hex = apr_palloc(p, 2 * len + 1);

    for (size_t i = 0; i < len; i++)
        apr_snprintf(hex + 2 * i, 3, "%02X", packet[i]);
    hex[2 * len] = '\0';
    return apr_psprintf(p, XML_DECL "<relay version=\"1\" op=\"%s\"><packet>%s</packet></relay>\n",
                        idgw_op_name(op), hex);
}

const char *idgw_ans_relay_done(apr_pool_t *p, idgw_op op)
{
    return apr_psprintf(p, XML_DECL "<relay version=\"1\" op=\"%s\"><done/></relay>\n",
                        idgw_op_name(op));
}

const char *idgw_ans_session(apr_pool_t *p, const char *token, long long seq, long expires_s)
{
    /* APR's formatter knows no %lld: its own 64-bit format */
    return apr_psprintf(p, XML_DECL "<session version=\"1\"><token>%s</token><seq>%"
                        APR_INT64_T_FMT "</seq><expires>%" APR_INT64_T_FMT "</expires></session>\n",
                        esc(p, token), (apr_int64_t)seq, (apr_int64_t)expires_s);
}

const char *idgw_ans_status(apr_pool_t *p, const char *state, long long seq)
{
    return apr_psprintf(p, XML_DECL "<status version=\"1\"><state>%s</state><seq>%"
                        APR_INT64_T_FMT "</seq></status>\n", esc(p, state), (apr_int64_t)seq);
}

const char *idgw_ans_closed(apr_pool_t *p, int cancelled)
{
    return apr_psprintf(p, XML_DECL "<closed version=\"1\">%s</closed>\n",
                        cancelled ? "<cancelled/>" : "");
}

/* "1"/"2" of the telegrams -> "0"/"1" of the app */
static const char *app_slot(const char *slot1)
{
    if (slot1 && strcmp(slot1, "1") == 0)
        return "0";
    if (slot1 && strcmp(slot1, "2") == 0)
        return "1";
    return NULL;
}

/* name, messages and logo of the issuer; suffix selects a for= capture */
static const char *display(apr_pool_t *p, const idgw_ctx *ctx, const char *suffix)
{
    const char *sfx = suffix ? apr_pstrcat(p, ".", suffix, NULL) : "";
    const char *name = idgw_ctx_get(ctx, apr_pstrcat(p, "issuerName", sfx, NULL));
    const char *msgs = apr_pstrcat(p, "messages", sfx, NULL);
    const char *logo = idgw_ctx_get(ctx, apr_pstrcat(p, "logo", sfx, NULL));
    const char *type = idgw_ctx_get(ctx, apr_pstrcat(p, "logoType", sfx, NULL));
    char *out = apr_pstrcat(p, "<display>", name ? "<name>" : "", name ? esc(p, name) : "",
                            name ? "</name>" : "", NULL);

    for (int i = 0; i < idgw_ctx_list_count(ctx, msgs); i++) {
        const char *m = idgw_ctx_list_item(p, ctx, msgs, i);

        if (m && *m)
            out = apr_pstrcat(p, out, "<message>", esc(p, m), "</message>", NULL);
    }
    if (logo && *logo)
        out = apr_pstrcat(p, out, "<logo type=\"", esc(p, type ? type : "image/png"), "\">",
                          esc(p, logo), "</logo>", NULL);
    return apr_pstrcat(p, out, "</display>", NULL);
}

/* The last four digits of the card being written: all the app may see. */
static const char *last4_of(apr_pool_t *p, const char *pan)
{
    size_t n = pan ? strlen(pan) : 0;

    return n >= 12 ? apr_pstrdup(p, pan + n - 4) : "";
}

static const char *card_answer(apr_pool_t *p, const idgw_ctx *ctx)
{
    const char *slot = app_slot(idgw_ctx_get(ctx, "slot"));

    return apr_psprintf(p, XML_DECL "<card version=\"1\"><slot>%s</slot><cardId>%s</cardId>"
                        "<last4>%s</last4><issuer>%s</issuer>%s</card>\n",
                        slot ? slot : "", esc(p, idgw_ctx_get(ctx, "cardId")),
                        last4_of(p, idgw_ctx_get(ctx, "pan")),
                        esc(p, idgw_ctx_get(ctx, "issuer")), display(p, ctx, NULL));
}

static const char *cards_answer(apr_pool_t *p, const idgw_ctx *ctx)
{
    const char *main_slot = idgw_ctx_get(ctx, "mainSlot");
    char *out = apr_pstrdup(p, XML_DECL "<cards version=\"1\">");

    for (int i = 0; i < idgw_ctx_list_count(ctx, "slots"); i++) {
        const char *s1 = idgw_ctx_list_item(p, ctx, "slots", i);
        const char *issuer = idgw_ctx_list_item(p, ctx, "issuers", i);
        const char *slot = app_slot(s1);

        if (!slot)
            continue;
        out = apr_pstrcat(p, out, "<card><slot>", slot, "</slot><last4>",
                          esc(p, idgw_ctx_list_item(p, ctx, "last4s", i)), "</last4><issuer>",
                          esc(p, issuer), "</issuer><main>",
                          main_slot && strcmp(main_slot, s1) == 0 ? "true" : "false", "</main>",
                          display(p, ctx, issuer), "</card>", NULL);
    }
    return apr_pstrcat(p, out, "</cards>\n", NULL);
}

/* store_card: the deposit receipt and which card it was */
static const char *stored_answer(apr_pool_t *p, const idgw_ctx *ctx)
{
    const char *want = idgw_ctx_get(ctx, "req.slot1"), *last4 = "";

    for (int i = 0; want && i < idgw_ctx_list_count(ctx, "slots"); i++) {
        const char *s1 = idgw_ctx_list_item(p, ctx, "slots", i);

        if (s1 && strcmp(s1, want) == 0)
            last4 = idgw_ctx_list_item(p, ctx, "last4s", i);
    }
    const char *slot = app_slot(want);

    return apr_psprintf(p, XML_DECL "<stored version=\"1\"><receipt>%s</receipt><slot>%s</slot>"
                        "<cardId>%s</cardId><last4>%s</last4></stored>\n",
                        esc(p, idgw_ctx_get(ctx, "storeId")), slot ? slot : "",
                        esc(p, idgw_ctx_get(ctx, "req.cardId")), esc(p, last4));
}

static const char *slot_answer(apr_pool_t *p, const char *root, const idgw_ctx *ctx)
{
    const char *slot = app_slot(idgw_ctx_get(ctx, "slot"));

    if (!slot)
        slot = app_slot(idgw_ctx_get(ctx, "req.slot1"));
    return apr_psprintf(p, XML_DECL "<%s version=\"1\"><slot>%s</slot></%s>\n", root,
                        slot ? slot : "", root);
}

const char *idgw_ans_complete(apr_pool_t *p, idgw_op op, const idgw_ctx *ctx)
{
    switch (op) {
    case IDGW_OP_ISSUE_AREA:
        return XML_DECL "<area version=\"1\"><issued>true</issued></area>\n";
    case IDGW_OP_DELETE_AREA:
        return XML_DECL "<area version=\"1\"><issued>false</issued></area>\n";
    case IDGW_OP_ADD_CARD:
    case IDGW_OP_UPDATE_CARD:
    case IDGW_OP_RESTORE_CARD:
        return card_answer(p, ctx);
    case IDGW_OP_DELETE_CARD:
        return slot_answer(p, "deleted", ctx);
    case IDGW_OP_SET_MAIN:
        return slot_answer(p, "main", ctx);
    case IDGW_OP_LIST_CARDS:
        return cards_answer(p, ctx);
    case IDGW_OP_STORE_CARD:
        return stored_answer(p, ctx);
    case IDGW_OP_DISPLAY_DATA:
        return apr_psprintf(p, XML_DECL "<display_data version=\"1\" issuer=\"%s\">%s"
                            "</display_data>\n", esc(p, idgw_ctx_get(ctx, "req.issuer")),
                            display(p, ctx, NULL));
    default:
        return NULL;
    }
}
