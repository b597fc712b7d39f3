/* idgw_acl_lists: one node's copy of the fleet-wide blacklist and whitelist.
 *
 * The lists live in Redis (see idgw_acl_script.h for the keys); every change
 * bumps a version counter.  A node keeps one immutable snapshot built from the
 * lists at a given version and answers every lookup from it; it rebuilds the
 * snapshot only when the per-request script reports another version.
 *
 * Each entry is stored in Redis as a hash field (the value: terminal id, IDm,
 * user or network) whose hash value is
 *     EXPIRES_MS|ADDED_MS|SOURCE|REASON
 * EXPIRES_MS is 0 for a permanent entry, else the Unix time in milliseconds
 * when a temporary ban ends; lookups treat an expired entry as absent, so a
 * ban ends on time without any version change.  SOURCE says who added it
 * ("admin", "auto-strikes", "auto-breaches"), REASON is free text for
 * `idgw-acl explain`.  scripts/idgw-acl writes the same format.
 */
#ifndef IDGW_ACL_LISTS_H
#define IDGW_ACL_LISTS_H

#include <stdint.h>

#include <apr_hash.h>
#include <apr_pools.h>

#include "idgw_cidr.h"

typedef enum {
    IDGW_ACL_TERMINAL = 0,
    IDGW_ACL_IDM,
    IDGW_ACL_USER,
    IDGW_ACL_ADDR,
    IDGW_ACL_KINDS
} idgw_acl_kind;

typedef enum {
    IDGW_ACL_BLACKLIST = 0,
    IDGW_ACL_WHITELIST,
    IDGW_ACL_SHADOWBANS,    /* bans by an auto-ban in shadow mode: refuse nobody */
    IDGW_ACL_LISTS
} idgw_acl_list;

/* Longest value and reason accepted (longer input is refused, not cut). */
#define IDGW_ACL_VALUE_MAX 64
#define IDGW_ACL_REASON_MAX 200

typedef struct {
    const char *value;      /* normalised: IDm upper-case hex, networks canonical */
    int64_t expires_ms;     /* 0: permanent */
    int64_t added_ms;
    const char *source;
    const char *reason;
} idgw_acl_entry;

typedef struct idgw_acl_lists idgw_acl_lists;

/* "terminal", "idm", "user", "addr" <-> kind; -1 when unknown. */
const char *idgw_acl_kind_name(idgw_acl_kind kind);
int idgw_acl_kind_parse(const char *name);
const char *idgw_acl_list_name(idgw_acl_list list);   /* "bl", "wl", "sb" */

/* Checks an identity or network and writes its normalised form (allocated
 * from p) to *norm.  Returns NULL or what is wrong (a static string):
 *   terminal  1..64 of [A-Za-z0-9._:-]
 *   idm       16 hex digits (the chip's manufacture id), folded to upper case
 *            (as mod_idgw_session stores it)
 *   user      1..64 of [A-Za-z0-9._@+-]
 *   addr      an address or CIDR prefix (idgw_cidr rules), canonical text */
const char *idgw_acl_value_check(apr_pool_t *p, idgw_acl_kind kind,
                                 const char *text, const char **norm);

/* Parses an encoded entry value (see above) into *e (value left unset).
 * Returns NULL or what is wrong. */
const char *idgw_acl_entry_decode(apr_pool_t *p, const char *encoded,
                                  idgw_acl_entry *e);

/* Encodes an entry value; reason is sanitised ('|' and control characters
 * become spaces, cut to IDGW_ACL_REASON_MAX). */
const char *idgw_acl_entry_encode(apr_pool_t *p, int64_t expires_ms,
                                  int64_t added_ms, const char *source,
                                  const char *reason);

/* An empty snapshot at `version`, allocated from p (give it its own pool). */
idgw_acl_lists *idgw_acl_lists_make(apr_pool_t *p, int64_t version);
int64_t idgw_acl_lists_version(const idgw_acl_lists *l);

/* Adds one entry as read from Redis.  Malformed fields or values are
 * refused with a message (the caller logs and skips them: one bad entry
 * must not blind the node to the rest). */
const char *idgw_acl_lists_add(idgw_acl_lists *l, idgw_acl_list list,
                               idgw_acl_kind kind, const char *field,
                               const char *encoded);

/* The live entry for value (already normalised) of kind, or NULL. */
const idgw_acl_entry *idgw_acl_lists_find(const idgw_acl_lists *l,
                                          idgw_acl_list list, idgw_acl_kind kind,
                                          const char *value, int64_t now_ms);

/* The live address entry (host or prefix) containing ip, or NULL. */
const idgw_acl_entry *idgw_acl_lists_find_ip(const idgw_acl_lists *l,
                                             idgw_acl_list list,
                                             const idgw_ip *ip, int64_t now_ms);

/* Number of entries held for list/kind (expired ones included). */
int idgw_acl_lists_count(const idgw_acl_lists *l, idgw_acl_list list,
                         idgw_acl_kind kind);

/* Who a request claims to be: the normalised identities (NULL when absent)
 * and the client address. */
typedef struct {
    const char *v[IDGW_ACL_KINDS];   /* v[IDGW_ACL_ADDR]: the address as text */
    idgw_ip ip;
    int has_ip;
} idgw_acl_identity;

/* The first live blacklist entry matching any identity (address first,
 * then terminal, IDm, user), with its kind in *kind; NULL when none. */
const idgw_acl_entry *idgw_acl_lists_blocked(const idgw_acl_lists *l,
                                             const idgw_acl_identity *id,
                                             int64_t now_ms, idgw_acl_kind *kind);

/* The same look-up in any list (IDGW_ACL_SHADOWBANS: the shadow bans). */
const idgw_acl_entry *idgw_acl_lists_match(const idgw_acl_lists *l, idgw_acl_list list,
                                           const idgw_acl_identity *id,
                                           int64_t now_ms, idgw_acl_kind *kind);

/* 1 if any of the terminal id, IDm or user is whitelisted, in the snapshot
 * (l may be NULL) or in the static entries (static_wl may be NULL; indexed
 * by kind, values as keys). */
int idgw_acl_lists_whitelisted(const idgw_acl_lists *l,
                               apr_hash_t *const *static_wl,
                               const idgw_acl_identity *id, int64_t now_ms);

#endif /* IDGW_ACL_LISTS_H */
