/* sim_data.c: the simulators' data files, read once at startup:
 *   cardholders.txt          test cardholders of CREMO and the card info center
 *   issuers.txt              issuer codes, chip issuer ids, names
 *   brand/<CODE>.txt (+logo) display data per issuer
 *   felica/ (keys, seal.key) the FeliCa server's master keys and sealing key
 * Every line is checked; a data file error stops httpd at startup with the
 * file and line (never the line's content: it may hold test secrets). */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_base64.h>
#include <openssl/rand.h>
#include "sim.h"

#define MAX_LINE 2048
#define MAX_LOGO (64 * 1024)

typedef const char *(*line_fn)(apr_pool_t *p, sim_data_t *d, char *line, void *ctx);

/* Calls fn for each non-comment line of dir/name. */
static const char *each_line(apr_pool_t *p, const char *dir, const char *name, sim_data_t *d,
                             line_fn fn, void *ctx)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    FILE *f = fopen(path, "r");
    char line[MAX_LINE];
    int n = 0;

    if (!f)
        return apr_psprintf(p, "cannot open %s", path);
    while (fgets(line, sizeof(line), f)) {
        size_t len = strlen(line);
        const char *err;
        n++;
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (!feof(f)) {
            fclose(f);
            return apr_psprintf(p, "%s:%d: line too long", path, n);
        }
        if (line[0] == '#' || line[0] == '\0')
            continue;
        err = fn(p, d, line, ctx);
        if (err) {
            fclose(f);
            return apr_psprintf(p, "%s:%d: %s", path, n, err);
        }
    }
    fclose(f);
    return NULL;
}

/* Splits s at sep into exactly n fields. */
static int split(apr_pool_t *p, char *s, char sep, const char **fields, int n)
{
    int i = 0;

    for (;;) {
        char *end = strchr(s, sep);
        if (i == n)
            return 0;
        fields[i++] = apr_pstrndup(p, s, end ? (apr_size_t)(end - s) : strlen(s));
        if (!end)
            return i == n;
        s = end + 1;
    }
}

static const char *card_line(apr_pool_t *p, sim_data_t *d, char *line, void *ctx)
{
    const char *f[11];
    sim_card_t *c;
    idgw_telegram_t *probe;
    idgw_tg_error_t err;
    char *wire;
    apr_size_t len;

    if (!split(p, line, '|', f, 11))
        return "expected 11 '|'-separated fields";
    c = apr_array_push(d->cards);
    if (strcmp(f[0], "cremo") == 0)
        c->source = SIM_CREMO;
    else if (strcmp(f[0], "cardinfo") == 0)
        c->source = SIM_CARDINFO;
    else
        return "source must be cremo or cardinfo";
    c->member_id = f[1];
    c->password = f[2];
    if (strcmp(f[3], "active") != 0 && strcmp(f[3], "suspended") != 0)
        return "status must be active or suspended";
    c->suspended = strcmp(f[3], "suspended") == 0;
    c->member_name = f[4];
    c->card_id = f[5];
    c->issuer_code = f[6];
    c->pan = f[7];
    c->expiry = f[8];
    c->renewed_expiry = strcmp(f[9], "-") == 0 ? NULL : f[9];
    c->holder_name = f[10];
    if (!sim_issuer_by_code(d, c->issuer_code))
        return "unknown issuer code";
    /* The card must fit the interface: build the telegram it will travel in. */
    probe = idgw_tg_new(p, IDGW_TG_CARD_DOWNLOAD_RES, "datacheck-0000");
    idgw_tg_add(probe, "cardId", c->card_id);
    idgw_tg_add(probe, "issuerCode", c->issuer_code);
    idgw_tg_add(probe, "pan", c->pan);
    idgw_tg_add(probe, "expiry", c->renewed_expiry ? c->renewed_expiry : c->expiry);
    idgw_tg_add(probe, "holderName", c->holder_name);
    idgw_tg_add(probe, "brandVersion", "1");
    if (idgw_tg_build(p, probe, NULL, &wire, &len, &err) != 0)
        return apr_psprintf(p, "card does not fit the interface: %s", err.msg);
    return NULL;
}

static const char *issuer_line(apr_pool_t *p, sim_data_t *d, char *line, void *ctx)
{
    const char *f[3];
    sim_issuer_t *is;
    char *end;

    if (!split(p, line, '|', f, 3))
        return "expected code|id|name";
    is = apr_array_push(d->issuers);
    memset(is, 0, sizeof(*is));
    is->code = f[0];
    is->id = (unsigned)strtoul(f[1], &end, 10);
    if (*end || is->id == 0)
        return "issuer id must be a non-zero decimal number";
    is->name = f[2];
    is->messages = apr_array_make(p, 4, sizeof(const char *));
    return NULL;
}

static const char *read_file(apr_pool_t *p, const char *path, char **buf, apr_size_t *len,
                             apr_size_t max)
{
    apr_file_t *f;
    apr_finfo_t fi;

    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p) != APR_SUCCESS)
        return apr_psprintf(p, "cannot open %s", path);
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS || fi.size <= 0
        || (apr_size_t)fi.size > max) {
        apr_file_close(f);
        return apr_psprintf(p, "%s: empty or larger than %" APR_SIZE_T_FMT " bytes", path, max);
    }
    *len = (apr_size_t)fi.size;
    *buf = apr_palloc(p, *len + 1);
    if (apr_file_read_full(f, *buf, *len, NULL) != APR_SUCCESS) {
        apr_file_close(f);
        return apr_psprintf(p, "cannot read %s", path);
    }
    (*buf)[*len] = '\0';
    apr_file_close(f);
    return NULL;
}

