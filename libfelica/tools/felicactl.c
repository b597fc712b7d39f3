/* felicactl: decode FeliCa packets, create and inspect chip images, and run the
 * chip emulator over stdin/stdout.  `felicactl help` prints the usage.
 *
 * Exit codes: 0 ok, 1 usage error, 2 bad input or data (with a message on
 * stderr).  Keys are never printed. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "felica_chip.h"
#include "felica_crypto.h"
#include "felica_frame.h"
#include "felica_image.h"
#include "felica_sc.h"

#define EXIT_USAGE 1
#define EXIT_DATA 2
#define LINE_MAX_LEN 4096

#define DEFAULT_PMM "00F1000000014300"
#define DEFAULT_SYSTEM 0x88B4
#define INFO_AREA 0x0040
static const char INFO_BLOCK[16] = "idgw chip emu v1";

static const char USAGE[] =
    "usage: felicactl COMMAND ...\n"
    "  help                                  this text\n"
    "  decode [HEX]                          describe one packet, or one per stdin line\n"
    "  image create PATH --idm HEX --system-master-keys FILE\n"
    "               [--pmm HEX] [--system HEX] [--kvn N]\n"
    "                                        new chip image (mode 0600); system keys\n"
    "                                        diversified from the master key set KVN N\n"
    "                                        (default: the first one in FILE)\n"
    "  image show PATH                       summary: IDm, system, counter, areas, KVNs\n"
    "  image dump PATH [--include-keyed]     blocks in hex per area (keyed areas only\n"
    "                                        with --include-keyed; keys never)\n"
    "  run PATH                              chip emulator: one hex packet per stdin line,\n"
    "                                        one hex answer per stdout line (empty line =\n"
    "                                        silence); changes persisted to PATH\n"
    "key file: one key set per line, '#' comments allowed:\n"
    "  kvn=01 enc=<32 hex> mac=<32 hex> dek=<32 hex>\n"
    "exit codes: 0 ok, 1 usage, 2 bad input or data\n";

static int usage_error(const char *msg)
{
    if (msg != NULL)
        fprintf(stderr, "felicactl: %s\n", msg);
    fputs(USAGE, stderr);
    return EXIT_USAGE;
}

static int data_error(const char *what, const char *detail)
{
    fprintf(stderr, "felicactl: %s: %s\n", what, detail);
    return EXIT_DATA;
}

/* ---- hex ---- */

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse hex digits (spaces and tabs ignored) into out; -1 on a bad digit, an
 * odd count or more than cap bytes, else the byte count. */
static long parse_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1, v;

    for (; *s != '\0'; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
            continue;
        v = hex_value((unsigned char)*s);
        if (v < 0)
            return -1;
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n >= cap)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    return hi >= 0 ? -1 : (long)n;
}

/* Exactly len bytes of hex. */
static int parse_hex_exact(const char *s, uint8_t *out, size_t len)
{
    return parse_hex(s, out, len) == (long)len;
}

static void print_hex(FILE *f, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        fprintf(f, "%02X", p[i]);
}

/* Strip the line end; 0 when the line was longer than the buffer. */
static int chomp(char *line)
{
    size_t n = strlen(line);

    if (n > 0 && line[n - 1] == '\n') {
        line[--n] = '\0';
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        return 1;
    }
    return n < LINE_MAX_LEN - 1;
}

/* Discard the rest of an overlong line. */
static void skip_rest_of_line(FILE *f)
{
    int c;

    while ((c = fgetc(f)) != EOF && c != '\n')
        ;
}

static int is_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

/* ---- decode ---- */

static int describe_one(const char *hex)
{
    uint8_t pkt[FELICA_MAX_FRAME];
    char text[8192];
    long n = parse_hex(hex, pkt, sizeof(pkt));
    int rc;

    if (n <= 0)
        return data_error("decode", "not a hex packet of 1..255 bytes");
    rc = felica_describe(pkt, (size_t)n, text, sizeof(text));
    fputs(text, stdout);
    if (rc != FELICA_OK) {
        fprintf(stderr, "felicactl: decode: %s\n", felica_strerror(rc));
        return EXIT_DATA;
    }
    return 0;
}

