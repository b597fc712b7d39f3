/* felica_image_file.c: load an image file and save it atomically
 * (temporary file in the same directory, fsync, rename, fsync directory). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "felica_image.h"
#include "felica_image_fault.h"
#include "felica_crypto.h"

int felica_image_load(const char *path, felica_image_t *img)
{
    struct stat st;
    uint8_t *buf;
    size_t got = 0;
    ssize_t n = 0;
    int fd, rc;

    if (path == NULL || img == NULL)
        return FELICA_ERR_BAD_PARAM;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? FELICA_ERR_NOT_FOUND : FELICA_ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return FELICA_ERR_IO;
    }
    if (st.st_size > (off_t)FELICA_IMAGE_MAX_LEN) {
        close(fd);
        return FELICA_ERR_CORRUPT;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return FELICA_ERR_NOMEM;
    }
    /* read one byte more than stat promised: a file that grew is refused */
    while (got <= (size_t)st.st_size) {
        n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (n < 0)
        rc = FELICA_ERR_IO;
    else if (got != (size_t)st.st_size)
        rc = FELICA_ERR_CORRUPT;
    else
        rc = felica_image_decode(buf, got, img);
    felica_wipe(buf, (size_t)st.st_size + 1);
    free(buf);
    return rc;
}

/* Write len bytes, obeying the fault plan; *crashed set when a simulated
 * crash stopped the write. */
static int write_all(int fd, const uint8_t *p, size_t len, const felica_image_fault_t *fault,
                     int *crashed)
{
    size_t limit = len, done = 0;
    int fail = 0;
    ssize_t n;

    if (fault != NULL && fault->crash_after_bytes >= 0 && (size_t)fault->crash_after_bytes < len) {
        limit = (size_t)fault->crash_after_bytes;
        *crashed = 1;
    } else if (fault != NULL && fault->fail_after_bytes >= 0
               && (size_t)fault->fail_after_bytes < len) {
        limit = (size_t)fault->fail_after_bytes;
        fail = 1;
    }
    while (done < limit) {
        n = write(fd, p + done, limit - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FELICA_ERR_IO;
        done += (size_t)n;
    }
    return (fail || *crashed) ? FELICA_ERR_IO : FELICA_OK;
}

/* fsync the directory holding path, so the rename itself is durable. */
static int sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd, rc = FELICA_OK;

    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return FELICA_ERR_NOMEM;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return FELICA_ERR_IO;
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = FELICA_ERR_IO;
    close(fd);
    return rc;
}

/* Write buf to a new temporary file beside path and rename it over path. */
static int replace_file(const char *path, const uint8_t *buf, size_t len,
                        const felica_image_fault_t *fault)
{
    static const char suffix[] = ".tmp.XXXXXX";
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof(suffix));
    int fd, rc, crashed = 0;

    if (tmp == NULL)
        return FELICA_ERR_NOMEM;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, suffix, sizeof(suffix));
    fd = mkstemp(tmp);           /* creates the file with mode 0600 */
    if (fd < 0) {
        free(tmp);
        return FELICA_ERR_IO;
    }
    rc = write_all(fd, buf, len, fault, &crashed);
    if (crashed) {
        close(fd);               /* a dead process leaves its temp file behind */
        free(tmp);
        return FELICA_ERR_IO;
    }
    if (rc == FELICA_OK && (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || fsync(fd) != 0))
        rc = FELICA_ERR_IO;
    if (close(fd) != 0 && rc == FELICA_OK)
        rc = FELICA_ERR_IO;
    if (rc == FELICA_OK && fault != NULL && fault->crash_before_rename) {
        free(tmp);
        return FELICA_ERR_IO;
    }
    if (rc == FELICA_OK && rename(tmp, path) != 0)
        rc = FELICA_ERR_IO;
    if (rc != FELICA_OK) {
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    /* The new image is in place once rename succeeded: the caller must treat
     * it as written.  A failing directory fsync only weakens durability
     * across a power loss, so it does not turn the save into a failure. */
    (void)sync_parent_dir(path);
    return FELICA_OK;
}

int felica_image_save_faulty(const char *path, const felica_image_t *img,
                             const felica_image_fault_t *fault)
{
    uint8_t *buf;
    size_t len = 0;
    int rc;

    if (path == NULL || img == NULL || *path == '\0')
        return FELICA_ERR_BAD_PARAM;
    buf = malloc(FELICA_IMAGE_MAX_LEN);
    if (buf == NULL)
        return FELICA_ERR_NOMEM;
    rc = felica_image_encode(img, buf, FELICA_IMAGE_MAX_LEN, &len);
    if (rc == FELICA_OK)
        rc = replace_file(path, buf, len, fault);
    felica_wipe(buf, FELICA_IMAGE_MAX_LEN);
    free(buf);
    return rc;
}

int felica_image_save(const char *path, const felica_image_t *img)
{
    return felica_image_save_faulty(path, img, NULL);
}
