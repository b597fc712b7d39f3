/* test_e2e.c: the FeliCa server's issuance session (host) against the chip
 * emulator (chip), in one process, the chip's image in a temporary directory.
 * A card's whole life, then an attacker in the relay: every single-byte flip
 * of every packet of a card write in both directions, replayed and swapped
 * packets, and an operation cut off after any number of relayed packets. */
#define _GNU_SOURCE                     /* memmem */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "felica_crypto.h"
#include "iss_fixture.h"

#define MAX_EXCHANGES 8

typedef struct pkt { uint8_t b[FELICA_MAX_FRAME]; size_t len; } pkt_t;

/* Everything one operation relayed: commands and responses, in order. */
typedef struct trace {
    unsigned n;
    pkt_t cmd[MAX_EXCHANGES], res[MAX_EXCHANGES];
} trace_t;

static char dir[256], path[300];
static felica_image_t *base_img;        /* system keys + an empty iD area */

static void setup(void)
{
    felica_chip_t *chip;
    fx_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/chip.img", dir);
    base_img = malloc(sizeof *base_img);
    ck_assert_ptr_nonnull(base_img);
    fx_image(base_img);
    ck_assert_int_eq(felica_chip_new(base_img, NULL, &chip), FELICA_OK);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_ISSUE_AREA, 0, 0, 0), FELICA_OK);
    *base_img = *felica_chip_image(chip);
    felica_chip_free(chip);
}

static void teardown(void)
{
    felica_image_wipe(base_img);
    free(base_img);
    fx_tmpdir_remove(dir);
}

/* A chip persisted at path, starting from img. */
static felica_chip_t *disk_chip(const felica_image_t *img)
{
    felica_chip_t *chip;
    ck_assert_int_eq(felica_image_save(path, img), FELICA_OK);
    ck_assert_int_eq(felica_chip_open(path, &chip), FELICA_OK);
    return chip;
}

/* The image file as it is now. */
static felica_image_t *image_on_disk(void)
{
    felica_image_t *img = malloc(sizeof *img);
    ck_assert_ptr_nonnull(img);
    ck_assert_int_eq(felica_image_load(path, img), FELICA_OK);
    return img;
}

static void free_image(felica_image_t *img)
{
    felica_image_wipe(img);
    free(img);
}

/* The iD area's blocks in img equal want's (both absent counts as equal). */
static int same_area(const felica_image_t *img, const felica_image_t *want)
{
    const felica_area_state_t *a = felica_image_find_area_const(img, FELICA_ID_AREA);
    const felica_area_state_t *b = felica_image_find_area_const(want, FELICA_ID_AREA);
    if (a == NULL || b == NULL)
        return a == b;
    return a->n_blocks == b->n_blocks && memcmp(a->blocks, b->blocks, sizeof a->blocks) == 0;
}

/* The chip's data, in memory and on disk, equals want's. */
static void assert_chip_data(const felica_chip_t *chip, const felica_image_t *want, const char *what)
{
    felica_image_t *disk = image_on_disk();
    ck_assert_msg(same_area(felica_chip_image(chip), want), "%s: chip data", what);
    ck_assert_msg(same_area(disk, want), "%s: image on disk", what);
    free_image(disk);
}

/* The image a clean run of req from img leaves behind (and its trace). */
static felica_image_t *intended_after(const felica_image_t *img, const felica_iss_request_t *req,
                                      trace_t *tr)
{
    felica_iss_keys_t keys;
    felica_issuance_t *s;
    felica_chip_t *chip;
    felica_image_t *out = malloc(sizeof *out);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(felica_chip_new(img, NULL, &chip), FELICA_OK);
    fx_keys(&keys);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, req), FELICA_OK);
    if (tr != NULL)
        memset(tr, 0, sizeof *tr);
    for (unsigned i = 0; felica_issuance_state(s) == FELICA_ISS_RUNNING; i++) {
        pkt_t c, r;
        ck_assert_uint_lt(i, MAX_EXCHANGES);
        ck_assert_int_eq(felica_issuance_next(s, c.b, sizeof c.b, &c.len), FELICA_OK);
        fx_relay(chip, c.b, c.len, r.b, &r.len);
        ck_assert_int_eq(felica_issuance_consume(s, r.b, r.len), FELICA_OK);
        if (tr != NULL) {
            tr->cmd[i] = c;
            tr->res[i] = r;
            tr->n = i + 1;
        }
    }
    ck_assert_int_eq(felica_issuance_state(s), FELICA_ISS_DONE);
    *out = *felica_chip_image(chip);
    felica_issuance_free(s);
    felica_chip_free(chip);
    return out;
}

