/*
 * redis_fixture.c - start and stop a redis-server for the unit tests.
 */
#include "redis_fixture.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t server_pid = -1;

static int ping(int port)
{
    struct timeval tv = { 0, 200000 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    redisReply *r;
    int ok = 0;

    if (c && !c->err && (r = redisCommand(c, "PING"))) {
        ok = r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return ok;
}

int redis_fixture_start(int port)
{
    char portbuf[16];
    int i;

    if (ping(port)) {
        fprintf(stderr, "redis_fixture: port %d already in use\n", port);
        return -1;
    }
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    server_pid = fork();
    if (server_pid < 0)
        return -1;
    if (server_pid == 0) {
        /* a test that aborts must not leave its server behind */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execlp("redis-server", "redis-server", "--port", portbuf, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--loglevel", "warning", "--logfile", "/dev/null",
               "--dir", "/tmp", (char *)NULL);
        perror("redis_fixture: exec redis-server");
        _exit(127);
    }
    for (i = 0; i < 100; i++) {
        if (ping(port))
            return 0;
        usleep(50000);
    }
    redis_fixture_stop();
    return -1;
}

void redis_fixture_stop(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = -1;
    }
}
