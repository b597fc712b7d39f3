/* felica_frame_encode.c: encoder of every public and secure packet.
 *
 * The encoder refuses anything felica_decode would not give back unchanged:
 * counts outside their limits, a 2-byte block element for a block above 255,
 * access modes or service indexes that do not fit their bits, a service index
 * past the service list, a count of data the wire form would drop (block data
 * in an error response, a payload without a MAC) - all FELICA_ERR_BAD_PARAM.
 * Fields the wire form does not carry for a packet (e.g. the key information
 * of a refused Auth1) are ignored.  A packet over 255 bytes is
 * FELICA_ERR_OVERSIZE, a buffer too small for it FELICA_ERR_BUFFER. */
#include <string.h>
#include "felica_frame.h"
#include "felica_frame_layout.h"

/* Builds the packet in a frame-sized scratch buffer; anything past 255 bytes
 * only sets the overflow flag, so callers never write out of bounds. */
typedef struct writer {
    uint8_t buf[FELICA_MAX_FRAME];
    size_t len;
    int overflow;
} writer_t;

static void wr_bytes(writer_t *w, const uint8_t *src, size_t n)
{
    if (w->overflow || sizeof(w->buf) - w->len < n) {
        w->overflow = 1;
        return;
    }
    memcpy(w->buf + w->len, src, n);
    w->len += n;
}

static void wr_u8(writer_t *w, uint8_t v)
{
    wr_bytes(w, &v, 1);
}

static void wr_le16(writer_t *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v & 0xFF), (uint8_t)(v >> 8) };
    wr_bytes(w, b, 2);
}

static void wr_be16(writer_t *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)(v & 0xFF) };
    wr_bytes(w, b, 2);
}

#define TRY(expr) do { int rc_ = (expr); if (rc_ != FELICA_OK) return rc_; } while (0)

static int enc_polling(writer_t *w, const felica_packet_t *in)
{
    if (in->u.polling.request_code > FELICA_POLL_RC_MAX || !felica_tsn_valid(in->u.polling.time_slot))
        return FELICA_ERR_BAD_PARAM;
    wr_be16(w, in->u.polling.system_code);
    wr_u8(w, in->u.polling.request_code);
    wr_u8(w, in->u.polling.time_slot);
    return FELICA_OK;
}

static int enc_polling_res(writer_t *w, const felica_packet_t *in)
{
    if (in->u.polling_res.has_rd != 0 && in->u.polling_res.has_rd != 1)
        return FELICA_ERR_BAD_PARAM;
    wr_bytes(w, in->u.polling_res.pmm, FELICA_PMM_LEN);
    if (in->u.polling_res.has_rd)
        wr_be16(w, in->u.polling_res.request_data);
    return FELICA_OK;
}

static int enc_u16_list(writer_t *w, uint8_t n, const uint16_t *vals, uint8_t max, int big_endian)
{
    if (n < 1 || n > max)
        return FELICA_ERR_BAD_PARAM;
    wr_u8(w, n);
    for (uint8_t i = 0; i < n; i++) {
        if (big_endian)
            wr_be16(w, vals[i]);
        else
            wr_le16(w, vals[i]);
    }
    return FELICA_OK;
}

static int enc_block_elem(writer_t *w, const felica_block_elem_t *e, uint8_t n_services)
{
    if (e->two_byte > 1 || e->access_mode > FELICA_BLK_MODE_MASK
        || e->service_index >= n_services || (e->two_byte && e->block > 0xFF))
        return FELICA_ERR_BAD_PARAM;
    wr_u8(w, (uint8_t)((e->two_byte ? FELICA_BLK_TWO_BYTE : 0)
                       | (e->access_mode << FELICA_BLK_MODE_SHIFT) | e->service_index));
    if (e->two_byte)
        wr_u8(w, (uint8_t)e->block);
    else
        wr_le16(w, e->block);
    return FELICA_OK;
}

