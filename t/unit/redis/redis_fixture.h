/*
 * redis_fixture.h - a throw-away redis-server for unit tests (loopback only).
 */
#ifndef REDIS_FIXTURE_H
#define REDIS_FIXTURE_H

#include <sys/types.h>

/* Start redis-server on 127.0.0.1:port without persistence; 0 on success. */
int redis_fixture_start(int port);

/* Stop it (SIGTERM, wait). */
void redis_fixture_stop(void);

#endif
