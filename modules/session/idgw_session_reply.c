/*
 * idgw_session_reply.c - what a script's reply means for the request (OK,
 * 503 or 500, logged), the same whether it came from one server, a
 * Sentinel-found master or a Cluster's (idgw_session_redis.c and
 * idgw_session_cluster.c both ask).
 */
#include "idgw_session_cfg.h"

#include <http_log.h>
#include <http_protocol.h>

APLOG_USE_MODULE(idgw_session);

int idgw_session_reply_status(request_rec *r, const idgw_script *s, idgw_redis_conn *conn,
                              redisReply *reply)
{
    switch (idgw_redis_classify(reply)) {
    case IDGW_REDIS_OK:
        return OK;
    case IDGW_REDIS_READONLY:
        if (conn)
            conn->readonly_seen = 1;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "IDGW0115: Redis answered READONLY to script %s: finding the master "
                      "again", s->name);
        return HTTP_SERVICE_UNAVAILABLE;
    case IDGW_REDIS_UNAVAILABLE:
        if (idgw_g.pool)
            idgw_redis_pool_trip(idgw_g.pool);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "IDGW0112: Redis not serving (script %s): %.120s", s->name, reply->str);
        return HTTP_SERVICE_UNAVAILABLE;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "IDGW0112: Redis refused script %s: %.160s", s->name, reply->str);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
}
