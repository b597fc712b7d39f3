/*
 * idgw_identity.c - the identities the smartphone API names (terminal id,
 * chip IDm) and hex rendering; see idgw_identity.h.
 */
#include "idgw_identity.h"

void idgw_hex(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int idgw_terminal_id_valid(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];

        if (i >= IDGW_TERMINAL_ID_MAX)
            return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return i > 0;
}

int idgw_idm_normalise(const char *s, char out[IDGW_IDM_HEX + 1])
{
    size_t i;

    for (i = 0; i < IDGW_IDM_HEX; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 'a' && c <= 'f')
            c = (unsigned char)(c - 'a' + 'A');
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
            return 0;
        out[i] = (char)c;
    }
    out[IDGW_IDM_HEX] = '\0';
    return s[IDGW_IDM_HEX] == '\0';
}
