/*
 * idgw_status_read.h - a session status answered from one pipelined read.
 *
 * Why: the status poll is the request a fleet serves most (a phone polls
 * while it waits).  Through the session script it cost Redis a function
 * call, HMGET, TIME and two PEXPIREs; read like this it costs HMGET and
 * TIME, and no script (docs/performance.md).  It writes nothing, so it may
 * share a round trip with other requests' (idgw_redis_batch.h).
 *
 * When: only for a status whose script parts have nothing to do (access
 * control decided locally) and whose idle timer this child refreshed a
 * moment ago (idgw_session_touch.h).  On a Redis Cluster both commands go
 * to the session's slot through the router, with the partners' checks
 * (idgw_session_cluster_status_read): still one round trip.
 *
 * The judgement is the session core's for a status (idgw_lua_session.c),
 * on the same fields and the same clock (Redis's TIME): a live session,
 * before its deadline, bound to the request's terminal and IDm (and address
 * under IdgwSessionAddressPolicy enforce), last written under this master's
 * history.  Anything else is left to the script, which strikes, ends or
 * expires the session as it must; the read changed nothing.
 */
#ifndef IDGW_STATUS_READ_H
#define IDGW_STATUS_READ_H

#include "idgw_redis_batch.h"
#include "idgw_session_call.h"

/* The session hash fields read, in HMGET order. */
enum {
    IDGW_SR_ST, IDGW_SR_SEQ, IDGW_SR_TID, IDGW_SR_IDM, IDGW_SR_ADDR, IDGW_SR_DL,
    IDGW_SR_NR, IDGW_SR_CT, IDGW_SR_AT, IDGW_SR_CID, IDGW_SR_RID, IDGW_SR_NFIELDS
};

/* The read's two commands: HMGET of the session hash, TIME. */
typedef struct idgw_status_read_cmds {
    const char *hmget[2 + IDGW_SR_NFIELDS];
    size_t hmget_lens[2 + IDGW_SR_NFIELDS];
    const char *time[1];
    size_t time_lens[1];
} idgw_status_read_cmds;

/* Fill cmds for session sid under the key prefix (the key from p). */
void idgw_status_read_cmds_make(apr_pool_t *p, const char *prefix, const char *sid,
                                idgw_status_read_cmds *cmds);

/* The two commands as a batcher's (idgw_redis_batch.h), pointing into cmds. */
void idgw_status_read_batch_cmds(idgw_status_read_cmds *cmds, idgw_redis_batch_cmd bc[2]);

/*
 * What the read found (hm: HMGET's reply, tm: TIME's), judged as the core
 * judges a status: 1 with *out filled (accepted, kind STATUS; strings point
 * into hm) when the status may be answered from it; 0 when the script must
 * decide.  replid/replid2: the history of the master that answered (NULL or
 * "": unknown, the rule is off, as in the script).
 */
int idgw_status_read_judge(const redisReply *hm, const redisReply *tm,
                           const idgw_session_request *rq, const idgw_session_limits *lim,
                           const char *replid, const char *replid2, idgw_session_result *out);

#endif
