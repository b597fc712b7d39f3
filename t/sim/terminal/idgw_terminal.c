/* idgw_terminal.c: the terminal simulator, the app's role on libfelica's
 * chip emulator (docs/smartphone-api.md).
 *
 *   idgw-terminal --url https://127.0.0.1:8443/idgw/v1 --pin sha256//BASE64
 *                 --chip PHONE.img [--idm HEX] [options] COMMAND [key=value ...]
 *
 * Commands: open, close, status, issue-area, delete-area, add-card,
 * update-card, delete-card, set-main, list, store, restore, display,
 * raw OP STEP BODY, story, run CMD... (several commands in one session).
 * --member-suffix DIGITS makes the story use the simulators' derived members
 * (DCM0001-DIGITS, SKR0001-DIGITS): cards of this phone alone.
 * Fields are the request's XML fields: source= member= password= issuer=
 * cardId= slot= main=.
 * A missing chip image is created (fresh chip, system keys diversified from
 * --system-master-keys) with felicactl.  --state FILE keeps the session
 * between invocations.  --concurrent N runs the story on N phones at once and
 * prints per-step latencies.  Exit codes: term_ops.h (0 ok, 1 refused,
 * 2 usage, 3 card data in an answer, 4 transport). */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libxml/parser.h>

#include "term_ops.h"

typedef struct options {
    char host[256], port[16], prefix[128];
    uint8_t pin[TERM_PIN_LEN];
    int have_pin;
    const char *chip, *idm, *pmm, *terminal, *state, *keys, *felicactl, *secrets;
    const char *app_version, *source;
    const char *suffix;              /* --member-suffix: the story's derived members */
    const char *header;              /* --header "Name: value" */
    int quiet, concurrent, packets;
    term_misbehave_t bad;
} options_t;

static void usage(void)
{
    fputs("usage: idgw-terminal --url URL --pin sha256//BASE64 --chip IMAGE [--idm HEX] "
          "[--pmm HEX] [--source ADDR]\n"
          "         [--terminal ID] [--state FILE] [--system-master-keys FILE] [--felicactl PATH]\n"
          "         [--secrets FILE] [--quiet] [--packets] [--concurrent N]\n"
          "         [--header 'Name: value'] [--member-suffix DIGITS]\n"
          "         [--tamper N] [--wrong-idm N] [--replay N] [--vanish-after N] [--retransmit N]\n"
          "         [--oversize N]\n"
          "         COMMAND [key=value ...]\n"
          "commands: open close status issue-area delete-area add-card update-card delete-card\n"
          "          set-main list store restore display story\n"
          "          raw OP STEP BODY [content-type=T] [method=M]   run CMD [CMD ...]\n", stderr);
}

/* https://HOST:PORT/PREFIX */
static int parse_url(options_t *o, const char *url)
{
    const char *p, *slash, *colon;

    if (strncmp(url, "https://", 8) != 0)
        return -1;
    p = url + 8;
    slash = strchr(p, '/');
    colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
    if (!colon || !slash || (size_t)(colon - p) >= sizeof(o->host))
        return -1;
    snprintf(o->host, sizeof(o->host), "%.*s", (int)(colon - p), p);
    snprintf(o->port, sizeof(o->port), "%.*s", (int)(slash - colon - 1), colon + 1);
    snprintf(o->prefix, sizeof(o->prefix), "%s", slash);
    while (strlen(o->prefix) > 1 && o->prefix[strlen(o->prefix) - 1] == '/')
        o->prefix[strlen(o->prefix) - 1] = '\0';
    return 0;
}

static int load_secrets(term_t *t, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[128];

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        t->secrets = realloc(t->secrets, sizeof(char *) * (size_t)(t->n_secrets + 1));
        t->secrets[t->n_secrets++] = strdup(line);
    }
    fclose(f);
    return 0;
}

