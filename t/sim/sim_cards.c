/* sim_cards.c: CREMO and the card information download center.  Both speak
 * the same card telegrams; they differ in whose cards they hold (CREMO:
 * DOCOMO-issued cards, the card info center: other issuers').
 *
 * Authentication tickets are stateless: memberId-issuer-expiry-HMAC under a
 * key drawn at server start, so any child process can check them.  Deposited
 * cards are files under IdgwSimRunDir/store (O_EXCL makes a double deposit
 * fail whichever process sees it); notifications are appended to
 * IdgwSimRunDir/notifications.log (ids only, no card data) for tests to read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "sim.h"

#define TICKET_LIFETIME (10 * 60)

static idgw_telegram_t *answer(sim_call_t *call, const char *result)
{
    idgw_telegram_t *res = idgw_tg_new_response(call->r->pool, call->req, result);

    if (strcmp(result, IDGW_TG_R_OK) != 0)
        res->result_message = idgw_tg_result_text(result);
    return res;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

static void ticket_mac(const sim_call_t *call, const char *member, const char *issuer,
                       const char *exp, char out[33])
{
    unsigned char mac[32];
    unsigned int len = sizeof(mac);
    const char *msg = apr_pstrcat(call->r->pool, sim_service_name(call->service), "|", member,
                                  "|", issuer, "|", exp, NULL);

    HMAC(EVP_sha256(), call->sc->data->ticket_key, sizeof(call->sc->data->ticket_key),
         (const unsigned char *)msg, strlen(msg), mac, &len);
    hex(mac, 16, out);
}

static const char *make_ticket(sim_call_t *call, const sim_card_t *c)
{
    char mac[33];
    const char *exp = apr_psprintf(call->r->pool, "%lx",
                                   (unsigned long)(apr_time_sec(apr_time_now()) + TICKET_LIFETIME));

    ticket_mac(call, c->member_id, c->issuer_code, exp, mac);
    return apr_pstrcat(call->r->pool, c->member_id, "-", c->issuer_code, "-", exp, "-", mac, NULL);
}

/* Member and issuer of a valid, unexpired ticket of this service. */
static int check_ticket(sim_call_t *call, const char **member, const char **issuer)
{
    char *t = apr_pstrdup(call->r->pool, idgw_tg_get(call->req, "authTicket"));
    char *mac_s, *exp_s, *iss_s;
    char want[33];
    unsigned long exp;

    if (!(mac_s = strrchr(t, '-')))
        return 0;
    *mac_s++ = '\0';
    if (!(exp_s = strrchr(t, '-')))
        return 0;
    *exp_s++ = '\0';
    if (!(iss_s = strrchr(t, '-')))
        return 0;
    *iss_s++ = '\0';
    ticket_mac(call, t, iss_s, exp_s, want);
    if (strlen(mac_s) != 32 || CRYPTO_memcmp(want, mac_s, 32) != 0)
        return 0;
    exp = strtoul(exp_s, NULL, 16);
    if (exp < (unsigned long)apr_time_sec(apr_time_now()))
        return 0;
    *member = t;
    *issuer = iss_s;
    return 1;
}

static const sim_card_t *find_card(sim_call_t *call, const char *member, const char *issuer,
                                   const char *card_id)
{
    const sim_card_t *c = (const sim_card_t *)call->sc->data->cards->elts;

    for (int i = 0; i < call->sc->data->cards->nelts; i++)
        if (c[i].source == call->service && strcmp(c[i].member_id, member) == 0
            && strcmp(c[i].issuer_code, issuer) == 0
            && (!card_id || strcmp(c[i].card_id, card_id) == 0))
            return &c[i];
    return NULL;
}

static int expired(const char *yymm)
{
    apr_time_exp_t t;
    int now, exp = (yymm[0] - '0') * 1000 + (yymm[1] - '0') * 100 + (yymm[2] - '0') * 10
                   + (yymm[3] - '0');

    apr_time_exp_gmt(&t, apr_time_now());
    now = (t.tm_year % 100) * 100 + t.tm_mon + 1;
    return exp < now;
}

static int password_ok(const sim_card_t *c, const char *given)
{
    size_t n = strlen(c->password);

    return strlen(given) == n && CRYPTO_memcmp(c->password, given, n) == 0;
}

