// SPDX-License-Identifier: MIT
// uw_work.cc - C++ call shapes for the stack walker's differential test (agent/ag_unwind_test.c).
//
// Built like uw_work.c at -O0..-O3, with and without frame pointers. Reaches the test's probe
// from a destructor run while an exception unwinds, from a catch block, through virtual calls,
// std::function, lambdas, templates and std::sort's comparator.
#include <algorithm>
#include <functional>
#include <stdexcept>
#include <vector>

typedef void (*uw_probe_fn)(void *ctx);

extern "C" int uw_work_run(uw_probe_fn probe, void *ctx, unsigned seed);

namespace
{

thread_local uw_probe_fn the_probe; // per thread: several run at once
thread_local void *the_ctx;
thread_local volatile int sink;

struct Guard {
    int n;
    explicit Guard(int v) : n(v)
    {
    }
    ~Guard()
    {
        the_probe(the_ctx);
        sink += n;
    }
};

__attribute__((noinline)) void thrower(int depth)
{
    Guard g(depth);
    if (depth <= 0) {
        throw std::runtime_error("unwind test");
    }
    thrower(depth - 1);
    sink += depth;
}

__attribute__((noinline)) int catcher(int depth)
{
    try {
        thrower(depth);
    } catch (const std::exception &e) {
        the_probe(the_ctx);
        return static_cast<int>(e.what()[0]);
    }
    return 0;
}

struct Shape {
    virtual ~Shape() = default;
    virtual int area(int n) const = 0;
};

struct Square : Shape {
    int area(int n) const override
    {
        the_probe(the_ctx);
        return n * n;
    }
};

struct Deep : Shape {
    int area(int n) const override
    {
        if (n <= 0) {
            the_probe(the_ctx);
            return 1;
        }
        return area(n - 1) + 1;
    }
};

template <int N> __attribute__((noinline)) int templ(int x)
{
    if constexpr (N == 0) {
        the_probe(the_ctx);
        return x;
    } else {
        return templ<N - 1>(x + N) + 1;
    }
}

__attribute__((noinline)) int virtual_calls(int n)
{
    Square s;
    Deep d;
    const Shape *shapes[] = {&s, &d};
    return shapes[n % 2]->area(n % 20);
}

__attribute__((noinline)) int functions(int n)
{
    std::function<int(int)> f = [n](int x) {
        the_probe(the_ctx);
        return x + n;
    };
    return f(n) + templ<6>(n);
}

__attribute__((noinline)) int sorting(int n)
{
    std::vector<int> v = {n, 3, 1, 2};
    std::sort(v.begin(), v.end(), [](int a, int b) {
        the_probe(the_ctx);
        return a < b;
    });
    return v[0];
}

int shape_catch(int n)
{
    return catcher(n % 6);
}

} // namespace

extern "C" int uw_work_run(uw_probe_fn probe, void *ctx, unsigned seed)
{
    the_probe = probe;
    the_ctx = ctx;
    int (*const shapes[])(int) = {shape_catch, virtual_calls, functions, sorting};
    int total = 0;
    for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        total += shapes[(i + seed) % 4](static_cast<int>(seed * 3 + i));
    }
    return total;
}