static felica_issuance_t *new_session(const felica_iss_request_t *req)
{
    felica_iss_keys_t keys;
    felica_issuance_t *s;
    fx_keys(&keys);
    ck_assert_int_eq(felica_issuance_new(&s, fx_idm, &keys, req), FELICA_OK);
    return s;
}

/* One honest exchange. */
static void exchange(felica_issuance_t *s, felica_chip_t *chip, pkt_t *c, pkt_t *r)
{
    ck_assert_int_eq(felica_issuance_next(s, c->b, sizeof c->b, &c->len), FELICA_OK);
    fx_relay(chip, c->b, c->len, r->b, &r->len);
    ck_assert_int_eq(felica_issuance_consume(s, r->b, r->len), FELICA_OK);
}

static void read_masked(felica_chip_t *chip, felica_card_masked_t m[2])
{
    felica_iss_request_t req;
    felica_issuance_t *s;
    fx_request(&req, FELICA_ISS_READ_CARDS, 0, 0, 0);
    ck_assert_int_eq(fx_run(chip, &req, &s), FELICA_OK);
    ck_assert_int_eq(felica_issuance_result_masked(s, m), FELICA_OK);
    felica_issuance_free(s);
}

static void read_full(felica_chip_t *chip, felica_card_t c[2], felica_card_masked_t m[2])
{
    felica_iss_request_t req;
    felica_issuance_t *s;
    fx_request(&req, FELICA_ISS_READ_CARDS_FULL, 0, 0, 0);
    ck_assert_int_eq(fx_run(chip, &req, &s), FELICA_OK);
    ck_assert_int_eq(felica_issuance_result_full(s, c), FELICA_OK);
    ck_assert_int_eq(felica_issuance_result_masked(s, m), FELICA_OK);
    felica_issuance_free(s);
}

static void assert_card(const felica_card_t *got, const felica_card_t *want)
{
    ck_assert_str_eq(got->pan, want->pan);
    ck_assert_str_eq(got->expiry, want->expiry);
    ck_assert_str_eq(got->name, want->name);
    ck_assert_uint_eq(got->issuer_id, want->issuer_id);
    ck_assert_uint_eq(got->status, want->status);
    ck_assert_uint_eq(got->display.issuer_id, want->display.issuer_id);
    ck_assert_uint_eq(got->display.version, want->display.version);
}

static void assert_masked(const felica_card_masked_t *m, const felica_card_t *want, int is_main)
{
    size_t n = strlen(want->pan);
    ck_assert_uint_eq(m->status, want->status);
    ck_assert_str_eq(m->last4, want->pan + n - 4);
    ck_assert_uint_eq(m->issuer_id, want->issuer_id);
    ck_assert_uint_eq(m->display.issuer_id, want->display.issuer_id);
    ck_assert_uint_eq(m->display.version, want->display.version);
    ck_assert_int_eq(m->is_main, is_main);
    ck_assert_ptr_null(memmem(m, sizeof *m, want->pan, 6));
}

/* Reopen the chip from its image file (a power cycle / process restart). */
static felica_chip_t *reopen(felica_chip_t *chip)
{
    felica_chip_free(chip);
    ck_assert_int_eq(felica_chip_open(path, &chip), FELICA_OK);
    return chip;
}

