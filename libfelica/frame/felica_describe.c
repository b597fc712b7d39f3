/* felica_describe.c: a readable dump of one packet for felicactl decode and
 * logs of malformed relays: one "name: value" line per field.  Secure
 * payloads are encrypted, so only their length and hex are shown. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "felica_frame.h"
#include "felica_frame_layout.h"

/* Appends to a caller's buffer; remembers when it ran out of room. */
typedef struct out {
    char *buf;
    size_t cap, len;
    size_t line_start;              /* where the line being written began */
    int overflow;
} out_t;

__attribute__((format(printf, 2, 3)))
static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->overflow = 1;
        o->buf[o->line_start] = '\0';         /* keep only whole lines */
        return;
    }
    o->len += (size_t)n;
    if (n > 0 && o->buf[o->len - 1] == '\n')
        o->line_start = o->len;
}

static void put_hex(out_t *o, const char *name, const uint8_t *p, size_t n)
{
    put(o, "%s: ", name);
    for (size_t i = 0; i < n; i++)
        put(o, "%02x", p[i]);
    put(o, "\n");
}

static void put_status(out_t *o, uint8_t sf1, uint8_t sf2)
{
    const char *meaning = felica_sf2_name(sf2);

    if (sf1 == 0x00)
        put(o, "sf1: 0x00 (success)\n");
    else if (sf1 == 0xFF)
        put(o, "sf1: 0xff (error not tied to a block list element)\n");
    else
        put(o, "sf1: 0x%02x (error at block list element %u)\n", sf1, (unsigned)sf1);
    put(o, "sf2: 0x%02x (%s)\n", sf2, meaning ? meaning : "unknown status");
}

static void put_u16_list(out_t *o, const char *what, const char *item, uint8_t n,
                         const uint16_t *v)
{
    put(o, "%s: %u\n", what, (unsigned)n);
    for (uint8_t i = 0; i < n; i++)
        put(o, "%s[%u]: 0x%04x\n", item, (unsigned)i, (unsigned)v[i]);
}

static void put_rw(out_t *o, const felica_packet_t *p, int with_data)
{
    put_u16_list(o, "services", "service", p->u.rw.n_services, p->u.rw.service);
    put(o, "blocks: %u\n", (unsigned)p->u.rw.n_blocks);
    for (uint8_t i = 0; i < p->u.rw.n_blocks; i++) {
        const felica_block_elem_t *e = &p->u.rw.block[i];
        put(o, "block[%u]: %s, service %u (0x%04x), access mode %u, block %u\n",
            (unsigned)i, e->two_byte ? "2-byte" : "3-byte", (unsigned)e->service_index,
            (unsigned)p->u.rw.service[e->service_index], (unsigned)e->access_mode,
            (unsigned)e->block);
    }
    if (with_data)
        for (uint8_t i = 0; i < p->u.rw.n_blocks; i++) {
            char name[16];
            snprintf(name, sizeof(name), "data[%u]", (unsigned)i);
            put_hex(o, name, p->u.rw.data[i], FELICA_BLOCK_LEN);
        }
}

static void put_rw_res(out_t *o, const felica_packet_t *p)
{
    put_status(o, p->u.rw_res.sf1, p->u.rw_res.sf2);
    if (p->code != FELICA_CMD_READ_WO_ENC + 1 || p->u.rw_res.sf1 != 0)
        return;
    put(o, "blocks: %u\n", (unsigned)p->u.rw_res.n_blocks);
    for (uint8_t i = 0; i < p->u.rw_res.n_blocks; i++) {
        char name[16];
        snprintf(name, sizeof(name), "data[%u]", (unsigned)i);
        put_hex(o, name, p->u.rw_res.data[i], FELICA_BLOCK_LEN);
    }
}

static void put_polling(out_t *o, const felica_packet_t *p)
{
    static const char *const rc_names[] = { "none", "system code", "communication performance" };

    put(o, "system_code: 0x%04x\n", (unsigned)p->u.polling.system_code);
    put(o, "request_code: %u (%s)\n", (unsigned)p->u.polling.request_code,
        rc_names[p->u.polling.request_code]);
    put(o, "time_slots: %u\n", (unsigned)p->u.polling.time_slot + 1);
}

static void put_auth1_res(out_t *o, const felica_packet_t *p)
{
    put_status(o, p->u.auth1_res.sf1, p->u.auth1_res.sf2);
    if (p->u.auth1_res.sf1 != 0)
        return;
    put(o, "kvn: 0x%02x\n", (unsigned)p->u.auth1_res.kvn);
    put(o, "scp_id: 0x%02x\n", (unsigned)p->u.auth1_res.scp_id);
    put(o, "scp_i: 0x%02x\n", (unsigned)p->u.auth1_res.scp_i);
    put_hex(o, "card_challenge", p->u.auth1_res.card_challenge, 8);
    put_hex(o, "card_cryptogram", p->u.auth1_res.card_cryptogram, 8);
    put(o, "sequence_counter: %lu\n", (unsigned long)p->u.auth1_res.seq_counter);
}

