/* SPDX-License-Identifier: MIT */
/* rpt_junit.h - JUnit XML: one testsuite per run, one testcase per scenario.
 *
 * A scenario that did not meet its expectation is a <failure> (type "leak", "inconclusive" or
 * "unexpected-no-leak") whose message gives the growth against the limit and whose text names
 * the top sites and the per-round figures; verdict "error" is an <error>; an expected leak
 * passes with a <system-out> saying so. Valid against the Jenkins xunit junit-10.xsd.
 */
#ifndef REPORTS_RPT_JUNIT_H
#define REPORTS_RPT_JUNIT_H

#include "../model/rpt.h"
#include "../util/buf.h"

/* Appends the JUnit XML document for `run` to `b` (errors stick in b->err). */
void rpt_junit_render(const struct rpt_run *run, struct buf *b);

#endif