START_TEST(test_card_life)
{
    felica_image_t fresh;
    felica_card_t c0, c1, c2, full[2];
    felica_card_masked_t m[2];
    felica_issuance_t *s;
    felica_iss_request_t req;
    uint8_t slot;
    fx_image(&fresh);
    felica_chip_t *chip = disk_chip(&fresh);
    fx_card(&c0, 0);
    fx_card(&c1, 1);
    fx_card(&c2, 2);

    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_ISSUE_AREA, 0, 0, 0), FELICA_OK);
    ck_assert_ptr_nonnull(fx_area(chip));
    read_masked(chip, m);
    ck_assert_uint_eq(m[0].status, FELICA_CARD_EMPTY);
    ck_assert_uint_eq(m[1].status, FELICA_CARD_EMPTY);

    /* two cards: the first free slot, then slot 1; the first becomes main */
    fx_request(&req, FELICA_ISS_WRITE_CARD, FELICA_ISS_ANY_SLOT, 0, 0);
    ck_assert_int_eq(fx_run(chip, &req, &s), FELICA_OK);
    ck_assert_int_eq(felica_issuance_result_slot(s, &slot), FELICA_OK);
    ck_assert_uint_eq(slot, 0);
    felica_issuance_free(s);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, 1, 1, 0), FELICA_OK);
    chip = reopen(chip);
    read_masked(chip, m);
    assert_masked(&m[0], &c0, 1);
    assert_masked(&m[1], &c1, 0);
    read_full(chip, full, m);
    assert_card(&full[0], &c0);
    assert_card(&full[1], &c1);
    ck_assert_uint_eq(full[0].is_main, 1);
    assert_masked(&m[1], &c1, 0);

    /* a third card: no free slot */
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, FELICA_ISS_ANY_SLOT, 2, 0), FELICA_ERR_FULL);

    /* update: new expiry and display data, suspended */
    fx_request(&req, FELICA_ISS_UPDATE_CARD, 1, 1, 0);
    strcpy(req.card.expiry, "3104");
    req.card.status = FELICA_CARD_SUSPENDED;
    req.card.display.version = 99;
    ck_assert_int_eq(fx_run(chip, &req, NULL), FELICA_OK);
    chip = reopen(chip);
    read_full(chip, full, m);
    assert_card(&full[1], &req.card);
    assert_card(&full[0], &c0);
    ck_assert_uint_eq(full[1].last_op, FELICA_CARD_OP_UPDATE);

    /* set main, then delete the main card: the other one becomes main */
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_SET_MAIN, 1, 0, 0), FELICA_OK);
    read_masked(chip, m);
    ck_assert_int_eq(m[0].is_main, 0);
    ck_assert_int_eq(m[1].is_main, 1);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_DELETE_CARD, 1, 0, 0), FELICA_OK);
    chip = reopen(chip);
    read_masked(chip, m);
    assert_masked(&m[0], &c0, 1);
    ck_assert_uint_eq(m[1].status, FELICA_CARD_EMPTY);
    ck_assert_str_eq(m[1].last4, "");

    /* the freed slot takes a new card; then the area goes */
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_WRITE_CARD, FELICA_ISS_ANY_SLOT, 2, 0), FELICA_OK);
    read_masked(chip, m);
    assert_masked(&m[1], &c2, 0);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_DELETE_AREA, 0, 0, 0), FELICA_OK);
    chip = reopen(chip);
    ck_assert_ptr_null(fx_area(chip));
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_READ_CARDS, 0, 0, 0), FELICA_ERR_NOT_FOUND);
    felica_card_wipe(full);
    felica_card_wipe(full + 1);
    felica_chip_free(chip);
}
END_TEST

/* Flip byte pos of exchange k's command or (towards_host) response of a card
 * write, on chip; returns 1 when the chip now holds the intended data. */
