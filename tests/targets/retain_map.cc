// SPDX-License-Identifier: MIT
// retain_map.cc - who holds the leak: a std::map living in main's stack frame.
//
// Reads "put KEY" lines, answers "ok KEY" per line. With --leak each key goes into a std::map
// that is a local variable of main (its nodes are held by the stack frame only); with --fixed
// the entry is erased once answered. Usage: retain_map --leak|--fixed
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

int main(int argc, char **argv)
{
    if (argc != 2 ||
        (std::strcmp(argv[1], "--leak") != 0 && std::strcmp(argv[1], "--fixed") != 0)) {
        std::fprintf(stderr, "usage: retain_map --leak|--fixed\n");
        return 2;
    }
    bool leak = std::strcmp(argv[1], "--leak") == 0;
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::map<std::string, std::string> seen;
    char line[4096];
    while (std::fgets(line, sizeof(line), stdin)) {
        line[std::strcspn(line, "\r\n")] = '\0';
        const char *key = std::strncmp(line, "put ", 4) == 0 ? line + 4 : line;
        // a value long enough to live in its own block, not in the string's inline buffer
        seen[key] = std::string(key) + " -- a value long enough to be allocated";
        std::printf("ok %s\n", key);
        if (!leak) {
            seen.erase(key);
        }
    }
    return 0;
}
