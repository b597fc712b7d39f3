/* test_image.c: the chip image format and its atomic persistence: round
 * trips, every truncation and every byte flip refused, a simulated crash
 * after every possible byte count leaves the old image intact. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "felica_image.h"
#include "felica_image_fault.h"

static const uint8_t IDM[8] = { 0x01, 0x2E, 0x4C, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t PMM[8] = { 0x00, 0xF1, 0x00, 0x00, 0x00, 0x01, 0x43, 0x00 };
static char tmpdir[256];
static char image_path[300];

static felica_keyset_t keyset(uint8_t kvn, uint8_t fill)
{
    felica_keyset_t k;

    k.kvn = kvn;
    memset(k.enc, fill, 16);
    memset(k.mac, fill + 1, 16);
    memset(k.dek, fill + 2, 16);
    return k;
}

/* A small chip: system keys, one keyed area, one plain info area. */
static void sample_image(felica_image_t *img, uint8_t fill)
{
    felica_keyset_t sys = keyset(1, 0x10), area = keyset(2, 0x20);
    felica_area_state_t *a;

    felica_image_init(img, IDM, PMM, 0x88B4);
    img->seq_counter = 5;
    ck_assert_int_eq(felica_image_add_keyset(img, FELICA_AREA_SYSTEM, &sys), FELICA_OK);
    ck_assert_int_eq(felica_image_add_area(img, 0x1000, FELICA_ACCESS_KEYED, 2), FELICA_OK);
    ck_assert_int_eq(felica_image_add_keyset(img, 0x1000, &area), FELICA_OK);
    ck_assert_int_eq(felica_image_add_area(img, 0x0040, FELICA_ACCESS_PLAIN_RO, 1), FELICA_OK);
    a = felica_image_find_area(img, 0x1000);
    memset(a->blocks[1], fill, FELICA_BLOCK_LEN);
}

static size_t encode(const felica_image_t *img, uint8_t **buf)
{
    size_t len = 0;

    *buf = malloc(FELICA_IMAGE_MAX_LEN);
    ck_assert_ptr_nonnull(*buf);
    ck_assert_int_eq(felica_image_encode(img, *buf, FELICA_IMAGE_MAX_LEN, &len), FELICA_OK);
    return len;
}

/* Rewrite the checksum so that only the content check can refuse a change. */
static void reseal(uint8_t *buf, size_t len)
{
    unsigned int n = 0;

    ck_assert_int_eq(EVP_Digest(buf, len - 32, buf + len - 32, &n, EVP_sha256(), NULL), 1);
}

static void setup(void)
{
    const char *base = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/idgw-image-XXXXXX", base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(image_path, sizeof(image_path), "%s/chip.img", tmpdir);
}

