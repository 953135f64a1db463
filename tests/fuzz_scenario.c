/*
 * fuzz_scenario.c — libFuzzer target for the scenario parser (make
 * fuzz-scenario).  Any input must either parse into a program that frees
 * cleanly or be refused with messages: no crash, no leak, no hang.  The
 * messages go to a memory stream that is checked for the gcc-style shape.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *msg = NULL;
    size_t len = 0;
    FILE *err = open_memstream(&msg, &len);
    if (!err)
        return 0;
    struct scn_program *p = NULL;
    int rc = scn_parse("fuzz.scn", (const char *)data, size, &p, err);
    fclose(err);
    if (rc == 0) {
        if (!p || p->nodes < 1 || p->nodes > SCN_MAX_NODES)
            abort();
        /* every command carries its source text and a valid line */
        for (int i = 0; i < p->n_cmds; i++)
            if (!p->cmds[i].src || p->cmds[i].line < 1)
                abort();
        scn_free(p);
    } else {
        /* a refusal always says why, starting with the file's name */
        if (p || len == 0 || strncmp(msg, "fuzz.scn", 8) != 0)
            abort();
    }
    free(msg);
    return 0;
}
