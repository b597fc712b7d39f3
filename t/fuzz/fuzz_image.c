/* fuzz_image.c: libFuzzer harness for the chip image loader and the chip
 * emulator behind it.
 * Build (scripts/idgw-fuzz does this):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I libfelica \
 *         t/fuzz/fuzz_image.c <every libfelica .c file but felicactl.c> -lcrypto -o /tmp/fuzz_image
 *   /tmp/fuzz_image -max_total_time=60 t/fuzz/corpus/image
 * The input is loaded twice: as it is (so the header and checksum checks are
 * exercised) and with its SHA-256 trailer recomputed (so mutations reach the
 * body parser instead of stopping at the checksum).  An image that loads must
 * re-encode to the same bytes; it then becomes a chip (in memory) that gets a
 * few packets addressed to it, built from its own areas and keys' versions.
 * The image holds the chip's keys, so the harness also plays the FeliCa server:
 * it opens the system channel and each keyed area's channel with the host side
 * of felica_sc and sends authentic secure commands whose plaintext payloads
 * are bytes of the input, so the payload decoders and the chip's handlers are
 * fuzzed behind a valid MAC.
 * Invariants: no crash, no out-of-bounds access, no answer longer than a frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "felica_chip.h"
#include "felica_crypto.h"
#include "felica_image.h"
#include "felica_sc.h"

static void exchange(felica_chip_t *chip, const uint8_t *cmd, size_t len)
{
    uint8_t resp[FELICA_MAX_FRAME];
    size_t resp_len = 0;

    if (felica_chip_process(chip, cmd, len, resp, sizeof(resp), &resp_len) != FELICA_OK)
        abort();
    if (resp_len > FELICA_MAX_FRAME || (resp_len > 0 && resp[0] != resp_len))
        abort();
}

/* LEN | code | IDm | body */
static size_t packet(uint8_t *pkt, uint8_t code, const uint8_t *idm, const uint8_t *body, size_t n)
{
    pkt[1] = code;
    memcpy(pkt + 2, idm, 8);
    if (n > 0)
        memcpy(pkt + 10, body, n);
    pkt[0] = (uint8_t)(10 + n);
    return 10 + n;
}

