/* felica_issuance_codec.c: an issuance session to sealed bytes and back, so a
 * server can keep it between HTTP requests.  The body holds session keys and
 * card data, so it is sealed with AES-256-GCM; the format header is the AAD.
 *
 *   blob   = "FISS" | VERSION(1) | 0(3) | LEN(4, BE) | NONCE(12) | CT(LEN) | TAG(16)
 *   body (plaintext, LEN bytes, version 1; integers big-endian):
 *     op slot make_main result_slot step state awaiting (1 each) | error(1, negated)
 *     | steps(4) | IDm(8)
 *     | sc: state idm(8) area(2) kvn level host_challenge(8) card_challenge(8)
 *           s_enc s_mac s_rmac dek mac_chain (16 each) counter(2) seq_counter(4)
 *     | card: WRITE/UPDATE_CARD: the six slot blocks of felica_card.h;
 *             DELETE_CARD with an expected card: issuer_id(4) | PAN (ASCII,
 *             NUL padded, 20) | zeros; otherwise all zero (a version 1 blob
 *             saved before expectations existed is a DELETE_CARD without one)
 *     | create(ISS_CREATE_LEN) | pending_len(1) | pending(255) | have(2)
 *     | blocks(13 * 16)
 * Every field is range-checked on load even though GCM authenticated it. */
#include <string.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include "felica_issuance_int.h"
#include "felica_crypto.h"

#define BLOB_MAGIC "FISS"
#define BLOB_VERSION 1
#define BLOB_HDR_LEN 12
#define BLOB_NONCE_LEN 12
#define BLOB_TAG_LEN 16

#define BODY_LEN ISS_BODY_LEN
#define BLOB_LEN (BLOB_HDR_LEN + BLOB_NONCE_LEN + BODY_LEN + BLOB_TAG_LEN)

_Static_assert(BLOB_LEN <= FELICA_ISS_SAVED_MAX, "saved session must fit FELICA_ISS_SAVED_MAX");

/* A cursor over a fixed buffer; the sizes above make overruns impossible,
 * the checks make them harmless anyway. */
typedef struct cursor {
    uint8_t *p;
    const uint8_t *in;
    size_t pos, len;
    int bad;
} cursor_t;

static void put(cursor_t *c, const void *v, size_t n)
{
    if (c->bad || c->len - c->pos < n) {
        c->bad = 1;
        return;
    }
    memcpy(c->p + c->pos, v, n);
    c->pos += n;
}

static void put8(cursor_t *c, uint8_t v) { put(c, &v, 1); }
static void put16(cursor_t *c, uint16_t v) { uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v }; put(c, b, 2); }
static void put32(cursor_t *c, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(c, b, 4);
}

static void get(cursor_t *c, void *v, size_t n)
{
    if (c->bad || c->len - c->pos < n) {
        c->bad = 1;
        memset(v, 0, n);
        return;
    }
    memcpy(v, c->in + c->pos, n);
    c->pos += n;
}

