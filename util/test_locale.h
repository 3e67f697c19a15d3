/* SPDX-License-Identifier: MIT */
/* test_locale.h - for unit tests: switch to a locale whose decimal point is ','.
 *
 * Tests prove that leakcheck's figures ignore setlocale() by formatting under such a locale.
 * tests/run-all.sh builds de_DE.UTF-8 into the build folder and names that folder in
 * LEAKCHECK_TEST_LOCPATH; test_locale_comma() looks there (LOCPATH) and in the system's
 * locales, and says when there is none so the caller skips. Header-only, for *_test.c files.
 */
#ifndef UTIL_TEST_LOCALE_H
#define UTIL_TEST_LOCALE_H

#include <locale.h>
#include <stdbool.h>
#include <stdlib.h>

/* Switches LC_ALL to a locale with a decimal comma. Returns false when none is installed. */
static inline bool test_locale_comma(void)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                        NULL};
    const char *built = getenv("LEAKCHECK_TEST_LOCPATH");
    if (built && built[0]) {
        setenv("LOCPATH", built, 1);
    }
    for (const char *const *n = names; *n; n++) {
        if (setlocale(LC_ALL, *n)) {
            return true;
        }
    }
    return false;
}

#endif
