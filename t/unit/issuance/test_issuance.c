/* test_issuance.c: the issuance session on its own terms: requests refused
 * up front, refusals decided from the chip's blocks, a failed session never
 * builds another command, and save/load: a session saved and loaded at every
 * step of every operation behaves exactly like one never saved; tampered,
 * truncated, wrong-version and wrong-key blobs are refused. */
#define _GNU_SOURCE                     /* memmem */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "felica_crypto.h"
#include "iss_fixture.h"

typedef struct pkt { uint8_t b[FELICA_MAX_FRAME]; size_t len; } pkt_t;

static felica_chip_t *new_chip(void)
{
    felica_image_t *img = malloc(sizeof *img);
    felica_chip_t *chip;
    ck_assert_ptr_nonnull(img);
    fx_image(img);
    ck_assert_int_eq(felica_chip_new(img, NULL, &chip), FELICA_OK);
    felica_image_wipe(img);
    free(img);
    return chip;
}

/* A copy of a chip in memory (same image, Mode 0). */
static felica_chip_t *clone_chip(const felica_chip_t *chip)
{
    felica_chip_t *copy;
    ck_assert_int_eq(felica_chip_new(felica_chip_image(chip), NULL, &copy), FELICA_OK);
    return copy;
}

/* Save s and load it back in place of s. */
static void reload(felica_issuance_t **s)
{
    uint8_t blob[FELICA_ISS_SAVED_MAX];
    size_t len = 0;
    ck_assert_int_eq(felica_issuance_save(*s, fx_seal_key, blob, sizeof blob, &len), FELICA_OK);
    ck_assert_uint_le(len, FELICA_ISS_SAVED_MAX);
    felica_issuance_free(*s);
    *s = NULL;
    ck_assert_int_eq(felica_issuance_load(s, fx_seal_key, blob, len), FELICA_OK);
}

/* A loaded copy of s (s stays). */
static felica_issuance_t *copy_of(const felica_issuance_t *s)
{
    uint8_t blob[FELICA_ISS_SAVED_MAX];
    size_t len = 0;
    felica_issuance_t *t = NULL;
    ck_assert_int_eq(felica_issuance_save(s, fx_seal_key, blob, sizeof blob, &len), FELICA_OK);
    ck_assert_int_eq(felica_issuance_load(&t, fx_seal_key, blob, len), FELICA_OK);
    return t;
}

static void assert_same_results(const felica_issuance_t *a, const felica_issuance_t *b)
{
    felica_card_masked_t ma[2], mb[2];
    felica_card_t fa[2], fb[2];
    uint8_t sa = 0, sb = 0;
    uint8_t ia[FELICA_IDM_LEN], ib[FELICA_IDM_LEN];
    felica_issuance_idm(a, ia);
    felica_issuance_idm(b, ib);
    ck_assert_mem_eq(ia, fx_idm, FELICA_IDM_LEN);
    ck_assert_mem_eq(ib, fx_idm, FELICA_IDM_LEN);
    ck_assert_int_eq(felica_issuance_state(a), felica_issuance_state(b));
    ck_assert_int_eq(felica_issuance_error(a), felica_issuance_error(b));
    ck_assert_uint_eq(felica_issuance_steps(a), felica_issuance_steps(b));
    int ra = felica_issuance_result_slot(a, &sa), rb = felica_issuance_result_slot(b, &sb);
    ck_assert_int_eq(ra, rb);
    ck_assert_uint_eq(sa, sb);
    memset(ma, 0, sizeof ma);
    memset(mb, 0, sizeof mb);
    ck_assert_int_eq(felica_issuance_result_masked(a, ma), felica_issuance_result_masked(b, mb));
    ck_assert_mem_eq(ma, mb, sizeof ma);
    memset(fa, 0, sizeof fa);
    memset(fb, 0, sizeof fb);
    ck_assert_int_eq(felica_issuance_result_full(a, fa), felica_issuance_result_full(b, fb));
    ck_assert_mem_eq(fa, fb, sizeof fa);
    felica_wipe(fa, sizeof fa);
    felica_wipe(fb, sizeof fb);
}

