/* SPDX-License-Identifier: MIT */
/* sym_test.c - unit tests for sym.c, symbolizing addresses inside this very test program.
 *
 * The program is built with -g: its own functions must resolve to their names and the lines
 * written below (__LINE__), an inlined call must give two frames, a libc function resolves from
 * .dynsym, and an address nowhere gives an address-only frame.
 */
#include "sym.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Adds one loaded object of this process to the symbolizer, as the agent would list it. */
static int add_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct sym *s = data;
    char exe[PATH_MAX];
    const char *path = info->dlpi_name;
    if (!path || !*path) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n <= 0) {
            return 0;
        }
        exe[n] = '\0';
        path = exe;
    }
    struct sym_segment segs[16];
    size_t n_segs = 0;
    for (size_t i = 0; i < info->dlpi_phnum && n_segs < 16; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            segs[n_segs].start = info->dlpi_addr + ph->p_vaddr;
            segs[n_segs].end = segs[n_segs].start + ph->p_memsz;
            segs[n_segs].file_offset = ph->p_offset;
            n_segs++;
        }
    }
    assert_int_equal(sym_add_object(s, path, info->dlpi_addr, segs, n_segs, NULL, 0), 0);
    return 0;
}

/* A symbolizer that knows every object of this process. */
static struct sym *self_sym(void)
{
    struct sym *s = sym_new();
    assert_non_null(s);
    dl_iterate_phdr(add_object, s);
    return s;
}

/* Frees the strings of frames[0..n-1]. */
static void frames_cleanup(struct rpt_frame *frames, int n)
{
    for (int i = 0; i < n; i++) {
        free(frames[i].function);
        free(frames[i].system_name);
        free(frames[i].file);
        free(frames[i].object);
    }
}

/* Returns the address its caller returns to; stores `line` for the caller's check. */
static __attribute__((noinline)) uint64_t capture(int *where, int line)
{
    *where = line;
    uint64_t ra = (uint64_t)(uintptr_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
    return ra;
}

/* A caller whose call to capture() is on a known line. */
static __attribute__((noinline)) uint64_t direct_caller(int *line)
{
    uint64_t ra = capture(line, __LINE__);
    __asm__ volatile("" ::: "memory");
    return ra;
}

/* Inlined into its caller: the pc of its call to capture() belongs to two frames. */
static inline __attribute__((always_inline)) uint64_t inlined_helper(int *line)
{
    uint64_t ra = capture(line, __LINE__);
    __asm__ volatile("" ::: "memory");
    return ra;
}

/* Calls the inlined helper on a known line. */
static __attribute__((noinline)) uint64_t inline_host(int *helper_line, int *host_line)
{
    *host_line = __LINE__ + 1;
    uint64_t ra = inlined_helper(helper_line);
    __asm__ volatile("" ::: "memory");
    return ra;
}

/* True when `path` ends with `suffix`. */
static bool ends_with(const char *path, const char *suffix)
{
    size_t a = strlen(path);
    size_t b = strlen(suffix);
    return a >= b && strcmp(path + a - b, suffix) == 0;
}

static void test_sym_own_function_and_line(void **state)
{
    (void)state;
    struct sym *s = self_sym();
    int line = 0;
    uint64_t pc = direct_caller(&line);
    struct rpt_frame f[8];
    int n = sym_resolve(s, pc, f, 8);
    assert_int_equal(n, 1);
    assert_non_null(f[0].function);
    assert_string_equal(f[0].function, "direct_caller");
    assert_non_null(f[0].file);
    assert_true(ends_with(f[0].file, "sym_test.c"));
    assert_int_equal(f[0].line, line);
    assert_false(f[0].inlined);
    assert_int_equal(f[0].address, pc - 1);
    assert_non_null(f[0].object);
    assert_true(f[0].object_offset < pc);
    frames_cleanup(f, n);

    /* cached: the same answer a second time */
    n = sym_resolve(s, pc, f, 8);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].function, "direct_caller");
    assert_int_equal(f[0].line, line);
    frames_cleanup(f, n);
    sym_free(s);
}