/* A fresh chip (felicactl image create), when the image does not exist yet. */
static int ensure_chip(const options_t *o, const char *path, const char *idm, const char *pmm)
{
    struct stat st;
    pid_t pid;
    int status;

    if (stat(path, &st) == 0)
        return 0;
    if (!o->keys || !o->felicactl) {
        fprintf(stderr, "idgw-terminal: %s does not exist (give --system-master-keys and "
                "--felicactl to create a fresh chip)\n", path);
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        execl(o->felicactl, o->felicactl, "image", "create", path, "--idm", idm, "--pmm", pmm,
              "--system-master-keys", o->keys, (char *)NULL);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
        return -1;
    return 0;
}

/* key=value arguments -> the XML fields of a request */
static char *fields_xml(int argc, char **argv)
{
    size_t cap = 1, n = 0;
    char *out = calloc(1, 1);

    for (int i = 0; i < argc && out; i++) {
        const char *eq = strchr(argv[i], '=');
        char *piece;
        int len;

        if (!eq || eq == argv[i]) {
            fprintf(stderr, "idgw-terminal: expected key=value, got '%s'\n", argv[i]);
            free(out);
            return NULL;
        }
        len = asprintf(&piece, "<%.*s>%s</%.*s>", (int)(eq - argv[i]), argv[i], eq + 1,
                       (int)(eq - argv[i]), argv[i]);
        if (len < 0)
            break;
        cap = n + (size_t)len + 1;
        out = realloc(out, cap);
        memcpy(out + n, piece, (size_t)len + 1);
        n += (size_t)len;
        free(piece);
    }
    return out;
}

static const struct {
    const char *cmd, *op;
} op_cmds[] = {
    { "issue-area", "issue_area" }, { "delete-area", "delete_area" },
    { "add-card", "add_card" }, { "update-card", "update_card" },
    { "delete-card", "delete_card" }, { "set-main", "set_main" }, { "list", "list_cards" },
    { "store", "store_card" }, { "restore", "restore_card" }, { "display", "display_data" },
};

/* FNV-1a of the answer body: not secret-bearing, only for comparing answers */
static unsigned long body_digest(const char *b)
{
    unsigned long h = 2166136261UL;

    for (; b && *b; b++)
        h = ((h ^ (unsigned char)*b) * 16777619UL) & 0xffffffffUL;
    return h;
}

static int raw_command(term_t *t, int argc, char **argv)
{
    const char *ctype = NULL, *method = NULL;
    int st;

    if (argc < 3)
        return TERM_USAGE;
    for (int i = 3; i < argc; i++) {
        if (strncmp(argv[i], "content-type=", 13) == 0)
            ctype = argv[i] + 13;
        else if (strncmp(argv[i], "method=", 7) == 0)
            method = argv[i] + 7;
    }
    st = term_step(t, argv[0], argv[1], argv[2], ctype, method);
    if (st < 0)
        return -st;
    /* status, error code, Retry-After, replayed, and a digest of the body (so
     * a test can tell that a retransmission got the first attempt's answer) */
    printf("%d %s retry-after=%d replay=%d body=%08lx\n", st,
           t->last_error[0] ? t->last_error : "-", t->last_retry_after, t->last_replay,
           body_digest(t->last_body));
    return st >= 400 ? TERM_REFUSED : TERM_OK;
}

static int one_command(term_t *t, const options_t *o, int argc, char **argv)
{
    char *fields;
    int rc;

    if (strcmp(argv[0], "open") == 0)
        return term_open(t, o->app_version);
    if (strcmp(argv[0], "close") == 0)
        return term_close(t);
    if (strcmp(argv[0], "status") == 0)
        return term_status(t);
    if (strcmp(argv[0], "raw") == 0)
        return raw_command(t, argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(op_cmds) / sizeof(op_cmds[0]); i++) {
        if (strcmp(argv[0], op_cmds[i].cmd) != 0)
            continue;
        if (!(fields = fields_xml(argc - 1, argv + 1)))
            return TERM_USAGE;
        rc = term_operation(t, op_cmds[i].op, fields);
        free(fields);
        return rc;
    }
    fprintf(stderr, "idgw-terminal: unknown command %s\n", argv[0]);
    return TERM_USAGE;
}

/* ---- the story ------------------------------------------------------------------------ */

/* The story's two cards: the test cardholders DCM0001 (C101) and SKR0001
 * (C401), or with --member-suffix SFX the simulators' derived members
 * DCM0001-SFX and SKR0001-SFX, cards C101SFX and C401SFX (t/sim/sim_cards.c):
 * cards no other phone uses.  Returns the fields of a card request. */
static const char *story_card(char *buf, size_t cap, const options_t *o, int dlc,
                              const char *slot)
{
    const char *sfx = o->suffix ? o->suffix : "", *dash = o->suffix ? "-" : "";

    if (dlc)
        snprintf(buf, cap, "<source>dlc</source><issuer>SKR</issuer><member>SKR0001%s%s</member>"
                 "<password>sakura01</password><cardId>C401%s</cardId><slot>%s</slot>",
                 dash, sfx, sfx, slot);
    else
        snprintf(buf, cap, "<source>cremo</source><member>DCM0001%s%s</member>"
                 "<password>docomo01</password><cardId>C101%s</cardId><slot>%s</slot>",
                 dash, sfx, sfx, slot);
    return buf;
}

/* One phone's part: open, issue the area, add two cards (one per source),
 * list, set main, delete one; with store, deposit the other and close. */
static int story_phone(term_t *t, const options_t *o, int with_store)
{
    char b[320];
    int rc;

    if ((rc = term_open(t, o->app_version))
        || (rc = term_operation(t, "issue_area", ""))
        || (rc = term_operation(t, "add_card", story_card(b, sizeof(b), o, 0, "any")))
        || (rc = term_operation(t, "add_card", story_card(b, sizeof(b), o, 1, "any")))
        || (rc = term_operation(t, "list_cards", ""))
        || (rc = term_operation(t, "set_main", "<slot>1</slot>"))
        || (rc = term_operation(t, "delete_card", story_card(b, sizeof(b), o, 0, "0"))))
        return rc;
    if (with_store
        && (rc = term_operation(t, "store_card", story_card(b, sizeof(b), o, 1, "1"))))
        return rc;
    if ((rc = term_operation(t, "list_cards", "")))
        return rc;
    return term_close(t);
}

/* The deposited card comes back on a fresh chip (a new handset). */
static int story_new_handset(term_t *t, const options_t *o)
{
    char b[320];
    int rc;

    if ((rc = term_open(t, o->app_version))
        || (rc = term_operation(t, "issue_area", ""))
        || (rc = term_operation(t, "restore_card", story_card(b, sizeof(b), o, 1, "any")))
        || (rc = term_operation(t, "display_data", "<issuer>SKR</issuer>"))
        || (rc = term_operation(t, "list_cards", "")))
        return rc;
    return term_close(t);
}

/* ---- phones ----------------------------------------------------------------------------- */

typedef struct phone {
    const options_t *o;
    int index;
    char chip[512], idm[17], terminal[65], label[32];
    term_t t;
    int rc;
    /* latencies: step name -> samples */
    struct lat { char step[16]; double *ms; int n, cap; } lat[8];
    int nlat;
} phone_t;

static void record(void *baton, const char *step, double ms)
{
    phone_t *ph = baton;
    int i;

    for (i = 0; i < ph->nlat && strcmp(ph->lat[i].step, step) != 0; i++)
        ;
    if (i == ph->nlat) {
        if (ph->nlat == 8)
            return;
        snprintf(ph->lat[i].step, sizeof(ph->lat[i].step), "%s", step);
        ph->nlat++;
    }
    if (ph->lat[i].n == ph->lat[i].cap) {
        ph->lat[i].cap = ph->lat[i].cap ? 2 * ph->lat[i].cap : 16;
        ph->lat[i].ms = realloc(ph->lat[i].ms, sizeof(double) * (size_t)ph->lat[i].cap);
    }
    ph->lat[i].ms[ph->lat[i].n++] = ms;
}

/* Phone i: its own IDm (the last byte counts phones), image and terminal id. */
static int phone_init(phone_t *ph, const options_t *o, int index, const char *chip_path,
                      const char *idm)
{
    uint8_t pin[TERM_PIN_LEN];

    memset(ph, 0, sizeof(*ph));
    ph->o = o;
    ph->index = index;
    snprintf(ph->idm, sizeof(ph->idm), "%s", idm);
    snprintf(ph->chip, sizeof(ph->chip), "%s", chip_path);
    snprintf(ph->terminal, sizeof(ph->terminal), "%s%s%d", o->terminal,
             index >= 0 ? "-" : "", index >= 0 ? index : 0);
    if (index < 0)
        snprintf(ph->terminal, sizeof(ph->terminal), "%s", o->terminal);
    snprintf(ph->label, sizeof(ph->label), "[phone %s]", ph->idm + 12);
    if (ensure_chip(o, ph->chip, ph->idm, o->pmm) != 0
        || felica_chip_open(ph->chip, &ph->t.chip) != FELICA_OK) {
        fprintf(stderr, "idgw-terminal: cannot open the chip image %s\n", ph->chip);
        return -1;
    }
    memcpy(pin, o->pin, sizeof(pin));
    ph->t.http = term_http_new(o->host, o->port, pin);
    if (ph->t.http && o->source && term_http_set_source(ph->t.http, o->source) != 0) {
        fprintf(stderr, "idgw-terminal: out of memory\n");
        return -1;
    }
    ph->t.prefix = o->prefix;
    snprintf(ph->t.terminal, sizeof(ph->t.terminal), "%s", ph->terminal);
    snprintf(ph->t.idm, sizeof(ph->t.idm), "%s", ph->idm);
    snprintf(ph->t.pmm, sizeof(ph->t.pmm), "%s", o->pmm);
    ph->t.log = o->quiet ? NULL : stdout;
    ph->t.show_packets = o->packets;
    ph->t.extra_header = o->header;
    ph->t.label = ph->label;
    ph->t.bad = o->bad;
    if (o->secrets && load_secrets(&ph->t, o->secrets) != 0) {
        fprintf(stderr, "idgw-terminal: cannot read %s\n", o->secrets);
        return -1;
    }
    return ph->t.http ? 0 : -1;
}

static void phone_free(phone_t *ph)
{
    term_http_free(ph->t.http);
    felica_chip_free(ph->t.chip);
    free(ph->t.last_body);
    for (int i = 0; i < ph->t.n_secrets; i++)
        free(ph->t.secrets[i]);
    free(ph->t.secrets);
    for (int i = 0; i < ph->nlat; i++)
        free(ph->lat[i].ms);
}

static void *phone_thread(void *arg)
{
    phone_t *ph = arg;

    ph->t.latency = record;
    ph->t.latency_baton = ph;
    ph->rc = story_phone(&ph->t, ph->o, 0);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void report_latencies(phone_t *phones, int n, double wall_ms)
{
    static const char *const steps[] = { "open", "request", "relay", "complete", "close" };
    int ok = 0;

    for (int i = 0; i < n; i++)
        ok += phones[i].rc == TERM_OK;
    printf("concurrent story: %d phones, %d completed, %.0f ms wall clock\n", n, ok, wall_ms);
    printf("%-10s %8s %10s %10s %10s %10s\n", "step", "count", "mean ms", "p50 ms", "p95 ms",
           "max ms");
    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        double *all = NULL, sum = 0;
        int total = 0;

        for (int i = 0; i < n; i++)
            for (int k = 0; k < phones[i].nlat; k++)
                if (strcmp(phones[i].lat[k].step, steps[s]) == 0) {
                    all = realloc(all, sizeof(double) * (size_t)(total + phones[i].lat[k].n));
                    memcpy(all + total, phones[i].lat[k].ms,
                           sizeof(double) * (size_t)phones[i].lat[k].n);
                    total += phones[i].lat[k].n;
                }
        if (!total)
            continue;
        qsort(all, (size_t)total, sizeof(double), cmp_double);
        for (int i = 0; i < total; i++)
            sum += all[i];
        printf("%-10s %8d %10.1f %10.1f %10.1f %10.1f\n", steps[s], total, sum / total,
               all[total / 2], all[(int)(total * 0.95)], all[total - 1]);
        free(all);
    }
}

/* IDm of phone i: the given IDm with i added to its last two bytes. */
static void phone_idm(const char *base, int i, char out[17])
{
    unsigned v;

    snprintf(out, 17, "%s", base);
    sscanf(base + 12, "%4x", &v);
    snprintf(out + 12, 5, "%04X", (v + (unsigned)i) & 0xFFFF);
}

static int run_concurrent(const options_t *o)
{
    phone_t *phones = calloc((size_t)o->concurrent, sizeof(phone_t));
    pthread_t *th = calloc((size_t)o->concurrent, sizeof(pthread_t));
    struct timespec a, b;
    int rc = TERM_OK;

    if (!phones || !th)
        return TERM_USAGE;
    for (int i = 0; i < o->concurrent; i++) {
        char path[512], idm[17];
        const char *pct;

        phone_idm(o->idm, i, idm);
        /* the chip argument is a pattern with %d for the phone number */
        pct = strstr(o->chip, "%d");
        if (!pct) {
            fprintf(stderr, "idgw-terminal: --concurrent needs --chip with %%d\n");
            return TERM_USAGE;
        }
        snprintf(path, sizeof(path), "%.*s%d%s", (int)(pct - o->chip), o->chip, i, pct + 2);
        if (phone_init(&phones[i], o, i, path, idm) != 0)
            return TERM_USAGE;
        phones[i].t.log = NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < o->concurrent; i++)
        pthread_create(&th[i], NULL, phone_thread, &phones[i]);
    for (int i = 0; i < o->concurrent; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    report_latencies(phones, o->concurrent,
                     (b.tv_sec - a.tv_sec) * 1000.0 + (b.tv_nsec - a.tv_nsec) / 1e6);
    for (int i = 0; i < o->concurrent; i++) {
        if (phones[i].rc != TERM_OK && rc == TERM_OK)
            rc = phones[i].rc;
        phone_free(&phones[i]);
    }
    free(phones);
    free(th);
    return rc;
}

static int run_story(const options_t *o)
{
    phone_t a, b;
    char path[600], idm[17];
    int rc;

    if (phone_init(&a, o, -1, o->chip, o->idm) != 0)
        return TERM_USAGE;
    printf("=== phone %s: open, issue the iD area, add a CREMO card and a download-center "
           "card, list, set main, delete one, deposit the other, close\n", o->idm);
    rc = story_phone(&a.t, o, 1);
    phone_free(&a);
    if (rc != TERM_OK)
        return rc;
    /* a new handset: a fresh chip next to the first one */
    phone_idm(o->idm, 1, idm);
    snprintf(path, sizeof(path), "%s.new-handset", o->chip);
    if (phone_init(&b, o, -1, path, idm) != 0)
        return TERM_USAGE;
    printf("=== new handset %s: open, issue the iD area, withdraw the deposited card, "
           "issuer display data, list, close\n", idm);
    rc = story_new_handset(&b.t, o);
    phone_free(&b);
    if (rc == TERM_OK)
        printf("=== story complete\n");
    return rc;
}

/* "run A k=v , B k=v": several commands in one process and one session */
static int run_commands(term_t *t, const options_t *o, int argc, char **argv)
{
    int start = 0, rc = TERM_OK;

    for (int i = 0; i <= argc; i++) {
        if (i < argc && strcmp(argv[i], ",") != 0)
            continue;
        if (i > start && (rc = one_command(t, o, i - start, argv + start)) != TERM_OK)
            return rc;
        start = i + 1;
    }
    return rc;
}

static int parse_args(options_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "url", 1, NULL, 'u' }, { "pin", 1, NULL, 'p' }, { "chip", 1, NULL, 'c' },
        { "idm", 1, NULL, 'i' }, { "pmm", 1, NULL, 'm' }, { "terminal", 1, NULL, 't' },
        { "state", 1, NULL, 's' }, { "system-master-keys", 1, NULL, 'k' },
        { "felicactl", 1, NULL, 'f' }, { "secrets", 1, NULL, 'S' }, { "quiet", 0, NULL, 'q' },
        { "concurrent", 1, NULL, 'n' }, { "tamper", 1, NULL, 'T' }, { "wrong-idm", 1, NULL, 'W' },
        { "replay", 1, NULL, 'R' }, { "vanish-after", 1, NULL, 'V' },
        { "retransmit", 1, NULL, 'X' }, { "oversize", 1, NULL, 'O' },
        { "app-version", 1, NULL, 'a' }, { "packets", 0, NULL, 'P' },
        { "header", 1, NULL, 'H' }, { "source", 1, NULL, 'A' },
        { "member-suffix", 1, NULL, 'M' }, { NULL, 0, NULL, 0 }
    };
    int c;

    o->idm = "012E4CD1A2B30000";
    o->pmm = "0120220427674EFF";
    o->terminal = "T-SIM";
    o->app_version = "1.0.0";
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 'u': if (parse_url(o, optarg) != 0) return -1; break;
        case 'p': if (term_pin_parse(optarg, o->pin) != 0) return -1; o->have_pin = 1; break;
        case 'c': o->chip = optarg; break;
        case 'i': o->idm = optarg; break;
        case 'm': o->pmm = optarg; break;
        case 't': o->terminal = optarg; break;
        case 's': o->state = optarg; break;
        case 'k': o->keys = optarg; break;
        case 'f': o->felicactl = optarg; break;
        case 'S': o->secrets = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'n': o->concurrent = atoi(optarg); break;
        case 'T': o->bad.tamper_at = atoi(optarg); break;
        case 'W': o->bad.wrong_idm_at = atoi(optarg); break;
        case 'R': o->bad.replay_at = atoi(optarg); break;
        case 'V': o->bad.vanish_after = atoi(optarg); break;
        case 'X': o->bad.retransmit_at = atoi(optarg); break;
        case 'O': o->bad.oversize_at = atoi(optarg); break;
        case 'a': o->app_version = optarg; break;
        case 'P': o->packets = 1; break;
        case 'H':
            /* one header line: "Name: value", no line breaks, fits the envelope */
            if (!strchr(optarg, ':') || strpbrk(optarg, "\r\n") || strlen(optarg) > 200)
                return -1;
            o->header = optarg;
            break;
        case 'A': o->source = optarg; break;
        case 'M':
            /* the simulators derive members for 1..6 digits */
            if (!*optarg || strlen(optarg) > 6 || strspn(optarg, "0123456789") != strlen(optarg))
                return -1;
            o->suffix = optarg;
            break;
        default: return -1;
        }
    }
    if (!o->host[0] || !o->have_pin || !o->chip || optind >= argc || strlen(o->idm) != 16
        || strlen(o->pmm) != 16 || o->concurrent < 0 || o->concurrent > 1000)
        return -1;
    return optind;
}

int main(int argc, char **argv)
{
    options_t o;
    phone_t ph;
    int first, rc;

    memset(&o, 0, sizeof(o));
    setvbuf(stdout, NULL, _IOLBF, 0);
    if ((first = parse_args(&o, argc, argv)) < 0) {
        usage();
        return TERM_USAGE;
    }
    umask(077);
    xmlInitParser();
    if (strcmp(argv[first], "story") == 0)
        return o.concurrent ? run_concurrent(&o) : run_story(&o);
    if (phone_init(&ph, &o, -1, o.chip, o.idm) != 0)
        return TERM_USAGE;
    if (o.state)
        term_state_load(&ph.t, o.state);
    if (strcmp(argv[first], "run") == 0)
        rc = run_commands(&ph.t, &o, argc - first - 1, argv + first + 1);
    else
        rc = one_command(&ph.t, &o, argc - first, argv + first);
    if (o.state && term_state_save(&ph.t, o.state) != 0)
        fprintf(stderr, "idgw-terminal: cannot save %s\n", o.state);
    phone_free(&ph);
    return rc;
}