static int enc_rw(writer_t *w, const felica_packet_t *in, int with_data)
{
    uint8_t ns = in->u.rw.n_services, nb = in->u.rw.n_blocks;

    if (ns < 1 || ns > FELICA_MAX_SERVICES || nb < 1 || nb > FELICA_MAX_BLOCKS)
        return FELICA_ERR_BAD_PARAM;
    wr_u8(w, ns);
    for (uint8_t i = 0; i < ns; i++)
        wr_le16(w, in->u.rw.service[i]);
    wr_u8(w, nb);
    for (uint8_t i = 0; i < nb; i++)
        TRY(enc_block_elem(w, &in->u.rw.block[i], ns));
    if (with_data)
        for (uint8_t i = 0; i < nb; i++)
            wr_bytes(w, in->u.rw.data[i], FELICA_BLOCK_LEN);
    return FELICA_OK;
}

static int enc_rw_res(writer_t *w, const felica_packet_t *in, int is_read)
{
    uint8_t nb = in->u.rw_res.n_blocks;
    int with_blocks = is_read && in->u.rw_res.sf1 == 0;

    if (with_blocks ? (nb < 1 || nb > FELICA_MAX_BLOCKS) : nb != 0)
        return FELICA_ERR_BAD_PARAM;
    wr_u8(w, in->u.rw_res.sf1);
    wr_u8(w, in->u.rw_res.sf2);
    if (with_blocks) {
        wr_u8(w, nb);
        for (uint8_t i = 0; i < nb; i++)
            wr_bytes(w, in->u.rw_res.data[i], FELICA_BLOCK_LEN);
    }
    return FELICA_OK;
}

static int enc_req_response_res(writer_t *w, const felica_packet_t *in)
{
    if (in->u.req_response_res.mode > FELICA_MODE_MAX)
        return FELICA_ERR_BAD_PARAM;
    wr_u8(w, in->u.req_response_res.mode);
    return FELICA_OK;
}

static int enc_auth1(writer_t *w, const felica_packet_t *in)
{
    wr_u8(w, in->u.auth1.kvn);
    wr_le16(w, in->u.auth1.area);
    wr_bytes(w, in->u.auth1.host_challenge, FELICA_SC_CHALLENGE_LEN);
    return FELICA_OK;
}

static int enc_auth1_res(writer_t *w, const felica_packet_t *in)
{
    uint32_t seq = in->u.auth1_res.seq_counter;

    wr_u8(w, in->u.auth1_res.sf1);
    wr_u8(w, in->u.auth1_res.sf2);
    if (in->u.auth1_res.sf1 != 0)
        return FELICA_OK;
    if (in->u.auth1_res.scp_id != FELICA_AUTH1_SCP_ID || seq > FELICA_SEQ_MAX)
        return FELICA_ERR_BAD_PARAM;
    wr_u8(w, in->u.auth1_res.kvn);
    wr_u8(w, in->u.auth1_res.scp_id);
    wr_u8(w, in->u.auth1_res.scp_i);
    wr_bytes(w, in->u.auth1_res.card_challenge, 8);
    wr_bytes(w, in->u.auth1_res.card_cryptogram, 8);
    wr_u8(w, (uint8_t)(seq >> 16));
    wr_u8(w, (uint8_t)(seq >> 8));
    wr_u8(w, (uint8_t)seq);
    return FELICA_OK;
}

static int enc_auth2(writer_t *w, const felica_packet_t *in)
{
    /* Auth2 carries no counter and exactly the 8-byte host cryptogram. */
    if (in->u.secure.counter != 0 || in->u.secure.payload_len != 8)
        return FELICA_ERR_BAD_PARAM;
    wr_u8(w, in->u.secure.level);
    wr_bytes(w, in->u.secure.payload, 8);
    wr_bytes(w, in->u.secure.mac, FELICA_SC_MAC_LEN);
    return FELICA_OK;
}

/* CTR | ENCRYPTED | MAC; the payload must be whole cipher blocks, at least min_blocks. */
static int enc_channel(writer_t *w, uint16_t counter, const uint8_t *payload, size_t payload_len,
                       const uint8_t *mac, size_t min_blocks)
{
    if (payload_len > FELICA_MAX_FRAME || payload_len % FELICA_BLOCK_LEN != 0
        || payload_len < min_blocks * FELICA_BLOCK_LEN)
        return FELICA_ERR_BAD_PARAM;
    wr_be16(w, counter);
    wr_bytes(w, payload, payload_len);
    wr_bytes(w, mac, FELICA_SC_MAC_LEN);
    return FELICA_OK;
}

