/*
 * idgw_convert_ctx.h - the context of one operation in progress.
 *
 * Between the app's requests an operation remembers what its telegrams
 * answered (auth ticket, card id, the card data to be written, the FeliCa
 * server's operation id, the chip command being relayed).  The context holds
 * card data, so it exists in clear only in request pools (wiped when the pool
 * goes) and is otherwise kept sealed in the session vault
 * (mod_idgw_session's idgw_vault_put, operation scope, item "ctx").
 *
 * Names are short ASCII; values are UTF-8 without NUL.  Serialised form:
 * "IC1\n" then name NUL value NUL ... (no escaping needed).
 */
#ifndef IDGW_CONVERT_CTX_H
#define IDGW_CONVERT_CTX_H

#include <stddef.h>
#include <apr_pools.h>

/* List values (RES*: captures) are joined with this byte, which no telegram
 * field may contain (text fields refuse control characters). */
#define IDGW_CTX_LIST_SEP '\x1f'
#define IDGW_CTX_MAX_ITEMS 128
#define IDGW_CTX_MAX_BYTES 65536

typedef struct idgw_ctx idgw_ctx;

/* An empty context; every value is wiped when p is cleaned up. */
idgw_ctx *idgw_ctx_new(apr_pool_t *p);
/* Set (replace) name; NULL value removes it.  Returns 0 when full. */
int idgw_ctx_set(idgw_ctx *c, const char *name, const char *value);
/* The value, or NULL. */
const char *idgw_ctx_get(const idgw_ctx *c, const char *name);
/* Append to a list value. */
int idgw_ctx_append(idgw_ctx *c, const char *name, const char *value);
/* The n-th element (from 0) of a list value, into pool p; NULL past the end. */
const char *idgw_ctx_list_item(apr_pool_t *p, const idgw_ctx *c, const char *name, int n);
int idgw_ctx_list_count(const idgw_ctx *c, const char *name);
int idgw_ctx_count(const idgw_ctx *c);

/* Serialise into p (caller wipes it with the pool: see idgw_ctx_new). */
const char *idgw_ctx_encode(apr_pool_t *p, const idgw_ctx *c, size_t *len);
/* Parse a serialised context; NULL when malformed. */
idgw_ctx *idgw_ctx_decode(apr_pool_t *p, const char *buf, size_t len);

#endif
