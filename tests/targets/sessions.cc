// SPDX-License-Identifier: MIT
// sessions.cc - one function and line growing from two callers, in C++: Audit::record() keeps a
// copy of every event in a std::vector<std::string>; login() and logout() both call it, so two
// sites share the culprit record (sessions.cc, the push_back line) and differ by their caller.
// stdio target: "login NAME" / "logout NAME" lines, answered "ok N". --fixed keeps the last 8
// events only.
// Usage: sessions --leak|--fixed
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

template <typename Event> class Audit
{
  public:
    explicit Audit(bool bounded) : bounded_(bounded)
    {
    }
    // Keeps a copy of the event (the last 8 only when bounded).
    void record(const Event &e)
    {
        events_.push_back(e);
        if (bounded_ && events_.size() > 8) {
            events_.erase(events_.begin());
        }
    }
    size_t size() const
    {
        return events_.size();
    }

  private:
    bool bounded_;
    std::vector<Event> events_;
};

static Audit<std::string> *audit;

// A user logs in: the event is recorded.
static __attribute__((noinline)) void login(const std::string &who)
{
    audit->record("login " + who + std::string(40, '.'));
}

// A user logs out: the event is recorded too.
static __attribute__((noinline)) void logout(const std::string &who)
{
    audit->record("logout " + who + std::string(40, '.'));
}

int main(int argc, char **argv)
{
    if (argc != 2 ||
        (std::strcmp(argv[1], "--leak") != 0 && std::strcmp(argv[1], "--fixed") != 0)) {
        std::fprintf(stderr, "usage: sessions --leak|--fixed\n");
        return 2;
    }
    Audit<std::string> a(std::strcmp(argv[1], "--fixed") == 0);
    audit = &a;
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.rfind("login ", 0) == 0) {
            login(line.substr(6));
        } else {
            logout(line.substr(line.find(' ') + 1));
        }
        std::cout << "ok " << a.size() << std::endl;
    }
    return 0;
}