static uint8_t get8(cursor_t *c) { uint8_t v; get(c, &v, 1); return v; }
static uint16_t get16(cursor_t *c) { uint8_t b[2]; get(c, b, 2); return (uint16_t)(b[0] << 8 | b[1]); }
static uint32_t get32(cursor_t *c)
{
    uint8_t b[4];
    get(c, b, 4);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put_sc(cursor_t *c, const felica_sc_t *sc)
{
    put8(c, (uint8_t)sc->state);
    put(c, sc->idm, 8);
    put16(c, sc->area);
    put8(c, sc->kvn);
    put8(c, sc->level);
    put(c, sc->host_challenge, 8);
    put(c, sc->card_challenge, 8);
    put(c, sc->s_enc, 16);
    put(c, sc->s_mac, 16);
    put(c, sc->s_rmac, 16);
    put(c, sc->dek, 16);
    put(c, sc->mac_chain, 16);
    put16(c, sc->counter);
    put32(c, sc->seq_counter);
}

static void get_sc(cursor_t *c, felica_sc_t *sc)
{
    sc->state = get8(c);
    get(c, sc->idm, 8);
    sc->area = get16(c);
    sc->kvn = get8(c);
    sc->level = get8(c);
    get(c, sc->host_challenge, 8);
    get(c, sc->card_challenge, 8);
    get(c, sc->s_enc, 16);
    get(c, sc->s_mac, 16);
    get(c, sc->s_rmac, 16);
    get(c, sc->dek, 16);
    get(c, sc->mac_chain, 16);
    sc->counter = get16(c);
    sc->seq_counter = get32(c);
}

static int has_card(const struct felica_issuance *s)
{
    return s->state == FELICA_ISS_RUNNING
           && (s->op == FELICA_ISS_WRITE_CARD || s->op == FELICA_ISS_UPDATE_CARD);
}

/* DELETE_CARD's expected card (felica_issuance.h), kept until the session ends. */
static int has_expectation(const struct felica_issuance *s)
{
    return s->state == FELICA_ISS_RUNNING && s->op == FELICA_ISS_DELETE_CARD
           && s->card.pan[0] != '\0';
}

/* Where a saved DELETE_CARD may carry one. */
static int has_expectation_field(const struct felica_issuance *s)
{
    return s->state == FELICA_ISS_RUNNING && s->op == FELICA_ISS_DELETE_CARD;
}

#define EXPECT_PAN_OFF 4
#define EXPECT_LEN (EXPECT_PAN_OFF + FELICA_CARD_PAN_MAX + 1)

static void expectation_encode(const struct felica_issuance *s, uint8_t *raw)
{
    raw[0] = (uint8_t)(s->card.issuer_id >> 24);
    raw[1] = (uint8_t)(s->card.issuer_id >> 16);
    raw[2] = (uint8_t)(s->card.issuer_id >> 8);
    raw[3] = (uint8_t)s->card.issuer_id;
    memcpy(raw + EXPECT_PAN_OFF, s->card.pan, strlen(s->card.pan));
}

/* The expectation back, as strictly as felica_issuance_new takes it. */
static int expectation_decode(const uint8_t *raw, size_t len, struct felica_issuance *s)
{
    const char *pan = (const char *)raw + EXPECT_PAN_OFF;
    size_t n = strnlen(pan, FELICA_CARD_PAN_MAX + 1);
    for (size_t i = EXPECT_PAN_OFF + n; i < len; i++)
        if (raw[i] != 0)
            return FELICA_ERR_CORRUPT;
    if (n > FELICA_CARD_PAN_MAX)
        return FELICA_ERR_CORRUPT;
    memcpy(s->card.pan, pan, n);
    s->card.pan[n] = '\0';
    s->card.issuer_id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16
                        | (uint32_t)raw[2] << 8 | raw[3];
    return felica_card_pan_valid(s->card.pan) ? FELICA_OK : FELICA_ERR_CORRUPT;
}

int iss_body_encode(const struct felica_issuance *s, uint8_t body[ISS_BODY_LEN])
{
    uint8_t card[FELICA_CARD_SLOT_BLOCKS][FELICA_BLOCK_LEN];
    _Static_assert(EXPECT_LEN <= sizeof card, "the expectation fits the card field");
    memset(card, 0, sizeof card);
    if (has_card(s) && felica_card_to_blocks(&s->card, FELICA_CARD_OP_WRITE, 0, card) != FELICA_OK)
        return FELICA_ERR_STATE;
    if (has_expectation(s))
        expectation_encode(s, &card[0][0]);
    cursor_t c = { .p = body, .len = BODY_LEN };
    put8(&c, s->op);
    put8(&c, s->slot);
    put8(&c, s->make_main);
    put8(&c, s->result_slot);
    put8(&c, s->step);
    put8(&c, s->state);
    put8(&c, s->awaiting);
    put8(&c, (uint8_t)-s->error);
    put32(&c, s->steps);
    put(&c, s->idm, FELICA_IDM_LEN);
    put_sc(&c, &s->sc);
    put(&c, card, sizeof card);
    put(&c, s->create, sizeof s->create);
    put8(&c, (uint8_t)s->pending_len);
    put(&c, s->pending, sizeof s->pending);
    put16(&c, s->have);
    put(&c, s->blocks, sizeof s->blocks);
    felica_wipe(card, sizeof card);
    return c.bad || c.pos != BODY_LEN ? FELICA_ERR_BUFFER : FELICA_OK;
}

/* Where the session stands must be a place its plan can reach. */
static int progress_consistent(const struct felica_issuance *s)
{
    int card_write = iss_is_card_op(s->op) && s->op != FELICA_ISS_READ_CARDS
                     && s->op != FELICA_ISS_READ_CARDS_FULL;
    if (!iss_step_valid(s, s->step))
        return 0;
    if (s->state == FELICA_ISS_FAILED)
        return s->error < 0 && s->step != ISS_STEP_END && !s->awaiting && s->have == 0
               && s->sc.state == FELICA_SC_IDLE;
    if (s->error != 0 || (s->state == FELICA_ISS_DONE) != (s->step == ISS_STEP_END))
        return 0;
    if (s->state == FELICA_ISS_DONE && s->sc.state != FELICA_SC_IDLE)
        return 0;
    /* the card slot is chosen when the reads are checked, before the write */
    int chosen = card_write && s->step >= ISS_STEP_CHANGE;
    if (chosen ? s->result_slot >= FELICA_CARD_SLOTS : s->result_slot != FELICA_CARD_NO_SLOT)
        return 0;
    if (chosen && s->slot != FELICA_ISS_ANY_SLOT && s->result_slot != s->slot)
        return 0;
    if (s->have != iss_blocks_read_before(s, s->step))
        return 0;
    /* a packet handed out is the one this step sends */
    if (s->awaiting != (s->pending_len != 0) || (s->awaiting && s->state != FELICA_ISS_RUNNING))
        return 0;
    if (s->awaiting && (s->pending_len < 10 || s->pending[0] != s->pending_len
                        || s->pending[1] != iss_step_code(s, s->step)
                        || memcmp(s->pending + 2, s->idm, FELICA_IDM_LEN) != 0))
        return 0;
    return 1;
}

static int body_consistent(const struct felica_issuance *s)
{
    if (!iss_op_valid(s->op) || s->make_main > 1 || s->step > ISS_STEP_END
        || s->state > FELICA_ISS_FAILED || s->awaiting > 1 || s->sc.state > FELICA_SC_OPEN
        || s->pending_len > FELICA_MAX_FRAME)
        return 0;
    if (iss_is_card_op(s->op) && s->slot >= FELICA_CARD_SLOTS
        && !(s->op == FELICA_ISS_WRITE_CARD && s->slot == FELICA_ISS_ANY_SLOT))
        return 0;
    if (!iss_is_card_op(s->op) && s->slot != 0)
        return 0;
    /* a live channel is to this chip; a finished session has wiped it */
    if (s->sc.state != FELICA_SC_IDLE && memcmp(s->sc.idm, s->idm, FELICA_IDM_LEN) != 0)
        return 0;
    return progress_consistent(s);
}

int iss_body_decode(const uint8_t body[ISS_BODY_LEN], struct felica_issuance *s)
{
    uint8_t card[FELICA_CARD_SLOT_BLOCKS][FELICA_BLOCK_LEN];
    cursor_t c = { .in = body, .len = BODY_LEN };
    s->op = get8(&c);
    s->slot = get8(&c);
    s->make_main = get8(&c);
    s->result_slot = get8(&c);
    s->step = get8(&c);
    s->state = get8(&c);
    s->awaiting = get8(&c);
    s->error = -(int)get8(&c);
    s->steps = get32(&c);
    get(&c, s->idm, FELICA_IDM_LEN);
    get_sc(&c, &s->sc);
    get(&c, card, sizeof card);
    get(&c, s->create, sizeof s->create);
    s->pending_len = get8(&c);
    get(&c, s->pending, sizeof s->pending);
    s->have = get16(&c);
    get(&c, s->blocks, sizeof s->blocks);
    static const uint8_t zero[sizeof card];
    int empty = memcmp(card, zero, sizeof card) == 0, rc = FELICA_OK;
    if (!c.bad && !empty && has_expectation_field(s))
        rc = expectation_decode(&card[0][0], sizeof card, s);
    if (rc == FELICA_OK && (c.bad || c.pos != BODY_LEN || !body_consistent(s)))
        rc = FELICA_ERR_CORRUPT;
    if (rc == FELICA_OK && has_card(s)) {
        rc = felica_card_from_blocks((const uint8_t (*)[FELICA_BLOCK_LEN])card, &s->card);
        if (rc == FELICA_OK && s->card.status == FELICA_CARD_EMPTY)
            rc = FELICA_ERR_CORRUPT;
        s->card.last_op = 0;
        s->card.last_seq = 0;
        memset(s->card.last4, 0, sizeof s->card.last4);
    } else if (rc == FELICA_OK && !empty && !has_expectation_field(s)) {
        rc = FELICA_ERR_CORRUPT;
    }
    felica_wipe(card, sizeof card);
    return rc == FELICA_OK ? FELICA_OK : FELICA_ERR_CORRUPT;
}

static void blob_header(uint8_t hdr[BLOB_HDR_LEN], uint32_t ct_len)
{
    memcpy(hdr, BLOB_MAGIC, 4);
    hdr[4] = BLOB_VERSION;
    hdr[5] = hdr[6] = hdr[7] = 0;
    hdr[8] = (uint8_t)(ct_len >> 24);
    hdr[9] = (uint8_t)(ct_len >> 16);
    hdr[10] = (uint8_t)(ct_len >> 8);
    hdr[11] = (uint8_t)ct_len;
}

/* AES-256-GCM one shot; enc = 1 seals (tag out), 0 opens (tag in). */
static int gcm(int enc, const uint8_t key[32], const uint8_t nonce[BLOB_NONCE_LEN],
               const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
               uint8_t *out, uint8_t tag[BLOB_TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok = ctx != NULL
        && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, BLOB_NONCE_LEN, NULL) == 1
        && EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1
        && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1
        && EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 && (size_t)n == len;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, BLOB_TAG_LEN, tag) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(ctx, out + len, &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, BLOB_TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (ok)
        return FELICA_OK;
    return ctx == NULL || enc ? FELICA_ERR_CRYPTO : FELICA_ERR_CORRUPT;
}

int felica_issuance_save(const felica_issuance_t *s, const uint8_t key[FELICA_ISS_SEAL_KEY_LEN],
                         uint8_t *out, size_t cap, size_t *len)
{
    if (s == NULL || key == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (cap < BLOB_LEN)
        return FELICA_ERR_BUFFER;
    uint8_t body[BODY_LEN];
    uint8_t *nonce = out + BLOB_HDR_LEN, *ct = nonce + BLOB_NONCE_LEN;
    blob_header(out, BODY_LEN);
    int rc = iss_body_encode(s, body);
    if (rc == FELICA_OK)
        rc = felica_random(nonce, BLOB_NONCE_LEN);
    if (rc == FELICA_OK)
        rc = gcm(1, key, nonce, out, BLOB_HDR_LEN, body, BODY_LEN, ct, ct + BODY_LEN);
    felica_wipe(body, sizeof body);
    if (rc != FELICA_OK) {
        felica_wipe(out, BLOB_LEN);
        return rc;
    }
    *len = BLOB_LEN;
    return FELICA_OK;
}

static int check_header(const uint8_t *blob, size_t len)
{
    if (len < BLOB_HDR_LEN || memcmp(blob, BLOB_MAGIC, 4) != 0)
        return FELICA_ERR_CORRUPT;
    if (blob[4] != BLOB_VERSION)
        return FELICA_ERR_VERSION;
    uint32_t ct_len = (uint32_t)blob[8] << 24 | (uint32_t)blob[9] << 16
                      | (uint32_t)blob[10] << 8 | blob[11];
    if (blob[5] != 0 || blob[6] != 0 || blob[7] != 0 || ct_len != BODY_LEN || len != BLOB_LEN)
        return FELICA_ERR_CORRUPT;
    return FELICA_OK;
}

int felica_issuance_load(felica_issuance_t **out, const uint8_t key[FELICA_ISS_SEAL_KEY_LEN],
                         const uint8_t *blob, size_t len)
{
    if (out == NULL)
        return FELICA_ERR_BAD_PARAM;
    *out = NULL;
    if (key == NULL || (blob == NULL && len != 0))
        return FELICA_ERR_BAD_PARAM;
    int rc = check_header(blob, len);
    if (rc != FELICA_OK)
        return rc;
    uint8_t body[BODY_LEN + BLOB_TAG_LEN], tag[BLOB_TAG_LEN];
    const uint8_t *nonce = blob + BLOB_HDR_LEN, *ct = nonce + BLOB_NONCE_LEN;
    memcpy(tag, ct + BODY_LEN, BLOB_TAG_LEN);
    rc = gcm(0, key, nonce, blob, BLOB_HDR_LEN, ct, BODY_LEN, body, tag);
    struct felica_issuance *s = NULL;
    if (rc == FELICA_OK) {
        s = calloc(1, sizeof *s);
        rc = s == NULL ? FELICA_ERR_NOMEM : iss_body_decode(body, s);
    }
    felica_wipe(body, sizeof body);
    if (rc != FELICA_OK) {
        felica_issuance_free(s);
        return rc;
    }
    *out = s;
    return FELICA_OK;
}
