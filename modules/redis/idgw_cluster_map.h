/*
 * idgw_cluster_map.h - the pure half of Redis Cluster routing: key slots
 * (CRC16 with hash tags), the slot map as CLUSTER SLOTS describes it, and
 * the MOVED / ASK redirections.  No sockets here, so all of it is tested
 * without a server (t/unit/redis/test_cluster_map.c).
 *
 * Rules from the Redis Cluster specification:
 *   - slot = CRC16-XMODEM(key) mod 16384;
 *   - hash tag: when the key has a '{' and, after it, a '}' with at least
 *     one byte between, only the bytes between the first '{' and the first
 *     '}' after it are hashed ("{user1000}.following" and
 *     "{user1000}.followers" share a slot; "foo{}{bar}" hashes whole);
 *   - "-MOVED <slot> <host>:<port>": the slot lives there now (refresh);
 *     "-ASK <slot> <host>:<port>": this one command goes there, preceded by
 *     ASKING (the slot is being migrated);
 *   - an empty host (Redis 7, unknown endpoint) means "the node you asked".
 */
#ifndef IDGW_CLUSTER_MAP_H
#define IDGW_CLUSTER_MAP_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "idgw_conf_parse.h"

#define IDGW_CLUSTER_SLOTS 16384
/* Masters a map may name; a cluster larger than this is refused, not truncated. */
#define IDGW_CLUSTER_MAX_NODES 64

unsigned idgw_cluster_crc16(const char *buf, size_t len);

/* The slot of a key (hash tags applied). */
int idgw_cluster_key_slot(const char *key, size_t len);

typedef struct idgw_cluster_node_addr {
    char host[IDGW_HOST_MAX];
    int port;
} idgw_cluster_node_addr;

/* The masters and which of them serves each slot (-1: no one). */
typedef struct idgw_cluster_map {
    int nnodes;
    idgw_cluster_node_addr nodes[IDGW_CLUSTER_MAX_NODES];
    short owner[IDGW_CLUSTER_SLOTS];
} idgw_cluster_map;

/*
 * Fill m from a CLUSTER SLOTS reply got from asked_host (which replaces an
 * empty or "?" host in it).  Returns 0, or -1 with the reason in err when
 * the reply is malformed (m is then unusable: never install half a map).
 */
int idgw_cluster_map_parse(const redisReply *r, const char *asked_host, idgw_cluster_map *m,
                           char *err, size_t errlen);

/* How many slots have an owner (16384 when the cluster covers them all). */
int idgw_cluster_map_covered(const idgw_cluster_map *m);

typedef enum idgw_cluster_redirect {
    IDGW_CLUSTER_NOT_REDIRECT = 0,
    IDGW_CLUSTER_MOVED,
    IDGW_CLUSTER_ASK
} idgw_cluster_redirect;

/*
 * Parse an error reply's text as MOVED or ASK.  IDGW_CLUSTER_NOT_REDIRECT
 * for any other text or a malformed one (bad slot, port, host too long);
 * an empty host is copied as asked_host.
 */
idgw_cluster_redirect idgw_cluster_parse_redirect(const char *text, const char *asked_host,
                                                  int *slot, idgw_cluster_node_addr *to);

#endif
