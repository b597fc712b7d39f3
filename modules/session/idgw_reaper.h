/*
 * idgw_reaper.h - the reaper of mod_idgw_session: operations whose app
 * vanished (see idgw_vault_put_reaped in mod_idgw.h).
 *
 * Each httpd child runs one background thread, started in child_init and
 * stopped by a pre-cleanup of the child's pool (so it is joined before the
 * pools it uses go).  Why a thread and not a look piggy-backed on requests:
 * the moment a vanished app matters is exactly when traffic may have stopped
 * (a quiet node, a test, the night), and a piggy-backed look would then never
 * run; a thread costs one Redis script every IdgwSessionReaper interval per
 * child, which is nothing beside the request path, and never delays a
 * request.  The claim is one Lua script (idgw_lua_reap_claim) that takes due
 * entries out of the fleet's set atomically, so exactly one node (one child)
 * tells the backends about each abandoned operation.
 *
 * Log ids IDGW0150..0159.
 */
#ifndef IDGW_REAPER_H
#define IDGW_REAPER_H

#include "idgw_httpd.h"
#include "idgw_script.h"

/* Start this child's reaper thread when IdgwSessionReaper is on and a
 * handler registered (otherwise nothing). */
void idgw_reaper_start(apr_pool_t *pchild, server_rec *s);

/* The name of the virtual host s, "server_hostname:port" ("" for the main
 * server), stored with an operation's reaper record: the reaper hands the
 * handler that server, so the map and backends of the vhost the operation
 * ran under are used.  A name rather than the server's place in the chain,
 * because the record may be claimed by another node of the fleet or after a
 * restart. */
const char *idgw_reaper_vhost_id(apr_pool_t *p, const server_rec *s);

/* The arguments of idgw_lua_reap_putback for the watch of sid, from the six
 * record fields {op, item, blob, idm, cid, vhost} that a claim or a step's
 * take returned (a field that is not a string goes back empty). */
struct redisReply;
void idgw_reaper_putback_args(idgw_script_args *a, apr_pool_t *p, const char *sid,
                              struct redisReply *const *fields);

#endif
