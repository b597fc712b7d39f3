/*
 * idgw_convert_ctx.h - the context of one operation in progress.
 *
 * Between the app's requests an operation remembers what its telegrams
 * answered (auth ticket, card id, the card data to be written, the FeliCa
 * server's operation id, the chip command being relayed).  The context holds
 * card data, so it exists in clear only in request pools (wiped when the pool
 * goes) and is otherwise kept sealed in the session vault
 * (mod_idgw_session's idgw_vault_stage, operation scope, item "ctx", reaped).
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
/* Largest serialised part (card part or display part), sized from the
 * schema's maximum (docs/feature-phone-interface.md, BRAND_DOWNLOAD_RES): a
 * logo of 98304 base64 characters, 8 messages of 200 characters (at most
 * 3 bytes each in UTF-8), the issuer's name and the logo's type, with room.
 * IDGW_VAULT_MAX_ITEM holds one part. */
#define IDGW_CTX_MAX_BYTES (128 * 1024)



typedef struct idgw_ctx idgw_ctx;

/* Issuer display data (the brand download center's name, messages, logo and
 * logo type, and their for= captures "logo.<issuer>") is not card data: it
 * is kept apart from the card part of a context (its own vault item), so a
 * large logo never rides in the sealed card context of every relay step. */
int idgw_ctx_is_display(const char *name);
/* Whether c holds any display value. */
int idgw_ctx_has_display(const idgw_ctx *c);

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
/* Serialise only the display part (display 1) or only the card part (0);
 * NULL when that part is over IDGW_CTX_MAX_BYTES. */
const char *idgw_ctx_encode_part(apr_pool_t *p, const idgw_ctx *c, int display, size_t *len);
/* Copy every value of src into c (replacing); 0 when c is full. */
int idgw_ctx_merge(idgw_ctx *c, const idgw_ctx *src);
/* Parse a serialised context; NULL when malformed. */
idgw_ctx *idgw_ctx_decode(apr_pool_t *p, const char *buf, size_t len);

#endif
