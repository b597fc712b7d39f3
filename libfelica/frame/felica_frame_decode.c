/* felica_frame_decode.c: strict decoder of every public and secure packet.
 *
 * Error policy (also in docs/libfelica.md):
 *  - buffer and LEN disagree (either way, or LEN = 0): FELICA_ERR_LEN_MISMATCH;
 *  - LEN agrees but a field the packet must carry runs past the end (including
 *    an encrypted payload ending in a partial 16-byte block): FELICA_ERR_TRUNCATED;
 *  - bytes left after the last field: FELICA_ERR_LEN_MISMATCH;
 *  - a count or value outside its range: FELICA_ERR_BAD_PARAM;
 *  - a code that is neither a known command nor a known response: FELICA_ERR_BAD_CODE.
 * Fields are checked in wire order, so the first bad field decides the error. */
#include <string.h>
#include "felica_frame.h"
#include "felica_frame_layout.h"

/* A bounds-checked cursor over the body of a packet. */
typedef struct reader {
    const uint8_t *p;
    size_t len, pos;
} reader_t;

static int rd_bytes(reader_t *r, uint8_t *dst, size_t n)
{
    if (r->len - r->pos < n)
        return FELICA_ERR_TRUNCATED;
    memcpy(dst, r->p + r->pos, n);
    r->pos += n;
    return FELICA_OK;
}

static int rd_u8(reader_t *r, uint8_t *v)
{
    return rd_bytes(r, v, 1);
}

static int rd_le16(reader_t *r, uint16_t *v)
{
    uint8_t b[2];
    int rc = rd_bytes(r, b, 2);
    if (rc == FELICA_OK)
        *v = (uint16_t)(b[0] | (b[1] << 8));
    return rc;
}

static int rd_be16(reader_t *r, uint16_t *v)
{
    uint8_t b[2];
    int rc = rd_bytes(r, b, 2);
    if (rc == FELICA_OK)
        *v = (uint16_t)((b[0] << 8) | b[1]);
    return rc;
}

static size_t rd_left(const reader_t *r)
{
    return r->len - r->pos;
}

/* Every decoder ends here: nothing may follow the last field. */
static int rd_end(const reader_t *r)
{
    return rd_left(r) == 0 ? FELICA_OK : FELICA_ERR_LEN_MISMATCH;
}

#define TRY(expr) do { int rc_ = (expr); if (rc_ != FELICA_OK) return rc_; } while (0)

static int dec_polling(reader_t *r, felica_packet_t *o)
{
    TRY(rd_be16(r, &o->u.polling.system_code));
    TRY(rd_u8(r, &o->u.polling.request_code));
    if (o->u.polling.request_code > FELICA_POLL_RC_MAX)
        return FELICA_ERR_BAD_PARAM;
    TRY(rd_u8(r, &o->u.polling.time_slot));
    if (!felica_tsn_valid(o->u.polling.time_slot))
        return FELICA_ERR_BAD_PARAM;
    return rd_end(r);
}

static int dec_polling_res(reader_t *r, felica_packet_t *o)
{
    TRY(rd_bytes(r, o->u.polling_res.pmm, FELICA_PMM_LEN));
    if (rd_left(r) == 0)
        return FELICA_OK;                     /* no request data asked for */
    TRY(rd_be16(r, &o->u.polling_res.request_data));
    o->u.polling_res.has_rd = 1;
    return rd_end(r);
}

/* N(1, 1..FELICA_MAX_NODES) then N 16-bit values; used by Request Service
 * (node codes / key versions, LE) and Request System Code (system codes, BE). */
static int dec_u16_list(reader_t *r, uint8_t *n, uint16_t *vals, uint8_t max, int big_endian)
{
    TRY(rd_u8(r, n));
    if (*n < 1 || *n > max)
        return FELICA_ERR_BAD_PARAM;
    for (uint8_t i = 0; i < *n; i++)
        TRY(big_endian ? rd_be16(r, &vals[i]) : rd_le16(r, &vals[i]));
    return rd_end(r);
}

static int dec_block_elem(reader_t *r, uint8_t n_services, felica_block_elem_t *e)
{
    uint8_t b0, b1;

    TRY(rd_u8(r, &b0));
    e->two_byte = (b0 & FELICA_BLK_TWO_BYTE) ? 1 : 0;
    e->access_mode = (b0 >> FELICA_BLK_MODE_SHIFT) & FELICA_BLK_MODE_MASK;
    e->service_index = b0 & FELICA_BLK_INDEX_MASK;
    if (e->service_index >= n_services)
        return FELICA_ERR_BAD_PARAM;
    if (e->two_byte) {
        TRY(rd_u8(r, &b1));
        e->block = b1;
        return FELICA_OK;
    }
    return rd_le16(r, &e->block);
}

