/* sim_ledger.c: the sources' records of what they did, for the fault
 * campaign (scripts/idgw-chaos) to check the chips against.  One line per
 * event, appended to IdgwSimRunDir/ledger.log by whichever child process
 * served it (O_APPEND: lines of concurrent children do not interleave):
 *
 *   SERVICE EVENT CORRELATION-ID MEMBER CARD IDM
 *
 *   cremo|cardinfo ISSUED    card data handed out (download, update, withdrawal)
 *   cremo|cardinfo STORED    card deposited (IDM: the chip it was deposited from)
 *   cremo|cardinfo RESTORED  deposited card withdrawn
 *   felica         WRITE     a WRITE_CARD operation started on chip IDM (MEMBER -)
 *
 * Ids only: no PAN, expiry or name ever goes in.  Also the derived members'
 * PANs (sim_cards.c), which the campaign's checker computes the same way. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include "sim.h"

void sim_append_line(sim_call_t *call, const char *file, const char *line)
{
    const char *path = apr_pstrcat(call->r->pool, call->sc->run_dir, "/", file, NULL);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);

    if (fd >= 0) {
        ssize_t w = write(fd, line, strlen(line));
        (void)w;
        close(fd);
    }
}

void sim_ledger(sim_call_t *call, const char *event, const char *member, const char *card,
                const char *idm)
{
    sim_append_line(call, "ledger.log",
                    apr_psprintf(call->r->pool, "%s %s %s %s %s %s\n",
                                 sim_service_name(call->service), event,
                                 call->req->correlation_id, member ? member : "-",
                                 card ? card : "-", idm ? idm : "-"));
}

/* The PAN of a derived member's card: the base PAN with its digits 7 to 12
 * replaced by the suffix (zero-padded to six) and a new Luhn check digit.
 * The base cards' first six and 13th-to-last-but-one digits tell them apart
 * (t/sim/data/cardholders.txt), so derived PANs are unique too.
 * scripts/lib/chaos-truth.pl computes the same. */
int sim_derived_pan(const char *base, const char *sfx, char *out)
{
    size_t n = strlen(base), k = strlen(sfx);
    int sum = 0;

    if (n < 13 || k < 1 || k > 6)
        return 0;
    memcpy(out, base, n - 1);
    memset(out + 6, '0', 6 - k);
    memcpy(out + 12 - k, sfx, k);
    /* Luhn: double every second digit counted from the check digit */
    for (size_t i = 0; i < n - 1; i++) {
        int d = out[n - 2 - i] - '0';
        if (i % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    out[n - 1] = (char)('0' + (10 - sum % 10) % 10);
    out[n] = '\0';
    return 1;
}
