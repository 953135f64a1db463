/*
 * liveness.h — does the cluster make progress?  The check behind the
 * liveness phase of `explore` and the scenario line
 * `expect progress within D`.
 *
 * Safety says nothing bad happens; a cluster that never elects anyone,
 * or whose leader can never commit (a deaf leader without CheckQuorum),
 * is safe and useless.  TigerBeetle's VOPR ends every seed with such a
 * phase: a core of replicas up and connected must converge.
 */
#ifndef RAFTSIM_SIM_LIVENESS_H
#define RAFTSIM_SIM_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/cluster/cluster.h"

struct sim_progress {
    bool ok;            /* a leader held and a probe write committed */
    bool stopped;       /* an invariant violation stopped the run first */
    const char *reason; /* when not ok: no-leader | leader-cannot-commit |
                           term-churn */
    uint64_t t_us;      /* when it was decided */
    int leader;         /* the leader at the end (0: none) */
    uint64_t terms;     /* terms that began during the check */
    uint64_t probes;    /* probe writes sent */
    char detail[200];   /* one sentence, true to what happened */
};

/* The default bound: 10 election timeouts (the maximum). */
uint64_t sim_progress_default_us(const struct sim_cluster *c);
/* Run the cluster for up to within_us (0: the default).  Progress: one
 * leader, and a probe write (key "progress", sent by client `client`
 * straight to it, sent again when it fails) committed in that leader's
 * term.  Returns out->ok.  Not ok, the reason is
 *   leader-cannot-commit  one leader held its term for at least an
 *                         election timeout at the end, yet nothing
 *                         committed;
 *   term-churn            3 or more terms began and none kept a leader
 *                         that could commit;
 *   no-leader             otherwise: no stable leader at the end.
 * The clock stops when progress is seen (or at the bound). */
bool sim_check_progress(struct sim_cluster *c, int client, uint64_t within_us,
                        struct sim_progress *out);

#endif