/* Read / Write Without Encryption command; with_data for Write. */
static int dec_rw(reader_t *r, felica_packet_t *o, int with_data)
{
    TRY(rd_u8(r, &o->u.rw.n_services));
    if (o->u.rw.n_services < 1 || o->u.rw.n_services > FELICA_MAX_SERVICES)
        return FELICA_ERR_BAD_PARAM;
    for (uint8_t i = 0; i < o->u.rw.n_services; i++)
        TRY(rd_le16(r, &o->u.rw.service[i]));
    TRY(rd_u8(r, &o->u.rw.n_blocks));
    if (o->u.rw.n_blocks < 1 || o->u.rw.n_blocks > FELICA_MAX_BLOCKS)
        return FELICA_ERR_BAD_PARAM;
    for (uint8_t i = 0; i < o->u.rw.n_blocks; i++)
        TRY(dec_block_elem(r, o->u.rw.n_services, &o->u.rw.block[i]));
    if (with_data)
        for (uint8_t i = 0; i < o->u.rw.n_blocks; i++)
            TRY(rd_bytes(r, o->u.rw.data[i], FELICA_BLOCK_LEN));
    return rd_end(r);
}

/* Read / Write Without Encryption response; block data only in a successful Read. */
static int dec_rw_res(reader_t *r, felica_packet_t *o, int is_read)
{
    TRY(rd_u8(r, &o->u.rw_res.sf1));
    TRY(rd_u8(r, &o->u.rw_res.sf2));
    if (!is_read || o->u.rw_res.sf1 != 0)
        return rd_end(r);
    TRY(rd_u8(r, &o->u.rw_res.n_blocks));
    if (o->u.rw_res.n_blocks < 1 || o->u.rw_res.n_blocks > FELICA_MAX_BLOCKS)
        return FELICA_ERR_BAD_PARAM;
    for (uint8_t i = 0; i < o->u.rw_res.n_blocks; i++)
        TRY(rd_bytes(r, o->u.rw_res.data[i], FELICA_BLOCK_LEN));
    return rd_end(r);
}

static int dec_auth1(reader_t *r, felica_packet_t *o)
{
    TRY(rd_u8(r, &o->u.auth1.kvn));
    TRY(rd_le16(r, &o->u.auth1.area));
    TRY(rd_bytes(r, o->u.auth1.host_challenge, FELICA_SC_CHALLENGE_LEN));
    return rd_end(r);
}

static int dec_auth1_res(reader_t *r, felica_packet_t *o)
{
    uint8_t seq[3];

    TRY(rd_u8(r, &o->u.auth1_res.sf1));
    TRY(rd_u8(r, &o->u.auth1_res.sf2));
    if (o->u.auth1_res.sf1 != 0)
        return rd_end(r);                     /* refused: no key information */
    TRY(rd_u8(r, &o->u.auth1_res.kvn));
    TRY(rd_u8(r, &o->u.auth1_res.scp_id));
    if (o->u.auth1_res.scp_id != FELICA_AUTH1_SCP_ID)
        return FELICA_ERR_BAD_PARAM;
    TRY(rd_u8(r, &o->u.auth1_res.scp_i));
    TRY(rd_bytes(r, o->u.auth1_res.card_challenge, 8));
    TRY(rd_bytes(r, o->u.auth1_res.card_cryptogram, 8));
    TRY(rd_bytes(r, seq, 3));
    o->u.auth1_res.seq_counter = ((uint32_t)seq[0] << 16) | ((uint32_t)seq[1] << 8) | seq[2];
    return rd_end(r);
}

static int dec_auth2(reader_t *r, felica_packet_t *o)
{
    TRY(rd_u8(r, &o->u.secure.level));
    TRY(rd_bytes(r, o->u.secure.payload, 8));
    o->u.secure.payload_len = 8;
    TRY(rd_bytes(r, o->u.secure.mac, FELICA_SC_MAC_LEN));
    return rd_end(r);
}

/* CTR(2, BE) | ENCRYPTED(16*k, k >= min_blocks) | MAC(8): the envelope is
 * delimited by LEN alone, so the payload is what lies between CTR and MAC. */
