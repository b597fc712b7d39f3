/* test_card.c: the iD card layout: record <-> blocks round trips, Luhn, BCD,
 * every bad field refused, and the masked view shows only the last four digits. */
#define _GNU_SOURCE                     /* memmem */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "felica_card.h"

typedef uint8_t slot_blocks_t[FELICA_CARD_SLOT_BLOCKS][FELICA_BLOCK_LEN];

/* A Luhn-valid PAN of n digits from a digit pattern. */
static void make_pan(char *pan, size_t n, unsigned seed)
{
    for (size_t i = 0; i + 1 < n; i++)
        pan[i] = (char)('0' + (seed + i * 7) % 10);
    pan[0] = '4';
    pan[n - 1] = '0';
    pan[n] = '\0';
    for (int d = 0; d < 10; d++) {
        pan[n - 1] = (char)('0' + d);
        if (felica_card_pan_valid(pan))
            return;
    }
}

static void good_card(felica_card_t *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->pan, "4111111111111111");
    strcpy(c->expiry, "2712");
    strcpy(c->name, "TARO YAMADA");
    c->issuer_id = 0x00010203;
    c->status = FELICA_CARD_ACTIVE;
    c->display.issuer_id = 0x00010203;
    c->display.version = 7;
}

static void assert_same_input(const felica_card_t *a, const felica_card_t *b)
{
    ck_assert_str_eq(a->pan, b->pan);
    ck_assert_str_eq(a->expiry, b->expiry);
    ck_assert_str_eq(a->name, b->name);
    ck_assert_uint_eq(a->issuer_id, b->issuer_id);
    ck_assert_uint_eq(a->status, b->status);
    ck_assert_uint_eq(a->display.issuer_id, b->display.issuer_id);
    ck_assert_uint_eq(a->display.version, b->display.version);
}

START_TEST(test_luhn_known)
{
    ck_assert(felica_card_pan_valid("4111111111111111"));
    ck_assert(felica_card_pan_valid("5500000000000004"));
    ck_assert(felica_card_pan_valid("378282246310005"));
    ck_assert(felica_card_pan_valid("4222222222222"));
    ck_assert(!felica_card_pan_valid("4111111111111112"));
    ck_assert(!felica_card_pan_valid("5500000000000005"));
    ck_assert(!felica_card_pan_valid("411111111111111a"));
    ck_assert(!felica_card_pan_valid("41111111111 1111"));
    ck_assert(!felica_card_pan_valid(""));
    ck_assert(!felica_card_pan_valid(NULL));
    /* 11 and 20 digits are out of range even when Luhn-valid */
    char pan[32];
    make_pan(pan, 11, 3);
    ck_assert(!felica_card_pan_valid(pan));
    make_pan(pan, 20, 3);
    ck_assert(!felica_card_pan_valid(pan));
}
END_TEST

START_TEST(test_luhn_every_single_digit_error)
{
    /* Luhn catches every single-digit substitution */
    char pan[] = "4111111111111111";
    for (size_t i = 0; i < strlen(pan); i++) {
        char orig = pan[i];
        for (char d = '0'; d <= '9'; d++) {
            if (d == orig)
                continue;
            pan[i] = d;
            ck_assert_msg(!felica_card_pan_valid(pan), "position %zu digit %c", i, d);
        }
        pan[i] = orig;
    }
}
END_TEST