/* Run req on chip a with a plain session and on chip b (same image) with a
 * copy of that session that is saved and loaded before and after every call:
 * every packet, response and result must be identical. */
static void run_twin(felica_chip_t *a, felica_chip_t *b, const felica_iss_request_t *req)
{
    felica_iss_keys_t keys;
    felica_issuance_t *s, *t;
    pkt_t pa, pb, retry, ra, rb;
    fx_keys(&keys);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, req), FELICA_OK);
    t = copy_of(s);
    while (felica_issuance_state(s) == FELICA_ISS_RUNNING) {
        ck_assert_int_eq(felica_issuance_state(t), FELICA_ISS_RUNNING);
        ck_assert_int_eq(felica_issuance_next(s, pa.b, sizeof pa.b, &pa.len), FELICA_OK);
        ck_assert_int_eq(felica_issuance_next(t, pb.b, sizeof pb.b, &pb.len), FELICA_OK);
        ck_assert_uint_eq(pa.len, pb.len);
        ck_assert_mem_eq(pa.b, pb.b, pa.len);
        reload(&t);
        /* a retry while the response is due hands out the same packet */
        ck_assert_int_eq(felica_issuance_next(t, retry.b, sizeof retry.b, &retry.len), FELICA_OK);
        ck_assert_uint_eq(retry.len, pa.len);
        ck_assert_mem_eq(retry.b, pa.b, pa.len);
        reload(&t);
        fx_relay(a, pa.b, pa.len, ra.b, &ra.len);
        fx_relay(b, pb.b, pb.len, rb.b, &rb.len);
        ck_assert_uint_eq(ra.len, rb.len);
        ck_assert_mem_eq(ra.b, rb.b, ra.len);
        ck_assert_int_eq(felica_issuance_consume(s, ra.b, ra.len), FELICA_OK);
        ck_assert_int_eq(felica_issuance_consume(t, rb.b, rb.len), FELICA_OK);
        reload(&t);
    }
    ck_assert_int_eq(felica_issuance_state(s), FELICA_ISS_DONE);
    assert_same_results(s, t);
    felica_issuance_free(s);
    felica_issuance_free(t);
    const felica_image_t *ia = felica_chip_image(a), *ib = felica_chip_image(b);
    ck_assert_int_eq(ia->n_areas, ib->n_areas);
    ck_assert_uint_eq(ia->seq_counter, ib->seq_counter);
    if (fx_area(a) != NULL)
        ck_assert_mem_eq(fx_area(a)->blocks, fx_area(b)->blocks, sizeof fx_area(a)->blocks);
}

START_TEST(test_save_load_every_step_every_op)
{
    /* one life of a chip: every operation in turn, twice over (two chips) */
    static const struct { int op; uint8_t slot; unsigned card; uint8_t main; } plan[] = {
        { FELICA_ISS_ISSUE_AREA, 0, 0, 0 },
        { FELICA_ISS_READ_CARDS, 0, 0, 0 },
        { FELICA_ISS_WRITE_CARD, FELICA_ISS_ANY_SLOT, 0, 0 },
        { FELICA_ISS_WRITE_CARD, 1, 1, 0 },
        { FELICA_ISS_UPDATE_CARD, 1, 1, 1 },
        { FELICA_ISS_SET_MAIN, 0, 0, 0 },
        { FELICA_ISS_READ_CARDS, 0, 0, 0 },
        { FELICA_ISS_READ_CARDS_FULL, 0, 0, 0 },
        { FELICA_ISS_DELETE_CARD, 0, 0, 0 },
        { FELICA_ISS_DELETE_AREA, 0, 0, 0 },
    };
    felica_chip_t *a = new_chip(), *b = clone_chip(a);
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        felica_iss_request_t req;
        fx_request(&req, plan[i].op, plan[i].slot, plan[i].card, plan[i].main);
        run_twin(a, b, &req);
    }
    ck_assert_ptr_null(fx_area(a));
    felica_chip_free(a);
    felica_chip_free(b);
}
END_TEST

