/* sim_cards.c: CREMO and the card information download center.  Both speak
 * the same card telegrams; they differ in whose cards they hold (CREMO:
 * DOCOMO-issued cards, the card info center: other issuers').
 *
 * Authentication tickets are stateless: memberId-issuer-expiry-HMAC under a
 * key drawn at server start, so any child process can check them.  Deposited
 * cards are files under IdgwSimRunDir/store (O_EXCL makes a double deposit
 * fail whichever process sees it); notifications are appended to
 * IdgwSimRunDir/notifications.log (ids only, no card data) for tests to read.
 *
 * Derived members (so that many simulated phones each have cards of their
 * own, and a fault campaign can tell whose card is on which chip): a member
 * id BASE-SFX, SFX 1..6 digits, is a copy of member BASE whose cards are
 * CARDSFX (C101 -> C101SFX) with the PAN of sim_derived_pan.  What the
 * source handed out, deposited and withdrew is appended to
 * IdgwSimRunDir/ledger.log (sim_ledger.c; ids only): the campaign's ground
 * truth. */
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

/* Member BASE-SFX: the suffix (1..6 digits) and the length of BASE; 0 when
 * member is no derived id. */
static size_t derived_suffix(const char *member, const char **sfx)
{
    const char *dash = strrchr(member, '-');
    size_t n;

    if (!dash || dash == member)
        return 0;
    n = strlen(dash + 1);
    if (n < 1 || n > 6 || strspn(dash + 1, "0123456789") != n)
        return 0;
    *sfx = dash + 1;
    return (size_t)(dash - member);
}

/* Card c as member BASE-SFX holds it: card id and PAN derived; NULL when the
 * PAN has no room for the suffix or the card id would be too long. */
static const sim_card_t *derive(sim_call_t *call, const sim_card_t *c, const char *member,
                                const char *sfx)
{
    sim_card_t *d;
    char *pan;

    if (strlen(c->card_id) + strlen(sfx) > 20)
        return NULL;
    pan = apr_palloc(call->r->pool, strlen(c->pan) + 1);
    if (!sim_derived_pan(c->pan, sfx, pan))
        return NULL;
    d = apr_pmemdup(call->r->pool, c, sizeof(*c));
    d->member_id = member;
    d->card_id = apr_pstrcat(call->r->pool, c->card_id, sfx, NULL);
    d->pan = pan;
    return d;
}

/* The cards of member and issuer (up to max), a derived member's too. */
static int member_cards(sim_call_t *call, const char *member, const char *issuer,
                        const sim_card_t **out, int max)
{
    const sim_card_t *c = (const sim_card_t *)call->sc->data->cards->elts;
    const char *sfx = NULL;
    size_t base = derived_suffix(member, &sfx);
    int n = 0;

    for (int i = 0; i < call->sc->data->cards->nelts && n < max; i++) {
        if (c[i].source != call->service || strcmp(c[i].issuer_code, issuer) != 0)
            continue;
        if (strcmp(c[i].member_id, member) == 0)
            out[n++] = &c[i];
        else if (base && strlen(c[i].member_id) == base
                 && strncmp(c[i].member_id, member, base) == 0
                 && (out[n] = derive(call, &c[i], member, sfx)))
            n++;
    }
    return n;
}

static const sim_card_t *find_card(sim_call_t *call, const char *member, const char *issuer,
                                   const char *card_id)
{
    const sim_card_t *cards[8];
    int n = member_cards(call, member, issuer, cards, 8);

    for (int i = 0; i < n; i++)
        if (!card_id || strcmp(cards[i]->card_id, card_id) == 0)
            return cards[i];
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
    const sim_card_t *cards[4];
    int n = member_cards(call, member, issuer, cards, 4);
    idgw_telegram_t *res;

    /* Unknown member, wrong issuer and wrong password look the same. */
    if (!n || !password_ok(cards[0], idgw_tg_get(call->req, "password")))
        return answer(call, IDGW_TG_R_AUTH_FAILED);
    if (cards[0]->suspended)
        return answer(call, IDGW_TG_R_SUSPENDED);
    res = answer(call, IDGW_TG_R_OK);
    idgw_tg_add(res, "authTicket", make_ticket(call, cards[0]));
    idgw_tg_add(res, "memberName", cards[0]->member_name);
    for (int i = 0; i < n; i++)
        idgw_tg_add(res, "cardId", cards[i]->card_id);
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

/* Card data handed out (download, update, withdrawal): in the ledger when it is. */
static idgw_telegram_t *issue(sim_call_t *call, const sim_card_t *c, const char *expiry)
{
    idgw_telegram_t *res = card_info(call, c, expiry);

    if (strcmp(res->result, IDGW_TG_R_OK) == 0)
        sim_ledger(call, "ISSUED", c->member_id, c->card_id, NULL);
    return res;
}

static void notify_log(sim_call_t *call, const char *what, const sim_card_t *c)
{
    const char *slot = idgw_tg_get(call->req, "slot");
    const char *result = idgw_tg_get(call->req, "writeResult");

    sim_append_line(call, "notifications.log",
                    apr_psprintf(call->r->pool, "%s %s %s %s %s %s %s\n",
                                 sim_service_name(call->service), what,
                                 call->req->correlation_id, c->member_id, c->card_id,
                                 slot ? slot : "-", result ? result : "-"));
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
    sim_ledger(call, "STORED", c->member_id, c->card_id, idgw_tg_get(call->req, "idm"));
    res = answer(call, IDGW_TG_R_OK);
    idgw_tg_add(res, "storeId", apr_pstrcat(call->r->pool, "S", mac, NULL));
    return res;
}

static idgw_telegram_t *restore(sim_call_t *call, const sim_card_t *c)
{
    if (unlink(store_path(call, c)) != 0)
        return answer(call, errno == ENOENT ? IDGW_TG_R_NOT_STORED : IDGW_TG_R_SYSTEM);
    sim_ledger(call, "RESTORED", c->member_id, c->card_id, NULL);
    return issue(call, c, c->renewed_expiry ? c->renewed_expiry : c->expiry);
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
        return issue(call, c, c->expiry);
    case IDGW_TG_CARD_UPDATE_REQ:
        return issue(call, c, c->renewed_expiry ? c->renewed_expiry : c->expiry);
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
