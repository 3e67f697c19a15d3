/* SPDX-License-Identifier: MIT */
/* strv.h - string vectors: NULL-terminated (argv, environment) or counted arrays of owned
 * strings. No globals; thread-safe.
 */
#ifndef UTIL_STRV_H
#define UTIL_STRV_H

#include <stddef.h>

/* Frees a NULL-terminated vector and its strings. strv_free(NULL) is a no-op. */
void strv_free(char **v);

/* Frees a counted vector of `n` strings (entries may be NULL) and the array. NULL is a no-op. */
void strv_free_n(char **v, size_t n);

/* Number of entries of a NULL-terminated vector (0 for NULL). Can't fail. */
size_t strv_len(char *const *v);

/* Copies a NULL-terminated vector and its strings (owned; free with strv_free()). NULL gives
 * NULL. Returns NULL when out of memory (nothing is left allocated). */
char **strv_dup(char *const *v);

/* strdup() that passes NULL through (NULL for NULL, or when out of memory). */
char *strv_dup_str(const char *s);

#endif