/* Open a channel as the FeliCa server would; 1 when open. */
static int host_auth(felica_chip_t *chip, const uint8_t idm[8], uint16_t area,
                     const felica_keyset_t *keys, felica_sc_t *sc)
{
    static const uint8_t challenge[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    uint8_t cmd[FELICA_MAX_FRAME], resp[FELICA_MAX_FRAME];
    size_t len = 0, rlen = 0;

    if (felica_sc_host_begin(sc, idm, area, keys, challenge) != FELICA_OK
        || felica_sc_host_auth1(sc, cmd, sizeof(cmd), &len) != FELICA_OK
        || felica_chip_process(chip, cmd, len, resp, sizeof(resp), &rlen) != FELICA_OK
        || felica_sc_host_auth1_done(sc, resp, rlen) != FELICA_OK
        || felica_sc_host_auth2(sc, FELICA_SL_FULL, cmd, sizeof(cmd), &len) != FELICA_OK
        || felica_chip_process(chip, cmd, len, resp, sizeof(resp), &rlen) != FELICA_OK
        || felica_sc_host_auth2_done(sc, resp, rlen) != FELICA_OK)
        return 0;
    return 1;
}

/* One authentic secure command around an arbitrary payload; 1 while the
 * channel stays open. */
static int host_send(felica_chip_t *chip, felica_sc_t *sc, uint8_t code,
                     const uint8_t *payload, size_t len)
{
    uint8_t cmd[FELICA_MAX_FRAME], resp[FELICA_MAX_FRAME], out[FELICA_MAX_FRAME], sf1, sf2;
    size_t clen = 0, rlen = 0, olen = 0;
    int rc;

    if (felica_sc_host_wrap(sc, code, payload, len, cmd, sizeof(cmd), &clen) != FELICA_OK)
        return 0;
    if (felica_chip_process(chip, cmd, clen, resp, sizeof(resp), &rlen) != FELICA_OK
        || rlen > FELICA_MAX_FRAME)
        abort();
    rc = felica_sc_host_unwrap(sc, resp, rlen, out, sizeof(out), &olen, &sf1, &sf2);
    return rc == FELICA_OK || rc == FELICA_ERR_STATUS;
}

/* A well-formed Create Area for the system channel. */
static size_t create_area_payload(const felica_keyset_t *sys, uint16_t area, uint16_t n_blocks,
                                  uint8_t *out)
{
    felica_keyset_t k;
    size_t i;

    k.kvn = 0x10;
    for (i = 0; i < 16; i++) {
        k.enc[i] = (uint8_t)i;
        k.mac[i] = (uint8_t)(i + 16);
        k.dek[i] = (uint8_t)(i + 32);
    }
    out[0] = (uint8_t)area;
    out[1] = (uint8_t)(area >> 8);
    out[2] = (uint8_t)n_blocks;
    out[3] = (uint8_t)(n_blocks >> 8);
    out[4] = k.kvn;
    felica_key_wrap(sys->dek, k.enc, out + 5);
    felica_key_wrap(sys->dek, k.mac, out + 21);
    felica_key_wrap(sys->dek, k.dek, out + 37);
    felica_kcv(k.enc, out + 53);
    felica_kcv(k.mac, out + 56);
    felica_kcv(k.dek, out + 59);
    return 62;
}

/* Authentic secure commands with payloads cut from the input. */
static void drive_channels(felica_chip_t *chip, const felica_image_t *img,
                           const uint8_t *tail, size_t tail_len)
{
    static const uint8_t codes[4] = { FELICA_CMD_SECURE_READ, FELICA_CMD_SECURE_WRITE,
                                      FELICA_CMD_CREATE_AREA, FELICA_CMD_DELETE_AREA };
    felica_keyset_t keys;
    felica_sc_t sc;
    uint8_t payload[64];
    size_t pos = 0, n;
    uint8_t i;

    if (img->n_sys_keys > 0) {
        keys = img->sys_keys[0];
        if (host_auth(chip, img->idm, FELICA_AREA_SYSTEM, &keys, &sc)) {
            n = create_area_payload(&keys, (uint16_t)(0x7000 + (tail_len & 0x3F) * 0x40),
                                    (uint16_t)(1 + tail_len % 256), payload);
            host_send(chip, &sc, FELICA_CMD_CREATE_AREA, payload, n);
            /* fuzzed payloads until the channel closes or the input is used up */
            while (pos + 1 < tail_len) {
                n = tail[pos] % 224;
                if (n > tail_len - pos - 1)
                    n = tail_len - pos - 1;
                if (!host_send(chip, &sc, codes[tail[pos] >> 6], tail + pos + 1, n))
                    break;
                pos += 1 + n;
            }
        }
    }
    for (i = 0; i < img->n_areas; i++) {
        const felica_area_state_t *a = &img->areas[i];
        if (a->n_keysets == 0)
            continue;
        keys = a->keys[0];
        if (!host_auth(chip, img->idm, a->code, &keys, &sc))
            continue;
        /* a valid read and write of the last block, then fuzzed payloads */
        payload[0] = (uint8_t)a->code;
        payload[1] = (uint8_t)(a->code >> 8);
        payload[2] = 1;
        payload[3] = (uint8_t)(a->n_blocks - 1);
        payload[4] = (uint8_t)((a->n_blocks - 1) >> 8);
        memset(payload + 5, 0x3C, 16);
        host_send(chip, &sc, FELICA_CMD_SECURE_WRITE, payload, 21);
        host_send(chip, &sc, FELICA_CMD_SECURE_READ, payload, 5);
        for (pos = 0; pos + 1 < tail_len && pos < 600;) {
            n = tail[pos] % 224;
            if (n > tail_len - pos - 1)
                n = tail_len - pos - 1;
            if (n >= 2) {
                /* aim at this area: the first two payload bytes are its code */
                uint8_t buf[224];
                memcpy(buf, tail + pos + 1, n);
                buf[0] = (uint8_t)a->code;
                buf[1] = (uint8_t)(a->code >> 8);
                if (!host_send(chip, &sc, codes[tail[pos] >> 7], buf, n))
                    break;
            }
            pos += 1 + n;
        }
        felica_wipe(&sc, sizeof(sc));
    }
    felica_wipe(&keys, sizeof(keys));
}

static void drive_chip(const felica_image_t *img, const uint8_t *tail, size_t tail_len)
{
    static const uint8_t polling[] = { 6, 0x00, 0xFF, 0xFF, 0x01, 0x00 };
    felica_chip_t *chip = NULL;
    uint8_t pkt[FELICA_MAX_FRAME], body[64];
    uint8_t i;

    if (felica_chip_new(img, NULL, &chip) != FELICA_OK)
        abort();           /* a loaded image is always a valid chip */
    exchange(chip, polling, sizeof(polling));
    exchange(chip, pkt, packet(pkt, 0x04, img->idm, NULL, 0));
    exchange(chip, pkt, packet(pkt, 0x0C, img->idm, NULL, 0));
    for (i = 0; i < img->n_areas; i++) {
        const felica_area_state_t *a = &img->areas[i];
        uint16_t last = (uint16_t)(a->n_blocks - 1);
        /* Request Service for the area and two of its services */
        uint8_t rs[] = { 3, (uint8_t)a->code, (uint8_t)(a->code >> 8),
                         (uint8_t)(a->code | 0x0B), (uint8_t)(a->code >> 8),
                         (uint8_t)(a->code | 0x09), (uint8_t)(a->code >> 8) };
        /* Read the first and last block (3-byte element for the last) */
        uint8_t rd[] = { 1, (uint8_t)(a->code | 0x0B), (uint8_t)(a->code >> 8),
                         2, 0x80, 0x00, 0x00, (uint8_t)last, (uint8_t)(last >> 8) };
        exchange(chip, pkt, packet(pkt, 0x02, img->idm, rs, sizeof(rs)));
        exchange(chip, pkt, packet(pkt, 0x06, img->idm, rd, sizeof(rd)));
        /* Write the last block of a read/write service */
        memset(body, 0, sizeof(body));
        body[0] = 1;
        body[1] = (uint8_t)(a->code | 0x09);
        body[2] = (uint8_t)(a->code >> 8);
        body[3] = 1;
        body[4] = 0x00;
        body[5] = (uint8_t)last;
        body[6] = (uint8_t)(last >> 8);
        exchange(chip, pkt, packet(pkt, 0x08, img->idm, body, 7 + 16));
        /* Auth1 with the area's first key version (or 0 for a plain area) */
        body[0] = a->n_keysets ? a->keys[0].kvn : 0;
        body[1] = (uint8_t)a->code;
        body[2] = (uint8_t)(a->code >> 8);
        memset(body + 3, 0x5A, 8);
        exchange(chip, pkt, packet(pkt, 0xA0, img->idm, body, 11));
    }
    /* the system channel, then the rest of the input as an Auth2 and a secure
     * command: they fail authentication, which must be handled cleanly */
    body[0] = img->n_sys_keys ? img->sys_keys[0].kvn : 0;
    body[1] = 0xFF;
    body[2] = 0xFF;
    memset(body + 3, 0xA5, 8);
    exchange(chip, pkt, packet(pkt, 0xA0, img->idm, body, 11));
    if (tail_len > 0) {
        size_t n = tail_len > 17 ? 17 : tail_len;
        exchange(chip, pkt, packet(pkt, 0xA2, img->idm, tail, n));
        n = tail_len > 200 ? 200 : tail_len;
        exchange(chip, pkt, packet(pkt, 0xA6, img->idm, tail, n));
    }
    drive_channels(chip, img, tail, tail_len);
    felica_chip_free(chip);
}

static void try_load(const uint8_t *data, size_t size)
{
    static felica_image_t img;
    static uint8_t again[FELICA_IMAGE_MAX_LEN];
    size_t len = 0;
    int rc = felica_image_decode(data, size, &img);

    if (rc != FELICA_OK) {
        if (rc != FELICA_ERR_CORRUPT && rc != FELICA_ERR_VERSION)
            abort();
        return;
    }
    /* what loads re-encodes to the very same bytes */
    if (felica_image_encode(&img, again, sizeof(again), &len) != FELICA_OK
        || len != size || memcmp(again, data, size) != 0)
        abort();
    drive_chip(&img, data + FELICA_IMAGE_HEADER_LEN, size - FELICA_IMAGE_HEADER_LEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t sealed[FELICA_IMAGE_MAX_LEN];
    unsigned int n = 0;

    try_load(data, size);
    if (size < FELICA_IMAGE_HEADER_LEN + FELICA_IMAGE_SUM_LEN || size > sizeof(sealed))
        return 0;
    memcpy(sealed, data, size);
    if (EVP_Digest(sealed, size - FELICA_IMAGE_SUM_LEN, sealed + size - FELICA_IMAGE_SUM_LEN, &n,
                   EVP_sha256(), NULL) != 1)
        abort();
    try_load(sealed, size);
    return 0;
}

#ifdef FUZZ_IMAGE_MAKE_CORPUS
/* Seed corpus generator (test keys only); the exact command is in
 * docs/libfelica-chip.md: compile this file with -DFUZZ_IMAGE_MAKE_CORPUS and
 * every libfelica .c file except felicactl.c, run it with the corpus dir. */
#include <stdio.h>

static void test_keys(felica_keyset_t *k, uint8_t kvn, uint8_t fill)
{
    k->kvn = kvn;
    memset(k->enc, fill, 16);
    memset(k->mac, fill + 1, 16);
    memset(k->dek, fill + 2, 16);
}

static int save(const char *dir, const char *name, const felica_image_t *img)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (felica_image_save(path, img) != FELICA_OK) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const uint8_t idm[8] = { 0x01, 0x2E, 0x4C, 0x11, 0x22, 0x33, 0x44, 0x55 };
    static const uint8_t pmm[8] = { 0x00, 0xF1, 0x00, 0x00, 0x00, 0x01, 0x43, 0x00 };
    static felica_image_t img;
    felica_keyset_t k;
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 1;
    }
    /* what `felicactl image create` makes: system keys and the info area */
    felica_image_init(&img, idm, pmm, 0x88B4);
    test_keys(&k, 1, 0x10);
    felica_image_add_keyset(&img, FELICA_AREA_SYSTEM, &k);
    felica_image_add_area(&img, 0x0040, FELICA_ACCESS_PLAIN_RO, 1);
    memcpy(img.areas[0].blocks[0], "idgw chip emu v1", 16);
    rc |= save(argv[1], "fresh.img", &img);
    /* after issuance: a keyed area with two key versions and data, a plain RW area */
    img.seq_counter = 42;
    felica_image_add_area(&img, 0x1000, FELICA_ACCESS_KEYED, 4);
    test_keys(&k, 2, 0x20);
    felica_image_add_keyset(&img, 0x1000, &k);
    test_keys(&k, 3, 0x30);
    felica_image_add_keyset(&img, 0x1000, &k);
    memset(img.areas[1].blocks[2], 0x77, 16);
    felica_image_add_area(&img, 0x0080, FELICA_ACCESS_PLAIN_RW, 2);
    rc |= save(argv[1], "issued.img", &img);
    /* a chip whose sequence counter is used up, other system code */
    felica_image_init(&img, idm, pmm, 0x12FC);
    test_keys(&k, 1, 0x40);
    felica_image_add_keyset(&img, FELICA_AREA_SYSTEM, &k);
    img.seq_counter = FELICA_CHIP_SEQ_MAX;
    rc |= save(argv[1], "exhausted.img", &img);
    return rc;
}
#endif
