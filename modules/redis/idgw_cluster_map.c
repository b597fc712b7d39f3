/*
 * idgw_cluster_map.c - key slots, CLUSTER SLOTS and MOVED/ASK parsing (see
 * idgw_cluster_map.h).
 */
#include "idgw_cluster_map.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

/* CRC16-CCITT as XMODEM uses it (polynomial 0x1021, initial value 0): the
 * variant the Redis Cluster specification names.  Keys are short: bitwise. */
unsigned idgw_cluster_crc16(const char *buf, size_t len)
{
    unsigned crc = 0;
    size_t i;
    int b;

    for (i = 0; i < len; i++) {
        crc ^= (unsigned)(unsigned char)buf[i] << 8;
        for (b = 0; b < 8; b++)
            crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
        crc &= 0xffff;
    }
    return crc;
}

int idgw_cluster_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);

    if (open) {
        size_t from = (size_t)(open - key) + 1;
        const char *close = memchr(key + from, '}', len - from);

        if (close && close > key + from)
            return (int)(idgw_cluster_crc16(key + from, (size_t)(close - key) - from)
                         & (IDGW_CLUSTER_SLOTS - 1));
    }
    return (int)(idgw_cluster_crc16(key, len) & (IDGW_CLUSTER_SLOTS - 1));
}

/* host is empty or "?" when the node does not know its own endpoint. */
static int copy_host(char *dst, const char *host, size_t len, const char *asked_host)
{
    if (len == 0 || (len == 1 && host[0] == '?')) {
        host = asked_host;
        len = strlen(asked_host);
    }
    if (len == 0 || len >= IDGW_HOST_MAX || memchr(host, '\0', len))
        return 0;
    memcpy(dst, host, len);
    dst[len] = '\0';
    return 1;
}

/* The index of host:port in m, added when new; -1 when the map is full. */
static int node_index(idgw_cluster_map *m, const idgw_cluster_node_addr *a)
{
    int i;

    for (i = 0; i < m->nnodes; i++)
        if (m->nodes[i].port == a->port && strcmp(m->nodes[i].host, a->host) == 0)
            return i;
    if (m->nnodes == IDGW_CLUSTER_MAX_NODES)
        return -1;
    m->nodes[m->nnodes] = *a;
    return m->nnodes++;
}

/* One range: [start, end, [host, port, id...], replicas...]; the master only. */
static int parse_range(const redisReply *e, const char *asked_host, idgw_cluster_map *m,
                       char *err, size_t errlen)
{
    const redisReply *master;
    idgw_cluster_node_addr a;
    long long start, end, s;
    int idx;

    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3
        || e->element[0]->type != REDIS_REPLY_INTEGER
        || e->element[1]->type != REDIS_REPLY_INTEGER
        || e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2) {
        apr_snprintf(err, errlen, "CLUSTER SLOTS: malformed range");
        return -1;
    }
    start = e->element[0]->integer;
    end = e->element[1]->integer;
    master = e->element[2];
    if (start < 0 || end < start || end >= IDGW_CLUSTER_SLOTS) {
        apr_snprintf(err, errlen, "CLUSTER SLOTS: range %lld-%lld out of bounds", start, end);
        return -1;
    }
    if (master->element[0]->type != REDIS_REPLY_STRING
        || master->element[1]->type != REDIS_REPLY_INTEGER
        || master->element[1]->integer < 1 || master->element[1]->integer > 65535
        || !copy_host(a.host, master->element[0]->str, master->element[0]->len, asked_host)) {
        apr_snprintf(err, errlen, "CLUSTER SLOTS: malformed master of range %lld-%lld",
                     start, end);
        return -1;
    }
    a.port = (int)master->element[1]->integer;
    if ((idx = node_index(m, &a)) < 0) {
        apr_snprintf(err, errlen, "CLUSTER SLOTS: more than %d masters",
                     IDGW_CLUSTER_MAX_NODES);
        return -1;
    }
    for (s = start; s <= end; s++)
        m->owner[s] = (short)idx;
    return 0;
}

int idgw_cluster_map_parse(const redisReply *r, const char *asked_host, idgw_cluster_map *m,
                           char *err, size_t errlen)
{
    size_t i;

    m->nnodes = 0;
    for (i = 0; i < IDGW_CLUSTER_SLOTS; i++)
        m->owner[i] = -1;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        apr_snprintf(err, errlen, "CLUSTER SLOTS: %s",
                     r && r->type == REDIS_REPLY_ERROR ? r->str : "not an array");
        return -1;
    }
    for (i = 0; i < r->elements; i++)
        if (parse_range(r->element[i], asked_host, m, err, errlen) < 0)
            return -1;
    return 0;
}

int idgw_cluster_map_covered(const idgw_cluster_map *m)
{
    int i, n = 0;

    for (i = 0; i < IDGW_CLUSTER_SLOTS; i++)
        n += m->owner[i] >= 0;
    return n;
}

/* "<slot> <host>:<port>" after the word; the port after the last ':' (IPv6). */
static int parse_target(const char *p, const char *asked_host, int *slot,
                        idgw_cluster_node_addr *to)
{
    char *end;
    const char *colon, *sp;
    long v;

    v = strtol(p, &end, 10);
    if (end == p || *end != ' ' || v < 0 || v >= IDGW_CLUSTER_SLOTS)
        return 0;
    *slot = (int)v;
    p = end + 1;
    sp = strchr(p, ' ');
    colon = strrchr(p, ':');
    if (!colon || (sp && sp < colon))
        return 0;
    v = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end != '\0' && *end != ' ') || v < 1 || v > 65535)
        return 0;
    to->port = (int)v;
    return copy_host(to->host, p, (size_t)(colon - p), asked_host);
}

idgw_cluster_redirect idgw_cluster_parse_redirect(const char *text, const char *asked_host,
                                                  int *slot, idgw_cluster_node_addr *to)
{
    if (strncmp(text, "MOVED ", 6) == 0)
        return parse_target(text + 6, asked_host, slot, to) ? IDGW_CLUSTER_MOVED
                                                           : IDGW_CLUSTER_NOT_REDIRECT;
    if (strncmp(text, "ASK ", 4) == 0)
        return parse_target(text + 4, asked_host, slot, to) ? IDGW_CLUSTER_ASK
                                                           : IDGW_CLUSTER_NOT_REDIRECT;
    return IDGW_CLUSTER_NOT_REDIRECT;
}