static int cmd_decode(int argc, char **argv)
{
    char line[LINE_MAX_LEN];
    int status = 0, first = 1, rc;

    if (argc > 1)
        return usage_error("decode takes at most one packet");
    if (argc == 1)
        return describe_one(argv[0]);
    while (fgets(line, sizeof(line), stdin) != NULL) {
        if (!chomp(line)) {
            skip_rest_of_line(stdin);
            status = data_error("decode", "line too long");
            continue;
        }
        if (is_blank(line))
            continue;
        if (!first)
            putchar('\n');
        first = 0;
        rc = describe_one(line);
        if (rc != 0)
            status = rc;
    }
    return status;
}

/* ---- key file ---- */

/* Parse "kvn=01 enc=.. mac=.. dek=.." (any order, each once). */
static int parse_key_line(char *line, felica_keyset_t *ks)
{
    char *tok, *save = NULL;
    int have = 0;

    for (tok = strtok_r(line, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
        if (strncmp(tok, "kvn=", 4) == 0 && !(have & 1) && parse_hex_exact(tok + 4, &ks->kvn, 1))
            have |= 1;
        else if (strncmp(tok, "enc=", 4) == 0 && !(have & 2) && parse_hex_exact(tok + 4, ks->enc, 16))
            have |= 2;
        else if (strncmp(tok, "mac=", 4) == 0 && !(have & 4) && parse_hex_exact(tok + 4, ks->mac, 16))
            have |= 4;
        else if (strncmp(tok, "dek=", 4) == 0 && !(have & 8) && parse_hex_exact(tok + 4, ks->dek, 16))
            have |= 8;
        else
            return 0;
    }
    return have == 15;
}

/* The key set with this KVN (kvn < 0: the first) from a key file. */
static int read_master_keys(const char *path, long kvn, felica_keyset_t *out)
{
    char line[LINE_MAX_LEN], msg[128];
    felica_keyset_t ks;
    FILE *f = fopen(path, "r");
    int lineno = 0, found = 0, rc = 0;

    if (f == NULL)
        return data_error(path, strerror(errno));
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (!chomp(line)) {
            snprintf(msg, sizeof(msg), "line %d too long", lineno);
            rc = data_error(path, msg);
            break;
        }
        if (is_blank(line) || line[strspn(line, " \t")] == '#')
            continue;
        memset(&ks, 0, sizeof(ks));
        if (!parse_key_line(line, &ks)) {
            /* say where, never what: the line holds keys */
            snprintf(msg, sizeof(msg), "line %d is not 'kvn=HH enc=<32 hex> mac=<32 hex> dek=<32 hex>'",
                     lineno);
            rc = data_error(path, msg);
            break;
        }
        if (kvn < 0 || ks.kvn == kvn) {
            *out = ks;
            found = 1;
        }
    }
    fclose(f);
    felica_wipe(line, sizeof(line));
    felica_wipe(&ks, sizeof(ks));
    if (rc == 0 && !found)
        rc = data_error(path, kvn < 0 ? "no key set" : "no key set with that KVN");
    return rc;
}

/* ---- image create / show / dump ---- */

static int parse_u16_hex(const char *s, uint16_t *v)
{
    uint8_t b[2];

    if (!parse_hex_exact(s, b, 2))
        return 0;
    *v = (uint16_t)(b[0] << 8 | b[1]);
    return 1;
}

static int parse_kvn(const char *s, long *kvn)
{
    char *end;

    errno = 0;
    *kvn = strtol(s, &end, 0);
    return errno == 0 && end != s && *end == '\0' && *kvn >= 0 && *kvn <= 255;
}

