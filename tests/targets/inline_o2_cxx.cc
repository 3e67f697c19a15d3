// SPDX-License-Identifier: MIT
// inline_o2_cxx.cc - the C++ twin of inline_o2.c: an optimised (-O2) program whose stacks go
// through inlined member functions and templates, for the symbolizer's test against
// `addr2line -i -f -C`. Prints "base 0x..." then "pc 0x..." for each of its own frames at
// several probes.
#include <dlfcn.h>
#include <execinfo.h>

#include <cstdio>
#include <string>
#include <vector>

static void *self_base;
static volatile unsigned sink;

namespace
{

// Prints the return addresses of the current stack that lie in this program.
__attribute__((noinline)) void probe(unsigned tag)
{
    void *pcs[64];
    int n = backtrace(pcs, 64);
    for (int i = 1; i < n; i++) {
        Dl_info info;
        if (dladdr(pcs[i], &info) && info.dli_fbase == self_base) {
            std::printf("pc %p\n", pcs[i]);
        }
    }
    sink += tag;
}

} // namespace

template <typename T> struct Recorder {
    std::vector<T> items;
    inline void record(const T &v)
    {
        if (items.size() % 2 == 0) {
            probe(static_cast<unsigned>(items.size()));
        }
        items.push_back(v);
    }
};

class Session
{
  public:
    inline void login(int id)
    {
        names.record(std::to_string(id));
        ids.record(id);
    }
    __attribute__((noinline)) void serve(int n)
    {
        for (int i = 0; i < n; i++) {
            login(i);
        }
    }

  private:
    Recorder<std::string> names;
    Recorder<int> ids;
};

int main(int argc, char **)
{
    Dl_info info;
    if (!dladdr(reinterpret_cast<void *>(&main), &info)) {
        return 1;
    }
    self_base = info.dli_fbase;
    std::printf("base %p\n", self_base);
    Session s;
    s.serve(argc + 2);
    Recorder<double> r;
    r.record(1.5);
    std::printf("sink %u\n", sink);
    return 0;
}
