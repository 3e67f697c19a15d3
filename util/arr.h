/* SPDX-License-Identifier: MIT */
/* arr.h - growing a plain array of fixed-size elements by doubling (the parsers' tables of
 * stacks, snapshots, sites, processes). No globals; thread-safe.
 */
#ifndef UTIL_ARR_H
#define UTIL_ARR_H

#include <stddef.h>

/* Makes *arr (capacity *cap elements of `size` bytes) hold index n: doubles the capacity (from
 * 16) until it does. Returns 0, or -ENOMEM with *arr and *cap unchanged. */
int arr_grow(void **arr, size_t *cap, size_t n, size_t size);

#endif
