/* felica_image_fault.h: internal test hook for the atomic image save.
 * Not part of the public API: the unit tests use it to simulate a crash or a
 * full disk after every possible number of written bytes and prove that the
 * old image always survives. */
#ifndef FELICA_IMAGE_FAULT_H
#define FELICA_IMAGE_FAULT_H

#include "felica_image.h"

typedef struct felica_image_fault {
    /* >= 0: write only this many bytes of the temporary file, then return as
     * if the process had died there (temporary file left behind, no rename). */
    long crash_after_bytes;
    /* 1: write and fsync everything, then "die" just before the rename. */
    int crash_before_rename;
    /* >= 0: the write fails (like ENOSPC) after this many bytes; the save
     * removes its temporary file and reports FELICA_ERR_IO. */
    long fail_after_bytes;
} felica_image_fault_t;

/* felica_image_save with a fault plan (NULL: none). */
int felica_image_save_faulty(const char *path, const felica_image_t *img,
                             const felica_image_fault_t *fault);

#endif
