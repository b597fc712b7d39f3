/*
 * idgw_session_state.c - mod_idgw_session's process-wide state, idgw_g, and
 * the per-request state's getter.  Every file of the module reads them; this
 * file calls none of them, so the module's files form a DAG with
 * mod_idgw_session.c (the hooks and the module record) on top.
 *
 * idgw_g (type idgw_session_globals, idgw_session_cfg.h), one per process:
 *   - pre_config forgets what the previous configuration cycle registered:
 *     nparts and reaper_fn (their memory went with that cycle's pool);
 *   - partner modules register script parts (parts, nparts) and the reaper's
 *     handler (reaper_fn) through the exported functions
 *     (idgw_session_exports.c), before post_config;
 *   - post_config (the root parent, before fork) fills srv, limits,
 *     reaper_grace/interval, vault_keys and the scripts (request_script, the
 *     fixed ones, all_scripts); the children inherit them and only read;
 *   - child_init creates pool, the child's Redis connections (NULL when that
 *     failed: every run answers 503), then starts the reaper's thread.
 *
 * The per-request state (idgw_session_req) hangs off r->request_config; the
 * fixups hook sets it, idgw_session_req_get() finds it (NULL: this request
 * had no session check).
 */
#include "idgw_session_cfg.h"

idgw_session_globals idgw_g;

idgw_session_req *idgw_session_req_get(request_rec *r)
{
    return ap_get_module_config(r->request_config, &idgw_session_module);
}