/* A session saved after `responses` responses of a WRITE_CARD (area issued). */
static felica_chip_t *chip_with_area(void)
{
    felica_chip_t *chip = new_chip();
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_ISSUE_AREA, 0, 0, 0), FELICA_OK);
    return chip;
}

static size_t saved_write_session(felica_chip_t *chip, unsigned responses, uint8_t *blob, size_t cap)
{
    felica_iss_keys_t keys;
    felica_iss_request_t req;
    felica_issuance_t *s;
    pkt_t p, r;
    size_t len = 0;
    fx_keys(&keys);
    fx_request(&req, FELICA_ISS_WRITE_CARD, 0, 0, 0);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_OK);
    for (unsigned i = 0; i < responses; i++) {
        ck_assert_int_eq(felica_issuance_next(s, p.b, sizeof p.b, &p.len), FELICA_OK);
        fx_relay(chip, p.b, p.len, r.b, &r.len);
        ck_assert_int_eq(felica_issuance_consume(s, r.b, r.len), FELICA_OK);
    }
    ck_assert_int_eq(felica_issuance_save(s, fx_seal_key, blob, cap, &len), FELICA_OK);
    felica_issuance_free(s);
    return len;
}

START_TEST(test_tampered_blob_refused)
{
    uint8_t blob[FELICA_ISS_SAVED_MAX];
    felica_issuance_t *s = NULL;
    felica_chip_t *chip = chip_with_area();
    size_t len = saved_write_session(chip, 2, blob, sizeof blob);
    ck_assert_int_eq(felica_issuance_load(&s, fx_seal_key, blob, len), FELICA_OK);
    felica_issuance_free(s);
    for (size_t i = 0; i < len; i++) {
        for (unsigned bit = 0; bit < 8; bit += 7) {         /* lowest and highest bit */
            blob[i] ^= (uint8_t)(1u << bit);
            s = (felica_issuance_t *)1;
            int rc = felica_issuance_load(&s, fx_seal_key, blob, len);
            ck_assert_msg(rc == FELICA_ERR_CORRUPT || (i == 4 && rc == FELICA_ERR_VERSION),
                          "byte %zu bit %u: %d", i, bit, rc);
            ck_assert_ptr_null(s);
            blob[i] ^= (uint8_t)(1u << bit);
        }
    }
    felica_chip_free(chip);
}
END_TEST

START_TEST(test_truncated_and_extended_blob_refused)
{
    uint8_t blob[FELICA_ISS_SAVED_MAX + 1];
    felica_issuance_t *s = NULL;
    felica_chip_t *chip = chip_with_area();
    size_t len = saved_write_session(chip, 3, blob, sizeof blob);
    for (size_t n = 0; n < len; n++)
        ck_assert_int_eq(felica_issuance_load(&s, fx_seal_key, blob, n), FELICA_ERR_CORRUPT);
    blob[len] = 0;
    ck_assert_int_eq(felica_issuance_load(&s, fx_seal_key, blob, len + 1), FELICA_ERR_CORRUPT);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(felica_issuance_load(&s, fx_seal_key, NULL, 0), FELICA_ERR_CORRUPT);
    felica_chip_free(chip);
}
END_TEST

START_TEST(test_wrong_key_and_version_refused)
{
    uint8_t blob[FELICA_ISS_SAVED_MAX], key[FELICA_ISS_SEAL_KEY_LEN];
    felica_issuance_t *s = NULL;
    felica_chip_t *chip = chip_with_area();
    size_t len = saved_write_session(chip, 1, blob, sizeof blob);
    for (size_t i = 0; i < sizeof key; i++) {
        memcpy(key, fx_seal_key, sizeof key);
        key[i] ^= 0x01;
        ck_assert_int_eq(felica_issuance_load(&s, key, blob, len), FELICA_ERR_CORRUPT);
    }
    blob[4] = 2;                                    /* a future format */
    ck_assert_int_eq(felica_issuance_load(&s, fx_seal_key, blob, len), FELICA_ERR_VERSION);
    blob[4] = 1;
    ck_assert_int_eq(felica_issuance_load(&s, fx_seal_key, blob, len), FELICA_OK);
    /* the body is sealed: no IDm, PAN or key appears in clear */
    ck_assert_ptr_null(memmem(blob, len, fx_idm, sizeof fx_idm));
    ck_assert_ptr_null(memmem(blob, len, "4111111111", 10));
    felica_issuance_free(s);
    felica_chip_free(chip);
}
END_TEST

