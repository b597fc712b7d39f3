/* fuzz_frame.c: libFuzzer harness for the frame codec, describe and relay checks.
 * Build (scripts/idgw-fuzz does this):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I libfelica \
 *         t/fuzz/fuzz_frame.c <every libfelica .c file> -lcrypto -o /tmp/fuzz_frame
 *   /tmp/fuzz_frame -max_total_time=60 t/fuzz/corpus/frame
 * Invariants: a packet that decodes re-encodes to the same bytes and decodes to
 * the same structure; describe never overruns; the relay checks agree with
 * the decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "felica_frame.h"
#include "felica_relay.h"

static void check_round_trip(const uint8_t *data, size_t size, const felica_packet_t *p)
{
    uint8_t out[FELICA_MAX_FRAME];
    size_t len = 0;
    felica_packet_t q;

    if (felica_encode(p, out, sizeof(out), &len) != FELICA_OK)
        abort();
    if (len != size || memcmp(out, data, size) != 0)
        abort();
    if (felica_decode(out, len, &q) != FELICA_OK || memcmp(p, &q, sizeof(q)) != 0)
        abort();
    /* one byte too little room is refused, never overrun */
    if (len > 0 && felica_encode(p, out, len - 1, &len) != FELICA_ERR_BUFFER)
        abort();
}

static void check_relay(const uint8_t *data, size_t size, int rc, const felica_packet_t *p)
{
    const uint8_t *idm = p->idm;
    int crc = felica_relay_check_command(data, size, idm, FELICA_RELAY_ALL, 0);
    int is_cmd = rc == FELICA_OK && felica_relay_class(p->code) != 0;

    if (is_cmd != (crc == FELICA_OK))
        abort();
    if (rc == FELICA_OK && (p->code & 1)) {
        if (felica_relay_check_response(data, size, idm, (uint8_t)(p->code - 1), 0) != FELICA_OK)
            abort();
    }
    if (rc != FELICA_OK && crc != rc && crc != FELICA_ERR_OVERSIZE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    felica_packet_t p;
    char text[4096];
    int rc = felica_decode(data, size, &p);

    if (rc > 0)
        abort();
    if (rc == FELICA_OK) {
        if (felica_code_name(p.code) == NULL)
            abort();
        check_round_trip(data, size, &p);
    }
    check_relay(data, size, rc, &p);
    /* describe agrees with decode and stays inside its buffer, large or tiny */
    if (felica_describe(data, size, text, sizeof(text)) != rc)
        abort();
    if (strlen(text) >= sizeof(text))
        abort();
    (void)felica_describe(data, size, text, 17);
    return 0;
}
