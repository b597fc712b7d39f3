/* felica_image.c: the chip's persistent state (model helpers) and its
 * byte-exact serialisation with a SHA-256 checksum.  File I/O and the atomic
 * save are in felica_image_file.c. */
#include <string.h>
#include <openssl/evp.h>
#include "felica_image.h"
#include "felica_crypto.h"

int felica_area_code_valid(uint16_t code)
{
    return (code & ~FELICA_AREA_CODE_MASK) == 0 && code != 0x0000 && code != 0xFFC0;
}

void felica_image_init(felica_image_t *img, const uint8_t idm[8], const uint8_t pmm[8],
                       uint16_t system_code)
{
    memset(img, 0, sizeof(*img));
    memcpy(img->idm, idm, FELICA_IDM_LEN);
    memcpy(img->pmm, pmm, FELICA_PMM_LEN);
    img->system_code = system_code;
}

felica_area_state_t *felica_image_find_area(felica_image_t *img, uint16_t code)
{
    uint8_t i;

    for (i = 0; i < img->n_areas && i < FELICA_CHIP_MAX_AREAS; i++)
        if (img->areas[i].code == code)
            return &img->areas[i];
    return NULL;
}

const felica_area_state_t *felica_image_find_area_const(const felica_image_t *img, uint16_t code)
{
    return felica_image_find_area((felica_image_t *)img, code);
}

static const felica_keyset_t *find_in(const felica_keyset_t *keys, uint8_t n, uint8_t kvn)
{
    uint8_t i;

    for (i = 0; i < n && i < FELICA_CHIP_MAX_KEYSETS; i++)
        if (keys[i].kvn == kvn)
            return &keys[i];
    return NULL;
}

const felica_keyset_t *felica_image_find_keyset(const felica_image_t *img, uint16_t area, uint8_t kvn)
{
    const felica_area_state_t *a;

    if (area == FELICA_AREA_SYSTEM)
        return find_in(img->sys_keys, img->n_sys_keys, kvn);
    a = felica_image_find_area_const(img, area);
    if (a == NULL || a->access != FELICA_ACCESS_KEYED)
        return NULL;
    return find_in(a->keys, a->n_keysets, kvn);
}

