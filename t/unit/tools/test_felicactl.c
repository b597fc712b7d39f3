/* test_felicactl.c: felicactl as a user runs it (the binary from the build
 * tree, FELICACTL_PATH): exit codes, image create/show/dump without keys in
 * the output, the emulator over stdin/stdout, decode. */
#include <check.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "felica_image.h"
#include "felica_sc.h"

#ifndef FELICACTL_PATH
#error "FELICACTL_PATH must name the felicactl binary (set in t/unit/chip.mk)"
#endif

extern char **environ;

static char dir[256], keys_path[300], image_path[300], in_path[300], out_path[300], err_path[300];
static char out_text[65536], err_text[65536];

static const char MASTER_ENC[] = "000102030405060708090a0b0c0d0e0f";
static const char MASTER_MAC[] = "404142434445464748494a4b4c4d4e4f";
static const char MASTER_DEK[] = "808182838485868788898a8b8c8d8e8f";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n;

    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Run felicactl with args (NULL-terminated) and stdin text; returns the exit
 * status, stdout in out_text, stderr in err_text. */
static int felicactl(const char *input, const char *const *args)
{
    posix_spawn_file_actions_t fa;
    char *argv[16];
    pid_t pid;
    int status = -1, i;

    write_file(in_path, input ? input : "");
    argv[0] = (char *)FELICACTL_PATH;
    for (i = 0; args[i] != NULL && i < 14; i++)
        argv[i + 1] = (char *)args[i];
    argv[i + 1] = NULL;
    ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
    posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_eq(posix_spawn(&pid, FELICACTL_PATH, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    read_file(out_path, out_text, sizeof(out_text));
    read_file(err_path, err_text, sizeof(err_text));
    return WEXITSTATUS(status);
}

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    char keys[512];

    snprintf(dir, sizeof(dir), "%s/idgw-ctl-XXXXXX", base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(keys_path, sizeof(keys_path), "%s/keys.txt", dir);
    snprintf(image_path, sizeof(image_path), "%s/chip.img", dir);
    snprintf(in_path, sizeof(in_path), "%s/in", dir);
    snprintf(out_path, sizeof(out_path), "%s/out", dir);
    snprintf(err_path, sizeof(err_path), "%s/err", dir);
    snprintf(keys, sizeof(keys), "# test master keys\n\nkvn=02 enc=%s mac=%s dek=%s\n"
             "kvn=01 enc=%s mac=%s dek=%s\n", MASTER_DEK, MASTER_ENC, MASTER_MAC,
             MASTER_ENC, MASTER_MAC, MASTER_DEK);
    write_file(keys_path, keys);
}

static void teardown(void)
{
    unlink(keys_path);
    unlink(image_path);
    unlink(in_path);
    unlink(out_path);
    unlink(err_path);
    rmdir(dir);
}

static int create_image(void)
{
    const char *args[] = { "image", "create", image_path, "--idm", "012E4C1122334455",
                           "--system-master-keys", keys_path, "--kvn", "1", NULL };
    return felicactl(NULL, args);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02X", p[i]);
}

START_TEST(help_and_usage)
{
    const char *help[] = { "help", NULL }, *none[] = { NULL }, *bad[] = { "frobnicate", NULL };

    ck_assert_int_eq(felicactl(NULL, help), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "usage: felicactl"));
    ck_assert_int_eq(felicactl(NULL, none), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "usage: felicactl"));
    ck_assert_int_eq(felicactl(NULL, bad), 1);
}
END_TEST

START_TEST(create_show_dump_never_print_keys)
{
    const char *show[] = { "image", "show", image_path, NULL };
    const char *dump[] = { "image", "dump", image_path, NULL };
    static felica_image_t img;
    char khex[40];
    struct stat st;

    ck_assert_int_eq(create_image(), 0);
    ck_assert_int_eq(stat(image_path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(felica_image_load(image_path, &img), FELICA_OK);
    ck_assert_uint_eq(img.n_sys_keys, 1);
    ck_assert_uint_eq(img.sys_keys[0].kvn, 1);
    ck_assert_uint_eq(img.system_code, 0x88B4);

    ck_assert_int_eq(felicactl(NULL, show), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "idm: 012E4C1122334455"));
    ck_assert_ptr_nonnull(strstr(out_text, "system code: 88B4"));
    ck_assert_ptr_nonnull(strstr(out_text, "sequence counter: 0"));
    ck_assert_ptr_nonnull(strstr(out_text, "system key versions: 01"));
    ck_assert_ptr_nonnull(strstr(out_text, "area 0040"));
    hex(img.sys_keys[0].enc, 16, khex);
    ck_assert_ptr_null(strstr(out_text, khex));
    ck_assert_int_eq(felicactl(NULL, dump), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "0000: 69646777"));   /* "idgw" info block */
    ck_assert_ptr_null(strstr(out_text, khex));
    hex(img.sys_keys[0].dek, 16, khex);
    ck_assert_ptr_null(strstr(out_text, khex));

    /* never replaces an existing chip */
    ck_assert_int_eq(create_image(), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "exists"));
}
END_TEST