static void test_sym_inlined_frames_inner_first(void **state)
{
    (void)state;
    struct sym *s = self_sym();
    int helper_line = 0;
    int host_line = 0;
    uint64_t pc = inline_host(&helper_line, &host_line);
    struct rpt_frame f[8];
    int n = sym_resolve(s, pc, f, 8);
    assert_int_equal(n, 2);
    assert_string_equal(f[0].function, "inlined_helper");
    assert_true(f[0].inlined);
    assert_int_equal(f[0].line, helper_line);
    assert_string_equal(f[1].function, "inline_host");
    assert_false(f[1].inlined);
    assert_int_equal(f[1].line, host_line);
    assert_true(ends_with(f[1].file, "sym_test.c"));
    assert_int_equal(f[0].address, f[1].address);
    frames_cleanup(f, n);

    /* max limits the frames written */
    n = sym_resolve(s, pc, f, 1);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].function, "inlined_helper");
    frames_cleanup(f, n);
    sym_free(s);
}

static void test_sym_libc_from_dynsym(void **state)
{
    (void)state;
    struct sym *s = self_sym();
    void *(*volatile fn)(size_t) = malloc;
    /* where the dynamic linker says malloc is (libc, or a sanitizer's runtime) */
    Dl_info info;
    assert_int_not_equal(dladdr((void *)(uintptr_t)fn, &info), 0);
    assert_non_null(info.dli_fname);
    uint64_t pc = (uint64_t)(uintptr_t)fn + 2; /* inside malloc, +1 for the return address */
    struct rpt_frame f[8];
    int n = sym_resolve(s, pc, f, 8);
    assert_true(n >= 1);
    assert_non_null(f[n - 1].function);
    assert_non_null(strstr(f[n - 1].function, "malloc"));
    assert_non_null(f[n - 1].object);
    assert_string_equal(f[n - 1].object, info.dli_fname);
    frames_cleanup(f, n);
    sym_free(s);
}

static void test_sym_unknown_address(void **state)
{
    (void)state;
    struct sym *s = self_sym();
    struct rpt_frame f[4];
    int n = sym_resolve(s, 0x10, f, 4);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].address, 0xf);
    assert_null(f[0].function);
    assert_null(f[0].file);
    assert_null(f[0].object);
    assert_int_equal(f[0].line, 0);
    frames_cleanup(f, n);
    sym_free(s);

    /* an object that can't be opened still names itself */
    s = sym_new();
    assert_non_null(s);
    struct sym_segment seg = {.start = 0x7000, .end = 0x8000, .file_offset = 0};
    assert_int_equal(sym_add_object(s, "/nonexistent/libgone.so", 0x6000, &seg, 1, NULL, 0), 0);
    assert_int_equal(sym_add_object(s, "/nonexistent/libgone.so", 0x6000, &seg, 1, NULL, 0), 0);
    assert_int_equal(sym_add_object(s, "[vdso]", 0x9000, NULL, 0, NULL, 0), 0);
    n = sym_resolve(s, 0x7101, f, 4);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].address, 0x7100);
    assert_null(f[0].function);
    assert_string_equal(f[0].object, "/nonexistent/libgone.so");
    assert_int_equal(f[0].object_offset, 0x1100);
    frames_cleanup(f, n);
    assert_int_equal(sym_add_object(s, NULL, 0, NULL, 0, NULL, 0), -EINVAL);
    sym_free(s);
    sym_free(NULL);
}

static void test_sym_demangle(void **state)
{
    (void)state;
    char *d =
        sym_demangle("_ZNSt3mapIiNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEESt4lessIi"
                     "ESaISt4pairIKiS5_EEEixERS9_");
    assert_non_null(d);
    assert_non_null(strstr(d, "std::map<int, std::__cxx11::basic_string<char"));
    assert_non_null(strstr(d, ">::operator[](int const&)"));
    free(d);
    d = sym_demangle("_Znwm");
    assert_non_null(d);
    assert_string_equal(d, "operator new(unsigned long)");
    free(d);
    assert_null(sym_demangle("main"));
    assert_null(sym_demangle("_Zgarbage!"));
    assert_null(sym_demangle(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sym_own_function_and_line),
        cmocka_unit_test(test_sym_inlined_frames_inner_first),
        cmocka_unit_test(test_sym_libc_from_dynsym),
        cmocka_unit_test(test_sym_unknown_address),
        cmocka_unit_test(test_sym_demangle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
