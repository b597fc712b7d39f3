/* term_ops.c: envelope, operations and the relay loop (term_ops.h). */
#include "term_ops.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "felica_frame.h"

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void say(const term_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const term_t *t, const char *fmt, ...)
{
    va_list ap;

    if (!t->log)
        return;
    if (t->label)
        fprintf(t->log, "%s ", t->label);
    va_start(ap, fmt);
    vfprintf(t->log, fmt, ap);
    va_end(ap);
    fputc('\n', t->log);
    fflush(t->log);
}

/* ---- answers ------------------------------------------------------------------- */

static xmlNodePtr find(xmlNodePtr n, const char *name)
{
    for (; n; n = n->next) {
        xmlNodePtr hit;

        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
            return n;
        if ((hit = find(n->children, name)))
            return hit;
    }
    return NULL;
}

int term_answer_text(const term_t *t, const char *name, char *out, size_t cap)
{
    xmlDocPtr doc;
    xmlNodePtr el;
    xmlChar *txt;
    int ok = 0;

    out[0] = '\0';
    if (!t->last_body)
        return 0;
    /* the gateway is pinned, but its answers are still parsed without a network
     * or entity expansion */
    doc = xmlReadMemory(t->last_body, (int)strlen(t->last_body), "answer.xml", "UTF-8",
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return 0;
    if ((el = find(xmlDocGetRootElement(doc), name)) && (txt = xmlNodeGetContent(el))) {
        snprintf(out, cap, "%s", (const char *)txt);
        xmlFree(txt);
        ok = 1;
    }
    xmlFreeDoc(doc);
    return ok;
}

/* No answer may carry a card number or expiry: checked on every byte. */
static int leaks(const term_t *t, const term_response_t *res)
{
    for (int i = 0; i < t->n_secrets; i++) {
        const char *s = t->secrets[i];

        if ((res->body && memmem(res->body, res->body_len, s, strlen(s)))
            || (res->raw_headers && strstr(res->raw_headers, s)))
            return 1;
    }
    return 0;
}

/* ---- the envelope ----------------------------------------------------------------- */

static int is_session_op(const char *op)
{
    return strcmp(op, "open") == 0 || strcmp(op, "close") == 0 || strcmp(op, "status") == 0;
}

int term_step(term_t *t, const char *op, const char *step, const char *body,
              const char *content_type, const char *method)
{
    char path[256], headers[1024];
    term_response_t res;
    double t0;
    int n;

    if (is_session_op(op))
        snprintf(path, sizeof(path), "%s/session/%s", t->prefix, op);
    else
        snprintf(path, sizeof(path), "%s/%s/%s", t->prefix, op, step);
    n = snprintf(headers, sizeof(headers), "X-Idgw-Terminal: %s\r\nX-Idgw-IDm: %s\r\n",
                 t->terminal, t->idm);
    if (strcmp(op, "open") != 0)
        n += snprintf(headers + n, sizeof(headers) - (size_t)n, "X-Idgw-Token: %s\r\n", t->token);
    if (!is_session_op(op) || strcmp(op, "close") == 0)
        n += snprintf(headers + n, sizeof(headers) - (size_t)n, "X-Idgw-Seq: %lld\r\n", ++t->seq);
    if (t->extra_header)
        n += snprintf(headers + n, sizeof(headers) - (size_t)n, "%s\r\n", t->extra_header);
    snprintf(headers + n, sizeof(headers) - (size_t)n, "Content-Type: %s\r\n",
             content_type ? content_type : "application/xml; charset=UTF-8");
    t0 = now_ms();
    if (term_http_request(t->http, method ? method : "POST", path, headers, body,
                          body ? strlen(body) : 0, &res) != 0) {
        say(t, "%-26s -> transport failure: %s", path + strlen(t->prefix) + 1,
            term_http_error(t->http));
        return -TERM_TRANSPORT;
    }
    if (t->latency)
        t->latency(t->latency_baton, is_session_op(op) ? op
                   : strcmp(step, "relay") == 0 ? "relay" : step, now_ms() - t0);
    free(t->last_body);
    t->last_body = res.body;
    res.body = NULL;
    if (leaks(t, &(term_response_t){ .body = t->last_body,
                                     .body_len = t->last_body ? strlen(t->last_body) : 0,
                                     .raw_headers = res.raw_headers })) {
        /* never print the secret itself */
        say(t, "%s/%s: ANSWER CARRIES CARD DATA (PAN or expiry)", op, step);
        term_response_free(&res);
        return -TERM_LEAK;
    }
    t->last_error[0] = '\0';
    if (res.status >= 400)
        term_answer_text(t, "code", t->last_error, sizeof(t->last_error));
    /* a request refused before the session saw it (IDGW-REQ-*) did not use
     * its sequence number: the next request carries it again */
    if (strncmp(t->last_error, "IDGW-REQ-", 9) == 0 && (!is_session_op(op) || !strcmp(op, "close")))
        t->seq--;
    n = res.status;
    t->last_retry_after = res.retry_after;
    t->last_replay = res.replay;
    if (res.replay)
        say(t, "   (answer replayed by the gateway)");
    term_response_free(&res);
    return n;
}

static int refused(term_t *t, const char *what, int status)
{
    char msg[160];

    if (status < 0)
        return -status;
    term_answer_text(t, "message", msg, sizeof(msg));
    say(t, "%-26s -> %d %s: %s", what, status, t->last_error[0] ? t->last_error : "?", msg);
    return TERM_REFUSED;
}

int term_open(term_t *t, const char *app_version)
{
    char body[512], expires[16];
    int st;

    snprintf(body, sizeof(body), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<open version=\"1\">"
             "<terminal>%s</terminal><appVersion>%s</appVersion><idm>%s</idm><pmm>%s</pmm></open>",
             t->terminal, app_version, t->idm, t->pmm);
    st = term_step(t, "open", "request", body, NULL, NULL);
    if (st != 200)
        return refused(t, "session/open", st);
    if (!term_answer_text(t, "token", t->token, sizeof(t->token)) || strlen(t->token) != 32)
        return refused(t, "session/open (no token)", 500);
    term_answer_text(t, "expires", expires, sizeof(expires));
    t->seq = 0;
    /* the token is a secret of the session: the transcript never shows it */
    say(t, "%-26s -> 200 session open (token %.4s..., lifetime %s s)", "session/open", t->token,
        expires);
    return TERM_OK;
}

int term_close(term_t *t)
{
    int st = term_step(t, "close", "request", "<close version=\"1\"/>", NULL, NULL);

    if (st != 200)
        return refused(t, "session/close", st);
    say(t, "%-26s -> 200 closed%s", "session/close",
        t->last_body && strstr(t->last_body, "<cancelled/>") ? " (operation cancelled)" : "");
    return TERM_OK;
}

int term_status(term_t *t)
{
    char state[48];
    int st = term_step(t, "status", "request", NULL, NULL, "GET");

    if (st != 200)
        return refused(t, "session/status", st);
    term_answer_text(t, "state", state, sizeof(state));
    say(t, "%-26s -> 200 state %s", "session/status", state);
    return TERM_OK;
}

/* ---- the relay loop ------------------------------------------------------------------ */

static const char *packet_name(const uint8_t *p, size_t n)
{
    return n >= 2 ? felica_code_name(p[1]) : "?";
}

static int hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s) / 2;

    if (strlen(s) % 2 || n > cap)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
            return -1;
    *len = n;
    return 0;
}

