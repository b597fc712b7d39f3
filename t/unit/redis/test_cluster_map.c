/*
 * test_cluster_map.c - the pure half of the Cluster router: CRC16 and key
 * slots (vectors of the Redis Cluster specification, and slots a real
 * cluster gave for CLUSTER KEYSLOT), MOVED/ASK parsing, and the slot map
 * read from CLUSTER SLOTS replies (made by hiredis's own reader from the
 * bytes a server sends, so they have the shape hiredis gives the router).
 */
#include <check.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "idgw_cluster.h"

static int slot_of(const char *key)
{
    return idgw_cluster_key_slot(key, strlen(key));
}

START_TEST(crc16_of_the_specification)
{
    /* "The CRC16 of 123456789 is 0x31C3" (Redis Cluster specification) */
    ck_assert_uint_eq(idgw_cluster_crc16("123456789", 9), 0x31C3);
    ck_assert_uint_eq(idgw_cluster_crc16("", 0), 0);
}
END_TEST

START_TEST(key_slots_and_hash_tags)
{
    /* expected values: CLUSTER KEYSLOT on redis-server 7.0 */
    ck_assert_int_eq(slot_of("123456789"), 12739);
    ck_assert_int_eq(slot_of("foo"), 12182);
    ck_assert_int_eq(slot_of("bar"), 5061);
    ck_assert_int_eq(slot_of("hello"), 866);
    /* the specification's examples of hash tags */
    ck_assert_int_eq(slot_of("{user1000}.following"), 3443);
    ck_assert_int_eq(slot_of("{user1000}.followers"), 3443);
    ck_assert_int_eq(slot_of("foo{}{bar}"), 8363);      /* empty tag: the whole key */
    ck_assert_int_eq(slot_of("foo{{bar}}zap"), 4015);   /* hashes "{bar" */
    ck_assert_int_eq(slot_of("foo{bar}{zap}"), 5061);   /* only the first tag: "bar" */
    ck_assert_int_eq(slot_of("{}"), 15257);
    ck_assert_int_eq(slot_of("a{b"), 13340);            /* no closing brace */
    /* binary safe: a NUL inside the tag is hashed like any byte */
    ck_assert_int_eq(idgw_cluster_key_slot("x{a\0b}", 6),
                     (int)(idgw_cluster_crc16("a\0b", 3) & 16383));
}
END_TEST

START_TEST(moved_and_ask_parsed)
{
    idgw_cluster_node_addr to;
    int slot = -1;

    ck_assert_int_eq(idgw_cluster_parse_redirect("MOVED 3999 127.0.0.1:6381", "h", &slot, &to),
                     IDGW_CLUSTER_MOVED);
    ck_assert_int_eq(slot, 3999);
    ck_assert_str_eq(to.host, "127.0.0.1");
    ck_assert_int_eq(to.port, 6381);
    ck_assert_int_eq(idgw_cluster_parse_redirect("ASK 16383 10.0.0.7:17102", "h", &slot, &to),
                     IDGW_CLUSTER_ASK);
    ck_assert_int_eq(slot, 16383);
    ck_assert_str_eq(to.host, "10.0.0.7");
    ck_assert_int_eq(to.port, 17102);
    /* IPv6: the port follows the last colon */
    ck_assert_int_eq(idgw_cluster_parse_redirect("MOVED 0 ::1:7000", "h", &slot, &to),
                     IDGW_CLUSTER_MOVED);
    ck_assert_str_eq(to.host, "::1");
    ck_assert_int_eq(to.port, 7000);
    /* unknown endpoint (Redis 7 sends an empty host): the node asked */
    ck_assert_int_eq(idgw_cluster_parse_redirect("MOVED 12 :7001", "192.0.2.1", &slot, &to),
                     IDGW_CLUSTER_MOVED);
    ck_assert_str_eq(to.host, "192.0.2.1");
    ck_assert_int_eq(to.port, 7001);
}
END_TEST

