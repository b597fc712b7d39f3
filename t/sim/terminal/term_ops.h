/* term_ops.h: the terminal app's side of every operation: the session
 * envelope (token, sequence number, terminal id, IDm), the XML requests of
 * docs/smartphone-api.md, and the relay loop that hands the gateway's chip
 * commands to the chip emulator and posts the chip's answers back. */
#ifndef TERM_OPS_H
#define TERM_OPS_H

#include <stdio.h>
#include "felica_chip.h"
#include "term_http.h"

enum term_exit {
    TERM_OK = 0,
    TERM_REFUSED = 1,        /* the gateway answered an XML error */
    TERM_USAGE = 2,
    TERM_LEAK = 3,           /* an answer carried a forbidden string (PAN, expiry) */
    TERM_TRANSPORT = 4       /* connection, TLS, pin, protocol */
};

/* Misbehaviour on purpose, for the tests (relay round trip numbers from 1). */
typedef struct term_misbehave {
    int tamper_at;           /* flip a bit in the chip's answer of that round trip */
    int wrong_idm_at;        /* answer as another chip */
    int replay_at;           /* send the previous answer again */
    int retransmit_at;       /* post that round trip's answer twice (a lost answer) */
    int oversize_at;         /* pad that round trip's answer past the largest frame */
    int vanish_after;        /* relay that many round trips, give the next command to
                                the chip, then vanish without posting its answer */
} term_misbehave_t;

typedef void (*term_latency_fn)(void *baton, const char *step, double ms);

typedef struct term {
    term_http_t *http;
    const char *prefix;              /* path prefix, e.g. /idgw/v1 */
    char terminal[65];
    char idm[17], pmm[17];
    char token[33];
    long long seq;
    felica_chip_t *chip;
    FILE *log;                       /* transcript; NULL: quiet */
    const char *label;               /* "[phone 3]" */
    char **secrets;                  /* strings no answer may contain */
    int n_secrets;
    term_misbehave_t bad;
    term_latency_fn latency;
    void *latency_baton;
    char last_error[64];             /* code of the last XML error */
    int last_retry_after;            /* Retry-After of the last answer, -1: none */
    int last_replay;                 /* the last answer was replayed (X-Idgw-Replay) */
    char *last_body;                 /* body of the last answer (malloc'ed) */
    int relays_done;                 /* round trips of the last operation */
    int show_packets;                /* transcript shows each chip packet in hex
                                        (encrypted and MACed: safe to print) */
    const char *extra_header;        /* "Name: value" sent with every request, as a
                                        hostile app adds what it likes; NULL: none */
} term_t;

/* Send one step with the envelope; the answer's body stays in t->last_body.
 * Returns the HTTP status, or -TERM_TRANSPORT / -TERM_LEAK. */
int term_step(term_t *t, const char *op, const char *step, const char *body,
              const char *content_type, const char *method);

int term_open(term_t *t, const char *app_version);
int term_close(term_t *t);
int term_status(term_t *t);

/* One whole operation: request (fields: the XML inside the root element),
 * relays, complete.  Returns TERM_OK or an exit code. */
int term_operation(term_t *t, const char *op, const char *fields);

/* The text of the first element called name in the last answer, into out. */
int term_answer_text(const term_t *t, const char *name, char *out, size_t cap);

/* Load "token seq" state / save it. */
int term_state_load(term_t *t, const char *path);
int term_state_save(const term_t *t, const char *path);

#endif