/* One byte more than any FeliCa frame (LEN is one byte): what --oversize sends. */
#define TERM_MAX_ANSWER (FELICA_MAX_FRAME + 1)

/* The chip's answer to cmd, with the misbehaviour the tests asked for. */
static void chip_answer(term_t *t, int round, const uint8_t *cmd, size_t cmd_len, uint8_t *res,
                        size_t *res_len, uint8_t *prev, size_t *prev_len)
{
    uint8_t fresh[FELICA_MAX_FRAME];
    size_t fresh_len = 0;

    felica_chip_process(t->chip, cmd, cmd_len, fresh, sizeof(fresh), &fresh_len);
    memcpy(res, fresh, fresh_len);
    *res_len = fresh_len;
    if (round == t->bad.replay_at && *prev_len) {
        memcpy(res, prev, *prev_len);
        *res_len = *prev_len;
        say(t, "   (misbehaving: replaying the previous chip answer)");
    }
    if (round == t->bad.tamper_at && *res_len > 12) {
        res[*res_len - 1] ^= 0x01;
        say(t, "   (misbehaving: one bit of the chip answer flipped)");
    }
    if (round == t->bad.wrong_idm_at && *res_len > 10) {
        res[2] ^= 0x01;
        say(t, "   (misbehaving: answering as another chip)");
    }
    if (round == t->bad.oversize_at) {
        memset(res + *res_len, 0xA5, TERM_MAX_ANSWER - *res_len);
        *res_len = TERM_MAX_ANSWER;
        say(t, "   (misbehaving: the chip answer padded to %d bytes)", TERM_MAX_ANSWER);
    }
    memcpy(prev, fresh, fresh_len);
    *prev_len = fresh_len;
}

