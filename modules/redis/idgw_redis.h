/*
 * idgw_redis.h - one Redis connection through hiredis 0.14 (no TLS, RESP2).
 *
 * hiredis 0.14 facts this code is built on: the connect timeout
 * bounds only the connect, so redisSetTimeout and redisEnableKeepAlive are
 * applied after every connect; a context whose err is set is dead and is
 * never used again; a context is not thread-safe (the pool hands each one
 * to one thread at a time).
 */
#ifndef IDGW_REDIS_H
#define IDGW_REDIS_H

#include <apr_pools.h>
#include <apr_time.h>
#include <hiredis/hiredis.h>

#include "idgw_conf_parse.h"
#include "idgw_script.h"

#define IDGW_REDIS_MAX_SENTINELS 8
#define IDGW_REDIS_MAX_SEEDS 16          /* IdgwRedisCluster seed nodes */
#define IDGW_REDIS_HOST_MAX IDGW_HOST_MAX

/* A Redis server or Sentinel: host and port (idgw_parse_hostport). */
typedef idgw_hostport idgw_redis_addr;

typedef struct idgw_redis_cfg {
    idgw_redis_addr server;              /* used when there are no sentinels */
    idgw_redis_addr sentinels[IDGW_REDIS_MAX_SENTINELS];
    int nsentinels;
    const char *master_name;             /* with sentinels */
    idgw_redis_addr seeds[IDGW_REDIS_MAX_SEEDS];   /* Redis Cluster mode when nseeds > 0 */
    int nseeds;
    const char *password;                /* NULL: no AUTH */
    int database;                        /* SELECT when not 0 */
    apr_interval_time_t connect_timeout;
    apr_interval_time_t command_timeout;
    apr_interval_time_t idle_check;      /* PING before reusing a connection idle this long */
    apr_interval_time_t breaker_time;    /* fail fast this long after Redis failed */
    int pool_max;                        /* connections per child */
} idgw_redis_cfg;

typedef struct idgw_redis_conn {
    redisContext *ctx;
    apr_time_t last_used;
    int pending;                  /* pipelined replies not read yet */
    unsigned long generation;     /* master generation this connection belongs to */
    unsigned long epoch;          /* pool failure epoch when last known good */
    int readonly_seen;            /* the server answered READONLY: re-resolve the master */
    int drained_errors;           /* error replies among pipelined commands, not yet logged */
    char drain_error[160];        /* the first one's text */
    char replid[41], replid2[41]; /* the master's replication history at connect ("": unknown) */
    apr_interval_time_t timeout;  /* each read's and write's (IdgwRedisTimeout); 0: hiredis's */
    apr_interval_time_t waiting;  /* a WAIT sent and not read yet: its timeout */
} idgw_redis_conn;

/* Classification of an error reply. */
typedef enum idgw_redis_error_kind {
    IDGW_REDIS_OK = 0,
    IDGW_REDIS_NOSCRIPT,          /* script cache lost: SCRIPT LOAD and run again */
    IDGW_REDIS_READONLY,          /* talking to a replica: re-resolve, the script wrote nothing */
    IDGW_REDIS_UNAVAILABLE,       /* LOADING, MASTERDOWN, BUSY: Redis not serving now */
    IDGW_REDIS_OTHER
} idgw_redis_error_kind;

idgw_redis_error_kind idgw_redis_classify(const redisReply *reply);

/*
 * Connect to addr and prepare the connection: timeouts and keepalive,
 * AUTH and SELECT when configured, ROLE must say "master" when
 * verify_master is set, then SCRIPT LOAD of each script.
 */
apr_status_t idgw_redis_connect(const idgw_redis_cfg *cfg, const idgw_redis_addr *addr,
                                int verify_master, const idgw_script *const *scripts,
                                int nscripts, idgw_redis_conn **out,
                                char *err, size_t errlen);

void idgw_redis_close(idgw_redis_conn *c);

/* Is the connection unusable (hiredis err set)? */
int idgw_redis_dead(const idgw_redis_conn *c);

/*
 * Read the replies of pipelined commands.  Returns the number of error
 * replies among them (the first one's text goes to err), or -1 when the
 * connection died.
 */
