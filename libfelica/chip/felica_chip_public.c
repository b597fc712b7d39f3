/* felica_chip_public.c: the chip's answers to the public FeliCa commands:
 * Polling, Request Service, Request Response, Request System Code, and
 * Read/Write Without Encryption with their status flags.
 *
 * Status flags of Read/Write Without Encryption (public meaning): SF1 = 0x00
 * success; otherwise SF1 = the 1-based position of the block list element the
 * error belongs to, or 0xFF when it belongs to no element (counts, write
 * failure); SF2 says what went wrong (felica_frame.h, enum felica_sf2). */
#include <string.h>
#include "felica_chip_internal.h"

/* Service attributes (low 6 bits of a service code). */
#define ATTR_RW_KEY 0x08
#define ATTR_RW_PLAIN 0x09
#define ATTR_RO_KEY 0x0A
#define ATTR_RO_PLAIN 0x0B
#define ROOT_NODE 0x0000

/* 0xFF in a byte of the requested system code matches any value there. */
static int system_code_matches(uint16_t want, uint16_t have)
{
    uint8_t wh = (uint8_t)(want >> 8), wl = (uint8_t)want;

    return (wh == 0xFF || wh == (uint8_t)(have >> 8)) && (wl == 0xFF || wl == (uint8_t)have);
}

int chip_polling(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                 uint8_t *resp, size_t cap, size_t *resp_len)
{
    felica_packet_t pkt;
    chip_resp_t r = { resp, cap, 0 };
    int rc;

    if (felica_decode(cmd, len, &pkt) != FELICA_OK)
        return FELICA_OK;
    if (!system_code_matches(pkt.u.polling.system_code, chip->img.system_code))
        return FELICA_OK;
    /* A Polling (re)selects the card: any session ends. */
    chip_drop_session(chip);
    rc = resp_start(&r, chip, FELICA_CMD_POLLING + 1);
    if (rc == FELICA_OK)
        rc = resp_put(&r, chip->img.pmm, FELICA_PMM_LEN);
    /* Request code 1 asks for the system code; request code 2 (communication
     * performance) is optional in the public spec and not modelled: no data. */
    if (rc == FELICA_OK && pkt.u.polling.request_code == 1) {
        rc = resp_u8(&r, (uint8_t)(chip->img.system_code >> 8));
        if (rc == FELICA_OK)
            rc = resp_u8(&r, (uint8_t)chip->img.system_code);
    }
    return rc == FELICA_OK ? resp_finish(&r, resp_len) : rc;
}

/* Highest key version of a key set list, 0xFFFF when there is none. */
static uint16_t top_kvn(const felica_keyset_t *keys, uint8_t n)
{
    uint16_t best = 0xFFFF;
    uint8_t i;

    for (i = 0; i < n; i++)
        if (best == 0xFFFF || keys[i].kvn > best)
            best = keys[i].kvn;
    return best;
}

/* Does the area offer a service with this attribute? */
static int service_exists(const felica_area_state_t *a, uint8_t attr)
{
    switch (a->access) {
    case FELICA_ACCESS_KEYED:    return attr == ATTR_RW_KEY || attr == ATTR_RO_KEY;
    case FELICA_ACCESS_PLAIN_RO: return attr == ATTR_RO_PLAIN;
    case FELICA_ACCESS_PLAIN_RW: return attr == ATTR_RO_PLAIN || attr == ATTR_RW_PLAIN;
    default:                     return 0;
    }
}

static uint16_t node_key_version(const felica_chip_t *chip, uint16_t node)
{
    const felica_area_state_t *a;
    uint8_t attr = node & ~FELICA_AREA_CODE_MASK;

    if (node == ROOT_NODE)
        return top_kvn(chip->img.sys_keys, chip->img.n_sys_keys);
    a = felica_image_find_area_const(&chip->img, node & FELICA_AREA_CODE_MASK);
    if (a == NULL || (attr != 0 && !service_exists(a, attr)))
        return 0xFFFF;
    if (a->access != FELICA_ACCESS_KEYED)
        return 0x0000;
    return top_kvn(a->keys, a->n_keysets);
}