/* As if the answer had been lost: the same request with the same sequence
 * number again.  The gateway must give the same answer, marked replayed, and
 * must not run the step twice (the chip has only answered once). */
static int retransmit(term_t *t, const char *op, const char *body)
{
    char *first = t->last_body ? strdup(t->last_body) : NULL;
    int st, same;

    t->seq--;
    st = term_step(t, op, "relay", body, NULL, NULL);
    same = st == 200 && first && t->last_body && strcmp(first, t->last_body) == 0;
    free(first);
    say(t, "   (retransmitted the same relay: %s)", same ? "same answer, replayed"
                                                       : "ANSWER DIFFERS");
    if (st != 200)
        return refused(t, "relay retransmission", st);
    return same ? TERM_OK : TERM_REFUSED;
}

static int relay_loop(term_t *t, const char *op)
{
    uint8_t cmd[FELICA_MAX_FRAME], res[TERM_MAX_ANSWER], prev[FELICA_MAX_FRAME];
    size_t cmd_len, res_len, prev_len = 0;
    char hex[2 * TERM_MAX_ANSWER + 1], body[2 * TERM_MAX_ANSWER + 128], what[64];
    int round = 0, st, rc;

    for (;;) {
        if (!term_answer_text(t, "packet", hex, sizeof(hex)))
            return t->last_body && strstr(t->last_body, "<done/>") ? TERM_OK
                   : refused(t, "relay (no packet)", 500);
        if (hex_decode(hex, cmd, sizeof(cmd), &cmd_len) != 0)
            return refused(t, "relay (bad packet)", 500);
        round++;
        chip_answer(t, round, cmd, cmd_len, res, &res_len, prev, &prev_len);
        if (t->bad.vanish_after && round > t->bad.vanish_after) {
            /* the chip did the command; its answer never reaches the gateway */
            say(t, "   (misbehaving: the chip did %s, the app vanishes before answering)",
                packet_name(cmd, cmd_len));
            return TERM_REFUSED;
        }
        say(t, "   chip <- %-22s (%zu bytes)  chip -> %zu bytes", packet_name(cmd, cmd_len),
            cmd_len, res_len);
        if (t->show_packets)
            say(t, "      > %s", hex);
        for (size_t i = 0; i < res_len; i++)
            snprintf(hex + 2 * i, 3, "%02X", res[i]);
        hex[2 * res_len] = '\0';
        if (t->show_packets)
            say(t, "      < %s", hex);
        snprintf(body, sizeof(body), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<relay version=\"1\"><response>%s</response></relay>", hex);
        snprintf(what, sizeof(what), "%s/relay #%d", op, round);
        st = term_step(t, op, "relay", body, NULL, NULL);
        if (st != 200)
            return refused(t, what, st);
        if (round == t->bad.retransmit_at && (rc = retransmit(t, op, body)) != TERM_OK)
            return rc;
        t->relays_done = round;
    }
}

/* One line per logo of the last answer: its length and SHA-256 (of the
 * base64 text as received), so that a test checks it arrived intact. */
