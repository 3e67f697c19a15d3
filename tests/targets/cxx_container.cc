// SPDX-License-Identifier: MIT
/* cxx_container.cc - leak case: a C++ container member that only grows.
 *
 * stdio target: reads "msg TEXT" lines and answers "seen N". A session object records every
 * message in a container member: a std::map<int, std::string> (mode "map") or a
 * std::vector<std::string> (mode "vector"). With --leak the container keeps every message for
 * the life of the session; with --fixed it keeps only the last KEEP messages. The session is
 * destroyed at exit, so nothing is left for valgrind.
 * Usage: cxx_container map|vector --leak|--fixed
 */
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

static const std::size_t KEEP = 32;

class MapSession
{
  public:
    explicit MapSession(bool leak) : leak_(leak)
    {
    }

    // Records one message; returns how many are kept.
    std::size_t record(const std::string &text)
    {
        history_[next_id_] = "message #" + std::to_string(next_id_) + ": " + text;
        next_id_++;
        if (!leak_ && history_.size() > KEEP) {
            history_.erase(history_.begin());
        }
        return history_.size();
    }

  private:
    bool leak_;
    int next_id_ = 0;
    std::map<int, std::string> history_;
};

class VectorSession
{
  public:
    explicit VectorSession(bool leak) : leak_(leak)
    {
    }

    // Records one message; returns how many are kept.
    std::size_t record(const std::string &text)
    {
        history_.push_back("message #" + std::to_string(count_) + ": " + text);
        count_++;
        if (!leak_ && history_.size() > KEEP) {
            history_.erase(history_.begin());
        }
        return history_.size();
    }

  private:
    bool leak_;
    int count_ = 0;
    std::vector<std::string> history_;
};

// Reads requests until EOF and answers each through `session`.
template <class S> static int serve(S &session)
{
    std::string line;
    while (std::getline(std::cin, line)) {
        std::string text = line.compare(0, 4, "msg ") == 0 ? line.substr(4) : line;
        std::size_t n = session.record(text);
        std::printf("seen %zu\n", n);
        std::fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (std::strcmp(argv[1], "map") != 0 && std::strcmp(argv[1], "vector") != 0) ||
        (std::strcmp(argv[2], "--leak") != 0 && std::strcmp(argv[2], "--fixed") != 0)) {
        std::fprintf(stderr, "usage: cxx_container map|vector --leak|--fixed\n");
        return 2;
    }
    bool leak = std::strcmp(argv[2], "--leak") == 0;
    std::ios::sync_with_stdio(false);
    if (std::strcmp(argv[1], "map") == 0) {
        MapSession s(leak);
        return serve(s);
    }
    VectorSession s(leak);
    return serve(s);
}