START_TEST(test_save_buffer_too_small)
{
    uint8_t blob[FELICA_ISS_SAVED_MAX];
    felica_chip_t *chip = chip_with_area();
    size_t len = saved_write_session(chip, 0, blob, sizeof blob), got = 0;
    felica_issuance_t *s;
    ck_assert_int_eq(felica_issuance_load(&s, fx_seal_key, blob, len), FELICA_OK);
    ck_assert_int_eq(felica_issuance_save(s, fx_seal_key, blob, len - 1, &got), FELICA_ERR_BUFFER);
    felica_issuance_free(s);
    felica_chip_free(chip);
}
END_TEST

START_TEST(test_bad_requests_refused)
{
    felica_iss_keys_t keys;
    felica_iss_request_t req;
    felica_issuance_t *s = (felica_issuance_t *)1;
    fx_keys(&keys);
    fx_request(&req, 0, 0, 0, 0);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_ERR_BAD_PARAM);
    ck_assert_ptr_null(s);
    fx_request(&req, 9, 0, 0, 0);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_ERR_BAD_PARAM);
    fx_request(&req, FELICA_ISS_WRITE_CARD, 2, 0, 0);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_ERR_BAD_PARAM);
    fx_request(&req, FELICA_ISS_UPDATE_CARD, FELICA_ISS_ANY_SLOT, 0, 0);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_ERR_BAD_PARAM);
    fx_request(&req, FELICA_ISS_DELETE_CARD, 2, 0, 0);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_ERR_BAD_PARAM);
    fx_request(&req, FELICA_ISS_WRITE_CARD, 0, 0, 2);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_ERR_BAD_PARAM);
    fx_request(&req, FELICA_ISS_WRITE_CARD, 0, 0, 0);
    req.card.pan[15] = '2';                         /* Luhn */
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_ERR_BAD_PARAM);
    fx_request(&req, FELICA_ISS_UPDATE_CARD, 0, 0, 0);
    req.card.status = FELICA_CARD_EMPTY;
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_issuance_new(&s, NULL, &keys, &req), FELICA_ERR_BAD_PARAM);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_failed_session_stays_failed)
{
    felica_iss_keys_t keys;
    felica_iss_request_t req;
    felica_issuance_t *s;
    pkt_t p, r;
    felica_chip_t *chip = chip_with_area();
    fx_keys(&keys);
    fx_request(&req, FELICA_ISS_READ_CARDS, 0, 0, 0);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_OK);
    /* a response before any command fails the session */
    ck_assert_int_eq(felica_issuance_consume(s, (const uint8_t *)"\x0c\xa1", 2), FELICA_ERR_STATE);
    ck_assert_int_eq(felica_issuance_state(s), FELICA_ISS_FAILED);
    ck_assert_int_eq(felica_issuance_next(s, p.b, sizeof p.b, &p.len), FELICA_ERR_STATE);
    felica_card_masked_t m[2];
    ck_assert_int_eq(felica_issuance_result_masked(s, m), FELICA_ERR_STATE);
    reload(&s);                                     /* a failed session saves as failed */
    ck_assert_int_eq(felica_issuance_state(s), FELICA_ISS_FAILED);
    ck_assert_int_eq(felica_issuance_error(s), FELICA_ERR_STATE);
    ck_assert_int_eq(felica_issuance_next(s, p.b, sizeof p.b, &p.len), FELICA_ERR_STATE);
    felica_issuance_free(s);

    /* a response with a wrong code, or from another chip, fails it too */
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_OK);
    ck_assert_int_eq(felica_issuance_next(s, p.b, sizeof p.b, &p.len), FELICA_OK);
    fx_relay(chip, p.b, p.len, r.b, &r.len);
    r.b[2] ^= 0x01;
    ck_assert_int_eq(felica_issuance_consume(s, r.b, r.len), FELICA_ERR_WRONG_IDM);
    ck_assert_int_eq(felica_issuance_next(s, p.b, sizeof p.b, &p.len), FELICA_ERR_STATE);
    ck_assert_int_eq(felica_issuance_consume(s, r.b, r.len), FELICA_ERR_STATE);
    felica_issuance_free(s);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_OK);
    ck_assert_int_eq(felica_issuance_next(s, p.b, sizeof p.b, &p.len), FELICA_OK);
    fx_relay(chip, p.b, p.len, r.b, &r.len);
    r.b[1] = FELICA_CMD_AUTH2 + 1;
    ck_assert_int_eq(felica_issuance_consume(s, r.b, r.len), FELICA_ERR_BAD_CODE);
    felica_issuance_free(s);
    /* silence from the chip fails it */
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_OK);
    ck_assert_int_eq(felica_issuance_next(s, p.b, sizeof p.b, &p.len), FELICA_OK);
    ck_assert_int_eq(felica_issuance_consume(s, NULL, 0), FELICA_ERR_TRUNCATED);
    ck_assert_int_eq(felica_issuance_state(s), FELICA_ISS_FAILED);
    felica_issuance_free(s);
    /* a small output buffer is not a failure: the packet stays due */
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_OK);
    ck_assert_int_eq(felica_issuance_next(s, p.b, 4, &p.len), FELICA_ERR_BUFFER);
    ck_assert_int_eq(felica_issuance_state(s), FELICA_ISS_RUNNING);
    ck_assert_int_eq(felica_issuance_next(s, p.b, sizeof p.b, &p.len), FELICA_OK);
    felica_issuance_free(s);
    felica_chip_free(chip);
}
END_TEST