START_TEST(malformed_redirects_refused)
{
    static const char *bad[] = {
        "MOVED", "MOVED 3999", "MOVED 3999 127.0.0.1", "MOVED 16384 127.0.0.1:1",
        "MOVED -1 127.0.0.1:1", "MOVED x 127.0.0.1:1", "MOVED 1 127.0.0.1:0",
        "MOVED 1 127.0.0.1:65536", "MOVED 1 127.0.0.1:12x", "ASK 1 127.0.0.1:",
        "ASKING 1 127.0.0.1:1", "MOVEDX 1 127.0.0.1:1", "ERR MOVED 1 a:1", "CLUSTERDOWN The cluster is down",
        "TRYAGAIN Multiple keys request during rehashing of slot", "MOVED 1 a b:1",
    };
    idgw_cluster_node_addr to;
    char longhost[400];
    size_t i;
    int slot;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(idgw_cluster_parse_redirect(bad[i], "h", &slot, &to)
                      == IDGW_CLUSTER_NOT_REDIRECT, "accepted: %s", bad[i]);
    memset(longhost, 'a', sizeof(longhost));
    memcpy(longhost, "MOVED 1 ", 8);
    strcpy(longhost + 300, ":1");
    ck_assert_int_eq(idgw_cluster_parse_redirect(longhost, "h", &slot, &to),
                     IDGW_CLUSTER_NOT_REDIRECT);
}
END_TEST

/* A reply as hiredis reads it from the bytes a server sends. */
static redisReply *reply_of(const char *resp)
{
    redisReader *rd = redisReaderCreate();
    void *r = NULL;

    redisReaderFeed(rd, resp, strlen(resp));
    ck_assert_int_eq(redisReaderGetReply(rd, &r), REDIS_OK);
    ck_assert_ptr_nonnull(r);
    redisReaderFree(rd);
    return r;
}

#define NODE(host, port, id) "*3\r\n$" #host "\r\n:" #port "\r\n$40\r\n" id "\r\n"
#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static idgw_cluster_map map;

START_TEST(slot_map_parsed)
{
    /* two masters, the first with a replica and two ranges (as after a
     * resharding); Redis 7 adds a fourth element (networking metadata) */
    const char *resp =
        "*3\r\n"
        "*4\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:17100\r\n$40\r\n" ID_A "\r\n*0\r\n"
        "*3\r\n$9\r\n127.0.0.1\r\n:17103\r\n$40\r\n" ID_B "\r\n"
        "*3\r\n:5461\r\n:16382\r\n*3\r\n$9\r\n127.0.0.1\r\n:17101\r\n$40\r\n" ID_B "\r\n"
        "*3\r\n:16383\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:17100\r\n$40\r\n" ID_A "\r\n";
    redisReply *r = reply_of(resp);
    char err[200];

    ck_assert_int_eq(idgw_cluster_map_parse(r, "seed", &map, err, sizeof(err)), 0);
    ck_assert_int_eq(map.nnodes, 2);           /* the replica is not a master */
    ck_assert_str_eq(map.nodes[0].host, "127.0.0.1");
    ck_assert_int_eq(map.nodes[0].port, 17100);
    ck_assert_int_eq(map.nodes[1].port, 17101);
    ck_assert_int_eq(map.owner[0], 0);
    ck_assert_int_eq(map.owner[5460], 0);
    ck_assert_int_eq(map.owner[5461], 1);
    ck_assert_int_eq(map.owner[16382], 1);
    ck_assert_int_eq(map.owner[16383], 0);
    ck_assert_int_eq(idgw_cluster_map_covered(&map), 16384);
    freeReplyObject(r);
}
END_TEST

START_TEST(slot_map_gaps_and_unknown_endpoints)
{
    /* an empty host (unknown endpoint) is the node asked; uncovered slots have no owner */
    const char *resp =
        "*1\r\n*3\r\n:100\r\n:199\r\n*3\r\n$0\r\n\r\n:17102\r\n$40\r\n" ID_A "\r\n";
    redisReply *r = reply_of(resp);
    char err[200];

    ck_assert_int_eq(idgw_cluster_map_parse(r, "10.1.2.3", &map, err, sizeof(err)), 0);
    ck_assert_str_eq(map.nodes[0].host, "10.1.2.3");
    ck_assert_int_eq(map.owner[99], -1);
    ck_assert_int_eq(map.owner[100], 0);
    ck_assert_int_eq(map.owner[200], -1);
    ck_assert_int_eq(idgw_cluster_map_covered(&map), 100);
    freeReplyObject(r);
}
END_TEST

/* A byte string with its length (some hold a NUL). */
#define B(x) { x, sizeof(x) - 1 }

