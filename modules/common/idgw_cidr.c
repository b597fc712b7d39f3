/* idgw_cidr: parse and match IPv4/IPv6 prefixes (see idgw_cidr.h). */
#include "idgw_cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <apr_strings.h>

struct idgw_cidr_set {
    apr_pool_t *pool;
    idgw_cidr *entries;
    int count;
    int capacity;
};

static const unsigned char v4_mapped_prefix[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Turns ::ffff:a.b.c.d into the IPv4 address a.b.c.d. */
static void unmap_v4(unsigned char addr[16], int *family)
{
    if (*family == 6 && memcmp(addr, v4_mapped_prefix, 12) == 0) {
        memmove(addr, addr + 12, 4);
        memset(addr + 4, 0, 12);
        *family = 4;
    }
}

int idgw_ip_parse(const char *text, idgw_ip *out)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL || *text == '\0' || strlen(text) >= IDGW_CIDR_TEXT_MAX) {
        return 0;
    }
    if (strchr(text, ':') != NULL) {
        if (inet_pton(AF_INET6, text, out->addr) != 1) {
            return 0;
        }
        out->family = 6;
        unmap_v4(out->addr, &out->family);
        return 1;
    }
    if (inet_pton(AF_INET, text, out->addr) != 1) {
        return 0;
    }
    out->family = 4;
    return 1;
}

int idgw_ip_from_sockaddr(const apr_sockaddr_t *sa, idgw_ip *out)
{
    memset(out, 0, sizeof(*out));
    if (sa == NULL) {
        return 0;
    }
    if (sa->family == AF_INET) {
        memcpy(out->addr, &sa->sa.sin.sin_addr, 4);
        out->family = 4;
        return 1;
    }
#if APR_HAVE_IPV6
    if (sa->family == AF_INET6) {
        memcpy(out->addr, &sa->sa.sin6.sin6_addr, 16);
        out->family = 6;
        unmap_v4(out->addr, &out->family);
        return 1;
    }
#endif
    return 0;
}

/* Parses the prefix length: decimal digits only, no sign, no leading zero
 * (except "0" itself), at most max. */
static int parse_bits(const char *s, unsigned int max, unsigned int *bits)
{
    unsigned int v = 0;
    size_t n = strlen(s);

    if (n == 0 || n > 3 || (n > 1 && s[0] == '0')) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (unsigned int)(s[i] - '0');
    }
    if (v > max) {
        return 0;
    }
    *bits = v;
    return 1;
}

/* 1 if any bit after the first `bits` bits of addr is set. */
static int has_host_bits(const unsigned char *addr, unsigned int bits,
                         unsigned int total_bytes)
{
    unsigned int full = bits / 8, rest = bits % 8;

    if (rest != 0) {
        unsigned char mask = (unsigned char)(0xff >> rest);
        if (addr[full] & mask) {
            return 1;
        }
        full++;
    }
    for (unsigned int i = full; i < total_bytes; i++) {
        if (addr[i] != 0) {
            return 1;
        }
    }
    return 0;
}