static idgw_telegram_t *auth(sim_call_t *call)
{
    const char *member = idgw_tg_get(call->req, "memberId");
    const char *issuer = idgw_tg_get(call->req, "issuerCode");
    const sim_card_t *c = find_card(call, member, issuer, NULL);
    const sim_card_t *all = (const sim_card_t *)call->sc->data->cards->elts;
    idgw_telegram_t *res;

    /* Unknown member, wrong issuer and wrong password look the same. */
    if (!c || !password_ok(c, idgw_tg_get(call->req, "password")))
        return answer(call, IDGW_TG_R_AUTH_FAILED);
    if (c->suspended)
        return answer(call, IDGW_TG_R_SUSPENDED);
    res = answer(call, IDGW_TG_R_OK);
    idgw_tg_add(res, "authTicket", make_ticket(call, c));
    idgw_tg_add(res, "memberName", c->member_name);
    for (int i = 0, n = 0; i < call->sc->data->cards->nelts && n < 4; i++)
        if (all[i].source == call->service && strcmp(all[i].member_id, member) == 0
            && strcmp(all[i].issuer_code, issuer) == 0) {
            idgw_tg_add(res, "cardId", all[i].card_id);
            n++;
        }
    return res;
}

static idgw_telegram_t *card_info(sim_call_t *call, const sim_card_t *c, const char *expiry)
{
    const sim_issuer_t *is = sim_issuer_by_code(call->sc->data, c->issuer_code);
    idgw_telegram_t *res;

    if (expired(expiry))
        return answer(call, IDGW_TG_R_EXPIRED);
    res = answer(call, IDGW_TG_R_OK);
    idgw_tg_add(res, "cardId", c->card_id);
    idgw_tg_add(res, "issuerCode", c->issuer_code);
    idgw_tg_add(res, "pan", c->pan);
    idgw_tg_add(res, "expiry", expiry);
    idgw_tg_add(res, "holderName", c->holder_name);
    idgw_tg_add(res, "brandVersion", is->version);
    return res;
}

static void notify_log(sim_call_t *call, const char *what, const sim_card_t *c)
{
    const char *path = apr_pstrcat(call->r->pool, call->sc->run_dir, "/notifications.log", NULL);
    const char *slot = idgw_tg_get(call->req, "slot");
    const char *result = idgw_tg_get(call->req, "writeResult");
    const char *line = apr_psprintf(call->r->pool, "%s %s %s %s %s %s %s\n",
                                    sim_service_name(call->service), what,
                                    call->req->correlation_id, c->member_id, c->card_id,
                                    slot ? slot : "-", result ? result : "-");
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);

    if (fd >= 0) {
        ssize_t w = write(fd, line, strlen(line));
        (void)w;
        close(fd);
    }
}

static const char *store_path(sim_call_t *call, const sim_card_t *c)
{
    return apr_pstrcat(call->r->pool, call->sc->run_dir, "/store/",
                       sim_service_name(call->service), "-", c->member_id, "-", c->card_id, NULL);
}

static idgw_telegram_t *store(sim_call_t *call, const sim_card_t *c)
{
    const char *path = store_path(call, c);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    char mac[33];
    idgw_telegram_t *res;

    if (fd < 0)
        return answer(call, errno == EEXIST ? IDGW_TG_R_ALREADY_STORED : IDGW_TG_R_SYSTEM);
    close(fd);
    ticket_mac(call, c->member_id, c->card_id, "store", mac);
    res = answer(call, IDGW_TG_R_OK);
    idgw_tg_add(res, "storeId", apr_pstrcat(call->r->pool, "S", mac, NULL));
    return res;
}

static idgw_telegram_t *restore(sim_call_t *call, const sim_card_t *c)
{
    if (unlink(store_path(call, c)) != 0)
        return answer(call, errno == ENOENT ? IDGW_TG_R_NOT_STORED : IDGW_TG_R_SYSTEM);
    return card_info(call, c, c->renewed_expiry ? c->renewed_expiry : c->expiry);
}

idgw_telegram_t *sim_cards_handle(sim_call_t *call)
{
    const char *member, *issuer;
    const sim_card_t *c;

    if (call->req->type == IDGW_TG_CARD_AUTH_REQ)
        return auth(call);
    if (!check_ticket(call, &member, &issuer))
        return answer(call, IDGW_TG_R_TICKET);
    c = find_card(call, member, issuer, idgw_tg_get(call->req, "cardId"));
    if (!c)
        return answer(call, IDGW_TG_R_NO_CARD);
    if (c->suspended)
        return answer(call, IDGW_TG_R_SUSPENDED);
    switch (call->req->type) {
    case IDGW_TG_CARD_DOWNLOAD_REQ:
        return card_info(call, c, c->expiry);
    case IDGW_TG_CARD_UPDATE_REQ:
        return card_info(call, c, c->renewed_expiry ? c->renewed_expiry : c->expiry);
    case IDGW_TG_CARD_WRITTEN_REQ:
        notify_log(call, "WRITTEN", c);
        return answer(call, IDGW_TG_R_OK);
    case IDGW_TG_CARD_DELETED_REQ:
        notify_log(call, "DELETED", c);
        return answer(call, IDGW_TG_R_OK);
    case IDGW_TG_CARD_STORE_REQ:
        return store(call, c);
    case IDGW_TG_CARD_RESTORE_REQ:
        return restore(call, c);
    default:
        return answer(call, IDGW_TG_R_UNKNOWN_TYPE);
    }
}
