/* felica_frame_names.c: names of command/response codes and SF2 status values,
 * and the secure-code predicate. */
#include "felica_frame.h"

int felica_code_is_secure(uint8_t code)
{
    return code >= FELICA_CMD_AUTH1 && code <= FELICA_CMD_DELETE_AREA + 1;
}

const char *felica_code_name(uint8_t code)
{
    switch (code) {
    case FELICA_CMD_POLLING:                  return "Polling";
    case FELICA_CMD_POLLING + 1:              return "Polling response";
    case FELICA_CMD_REQUEST_SERVICE:          return "Request Service";
    case FELICA_CMD_REQUEST_SERVICE + 1:      return "Request Service response";
    case FELICA_CMD_REQUEST_RESPONSE:         return "Request Response";
    case FELICA_CMD_REQUEST_RESPONSE + 1:     return "Request Response response";
    case FELICA_CMD_READ_WO_ENC:              return "Read Without Encryption";
    case FELICA_CMD_READ_WO_ENC + 1:          return "Read Without Encryption response";
    case FELICA_CMD_WRITE_WO_ENC:             return "Write Without Encryption";
    case FELICA_CMD_WRITE_WO_ENC + 1:         return "Write Without Encryption response";
    case FELICA_CMD_REQUEST_SYSTEM_CODE:      return "Request System Code";
    case FELICA_CMD_REQUEST_SYSTEM_CODE + 1:  return "Request System Code response";
    case FELICA_CMD_AUTH1:                    return "Auth1";
    case FELICA_CMD_AUTH1 + 1:                return "Auth1 response";
    case FELICA_CMD_AUTH2:                    return "Auth2";
    case FELICA_CMD_AUTH2 + 1:                return "Auth2 response";
    case FELICA_CMD_SECURE_READ:              return "Secure Read";
    case FELICA_CMD_SECURE_READ + 1:          return "Secure Read response";
    case FELICA_CMD_SECURE_WRITE:             return "Secure Write";
    case FELICA_CMD_SECURE_WRITE + 1:         return "Secure Write response";
    case FELICA_CMD_CREATE_AREA:              return "Create Area";
    case FELICA_CMD_CREATE_AREA + 1:          return "Create Area response";
    case FELICA_CMD_DELETE_AREA:              return "Delete Area";
    case FELICA_CMD_DELETE_AREA + 1:          return "Delete Area response";
    default:                                  return NULL;
    }
}

const char *felica_sf2_name(uint8_t sf2)
{
    switch (sf2) {
    case FELICA_SF2_OK:                 return "success";
    case FELICA_SF2_PURSE:              return "purse data under/overflow";
    case FELICA_SF2_CASHBACK:           return "cashback exceeded";
    case FELICA_SF2_MEMORY:             return "memory error";
    case FELICA_SF2_WEAR:               return "memory wear warning";
    case FELICA_SF2_NUM_SERVICES:       return "illegal number of services";
    case FELICA_SF2_COMMAND:            return "illegal command packet (block count)";
    case FELICA_SF2_BLOCK_LIST_ORDER:   return "illegal block list (service code list order)";
    case FELICA_SF2_SERVICE_TYPE:       return "illegal service type";
    case FELICA_SF2_ACCESS:             return "access not allowed";
    case FELICA_SF2_SERVICE_CODE:       return "illegal service code list";
    case FELICA_SF2_BLOCK_LIST_MODE:    return "illegal block list (access mode)";
    case FELICA_SF2_BLOCK_NUMBER:       return "illegal block number";
    case FELICA_SF2_WRITE_FAILED:       return "data write failure";
    case FELICA_SF2_KEY_CHANGE:         return "key-change failure";
    case FELICA_SF2_PARITY:             return "illegal package parity";
    case FELICA_SF2_PARAM:              return "illegal parameter";
    case FELICA_SF2_SERVICE_EXISTS:     return "service or area exists already";
    case FELICA_SF2_SYSTEM_CODE:        return "illegal system code";
    case FELICA_SF2_AUTH:               return "authentication, MAC or cryptogram failed";
    case FELICA_SF2_SEQUENCE:           return "command counter out of sequence";
    case FELICA_SF2_SECURITY_LEVEL:     return "security level too low";
    case FELICA_SF2_MODE:               return "command not allowed in the current mode";
    default:                            return NULL;
    }
}
