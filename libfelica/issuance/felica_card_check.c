/* felica_card_check.c: validity of a card record's fields (Luhn, expiry,
 * embossed name, status), shared by the encoders and the decoders. */
#include <string.h>
#include "felica_card.h"

/* Length of s up to max+1 characters (never reads past the terminator or max+1). */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n] != '\0')
        n++;
    return n;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int felica_card_pan_valid(const char *pan)
{
    if (pan == NULL)
        return 0;
    size_t n = bounded_len(pan, FELICA_CARD_PAN_MAX);
    if (n < FELICA_CARD_PAN_MIN || n > FELICA_CARD_PAN_MAX || !all_digits(pan, n))
        return 0;
    /* Luhn: double every second digit from the right, check digit included. */
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(pan[n - 1 - i] - '0');
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

int felica_card_expiry_valid(const char *expiry)
{
    if (expiry == NULL || bounded_len(expiry, 4) != 4 || !all_digits(expiry, 4))
        return 0;
    int month = (expiry[2] - '0') * 10 + (expiry[3] - '0');
    return month >= 1 && month <= 12;
}

int felica_card_name_valid(const char *name)
{
    if (name == NULL)
        return 0;
    size_t n = bounded_len(name, FELICA_CARD_NAME_MAX);
    if (n == 0 || n > FELICA_CARD_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (c < 0x20 || c > 0x7E || (c >= 'a' && c <= 'z'))
            return 0;
    }
    return name[0] != ' ' && name[n - 1] != ' ';
}

int felica_card_validate(const felica_card_t *rec)
{
    if (rec == NULL)
        return FELICA_ERR_BAD_PARAM;
    if (!felica_card_pan_valid(rec->pan) || !felica_card_expiry_valid(rec->expiry)
        || !felica_card_name_valid(rec->name))
        return FELICA_ERR_BAD_PARAM;
    if (rec->issuer_id == 0 || rec->display.issuer_id == 0)
        return FELICA_ERR_BAD_PARAM;
    if (rec->status != FELICA_CARD_ACTIVE && rec->status != FELICA_CARD_SUSPENDED
        && rec->status != FELICA_CARD_DEPOSITED)
        return FELICA_ERR_BAD_PARAM;
    return FELICA_OK;
}