int chip_request_service(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                         uint8_t *resp, size_t cap, size_t *resp_len)
{
    felica_packet_t pkt;
    chip_resp_t r = { resp, cap, 0 };
    uint8_t i;
    int rc;

    if (felica_decode(cmd, len, &pkt) != FELICA_OK)
        return FELICA_OK;
    rc = resp_start(&r, chip, FELICA_CMD_REQUEST_SERVICE + 1);
    if (rc == FELICA_OK)
        rc = resp_u8(&r, pkt.u.req_service.n);
    for (i = 0; rc == FELICA_OK && i < pkt.u.req_service.n; i++) {
        uint16_t kv = node_key_version(chip, pkt.u.req_service.node[i]);
        rc = resp_u8(&r, (uint8_t)kv);            /* little-endian */
        if (rc == FELICA_OK)
            rc = resp_u8(&r, (uint8_t)(kv >> 8));
    }
    return rc == FELICA_OK ? resp_finish(&r, resp_len) : rc;
}

int chip_request_response(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                          uint8_t *resp, size_t cap, size_t *resp_len)
{
    chip_resp_t r = { resp, cap, 0 };
    int rc;

    (void)cmd;               /* no parameters: only the length is checked */
    if (len != 2 + FELICA_IDM_LEN)
        return FELICA_OK;
    rc = resp_start(&r, chip, FELICA_CMD_REQUEST_RESPONSE + 1);
    if (rc == FELICA_OK)
        rc = resp_u8(&r, (uint8_t)chip->mode);
    return rc == FELICA_OK ? resp_finish(&r, resp_len) : rc;
}

int chip_request_system_code(felica_chip_t *chip, const uint8_t *cmd, size_t len,
                             uint8_t *resp, size_t cap, size_t *resp_len)
{
    chip_resp_t r = { resp, cap, 0 };
    int rc;

    (void)cmd;               /* no parameters: only the length is checked */
    if (len != 2 + FELICA_IDM_LEN)
        return FELICA_OK;
    rc = resp_start(&r, chip, FELICA_CMD_REQUEST_SYSTEM_CODE + 1);
    if (rc == FELICA_OK)
        rc = resp_u8(&r, 1);
    if (rc == FELICA_OK)
        rc = resp_u8(&r, (uint8_t)(chip->img.system_code >> 8));   /* big-endian */
    if (rc == FELICA_OK)
        rc = resp_u8(&r, (uint8_t)chip->img.system_code);
    return rc == FELICA_OK ? resp_finish(&r, resp_len) : rc;
}

/* ---- Read / Write Without Encryption ---- */

/* A parsed plain read/write command; parse fails (-> silence) only when the
 * frame's own structure is broken, count errors become status flags. */
typedef struct plain_rw {
    uint8_t n_services;
    uint16_t service[FELICA_MAX_SERVICES];
    uint8_t n_blocks;
    uint8_t elem_index[FELICA_MAX_BLOCKS];    /* service list position */
    uint8_t elem_mode[FELICA_MAX_BLOCKS];     /* access mode */
    uint16_t elem_block[FELICA_MAX_BLOCKS];
    const uint8_t *data;                      /* Write: n_blocks * 16 bytes */
    uint8_t sf2;                              /* count error found while parsing, else 0 */
} plain_rw_t;

/* 1 when parsed (maybe with a count error in sf2), 0 for a malformed frame. */
static int parse_plain_rw(const uint8_t *p, size_t len, int is_write, plain_rw_t *rw)
{
    size_t pos = 0;
    uint8_t i;

    memset(rw, 0, sizeof(*rw));
    if (len < 1)
        return 0;
    rw->n_services = p[pos++];
    if (rw->n_services < 1 || rw->n_services > FELICA_MAX_SERVICES) {
        rw->sf2 = FELICA_SF2_NUM_SERVICES;
        return 1;
    }
    if (len - pos < 2u * rw->n_services + 1)
        return 0;
    for (i = 0; i < rw->n_services; i++, pos += 2)
        rw->service[i] = (uint16_t)(p[pos] | (p[pos + 1] << 8));
    rw->n_blocks = p[pos++];
    if (rw->n_blocks < 1 || rw->n_blocks > FELICA_MAX_BLOCKS) {
        rw->sf2 = FELICA_SF2_COMMAND;
        return 1;
    }
    for (i = 0; i < rw->n_blocks; i++) {
        uint8_t b0;
        if (len - pos < 2)
            return 0;
        b0 = p[pos++];
        rw->elem_index[i] = b0 & 0x0F;
        rw->elem_mode[i] = (b0 >> 4) & 0x07;
        if (b0 & 0x80) {
            rw->elem_block[i] = p[pos++];
        } else {
            if (len - pos < 2)
                return 0;
            rw->elem_block[i] = (uint16_t)(p[pos] | (p[pos + 1] << 8));
            pos += 2;
        }
    }
    if (is_write) {
        if (len - pos != (size_t)FELICA_BLOCK_LEN * rw->n_blocks)
            return 0;
        rw->data = p + pos;
        return 1;
    }
    return pos == len;
}