static int flipped_write(felica_chip_t *chip, unsigned k, int towards_host, size_t pos, size_t *pkt_len,
                         const felica_image_t *intended)
{
    felica_iss_request_t req;
    pkt_t c, r;
    fx_request(&req, FELICA_ISS_WRITE_CARD, 0, 0, 0);
    felica_issuance_t *s = new_session(&req);
    for (unsigned i = 0; i < k; i++)
        exchange(s, chip, &c, &r);
    ck_assert_int_eq(felica_issuance_next(s, c.b, sizeof c.b, &c.len), FELICA_OK);
    *pkt_len = c.len;
    if (!towards_host && pos < c.len)
        c.b[pos] ^= 0x5A;
    fx_relay(chip, c.b, c.len, r.b, &r.len);
    if (towards_host) {
        *pkt_len = r.len;
        if (pos < r.len)
            r.b[pos] ^= 0x5A;
    }
    if (pos >= *pkt_len) {
        felica_issuance_free(s);
        return -1;
    }
    int rc = felica_issuance_consume(s, r.b, r.len);
    ck_assert_msg(rc != FELICA_OK, "exchange %u %s byte %zu: flip not detected", k,
                  towards_host ? "response" : "command", pos);
    ck_assert_int_eq(felica_issuance_state(s), FELICA_ISS_FAILED);
    ck_assert_int_eq(felica_issuance_next(s, c.b, sizeof c.b, &c.len), FELICA_ERR_STATE);
    felica_issuance_free(s);
    /* the chip saw the damage and said so: its session is gone */
    if (!towards_host && r.len >= 12 && r.b[10] != 0)
        ck_assert_msg(felica_chip_mode(chip) == FELICA_MODE_0, "exchange %u byte %zu: mode %d",
                      k, pos, felica_chip_mode(chip));
    return same_area(felica_chip_image(chip), intended);
}

START_TEST(test_every_byte_flip_detected)
{
    felica_iss_request_t req;
    trace_t tr;
    fx_request(&req, FELICA_ISS_WRITE_CARD, 0, 0, 0);
    felica_image_t *intended = intended_after(base_img, &req, &tr);
    felica_chip_t *chip = disk_chip(base_img);
    unsigned cases = 0;
    for (unsigned k = 0; k < tr.n; k++) {
        for (int d = 0; d < 2; d++) {
            size_t len = 1;
            for (size_t pos = 0; pos < len; pos++) {
                int done = flipped_write(chip, k, d, pos, &len, intended);
                ck_assert_int_ge(done, 0);
                cases++;
                if (done) {
                    /* only the last response can be damaged after the chip wrote */
                    ck_assert_msg(k == tr.n - 1 && d == 1, "exchange %u byte %zu wrote", k, pos);
                    assert_chip_data(chip, intended, "write response flipped");
                    felica_chip_free(chip);
                    chip = disk_chip(base_img);
                } else {
                    assert_chip_data(chip, base_img, "flip");
                }
            }
        }
    }
    ck_assert_uint_gt(cases, 300);
    /* after all that, an honest write still works */
    ck_assert_int_eq(fx_run(chip, &req, NULL), FELICA_OK);
    assert_chip_data(chip, intended, "honest write");
    free_image(intended);
    felica_chip_free(chip);
}
END_TEST

/* Relay recorded commands to the chip, responses discarded. */
static void relay_all(felica_chip_t *chip, const pkt_t *cmds, const unsigned *order, unsigned n)
{
    pkt_t r;
    for (unsigned i = 0; i < n; i++)
        fx_relay(chip, cmds[order[i]].b, cmds[order[i]].len, r.b, &r.len);
}