int felica_image_add_keyset(felica_image_t *img, uint16_t area, const felica_keyset_t *keys)
{
    felica_keyset_t *arr;
    uint8_t *n;
    felica_area_state_t *a;

    if (img == NULL || keys == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (area == FELICA_AREA_SYSTEM) {
        arr = img->sys_keys;
        n = &img->n_sys_keys;
    } else {
        a = felica_image_find_area(img, area);
        if (a == NULL)
            return FELICA_ERR_NOT_FOUND;
        if (a->access != FELICA_ACCESS_KEYED)
            return FELICA_ERR_BAD_PARAM;
        arr = a->keys;
        n = &a->n_keysets;
    }
    if (find_in(arr, *n, keys->kvn) != NULL)
        return FELICA_ERR_EXISTS;
    if (*n >= FELICA_CHIP_MAX_KEYSETS)
        return FELICA_ERR_FULL;
    arr[(*n)++] = *keys;
    return FELICA_OK;
}

unsigned felica_image_blocks_used(const felica_image_t *img)
{
    unsigned used = 0;
    uint8_t i;

    for (i = 0; i < img->n_areas && i < FELICA_CHIP_MAX_AREAS; i++)
        used += img->areas[i].n_blocks;
    return used;
}

int felica_image_add_area(felica_image_t *img, uint16_t code, uint8_t access, uint16_t n_blocks)
{
    felica_area_state_t *a;

    if (img == NULL || !felica_area_code_valid(code) || access > FELICA_ACCESS_PLAIN_RW
        || n_blocks < 1 || n_blocks > FELICA_AREA_MAX_BLOCKS)
        return FELICA_ERR_BAD_PARAM;
    if (felica_image_find_area(img, code) != NULL)
        return FELICA_ERR_EXISTS;
    if (img->n_areas >= FELICA_CHIP_MAX_AREAS
        || felica_image_blocks_used(img) + n_blocks > FELICA_CHIP_BLOCK_BUDGET)
        return FELICA_ERR_FULL;
    a = &img->areas[img->n_areas++];
    memset(a, 0, sizeof(*a));
    a->code = code;
    a->access = access;
    a->n_blocks = n_blocks;
    return FELICA_OK;
}

int felica_image_delete_area(felica_image_t *img, uint16_t code)
{
    felica_area_state_t *a = felica_image_find_area(img, code);
    size_t idx, tail;

    if (a == NULL)
        return FELICA_ERR_NOT_FOUND;
    idx = (size_t)(a - img->areas);
    tail = (size_t)img->n_areas - idx - 1;
    felica_wipe(a, sizeof(*a));
    memmove(a, a + 1, tail * sizeof(*a));
    img->n_areas--;
    memset(&img->areas[img->n_areas], 0, sizeof(img->areas[0]));
    return FELICA_OK;
}

void felica_image_wipe(felica_image_t *img)
{
    if (img != NULL)
        felica_wipe(img, sizeof(*img));
}

static int keysets_valid(const felica_keyset_t *keys, uint8_t n)
{
    uint8_t i, j;

    if (n > FELICA_CHIP_MAX_KEYSETS)
        return 0;
    for (i = 0; i < n; i++)
        for (j = (uint8_t)(i + 1); j < n; j++)
            if (keys[i].kvn == keys[j].kvn)
                return 0;
    return 1;
}

int felica_image_validate(const felica_image_t *img)
{
    uint8_t i, j;
    const felica_area_state_t *a;

    if (img->seq_counter > FELICA_CHIP_SEQ_MAX || img->n_areas > FELICA_CHIP_MAX_AREAS
        || !keysets_valid(img->sys_keys, img->n_sys_keys))
        return FELICA_ERR_CORRUPT;
    for (i = 0; i < img->n_areas; i++) {
        a = &img->areas[i];
        if (!felica_area_code_valid(a->code) || a->access > FELICA_ACCESS_PLAIN_RW
            || a->n_blocks < 1 || a->n_blocks > FELICA_AREA_MAX_BLOCKS
            || !keysets_valid(a->keys, a->n_keysets))
            return FELICA_ERR_CORRUPT;
        /* plain areas have no keys; keyed ones at least one */
        if ((a->access == FELICA_ACCESS_KEYED) != (a->n_keysets > 0))
            return FELICA_ERR_CORRUPT;
        for (j = (uint8_t)(i + 1); j < img->n_areas; j++)
            if (img->areas[j].code == a->code)
                return FELICA_ERR_CORRUPT;
    }
    if (felica_image_blocks_used(img) > FELICA_CHIP_BLOCK_BUDGET)
        return FELICA_ERR_CORRUPT;
    return FELICA_OK;
}

/* ---- serialisation ---- */

typedef struct writer {
    uint8_t *p;
    size_t cap, len;
    int overflow;
} writer_t;

static void put(writer_t *w, const void *src, size_t n)
{
    if (w->overflow || w->cap - w->len < n) {
        w->overflow = 1;
        return;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void put_u8(writer_t *w, uint8_t v)
{
    put(w, &v, 1);
}

static void put_be16(writer_t *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    put(w, b, 2);
}

static void put_be32(writer_t *w, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(w, b, 4);
}

/* The key sets only; their count is written by the caller where the layout puts it. */
static void put_keysets(writer_t *w, const felica_keyset_t *keys, uint8_t n)
{
    uint8_t i;

    for (i = 0; i < n; i++) {
        put_u8(w, keys[i].kvn);
        put(w, keys[i].enc, 16);
        put(w, keys[i].mac, 16);
        put(w, keys[i].dek, 16);
    }
}

static int checksum(const uint8_t *p, size_t len, uint8_t sum[FELICA_IMAGE_SUM_LEN])
{
    unsigned int out_len = 0;

    if (EVP_Digest(p, len, sum, &out_len, EVP_sha256(), NULL) != 1
        || out_len != FELICA_IMAGE_SUM_LEN)
        return FELICA_ERR_CRYPTO;
    return FELICA_OK;
}

int felica_image_encode(const felica_image_t *img, uint8_t *out, size_t cap, size_t *len)
{
    writer_t w = { out, cap, 0, 0 };
    uint8_t i;
    size_t body_len;
    int rc;

    if (img == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    rc = felica_image_validate(img);
    if (rc != FELICA_OK)
        return FELICA_ERR_BAD_PARAM;
    put(&w, FELICA_IMAGE_MAGIC, 8);
    put_be16(&w, FELICA_IMAGE_VERSION);
    put_be16(&w, 0);
    put_be32(&w, 0);                 /* BODY_LEN, filled in below */
    put(&w, img->idm, FELICA_IDM_LEN);
    put(&w, img->pmm, FELICA_PMM_LEN);
    put_be16(&w, img->system_code);
    put_be32(&w, img->seq_counter);
    put_u8(&w, img->n_sys_keys);
    put_keysets(&w, img->sys_keys, img->n_sys_keys);
    put_u8(&w, img->n_areas);
    for (i = 0; i < img->n_areas; i++) {
        const felica_area_state_t *a = &img->areas[i];
        put_be16(&w, a->code);
        put_u8(&w, a->access);
        put_u8(&w, a->n_keysets);
        put_be16(&w, a->n_blocks);
        put_keysets(&w, a->keys, a->n_keysets);
        put(&w, a->blocks, (size_t)a->n_blocks * FELICA_BLOCK_LEN);
    }
    if (w.overflow || w.cap - w.len < FELICA_IMAGE_SUM_LEN)
        return FELICA_ERR_BUFFER;
    body_len = w.len - FELICA_IMAGE_HEADER_LEN;
    out[12] = (uint8_t)(body_len >> 24);
    out[13] = (uint8_t)(body_len >> 16);
    out[14] = (uint8_t)(body_len >> 8);
    out[15] = (uint8_t)body_len;
    rc = checksum(out, w.len, out + w.len);
    if (rc != FELICA_OK)
        return rc;
    *len = w.len + FELICA_IMAGE_SUM_LEN;
    return FELICA_OK;
}

typedef struct reader {
    const uint8_t *p;
    size_t len, pos;
    int short_read;
} reader_t;

static void get(reader_t *r, void *dst, size_t n)
{
    if (r->short_read || r->len - r->pos < n) {
        r->short_read = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p + r->pos, n);
    r->pos += n;
}

static uint8_t get_u8(reader_t *r)
{
    uint8_t v;
    get(r, &v, 1);
    return v;
}

static uint16_t get_be16(reader_t *r)
{
    uint8_t b[2];
    get(r, b, 2);
    return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t get_be32(reader_t *r)
{
    uint8_t b[4];
    get(r, b, 4);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Read NKEYS key sets after the count has been read; 0 on a bad count. */
static int get_keysets(reader_t *r, felica_keyset_t *keys, uint8_t n)
{
    uint8_t i;

    if (n > FELICA_CHIP_MAX_KEYSETS)
        return 0;
    for (i = 0; i < n; i++) {
        keys[i].kvn = get_u8(r);
        get(r, keys[i].enc, 16);
        get(r, keys[i].mac, 16);
        get(r, keys[i].dek, 16);
    }
    return !r->short_read;
}

static int decode_area(reader_t *r, felica_area_state_t *a)
{
    a->code = get_be16(r);
    a->access = get_u8(r);
    a->n_keysets = get_u8(r);
    a->n_blocks = get_be16(r);
    if (r->short_read || a->n_blocks < 1 || a->n_blocks > FELICA_AREA_MAX_BLOCKS)
        return 0;
    if (!get_keysets(r, a->keys, a->n_keysets))
        return 0;
    get(r, a->blocks, (size_t)a->n_blocks * FELICA_BLOCK_LEN);
    return !r->short_read;
}

static int decode_body(reader_t *r, felica_image_t *img)
{
    uint8_t i;

    get(r, img->idm, FELICA_IDM_LEN);
    get(r, img->pmm, FELICA_PMM_LEN);
    img->system_code = get_be16(r);
    img->seq_counter = get_be32(r);
    img->n_sys_keys = get_u8(r);
    if (r->short_read || !get_keysets(r, img->sys_keys, img->n_sys_keys))
        return FELICA_ERR_CORRUPT;
    img->n_areas = get_u8(r);
    if (r->short_read || img->n_areas > FELICA_CHIP_MAX_AREAS)
        return FELICA_ERR_CORRUPT;
    for (i = 0; i < img->n_areas; i++)
        if (!decode_area(r, &img->areas[i]))
            return FELICA_ERR_CORRUPT;
    if (r->pos != r->len)
        return FELICA_ERR_CORRUPT;   /* trailing bytes inside the body */
    return felica_image_validate(img);
}

int felica_image_decode(const uint8_t *buf, size_t len, felica_image_t *img)
{
    uint8_t sum[FELICA_IMAGE_SUM_LEN];
    uint32_t body_len;
    uint16_t version;
    reader_t r;
    int rc;

    if (buf == NULL || img == NULL)
        return FELICA_ERR_BAD_PARAM;
    memset(img, 0, sizeof(*img));
    if (len < FELICA_IMAGE_HEADER_LEN + FELICA_IMAGE_SUM_LEN || len > FELICA_IMAGE_MAX_LEN)
        return FELICA_ERR_CORRUPT;
    if (memcmp(buf, FELICA_IMAGE_MAGIC, 8) != 0)
        return FELICA_ERR_CORRUPT;
    version = (uint16_t)(buf[8] << 8 | buf[9]);
    if (version != FELICA_IMAGE_VERSION)
        return FELICA_ERR_VERSION;
    body_len = (uint32_t)buf[12] << 24 | (uint32_t)buf[13] << 16 | (uint32_t)buf[14] << 8 | buf[15];
    if (buf[10] != 0 || buf[11] != 0
        || body_len != len - FELICA_IMAGE_HEADER_LEN - FELICA_IMAGE_SUM_LEN)
        return FELICA_ERR_CORRUPT;
    rc = checksum(buf, len - FELICA_IMAGE_SUM_LEN, sum);
    if (rc != FELICA_OK)
        return rc;
    if (!felica_memeq(sum, buf + len - FELICA_IMAGE_SUM_LEN, FELICA_IMAGE_SUM_LEN))
        return FELICA_ERR_CORRUPT;
    r.p = buf + FELICA_IMAGE_HEADER_LEN;
    r.len = body_len;
    r.pos = 0;
    r.short_read = 0;
    rc = decode_body(&r, img);
    if (rc != FELICA_OK) {
        felica_image_wipe(img);
        return FELICA_ERR_CORRUPT;
    }
    return FELICA_OK;
}
