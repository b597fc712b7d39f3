/*
 * mod_idgw_testop.c - TEST-ONLY stand-in for mod_idgw_convert's handler,
 * loaded only by the Apache::Test configuration (t/conf/extra.conf.in).
 *
 * It drives every operation step through mod_idgw_session's exported
 * functions the way the real handler will: read the checked session, keep
 * card data in the vault, commit the answer.  Answers carry a fresh nonce so
 * a test can tell a replayed answer from a new one.  The body is
 * "key=value;key=value":
 *   card=<digits>      (request step) sealed into the operation vault
 *   password=<text>    (request step) sealed into the session vault
 * and the query string steers failures:
 *   fail=1      commit ABORT with a 502 answer      nocommit=1  never commit
 *   strike=1    record a strike                     sleep=<ms>  wait first
 *   prove=chip|user   report the session proven (idgw_session_prove), as
 *               mod_idgw_convert does when the FeliCa server verified the chip
 */
#include "idgw_httpd.h"
#include <http_config.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "mod_idgw.h"

#define XML_TYPE "application/xml; charset=UTF-8"

module AP_MODULE_DECLARE_DATA idgw_testop_module;

static APR_OPTIONAL_FN_TYPE(idgw_session_get) *session_get;
static APR_OPTIONAL_FN_TYPE(idgw_session_commit) *session_commit;
static APR_OPTIONAL_FN_TYPE(idgw_session_body) *session_body;
static APR_OPTIONAL_FN_TYPE(idgw_vault_put) *vault_put;
static APR_OPTIONAL_FN_TYPE(idgw_vault_get) *vault_get;
static APR_OPTIONAL_FN_TYPE(idgw_session_strike) *session_strike;
static APR_OPTIONAL_FN_TYPE(idgw_session_prove) *session_prove;

static void retrieve(void)
{
    session_get = APR_RETRIEVE_OPTIONAL_FN(idgw_session_get);
    session_commit = APR_RETRIEVE_OPTIONAL_FN(idgw_session_commit);
    session_body = APR_RETRIEVE_OPTIONAL_FN(idgw_session_body);
    vault_put = APR_RETRIEVE_OPTIONAL_FN(idgw_vault_put);
    vault_get = APR_RETRIEVE_OPTIONAL_FN(idgw_vault_get);
    session_strike = APR_RETRIEVE_OPTIONAL_FN(idgw_session_strike);
    session_prove = APR_RETRIEVE_OPTIONAL_FN(idgw_session_prove);
}

/* value of key in "k=v<sep>k=v" (NULL when absent) */
static const char *field(apr_pool_t *p, const char *body, const char *key, int sep)
{
    size_t klen = strlen(key);
    const char *s = body;

    while (s && *s) {
        const char *end = strchr(s, sep);

        if (strncmp(s, key, klen) == 0 && s[klen] == '=')
            return end ? apr_pstrndup(p, s + klen + 1, (apr_size_t)(end - s - klen - 1))
                       : apr_pstrdup(p, s + klen + 1);
        s = end ? end + 1 : NULL;
    }
    return NULL;
}

static int query_flag(request_rec *r, const char *name)
{
    const char *v = r->args ? field(r->pool, r->args, name, '&') : NULL;

    return v ? atoi(v) : 0;
}

static const char *nonce(apr_pool_t *p)
{
    unsigned char raw[8];
    char *hex = apr_palloc(p, 17);

    RAND_bytes(raw, sizeof(raw));
    idgw_hex(raw, sizeof(raw), hex);
    return hex;
}

static int answer(request_rec *r, int status, const char *body, int commit_outcome_abort)
{
    apr_size_t len = strlen(body);

    /* as every handler must (mod_idgw.h): no answer whose commit did not land */
    if (!query_flag(r, "nocommit")
        && session_commit(r, commit_outcome_abort ? IDGW_COMMIT_ABORT : IDGW_COMMIT_OK, status,
                          XML_TYPE, body, len) != APR_SUCCESS) {
        const idgw_error_def *e = idgw_error_find(apr_table_get(r->notes,
                                                                IDGW_NOTE_STEP_LOST));

        return idgw_xml_error_send(r, e ? e : &IDGW_E_SRV_STORE);
    }
    r->status = status;
    ap_set_content_type(r, XML_TYPE);
    ap_set_content_length(r, (apr_off_t)len);
    ap_rwrite(body, (int)len, r);
    return OK;
}

/* request step: seal what the terminal sent */
static const char *store_secrets(request_rec *r, const char *body)
{
    const char *card = field(r->pool, body, "card", ';');
    const char *password = field(r->pool, body, "password", ';');

    if (card && vault_put(r, IDGW_VAULT_OPERATION, "card", card, strlen(card)) != APR_SUCCESS)
        return "vault_put card failed";
    if (password && vault_put(r, IDGW_VAULT_SESSION, "password", password,
                              strlen(password)) != APR_SUCCESS)
        return "vault_put password failed";
    return NULL;
}

/* completion: the card is still there, sealed; answer with its last four digits only */
static const char *card_last4(request_rec *r)
{
    const unsigned char *card;
    apr_size_t len;

    if (vault_get(r, IDGW_VAULT_OPERATION, "card", &card, &len) != APR_SUCCESS || len < 4)
        return "none";
    return apr_pstrndup(r->pool, (const char *)card + len - 4, 4);
}

static int handler(request_rec *r)
{
    const idgw_session_info *in;
    const char *body, *err = NULL, *extra = "";
    apr_size_t len;
    int ms;

    if (!r->handler || strcmp(r->handler, "idgw-testop") != 0)
        return DECLINED;
    in = session_get ? session_get(r) : NULL;
    if (!in)
        return idgw_xml_error_send(r, &IDGW_E_SRV_INTERNAL);
    if (session_body(r, &body, &len) != APR_SUCCESS)
        body = "";
    if ((ms = query_flag(r, "sleep")) > 0 && ms <= 5000)
        apr_sleep(apr_time_from_msec(ms));
    if (r->args && session_prove && field(r->pool, r->args, "prove", '&'))
        session_prove(r, field(r->pool, r->args, "prove", '&'));
    if (query_flag(r, "strike"))
        session_strike(r, "test handler was asked to strike", 0);
    if (in->step == IDGW_STEP_REQUEST)
        err = store_secrets(r, body);
    else if (in->step == IDGW_STEP_COMPLETE)
        extra = apr_pstrcat(r->pool, "<last4>", card_last4(r), "</last4>", NULL);
    if (err || query_flag(r, "fail"))
        return answer(r, HTTP_BAD_GATEWAY,
                      apr_psprintf(r->pool, "<error><code>TEST-FAIL</code><message>%s"
                                   "</message><nonce>%s</nonce></error>",
                                   err ? err : "asked to fail", nonce(r->pool)), 1);
    return answer(r, HTTP_OK,
                  apr_psprintf(r->pool, "<ok><op>%s</op><step>%s</step><seq>%"
                               APR_INT64_T_FMT "</seq><relays>%d</relays>%s<nonce>%s</nonce>"
                               "</ok>", idgw_op_name(in->op), idgw_step_name(in->step),
                               in->seq, in->relays, extra, nonce(r->pool)), 0);
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_optional_fn_retrieve(retrieve, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA idgw_testop_module = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, register_hooks
};