START_TEST(test_refusals_from_chip_state)
{
    felica_chip_t *chip = new_chip();
    /* no area yet: card operations find nothing */
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_READ_CARDS, 0, 0, 0), FELICA_ERR_NOT_FOUND);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_DELETE_AREA, 0, 0, 0), FELICA_ERR_NOT_FOUND);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_ISSUE_AREA, 0, 0, 0), FELICA_OK);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_ISSUE_AREA, 0, 0, 0), FELICA_ERR_EXISTS);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_DELETE_CARD, 0, 0, 0), FELICA_ERR_NOT_FOUND);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_SET_MAIN, 1, 0, 0), FELICA_ERR_NOT_FOUND);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_UPDATE_CARD, 0, 0, 0), FELICA_ERR_NOT_FOUND);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, 0, 0, 0), FELICA_OK);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, 0, 1, 0), FELICA_ERR_EXISTS);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, 1, 0, 0), FELICA_ERR_EXISTS);  /* same PAN */
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_UPDATE_CARD, 0, 1, 0), FELICA_ERR_BAD_PARAM); /* other PAN */
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, FELICA_ISS_ANY_SLOT, 1, 0), FELICA_OK);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, FELICA_ISS_ANY_SLOT, 2, 0), FELICA_ERR_FULL);
    felica_chip_free(chip);
}
END_TEST

/* A chip with a card whose area block `block` byte `pos` is set to value. */
static felica_chip_t *chip_with_damage(unsigned block, unsigned pos, uint8_t value)
{
    felica_chip_t *chip = chip_with_area();
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, 0, 0, 0), FELICA_OK);
    felica_image_t *img = malloc(sizeof *img);
    ck_assert_ptr_nonnull(img);
    *img = *felica_chip_image(chip);
    felica_chip_free(chip);
    felica_image_find_area(img, FELICA_ID_AREA)->blocks[block][pos] = value;
    ck_assert_int_eq(felica_chip_new(img, NULL, &chip), FELICA_OK);
    felica_image_wipe(img);
    free(img);
    return chip;
}

