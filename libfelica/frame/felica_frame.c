/* felica_frame.c: the first step of every decoder - check LEN against the
 * buffer and split off CODE and IDm. */
#include <string.h>
#include "felica_frame.h"
#include "felica_frame_layout.h"

int felica_frame_split(const uint8_t *pkt, size_t len, felica_frame_t *out)
{
    size_t hdr;

    if (pkt == NULL || out == NULL)
        return FELICA_ERR_BAD_PARAM;
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return FELICA_ERR_TRUNCATED;          /* not even a LEN byte */
    if (len > FELICA_MAX_FRAME)
        return FELICA_ERR_OVERSIZE;
    /* LEN counts itself, so 0 is never right; any other disagreement with the
     * buffer (shorter or longer) is a mismatch, never silently tolerated. */
    if (pkt[0] != len)
        return FELICA_ERR_LEN_MISMATCH;
    if (len < 2)
        return FELICA_ERR_TRUNCATED;          /* LEN alone, no CODE */
    out->code = pkt[1];
    out->has_idm = out->code != FELICA_CMD_POLLING;
    hdr = out->has_idm ? FELICA_HDR_LEN : 2;
    if (len < hdr)
        return FELICA_ERR_TRUNCATED;
    if (out->has_idm)
        memcpy(out->idm, pkt + 2, FELICA_IDM_LEN);
    out->body = pkt + hdr;
    out->body_len = len - hdr;
    return FELICA_OK;
}