static int enc_secure_res(writer_t *w, const felica_packet_t *in)
{
    const int has_mac = in->u.secure_res.has_mac;

    if (has_mac != 0 && has_mac != 1)
        return FELICA_ERR_BAD_PARAM;
    /* Outside the channel only an error (SF1 != 0) with no payload exists. */
    if (!has_mac && (in->u.secure_res.sf1 == 0 || in->u.secure_res.payload_len != 0))
        return FELICA_ERR_BAD_PARAM;
    wr_u8(w, in->u.secure_res.sf1);
    wr_u8(w, in->u.secure_res.sf2);
    if (!has_mac)
        return FELICA_OK;
    return enc_channel(w, in->u.secure_res.counter, in->u.secure_res.payload,
                       in->u.secure_res.payload_len, in->u.secure_res.mac, 0);
}

static int enc_body(writer_t *w, const felica_packet_t *in)
{
    const uint8_t code = in->code;

    switch (code) {
    case FELICA_CMD_POLLING:                 return enc_polling(w, in);
    case FELICA_CMD_POLLING + 1:             return enc_polling_res(w, in);
    case FELICA_CMD_REQUEST_SERVICE:
        return enc_u16_list(w, in->u.req_service.n, in->u.req_service.node, FELICA_MAX_NODES, 0);
    case FELICA_CMD_REQUEST_SERVICE + 1:
        return enc_u16_list(w, in->u.req_service_res.n, in->u.req_service_res.key_version,
                            FELICA_MAX_NODES, 0);
    case FELICA_CMD_REQUEST_RESPONSE:        return FELICA_OK;
    case FELICA_CMD_REQUEST_RESPONSE + 1:    return enc_req_response_res(w, in);
    case FELICA_CMD_READ_WO_ENC:             return enc_rw(w, in, 0);
    case FELICA_CMD_READ_WO_ENC + 1:         return enc_rw_res(w, in, 1);
    case FELICA_CMD_WRITE_WO_ENC:            return enc_rw(w, in, 1);
    case FELICA_CMD_WRITE_WO_ENC + 1:        return enc_rw_res(w, in, 0);
    case FELICA_CMD_REQUEST_SYSTEM_CODE:     return FELICA_OK;
    case FELICA_CMD_REQUEST_SYSTEM_CODE + 1:
        return enc_u16_list(w, in->u.req_system_res.n, in->u.req_system_res.system_code,
                            FELICA_MAX_SYSTEMS, 1);
    case FELICA_CMD_AUTH1:                   return enc_auth1(w, in);
    case FELICA_CMD_AUTH1 + 1:               return enc_auth1_res(w, in);
    case FELICA_CMD_AUTH2:                   return enc_auth2(w, in);
    default:
        break;
    }
    if (felica_code_is_wrapped_cmd(code))
        return enc_channel(w, in->u.secure.counter, in->u.secure.payload,
                           in->u.secure.payload_len, in->u.secure.mac, 1);
    if (felica_code_is_wrapped_res(code))
        return enc_secure_res(w, in);
    return FELICA_ERR_BAD_CODE;
}

int felica_encode(const felica_packet_t *in, uint8_t *out, size_t cap, size_t *len)
{
    writer_t w;
    int rc;

    if (in == NULL || out == NULL || len == NULL)
        return FELICA_ERR_BAD_PARAM;
    *len = 0;
    if (felica_code_name(in->code) == NULL)
        return FELICA_ERR_BAD_CODE;
    w.len = 0;
    w.overflow = 0;
    wr_u8(&w, 0);                            /* LEN, filled in below */
    wr_u8(&w, in->code);
    if (in->code != FELICA_CMD_POLLING)
        wr_bytes(&w, in->idm, FELICA_IDM_LEN);
    rc = enc_body(&w, in);
    if (rc != FELICA_OK)
        return rc;
    if (w.overflow)
        return FELICA_ERR_OVERSIZE;
    if (cap < w.len)
        return FELICA_ERR_BUFFER;
    w.buf[0] = (uint8_t)w.len;
    memcpy(out, w.buf, w.len);
    *len = w.len;
    return FELICA_OK;
}