int idgw_redis_drain(idgw_redis_conn *c, char *err, size_t errlen);

/* A blocking command; NULL when the connection died (see idgw_redis_dead). */
redisReply *idgw_redis_command(idgw_redis_conn *c, int argc, const char **argv,
                               const size_t *lens);

/*
 * The script call idgw_script_args_argv built: EVALSHA (argv[0] "EVALSHA",
 * argv[1] the SHA) or FCALL (argv[0] "FCALL", argv[1] s->fname).  On
 * NOSCRIPT or "Function not found" loads the script (SCRIPT LOAD) or its
 * library (FUNCTION LOAD REPLACE) and runs it again, once (safe: neither
 * ran).  A Redis without FCALL turns the process to EVALSHA for good.
 * s NULL: argv is a plain command (nothing to load), sent once.
 */
redisReply *idgw_redis_evalsha(idgw_redis_conn *c, const idgw_script *s, int argc,
                               const char **argv, const size_t *lens);

/*
 * Load s on this connection's server: its function library (as_function,
 * when it has one) or its EVAL text.  1 when loaded.  For a caller that must
 * send something before each try (a Cluster's ASKING), which
 * idgw_redis_evalsha's own reload would not repeat.
 */
int idgw_redis_load(idgw_redis_conn *c, const idgw_script *s, int as_function);

/*
 * idgw_redis_evalsha, then WAIT replicas timeout pipelined behind it: *acked
 * is how many replicas acknowledged the connection's writes so far (-1: WAIT
 * got no answer).  The script's reply is returned as idgw_redis_evalsha does
 * (NULL: the connection failed; the script may have run).  The command
 * timeout must exceed the WAIT timeout.
 */
redisReply *idgw_redis_evalsha_confirmed(idgw_redis_conn *c, const idgw_script *s, int argc,
                                         const char **argv, const size_t *lens, int replicas,
                                         apr_interval_time_t timeout, int *acked);

/*
 * A command and WAIT replicas timeout pipelined behind it on c, read
 * together; *acked as for idgw_redis_evalsha_confirmed.  No reload: for a
 * caller that must send something before each try (a Cluster's ASKING).
 */
redisReply *idgw_redis_command_confirmed(idgw_redis_conn *c, int argc, const char **argv,
                                         const size_t *lens, int replicas,
                                         apr_interval_time_t timeout, int *acked);

/*
 * Send a command without waiting for its reply (pipelined); the reply is
 * read by the next idgw_redis_drain on this connection.
 */
apr_status_t idgw_redis_send(idgw_redis_conn *c, int argc, const char **argv,
                             const size_t *lens);

/* WAIT replicas timeout, pipelined (idgw_redis_send); 1 ms when timeout is 0
 * (WAIT 0 would block forever). */
apr_status_t idgw_redis_send_wait(idgw_redis_conn *c, int replicas,
                                  apr_interval_time_t timeout);

/* The reply of that WAIT: replicas that acknowledged, -1 when none came
 * (connection lost, an error reply such as a replica's refusal).  Read
 * under the connection's timeout plus the WAIT's own: Redis answers a WAIT
 * whose replicas are late at its next cron tick after the timeout (up to
 * 100 ms later at hz 10), and a late answer read as a dead connection would
 * trip the pool's breaker for every request of the child. */
int idgw_redis_read_wait(idgw_redis_conn *c);

/*
 * Read the reply of the oldest pipelined command (sent by idgw_redis_send);
 * NULL when the connection died.  The caller frees it.
 */
redisReply *idgw_redis_read(idgw_redis_conn *c);

/* INFO replication once: fill c->replid/replid2 ("" when not told; idgw_redis_history.c). */
void idgw_redis_read_history(idgw_redis_conn *c);

/* SENTINEL get-master-addr-by-name on each sentinel in turn (idgw_redis_sentinel.c). */
apr_status_t idgw_redis_sentinel_resolve(const idgw_redis_cfg *cfg, int first,
                                         char *host, size_t hostlen, int *port,
                                         int *answered_by, char *err, size_t errlen);

#endif
