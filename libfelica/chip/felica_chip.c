/* felica_chip.c: the chip emulator's object and the dispatcher that decides
 * between an answer and silence, top of the chip's files: it calls the
 * command handlers (felica_chip_public.c, felica_chip_secure.c), which call
 * the helpers they share (felica_chip_change.c: persistence and the session;
 * felica_chip_resp.c: building an answer); nothing calls back up. */
#include <stdlib.h>
#include <string.h>
#include "felica_chip_internal.h"
#include "felica_crypto.h"

int felica_chip_new(const felica_image_t *img, const char *path, felica_chip_t **out)
{
    felica_chip_t *chip;
    int rc;

    if (img == NULL || out == NULL)
        return FELICA_ERR_BAD_PARAM;
    *out = NULL;
    rc = felica_image_validate(img);
    if (rc != FELICA_OK)
        return rc;
    chip = calloc(1, sizeof(*chip));
    if (chip == NULL)
        return FELICA_ERR_NOMEM;
    if (path != NULL) {
        chip->path = strdup(path);
        if (chip->path == NULL) {
            free(chip);
            return FELICA_ERR_NOMEM;
        }
    }
    chip->img = *img;
    chip->mode = FELICA_MODE_0;
    felica_sc_wipe(&chip->sc);
    *out = chip;
    return FELICA_OK;
}

int felica_chip_open(const char *path, felica_chip_t **out)
{
    felica_image_t *img;
    int rc;

    if (path == NULL || out == NULL)
        return FELICA_ERR_BAD_PARAM;
    img = malloc(sizeof(*img));
    if (img == NULL)
        return FELICA_ERR_NOMEM;
    rc = felica_image_load(path, img);
    if (rc == FELICA_OK)
        rc = felica_chip_new(img, path, out);
    felica_image_wipe(img);
    free(img);
    return rc;
}

void felica_chip_free(felica_chip_t *chip)
{
    if (chip == NULL)
        return;
    free(chip->path);
    felica_wipe(chip, sizeof(*chip));
    free(chip);
}

void felica_chip_reset(felica_chip_t *chip)
{
    if (chip != NULL)
        chip_drop_session(chip);
}

int felica_chip_mode(const felica_chip_t *chip)
{
    return chip->mode;
}

const felica_image_t *felica_chip_image(const felica_chip_t *chip)
{
    return &chip->img;
}

void felica_chip_set_fault(felica_chip_t *chip, const felica_image_fault_t *fault)
{
    chip->has_fault = fault != NULL;
    if (fault != NULL)
        chip->fault = *fault;
}

/* ---- dispatch ---- */

int felica_chip_process(felica_chip_t *chip, const uint8_t *cmd, size_t cmd_len,
                        uint8_t *resp, size_t cap, size_t *resp_len)
{
    felica_frame_t f;

    if (chip == NULL || cmd == NULL || resp == NULL || resp_len == NULL
        || cap < FELICA_MAX_FRAME)
        return FELICA_ERR_BAD_PARAM;
    *resp_len = 0;
    /* A frame whose LEN disagrees with its size never reaches a chip's
     * command layer: silence, and no state change. */
    if (felica_frame_split(cmd, cmd_len, &f) != FELICA_OK)
        return FELICA_OK;
    if (f.code == FELICA_CMD_POLLING)
        return chip_polling(chip, cmd, cmd_len, resp, cap, resp_len);
    /* Addressed to another chip, or a response code: not for us. */
    if (!felica_memeq(f.idm, chip->img.idm, FELICA_IDM_LEN) || (f.code & 1))
        return FELICA_OK;
    switch (f.code) {
    case FELICA_CMD_REQUEST_SERVICE:
        return chip_request_service(chip, cmd, cmd_len, resp, cap, resp_len);
    case FELICA_CMD_REQUEST_RESPONSE:
        return chip_request_response(chip, cmd, cmd_len, resp, cap, resp_len);
    case FELICA_CMD_REQUEST_SYSTEM_CODE:
        return chip_request_system_code(chip, cmd, cmd_len, resp, cap, resp_len);
    case FELICA_CMD_READ_WO_ENC:
        return chip_read_write_plain(chip, &f, 0, resp, cap, resp_len);
    case FELICA_CMD_WRITE_WO_ENC:
        return chip_read_write_plain(chip, &f, 1, resp, cap, resp_len);
    case FELICA_CMD_AUTH1:
    case FELICA_CMD_AUTH2:
    case FELICA_CMD_SECURE_READ:
    case FELICA_CMD_SECURE_WRITE:
    case FELICA_CMD_CREATE_AREA:
    case FELICA_CMD_DELETE_AREA:
        return chip_secure(chip, cmd, cmd_len, resp, cap, resp_len);
    default:
        return FELICA_OK;        /* unknown command: a chip ignores it */
    }
}
