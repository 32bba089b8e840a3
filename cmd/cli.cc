#include "cli.h"

#include <cstdlib>
#include <iostream>

#include "crashctl/core/config.h"

namespace crashctl {
namespace cmd {

bool ParseFlags(const std::vector<std::string>& args,
                const std::set<std::string>& known, ParsedArgs* out,
                std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      out->positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (known.count(name) && i + 1 >= args.size()) {
        *error = "flag --" + name + " needs a value";
        return false;
      }
      if (known.count(name)) value = args[++i];
    }
    if (!known.count(name)) {
      *error = "unknown flag --" + name;
      return false;
    }
    out->flags[name] = value;
  }
  return true;
}

ConfigArgs ConfigArgsFrom(const ParsedArgs& args) {
  ConfigArgs config;
  auto it = args.flags.find("config");
  if (it != args.flags.end()) {
    config.config_path = it->second;
  } else if (const char* env = std::getenv("CRASHCTL_CONFIG")) {
    config.config_path = env;
  }
  static const std::map<std::string, std::string> kFlagKeys = {
      {"listen", "server.listen"}, {"data", "storage.path"}};
  for (const auto& flag_key : kFlagKeys) {
    auto found = args.flags.find(flag_key.first);
    if (found != args.flags.end()) {
      config.key_flags[flag_key.second] = found->second;
    }
  }
  return config;
}

bool ParseCommandFlags(const std::string& command,
                       const std::vector<std::string>& args,
                       const std::set<std::string>& known, ParsedArgs* out) {
  std::string error;
  if (!ParseFlags(args, known, out, &error)) {
    std::cerr << "crashctl " << command << ": " << error << "\n";
    return false;
  }
  if (!out->positional.empty()) {
    std::cerr << "crashctl " << command << ": unexpected argument "
              << out->positional.front() << "\n";
    return false;
  }
  return true;
}

bool WantsHelp(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

}  // namespace cmd
}  // namespace crashctl