static int dec_channel(reader_t *r, uint16_t *counter, uint8_t *payload, size_t *payload_len,
                       uint8_t *mac, size_t min_blocks)
{
    size_t left = rd_left(r);
    size_t min = FELICA_SC_CTR_LEN + min_blocks * FELICA_BLOCK_LEN + FELICA_SC_MAC_LEN;
    size_t enc;

    if (left < min)
        return FELICA_ERR_TRUNCATED;
    enc = left - FELICA_SC_CTR_LEN - FELICA_SC_MAC_LEN;
    if (enc % FELICA_BLOCK_LEN != 0)
        return FELICA_ERR_TRUNCATED;          /* a partial cipher block */
    TRY(rd_be16(r, counter));
    TRY(rd_bytes(r, payload, enc));
    *payload_len = enc;
    TRY(rd_bytes(r, mac, FELICA_SC_MAC_LEN));
    return rd_end(r);
}

static int dec_secure_res(reader_t *r, felica_packet_t *o)
{
    TRY(rd_u8(r, &o->u.secure_res.sf1));
    TRY(rd_u8(r, &o->u.secure_res.sf2));
    /* SF1 SF2 alone is an error answered outside the channel; a success is
     * always inside it, so its CTR / payload / R-MAC must follow. */
    if (rd_left(r) == 0 && o->u.secure_res.sf1 != 0)
        return FELICA_OK;
    o->u.secure_res.has_mac = 1;
    return dec_channel(r, &o->u.secure_res.counter, o->u.secure_res.payload,
                       &o->u.secure_res.payload_len, o->u.secure_res.mac, 0);
}

static int dec_body(uint8_t code, reader_t *r, felica_packet_t *o)
{
    switch (code) {
    case FELICA_CMD_POLLING:                 return dec_polling(r, o);
    case FELICA_CMD_POLLING + 1:             return dec_polling_res(r, o);
    case FELICA_CMD_REQUEST_SERVICE:
        return dec_u16_list(r, &o->u.req_service.n, o->u.req_service.node, FELICA_MAX_NODES, 0);
    case FELICA_CMD_REQUEST_SERVICE + 1:
        return dec_u16_list(r, &o->u.req_service_res.n, o->u.req_service_res.key_version,
                            FELICA_MAX_NODES, 0);
    case FELICA_CMD_REQUEST_RESPONSE:        return rd_end(r);
    case FELICA_CMD_REQUEST_RESPONSE + 1:
        TRY(rd_u8(r, &o->u.req_response_res.mode));
        if (o->u.req_response_res.mode > FELICA_MODE_MAX)
            return FELICA_ERR_BAD_PARAM;
        return rd_end(r);
    case FELICA_CMD_READ_WO_ENC:             return dec_rw(r, o, 0);
    case FELICA_CMD_READ_WO_ENC + 1:         return dec_rw_res(r, o, 1);
    case FELICA_CMD_WRITE_WO_ENC:            return dec_rw(r, o, 1);
    case FELICA_CMD_WRITE_WO_ENC + 1:        return dec_rw_res(r, o, 0);
    case FELICA_CMD_REQUEST_SYSTEM_CODE:     return rd_end(r);
    case FELICA_CMD_REQUEST_SYSTEM_CODE + 1:
        return dec_u16_list(r, &o->u.req_system_res.n, o->u.req_system_res.system_code,
                            FELICA_MAX_SYSTEMS, 1);
    case FELICA_CMD_AUTH1:                   return dec_auth1(r, o);
    case FELICA_CMD_AUTH1 + 1:               return dec_auth1_res(r, o);
    case FELICA_CMD_AUTH2:                   return dec_auth2(r, o);
    default:
        break;
    }
    if (felica_code_is_wrapped_cmd(code))
        return dec_channel(r, &o->u.secure.counter, o->u.secure.payload,
                           &o->u.secure.payload_len, o->u.secure.mac, 1);
    if (felica_code_is_wrapped_res(code))
        return dec_secure_res(r, o);
    return FELICA_ERR_BAD_CODE;
}

int felica_decode(const uint8_t *pkt, size_t len, felica_packet_t *out)
{
    felica_frame_t f;
    reader_t r;
    int rc;

    if (out == NULL)
        return FELICA_ERR_BAD_PARAM;
    memset(out, 0, sizeof(*out));
    rc = felica_frame_split(pkt, len, &f);
    /* An unknown code is reported as such even when the packet is also too
     * short for an IDm: the code is the more precise complaint. */
    if ((rc == FELICA_OK || (rc == FELICA_ERR_TRUNCATED && len >= 2))
        && felica_code_name(pkt[1]) == NULL)
        return FELICA_ERR_BAD_CODE;
    if (rc != FELICA_OK)
        return rc;
    out->code = f.code;
    memcpy(out->idm, f.idm, FELICA_IDM_LEN);
    r.p = f.body;
    r.len = f.body_len;
    r.pos = 0;
    rc = dec_body(f.code, &r, out);
    if (rc != FELICA_OK) {
        /* never hand back a half-filled packet */
        memset(out, 0, sizeof(*out));
    }
    return rc;
}
