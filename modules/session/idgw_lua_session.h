/*
 * idgw_lua_session.h - Lua texts of the session scripts (idgw_lua_session.c).
 */
#ifndef IDGW_LUA_SESSION_H
#define IDGW_LUA_SESSION_H

#include <apr_pools.h>

extern const char idgw_lua_session_core[];
extern const char idgw_lua_commit[];
extern const char idgw_lua_strike[];
extern const char idgw_lua_vault_put[];
extern const char idgw_lua_reap_claim[];
extern const char idgw_lua_count[];
extern const char idgw_lua_reap_putback[];
extern const char idgw_lua_unwatch[];

/* Part 0 of the per-request script, for idgw_script_assemble: the
 * transition table (rendered from idgw_transitions.c) and the session core,
 * which defines core(K, A). */
const char *idgw_lua_session_core_text(apr_pool_t *p);

#endif