static int image_create(int argc, char **argv)
{
    const char *path, *keyfile = NULL;
    uint8_t idm[8], pmm[8];
    uint16_t system = DEFAULT_SYSTEM;
    long kvn = -1;
    int have_idm = 0, i, rc;
    felica_keyset_t master, chip_keys;
    static felica_image_t img;
    struct stat st;

    if (argc < 1)
        return usage_error("image create needs PATH");
    path = argv[0];
    parse_hex_exact(DEFAULT_PMM, pmm, 8);
    for (i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (val == NULL)
            return usage_error("option without a value");
        i++;
        if (strcmp(opt, "--idm") == 0) {
            if (!parse_hex_exact(val, idm, 8))
                return data_error("--idm", "needs 16 hex digits");
            have_idm = 1;
        } else if (strcmp(opt, "--pmm") == 0) {
            if (!parse_hex_exact(val, pmm, 8))
                return data_error("--pmm", "needs 16 hex digits");
        } else if (strcmp(opt, "--system") == 0) {
            if (!parse_u16_hex(val, &system) || system == 0xFFFF)
                return data_error("--system", "needs 4 hex digits (not FFFF)");
        } else if (strcmp(opt, "--kvn") == 0) {
            if (!parse_kvn(val, &kvn))
                return data_error("--kvn", "needs a number 0..255");
        } else if (strcmp(opt, "--system-master-keys") == 0) {
            keyfile = val;
        } else {
            return usage_error("unknown option for image create");
        }
    }
    if (!have_idm || keyfile == NULL)
        return usage_error("image create needs --idm and --system-master-keys");
    if (stat(path, &st) == 0)
        return data_error(path, "exists already (refusing to replace a chip)");
    rc = read_master_keys(keyfile, kvn, &master);
    if (rc != 0)
        return rc;
    rc = felica_keys_diversify(&master, idm, &chip_keys);
    felica_wipe(&master, sizeof(master));
    felica_image_init(&img, idm, pmm, system);
    if (rc == FELICA_OK)
        rc = felica_image_add_keyset(&img, FELICA_AREA_SYSTEM, &chip_keys);
    felica_wipe(&chip_keys, sizeof(chip_keys));
    if (rc == FELICA_OK)
        rc = felica_image_add_area(&img, INFO_AREA, FELICA_ACCESS_PLAIN_RO, 1);
    if (rc == FELICA_OK) {
        memcpy(felica_image_find_area(&img, INFO_AREA)->blocks[0], INFO_BLOCK, 16);
        rc = felica_image_save(path, &img);
    }
    felica_image_wipe(&img);
    if (rc != FELICA_OK)
        return data_error(path, felica_strerror(rc));
    return 0;
}

static const char *access_name(uint8_t access)
{
    switch (access) {
    case FELICA_ACCESS_KEYED:    return "keyed";
    case FELICA_ACCESS_PLAIN_RO: return "plain read-only";
    case FELICA_ACCESS_PLAIN_RW: return "plain read/write";
    default:                     return "?";
    }
}

static void print_kvns(const felica_keyset_t *keys, uint8_t n)
{
    uint8_t i;

    if (n == 0)
        fputs(" none", stdout);
    for (i = 0; i < n; i++)
        printf(" %02X", keys[i].kvn);
    putchar('\n');
}

static int load_image(const char *path, felica_image_t *img)
{
    int rc = felica_image_load(path, img);

    if (rc != FELICA_OK)
        return data_error(path, felica_strerror(rc));
    return 0;
}

static int image_show(int argc, char **argv)
{
    static felica_image_t img;
    uint8_t i;
    int rc;

    if (argc != 1)
        return usage_error("image show takes PATH");
    rc = load_image(argv[0], &img);
    if (rc != 0)
        return rc;
    fputs("idm: ", stdout);
    print_hex(stdout, img.idm, 8);
    fputs("\npmm: ", stdout);
    print_hex(stdout, img.pmm, 8);
    printf("\nsystem code: %04X\n", img.system_code);
    printf("mode at power-on: 0\n");
    printf("sequence counter: %u (%u authentications left)\n",
           (unsigned)img.seq_counter, (unsigned)(FELICA_CHIP_SEQ_MAX - img.seq_counter));
    fputs("system key versions:", stdout);
    print_kvns(img.sys_keys, img.n_sys_keys);
    printf("blocks used: %u of %u\n", felica_image_blocks_used(&img), FELICA_CHIP_BLOCK_BUDGET);
    printf("areas: %u\n", img.n_areas);
    for (i = 0; i < img.n_areas; i++) {
        const felica_area_state_t *a = &img.areas[i];
        printf("  area %04X: %s, %u blocks, key versions:", a->code, access_name(a->access),
               a->n_blocks);
        print_kvns(a->keys, a->n_keysets);
    }
    felica_image_wipe(&img);
    return 0;
}

