/*
 * idgw_redis.c - one prepared Redis connection (see idgw_redis.h).
 */
#include "idgw_redis.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static struct timeval to_timeval(apr_interval_time_t t)
{
    struct timeval tv;

    tv.tv_sec = (long)apr_time_sec(t);
    tv.tv_usec = (long)apr_time_usec(t);
    return tv;
}

/* FCALL cannot serve here: a Redis before 7.0 (no functions), or a Redis
 * ACL user allowed EVALSHA but not FCALL or FUNCTION LOAD.  Neither ran. */
static int fcall_unusable(const redisReply *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ERROR)
        return 0;
    if (strncmp(reply->str, "ERR unknown command", 19) == 0)
        return strstr(reply->str, "FCALL") != NULL;
    return strncmp(reply->str, "NOPERM", 6) == 0
           && (strstr(reply->str, "'fcall'") || strstr(reply->str, "'function|load'"));
}

idgw_redis_error_kind idgw_redis_classify(const redisReply *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ERROR)
        return IDGW_REDIS_OK;
    /* neither ran: the script or function is loaded (or FCALL given up) and
     * the call sent again (idgw_redis_evalsha) */
    if (strncmp(reply->str, "NOSCRIPT", 8) == 0
        || strncmp(reply->str, "ERR Function not found", 22) == 0 || fcall_unusable(reply))
        return IDGW_REDIS_NOSCRIPT;
    /* a script that tried to write on a replica: the error text carries READONLY */
    if (strncmp(reply->str, "READONLY", 8) == 0 || strstr(reply->str, "-READONLY")
        || strstr(reply->str, "READONLY You can't write"))
        return IDGW_REDIS_READONLY;
    if (strncmp(reply->str, "LOADING", 7) == 0 || strncmp(reply->str, "MASTERDOWN", 10) == 0
        || strncmp(reply->str, "BUSY", 4) == 0 || strncmp(reply->str, "TRYAGAIN", 8) == 0)
        return IDGW_REDIS_UNAVAILABLE;
    /* min-replicas-to-write not met: the master refuses writes (the
     * script's first write failed, nothing was written) */
    if (strstr(reply->str, "NOREPLICAS"))
        return IDGW_REDIS_UNAVAILABLE;
    return IDGW_REDIS_OTHER;
}

int idgw_redis_dead(const idgw_redis_conn *c)
{
    return !c->ctx || c->ctx->err != 0;
}

void idgw_redis_close(idgw_redis_conn *c)
{
    if (c->ctx) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
}

/* Run one setup command; its error text goes to err (never the arguments). */
static int setup_command(idgw_redis_conn *c, const char *what, int argc, const char **argv,
                         const size_t *lens, int expect_type, redisReply **keep,
                         char *err, size_t errlen)
{
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, lens);

    if (!r) {
        apr_snprintf(err, errlen, "%s: %s", what, c->ctx->errstr);
        return 0;
    }
    if (r->type == REDIS_REPLY_ERROR || (expect_type && r->type != expect_type)) {
        apr_snprintf(err, errlen, "%s refused: %.120s", what,
                     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        freeReplyObject(r);
        return 0;
    }
    if (keep)
        *keep = r;
    else
        freeReplyObject(r);
    return 1;
}

static int verify_role_master(idgw_redis_conn *c, char *err, size_t errlen)
{
    const char *argv[] = { "ROLE" };
    size_t lens[] = { 4 };
    redisReply *r = NULL;
    int ok;

    if (!setup_command(c, "ROLE", 1, argv, lens, REDIS_REPLY_ARRAY, &r, err, errlen))
        return 0;
    ok = r->elements >= 1 && r->element[0]->type == REDIS_REPLY_STRING
        && strcmp(r->element[0]->str, "master") == 0;
    if (!ok)
        apr_snprintf(err, errlen, "ROLE: the server is not a master");
    freeReplyObject(r);
    return ok;
}

static int prepare(const idgw_redis_cfg *cfg, idgw_redis_conn *c, int verify_master,
                   const idgw_script *const *scripts, int nscripts, char *err, size_t errlen)
{
    int i;

    if (redisSetTimeout(c->ctx, to_timeval(cfg->command_timeout)) != REDIS_OK
        || redisEnableKeepAlive(c->ctx) != REDIS_OK) {
        apr_snprintf(err, errlen, "setting timeout/keepalive: %s", c->ctx->errstr);
        return 0;
    }
    c->timeout = cfg->command_timeout;
    if (cfg->password) {
        const char *argv[] = { "AUTH", cfg->password };
        size_t lens[] = { 4, strlen(cfg->password) };

        if (!setup_command(c, "AUTH", 2, argv, lens, 0, NULL, err, errlen))
            return 0;
    }
    if (cfg->database) {
        char dbuf[16];
        const char *argv[2];
        size_t lens[2];

        apr_snprintf(dbuf, sizeof(dbuf), "%d", cfg->database);
        argv[0] = "SELECT"; lens[0] = 6;
        argv[1] = dbuf; lens[1] = strlen(dbuf);
        if (!setup_command(c, "SELECT", 2, argv, lens, 0, NULL, err, errlen))
            return 0;
    }
    if (verify_master && !verify_role_master(c, err, errlen))
        return 0;
    idgw_redis_read_history(c);   /* once per connection, never per request */
    for (i = 0; i < nscripts; i++) {
        const char *argv[] = { "SCRIPT", "LOAD", scripts[i]->text };
        size_t lens[] = { 6, 4, scripts[i]->len };

        /* a function library is loaded when a call misses it (Function not
         * found), once per Redis, not on every connection */
        if (scripts[i]->lib && !idgw_script_functions_off())
            continue;

        if (!setup_command(c, "SCRIPT LOAD", 3, argv, lens, REDIS_REPLY_STRING, NULL,
                           err, errlen))
            return 0;
    }
    return 1;
}