START_TEST(test_old_session_replayed)
{
    felica_iss_request_t req;
    static const unsigned in_order[] = { 0, 1, 2, 3 };
    fx_request(&req, FELICA_ISS_WRITE_CARD, 0, 0, 0);
    felica_chip_t *chip = disk_chip(base_img);
    /* a genuine write, recorded by the relay, then the card is deleted */
    felica_issuance_t *s = new_session(&req);
    trace_t rec = { 0 };
    while (felica_issuance_state(s) == FELICA_ISS_RUNNING) {
        exchange(s, chip, &rec.cmd[rec.n], &rec.res[rec.n]);
        rec.n++;
    }
    felica_issuance_free(s);
    ck_assert_uint_eq(rec.n, 4);
    ck_assert_int_eq(fx_run_op(chip, FELICA_ISS_DELETE_CARD, 0, 0, 0), FELICA_OK);
    felica_image_t *before = image_on_disk();
    /* the relay plays the recording back: the chip's new challenge defeats it */
    relay_all(chip, rec.cmd, in_order, rec.n);
    assert_chip_data(chip, before, "old session replayed");
    ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
    free_image(before);
    felica_chip_free(chip);
}
END_TEST

START_TEST(test_packets_replayed_within_session)
{
    felica_iss_request_t req;
    trace_t tr;
    fx_request(&req, FELICA_ISS_WRITE_CARD, 0, 0, 0);
    felica_image_t *intended = intended_after(base_img, &req, &tr);
    felica_chip_t *chip = disk_chip(base_img);
    for (unsigned k = 1; k < tr.n; k++) {
        for (unsigned j = 0; j < k; j++) {
            /* toward the chip: an earlier command instead of the due one */
            felica_issuance_t *s = new_session(&req);
            pkt_t c[MAX_EXCHANGES], r[MAX_EXCHANGES], due, res;
            for (unsigned i = 0; i < k; i++)
                exchange(s, chip, &c[i], &r[i]);
            ck_assert_int_eq(felica_issuance_next(s, due.b, sizeof due.b, &due.len), FELICA_OK);
            fx_relay(chip, c[j].b, c[j].len, res.b, &res.len);
            ck_assert_int_ne(felica_issuance_consume(s, res.b, res.len), FELICA_OK);
            if (j > 0)          /* a replayed Auth1 is a new Auth1: mode 1, dead channel */
                ck_assert_int_eq(felica_chip_mode(chip), FELICA_MODE_0);
            /* the due command, late, finds the channel gone */
            fx_relay(chip, due.b, due.len, res.b, &res.len);
            ck_assert_int_ne(felica_chip_mode(chip), FELICA_MODE_2);
            assert_chip_data(chip, base_img, "command replayed");
            felica_issuance_free(s);

            /* toward the host: an earlier response instead of the due one */
            s = new_session(&req);
            for (unsigned i = 0; i < k; i++)
                exchange(s, chip, &c[i], &r[i]);
            ck_assert_int_eq(felica_issuance_next(s, due.b, sizeof due.b, &due.len), FELICA_OK);
            fx_relay(chip, due.b, due.len, res.b, &res.len);
            ck_assert_int_ne(felica_issuance_consume(s, r[j].b, r[j].len), FELICA_OK);
            ck_assert_int_eq(felica_issuance_state(s), FELICA_ISS_FAILED);
            felica_issuance_free(s);
            if (k == tr.n - 1) {        /* the write itself was delivered */
                assert_chip_data(chip, intended, "response replayed after write");
                felica_chip_free(chip);
                chip = disk_chip(base_img);
            } else {
                assert_chip_data(chip, base_img, "response replayed");
            }
        }
    }
    free_image(intended);
    felica_chip_free(chip);
}
END_TEST

START_TEST(test_packets_swapped)
{
    felica_iss_request_t req;
    trace_t tr;
    fx_request(&req, FELICA_ISS_WRITE_CARD, 0, 0, 0);
    /* the commands of a session as they would go to a chip in base_img's state */
    felica_image_t *intended = intended_after(base_img, &req, &tr);
    ck_assert_uint_eq(tr.n, 4);
    for (unsigned i = 0; i + 1 < tr.n; i++) {
        for (unsigned j = i + 1; j < tr.n; j++) {
            unsigned order[] = { 0, 1, 2, 3 };
            order[i] = j;
            order[j] = i;
            felica_chip_t *chip = disk_chip(base_img);
            relay_all(chip, tr.cmd, order, tr.n);
            assert_chip_data(chip, base_img, "swapped");
            ck_assert_int_ne(felica_chip_mode(chip), FELICA_MODE_2);
            felica_chip_free(chip);
        }
    }
    /* the same commands in order do write: the refusals above came from the order */
    static const unsigned in_order[] = { 0, 1, 2, 3 };
    felica_chip_t *chip = disk_chip(base_img);
    relay_all(chip, tr.cmd, in_order, tr.n);
    assert_chip_data(chip, intended, "in order");
    free_image(intended);
    felica_chip_free(chip);
}
END_TEST