static int image_dump(int argc, char **argv)
{
    static felica_image_t img;
    int include_keyed = 0, rc;
    uint8_t i;
    uint16_t b;

    if (argc == 2 && strcmp(argv[1], "--include-keyed") == 0)
        include_keyed = 1;
    else if (argc != 1)
        return usage_error("image dump takes PATH [--include-keyed]");
    rc = load_image(argv[0], &img);
    if (rc != 0)
        return rc;
    for (i = 0; i < img.n_areas; i++) {
        const felica_area_state_t *a = &img.areas[i];
        printf("area %04X (%s, %u blocks)\n", a->code, access_name(a->access), a->n_blocks);
        /* keyed areas hold what the secure channel protects (card data):
         * shown only when asked for explicitly */
        if (a->access == FELICA_ACCESS_KEYED && !include_keyed) {
            puts("  (contents withheld; --include-keyed shows them)");
            continue;
        }
        for (b = 0; b < a->n_blocks; b++) {
            printf("  %04X: ", b);
            print_hex(stdout, a->blocks[b], FELICA_BLOCK_LEN);
            putchar('\n');
        }
    }
    felica_image_wipe(&img);
    return 0;
}

static int cmd_image(int argc, char **argv)
{
    if (argc < 1)
        return usage_error("image needs create, show or dump");
    if (strcmp(argv[0], "create") == 0)
        return image_create(argc - 1, argv + 1);
    if (strcmp(argv[0], "show") == 0)
        return image_show(argc - 1, argv + 1);
    if (strcmp(argv[0], "dump") == 0)
        return image_dump(argc - 1, argv + 1);
    return usage_error("unknown image command");
}

/* ---- run ---- */

static void run_line(felica_chip_t *chip, char *line, unsigned long lineno)
{
    uint8_t cmd[FELICA_MAX_FRAME], resp[FELICA_MAX_FRAME];
    size_t resp_len = 0;
    long n = parse_hex(line, cmd, sizeof(cmd));
    int rc;

    if (n <= 0) {
        fprintf(stderr, "felicactl: run: line %lu: not a hex packet of 1..255 bytes\n", lineno);
    } else {
        rc = felica_chip_process(chip, cmd, (size_t)n, resp, sizeof(resp), &resp_len);
        if (rc != FELICA_OK) {
            fprintf(stderr, "felicactl: run: line %lu: %s\n", lineno, felica_strerror(rc));
            resp_len = 0;
        }
        print_hex(stdout, resp, resp_len);
    }
    putchar('\n');
    fflush(stdout);
}

static int cmd_run(int argc, char **argv)
{
    char line[LINE_MAX_LEN];
    felica_chip_t *chip = NULL;
    unsigned long lineno = 0;
    int rc;

    if (argc != 1)
        return usage_error("run takes PATH");
    rc = felica_chip_open(argv[0], &chip);
    if (rc != FELICA_OK)
        return data_error(argv[0], felica_strerror(rc));
    while (fgets(line, sizeof(line), stdin) != NULL) {
        lineno++;
        if (!chomp(line)) {
            skip_rest_of_line(stdin);
            fprintf(stderr, "felicactl: run: line %lu: too long\n", lineno);
            putchar('\n');
            fflush(stdout);
            continue;
        }
        run_line(chip, line, lineno);
    }
    felica_chip_free(chip);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error(NULL);
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (strcmp(argv[1], "decode") == 0)
        return cmd_decode(argc - 2, argv + 2);
    if (strcmp(argv[1], "image") == 0)
        return cmd_image(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    return usage_error("unknown command");
}
