/* felica_chip_change.c: the chip's persistence discipline (apply a change to
 * a copy, save it atomically, then make it current) and the end of a
 * session, shared by the object (felica_chip.c) and the command handlers.
 * Calls nothing of the chip above it. */
#include "felica_chip_internal.h"
#include "felica_crypto.h"

void chip_drop_session(felica_chip_t *chip)
{
    felica_sc_wipe(&chip->sc);
    chip->mode = FELICA_MODE_0;
}

void chip_begin_change(felica_chip_t *chip)
{
    chip->next = chip->img;
}

int chip_commit_change(felica_chip_t *chip)
{
    int rc = FELICA_OK;

    if (chip->path != NULL)
        rc = felica_image_save_faulty(chip->path, &chip->next,
                                      chip->has_fault ? &chip->fault : NULL);
    if (rc == FELICA_OK)
        chip->img = chip->next;
    felica_wipe(&chip->next, sizeof(chip->next));
    return rc;
}
