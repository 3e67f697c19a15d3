// SPDX-License-Identifier: MIT
// agent_cxx.cc - C++ allocations through operator new, for the agent's integration tests:
// each "new" request keeps 6 objects of 48 bytes and one std::string of 200 characters.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

struct widget {
    char payload[48];
};

static std::vector<std::unique_ptr<widget>> widgets;
static std::vector<std::string *> strings;

__attribute__((noinline)) static void make_widgets()
{
    for (int i = 0; i < 6; i++) {
        widgets.emplace_back(new widget());
    }
    strings.push_back(new std::string(200, 'x'));
}

int main()
{
    widgets.reserve(1000);
    strings.reserve(1000);
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line == "new") {
            make_widgets();
        }
        std::cout << "ok" << std::endl;
    }
    for (auto *s : strings) {
        delete s;
    }
    return 0;
}