START_TEST(create_refuses_bad_input)
{
    const char *no_idm[] = { "image", "create", image_path, "--system-master-keys", keys_path, NULL };
    const char *bad_idm[] = { "image", "create", image_path, "--idm", "012E4C11223344",
                              "--system-master-keys", keys_path, NULL };
    const char *no_kvn[] = { "image", "create", image_path, "--idm", "012E4C1122334455",
                             "--system-master-keys", keys_path, "--kvn", "7", NULL };
    char broken[256];

    ck_assert_int_eq(felicactl(NULL, no_idm), 1);
    ck_assert_int_eq(felicactl(NULL, bad_idm), 2);
    ck_assert_int_eq(felicactl(NULL, no_kvn), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "KVN"));
    /* a malformed key line: refused, and the message does not echo it */
    snprintf(broken, sizeof(broken), "kvn=01 enc=%s mac=%s dek=%.30s\n", MASTER_ENC, MASTER_MAC, MASTER_DEK);
    write_file(keys_path, broken);
    ck_assert_int_eq(create_image(), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "line 1"));
    ck_assert_ptr_null(strstr(err_text, MASTER_ENC));
    ck_assert_int_eq(access(image_path, F_OK), -1);
}
END_TEST

START_TEST(run_emulator)
{
    const char *run[] = { "run", image_path, NULL };
    const char *input =
        "0600FFFF0100\n"                                /* Polling, system code requested */
        "0A04012E4C1122334455\n"                        /* Request Response */
        "not hex\n"
        "0A04012E4C1122334456\n"                        /* another IDm: silence */
        "1006012E4C1122334455014B00018000\n";           /* Read the info block */

    ck_assert_int_eq(create_image(), 0);
    ck_assert_int_eq(felicactl(input, run), 0);
    ck_assert_str_eq(out_text,
                     "1401012E4C112233445500F100000001430088B4\n"
                     "0B05012E4C112233445500\n"
                     "\n"
                     "\n"
                     "1D07012E4C1122334455000001" "69646777206368697020656D75207631\n");
    ck_assert_ptr_nonnull(strstr(err_text, "line 3"));
    ck_assert_int_eq(felicactl("", run), 0);
    ck_assert_str_eq(out_text, "");
    unlink(image_path);
    ck_assert_int_eq(felicactl("", run), 2);
}
END_TEST

START_TEST(decode_packets)
{
    const char *one[] = { "decode", "0600FFFF0100", NULL };
    const char *bad[] = { "decode", "0700FFFF0100", NULL };
    const char *stdin_mode[] = { "decode", NULL };

    ck_assert_int_eq(felicactl(NULL, one), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "Polling"));
    ck_assert_int_eq(felicactl(NULL, bad), 2);
    ck_assert_int_eq(felicactl("0600FFFF0100\n\n0A04012E4C1122334455\n", stdin_mode), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "Polling"));
    ck_assert_ptr_nonnull(strstr(out_text, "idm: 012e4c1122334455"));
    ck_assert_int_eq(felicactl("0600FFFF0100\nxyz\n", stdin_mode), 2);
}
END_TEST

/* docs/libfelica-secure-channel.md, "Session A, counter 2: Secure Read of
 * blocks 0 and 1": the felicactl decode output shown there, verbatim. */
START_TEST(decode_doc_secure_read)
{
    const char *args[] = { "decode",
        "24A4012E4CD300112233000220D7F1A39356A23C2B97B4682597FE66085A3A48BBBC5E0F", NULL };

    ck_assert_int_eq(felicactl(NULL, args), 0);
    ck_assert_str_eq(out_text,
                     "code: 0xa4 (Secure Read)\n"
                     "length: 36\n"
                     "idm: 012e4cd300112233\n"
                     "counter: 2\n"
                     "payload_length: 16 (encrypted)\n"
                     "payload: 20d7f1a39356a23c2b97b4682597fe66\n"
                     "c_mac: 085a3a48bbbc5e0f\n");
}
END_TEST

static Suite *felicactl_suite(void)
{
    Suite *s = suite_create("felicactl");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, help_and_usage);
    tcase_add_test(tc, create_show_dump_never_print_keys);
    tcase_add_test(tc, create_refuses_bad_input);
    tcase_add_test(tc, run_emulator);
    tcase_add_test(tc, decode_packets);
    tcase_add_test(tc, decode_doc_secure_read);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(felicactl_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
