/* SPDX-License-Identifier: MIT */
/* fuzz_scn.c - libFuzzer target for the scenario-file parser (harness/scn.c).
 *
 * Parses the input as a scenario file with scn_parse(); a scenario that loads is saved again
 * with scn_save() and reloaded, so the writer and the reader must agree on everything the
 * reader accepted. Every input must end in 0 or a diagnostic, never a crash, a sanitizer
 * report or a leak. Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The scratch file scn_save() writes to; one per process. */
static char save_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scn *s = NULL;
    struct diag d = {{0}};
    int rc = scn_parse((const char *)data, size, "fuzz.json", &s, &d);
    if (rc != 0) {
        if (rc != -EINVAL && rc != -ENOMEM) {
            abort(); /* the contract allows only these two */
        }
        if (d.msg[0] == '\0') {
            abort(); /* an error without a message */
        }
        return 0;
    }
    if (!save_path[0]) {
        snprintf(save_path, sizeof(save_path), "/tmp/fuzz_scn.%ld.json", (long)getpid());
    }
    if (scn_save(s, save_path) == 0) {
        struct scn *again = NULL;
        struct diag d2 = {{0}};
        if (scn_load(save_path, &again, &d2) != 0) {
            fprintf(stderr, "saved scenario does not load again: %s\n", d2.msg);
            abort();
        }
        scn_free(again);
        unlink(save_path);
    }
    scn_free(s);
    return 0;
}