START_TEST(malformed_slot_maps_refused)
{
    static const struct { const char *s; size_t len; } bad[] = {
        B("-ERR This instance has cluster support disabled\r\n"),
        B(":1\r\n"),
        B("*1\r\n:5\r\n"),                                             /* range not an array */
        B("*1\r\n*2\r\n:0\r\n:1\r\n"),                                 /* no master */
        B("*1\r\n*3\r\n:10\r\n:5\r\n*2\r\n$1\r\na\r\n:1\r\n"),         /* end before start */
        B("*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\na\r\n:1\r\n"),      /* beyond the last slot */
        B("*1\r\n*3\r\n:-1\r\n:3\r\n*2\r\n$1\r\na\r\n:1\r\n"),
        B("*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n$1\r\na\r\n:0\r\n"),          /* port 0 */
        B("*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n:1\r\n:1\r\n"),               /* host not a string */
        B("*1\r\n*3\r\n$1\r\n0\r\n:3\r\n*2\r\n$1\r\na\r\n:1\r\n"),     /* start not an integer */
        B("*1\r\n*3\r\n:0\r\n:3\r\n*1\r\n$1\r\na\r\n"),                /* master without port */
        B("*1\r\n*3\r\n:0\r\n:3\r\n*2\r\n$3\r\na\0b\r\n:1\r\n"),       /* NUL in host */
    };
    char err[200];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        redisReader *rd = redisReaderCreate();
        void *r = NULL;

        redisReaderFeed(rd, bad[i].s, bad[i].len);
        ck_assert_int_eq(redisReaderGetReply(rd, &r), REDIS_OK);
        ck_assert_ptr_nonnull(r);
        err[0] = '\0';
        ck_assert_msg(idgw_cluster_map_parse(r, "seed", &map, err, sizeof(err)) == -1,
                      "accepted map %zu", i);
        ck_assert_msg(err[0] != '\0', "no reason for map %zu", i);
        freeReplyObject(r);
        redisReaderFree(rd);
    }
    ck_assert_int_eq(idgw_cluster_map_parse(NULL, "seed", &map, err, sizeof(err)), -1);
}
END_TEST

START_TEST(too_many_masters_refused)
{
    /* 65 masters of one slot each: beyond IDGW_CLUSTER_MAX_NODES, refused whole */
    char *resp = malloc(65 * 80 + 16), *p = resp;
    redisReply *r;
    char err[200];
    int i;

    p += sprintf(p, "*65\r\n");
    for (i = 0; i < 65; i++)
        p += sprintf(p, "*3\r\n:%d\r\n:%d\r\n*2\r\n$9\r\n127.0.0.1\r\n:%d\r\n", i, i, 20000 + i);
    r = reply_of(resp);
    ck_assert_int_eq(idgw_cluster_map_parse(r, "seed", &map, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "more than 64 masters"));
    freeReplyObject(r);
    free(resp);
}
END_TEST

START_TEST(calls_prepared_for_one_slot_only)
{
    apr_pool_t *p;
    idgw_script s;
    idgw_script_args a;
    idgw_cluster_call call;

    apr_initialize();
    apr_pool_create(&p, NULL);
    idgw_script_init(&s, "t", "return 1");
    idgw_script_args_init(&a, p);
    ck_assert_int_eq(idgw_cluster_call_prepare(&call, &a, &s, 0), -1);   /* no key */
    idgw_script_args_part(&a);
    idgw_script_args_key(&a, "idgw:s:{user1000}");
    idgw_script_args_key(&a, "idgw:vo:{user1000}");
    idgw_script_args_str(&a, "x");
    ck_assert_int_eq(idgw_cluster_call_prepare(&call, &a, &s, 0), 0);
    ck_assert_int_eq(call.slot, 3443);
    ck_assert_int_eq(call.argc, 6);
    ck_assert_str_eq(call.argv[0], "EVALSHA");
    ck_assert_str_eq(call.argv[1], s.sha1);
    ck_assert_str_eq(call.argv[3], "idgw:s:{user1000}");
    ck_assert_uint_eq(call.lens[5], 1);
    ck_assert_ptr_eq(call.script, &s);
    /* a key of another slot: CROSSSLOT refused before any round trip */
    idgw_script_args_key(&a, "idgw:strike:t:T1");
    ck_assert_int_eq(idgw_cluster_call_prepare(&call, &a, &s, 0), -1);
    apr_pool_destroy(p);
    apr_terminate();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cluster_map");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, crc16_of_the_specification);
    tcase_add_test(tc, key_slots_and_hash_tags);
    tcase_add_test(tc, moved_and_ask_parsed);
    tcase_add_test(tc, malformed_redirects_refused);
    tcase_add_test(tc, slot_map_parsed);
    tcase_add_test(tc, slot_map_gaps_and_unknown_endpoints);
    tcase_add_test(tc, malformed_slot_maps_refused);
    tcase_add_test(tc, too_many_masters_refused);
    tcase_add_test(tc, calls_prepared_for_one_slot_only);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
