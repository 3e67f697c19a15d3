/* SPDX-License-Identifier: MIT */
/* sym_inline_test.c - the symbolizer against binutils' `addr2line -i -f -C` on every frame of
 * optimised (-O2, inlining) C and C++ programs (tests/targets/inline_o2*): for each return
 * address the programs print, sym_resolve() must give the same chain of frames as addr2line —
 * the inlined ones innermost first, then the outer, physical function — with the same
 * functions and lines. Skips when addr2line (binutils) or the programs are missing.
 */
#include "sym.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_PCS 256

/* The build folder: $B, or build/debug. */
static const char *build_dir(void)
{
    const char *b = getenv("B");
    return b && *b ? b : "build/debug";
}

/* Runs `prog` and reads its "base" and "pc" lines. Returns the number of pcs. */
static size_t read_pcs(const char *prog, uint64_t *base, uint64_t *pcs)
{
    FILE *p = popen(prog, "r");
    assert_non_null(p);
    char line[256];
    size_t n = 0;
    *base = 0;
    while (fgets(line, sizeof(line), p)) {
        unsigned long long v;
        if (sscanf(line, "base %llx", &v) == 1) {
            *base = v;
        } else if (sscanf(line, "pc %llx", &v) == 1 && n < MAX_PCS) {
            pcs[n++] = v;
        }
    }
    assert_int_equal(pclose(p), 0);
    return n;
}

/* One frame as addr2line prints it: function, and the line of "file:line". */
struct a2l_frame {
    char function[1024];
    unsigned line;
};

/* addr2line -i -f -C of `offset` in `prog` into out[]; returns the number of frames. */
static size_t addr2line(const char *prog, uint64_t offset, struct a2l_frame *out, size_t max)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "addr2line -i -f -C -e %s 0x%llx", prog, (unsigned long long)offset);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = 0;
    char fn[1024];
    char where[1024];
    while (n < max && fgets(fn, sizeof(fn), p) && fgets(where, sizeof(where), p)) {
        fn[strcspn(fn, "\n")] = '\0';
        snprintf(out[n].function, sizeof(out[n].function), "%s", fn);
        const char *colon = strrchr(where, ':');
        out[n].line = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
        n++;
    }
    pclose(p);
    return n;
}

/* Every pc of `name`: the same number of frames as addr2line, the same functions and lines. */
static void check_program(const char *name)
{
    char rel[512];
    char prog[PATH_MAX];
    snprintf(rel, sizeof(rel), "%s/targets/%s", build_dir(), name);
    /* a build without the test programs (the sanitizer pass), or without binutils: skip */
    if (!realpath(rel, prog) || system("command -v addr2line >/dev/null 2>&1") != 0) {
        skip();
    }
    uint64_t base;
    uint64_t pcs[MAX_PCS];
    size_t n = read_pcs(prog, &base, pcs);
    assert_true(n >= 6);
    struct sym *s = sym_new();
    assert_non_null(s);
    assert_int_equal(sym_add_object(s, prog, base, NULL, 0, NULL, 0), 0);
    size_t inlined_seen = 0;
    for (size_t i = 0; i < n; i++) {
        struct rpt_frame frames[32];
        int k = sym_resolve(s, pcs[i], frames, 32);
        struct a2l_frame want[32];
        size_t w = addr2line(prog, pcs[i] - 1 - base, want, 32);
        assert_true(k >= 1);
        if ((size_t)k != w) {
            fprintf(stderr, "%s pc 0x%llx: %d frames, addr2line %zu\n", name,
                    (unsigned long long)(pcs[i] - 1 - base), k, w);
        }
        assert_int_equal((size_t)k, w);
        for (size_t f = 0; f < w; f++) {
            const char *got = frames[f].function ? frames[f].function : "??";
            if (strcmp(got, want[f].function) != 0 || frames[f].line != want[f].line) {
                fprintf(stderr, "%s pc 0x%llx frame %zu: %s:%u, addr2line %s:%u\n", name,
                        (unsigned long long)(pcs[i] - 1 - base), f, got, frames[f].line,
                        want[f].function, want[f].line);
            }
            assert_string_equal(got, want[f].function);
            assert_int_equal(frames[f].line, want[f].line);
            assert_int_equal(frames[f].inlined, f + 1 < w);
        }
        inlined_seen += w > 1;
        for (int f = 0; f < k; f++) {
            free(frames[f].function);
            free(frames[f].system_name);
            free(frames[f].file);
            free(frames[f].object);
        }
    }
    assert_true(inlined_seen >= 2);
    sym_free(s);
}

static void test_sym_inline_chain_c(void **state)
{
    (void)state;
    check_program("inline_o2");
}

static void test_sym_inline_chain_cxx(void **state)
{
    (void)state;
    check_program("inline_o2_cxx");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sym_inline_chain_c),
        cmocka_unit_test(test_sym_inline_chain_cxx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