/* Check element i; returns its SF2 (0 when fine) and its area in *area. */
static uint8_t check_element(felica_image_t *img, const plain_rw_t *rw, uint8_t i,
                             int is_write, felica_area_state_t **area)
{
    uint16_t service;
    uint8_t attr;
    felica_area_state_t *a;

    if (rw->elem_index[i] >= rw->n_services)
        return FELICA_SF2_BLOCK_LIST_ORDER;
    service = rw->service[rw->elem_index[i]];
    attr = service & ~FELICA_AREA_CODE_MASK;
    a = felica_image_find_area(img, service & FELICA_AREA_CODE_MASK);
    if (a == NULL || !service_exists(a, attr))
        return FELICA_SF2_SERVICE_CODE;
    /* services with a key need the secure channel; read-only ones refuse writes */
    if (a->access == FELICA_ACCESS_KEYED || (is_write && attr != ATTR_RW_PLAIN))
        return FELICA_SF2_ACCESS;
    if (rw->elem_mode[i] != 0)
        return FELICA_SF2_BLOCK_LIST_MODE;
    if (rw->elem_block[i] >= a->n_blocks)
        return FELICA_SF2_BLOCK_NUMBER;
    *area = a;
    return FELICA_SF2_OK;
}

static int answer_rw_status(felica_chip_t *chip, uint8_t code, uint8_t sf1, uint8_t sf2,
                            uint8_t *resp, size_t cap, size_t *resp_len)
{
    chip_resp_t r = { resp, cap, 0 };
    int rc = resp_start(&r, chip, (uint8_t)(code + 1));

    if (rc == FELICA_OK)
        rc = resp_u8(&r, sf1);
    if (rc == FELICA_OK)
        rc = resp_u8(&r, sf2);
    return rc == FELICA_OK ? resp_finish(&r, resp_len) : rc;
}

int chip_read_write_plain(felica_chip_t *chip, const felica_frame_t *f, int is_write,
                          uint8_t *resp, size_t cap, size_t *resp_len)
{
    uint8_t code = is_write ? FELICA_CMD_WRITE_WO_ENC : FELICA_CMD_READ_WO_ENC;
    felica_area_state_t *area[FELICA_MAX_BLOCKS];
    chip_resp_t r = { resp, cap, 0 };
    plain_rw_t rw;
    uint8_t i, sf2;
    int rc;

    if (!parse_plain_rw(f->body, f->body_len, is_write, &rw))
        return FELICA_OK;
    if (rw.sf2 != FELICA_SF2_OK)
        return answer_rw_status(chip, code, 0xFF, rw.sf2, resp, cap, resp_len);
    /* every element is checked before anything is read or written */
    for (i = 0; i < rw.n_blocks; i++) {
        sf2 = check_element(&chip->img, &rw, i, is_write, &area[i]);
        if (sf2 != FELICA_SF2_OK)
            return answer_rw_status(chip, code, (uint8_t)(i + 1), sf2, resp, cap, resp_len);
    }
    if (is_write) {
        /* all or nothing: apply to the copy, persist, then make it current */
        chip_begin_change(chip);
        for (i = 0; i < rw.n_blocks; i++) {
            size_t idx = (size_t)(area[i] - chip->img.areas);
            memcpy(chip->next.areas[idx].blocks[rw.elem_block[i]],
                   rw.data + (size_t)i * FELICA_BLOCK_LEN, FELICA_BLOCK_LEN);
        }
        if (chip_commit_change(chip) != FELICA_OK)
            return answer_rw_status(chip, code, 0xFF, FELICA_SF2_WRITE_FAILED, resp, cap, resp_len);
        return answer_rw_status(chip, code, 0x00, FELICA_SF2_OK, resp, cap, resp_len);
    }
    rc = resp_start(&r, chip, (uint8_t)(code + 1));
    if (rc == FELICA_OK)
        rc = resp_u8(&r, 0x00);
    if (rc == FELICA_OK)
        rc = resp_u8(&r, 0x00);
    if (rc == FELICA_OK)
        rc = resp_u8(&r, rw.n_blocks);
    for (i = 0; rc == FELICA_OK && i < rw.n_blocks; i++)
        rc = resp_put(&r, area[i]->blocks[rw.elem_block[i]], FELICA_BLOCK_LEN);
    return rc == FELICA_OK ? resp_finish(&r, resp_len) : rc;
}
