/* test_relay.c: the gateway's relay checks (felica_relay.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "felica_relay.h"

#define IDM "012e4cd2b3a5c0f1"
#define OTHER_IDM "012e4cd2b3a5c0f2"
#define CMAC "5c0e8d77a1f2b3c4"
#define RMAC "d4c3b2a1f0e9d8c7"
#define ENC_A "3f8a27c1e5d0946b1a7e52c8fd03b691"
#define ENC_B "72c9e0a4d5816f3b2e9c07a1548bf6d3"

static const uint8_t idm[8] = { 0x01, 0x2e, 0x4c, 0xd2, 0xb3, 0xa5, 0xc0, 0xf1 };

/* Packets of docs/libfelica.md, one per class. */
static const struct {
    const char *hex;
    unsigned cls;
} commands[] = {
    { "060088b40103", FELICA_RELAY_POLLING },
    { "0f" "02" IDM "02" "0000" "0b10", FELICA_RELAY_PUBLIC_INFO },
    { "0a" "04" IDM, FELICA_RELAY_PUBLIC_INFO },
    { "0a" "0c" IDM, FELICA_RELAY_PUBLIC_INFO },
    { "15" "06" IDM "02" "0b10" "0910" "02" "8000" "010201", FELICA_RELAY_READ_PLAIN },
    { "20" "08" IDM "01" "0910" "01" "8003" ENC_A, FELICA_RELAY_WRITE_PLAIN },
    { "15" "a0" IDM "01" "ffff" "1122334455667788", FELICA_RELAY_AUTH },
    { "1b" "a2" IDM "33" "0f1e2d3c4b5a6978" CMAC, FELICA_RELAY_AUTH },
    { "24" "a4" IDM "0001" ENC_A CMAC, FELICA_RELAY_SECURE_RW },
    { "34" "a6" IDM "0002" ENC_A ENC_B CMAC, FELICA_RELAY_SECURE_RW },
    { "24" "a8" IDM "0001" ENC_A CMAC, FELICA_RELAY_AREA_ADMIN },
    { "24" "aa" IDM "0002" ENC_B CMAC, FELICA_RELAY_AREA_ADMIN },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;

    ck_assert_uint_le(n, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static int check_cmd(const char *hex, unsigned allowed, size_t max_len)
{
    uint8_t b[300];
    size_t n = unhex(hex, b, sizeof(b));
    return felica_relay_check_command(b, n, idm, allowed, max_len);
}

static int check_res(const char *hex, uint8_t command_code, size_t max_len)
{
    uint8_t b[300];
    size_t n = unhex(hex, b, sizeof(b));
    return felica_relay_check_response(b, n, idm, command_code, max_len);
}

START_TEST(each_class_allowed_alone)
{
    const char *hex = commands[_i].hex;
    unsigned cls = commands[_i].cls;
    uint8_t b[300];

    unhex(hex, b, sizeof(b));
    ck_assert_uint_eq(felica_relay_class(b[1]), cls);
    ck_assert_int_eq(check_cmd(hex, cls, 0), FELICA_OK);
    ck_assert_int_eq(check_cmd(hex, FELICA_RELAY_ALL, FELICA_MAX_FRAME), FELICA_OK);
    /* every other class is refused */
    ck_assert_int_eq(check_cmd(hex, FELICA_RELAY_ALL & ~cls, 0), FELICA_ERR_STATE);
    ck_assert_int_eq(check_cmd(hex, 0, 0), FELICA_ERR_STATE);
}
END_TEST

START_TEST(command_wrong_idm)
{
    ck_assert_int_eq(check_cmd("24" "a6" OTHER_IDM "0001" ENC_A CMAC, FELICA_RELAY_ALL, 0),
                     FELICA_ERR_WRONG_IDM);
    ck_assert_int_eq(check_cmd("0a" "04" OTHER_IDM, FELICA_RELAY_PUBLIC_INFO, 0), FELICA_ERR_WRONG_IDM);
    /* Polling is addressed to whichever chip is in the field: no IDm to check */
    ck_assert_int_eq(check_cmd("0600ffff0000", FELICA_RELAY_POLLING, 0), FELICA_OK);
    ck_assert_int_eq(felica_relay_check_command((const uint8_t *)"\x0a\x04", 2, NULL,
                                                FELICA_RELAY_ALL, 0), FELICA_ERR_BAD_PARAM);
}
END_TEST

START_TEST(command_oversize)
{
    const char *sw = "34" "a6" IDM "0002" ENC_A ENC_B CMAC;    /* 52 bytes */

    ck_assert_int_eq(check_cmd(sw, FELICA_RELAY_SECURE_RW, 52), FELICA_OK);
    ck_assert_int_eq(check_cmd(sw, FELICA_RELAY_SECURE_RW, 51), FELICA_ERR_OVERSIZE);
    /* the limit is checked before parsing: even garbage is just too long */
    uint8_t big[300];
    memset(big, 0xee, sizeof(big));
    ck_assert_int_eq(felica_relay_check_command(big, 300, idm, FELICA_RELAY_ALL, 0), FELICA_ERR_OVERSIZE);
    ck_assert_int_eq(felica_relay_check_command(big, 256, idm, FELICA_RELAY_ALL, 1000), FELICA_ERR_OVERSIZE);
    ck_assert_int_eq(felica_relay_check_command(big, 60, idm, FELICA_RELAY_ALL, 40), FELICA_ERR_OVERSIZE);
}
END_TEST

START_TEST(command_malformed)
{
    uint8_t b[300];
    size_t n = unhex("34" "a6" IDM "0002" ENC_A ENC_B CMAC, b, sizeof(b));

    ck_assert_int_eq(felica_relay_check_command(b, n - 1, idm, FELICA_RELAY_ALL, 0), FELICA_ERR_LEN_MISMATCH);
    b[0] = (uint8_t)(n - 1);
    ck_assert_int_eq(felica_relay_check_command(b, n - 1, idm, FELICA_RELAY_ALL, 0), FELICA_ERR_TRUNCATED);
    ck_assert_int_eq(check_cmd("0e" "06" IDM "01" "0b10" "00", FELICA_RELAY_ALL, 0), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(check_cmd("0a" "0e" IDM, FELICA_RELAY_ALL, 0), FELICA_ERR_BAD_CODE);
    ck_assert_int_eq(felica_relay_check_command(b, 0, idm, FELICA_RELAY_ALL, 0), FELICA_ERR_TRUNCATED);
    /* a response is never relayed towards the chip */
    ck_assert_int_eq(check_cmd("0b" "05" IDM "00", FELICA_RELAY_ALL, 0), FELICA_ERR_BAD_CODE);
    ck_assert_int_eq(check_cmd("0c" "a7" IDM "ff" "c0", FELICA_RELAY_ALL, 0), FELICA_ERR_BAD_CODE);
}
END_TEST

START_TEST(response_ok)
{
    ck_assert_int_eq(check_res("26" "a7" IDM "0000" "0002" ENC_A RMAC, FELICA_CMD_SECURE_WRITE, 0), FELICA_OK);
    ck_assert_int_eq(check_res("0c" "a7" IDM "ff" "c0", FELICA_CMD_SECURE_WRITE, 0), FELICA_OK);
    ck_assert_int_eq(check_res("12" "01" IDM "0120220427674eff", FELICA_CMD_POLLING, 0), FELICA_OK);
    ck_assert_int_eq(check_res("0b" "05" IDM "01", FELICA_CMD_REQUEST_RESPONSE, 11), FELICA_OK);
}
END_TEST

START_TEST(response_code_mismatch)
{
    /* an Auth1 answer where the Auth2 answer belongs: reordered or forged */
    ck_assert_int_eq(check_res("0c" "a1" IDM "ff" "c0", FELICA_CMD_AUTH2, 0), FELICA_ERR_BAD_CODE);
    /* a command echoed back instead of an answer */
    ck_assert_int_eq(check_res("24" "a6" IDM "0002" ENC_A CMAC, FELICA_CMD_SECURE_WRITE, 0),
                     FELICA_ERR_BAD_CODE);
    ck_assert_int_eq(check_res("26" "a5" IDM "0000" "0002" ENC_A RMAC, FELICA_CMD_SECURE_WRITE, 0),
                     FELICA_ERR_BAD_CODE);
    /* the caller must name a command */
    ck_assert_int_eq(check_res("26" "a7" IDM "0000" "0002" ENC_A RMAC, FELICA_CMD_SECURE_WRITE + 1, 0),
                     FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(check_res("0b" "0f" IDM "00", 0x0e, 0), FELICA_ERR_BAD_PARAM);
}
END_TEST

START_TEST(response_other_idm)
{
    ck_assert_int_eq(check_res("26" "a7" OTHER_IDM "0000" "0002" ENC_A RMAC, FELICA_CMD_SECURE_WRITE, 0),
                     FELICA_ERR_WRONG_IDM);
    ck_assert_int_eq(check_res("12" "01" OTHER_IDM "0120220427674eff", FELICA_CMD_POLLING, 0),
                     FELICA_ERR_WRONG_IDM);
}
END_TEST

START_TEST(response_malformed_or_oversize)
{
    ck_assert_int_eq(check_res("26" "a7" IDM "0000" "0002" ENC_A RMAC, FELICA_CMD_SECURE_WRITE, 37),
                     FELICA_ERR_OVERSIZE);
    ck_assert_int_eq(check_res("25" "a7" IDM "0000" "0002" ENC_A "d4c3b2a1f0e9d8", FELICA_CMD_SECURE_WRITE, 0),
                     FELICA_ERR_TRUNCATED);
    ck_assert_int_eq(check_res("27" "a7" IDM "0000" "0002" ENC_A RMAC, FELICA_CMD_SECURE_WRITE, 0),
                     FELICA_ERR_LEN_MISMATCH);
    ck_assert_int_eq(check_res("0c" "a7" IDM "00" "00", FELICA_CMD_SECURE_WRITE, 0), FELICA_ERR_TRUNCATED);
    ck_assert_int_eq(felica_relay_check_response((const uint8_t *)"\x0c", 1, NULL,
                                                 FELICA_CMD_SECURE_WRITE, 0), FELICA_ERR_BAD_PARAM);
}
END_TEST

START_TEST(class_of_codes)
{
    ck_assert_uint_eq(felica_relay_class(FELICA_CMD_CREATE_AREA), FELICA_RELAY_AREA_ADMIN);
    ck_assert_uint_eq(felica_relay_class(FELICA_CMD_AUTH1 + 1), 0);
    ck_assert_uint_eq(felica_relay_class(0x0e), 0);
    /* every class bit is used by some command, and only one per command */
    unsigned seen = 0;
    for (unsigned c = 0; c < 256; c++) {
        unsigned cls = felica_relay_class((uint8_t)c);
        ck_assert_uint_eq(cls & (cls - 1), 0);
        seen |= cls;
    }
    ck_assert_uint_eq(seen, FELICA_RELAY_ALL);
}
END_TEST

static Suite *relay_suite(void)
{
    Suite *s = suite_create("felica_relay");
    TCase *tc = tcase_create("relay");

    tcase_add_loop_test(tc, each_class_allowed_alone, 0, N_COMMANDS);
    tcase_add_test(tc, command_wrong_idm);
    tcase_add_test(tc, command_oversize);
    tcase_add_test(tc, command_malformed);
    tcase_add_test(tc, response_ok);
    tcase_add_test(tc, response_code_mismatch);
    tcase_add_test(tc, response_other_idm);
    tcase_add_test(tc, response_malformed_or_oversize);
    tcase_add_test(tc, class_of_codes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(relay_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
