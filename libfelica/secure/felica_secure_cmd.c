/* felica_secure_cmd.c: encode and decode the plaintext payloads carried inside
 * the secure channel (layouts in felica_secure_cmd.h).
 *
 * Decoders are strict: the length must be exactly what the counts announce,
 * counts must be within their ranges, and the system area code (0xFFFF) is
 * never a valid target of a payload (it is not an area that holds blocks). */
#include <string.h>
#include "felica_secure_cmd.h"
#include "felica_sc.h"

#define CREATE_AREA_LEN (2 + 2 + 1 + 3 * 16 + 3 * 3)

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFF);
    p[1] = (uint8_t)(v >> 8);
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static int block_count_ok(uint8_t n)
{
    return n >= 1 && n <= FELICA_SECURE_MAX_BLOCKS;
}

/* A block number outside every possible area can never be valid. */
static int block_number_ok(uint16_t block)
{
    return block < FELICA_AREA_MAX_BLOCKS;
}

/* AREA | N | BLOCK * N, shared by Secure Read and Secure Write. */
static int encode_block_list(const felica_secure_rw_t *in, uint8_t *out, size_t cap, size_t *len)
{
    size_t need;
    uint8_t i;

    if (in == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (in->area == FELICA_AREA_SYSTEM || !block_count_ok(in->n))
        return FELICA_ERR_BAD_PARAM;
    need = 3 + 2 * (size_t)in->n;
    if (cap < need)
        return FELICA_ERR_BUFFER;
    put_le16(out, in->area);
    out[2] = in->n;
    for (i = 0; i < in->n; i++) {
        if (!block_number_ok(in->block[i]))
            return FELICA_ERR_BAD_PARAM;
        put_le16(out + 3 + 2 * i, in->block[i]);
    }
    *len = need;
    return FELICA_OK;
}

/* Decode AREA | N | BLOCK * N; *used gets the bytes consumed. */
static int decode_block_list(const uint8_t *p, size_t len, felica_secure_rw_t *out, size_t *used)
{
    size_t need;
    uint8_t i;

    if (p == NULL || out == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (len < 3)
        return FELICA_ERR_TRUNCATED;
    memset(out, 0, sizeof(*out));
    out->area = get_le16(p);
    out->n = p[2];
    if (out->area == FELICA_AREA_SYSTEM || !block_count_ok(out->n))
        return FELICA_ERR_BAD_PARAM;
    need = 3 + 2 * (size_t)out->n;
    if (len < need)
        return FELICA_ERR_TRUNCATED;
    for (i = 0; i < out->n; i++) {
        out->block[i] = get_le16(p + 3 + 2 * i);
        if (!block_number_ok(out->block[i]))
            return FELICA_ERR_BAD_PARAM;
    }
    *used = need;
    return FELICA_OK;
}

int felica_secure_read_encode(const felica_secure_rw_t *in, uint8_t *out, size_t cap, size_t *len)
{
    return encode_block_list(in, out, cap, len);
}

int felica_secure_read_decode(const uint8_t *p, size_t len, felica_secure_rw_t *out)
{
    size_t used = 0;
    int rc = decode_block_list(p, len, out, &used);

    if (rc != FELICA_OK)
        return rc;
    return used == len ? FELICA_OK : FELICA_ERR_OVERSIZE;
}

int felica_secure_read_res_encode(const felica_secure_rw_t *in, uint8_t *out, size_t cap, size_t *len)
{
    size_t need;

    if (in == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (!block_count_ok(in->n))
        return FELICA_ERR_BAD_PARAM;
    need = 1 + FELICA_BLOCK_LEN * (size_t)in->n;
    if (cap < need)
        return FELICA_ERR_BUFFER;
    out[0] = in->n;
    memcpy(out + 1, in->data, FELICA_BLOCK_LEN * (size_t)in->n);
    *len = need;
    return FELICA_OK;
}

int felica_secure_read_res_decode(const uint8_t *p, size_t len, felica_secure_rw_t *out)
{
    size_t need;

    if (p == NULL || out == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (len < 1)
        return FELICA_ERR_TRUNCATED;
    memset(out, 0, sizeof(*out));
    out->n = p[0];
    if (!block_count_ok(out->n))
        return FELICA_ERR_BAD_PARAM;
    need = 1 + FELICA_BLOCK_LEN * (size_t)out->n;
    if (len < need)
        return FELICA_ERR_TRUNCATED;
    if (len > need)
        return FELICA_ERR_OVERSIZE;
    memcpy(out->data, p + 1, FELICA_BLOCK_LEN * (size_t)out->n);
    return FELICA_OK;
}

int felica_secure_write_encode(const felica_secure_rw_t *in, uint8_t *out, size_t cap, size_t *len)
{
    size_t head = 0, data_len;
    int rc;

    if (in == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    rc = encode_block_list(in, out, cap, &head);
    if (rc != FELICA_OK)
        return rc;
    data_len = FELICA_BLOCK_LEN * (size_t)in->n;
    if (cap - head < data_len)
        return FELICA_ERR_BUFFER;
    memcpy(out + head, in->data, data_len);
    *len = head + data_len;
    return FELICA_OK;
}

int felica_secure_write_decode(const uint8_t *p, size_t len, felica_secure_rw_t *out)
{
    size_t used = 0, data_len;
    int rc = decode_block_list(p, len, out, &used);

    if (rc != FELICA_OK)
        return rc;
    data_len = FELICA_BLOCK_LEN * (size_t)out->n;
    if (len - used < data_len)
        return FELICA_ERR_TRUNCATED;
    if (len - used > data_len)
        return FELICA_ERR_OVERSIZE;
    memcpy(out->data, p + used, data_len);
    return FELICA_OK;
}

int felica_create_area_encode(const felica_create_area_t *in, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t *q = out;

    if (in == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (in->area == FELICA_AREA_SYSTEM || in->n_blocks < 1 || in->n_blocks > FELICA_AREA_MAX_BLOCKS)
        return FELICA_ERR_BAD_PARAM;
    if (cap < CREATE_AREA_LEN)
        return FELICA_ERR_BUFFER;
    put_le16(q, in->area); q += 2;
    put_le16(q, in->n_blocks); q += 2;
    *q++ = in->kvn;
    memcpy(q, in->wrapped_enc, 16); q += 16;
    memcpy(q, in->wrapped_mac, 16); q += 16;
    memcpy(q, in->wrapped_dek, 16); q += 16;
    memcpy(q, in->kcv_enc, 3); q += 3;
    memcpy(q, in->kcv_mac, 3); q += 3;
    memcpy(q, in->kcv_dek, 3);
    *len = CREATE_AREA_LEN;
    return FELICA_OK;
}

int felica_create_area_decode(const uint8_t *p, size_t len, felica_create_area_t *out)
{
    if (p == NULL || out == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (len < CREATE_AREA_LEN)
        return FELICA_ERR_TRUNCATED;
    if (len > CREATE_AREA_LEN)
        return FELICA_ERR_OVERSIZE;
    memset(out, 0, sizeof(*out));
    out->area = get_le16(p);
    out->n_blocks = get_le16(p + 2);
    out->kvn = p[4];
    if (out->area == FELICA_AREA_SYSTEM || out->n_blocks < 1
        || out->n_blocks > FELICA_AREA_MAX_BLOCKS)
        return FELICA_ERR_BAD_PARAM;
    p += 5;
    memcpy(out->wrapped_enc, p, 16); p += 16;
    memcpy(out->wrapped_mac, p, 16); p += 16;
    memcpy(out->wrapped_dek, p, 16); p += 16;
    memcpy(out->kcv_enc, p, 3); p += 3;
    memcpy(out->kcv_mac, p, 3); p += 3;
    memcpy(out->kcv_dek, p, 3);
    return FELICA_OK;
}

int felica_delete_area_encode(uint16_t area, uint8_t *out, size_t cap, size_t *len)
{
    if (out == NULL || len == NULL || area == FELICA_AREA_SYSTEM)
        return FELICA_ERR_BAD_PARAM;
    if (cap < 2)
        return FELICA_ERR_BUFFER;
    put_le16(out, area);
    *len = 2;
    return FELICA_OK;
}

int felica_delete_area_decode(const uint8_t *p, size_t len, uint16_t *area)
{
    if (p == NULL || area == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (len < 2)
        return FELICA_ERR_TRUNCATED;
    if (len > 2)
        return FELICA_ERR_OVERSIZE;
    *area = get_le16(p);
    return *area == FELICA_AREA_SYSTEM ? FELICA_ERR_BAD_PARAM : FELICA_OK;
}