static void put_secure(out_t *o, const felica_packet_t *p)
{
    if (p->code == FELICA_CMD_AUTH2) {
        put(o, "security_level: 0x%02x\n", (unsigned)p->u.secure.level);
        put_hex(o, "host_cryptogram", p->u.secure.payload, p->u.secure.payload_len);
    } else {
        put(o, "counter: %u\n", (unsigned)p->u.secure.counter);
        put(o, "payload_length: %zu (encrypted)\n", p->u.secure.payload_len);
        put_hex(o, "payload", p->u.secure.payload, p->u.secure.payload_len);
    }
    put_hex(o, "c_mac", p->u.secure.mac, FELICA_SC_MAC_LEN);
}

static void put_secure_res(out_t *o, const felica_packet_t *p)
{
    put_status(o, p->u.secure_res.sf1, p->u.secure_res.sf2);
    if (!p->u.secure_res.has_mac) {
        put(o, "channel: none (answered outside the secure channel)\n");
        return;
    }
    put(o, "counter: %u\n", (unsigned)p->u.secure_res.counter);
    put(o, "payload_length: %zu (encrypted)\n", p->u.secure_res.payload_len);
    put_hex(o, "payload", p->u.secure_res.payload, p->u.secure_res.payload_len);
    put_hex(o, "r_mac", p->u.secure_res.mac, FELICA_SC_MAC_LEN);
}

static void put_body(out_t *o, const felica_packet_t *p)
{
    switch (p->code) {
    case FELICA_CMD_POLLING:
        put_polling(o, p);
        return;
    case FELICA_CMD_POLLING + 1:
        put_hex(o, "pmm", p->u.polling_res.pmm, FELICA_PMM_LEN);
        if (p->u.polling_res.has_rd)
            put(o, "request_data: 0x%04x\n", (unsigned)p->u.polling_res.request_data);
        return;
    case FELICA_CMD_REQUEST_SERVICE:
        put_u16_list(o, "nodes", "node", p->u.req_service.n, p->u.req_service.node);
        return;
    case FELICA_CMD_REQUEST_SERVICE + 1:
        put(o, "nodes: %u\n", (unsigned)p->u.req_service_res.n);
        for (uint8_t i = 0; i < p->u.req_service_res.n; i++) {
            uint16_t kv = p->u.req_service_res.key_version[i];
            if (kv == 0xFFFF)
                put(o, "key_version[%u]: 0xffff (node not present)\n", (unsigned)i);
            else
                put(o, "key_version[%u]: 0x%04x\n", (unsigned)i, (unsigned)kv);
        }
        return;
    case FELICA_CMD_REQUEST_RESPONSE + 1:
        put(o, "mode: %u\n", (unsigned)p->u.req_response_res.mode);
        return;
    case FELICA_CMD_READ_WO_ENC:
    case FELICA_CMD_WRITE_WO_ENC:
        put_rw(o, p, p->code == FELICA_CMD_WRITE_WO_ENC);
        return;
    case FELICA_CMD_READ_WO_ENC + 1:
    case FELICA_CMD_WRITE_WO_ENC + 1:
        put_rw_res(o, p);
        return;
    case FELICA_CMD_REQUEST_SYSTEM_CODE + 1:
        put_u16_list(o, "systems", "system_code", p->u.req_system_res.n,
                     p->u.req_system_res.system_code);
        return;
    case FELICA_CMD_AUTH1:
        put(o, "kvn: 0x%02x\n", (unsigned)p->u.auth1.kvn);
        put(o, "area: 0x%04x%s\n", (unsigned)p->u.auth1.area,
            p->u.auth1.area == 0xFFFF ? " (system)" : "");
        put_hex(o, "host_challenge", p->u.auth1.host_challenge, 8);
        return;
    case FELICA_CMD_AUTH1 + 1:
        put_auth1_res(o, p);
        return;
    default:
        break;
    }
    if (felica_code_is_secure(p->code))
        (p->code & 1) ? put_secure_res(o, p) : put_secure(o, p);
}

int felica_describe(const uint8_t *pkt, size_t len, char *buf, size_t cap)
{
    felica_packet_t p;
    out_t o;
    int rc;

    if (buf == NULL || cap == 0)
        return FELICA_ERR_BUFFER;
    buf[0] = '\0';
    o.buf = buf;
    o.cap = cap;
    o.len = 0;
    o.line_start = 0;
    o.overflow = 0;
    rc = felica_decode(pkt, len, &p);
    if (rc != FELICA_OK) {
        put(&o, "error: %s\n", felica_strerror(rc));
        return rc;
    }
    put(&o, "code: 0x%02x (%s)\n", (unsigned)p.code, felica_code_name(p.code));
    put(&o, "length: %zu\n", len);
    if (p.code != FELICA_CMD_POLLING)
        put_hex(&o, "idm", p.idm, FELICA_IDM_LEN);
    put_body(&o, &p);
    return o.overflow ? FELICA_ERR_BUFFER : FELICA_OK;
}
