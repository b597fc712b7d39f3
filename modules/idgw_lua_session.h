/*
 * idgw_lua_session.h - Lua texts of the session scripts (idgw_lua_session.c).
 */
#ifndef IDGW_LUA_SESSION_H
#define IDGW_LUA_SESSION_H

extern const char idgw_lua_session_core[];
extern const char idgw_lua_session_dispatch[];
extern const char idgw_lua_commit[];
extern const char idgw_lua_strike[];
extern const char idgw_lua_vault_put[];
extern const char idgw_lua_reap_claim[];

#endif
