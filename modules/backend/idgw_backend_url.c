/* idgw_backend_url.c: strict parsing of a backend URL
 * (http|https)://host[:port][/path], with no user info, fragment or
 * whitespace, because it ends up in a request line and a Host header. */
#include <string.h>
#include <apr_strings.h>
#include "idgw_backend_int.h"

#define URL_MAX 1024

static int host_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
           || ch == '-' || ch == '.';
}

/* RFC 3986 path and query characters, without '#' and without '%'-less
 * surprises: anything printable but space, '"', '<', '>', '\\', '^', '`',
 * '{', '|', '}' and '#'. */
static int path_char_ok(char ch)
{
    if (ch <= 0x20 || ch >= 0x7f)
        return 0;
    return strchr("\"<>\\^`{|}#", ch) == NULL;
}

static const char *parse_port(apr_pool_t *p, const char *s, size_t n, apr_port_t *out)
{
    unsigned long v = 0;

    if (n == 0 || n > 5)
        return "port must be 1..65535";
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return "port must be decimal";
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return "port must be 1..65535";
    *out = (apr_port_t)v;
    return NULL;
}

/* Splits "host[:port]" or "[v6][:port]". */
static const char *parse_authority(apr_pool_t *p, const char *a, size_t n,
                                   idgw_backend_url_t *out)
{
    const char *host, *colon = NULL;
    size_t hlen;
    const char *err;

    if (n > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close || close == a + 1)
            return "bad IPv6 address in URL";
        for (const char *q = a + 1; q < close; q++)
            if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F')
                  || *q == ':' || *q == '.'))
                return "bad IPv6 address in URL";
        host = a + 1;
        hlen = (size_t)(close - host);
        if ((size_t)(close + 1 - a) < n) {
            if (close[1] != ':')
                return "junk after IPv6 address in URL";
            colon = close + 1;
        }
    }
    else {
        colon = memchr(a, ':', n);
        host = a;
        hlen = colon ? (size_t)(colon - a) : n;
        if (hlen == 0 || hlen > 253)
            return "URL needs a host name";
        for (size_t i = 0; i < hlen; i++)
            if (!host_char_ok(host[i]))
                return "bad character in URL host";
    }
    out->host = apr_pstrmemdup(p, host, hlen);
    if (colon) {
        err = parse_port(p, colon + 1, (size_t)(a + n - colon - 1), &out->port);
        if (err)
            return err;
    }
    else
        out->port = out->tls ? 443 : 80;
    out->host_header = apr_pstrmemdup(p, a, n);
    if (!colon)
        out->host_header = a[0] == '[' ? apr_pstrmemdup(p, a, n) : out->host;
    return NULL;
}

const char *idgw_backend_parse_url(apr_pool_t *p, const char *value, idgw_backend_url_t *out)
{
    const char *rest, *slash;
    const char *err;
    size_t vlen;

    memset(out, 0, sizeof(*out));
    if (!value || !*value)
        return "empty backend URL";
    vlen = strlen(value);
    if (vlen > URL_MAX)
        return "backend URL too long";
    if (strncasecmp(value, "https://", 8) == 0) {
        out->tls = 1;
        rest = value + 8;
    }
    else if (strncasecmp(value, "http://", 7) == 0)
        rest = value + 7;
    else
        return "backend URL must start with http:// or https://";
    if (strpbrk(rest, "@") && (!strchr(rest, '/') || strchr(rest, '@') < strchr(rest, '/')))
        return "user info is not allowed in a backend URL";
    slash = strchr(rest, '/');
    err = parse_authority(p, rest, slash ? (size_t)(slash - rest) : strlen(rest), out);
    if (err)
        return err;
    if (!slash) {
        out->path = "/";
        return NULL;
    }
    for (const char *q = slash; *q; q++)
        if (!path_char_ok(*q))
            return "bad character in backend URL path";
    out->path = apr_pstrdup(p, slash);
    return NULL;
}
