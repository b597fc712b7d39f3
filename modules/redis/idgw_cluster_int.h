/*
 * idgw_cluster_int.h - the router's state as its call path sees it
 * (idgw_cluster.c keeps the masters and the slot map, idgw_cluster_call.c
 * sends the scripts).  Not for the modules: they use idgw_cluster.h.
 */
#ifndef IDGW_CLUSTER_INT_H
#define IDGW_CLUSTER_INT_H

#include "idgw_cluster.h"

/* The master serving slot (-1: none known); gen receives the map's generation. */
int idgw_cluster_owner(idgw_cluster *cl, int slot, unsigned long *gen);

/* Ask for the map again unless it changed since gen or was asked for recently. */
void idgw_cluster_refresh_after(idgw_cluster *cl, unsigned long gen);

/* The index of a master (its pool made when new); -1 when the table is full. */
int idgw_cluster_node(idgw_cluster *cl, const idgw_cluster_node_addr *a);

/* MOVED: slot now lives on node idx. */
void idgw_cluster_point(idgw_cluster *cl, int slot, int idx);

idgw_redis_pool *idgw_cluster_pool(idgw_cluster *cl, int idx);

/* idgw_cluster_slot_batch, with the master it belongs to (*node, -1 with
 * no batcher) and the map's generation it was found in. */
struct idgw_redis_batch *idgw_cluster_slot_batch_of(idgw_cluster *cl, int slot, int *node,
                                                    unsigned long *gen);
const char *idgw_cluster_host(idgw_cluster *cl, int idx);

typedef enum idgw_cluster_event {
    IDGW_CLUSTER_EV_MOVED, IDGW_CLUSTER_EV_ASK, IDGW_CLUSTER_EV_TRYAGAIN,
    IDGW_CLUSTER_EV_CLUSTERDOWN, IDGW_CLUSTER_EV_LOST
} idgw_cluster_event;

void idgw_cluster_note(idgw_cluster *cl, idgw_cluster_event ev);

#endif