apr_status_t idgw_redis_connect(const idgw_redis_cfg *cfg, const idgw_redis_addr *addr,
                                int verify_master, const idgw_script *const *scripts,
                                int nscripts, idgw_redis_conn **out,
                                char *err, size_t errlen)
{
    idgw_redis_conn *c = calloc(1, sizeof(*c));

    if (!c) {
        apr_snprintf(err, errlen, "out of memory");
        return APR_ENOMEM;
    }
    c->ctx = redisConnectWithTimeout(addr->host, addr->port, to_timeval(cfg->connect_timeout));
    if (!c->ctx || c->ctx->err) {
        apr_snprintf(err, errlen, "connect to %s:%d: %s", addr->host, addr->port,
                     c->ctx ? c->ctx->errstr : "out of memory");
        idgw_redis_close(c);
        free(c);
        return APR_ECONNREFUSED;
    }
    if (!prepare(cfg, c, verify_master, scripts, nscripts, err, errlen)) {
        idgw_redis_close(c);
        free(c);
        return APR_EGENERAL;
    }
    *out = c;
    return APR_SUCCESS;
}

int idgw_redis_drain(idgw_redis_conn *c, char *err, size_t errlen)
{
    int errors = 0;

    while (c->pending > 0) {
        void *reply = NULL;

        if (redisGetReply(c->ctx, &reply) != REDIS_OK || !reply)
            return -1;
        c->pending--;
        if (((redisReply *)reply)->type == REDIS_REPLY_ERROR && errors++ == 0)
            apr_snprintf(err, errlen, "%.160s", ((redisReply *)reply)->str);
        freeReplyObject(reply);
    }
    return errors;
}

redisReply *idgw_redis_command(idgw_redis_conn *c, int argc, const char **argv,
                               const size_t *lens)
{
    char ignored[8];

    if (idgw_redis_dead(c) || idgw_redis_drain(c, ignored, sizeof(ignored)) < 0)
        return NULL;
    return redisCommandArgv(c->ctx, argc, argv, lens);
}

/* Load s as the call needs it: the function library (REPLACE: the same
 * name is the same text) or the EVAL script.  NULL or an error reply when
 * that failed, else the reply is freed and 1 returned. */
static int load_script(idgw_redis_conn *c, const idgw_script *s, int as_function,
                       redisReply **failed)
{
    const char *fload[] = { "FUNCTION", "LOAD", "REPLACE", s->lib };
    size_t fload_lens[] = { 8, 4, 7, s->lib_len };
    const char *sload[] = { "SCRIPT", "LOAD", s->text };
    size_t sload_lens[] = { 6, 4, s->len };
    redisReply *lr = as_function ? idgw_redis_command(c, 4, fload, fload_lens)
                                 : idgw_redis_command(c, 3, sload, sload_lens);

    *failed = lr;
    if (!lr || lr->type == REDIS_REPLY_ERROR)
        return 0;   /* the caller reports the error reply */
    freeReplyObject(lr);
    *failed = NULL;
    return 1;
}

int idgw_redis_load(idgw_redis_conn *c, const idgw_script *s, int as_function)
{
    redisReply *failed;

    if (load_script(c, s, as_function && s->lib, &failed))
        return 1;
    if (failed)
        freeReplyObject(failed);
    return 0;
}

/* FCALL cannot serve: EVALSHA of the same script from now on (the whole
 * process: the next calls are built so), this call included. */
static redisReply *evalsha_instead(idgw_redis_conn *c, const idgw_script *s, int argc,
                                   const char **argv, const size_t *lens)
{
    const char **eargv = malloc(sizeof(*eargv) * (size_t)argc);
    size_t *elens = malloc(sizeof(*elens) * (size_t)argc);
    redisReply *r = NULL;

    idgw_script_functions_disable();
    if (eargv && elens) {
        memcpy(eargv, argv, sizeof(*eargv) * (size_t)argc);
        memcpy(elens, lens, sizeof(*elens) * (size_t)argc);
        eargv[0] = "EVALSHA"; elens[0] = 7;
        eargv[1] = s->sha1; elens[1] = 40;
        r = idgw_redis_evalsha(c, s, argc, eargv, elens);
    }
    free(eargv);
    free(elens);
    return r;
}

