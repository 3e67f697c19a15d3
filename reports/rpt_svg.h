/* SPDX-License-Identifier: MIT */
/* rpt_svg.h - SVG charts, pure SVG (no script, no external resources), every name escaped.
 *
 * rpt_svg_render() draws a scenario's live heap per round: warm-up rounds shaded, the top
 * sites (up to 5) as stacked areas, the live heap as a line with per-round <title> tooltips,
 * the trend (the scenario's growth slope through the median of the measured rounds), the
 * threshold (its slope drawn from the first measured round), RSS on a second axis, axes in
 * B/KiB/MiB with 1-2-5 ticks, a legend, and a title with the name and the verdict in colour.
 * The axis helpers below are shared with the history dashboard.
 */
#ifndef REPORTS_RPT_SVG_H
#define REPORTS_RPT_SVG_H

#include <stdbool.h>

#include "../model/rpt.h"
#include "../util/buf.h"

/* A plot area mapping data (x, bytes) to pixels. */
struct rpt_svg_axes {
    double left, top, width, height; /* plot area in px */
    double xmin, xmax;
    double ymin, ymax; /* bytes, rounded out to whole ticks */
    double step;       /* tick step in bytes */
    double div;        /* 1, 1024, 1048576 or 1073741824 */
    const char *unit;  /* "B", "KiB", "MiB", "GiB" */
};

/* Sets up axes over [xmin, xmax] x [ymin, ymax] bytes with 1-2-5 ticks in a binary unit.
 * Can't fail. */
void rpt_svg_axes_init(struct rpt_svg_axes *a, double left, double top, double width, double height,
                       double xmin, double xmax, double ymin, double ymax);
/* Pixel x of data x, pixel y of a byte value. Can't fail. */
double rpt_svg_px(const struct rpt_svg_axes *a, double x);
double rpt_svg_py(const struct rpt_svg_axes *a, double bytes);
/* Draws horizontal grid lines and the tick labels on the left (or right) side. */
void rpt_svg_yaxis(struct buf *b, const struct rpt_svg_axes *a, bool right, bool grid,
                   const char *color);
/* Formats a tick value in the axes' unit ("512 KiB", "1.5 MiB"). */
void rpt_svg_tick_label(const struct rpt_svg_axes *a, double bytes, char *out, size_t len);
/* Colour for a verdict (leak red, no-leak green, inconclusive amber, error purple). */
const char *rpt_svg_verdict_color(enum rpt_verdict v);

/* Appends the chart of scenario `s` to `b`. `standalone` adds the XML declaration (a .svg
 * file); without it the <svg> element can be inlined in HTML. Errors stick in b->err. */
void rpt_svg_render(const struct rpt_scenario *s, bool standalone, struct buf *b);

#endif