START_TEST(test_damaged_chip_data_refused)
{
    /* an unknown status in slot 0: no listing, no write beside it */
    felica_chip_t *chip = chip_with_damage(felica_card_block(0, FELICA_CARD_BLK_STATUS), 0, 7);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_READ_CARDS, 0, 0, 0), FELICA_ERR_CORRUPT);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, 1, 1, 0), FELICA_ERR_CORRUPT);
    felica_chip_free(chip);
    /* a future layout version: refused as such */
    chip = chip_with_damage(0, 2, 2);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_READ_CARDS, 0, 0, 0), FELICA_ERR_VERSION);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_DELETE_CARD, 0, 0, 0), FELICA_ERR_VERSION);
    felica_chip_free(chip);
    /* a PAN that fails Luhn: the full read and an update refuse it */
    chip = chip_with_damage(felica_card_block(0, FELICA_CARD_BLK_PAN), 7, 0x12);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_READ_CARDS_FULL, 0, 0, 0), FELICA_ERR_CORRUPT);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_UPDATE_CARD, 0, 0, 0), FELICA_ERR_CORRUPT);
    /* the listing reads only status blocks, so it still works */
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_READ_CARDS, 0, 0, 0), FELICA_OK);
    felica_chip_free(chip);
}
END_TEST

/* A DELETE_CARD of slot that expects sample card `card` (issuer 0: any). */
static void expect_request(felica_iss_request_t *req, uint8_t slot, unsigned card, uint32_t issuer)
{
    felica_card_t c;
    fx_request(req, FELICA_ISS_DELETE_CARD, slot, 0, 0);
    fx_card(&c, card);
    memcpy(req->card.pan, c.pan, sizeof req->card.pan);
    req->card.issuer_id = issuer;
    felica_card_wipe(&c);
}

/* Run req on chip, saving and loading the session after every response when
 * reload_each; returns the session's outcome and counts the Secure Writes built. */
static int run_counting_writes(felica_chip_t *chip, const felica_iss_request_t *req,
                               int reload_each, unsigned *writes)
{
    felica_iss_keys_t keys;
    felica_issuance_t *s;
    pkt_t p, r;
    int rc = FELICA_OK;
    *writes = 0;
    fx_keys(&keys);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, req), FELICA_OK);
    while (rc == FELICA_OK && felica_issuance_state(s) == FELICA_ISS_RUNNING) {
        ck_assert_int_eq(felica_issuance_next(s, p.b, sizeof p.b, &p.len), FELICA_OK);
        if (p.b[1] == FELICA_CMD_SECURE_WRITE)
            (*writes)++;
        fx_relay(chip, p.b, p.len, r.b, &r.len);
        rc = felica_issuance_consume(s, r.b, r.len);
        if (rc == FELICA_OK && reload_each)
            reload(&s);
    }
    if (rc != FELICA_OK)    /* a failed session never builds another command */
        ck_assert_int_eq(felica_issuance_next(s, p.b, sizeof p.b, &p.len), FELICA_ERR_STATE);
    felica_issuance_free(s);
    return rc;
}

/* An area with sample card 0 in slot 0 and card 1 in slot 1. */
static felica_chip_t *chip_with_two_cards(void)
{
    felica_chip_t *chip = chip_with_area();
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, 0, 0, 0), FELICA_OK);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, 1, 1, 0), FELICA_OK);
    return chip;
}

