/* felica_relay.c: the gateway's envelope checks on relayed chip packets. */
#include <string.h>
#include "felica_relay.h"

unsigned felica_relay_class(uint8_t command_code)
{
    switch (command_code) {
    case FELICA_CMD_POLLING:             return FELICA_RELAY_POLLING;
    case FELICA_CMD_REQUEST_SERVICE:
    case FELICA_CMD_REQUEST_RESPONSE:
    case FELICA_CMD_REQUEST_SYSTEM_CODE: return FELICA_RELAY_PUBLIC_INFO;
    case FELICA_CMD_READ_WO_ENC:         return FELICA_RELAY_READ_PLAIN;
    case FELICA_CMD_WRITE_WO_ENC:        return FELICA_RELAY_WRITE_PLAIN;
    case FELICA_CMD_AUTH1:
    case FELICA_CMD_AUTH2:               return FELICA_RELAY_AUTH;
    case FELICA_CMD_SECURE_READ:
    case FELICA_CMD_SECURE_WRITE:        return FELICA_RELAY_SECURE_RW;
    case FELICA_CMD_CREATE_AREA:
    case FELICA_CMD_DELETE_AREA:         return FELICA_RELAY_AREA_ADMIN;
    default:                             return 0;
    }
}

static size_t effective_limit(size_t max_len)
{
    return (max_len == 0 || max_len > FELICA_MAX_FRAME) ? FELICA_MAX_FRAME : max_len;
}

int felica_relay_check_command(const uint8_t *pkt, size_t len, const uint8_t idm[FELICA_IDM_LEN],
                               unsigned allowed_classes, size_t max_len)
{
    felica_packet_t p;
    unsigned cls;
    int rc;

    if (idm == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (len > effective_limit(max_len))
        return FELICA_ERR_OVERSIZE;
    rc = felica_decode(pkt, len, &p);
    if (rc != FELICA_OK)
        return rc;
    cls = felica_relay_class(p.code);
    if (cls == 0)
        return FELICA_ERR_BAD_CODE;           /* a response sent towards the chip */
    if ((cls & allowed_classes) == 0)
        return FELICA_ERR_STATE;
    if (p.code != FELICA_CMD_POLLING && memcmp(p.idm, idm, FELICA_IDM_LEN) != 0)
        return FELICA_ERR_WRONG_IDM;
    return FELICA_OK;
}

int felica_relay_check_response(const uint8_t *pkt, size_t len, const uint8_t idm[FELICA_IDM_LEN],
                                uint8_t command_code, size_t max_len)
{
    felica_packet_t p;
    int rc;

    if (idm == NULL || felica_relay_class(command_code) == 0)
        return FELICA_ERR_BAD_PARAM;
    if (len > effective_limit(max_len))
        return FELICA_ERR_OVERSIZE;
    rc = felica_decode(pkt, len, &p);
    if (rc != FELICA_OK)
        return rc;
    if (p.code != (uint8_t)(command_code + 1))
        return FELICA_ERR_BAD_CODE;
    if (memcmp(p.idm, idm, FELICA_IDM_LEN) != 0)
        return FELICA_ERR_WRONG_IDM;
    return FELICA_OK;
}
