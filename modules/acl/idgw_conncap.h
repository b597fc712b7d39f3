/* idgw_conncap: open connections per client address, counted across all the
 * children of one httpd in one shared memory block (the per-address
 * connection cap, IdgwAclMaxConnPerAddr).  No httpd in here: the module
 * glue is idgw_acl_conncap.c, and the Check tests drive this table alone.
 *
 * Shape: one row of counters per child process, each row a count-min sketch
 * of BUCKETS counters: an address (IPv4, or an IPv6 /64 like the rest of the
 * ACL) hashes to two buckets; a connection adds one to both in its child's
 * row; the address's estimate is the smaller of the two column sums over all
 * rows.  The estimate never undercounts, and it overcounts only when both
 * buckets are shared with other busy addresses.  No lock: atomic adds only,
 * and a row is written by the threads of one process alone.
 *
 * Why rows per process: a child that dies (crash, kill) cannot release its
 * connections; the next child to claim its row zeroes it, so no count leaks
 * for longer than the dead child's row stays unclaimed.
 */
#ifndef IDGW_CONNCAP_H
#define IDGW_CONNCAP_H

#include <stddef.h>
#include <apr.h>

#include "idgw_cidr.h"

typedef struct idgw_conncap idgw_conncap;

/* Counters per row: 16384 x 4 bytes = 64 KiB a row. */
#define IDGW_CONNCAP_BUCKETS 16384u

/* Bytes a table of rows rows needs. */
size_t idgw_conncap_size(unsigned rows);

/* Lays a zeroed table over mem (idgw_conncap_size(rows) bytes, e.g. shared
 * memory created before fork). */
idgw_conncap *idgw_conncap_init(void *mem, unsigned rows);

/* Process alive?  (kill(pid, 0) in the module; the tests pass their own.) */
typedef int idgw_conncap_alive_fn(apr_uint32_t pid);

/* Claims a row for process pid: a free row, or one whose owner is no longer
 * alive; zeroes it.  Call before the process's threads start.  Returns the
 * row, or -1 when every row belongs to a live process. */
int idgw_conncap_claim_row(idgw_conncap *t, apr_uint32_t pid, idgw_conncap_alive_fn *alive);

/* Counts a new connection from ip in row when the address has fewer than
 * cap connections open.  cap 0 (no cap) or a row out of range: admitted and
 * NOT counted, so the caller skips those and releases nothing.  Returns 1 when
 * admitted (counted: release it when the connection ends), 0 when refused
 * (nothing counted).  *open (may be NULL) gets the estimate of the
 * address's open connections, this one included. */
int idgw_conncap_acquire(idgw_conncap *t, int row, const idgw_ip *ip, unsigned cap,
                         unsigned *open);

/* The connection admitted by idgw_conncap_acquire in row has ended. */
void idgw_conncap_release(idgw_conncap *t, int row, const idgw_ip *ip);

/* The estimate of ip's open connections over all rows. */
unsigned idgw_conncap_count(const idgw_conncap *t, const idgw_ip *ip);

#endif