START_TEST(test_delete_of_another_card_refused)
{
    /* the app names card 1 but slot 0 holds card 0: nothing is written */
    for (int reload_each = 0; reload_each <= 1; reload_each++) {
        felica_chip_t *chip = chip_with_two_cards();
        felica_area_state_t before = *fx_area(chip);
        felica_iss_request_t req;
        unsigned writes;
        expect_request(&req, 0, 1, 0);
        ck_assert_int_eq(run_counting_writes(chip, &req, reload_each, &writes), FELICA_ERR_NOT_FOUND);
        ck_assert_uint_eq(writes, 0);
        ck_assert_mem_eq(fx_area(chip)->blocks, before.blocks, sizeof before.blocks);
        /* the right PAN under another issuer is another card too */
        expect_request(&req, 0, 0, 0x1000 + 1);
        ck_assert_int_eq(run_counting_writes(chip, &req, reload_each, &writes), FELICA_ERR_NOT_FOUND);
        ck_assert_uint_eq(writes, 0);
        ck_assert_mem_eq(fx_area(chip)->blocks, before.blocks, sizeof before.blocks);
        felica_card_wipe(&req.card);
        felica_chip_free(chip);
    }
}
END_TEST

START_TEST(test_delete_of_the_named_card)
{
    for (int reload_each = 0; reload_each <= 1; reload_each++) {
        felica_chip_t *chip = chip_with_two_cards();
        felica_iss_request_t req;
        felica_issuance_t *s;
        felica_card_masked_t m[FELICA_CARD_SLOTS];
        unsigned writes;
        expect_request(&req, 1, 1, 0x1000 + 1);
        ck_assert_int_eq(run_counting_writes(chip, &req, reload_each, &writes), FELICA_OK);
        ck_assert_uint_eq(writes, 1);
        /* slot 1 is empty, card 0 stays in slot 0 */
        fx_request(&req, FELICA_ISS_READ_CARDS, 0, 0, 0);
        ck_assert_int_eq(fx_run(chip, &req, &s), FELICA_OK);
        ck_assert_int_eq(felica_issuance_result_masked(s, m), FELICA_OK);
        ck_assert_uint_eq(m[1].status, FELICA_CARD_EMPTY);
        ck_assert_uint_eq(m[0].status, FELICA_CARD_ACTIVE);
        ck_assert_uint_eq(m[0].issuer_id, 0x1000);
        felica_issuance_free(s);
        /* the named card is gone: naming it again finds nothing */
        expect_request(&req, 1, 1, 0);
        ck_assert_int_eq(run_counting_writes(chip, &req, reload_each, &writes), FELICA_ERR_NOT_FOUND);
        ck_assert_uint_eq(writes, 0);
        felica_card_wipe(&req.card);
        felica_chip_free(chip);
    }
}
END_TEST

START_TEST(test_delete_expectation_checked_up_front)
{
    felica_iss_keys_t keys;
    felica_iss_request_t req;
    felica_issuance_t *s = NULL;
    fx_keys(&keys);
    expect_request(&req, 0, 0, 0);
    req.card.pan[strlen(req.card.pan) - 1] ^= 1;       /* Luhn fails */
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_ERR_BAD_PARAM);
    ck_assert_ptr_null(s);
    memset(req.card.pan, '4', sizeof req.card.pan);     /* not terminated */
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, &req), FELICA_ERR_BAD_PARAM);
    ck_assert_ptr_null(s);
}
END_TEST

static Suite *issuance_suite(void)
{
    Suite *s = suite_create("issuance");
    TCase *tc = tcase_create("session");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_save_load_every_step_every_op);
    tcase_add_test(tc, test_tampered_blob_refused);
    tcase_add_test(tc, test_truncated_and_extended_blob_refused);
    tcase_add_test(tc, test_wrong_key_and_version_refused);
    tcase_add_test(tc, test_save_buffer_too_small);
    tcase_add_test(tc, test_bad_requests_refused);
    tcase_add_test(tc, test_failed_session_stays_failed);
    tcase_add_test(tc, test_refusals_from_chip_state);
    tcase_add_test(tc, test_damaged_chip_data_refused);
    tcase_add_test(tc, test_delete_of_another_card_refused);
    tcase_add_test(tc, test_delete_of_the_named_card);
    tcase_add_test(tc, test_delete_expectation_checked_up_front);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(issuance_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
