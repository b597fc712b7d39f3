/* felica_chip_resp.c: building a public answer, LEN | CODE | IDm, then the
 * body, for the command handlers.  Calls nothing of the chip above it. */
#include <string.h>
#include "felica_chip_internal.h"

int resp_start(chip_resp_t *r, const felica_chip_t *chip, uint8_t code)
{
    if (r->cap < 2 + FELICA_IDM_LEN)
        return FELICA_ERR_BUFFER;
    r->p[0] = 0;
    r->p[1] = code;
    memcpy(r->p + 2, chip->img.idm, FELICA_IDM_LEN);
    r->len = 2 + FELICA_IDM_LEN;
    return FELICA_OK;
}

int resp_put(chip_resp_t *r, const void *src, size_t n)
{
    if (r->cap - r->len < n || r->len + n > FELICA_MAX_FRAME)
        return FELICA_ERR_BUFFER;
    memcpy(r->p + r->len, src, n);
    r->len += n;
    return FELICA_OK;
}

int resp_u8(chip_resp_t *r, uint8_t v)
{
    return resp_put(r, &v, 1);
}

int resp_finish(chip_resp_t *r, size_t *resp_len)
{
    if (r->len > FELICA_MAX_FRAME)
        return FELICA_ERR_BUFFER;
    r->p[0] = (uint8_t)r->len;
    *resp_len = r->len;
    return FELICA_OK;
}
