/* felica_frame.h: the FeliCa packet codec.
 *
 * Wire form of every packet:  LEN(1, counts itself) | CODE(1) | IDm(8) | params
 * (Polling has no IDm).  A response's code is its command's code + 1.
 * Service and area codes are little-endian, system codes big-endian, blocks are
 * 16 bytes.  The public commands follow Sony's FeliCa card user's manual; the
 * secure commands (0xA0..0xAB) are idgw's own, framed the same way, their bodies
 * produced and checked by felica_sc.h.  See docs/libfelica.md for every layout.
 *
 * Secure command layouts (after LEN | CODE | IDm):
 *   Auth1        0xA0: KVN(1) | AREA(2, LE; 0xFFFF = system) | HOST_CHALLENGE(8)
 *   Auth1 res    0xA1: SF1 | SF2 | then only when SF1 == 0:
 *                      KVN | SCP_ID(0x03) | I(1) | CARD_CHALLENGE(8) | CARD_CRYPTOGRAM(8) | SEQ(3, BE)
 *   Auth2        0xA2: LEVEL(1) | HOST_CRYPTOGRAM(8) | C-MAC(8)
 *   secure cmds  0xA4..0xAA: CTR(2, BE) | ENCRYPTED(16*k, k >= 1) | C-MAC(8)
 *   responses to Auth2 and the secure commands (code + 1):
 *                      SF1 | SF2 | then, inside the channel: CTR(2, BE) | ENCRYPTED(16*k, k >= 0) | R-MAC(8)
 *                      (an error answered outside the channel, e.g. after a MAC
 *                      failure, is SF1 | SF2 alone: LEN = 12, SF1 != 0)
 *
 * All decoders are strict: they check LEN against the buffer, every count
 * against the remaining bytes and the limits below, and return a precise
 * felica_err_t: LEN != buffer length (or LEN = 0) and bytes left after the
 * last field are FELICA_ERR_LEN_MISMATCH, a field running past the end
 * FELICA_ERR_TRUNCATED, a count or value out of range FELICA_ERR_BAD_PARAM,
 * an unknown code FELICA_ERR_BAD_CODE (docs/libfelica.md has the full policy).
 * Decoded structures hold copies, never pointers into the input, except
 * felica_frame_t which is a view of the caller's buffer. */
#ifndef FELICA_FRAME_H
#define FELICA_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "felica_error.h"

#define FELICA_IDM_LEN 8
#define FELICA_PMM_LEN 8
#define FELICA_BLOCK_LEN 16
#define FELICA_MAX_FRAME 255         /* LEN is one byte */
#define FELICA_MAX_NODES 32          /* Request Service node count */
#define FELICA_MAX_SERVICES 16       /* services in one Read/Write */
#define FELICA_MAX_BLOCKS 15         /* block list elements in one Read/Write */
#define FELICA_MAX_SYSTEMS 16        /* Request System Code answer */

/* Command codes; response code = command + 1. */
enum felica_code {
    FELICA_CMD_POLLING = 0x00,
    FELICA_CMD_REQUEST_SERVICE = 0x02,
    FELICA_CMD_REQUEST_RESPONSE = 0x04,
    FELICA_CMD_READ_WO_ENC = 0x06,
    FELICA_CMD_WRITE_WO_ENC = 0x08,
    FELICA_CMD_REQUEST_SYSTEM_CODE = 0x0C,
    /* idgw secure commands (SCP03-style secure channel, felica_sc.h) */
    FELICA_CMD_AUTH1 = 0xA0,         /* host challenge -> card challenge + cryptogram */
    FELICA_CMD_AUTH2 = 0xA2,         /* host cryptogram + C-MAC */
    FELICA_CMD_SECURE_READ = 0xA4,
    FELICA_CMD_SECURE_WRITE = 0xA6,
    FELICA_CMD_CREATE_AREA = 0xA8,
    FELICA_CMD_DELETE_AREA = 0xAA
};

/* Status flag 2 values (public meanings; SF1 = 0x00 success, 0xFF error not
 * tied to a block list element, otherwise the element's position). */
enum felica_sf2 {
    FELICA_SF2_OK = 0x00,
    FELICA_SF2_PURSE = 0x01,            /* purse data under/overflow */
    FELICA_SF2_CASHBACK = 0x02,         /* cashback exceeded */
    FELICA_SF2_MEMORY = 0x70,           /* memory error (fatal) */
    FELICA_SF2_WEAR = 0x71,             /* memory wear warning */
    FELICA_SF2_NUM_SERVICES = 0xA1,     /* illegal number of services */
    FELICA_SF2_COMMAND = 0xA2,          /* illegal command packet (block count) */
    FELICA_SF2_BLOCK_LIST_ORDER = 0xA3, /* illegal block list (service code list order) */
    FELICA_SF2_SERVICE_TYPE = 0xA4,     /* illegal service type */
    FELICA_SF2_ACCESS = 0xA5,           /* access not allowed */
    FELICA_SF2_SERVICE_CODE = 0xA6,     /* illegal service code list */
    FELICA_SF2_BLOCK_LIST_MODE = 0xA7,  /* illegal block list (access mode) */
    FELICA_SF2_BLOCK_NUMBER = 0xA8,     /* illegal block number */
    FELICA_SF2_WRITE_FAILED = 0xA9,     /* data write failure */
    FELICA_SF2_KEY_CHANGE = 0xAA,       /* key-change failure */
    FELICA_SF2_PARITY = 0xAB,           /* illegal package parity / parameter */
    FELICA_SF2_PARAM = 0xAC,            /* illegal parameter */
    FELICA_SF2_SERVICE_EXISTS = 0xAD,   /* service/area exists already */
    FELICA_SF2_SYSTEM_CODE = 0xAE,      /* illegal system code */
    /* idgw secure commands */
    FELICA_SF2_AUTH = 0xC0,             /* authentication / MAC / cryptogram failed */
    FELICA_SF2_SEQUENCE = 0xC1,         /* command counter out of sequence */
    FELICA_SF2_SECURITY_LEVEL = 0xC2,   /* security level too low */
    FELICA_SF2_MODE = 0xC3              /* command not allowed in the current mode */
};

