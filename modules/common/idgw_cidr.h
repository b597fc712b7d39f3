/* idgw_cidr: IPv4 and IPv6 CIDR sets, parsed once (at config time or when
 * the blacklist cache is rebuilt) and matched on every request.
 *
 * Text forms accepted: "192.0.2.0/24", "2001:db8::/32", and a bare address
 * ("192.0.2.7", "2001:db8::1"), which means a host entry (/32 or /128).
 * A prefix whose host bits are set ("10.0.0.1/8") is REJECTED rather than
 * silently normalised: in an access list it is almost always a typo, and
 * guessing which of the two networks the operator meant is worse than asking.
 *
 * IPv4-mapped IPv6 addresses (::ffff:192.0.2.7, what a dual-stack listener
 * reports for an IPv4 client) are matched as the IPv4 address they carry, both
 * when matching and when parsing an entry.
 */
#ifndef IDGW_CIDR_H
#define IDGW_CIDR_H

#include <apr_pools.h>
#include <apr_network_io.h>

/* One parsed prefix.  family is 4 or 6; addr holds the network in network
 * byte order (the first 4 bytes for IPv4); bits is the prefix length. */
typedef struct {
    unsigned char addr[16];
    unsigned int bits;
    int family;
} idgw_cidr;

/* An address to match, in the same form as a prefix (bits unused). */
typedef struct {
    unsigned char addr[16];
    int family;
} idgw_ip;

typedef struct idgw_cidr_set idgw_cidr_set;

/* Longest accepted entry text, "ffff:...:ffff/128" plus slack. */
#define IDGW_CIDR_TEXT_MAX 64

/* Parses text into *out.  Returns NULL on success, or a message (allocated
 * from p) saying what is wrong with the entry. */
const char *idgw_cidr_parse(apr_pool_t *p, const char *text, idgw_cidr *out);

/* Parses a bare address (no prefix).  Returns 1 on success, 0 if text is not
 * an IPv4 or IPv6 address.  IPv4-mapped IPv6 becomes IPv4. */
int idgw_ip_parse(const char *text, idgw_ip *out);

/* Converts an APR socket address (e.g. r->useragent_addr).  Returns 0 for a
 * family other than IPv4/IPv6. */
int idgw_ip_from_sockaddr(const apr_sockaddr_t *sa, idgw_ip *out);

/* Writes the canonical text of a prefix ("192.0.2.0/24", "2001:db8::/32")
 * into buf.  Returns buf. */
const char *idgw_cidr_format(const idgw_cidr *c, char *buf, size_t len);

/* 1 if ip lies inside c. */
int idgw_cidr_contains(const idgw_cidr *c, const idgw_ip *ip);

/* A set of prefixes, allocated from p; grows as entries are added. */
idgw_cidr_set *idgw_cidr_set_make(apr_pool_t *p);

/* Parses and adds an entry.  Returns NULL or the parse error. */
const char *idgw_cidr_set_add(idgw_cidr_set *set, const char *text);

/* Adds an already parsed prefix. */
void idgw_cidr_set_add_parsed(idgw_cidr_set *set, const idgw_cidr *c);

/* Number of entries. */
int idgw_cidr_set_count(const idgw_cidr_set *set);

/* Returns the index of the first entry containing ip, or -1. */
int idgw_cidr_set_find(const idgw_cidr_set *set, const idgw_ip *ip);

/* Convenience: match an address string; -1 when text is not an address. */
int idgw_cidr_set_find_text(const idgw_cidr_set *set, const char *text);

/* The i-th entry (0 <= i < count). */
const idgw_cidr *idgw_cidr_set_get(const idgw_cidr_set *set, int i);

#endif /* IDGW_CIDR_H */