START_TEST(test_expiry_and_name)
{
    ck_assert(felica_card_expiry_valid("2512"));
    ck_assert(felica_card_expiry_valid("0001"));
    ck_assert(!felica_card_expiry_valid("2513"));
    ck_assert(!felica_card_expiry_valid("2500"));
    ck_assert(!felica_card_expiry_valid("251"));
    ck_assert(!felica_card_expiry_valid("25121"));
    ck_assert(!felica_card_expiry_valid("25a2"));
    ck_assert(felica_card_name_valid("A"));
    ck_assert(felica_card_name_valid("O'NEIL/J.-P. 2ND"));
    ck_assert(felica_card_name_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    ck_assert(!felica_card_name_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZA"));
    ck_assert(!felica_card_name_valid(""));
    ck_assert(!felica_card_name_valid("Taro"));
    ck_assert(!felica_card_name_valid(" TARO"));
    ck_assert(!felica_card_name_valid("TARO "));
    ck_assert(!felica_card_name_valid("TA\tRO"));
    ck_assert(!felica_card_name_valid("TA\x7FRO"));
    ck_assert(!felica_card_name_valid("TA\xC3\x89RO"));
}
END_TEST

START_TEST(test_round_trip_every_pan_length)
{
    for (size_t n = FELICA_CARD_PAN_MIN; n <= FELICA_CARD_PAN_MAX; n++) {
        felica_card_t in, out;
        slot_blocks_t blocks;
        good_card(&in);
        make_pan(in.pan, n, (unsigned)n);
        ck_assert(felica_card_pan_valid(in.pan));
        memset(in.name, 'N', n + 7 > 26 ? 26 : n + 7);
        in.name[n + 7 > 26 ? 26 : n + 7] = '\0';
        in.status = (uint8_t)(1 + n % 3);
        ck_assert_int_eq(felica_card_to_blocks(&in, FELICA_CARD_OP_UPDATE, (uint32_t)n * 1000, blocks),
                         FELICA_OK);
        ck_assert_int_eq(felica_card_from_blocks(blocks, &out), FELICA_OK);
        assert_same_input(&in, &out);
        ck_assert_str_eq(out.last4, in.pan + n - 4);
        ck_assert_uint_eq(out.last_op, FELICA_CARD_OP_UPDATE);
        ck_assert_uint_eq(out.last_seq, n * 1000);
    }
}
END_TEST

START_TEST(test_block_layout_bytes)
{
    felica_card_t in;
    slot_blocks_t b;
    good_card(&in);
    ck_assert_int_eq(felica_card_to_blocks(&in, FELICA_CARD_OP_WRITE, 0x01020304, b), FELICA_OK);
    static const uint8_t profile[16] = { 'C', 1, 0x00, 0x01, 0x02, 0x03, 16, 11 };
    static const uint8_t pan[16] = { 0x41, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                     0xFF, 0xFF, 0x27, 0x12 };
    static const uint8_t status[16] = { 1, '1', '1', '1', '1', 0, 1, 2, 3, 0, 1, 2, 3, 0, 7, 0 };
    static const uint8_t history[16] = { 1, 1, 2, 3, 4 };
    ck_assert_mem_eq(b[FELICA_CARD_BLK_PROFILE], profile, 16);
    ck_assert_mem_eq(b[FELICA_CARD_BLK_PAN], pan, 16);
    ck_assert_mem_eq(b[FELICA_CARD_BLK_NAME], "TARO YAMADA\0\0\0\0\0", 16);
    ck_assert_mem_eq(b[FELICA_CARD_BLK_STATUS], status, 16);
    ck_assert_mem_eq(b[FELICA_CARD_BLK_HISTORY], history, 16);
    ck_assert_uint_eq(felica_card_block(0, 0), 1);
    ck_assert_uint_eq(felica_card_block(1, FELICA_CARD_BLK_HISTORY), 12);
}
END_TEST

START_TEST(test_encode_refuses_bad_records)
{
    felica_card_t c;
    slot_blocks_t b;
    struct { const char *what; int field; const char *value; } cases[] = {
        { "luhn", 0, "4111111111111112" }, { "short pan", 0, "41111111111" },
        { "long pan", 0, "41111111111111111113" }, { "pan letter", 0, "411111111111111A" },
        { "month 13", 1, "2713" }, { "month 0", 1, "2700" }, { "expiry len", 1, "271" },
        { "lowercase", 2, "Taro" }, { "empty name", 2, "" }, { "control", 2, "TA\nRO" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        good_card(&c);
        char *field = cases[i].field == 0 ? c.pan : cases[i].field == 1 ? c.expiry : c.name;
        size_t cap = cases[i].field == 0 ? sizeof c.pan : cases[i].field == 1 ? sizeof c.expiry
                                                                             : sizeof c.name;
        snprintf(field, cap, "%s", cases[i].value);
        ck_assert_msg(felica_card_to_blocks(&c, FELICA_CARD_OP_WRITE, 1, b) == FELICA_ERR_BAD_PARAM,
                      "%s accepted", cases[i].what);
    }
    good_card(&c);
    c.issuer_id = 0;
    ck_assert_int_eq(felica_card_to_blocks(&c, FELICA_CARD_OP_WRITE, 1, b), FELICA_ERR_BAD_PARAM);
    good_card(&c);
    c.display.issuer_id = 0;
    ck_assert_int_eq(felica_card_to_blocks(&c, FELICA_CARD_OP_WRITE, 1, b), FELICA_ERR_BAD_PARAM);
    good_card(&c);
    c.status = FELICA_CARD_EMPTY;
    ck_assert_int_eq(felica_card_to_blocks(&c, FELICA_CARD_OP_WRITE, 1, b), FELICA_ERR_BAD_PARAM);
    c.status = 4;
    ck_assert_int_eq(felica_card_to_blocks(&c, FELICA_CARD_OP_WRITE, 1, b), FELICA_ERR_BAD_PARAM);
    good_card(&c);
    ck_assert_int_eq(felica_card_to_blocks(&c, FELICA_CARD_OP_DELETE, 1, b), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_card_to_blocks(&c, 9, 1, b), FELICA_ERR_BAD_PARAM);
}
END_TEST

/* Corrupt one byte of good blocks and expect the given error. */
static void expect_decode(unsigned blk, unsigned off, uint8_t value, int err)
{
    felica_card_t c, out;
    slot_blocks_t b;
    good_card(&c);
    ck_assert_int_eq(felica_card_to_blocks(&c, FELICA_CARD_OP_WRITE, 5, b), FELICA_OK);
    b[blk][off] = value;
    ck_assert_msg(felica_card_from_blocks(b, &out) == err, "block %u byte %u = %02x", blk, off, value);
    if (err != FELICA_OK) {
        static const felica_card_t zero;
        ck_assert_msg(memcmp(&out, &zero, sizeof out) == 0, "failed decode left data behind");
    }
}

START_TEST(test_decode_refuses_bad_fields)
{
    expect_decode(FELICA_CARD_BLK_PROFILE, 0, 'X', FELICA_ERR_CORRUPT);     /* tag */
    expect_decode(FELICA_CARD_BLK_PROFILE, 1, 2, FELICA_ERR_VERSION);       /* format version */
    expect_decode(FELICA_CARD_BLK_PROFILE, 6, 15, FELICA_ERR_CORRUPT);      /* PAN length */
    expect_decode(FELICA_CARD_BLK_PROFILE, 7, 12, FELICA_ERR_CORRUPT);      /* name length */
    expect_decode(FELICA_CARD_BLK_PROFILE, 7, 0, FELICA_ERR_CORRUPT);
    expect_decode(FELICA_CARD_BLK_PROFILE, 15, 1, FELICA_ERR_CORRUPT);      /* reserved */
    expect_decode(FELICA_CARD_BLK_PAN, 0, 0x4A, FELICA_ERR_CORRUPT);        /* BCD nibble A */
    expect_decode(FELICA_CARD_BLK_PAN, 3, 0xB1, FELICA_ERR_CORRUPT);
    expect_decode(FELICA_CARD_BLK_PAN, 7, 0x12, FELICA_ERR_CORRUPT);        /* Luhn broken */
    expect_decode(FELICA_CARD_BLK_PAN, 8, 0xF1, FELICA_ERR_CORRUPT);        /* digit after pad */
    expect_decode(FELICA_CARD_BLK_PAN, 9, 0xFE, FELICA_ERR_CORRUPT);        /* bad pad nibble */
    expect_decode(FELICA_CARD_BLK_PAN, 10, 0x2A, FELICA_ERR_CORRUPT);       /* expiry BCD */
    expect_decode(FELICA_CARD_BLK_PAN, 11, 0x13, FELICA_ERR_CORRUPT);       /* month 13 */
    expect_decode(FELICA_CARD_BLK_PAN, 11, 0x00, FELICA_ERR_CORRUPT);       /* month 0 */
    expect_decode(FELICA_CARD_BLK_PAN, 12, 0x01, FELICA_ERR_CORRUPT);       /* reserved */
    expect_decode(FELICA_CARD_BLK_NAME, 0, 't', FELICA_ERR_CORRUPT);        /* lowercase */
    expect_decode(FELICA_CARD_BLK_NAME, 4, 0x01, FELICA_ERR_CORRUPT);       /* control */
    expect_decode(FELICA_CARD_BLK_NAME + 1, 15, 'X', FELICA_ERR_CORRUPT);   /* past length */
    expect_decode(FELICA_CARD_BLK_STATUS, 0, 4, FELICA_ERR_CORRUPT);        /* status */
    expect_decode(FELICA_CARD_BLK_STATUS, 0, 0, FELICA_ERR_CORRUPT);        /* empty status, data */
    expect_decode(FELICA_CARD_BLK_STATUS, 4, '2', FELICA_ERR_CORRUPT);      /* last4 != PAN */
    expect_decode(FELICA_CARD_BLK_STATUS, 2, 'x', FELICA_ERR_CORRUPT);      /* last4 digit */
    expect_decode(FELICA_CARD_BLK_STATUS, 8, 0x04, FELICA_ERR_CORRUPT);     /* issuer mismatch */
    expect_decode(FELICA_CARD_BLK_STATUS, 15, 1, FELICA_ERR_CORRUPT);       /* reserved */
    expect_decode(FELICA_CARD_BLK_HISTORY, 0, FELICA_CARD_OP_DELETE, FELICA_ERR_CORRUPT);
    expect_decode(FELICA_CARD_BLK_HISTORY, 0, 9, FELICA_ERR_CORRUPT);
    expect_decode(FELICA_CARD_BLK_HISTORY, 10, 1, FELICA_ERR_CORRUPT);
    /* fields that may change and still decode: the display version, the name's letters */
    expect_decode(FELICA_CARD_BLK_STATUS, 14, 9, FELICA_OK);
    expect_decode(FELICA_CARD_BLK_NAME, 0, 'Z', FELICA_OK);
}
END_TEST

START_TEST(test_decode_every_byte_flip)
{
    felica_card_t c, out;
    slot_blocks_t b;
    good_card(&c);
    ck_assert_int_eq(felica_card_to_blocks(&c, FELICA_CARD_OP_WRITE, 5, b), FELICA_OK);
    unsigned refused = 0;
    for (unsigned i = 0; i < sizeof b; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            ((uint8_t *)b)[i] ^= (uint8_t)(1u << bit);
            int rc = felica_card_from_blocks(b, &out);
            if (rc == FELICA_OK)
                ck_assert_int_eq(felica_card_validate(&out), FELICA_OK);
            else
                refused++;
            ((uint8_t *)b)[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* the PAN, lengths, tags and reserved bytes are all guarded */
    ck_assert_uint_gt(refused, sizeof b * 8 / 2);
}
END_TEST

START_TEST(test_empty_slot)
{
    slot_blocks_t b;
    felica_card_t out;
    felica_card_empty_blocks(FELICA_CARD_OP_DELETE, 42, b);
    ck_assert_int_eq(felica_card_from_blocks(b, &out), FELICA_OK);
    ck_assert_uint_eq(out.status, FELICA_CARD_EMPTY);
    ck_assert_uint_eq(out.last_op, FELICA_CARD_OP_DELETE);
    ck_assert_uint_eq(out.last_seq, 42);
    memset(b, 0, sizeof b);
    ck_assert_int_eq(felica_card_from_blocks(b, &out), FELICA_OK);
    ck_assert_uint_eq(out.status, FELICA_CARD_EMPTY);
    b[FELICA_CARD_BLK_HISTORY][0] = FELICA_CARD_OP_WRITE;  /* a write that left nothing */
    ck_assert_int_eq(felica_card_from_blocks(b, &out), FELICA_ERR_CORRUPT);
    memset(b, 0, sizeof b);
    b[FELICA_CARD_BLK_HISTORY][4] = 1;                      /* NONE with a sequence */
    ck_assert_int_eq(felica_card_from_blocks(b, &out), FELICA_ERR_CORRUPT);
}
END_TEST

START_TEST(test_header)
{
    uint8_t blk[16];
    felica_card_header_t h = { .main_slot = 1, .seq = 0xA0B0C0D0, .last_op = FELICA_CARD_OP_UPDATE,
                               .last_slot = 0 }, out;
    ck_assert_int_eq(felica_card_header_encode(&h, blk), FELICA_OK);
    static const uint8_t want[16] = { 'i', 'D', 1, 1, 0xA0, 0xB0, 0xC0, 0xD0, 2, 0 };
    ck_assert_mem_eq(blk, want, 16);
    ck_assert_int_eq(felica_card_header_decode(blk, &out), FELICA_OK);
    ck_assert_uint_eq(out.version, 1);
    ck_assert_uint_eq(out.main_slot, 1);
    ck_assert_uint_eq(out.seq, 0xA0B0C0D0);
    ck_assert_uint_eq(out.last_op, FELICA_CARD_OP_UPDATE);
    ck_assert_uint_eq(out.last_slot, 0);

    blk[2] = 2;
    ck_assert_int_eq(felica_card_header_decode(blk, &out), FELICA_ERR_VERSION);
    blk[2] = 1; blk[0] = 'I';
    ck_assert_int_eq(felica_card_header_decode(blk, &out), FELICA_ERR_CORRUPT);
    blk[0] = 'i'; blk[3] = 2;
    ck_assert_int_eq(felica_card_header_decode(blk, &out), FELICA_ERR_CORRUPT);
    blk[3] = 1; blk[8] = 7;
    ck_assert_int_eq(felica_card_header_decode(blk, &out), FELICA_ERR_CORRUPT);
    blk[8] = 0;                                     /* NONE but a last slot */
    ck_assert_int_eq(felica_card_header_decode(blk, &out), FELICA_ERR_CORRUPT);
    blk[8] = 2; blk[15] = 1;
    ck_assert_int_eq(felica_card_header_decode(blk, &out), FELICA_ERR_CORRUPT);

    memset(blk, 0, sizeof blk);                     /* a fresh area */
    ck_assert_int_eq(felica_card_header_decode(blk, &out), FELICA_OK);
    ck_assert_uint_eq(out.version, 0);
    ck_assert_uint_eq(out.main_slot, FELICA_CARD_NO_SLOT);
    h.main_slot = 2;
    ck_assert_int_eq(felica_card_header_encode(&h, blk), FELICA_ERR_BAD_PARAM);
}
END_TEST

START_TEST(test_area_decode_main)
{
    uint8_t area_blocks[FELICA_CARD_USED_BLOCKS][FELICA_BLOCK_LEN];
    felica_card_t c;
    felica_card_area_t area;
    felica_card_header_t h = { .main_slot = 1, .seq = 3, .last_op = FELICA_CARD_OP_WRITE, .last_slot = 1 };
    memset(area_blocks, 0, sizeof area_blocks);
    good_card(&c);
    ck_assert_int_eq(felica_card_to_blocks(&c, FELICA_CARD_OP_WRITE, 3, area_blocks + felica_card_block(1, 0)),
                     FELICA_OK);
    ck_assert_int_eq(felica_card_header_encode(&h, area_blocks[0]), FELICA_OK);
    ck_assert_int_eq(felica_card_area_decode((const uint8_t (*)[16])area_blocks, &area), FELICA_OK);
    ck_assert_uint_eq(area.card[0].status, FELICA_CARD_EMPTY);
    ck_assert_uint_eq(area.card[1].status, FELICA_CARD_ACTIVE);
    ck_assert_uint_eq(area.card[1].is_main, 1);
    ck_assert_uint_eq(area.card[0].is_main, 0);
    h.main_slot = 0;                                /* main marker on the empty slot */
    ck_assert_int_eq(felica_card_header_encode(&h, area_blocks[0]), FELICA_OK);
    ck_assert_int_eq(felica_card_area_decode((const uint8_t (*)[16])area_blocks, &area),
                     FELICA_ERR_CORRUPT);
}
END_TEST

START_TEST(test_mask_shows_only_last4)
{
    felica_card_t c;
    felica_card_masked_t m, ms;
    slot_blocks_t b;
    good_card(&c);
    strcpy(c.pan, "5500000000000004");
    c.is_main = 1;
    felica_card_mask(&c, &m);
    ck_assert_str_eq(m.last4, "0004");
    ck_assert_uint_eq(m.issuer_id, c.issuer_id);
    ck_assert_uint_eq(m.is_main, 1);
    ck_assert_uint_eq(m.display.version, 7);
    /* nothing else of the PAN or expiry anywhere in the view */
    ck_assert_ptr_null(memmem(&m, sizeof m, "550000", 6));
    ck_assert_ptr_null(memmem(&m, sizeof m, "2712", 4));
    /* the status block alone gives the same view (but the main marker) */
    ck_assert_int_eq(felica_card_to_blocks(&c, FELICA_CARD_OP_WRITE, 1, b), FELICA_OK);
    ck_assert_int_eq(felica_card_status_decode(b[FELICA_CARD_BLK_STATUS], &ms), FELICA_OK);
    ck_assert_str_eq(ms.last4, "0004");
    ck_assert_uint_eq(ms.issuer_id, m.issuer_id);
    ck_assert_uint_eq(ms.display.issuer_id, m.display.issuer_id);
    ck_assert_ptr_null(memmem(b[FELICA_CARD_BLK_STATUS], 16, "550000", 6));
    /* an empty record masks to nothing */
    c.status = FELICA_CARD_EMPTY;
    felica_card_mask(&c, &m);
    ck_assert_str_eq(m.last4, "");
    ck_assert_uint_eq(m.issuer_id, 0);
}
END_TEST

START_TEST(test_wipe)
{
    felica_card_t c;
    static const felica_card_t zero;
    good_card(&c);
    felica_card_wipe(&c);
    ck_assert_mem_eq(&c, &zero, sizeof c);
}
END_TEST

static Suite *card_suite(void)
{
    Suite *s = suite_create("card");
    TCase *tc = tcase_create("layout");
    tcase_add_test(tc, test_luhn_known);
    tcase_add_test(tc, test_luhn_every_single_digit_error);
    tcase_add_test(tc, test_expiry_and_name);
    tcase_add_test(tc, test_round_trip_every_pan_length);
    tcase_add_test(tc, test_block_layout_bytes);
    tcase_add_test(tc, test_encode_refuses_bad_records);
    tcase_add_test(tc, test_decode_refuses_bad_fields);
    tcase_add_test(tc, test_decode_every_byte_flip);
    tcase_add_test(tc, test_empty_slot);
    tcase_add_test(tc, test_header);
    tcase_add_test(tc, test_area_decode_main);
    tcase_add_test(tc, test_mask_shows_only_last4);
    tcase_add_test(tc, test_wipe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(card_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