static int count_dir_entries(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Remove leftovers of simulated crashes (temporary files). */
static void remove_temp_files(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[600];

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.") != NULL) {
            snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
    closedir(d);
}

static void teardown(void)
{
    remove_temp_files();
    unlink(image_path);
    rmdir(tmpdir);
}

static void assert_same_image(const felica_image_t *a, const felica_image_t *b)
{
    uint8_t *ba, *bb;
    size_t la = encode(a, &ba), lb = encode(b, &bb);

    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(ba, bb, la);
    free(ba);
    free(bb);
}

START_TEST(memory_round_trip)
{
    static felica_image_t img, back;
    uint8_t *buf;
    size_t len;

    sample_image(&img, 0x5A);
    len = encode(&img, &buf);
    ck_assert_mem_eq(buf, "IDGWCHIP", 8);
    ck_assert_int_eq(felica_image_decode(buf, len, &back), FELICA_OK);
    ck_assert_mem_eq(back.idm, IDM, 8);
    ck_assert_uint_eq(back.system_code, 0x88B4);
    ck_assert_uint_eq(back.seq_counter, 5);
    ck_assert_uint_eq(back.n_areas, 2);
    ck_assert_uint_eq(felica_image_find_area(&back, 0x1000)->blocks[1][7], 0x5A);
    ck_assert_ptr_nonnull(felica_image_find_keyset(&back, 0x1000, 2));
    ck_assert_ptr_null(felica_image_find_keyset(&back, 0x1000, 1));
    ck_assert_ptr_nonnull(felica_image_find_keyset(&back, FELICA_AREA_SYSTEM, 1));
    assert_same_image(&img, &back);
    free(buf);
}
END_TEST

START_TEST(file_round_trip_mode_0600)
{
    static felica_image_t img, back;
    struct stat st;

    sample_image(&img, 0x33);
    ck_assert_int_eq(felica_image_save(image_path, &img), FELICA_OK);
    ck_assert_int_eq(stat(image_path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(felica_image_load(image_path, &back), FELICA_OK);
    assert_same_image(&img, &back);
    ck_assert_int_eq(count_dir_entries(), 1);     /* no temporary file left */
}
END_TEST

START_TEST(every_truncation_refused)
{
    static felica_image_t img, back;
    uint8_t *buf;
    size_t len, cut;

    sample_image(&img, 0x01);
    len = encode(&img, &buf);
    for (cut = 0; cut < len; cut++)
        ck_assert_int_eq(felica_image_decode(buf, cut, &back), FELICA_ERR_CORRUPT);
    free(buf);
}
END_TEST

START_TEST(every_byte_flip_refused)
{
    static felica_image_t img, back;
    uint8_t *buf;
    size_t len, i;
    int bit, rc;

    sample_image(&img, 0x02);
    len = encode(&img, &buf);
    for (i = 0; i < len; i++) {
        for (bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1u << bit);
            rc = felica_image_decode(buf, len, &back);
            ck_assert_msg(rc == FELICA_ERR_CORRUPT || rc == FELICA_ERR_VERSION,
                          "flip at %zu bit %d: %d", i, bit, rc);
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    ck_assert_int_eq(felica_image_decode(buf, len, &back), FELICA_OK);
    free(buf);
}
END_TEST

START_TEST(appended_byte_and_version_refused)
{
    static felica_image_t img, back;
    uint8_t *buf;
    size_t len;

    sample_image(&img, 0x03);
    len = encode(&img, &buf);
    buf[len] = 0;
    ck_assert_int_eq(felica_image_decode(buf, len + 1, &back), FELICA_ERR_CORRUPT);
    buf[9] = 2;                       /* version 2, correctly sealed */
    reseal(buf, len);
    ck_assert_int_eq(felica_image_decode(buf, len, &back), FELICA_ERR_VERSION);
    free(buf);
}
END_TEST

/* Sealed content that breaks an invariant is still refused. */
START_TEST(sealed_bad_content_refused)
{
    static felica_image_t img, back;
    uint8_t *buf;
    size_t len;
    const size_t seq_off = 16 + 8 + 8 + 2;

    sample_image(&img, 0x04);
    len = encode(&img, &buf);
    buf[seq_off] = 0x01;              /* counter 0x01000005 > 24 bits */
    reseal(buf, len);
    ck_assert_int_eq(felica_image_decode(buf, len, &back), FELICA_ERR_CORRUPT);
    free(buf);

    sample_image(&img, 0x04);
    img.areas[1].code = 0x1000;       /* duplicate area code */
    ck_assert_int_eq(felica_image_encode(&img, (uint8_t[4096]){0}, 4096, &len), FELICA_ERR_BAD_PARAM);
    sample_image(&img, 0x04);
    img.areas[0].n_keysets = 0;       /* keyed area without keys */
    ck_assert_int_eq(felica_image_validate(&img), FELICA_ERR_CORRUPT);
}
END_TEST

START_TEST(model_limits)
{
    static felica_image_t img;
    felica_keyset_t k = keyset(1, 0);
    uint16_t code;

    felica_image_init(&img, IDM, PMM, 0x88B4);
    ck_assert_int_eq(felica_image_add_area(&img, 0x1001, FELICA_ACCESS_KEYED, 1), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_image_add_area(&img, 0x0000, FELICA_ACCESS_KEYED, 1), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_image_add_area(&img, 0x1000, FELICA_ACCESS_KEYED, 0), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_image_add_area(&img, 0x1000, FELICA_ACCESS_KEYED, 257), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_image_add_area(&img, 0x1000, FELICA_ACCESS_KEYED, 256), FELICA_OK);
    ck_assert_int_eq(felica_image_add_area(&img, 0x1000, FELICA_ACCESS_KEYED, 1), FELICA_ERR_EXISTS);
    ck_assert_int_eq(felica_image_add_keyset(&img, 0x1000, &k), FELICA_OK);
    ck_assert_int_eq(felica_image_add_keyset(&img, 0x1000, &k), FELICA_ERR_EXISTS);
    ck_assert_int_eq(felica_image_add_keyset(&img, 0x2000, &k), FELICA_ERR_NOT_FOUND);
    /* the block budget: 256 + 3 * 256 = 1024, then nothing more */
    for (code = 0x2000; code <= 0x4000; code += 0x1000)
        ck_assert_int_eq(felica_image_add_area(&img, code, FELICA_ACCESS_PLAIN_RW, 256), FELICA_OK);
    ck_assert_uint_eq(felica_image_blocks_used(&img), FELICA_CHIP_BLOCK_BUDGET);
    ck_assert_int_eq(felica_image_add_area(&img, 0x5000, FELICA_ACCESS_PLAIN_RW, 1), FELICA_ERR_FULL);
    ck_assert_int_eq(felica_image_add_keyset(&img, 0x2000, &k), FELICA_ERR_BAD_PARAM);
    ck_assert_int_eq(felica_image_delete_area(&img, 0x2000), FELICA_OK);
    ck_assert_int_eq(felica_image_delete_area(&img, 0x2000), FELICA_ERR_NOT_FOUND);
    ck_assert_uint_eq(img.n_areas, 3);
    ck_assert_ptr_nonnull(felica_image_find_area(&img, 0x4000));
    ck_assert_int_eq(felica_image_validate(&img), FELICA_OK);
}
END_TEST

START_TEST(crash_at_every_byte_keeps_old_image)
{
    static felica_image_t old_img, new_img, back;
    felica_image_fault_t fault = { -1, 0, -1 };
    uint8_t *buf;
    size_t len;
    long k;

    sample_image(&old_img, 0x11);
    sample_image(&new_img, 0x22);
    new_img.seq_counter = 6;
    ck_assert_int_eq(felica_image_save(image_path, &old_img), FELICA_OK);
    len = encode(&new_img, &buf);
    free(buf);
    for (k = 0; k < (long)len; k++) {
        fault.crash_after_bytes = k;
        ck_assert_int_eq(felica_image_save_faulty(image_path, &new_img, &fault), FELICA_ERR_IO);
        ck_assert_int_eq(felica_image_load(image_path, &back), FELICA_OK);
        assert_same_image(&old_img, &back);
        remove_temp_files();
    }
    /* complete and synced but not yet renamed: still the old image */
    fault.crash_after_bytes = -1;
    fault.crash_before_rename = 1;
    ck_assert_int_eq(felica_image_save_faulty(image_path, &new_img, &fault), FELICA_ERR_IO);
    ck_assert_int_eq(felica_image_load(image_path, &back), FELICA_OK);
    assert_same_image(&old_img, &back);
    /* the leftover temporary file does not stop the next save */
    ck_assert_int_eq(count_dir_entries(), 2);
    ck_assert_int_eq(felica_image_save(image_path, &new_img), FELICA_OK);
    ck_assert_int_eq(felica_image_load(image_path, &back), FELICA_OK);
    assert_same_image(&new_img, &back);
}
END_TEST

START_TEST(failed_write_cleans_up_and_keeps_old_image)
{
    static felica_image_t old_img, new_img, back;
    felica_image_fault_t fault = { -1, 0, -1 };
    uint8_t *buf;
    size_t len;
    long k;

    sample_image(&old_img, 0x44);
    sample_image(&new_img, 0x55);
    len = encode(&new_img, &buf);
    free(buf);
    ck_assert_int_eq(felica_image_save(image_path, &old_img), FELICA_OK);
    for (k = 0; k < (long)len; k++) {
        fault.fail_after_bytes = k;
        ck_assert_int_eq(felica_image_save_faulty(image_path, &new_img, &fault), FELICA_ERR_IO);
        ck_assert_int_eq(count_dir_entries(), 1);
        ck_assert_int_eq(felica_image_load(image_path, &back), FELICA_OK);
        assert_same_image(&old_img, &back);
    }
}
END_TEST

START_TEST(load_errors)
{
    static felica_image_t img;
    char p[400];
    FILE *f;
    int i;

    snprintf(p, sizeof(p), "%s/missing.img", tmpdir);
    ck_assert_int_eq(felica_image_load(p, &img), FELICA_ERR_NOT_FOUND);
    ck_assert_int_eq(felica_image_load(tmpdir, &img), FELICA_ERR_IO);       /* a directory */
    f = fopen(image_path, "wb");
    ck_assert_ptr_nonnull(f);
    for (i = 0; i < FELICA_IMAGE_MAX_LEN + 1; i++)
        fputc('I', f);
    fclose(f);
    ck_assert_int_eq(felica_image_load(image_path, &img), FELICA_ERR_CORRUPT);
    f = fopen(image_path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("IDGWCHIP", f);
    fclose(f);
    ck_assert_int_eq(felica_image_load(image_path, &img), FELICA_ERR_CORRUPT);
    /* save into a directory that does not exist */
    snprintf(p, sizeof(p), "%s/no/such/dir.img", tmpdir);
    sample_image(&img, 0);
    ck_assert_int_eq(felica_image_save(p, &img), FELICA_ERR_IO);
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, memory_round_trip);
    tcase_add_test(tc, file_round_trip_mode_0600);
    tcase_add_test(tc, every_truncation_refused);
    tcase_add_test(tc, every_byte_flip_refused);
    tcase_add_test(tc, appended_byte_and_version_refused);
    tcase_add_test(tc, sealed_bad_content_refused);
    tcase_add_test(tc, model_limits);
    tcase_add_test(tc, crash_at_every_byte_keeps_old_image);
    tcase_add_test(tc, failed_write_cleans_up_and_keeps_old_image);
    tcase_add_test(tc, load_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(image_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
