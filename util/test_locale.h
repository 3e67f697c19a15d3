/* SPDX-License-Identifier: MIT */
/* test_locale.h - for unit tests: switch to a locale whose decimal point is ','.
 *
 * Tests prove that leakcheck's figures ignore setlocale() by formatting under such a locale.
 * tests/run-all.sh builds de_DE.UTF-8 into the build folder and points LOCPATH at it; without
 * one, test_locale_comma() says so and the caller skips. Header-only, for *_test.c files.
 */
#ifndef UTIL_TEST_LOCALE_H
#define UTIL_TEST_LOCALE_H

#include <locale.h>
#include <stdbool.h>

/* Switches LC_ALL to a locale with a decimal comma. Returns false when none is installed. */
static inline bool test_locale_comma(void)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                        NULL};
    for (const char *const *n = names; *n; n++) {
        if (setlocale(LC_ALL, *n)) {
            return true;
        }
    }
    return false;
}

#endif