const char *idgw_cidr_parse(apr_pool_t *p, const char *text, idgw_cidr *out)
{
    char buf[IDGW_CIDR_TEXT_MAX];
    const char *slash;
    idgw_ip ip;
    unsigned int bits, max;

    memset(out, 0, sizeof(*out));
    if (text == NULL || *text == '\0') {
        return "empty network (expected ADDRESS or ADDRESS/PREFIXLEN)";
    }
    if (strlen(text) >= sizeof(buf)) {
        return "network text too long (expected ADDRESS or ADDRESS/PREFIXLEN)";
    }
    slash = strchr(text, '/');
    if (slash == NULL) {
        apr_cpystrn(buf, text, sizeof(buf));
    }
    else {
        memcpy(buf, text, (size_t)(slash - text));
        buf[slash - text] = '\0';
    }
    if (!idgw_ip_parse(buf, &ip)) {
        return apr_psprintf(p, "'%s' is not an IPv4 or IPv6 address", buf);
    }
    /* A mapped address was turned into IPv4: its prefix length counts the
     * 96 mapping bits, so translate it as well. */
    max = ip.family == 4 ? 32 : 128;
    if (slash == NULL) {
        bits = max;
    }
    else {
        unsigned int written_max = strchr(buf, ':') ? 128 : 32;
        if (!parse_bits(slash + 1, written_max, &bits)) {
            return apr_psprintf(p, "bad prefix length '/%s' in '%s' (expected 0..%u)",
                                slash + 1, text, written_max);
        }
        if (written_max == 128 && ip.family == 4) {
            if (bits < 96) {
                return apr_psprintf(p, "prefix '%s' mixes IPv4-mapped and native "
                                    "IPv6 space (length must be >= 96)", text);
            }
            bits -= 96;
        }
    }
    if (has_host_bits(ip.addr, bits, ip.family == 4 ? 4 : 16)) {
        return apr_psprintf(p, "'%s' has host bits set beyond /%u: write the "
                            "network address (idgw does not guess which one "
                            "was meant)", text, bits);
    }
    memcpy(out->addr, ip.addr, sizeof(out->addr));
    out->family = ip.family;
    out->bits = bits;
    return NULL;
}

const char *idgw_cidr_format(const idgw_cidr *c, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, host,
                  sizeof(host)) == NULL) {
        apr_cpystrn(host, "?", sizeof(host));
    }
    apr_snprintf(buf, len, "%s/%u", host, c->bits);
    return buf;
}

int idgw_cidr_contains(const idgw_cidr *c, const idgw_ip *ip)
{
    unsigned int full = c->bits / 8, rest = c->bits % 8;

    if (c->family != ip->family) {
        return 0;
    }
    if (memcmp(c->addr, ip->addr, full) != 0) {
        return 0;
    }
    if (rest != 0) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        return (c->addr[full] & mask) == (ip->addr[full] & mask);
    }
    return 1;
}

idgw_cidr_set *idgw_cidr_set_make(apr_pool_t *p)
{
    idgw_cidr_set *set = apr_pcalloc(p, sizeof(*set));

    set->pool = p;
    return set;
}

void idgw_cidr_set_add_parsed(idgw_cidr_set *set, const idgw_cidr *c)
{
    if (set->count == set->capacity) {
        int cap = set->capacity ? set->capacity * 2 : 8;
        idgw_cidr *grown = apr_palloc(set->pool, sizeof(*grown) * (size_t)cap);

        if (set->count) {
            memcpy(grown, set->entries, sizeof(*grown) * (size_t)set->count);
        }
        set->entries = grown;
        set->capacity = cap;
    }
    set->entries[set->count++] = *c;
}

const char *idgw_cidr_set_add(idgw_cidr_set *set, const char *text)
{
    idgw_cidr c;
    const char *err = idgw_cidr_parse(set->pool, text, &c);

    if (err == NULL) {
        idgw_cidr_set_add_parsed(set, &c);
    }
    return err;
}

int idgw_cidr_set_count(const idgw_cidr_set *set)
{
    return set->count;
}

const idgw_cidr *idgw_cidr_set_get(const idgw_cidr_set *set, int i)
{
    return (i >= 0 && i < set->count) ? &set->entries[i] : NULL;
}

int idgw_cidr_set_find(const idgw_cidr_set *set, const idgw_ip *ip)
{
    for (int i = 0; i < set->count; i++) {
        if (idgw_cidr_contains(&set->entries[i], ip)) {
            return i;
        }
    }
    return -1;
}

int idgw_cidr_set_find_text(const idgw_cidr_set *set, const char *text)
{
    idgw_ip ip;

    if (!idgw_ip_parse(text, &ip)) {
        return -1;
    }
    return idgw_cidr_set_find(set, &ip);
}