typedef struct brand_ctx {
    sim_issuer_t *issuer;
    const char *dir;
} brand_ctx_t;

static const char *brand_line(apr_pool_t *p, sim_data_t *d, char *line, void *vctx)
{
    brand_ctx_t *ctx = vctx;
    char *eq = strchr(line, '=');
    const char *key, *val;

    if (!eq)
        return "expected key=value";
    *eq = '\0';
    key = line;
    val = apr_pstrdup(p, eq + 1);
    if (strcmp(key, "version") == 0)
        ctx->issuer->version = val;
    else if (strcmp(key, "message") == 0)
        *(const char **)apr_array_push(ctx->issuer->messages) = val;
    else if (strcmp(key, "logoType") == 0)
        ctx->issuer->logo_type = val;
    else if (strcmp(key, "logo") == 0) {
        char *raw = NULL, *b64;
        apr_size_t len = 0;
        const char *err;
        if (strchr(val, '/'))
            return "logo must be a file name in the brand directory";
        err = read_file(p, apr_pstrcat(p, ctx->dir, "/", val, NULL), &raw, &len, MAX_LOGO);
        if (err)
            return err;
        b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)len));
        apr_base64_encode(b64, raw, (int)len);
        ctx->issuer->logo_b64 = b64;
    }
    else
        return "unknown key";
    return NULL;
}

static const char *load_brands(apr_pool_t *p, const char *dir, sim_data_t *d)
{
    sim_issuer_t *is = (sim_issuer_t *)d->issuers->elts;
    const char *bdir = apr_pstrcat(p, dir, "/brand", NULL);

    for (int i = 0; i < d->issuers->nelts; i++) {
        brand_ctx_t ctx = {&is[i], bdir};
        const char *err = each_line(p, bdir, apr_pstrcat(p, is[i].code, ".txt", NULL), d,
                                    brand_line, &ctx);
        if (err)
            return err;
        if (!is[i].version || !is[i].logo_b64 || !is[i].logo_type)
            return apr_psprintf(p, "brand data of %s needs version, logo and logoType", is[i].code);
    }
    return NULL;
}

static int hex_to_bytes(const char *hex, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (!hex[2 * i] || !hex[2 * i + 1] || sscanf(hex + 2 * i, "%2x", &v) != 1)
            return 0;
        out[i] = (unsigned char)v;
    }
    return hex[2 * n] == '\0';
}

/* "kvn=HH enc=<32 hex> mac=<32 hex> dek=<32 hex>" (felicactl's key file format). */
static const char *keyset_line(apr_pool_t *p, sim_data_t *d, char *line, void *ctx)
{
    felica_keyset_t *ks = ctx;
    const char *f[4];
    unsigned char kvn;

    if (!split(p, line, ' ', f, 4) || strncmp(f[0], "kvn=", 4) != 0
        || strncmp(f[1], "enc=", 4) != 0 || strncmp(f[2], "mac=", 4) != 0
        || strncmp(f[3], "dek=", 4) != 0 || !hex_to_bytes(f[0] + 4, &kvn, 1)
        || !hex_to_bytes(f[1] + 4, ks->enc, 16) || !hex_to_bytes(f[2] + 4, ks->mac, 16)
        || !hex_to_bytes(f[3] + 4, ks->dek, 16))
        return "expected kvn=HH enc=<32 hex> mac=<32 hex> dek=<32 hex>";
    ks->kvn = kvn;
    return NULL;
}

static const char *seal_line(apr_pool_t *p, sim_data_t *d, char *line, void *ctx)
{
    return hex_to_bytes(line, d->seal_key, sizeof(d->seal_key)) ? NULL : "expected 64 hex digits";
}

const char *sim_data_load(apr_pool_t *p, const char *dir, sim_data_t **out)
{
    sim_data_t *d = apr_pcalloc(p, sizeof(*d));
    const char *err;

    d->cards = apr_array_make(p, 16, sizeof(sim_card_t));
    d->issuers = apr_array_make(p, 8, sizeof(sim_issuer_t));
    if ((err = each_line(p, dir, "issuers.txt", d, issuer_line, NULL))
        || (err = load_brands(p, dir, d))
        || (err = each_line(p, dir, "cardholders.txt", d, card_line, NULL))
        || (err = each_line(p, dir, "felica/system-master.keys", d, keyset_line,
                            &d->felica_keys.system_master))
        || (err = each_line(p, dir, "felica/area-master.keys", d, keyset_line,
                            &d->felica_keys.area_master))
        || (err = each_line(p, dir, "felica/seal.key", d, seal_line, NULL)))
        return err;
    if (RAND_bytes(d->ticket_key, sizeof(d->ticket_key)) != 1)
        return "no randomness for the ticket key";
    *out = d;
    return NULL;
}

const sim_issuer_t *sim_issuer_by_code(const sim_data_t *d, const char *code)
{
    const sim_issuer_t *is = (const sim_issuer_t *)d->issuers->elts;

    for (int i = 0; code && i < d->issuers->nelts; i++)
        if (strcmp(is[i].code, code) == 0)
            return &is[i];
    return NULL;
}

const sim_issuer_t *sim_issuer_by_id(const sim_data_t *d, unsigned id)
{
    const sim_issuer_t *is = (const sim_issuer_t *)d->issuers->elts;

    for (int i = 0; i < d->issuers->nelts; i++)
        if (is[i].id == id)
            return &is[i];
    return NULL;
}
