/* iss_fixture.c: helpers shared by test_issuance and test_e2e (see iss_fixture.h). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "iss_fixture.h"

const uint8_t fx_idm[FELICA_IDM_LEN] = { 0x01, 0x2E, 0x4C, 0xD1, 0x23, 0x45, 0x67, 0x89 };
const uint8_t fx_seal_key[FELICA_ISS_SEAL_KEY_LEN] = {
    0x5E, 0xA1, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D,
    0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D
};

static void fill(uint8_t *p, uint8_t start)
{
    for (int i = 0; i < 16; i++)
        p[i] = (uint8_t)(start + 17 * i);
}

void fx_keys(felica_iss_keys_t *keys)
{
    memset(keys, 0, sizeof *keys);
    keys->system_master.kvn = 0x30;
    fill(keys->system_master.enc, 0x10);
    fill(keys->system_master.mac, 0x20);
    fill(keys->system_master.dek, 0x30);
    keys->area_master.kvn = FELICA_ID_AREA_KVN;
    fill(keys->area_master.enc, 0x40);
    fill(keys->area_master.mac, 0x50);
    fill(keys->area_master.dek, 0x60);
}

void fx_image(felica_image_t *img)
{
    static const uint8_t pmm[FELICA_PMM_LEN] = { 0x00, 0xF1, 0x00, 0x00, 0x00, 0x01, 0x43, 0x00 };
    felica_iss_keys_t keys;
    felica_keyset_t sys;
    fx_keys(&keys);
    felica_image_init(img, fx_idm, pmm, 0xFE00);
    ck_assert_int_eq(felica_keys_diversify(&keys.system_master, fx_idm, &sys), FELICA_OK);
    ck_assert_int_eq(felica_image_add_keyset(img, FELICA_AREA_SYSTEM, &sys), FELICA_OK);
}

void fx_card(felica_card_t *card, unsigned i)
{
    static const char *pans[] = { "4111111111111111", "5500000000000004", "378282246310005",
                                  "6011000990139424" };
    static const char *names[] = { "TARO YAMADA", "HANAKO SUZUKI", "O'NEIL/J.-P.", "ABCDEFGHIJKLMNOPQRSTUVWXYZ" };
    memset(card, 0, sizeof *card);
    strcpy(card->pan, pans[i % 4]);
    strcpy(card->expiry, i % 2 ? "3001" : "2712");
    strcpy(card->name, names[i % 4]);
    card->issuer_id = 0x1000 + i;
    card->status = FELICA_CARD_ACTIVE;
    card->display.issuer_id = 0x1000 + i;
    card->display.version = (uint16_t)(3 + i);
}

void fx_request(felica_iss_request_t *req, int op, uint8_t slot, unsigned card, uint8_t make_main)
{
    memset(req, 0, sizeof *req);
    req->op = op;
    req->slot = slot;
    req->make_main = make_main;
    if (op == FELICA_ISS_WRITE_CARD || op == FELICA_ISS_UPDATE_CARD)
        fx_card(&req->card, card);
}

void fx_relay(felica_chip_t *chip, const uint8_t *pkt, size_t len, uint8_t *res, size_t *res_len)
{
    *res_len = 0;
    ck_assert_int_eq(felica_chip_process(chip, pkt, len, res, FELICA_MAX_FRAME, res_len), FELICA_OK);
}

int fx_run(felica_chip_t *chip, const felica_iss_request_t *req, felica_issuance_t **out)
{
    felica_iss_keys_t keys;
    felica_issuance_t *s;
    uint8_t pkt[FELICA_MAX_FRAME], res[FELICA_MAX_FRAME];
    size_t len, res_len;
    fx_keys(&keys);
    int rc = felica_issuance_new(&s, fx_idm, &keys, req);
    if (rc != FELICA_OK)
        return rc;
    for (int guard = 0; felica_issuance_state(s) == FELICA_ISS_RUNNING && guard < 16; guard++) {
        if (felica_issuance_next(s, pkt, sizeof pkt, &len) != FELICA_OK)
            break;
        fx_relay(chip, pkt, len, res, &res_len);
        felica_issuance_consume(s, res, res_len);
    }
    ck_assert_int_ne(felica_issuance_state(s), FELICA_ISS_RUNNING);
    rc = felica_issuance_state(s) == FELICA_ISS_DONE ? FELICA_OK : felica_issuance_error(s);
    if (out != NULL)
        *out = s;
    else
        felica_issuance_free(s);
    return rc;
}

int fx_run_op(felica_chip_t *chip, int op, uint8_t slot, unsigned card, uint8_t make_main)
{
    felica_iss_request_t req;
    fx_request(&req, op, slot, card, make_main);
    return fx_run(chip, &req, NULL);
}

const felica_area_state_t *fx_area(const felica_chip_t *chip)
{
    return felica_image_find_area_const(felica_chip_image(chip), FELICA_ID_AREA);
}

void fx_tmpdir(char *dir, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/idgw-iss-XXXXXX", base != NULL ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

void fx_tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}
