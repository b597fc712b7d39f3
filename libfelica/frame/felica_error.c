/* felica_error.c: English descriptions of the felica_err_t codes. */
#include "felica_error.h"

const char *felica_strerror(int err)
{
    switch (err) {
    case FELICA_OK:                 return "success";
    case FELICA_ERR_TRUNCATED:      return "packet truncated: a field runs past the end";
    case FELICA_ERR_LEN_MISMATCH:   return "LEN byte disagrees with the packet size";
    case FELICA_ERR_OVERSIZE:       return "packet or field larger than allowed";
    case FELICA_ERR_BAD_CODE:       return "unknown or unexpected command/response code";
    case FELICA_ERR_WRONG_IDM:      return "packet addressed to another chip (IDm)";
    case FELICA_ERR_BAD_PARAM:      return "field value out of range";
    case FELICA_ERR_BUFFER:         return "output buffer too small";
    case FELICA_ERR_MAC:            return "MAC verification failed";
    case FELICA_ERR_CRYPTOGRAM:     return "cryptogram verification failed";
    case FELICA_ERR_SEQUENCE:       return "counter or chaining out of sequence";
    case FELICA_ERR_STATE:          return "operation not allowed in the current state";
    case FELICA_ERR_SECURITY_LEVEL: return "security level too low";
    case FELICA_ERR_STATUS:         return "chip answered with an error status";
    case FELICA_ERR_CRYPTO:         return "crypto library failure";
    case FELICA_ERR_IO:             return "file input/output failed";
    case FELICA_ERR_CORRUPT:        return "data damaged or tampered with";
    case FELICA_ERR_VERSION:        return "unsupported format version";
    case FELICA_ERR_NOMEM:          return "out of memory";
    case FELICA_ERR_NOT_FOUND:      return "no such area, service, block or slot";
    case FELICA_ERR_EXISTS:         return "already present";
    case FELICA_ERR_FULL:           return "no free slot or space";
    case FELICA_ERR_PADDING:        return "bad padding after decryption";
    default:                        return "unknown error";
    }
}