redisReply *idgw_redis_evalsha(idgw_redis_conn *c, const idgw_script *s, int argc,
                               const char **argv, const size_t *lens)
{
    redisReply *r = idgw_redis_command(c, argc, argv, lens), *failed;
    int as_function = argc >= 2 && s && s->lib && strcmp(argv[0], "FCALL") == 0;

    if (as_function && fcall_unusable(r)) {
        freeReplyObject(r);
        return evalsha_instead(c, s, argc, argv, lens);
    }
    if (r && s && idgw_redis_classify(r) == IDGW_REDIS_NOSCRIPT) {
        freeReplyObject(r);
        if (load_script(c, s, as_function, &failed))
            return idgw_redis_command(c, argc, argv, lens);
        if (as_function && fcall_unusable(failed)) {   /* FUNCTION LOAD not allowed */
            freeReplyObject(failed);
            return evalsha_instead(c, s, argc, argv, lens);
        }
        return failed;
    }
    return r;
}

apr_status_t idgw_redis_send_wait(idgw_redis_conn *c, int replicas,
                                  apr_interval_time_t timeout)
{
    char nbuf[16], tbuf[24];
    const char *argv[3] = { "WAIT", nbuf, tbuf };
    size_t lens[3];
    long ms = (long)apr_time_as_msec(timeout);

    apr_snprintf(nbuf, sizeof(nbuf), "%d", replicas);
    apr_snprintf(tbuf, sizeof(tbuf), "%ld", ms > 0 ? ms : 1);   /* WAIT 0 would block forever */
    lens[0] = 4;
    lens[1] = strlen(nbuf);
    lens[2] = strlen(tbuf);
    if (idgw_redis_send(c, 3, argv, lens) != APR_SUCCESS)
        return APR_EGENERAL;
    c->waiting = timeout;
    return APR_SUCCESS;
}

/* The socket's timeout for the next reads; 0 when it could not be set. */
static int set_read_timeout(idgw_redis_conn *c, apr_interval_time_t t)
{
    return !idgw_redis_dead(c) && redisSetTimeout(c->ctx, to_timeval(t)) == REDIS_OK;
}

int idgw_redis_read_wait(idgw_redis_conn *c)
{
    int longer = c->timeout > 0 && c->waiting > 0
                 && set_read_timeout(c, c->timeout + c->waiting);
    redisReply *w = idgw_redis_read(c);
    int n = w && w->type == REDIS_REPLY_INTEGER ? (int)w->integer : -1;

    c->waiting = 0;
    if (longer)
        set_read_timeout(c, c->timeout);
    if (w)
        freeReplyObject(w);
    return n;
}

redisReply *idgw_redis_command_confirmed(idgw_redis_conn *c, int argc, const char **argv,
                                         const size_t *lens, int replicas,
                                         apr_interval_time_t timeout, int *acked)
{
    char ignored[8];
    redisReply *r;

    *acked = -1;
    /* pipelined: the command and WAIT leave together, so confirming costs
     * the replication delay, not one more round trip */
    if (idgw_redis_dead(c) || idgw_redis_drain(c, ignored, sizeof(ignored)) < 0
        || idgw_redis_send(c, argc, argv, lens) != APR_SUCCESS
        || idgw_redis_send_wait(c, replicas, timeout) != APR_SUCCESS)
        return NULL;
    r = idgw_redis_read(c);
    *acked = idgw_redis_read_wait(c);
    return r;
}

redisReply *idgw_redis_evalsha_confirmed(idgw_redis_conn *c, const idgw_script *s, int argc,
                                         const char **argv, const size_t *lens, int replicas,
                                         apr_interval_time_t timeout, int *acked)
{
    redisReply *r = idgw_redis_command_confirmed(c, argc, argv, lens, replicas, timeout, acked);

    if (r && idgw_redis_classify(r) == IDGW_REDIS_NOSCRIPT) {
        /* the script did not run (not loaded, or FCALL refused: classify
         * counts both): load it or fall back as idgw_redis_evalsha does, run
         * it, confirm it (one round trip more) */
        freeReplyObject(r);
        r = idgw_redis_evalsha(c, s, argc, argv, lens);
        *acked = r && idgw_redis_send_wait(c, replicas, timeout) == APR_SUCCESS
                 ? idgw_redis_read_wait(c) : -1;
    }
    return r;
}

apr_status_t idgw_redis_send(idgw_redis_conn *c, int argc, const char **argv,
                             const size_t *lens)
{
    int done = 0;

    if (idgw_redis_dead(c))
        return APR_EGENERAL;
    if (redisAppendCommandArgv(c->ctx, argc, argv, lens) != REDIS_OK)
        return APR_EGENERAL;
    do {
        if (redisBufferWrite(c->ctx, &done) != REDIS_OK)
            return APR_EGENERAL;
    } while (!done);
    c->pending++;
    return APR_SUCCESS;
}

redisReply *idgw_redis_read(idgw_redis_conn *c)
{
    void *reply = NULL;

    if (idgw_redis_dead(c) || c->pending <= 0)
        return NULL;
    if (redisGetReply(c->ctx, &reply) != REDIS_OK || !reply)
        return NULL;
    c->pending--;
    return reply;
}