/* Cut req off after `delivered` commands reached the chip; the chip reloaded
 * from its file holds either the old or the intended data. */
static void interrupted(const felica_image_t *start, const felica_iss_request_t *req, const char *what)
{
    trace_t tr;
    felica_image_t *intended = intended_after(start, req, &tr);
    for (unsigned delivered = 0; delivered <= tr.n; delivered++) {
        felica_chip_t *chip = disk_chip(start);
        felica_issuance_t *s = new_session(req);
        pkt_t c, r;
        for (unsigned i = 0; i < delivered; i++) {
            ck_assert_int_eq(felica_issuance_next(s, c.b, sizeof c.b, &c.len), FELICA_OK);
            fx_relay(chip, c.b, c.len, r.b, &r.len);
            if (i + 1 < delivered)      /* the last response is lost */
                ck_assert_int_eq(felica_issuance_consume(s, r.b, r.len), FELICA_OK);
        }
        felica_issuance_free(s);
        chip = reopen(chip);
        const felica_image_t *now = felica_chip_image(chip);
        ck_assert_msg(same_area(now, delivered == tr.n ? intended : start),
                      "%s cut after %u of %u commands", what, delivered, tr.n);
        /* and the chip works on: a listing succeeds or finds no area */
        int rc = fx_run_op(chip, FELICA_ISS_READ_CARDS, 0, 0, 0);
        ck_assert(rc == FELICA_OK || (rc == FELICA_ERR_NOT_FOUND && fx_area(chip) == NULL));
        felica_chip_free(chip);
    }
    free_image(intended);
}

START_TEST(test_interrupted_operations)
{
    felica_iss_request_t req;
    felica_image_t fresh;
    fx_image(&fresh);
    fx_request(&req, FELICA_ISS_ISSUE_AREA, 0, 0, 0);
    interrupted(&fresh, &req, "issue area");
    fx_request(&req, FELICA_ISS_WRITE_CARD, 0, 0, 0);
    interrupted(base_img, &req, "write card");
    /* a chip with a card: update, set main, delete it, delete the area */
    felica_image_t *one = intended_after(base_img, &req, NULL);
    fx_request(&req, FELICA_ISS_WRITE_CARD, 1, 1, 0);
    felica_image_t *two = intended_after(one, &req, NULL);
    fx_request(&req, FELICA_ISS_UPDATE_CARD, 0, 0, 0);
    strcpy(req.card.expiry, "3311");
    interrupted(two, &req, "update card");
    fx_request(&req, FELICA_ISS_SET_MAIN, 1, 0, 0);
    interrupted(two, &req, "set main");
    fx_request(&req, FELICA_ISS_DELETE_CARD, 0, 0, 0);
    interrupted(two, &req, "delete card");
    fx_request(&req, FELICA_ISS_DELETE_AREA, 0, 0, 0);
    interrupted(two, &req, "delete area");
    free_image(one);
    free_image(two);
}
END_TEST

static Suite *e2e_suite(void)
{
    Suite *s = suite_create("e2e");
    TCase *tc = tcase_create("host-vs-chip");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_card_life);
    tcase_add_test(tc, test_every_byte_flip_detected);
    tcase_add_test(tc, test_old_session_replayed);
    tcase_add_test(tc, test_packets_replayed_within_session);
    tcase_add_test(tc, test_packets_swapped);
    tcase_add_test(tc, test_interrupted_operations);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(e2e_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
