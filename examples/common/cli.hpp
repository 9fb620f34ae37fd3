// A small command-line parser for the example programs: flags are declared with a default
// and a help line, `--help` prints them all, and anything wrong (an unknown flag, a
// missing or malformed value) throws patchnet::Error naming the flag.
//   Cli cli("convmixer_cifar10", "Train ConvMixer on CIFAR-10.");
//   auto& epochs = cli.add<int64_t>("--epochs", 10, "training epochs");
//   cli.parse(argc, argv);   // returns false after printing --help
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "patchnet/core/error.hpp"

namespace patchnet::examples {

class Cli {
 public:
  Cli(std::string program, std::string about) : program_(std::move(program)), about_(std::move(about)) {}

  // Declares a flag; the returned reference holds its value after parse(). T is one of
  // std::string, int64_t, double, bool (a bool flag takes no value: --flag sets it).
  template <class T>
  T& add(const std::string& flag, T fallback, const std::string& help) {
    auto f = std::make_unique<Flag<T>>();
    f->name = flag;
    f->help = help;
    f->value = std::move(fallback);
    T& ref = f->value;
    flags_.push_back(std::move(f));
    return ref;
  }
  // A flag's value as exact text (given or default); throws for an undeclared flag.
  std::string text(const std::string& flag) const {
    const FlagBase* f = find(flag);
    PN_CHECK(f != nullptr, program_, ": no flag ", flag, " is declared");
    return f->value_text();
  }
  // Whether the user gave the flag (as opposed to its default).
  bool given(const std::string& flag) const {
    for (const auto& f : flags_)
      if (f->name == flag) return f->seen;
    fail(program_, ": no flag ", flag, " is declared");
  }
  // The value of a declared flag, by name and type.
  template <class T>
  const T& get(const std::string& flag) const {
    for (const auto& f : flags_)
      if (f->name == flag) {
        auto* typed = dynamic_cast<const Flag<T>*>(f.get());
        PN_CHECK(typed != nullptr, program_, ": flag ", flag, " read with the wrong type");
        return typed->value;
      }
    fail(program_, ": no flag ", flag, " is declared");
  }
  void section(const std::string& title) { flags_.push_back(std::make_unique<Section>(title)); }

  // Parses argv; returns false when --help was printed (the program should exit 0).
  bool parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i], value;
      bool has_value = false;
      if (arg == "--help" || arg == "-h") {
        std::cout << help();
        return false;
      }
      if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_value = true;
      }
      FlagBase* f = find(arg);
      PN_CHECK(f != nullptr, program_, ": unknown ", arg.rfind("-", 0) == 0 ? "flag " : "argument ", "'", arg,
               "'; see --help");
      PN_CHECK(!f->seen, program_, ": ", arg, " is given twice");
      if (!f->takes_value()) {
        PN_CHECK(!has_value, program_, ": ", arg, " takes no value");
        f->set("");
      } else {
        if (!has_value) {
          PN_CHECK(i + 1 < argc, program_, ": ", arg, " needs a value");
          value = argv[++i];
        }
        f->set(value);
      }
      f->seen = true;
    }
    return true;
  }

  std::string help() const {
    std::ostringstream os;
    os << "usage: " << program_ << " [flags]\n\n" << about_ << "\n";
    for (const auto& f : flags_) os << f->describe();
    return os.str();
  }

 private:
  struct FlagBase {
    std::string name, help;
    bool seen = false;
    virtual ~FlagBase() = default;
    virtual bool takes_value() const { return true; }
    virtual void set(const std::string& v) = 0;
    virtual std::string default_text() const = 0;
    virtual std::string describe() const {
      std::string left = "  " + name + (takes_value() ? " " + metavar() : "");
      if (left.size() < 28) left.resize(28, ' ');
      else left += "\n" + std::string(28, ' ');
      const std::string d = default_text();
      return left + help + (d.empty() ? "" : " (default " + d + ")") + "\n";
    }
    virtual std::string metavar() const { return "V"; }
    virtual std::string value_text() const { return ""; }
  };
  template <class T>
  struct Flag : FlagBase {
    T value{};
    void set(const std::string& v) override {
      if constexpr (std::is_same_v<T, std::string>) {
        value = v;
      } else if constexpr (std::is_same_v<T, bool>) {
        value = true;
      } else {
        char* end = nullptr;
        errno = 0;
        if constexpr (std::is_same_v<T, int64_t>) value = std::strtoll(v.c_str(), &end, 10);
        else value = std::strtod(v.c_str(), &end);
        PN_CHECK(!v.empty() && end && *end == '\0' && errno == 0, this->name, ": '", v, "' is not ",
                 std::is_same_v<T, int64_t> ? "an integer" : "a number");
      }
    }
    bool takes_value() const override { return !std::is_same_v<T, bool>; }
    std::string default_text() const override {
      if constexpr (std::is_same_v<T, std::string>) return value.empty() ? "" : "'" + value + "'";
      else if constexpr (std::is_same_v<T, bool>) return "";
      else {
        std::ostringstream os;
        os << value;
        return os.str();
      }
    }
    // The value exactly (doubles to 17 digits), for the settings a checkpoint records.
    std::string value_text() const override {
      if constexpr (std::is_same_v<T, std::string>) return value;
      else if constexpr (std::is_same_v<T, bool>) return value ? "1" : "0";
      else {
        std::ostringstream os;
        os.precision(17);
        os << value;
        return os.str();
      }
    }
    std::string metavar() const override {
      if constexpr (std::is_same_v<T, std::string>) return "S";
      else if constexpr (std::is_same_v<T, int64_t>) return "N";
      else return "X";
    }
  };
  struct Section : FlagBase {
    explicit Section(std::string t) { this->help = std::move(t); }
    void set(const std::string&) override {}
    std::string default_text() const override { return ""; }
    std::string describe() const override { return "\n" + this->help + ":\n"; }
  };
  FlagBase* find(const std::string& name) const {
    for (const auto& f : flags_)
      if (!f->name.empty() && f->name == name) return f.get();
    return nullptr;
  }

  std::string program_, about_;
  std::vector<std::unique_ptr<FlagBase>> flags_;
};

}  // namespace patchnet::examples
