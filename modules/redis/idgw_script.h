/*
 * idgw_script.h - Lua scripts run by Redis: identity (SHA-1), assembly of the
 * per-request script from parts, and the layout of its KEYS and ARGV.
 *
 * The per-request script is one Lua program made of:
 *   - the core (part 0), Lua text that defines function core(K, A) and
 *     function core_proven(K, A) (a boolean, called on the core's own slice
 *     before the core runs, by parts that ask) and function script_time()
 *     (Redis's TIME, asked once per script and shared): the session module's
 *     (its transition table and session checks),
 *   - any number of "parts" registered by the modules (mod_idgw_acl folds
 *     its fleet-wide checks in this way), each a Lua function body
 *         function(K, A, core, clock) ... end
 *     receiving its own slice of KEYS (K) and ARGV (A).  A part that runs
 *     before the core may return {'DENY', code, http_status[, detail]} to
 *     stop the request before the session is touched (detail, any value, is
 *     handed back to the part), and receives as `core` a
 *     function of no arguments returning core_proven's answer for this
 *     request, and as `clock` script_time (one TIME for the whole script,
 *     not one per part); a part that runs after the core
 *     receives the core's result table as `core`.  Whatever else a part
 *     returns (a string, a number, a flat table) is handed back to it.
 *
 * ARGV layout: ARGV[1] = number of parts n (the core is part 0),
 * ARGV[2 + 2i], ARGV[3 + 2i] = number of KEYS and ARGV of part i (i = 0..n),
 * then the arguments of part 0, part 1, ...; KEYS likewise in part order.
 * Reply: an array whose element 1 is the core's result and element 1 + i is
 * part i's result (false when it returned nothing), or a one-element array
 * {{'DENY', part_index, code, http_status[, detail]}} when a part denied.
 *
 * The per-request script is also a Redis 7 function library
 * (idgw_script_compose): the definitions (the core, the parts' lua_setup,
 * the part table, the dispatcher) run once when Redis loads the library, and
 * each call (FCALL) runs only the dispatcher and the part bodies.  EVALSHA
 * re-ran every definition on every call: most of the script's CPU on the
 * steady path.  So that a library may keep its definitions between calls,
 * the core also defines core_begin(), called first on every call to forget
 * what the previous call cached (its TIME, its read of the session), and a
 * part's lua_setup holds no per-call state either.  The library and its one
 * function are named idgw_<SHA-1 of the EVAL text>: nodes of a fleet running
 * different builds each call their own.  A Redis without functions (before
 * 7.0) answers FCALL with an unknown command; the process then falls back to
 * EVALSHA of the same script for good (idgw_script_functions_off).
 */
#ifndef IDGW_SCRIPT_H
#define IDGW_SCRIPT_H

#include <apr_pools.h>
#include <stddef.h>

#define IDGW_SCRIPT_MAX_PARTS 8

typedef struct idgw_script {
    const char *name;      /* for logs */
    const char *text;
    size_t len;
    char sha1[41];         /* what EVALSHA needs */
    const char *lib;       /* the same as a function library, or NULL (EVALSHA only) */
    size_t lib_len;
    char fname[46];        /* "idgw_" + sha1: library and function name (FCALL) */
    char core_fname[48];   /* fname + "_c": the core alone, for a call whose parts
                              have nothing to do (composed scripts only) */
} idgw_script;

/* Fill s from text and compute its SHA-1. */
void idgw_script_init(idgw_script *s, const char *name, const char *text);

/* A part as the script assembler sees it (mod_idgw.h has the module side). */
typedef struct idgw_script_part_text {
    const char *name;       /* letters, digits and '_' only */
    const char *lua_body;   /* body of function(K, A, core) */
    int after_core;
    const char *lua_setup;  /* NULL or definitions run once (library top level) */
} idgw_script_part_text;

/*
 * Assemble the per-request script from the core (Lua defining core(K, A))
 * and the parts (in the order given).  NULL with a message in err when a
 * part is malformed.
 */
const char *idgw_script_assemble(apr_pool_t *p, const char *core_lua,
                                 const idgw_script_part_text *parts, int nparts,
                                 char *err, size_t errlen);

/*
 * Assemble the per-request script as idgw_script_assemble does and fill s
 * with both forms: the EVAL text (text, sha1) and the function library (lib,
 * fname) that the argument builder calls with FCALL.  0 with a message in
 * err when a part is malformed.
 */
int idgw_script_compose(idgw_script *s, apr_pool_t *p, const char *name, const char *core_lua,
                        const idgw_script_part_text *parts, int nparts,
                        char *err, size_t errlen);

/* Whether FCALL is known not to work (a Redis before 7.0 said so once):
 * scripts are then run with EVALSHA of their EVAL text. */
int idgw_script_functions_off(void);
void idgw_script_functions_disable(void);

/*
 * Arguments of one script call, grown part by part.  Every key and value is
 * an argument (binary safe), never text inside a command format string.
 */
typedef struct idgw_script_args {
    apr_pool_t *pool;
    int nparts;                       /* parts including the core */
    int nkeys[IDGW_SCRIPT_MAX_PARTS + 1];
    int nargs[IDGW_SCRIPT_MAX_PARTS + 1];
    int cur;                          /* part being filled */
    /* keys and args of every part, in order */
    const char **keys; size_t *key_lens; int keys_used, keys_cap;
    const char **args; size_t *arg_lens; int args_used, args_cap;
} idgw_script_args;

void idgw_script_args_init(idgw_script_args *a, apr_pool_t *p);
/* Start the next part (the first call starts part 0, the core). */
void idgw_script_args_part(idgw_script_args *a);
void idgw_script_args_key(idgw_script_args *a, const char *key);
void idgw_script_args_arg(idgw_script_args *a, const char *val, size_t len);
void idgw_script_args_str(idgw_script_args *a, const char *val);
void idgw_script_args_int(idgw_script_args *a, apr_int64_t val);

/*
 * Build the call's argv: "EVALSHA" sha numkeys keys... [header...] args...,
 * or "FCALL" fname numkeys ... (the same layout) for a script with a library
 * while functions are not off.
 * parts_header: 1 for the per-request script (part counts first), 0 for the
 * fixed scripts that take plain KEYS/ARGV.  Returns argc; argv/lens are
 * allocated from the args' pool.
 */
int idgw_script_args_argv(const idgw_script_args *a, const idgw_script *s, int parts_header,
                          const char ***argv, size_t **lens);

/* 1 when the call has parts and none of them has a key or an argument: a
 * composed script is then called as its core alone (core_fname), whose
 * reply is {core's result} with no part results. */
int idgw_script_args_core_only(const idgw_script_args *a);
/* 1 when no part but the core has a key or an argument (also when the
 * script has no other parts): only the core has work in this call. */
int idgw_script_args_parts_idle(const idgw_script_args *a);

#endif
