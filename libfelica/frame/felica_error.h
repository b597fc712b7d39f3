/* felica_error.h: the error codes every libfelica function returns.
 * 0 is success; every failure has its own negative code so that callers (the
 * gateway, felicactl, tests) can tell exactly what was wrong with a packet. */
#ifndef FELICA_ERROR_H
#define FELICA_ERROR_H

typedef enum felica_err {
    FELICA_OK = 0,
    FELICA_ERR_TRUNCATED = -1,      /* packet shorter than its fields need */
    FELICA_ERR_LEN_MISMATCH = -2,   /* LEN byte disagrees with the packet size */
    FELICA_ERR_OVERSIZE = -3,       /* longer than a frame / a limit allows */
    FELICA_ERR_BAD_CODE = -4,       /* unknown or unexpected command/response code */
    FELICA_ERR_WRONG_IDM = -5,      /* addressed to another chip */
    FELICA_ERR_BAD_PARAM = -6,      /* a field holds a value outside its range */
    FELICA_ERR_BUFFER = -7,         /* caller's output buffer too small */
    FELICA_ERR_MAC = -8,            /* C-MAC / R-MAC verification failed */
    FELICA_ERR_CRYPTOGRAM = -9,     /* card or host cryptogram verification failed */
    FELICA_ERR_SEQUENCE = -10,      /* counter / chaining out of order (replay, reorder) */
    FELICA_ERR_STATE = -11,         /* operation not allowed in the current state/mode */
    FELICA_ERR_SECURITY_LEVEL = -12,/* security level too low for this operation */
    FELICA_ERR_STATUS = -13,        /* the chip answered with an error status flag */
    FELICA_ERR_CRYPTO = -14,        /* the crypto library failed */
    FELICA_ERR_IO = -15,            /* file read/write/rename failed */
    FELICA_ERR_CORRUPT = -16,       /* image / serialised state damaged or tampered */
    FELICA_ERR_VERSION = -17,       /* unsupported format version */
    FELICA_ERR_NOMEM = -18,
    FELICA_ERR_NOT_FOUND = -19,     /* no such area / service / block / slot */
    FELICA_ERR_EXISTS = -20,        /* area / card already present */
    FELICA_ERR_FULL = -21,          /* no free card slot / no space */
    FELICA_ERR_PADDING = -22        /* bad ISO 9797-1 method 2 padding after decryption */
} felica_err_t;

/* A short, stable, English description of an error code ("MAC verification failed"). */
const char *felica_strerror(int err);

#endif
