/* gen_session_seeds.c: writes fuzz_session's seed corpus: issuance sessions
 * saved at every step of a few operations run against the chip emulator,
 * each as a sealed blob under the harness's key (first byte 0x00) and as its
 * plaintext body (first byte 0x01).  Not part of the build; to regenerate:
 *   cc -std=gnu11 -I libfelica t/fuzz/gen_session_seeds.c \
 *       $(ls libfelica/felica_[a-z]*.c) -lcrypto -o /tmp/gen_session_seeds
 *   rm -f t/fuzz/corpus/session/* && /tmp/gen_session_seeds t/fuzz/corpus/session */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "felica_issuance_int.h"
#include "felica_chip.h"

static const uint8_t FUZZ_SEAL_KEY[FELICA_ISS_SEAL_KEY_LEN] = {
    'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F',
    'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F'
};
static const uint8_t IDM[8] = { 0x01, 0x2E, 0x4C, 0xD1, 0x23, 0x45, 0x67, 0x89 };

static const char *out_dir;
static unsigned n_files;

static void die(const char *what, int rc)
{
    fprintf(stderr, "gen_session_seeds: %s: %s\n", what, felica_strerror(rc));
    exit(1);
}

static void write_seed(const char *kind, uint8_t door, const uint8_t *p, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s-%02u", out_dir, kind, n_files++);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fputc(door, f) == EOF || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void save_seeds(const felica_issuance_t *s)
{
    uint8_t blob[FELICA_ISS_SAVED_MAX], body[ISS_BODY_LEN];
    size_t len = 0;
    int rc = felica_issuance_save(s, FUZZ_SEAL_KEY, blob, sizeof blob, &len);
    if (rc != FELICA_OK)
        die("save", rc);
    write_seed("sealed", 0x00, blob, len);
    rc = iss_body_encode(s, body);
    if (rc != FELICA_OK)
        die("body", rc);
    write_seed("body", 0x01, body, sizeof body);
}

static void keys(felica_iss_keys_t *k)
{
    memset(k, 0, sizeof *k);
    k->system_master.kvn = 0x30;
    memset(k->system_master.enc, 0x11, 16);
    memset(k->system_master.mac, 0x22, 16);
    memset(k->system_master.dek, 0x33, 16);
    k->area_master.kvn = FELICA_ID_AREA_KVN;
    memset(k->area_master.enc, 0x44, 16);
    memset(k->area_master.mac, 0x55, 16);
    memset(k->area_master.dek, 0x66, 16);
}

/* Run op on chip, saving seeds after creation and after every next/consume. */
static void run(felica_chip_t *chip, int op, uint8_t slot, const char *pan, int seeds)
{
    felica_iss_keys_t k;
    felica_iss_request_t req;
    felica_issuance_t *s;
    uint8_t pkt[FELICA_MAX_FRAME], res[FELICA_MAX_FRAME];
    size_t len, res_len;
    keys(&k);
    memset(&req, 0, sizeof req);
    req.op = op;
    req.slot = slot;
    strcpy(req.card.pan, pan);
    strcpy(req.card.expiry, "2908");
    strcpy(req.card.name, "FUZZ SEED");
    req.card.issuer_id = 0x4242;
    req.card.status = FELICA_CARD_ACTIVE;
    req.card.display.issuer_id = 0x4242;
    req.card.display.version = 1;
    int rc = felica_issuance_new(&s, IDM, &k, &req);
    if (rc != FELICA_OK)
        die("new", rc);
    if (seeds)
        save_seeds(s);
    while (felica_issuance_state(s) == FELICA_ISS_RUNNING) {
        if ((rc = felica_issuance_next(s, pkt, sizeof pkt, &len)) != FELICA_OK)
            die("next", rc);
        if (seeds)
            save_seeds(s);
        rc = felica_chip_process(chip, pkt, len, res, sizeof res, &res_len);
        if (rc != FELICA_OK)
            die("chip", rc);
        if ((rc = felica_issuance_consume(s, res, res_len)) != FELICA_OK)
            die("consume", rc);
        if (seeds)
            save_seeds(s);
    }
    felica_issuance_free(s);
}

int main(int argc, char **argv)
{
    static felica_image_t img;
    static const uint8_t pmm[8] = { 0 };
    felica_iss_keys_t k;
    felica_keyset_t sys;
    felica_chip_t *chip;
    if (argc != 2) {
        fprintf(stderr, "usage: gen_session_seeds DIR\n");
        return 2;
    }
    out_dir = argv[1];
    keys(&k);
    felica_image_init(&img, IDM, pmm, 0xFE00);
    if (felica_keys_diversify(&k.system_master, IDM, &sys) != FELICA_OK
        || felica_image_add_keyset(&img, FELICA_AREA_SYSTEM, &sys) != FELICA_OK
        || felica_chip_new(&img, NULL, &chip) != FELICA_OK)
        die("chip", FELICA_ERR_STATE);
    run(chip, FELICA_ISS_ISSUE_AREA, 0, "", 1);
    run(chip, FELICA_ISS_WRITE_CARD, FELICA_ISS_ANY_SLOT, "4111111111111111", 1);
    run(chip, FELICA_ISS_WRITE_CARD, 1, "5500000000000004", 0);
    run(chip, FELICA_ISS_READ_CARDS_FULL, 0, "", 1);
    run(chip, FELICA_ISS_DELETE_CARD, 0, "", 1);
    felica_chip_free(chip);
    printf("gen_session_seeds: %u seeds in %s\n", n_files, out_dir);
    return 0;
}
