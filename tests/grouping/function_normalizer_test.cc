// Tests for NormalizeFunction / NormalizeFrameFunction: demangling, C++
// noise removal and the per-language conventions.

#include <string>

#include "crashctl/grouping/grouping.h"
#include "gtest/gtest.h"

namespace crashctl {
namespace grouping {
namespace {

struct FunctionCase {
  const char* input;
  const char* expected;
};

class NormalizeFunctionTest : public ::testing::TestWithParam<FunctionCase> {};

TEST_P(NormalizeFunctionTest, Normalizes) {
  EXPECT_EQ(NormalizeFunction(GetParam().input), GetParam().expected)
      << "input: " << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Cxx, NormalizeFunctionTest,
    ::testing::Values(
        // Mangled: templates, argument lists, qualifiers.
        FunctionCase{"_ZN3foo3barIiEEvv", "foo::bar"},
        FunctionCase{"_ZNK3app6Server6handleERKNSt7__cxx1112basic_stringIcSt11"
                     "char_traitsIcESaIcEEE",
                     "app::Server::handle"},
        FunctionCase{"_ZNSt6vectorIiSaIiEE9push_backERKi",
                     "std::vector::push_back"},
        FunctionCase{"_ZN5boost4asio6detail9scheduler3runERNS_6system10error_"
                     "codeE",
                     "boost::asio::detail::scheduler::run"},
        // Anonymous namespace.
        FunctionCase{"_ZN12_GLOBAL__N_17Handler7processERKSt6vectorIiSaIiEE",
                     "Handler::process"},
        // Lambdas: numbering and signature removed.
        FunctionCase{"_ZZ4mainENKUliE_clEi", "main::{lambda}::operator()"},
        FunctionCase{"_ZZN3app3runEvENKUlvE0_clEv",
                     "app::run::{lambda}::operator()"},
        // GCC clones, mangled and demangled.
        FunctionCase{"_ZN3app5parseEPKc.cold", "app::parse"},
        FunctionCase{"_ZN3app5parseEPKc.isra.0", "app::parse"},
        FunctionCase{"_ZN3app5parseEPKc.constprop.0.isra.0", "app::parse"},
        FunctionCase{"app::parse(char const*) [clone .cold]", "app::parse"},
        // Operators.
        FunctionCase{"_ZN3app3FooltERKS0_", "app::Foo::operator<"},
        FunctionCase{"_ZN3app3FoolsEi", "app::Foo::operator<<"},
        FunctionCase{"_ZN3app3FooclEv", "app::Foo::operator()"},
        FunctionCase{"_ZN3app3FoocvbEv", "app::Foo::operator bool"},
        FunctionCase{"_ZN3app3FooixEm", "app::Foo::operator[]"},
        FunctionCase{"_ZN3app3FoonwEm", "app::Foo::operator new"},
        FunctionCase{"_ZN3app3FooaSERKS0_", "app::Foo::operator="},
        // Rust legacy mangling: the hash is dropped.
        FunctionCase{"_ZN4core3ptr13drop_in_place17h0123456789abcdefE",
                     "core::ptr::drop_in_place"},
        // Already demangled names (sentry-native, backtrace_symbols).
        FunctionCase{"app::Server::handle(std::string const&) const",
                     "app::Server::handle"},
        FunctionCase{"void app::run<int>(int)", "app::run"},
        FunctionCase{"std::vector<int, std::allocator<int> > app::make<int>()",
                     "app::make"},
        FunctionCase{"app::(anonymous namespace)::helper(int) [clone "
                     ".constprop.0]",
                     "app::helper"},
        FunctionCase{"foo::{lambda(int)#2}::operator()(int) const",
                     "foo::{lambda}::operator()"},
        FunctionCase{"char const* app::name() const &&", "app::name"},
        // Plain C names and invalid symbols are unchanged.
        FunctionCase{"main", "main"},
        FunctionCase{"__libc_start_main", "__libc_start_main"},
        FunctionCase{"_Znot_a_symbol", "_Znot_a_symbol"},
        FunctionCase{"", ""}));

TEST(NormalizeFunction, SameSymbolAcrossCloneVariantsAndSpellings) {
  const std::string expected = NormalizeFunction("_ZN3app5parseEPKc");
  EXPECT_EQ(expected, "app::parse");
  EXPECT_EQ(NormalizeFunction("_ZN3app5parseEPKc.part.0"), expected);
  EXPECT_EQ(NormalizeFunction("app::parse(char const*)"), expected);
  EXPECT_NE(NormalizeFunction("_ZN3app6renderEPKc"), expected);
}

TEST(NormalizeFunction, HostileMangledNameIsNotDemangled) {
  std::string hostile = "_Z";
  for (int i = 0; i < 100000; ++i) hostile += "PP";
  hostile += "i";
  // Must return promptly without crashing; the exact output is irrelevant.
  EXPECT_FALSE(NormalizeFunction(hostile).empty());
}

struct LanguageCase {
  FunctionLanguage language;
  const char* input;
  const char* expected;
};

class NormalizeFrameFunctionTest
    : public ::testing::TestWithParam<LanguageCase> {};

TEST_P(NormalizeFrameFunctionTest, Normalizes) {
  EXPECT_EQ(NormalizeFrameFunction(GetParam().input, GetParam().language),
            GetParam().expected)
      << "input: " << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Languages, NormalizeFrameFunctionTest,
    ::testing::Values(
        LanguageCase{FunctionLanguage::kJavaScript, "Object.<anonymous>",
                     "<anonymous>"},
        LanguageCase{FunctionLanguage::kJavaScript, "async handleOrder",
                     "handleOrder"},
        LanguageCase{FunctionLanguage::kJavaScript, "new OrderService",
                     "OrderService"},
        LanguageCase{FunctionLanguage::kJavaScript, "Object.handleOrder",
                     "handleOrder"},
        LanguageCase{FunctionLanguage::kJavaScript,
                     "Layer.handle [as handle_request]", "Layer.handle"},
        LanguageCase{FunctionLanguage::kJavaScript,
                     "async Promise.all (index 0)", "Promise.all"},
        LanguageCase{FunctionLanguage::kJavaScript,
                     "process.processTicksAndRejections",
                     "process.processTicksAndRejections"},
        LanguageCase{FunctionLanguage::kJavaScript, "handler/<@", "handler"},
        // JS names that look like templates are not C++-stripped.
        LanguageCase{FunctionLanguage::kJavaScript, "<anonymous>",
                     "<anonymous>"},
        LanguageCase{FunctionLanguage::kPython, "handle_order", "handle_order"},
        LanguageCase{FunctionLanguage::kPython, "<lambda>", "<lambda>"},
        LanguageCase{FunctionLanguage::kPython, "Foo.bar", "Foo.bar"},
        LanguageCase{FunctionLanguage::kGo,
                     "github.com/acme/shop/handlers.(*Server).Handle",
                     "handlers.(*Server).Handle"},
        LanguageCase{FunctionLanguage::kGo, "(*Server).Handle",
                     "(*Server).Handle"},
        LanguageCase{FunctionLanguage::kGo, "main.main.func1",
                     "main.main.func1"},
        LanguageCase{FunctionLanguage::kNative, "app::run<int>(int)",
                     "app::run"},
        LanguageCase{FunctionLanguage::kNative,
                     "-[NSObject doesNotRecognizeSelector:]",
                     "-[NSObject doesNotRecognizeSelector:]"},
        LanguageCase{FunctionLanguage::kNative,
                     "std::_Function_handler<void (), main::{lambda()#1}>::_"
                     "M_invoke(std::_Any_data const&)",
                     "std::_Function_handler::_M_invoke"},
        // A mangled name is demangled whatever the platform says.
        LanguageCase{FunctionLanguage::kPython, "_ZN3foo3barIiEEvv",
                     "foo::bar"},
        LanguageCase{FunctionLanguage::kOther, "handle_order", "handle_order"},
        LanguageCase{FunctionLanguage::kOther, "ns::f(int)", "ns::f"}));

TEST(LanguageForPlatform, MapsSentryPlatforms) {
  EXPECT_EQ(LanguageForPlatform("node"), FunctionLanguage::kJavaScript);
  EXPECT_EQ(LanguageForPlatform("javascript"), FunctionLanguage::kJavaScript);
  EXPECT_EQ(LanguageForPlatform("python"), FunctionLanguage::kPython);
  EXPECT_EQ(LanguageForPlatform("go"), FunctionLanguage::kGo);
  EXPECT_EQ(LanguageForPlatform("native"), FunctionLanguage::kNative);
  EXPECT_EQ(LanguageForPlatform("c"), FunctionLanguage::kNative);
  EXPECT_EQ(LanguageForPlatform("cocoa"), FunctionLanguage::kNative);
  EXPECT_EQ(LanguageForPlatform(""), FunctionLanguage::kOther);
  EXPECT_EQ(LanguageForPlatform("ruby"), FunctionLanguage::kOther);
}

}  // namespace
}  // namespace grouping
}  // namespace crashctl