/* Generic view of one packet: LEN checked, code and IDm split off. */
typedef struct felica_frame {
    uint8_t code;
    int has_idm;                     /* 0 only for a Polling command */
    uint8_t idm[FELICA_IDM_LEN];
    const uint8_t *body;             /* bytes after the IDm (after CODE for Polling) */
    size_t body_len;
} felica_frame_t;

/* Check LEN == len (1..255) and split.  Polling (code 0x00) has no IDm. */
int felica_frame_split(const uint8_t *pkt, size_t len, felica_frame_t *out);

/* Block list element (2-byte form when block < 256 and two_byte set). */
typedef struct felica_block_elem {
    uint8_t two_byte;                /* 1: 2-byte element, 0: 3-byte element */
    uint8_t access_mode;             /* 3 bits, 0 for normal access */
    uint8_t service_index;           /* 4 bits: position in the service list */
    uint16_t block;                  /* block number */
} felica_block_elem_t;

/* A decoded command or response, public or secure (envelope level). */
typedef struct felica_packet {
    uint8_t code;
    uint8_t idm[FELICA_IDM_LEN];
    union {
        struct { uint16_t system_code; uint8_t request_code; uint8_t time_slot; } polling;
        /* request_data: 2 bytes, big-endian on the wire, present when has_rd = 1 */
        struct { uint8_t pmm[FELICA_PMM_LEN]; int has_rd; uint16_t request_data; } polling_res;
        struct { uint8_t n; uint16_t node[FELICA_MAX_NODES]; } req_service;
        struct { uint8_t n; uint16_t key_version[FELICA_MAX_NODES]; } req_service_res;
        struct { uint8_t mode; } req_response_res;
        /* Read and Write Without Encryption commands (data only for Write) */
        struct {
            uint8_t n_services; uint16_t service[FELICA_MAX_SERVICES];
            uint8_t n_blocks; felica_block_elem_t block[FELICA_MAX_BLOCKS];
            uint8_t data[FELICA_MAX_BLOCKS][FELICA_BLOCK_LEN];
        } rw;
        /* Read / Write Without Encryption responses; blocks only in a successful Read */
        struct {
            uint8_t sf1, sf2;
            uint8_t n_blocks; uint8_t data[FELICA_MAX_BLOCKS][FELICA_BLOCK_LEN];
        } rw_res;
        struct { uint8_t n; uint16_t system_code[FELICA_MAX_SYSTEMS]; } req_system_res;
        /* Auth1 command: KVN, target area (0xFFFF = system), host challenge */
        struct { uint8_t kvn; uint16_t area; uint8_t host_challenge[8]; } auth1;
        /* Auth1 response: status, key info, card challenge and cryptogram, chip sequence counter */
        struct {
            uint8_t sf1, sf2;
            uint8_t kvn, scp_id, scp_i;
            uint8_t card_challenge[8], card_cryptogram[8];
            uint32_t seq_counter;    /* 3 bytes on the wire, big-endian */
        } auth1_res;
        /* Auth2 and the secure commands: security level (Auth2 only), counter,
         * encrypted payload, C-MAC.  Auth2's payload is the host cryptogram (clear). */
        struct {
            uint8_t level;           /* Auth2 only */
            uint16_t counter;        /* command counter, big-endian; Auth2: 0 */
            uint8_t payload[FELICA_MAX_FRAME]; size_t payload_len;
            uint8_t mac[8];
        } secure;
        /* Responses to Auth2 and the secure commands: status, counter, encrypted
         * payload, R-MAC.  has_mac = 0 for an error answered outside the channel. */
        struct {
            uint8_t sf1, sf2;
            uint16_t counter;
            uint8_t payload[FELICA_MAX_FRAME]; size_t payload_len;
            int has_mac; uint8_t mac[8];
        } secure_res;
    } u;
} felica_packet_t;

/* Decode a command (even code) or response (odd code) into *out. */
int felica_decode(const uint8_t *pkt, size_t len, felica_packet_t *out);
/* Encode *in; writes at most cap bytes, sets *len. */
int felica_encode(const felica_packet_t *in, uint8_t *out, size_t cap, size_t *len);

/* 1 for the secure command codes (0xA0..0xAA even) and their responses. */
int felica_code_is_secure(uint8_t code);
/* Human name of a command/response code ("Polling", "Secure Write response"), or NULL. */
const char *felica_code_name(uint8_t code);
/* Human meaning of an SF2 value, or NULL when unknown. */
const char *felica_sf2_name(uint8_t sf2);

/* Print every field of a packet, one "name: value" per line, into buf (felicactl decode).
 * Returns FELICA_OK; the decoder's error (buf then holds one "error: ..." line);
 * or FELICA_ERR_BUFFER when cap is too small (buf keeps the whole lines that fit). */
int felica_describe(const uint8_t *pkt, size_t len, char *buf, size_t cap);

#endif