static void say_logos(term_t *t)
{
    for (const char *p = t->last_body ? strstr(t->last_body, "<logo") : NULL; p;
         p = strstr(p + 1, "<logo")) {
        const char *start = strchr(p, '>'), *end;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        char hex[2 * EVP_MAX_MD_SIZE + 1];

        if (!start || !(end = strstr(start, "</logo>")))
            return;
        start++;
        EVP_Digest(start, (size_t)(end - start), md, &mdlen, EVP_sha256(), NULL);
        for (unsigned int i = 0; i < mdlen; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        hex[2 * mdlen] = '\0';
        say(t, "     logo %zu chars sha256 %s", (size_t)(end - start), hex);
    }
}

/* A one-line summary of a completed operation's answer. */
static void summarise(term_t *t, const char *op)
{
    char a[64], b[64], c[128], d[16];

    if (!t->log || !t->last_body)
        return;
    if (strcmp(op, "list_cards") == 0) {
        say(t, "%-26s -> 200 cards:", "list_cards/complete");
        /* one line per card: slot, last four, issuer, main, issuer's name */
        for (const char *p = strstr(t->last_body, "<card>"); p; p = strstr(p + 1, "<card>")) {
            if (sscanf(p, "<card><slot>%15[^<]</slot><last4>%63[^<]</last4><issuer>%63[^<]"
                       "</issuer><main>%15[^<]</main>", d, a, b, c) == 4) {
                const char *nm = strstr(p, "<name>");
                char name[128] = "";

                if (nm)
                    sscanf(nm, "<name>%127[^<]", name);
                say(t, "     slot %s  **** %s  issuer %-4s %s  %s", d, a, b,
                    strcmp(c, "true") == 0 ? "main" : "    ", name);
            }
        }
        return;
    }
    if (term_answer_text(t, "last4", a, sizeof(a))) {
        term_answer_text(t, "slot", d, sizeof(d));
        term_answer_text(t, "name", c, sizeof(c));
        term_answer_text(t, "receipt", b, sizeof(b));
        say(t, "%s/complete%*s -> 200 slot %s **** %s %s%s%s", op, (int)(17 - strlen(op)), "",
            d[0] ? d : "-", a, c, b[0] ? " receipt " : "", b);
        return;
    }
    if (term_answer_text(t, "issued", a, sizeof(a))) {
        say(t, "%s/complete%*s -> 200 iD area issued: %s", op, (int)(17 - strlen(op)), "", a);
        return;
    }
    term_answer_text(t, "slot", d, sizeof(d));
    say(t, "%s/complete%*s -> 200 slot %s", op, (int)(17 - strlen(op)), "", d);
}

int term_operation(term_t *t, const char *op, const char *fields)
{
    char *body, what[64];
    int st, rc;

    t->relays_done = 0;
    if (asprintf(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s version=\"1\">%s</%s>",
                 op, fields ? fields : "", op) < 0)
        return TERM_USAGE;
    st = term_step(t, op, "request", body, NULL, NULL);
    free(body);
    snprintf(what, sizeof(what), "%s/request", op);
    if (st != 200)
        return refused(t, what, st);
    if (strcmp(op, "display_data") == 0) {
        char name[128];

        term_answer_text(t, "name", name, sizeof(name));
        say(t, "%-26s -> 200 issuer display data: %s", what, name);
        say_logos(t);
        return TERM_OK;
    }
    say(t, "%-26s -> 200 relay", what);
    if ((rc = relay_loop(t, op)) != TERM_OK)
        return rc;
    st = term_step(t, op, "complete", "<complete version=\"1\"/>", NULL, NULL);
    snprintf(what, sizeof(what), "%s/complete", op);
    if (st != 200)
        return refused(t, what, st);
    summarise(t, op);
    say_logos(t);
    return TERM_OK;
}

/* ---- state between invocations --------------------------------------------------------- */

int term_state_load(term_t *t, const char *path)
{
    FILE *f = fopen(path, "r");
    int ok;

    if (!f)
        return -1;
    ok = fscanf(f, "%32s %lld", t->token, &t->seq) == 2;
    fclose(f);
    return ok ? 0 : -1;
}

int term_state_save(const term_t *t, const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    fprintf(f, "%s %lld\n", t->token, t->seq);
    return fclose(f);
}
