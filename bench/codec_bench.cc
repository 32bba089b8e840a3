// crashctl-codec-bench: the payload codec's candidates on realistic payloads
// (bench/payload_samples.h): @sentry/node error events (30 frames) and
// transactions of 20 spans. Each benchmark cycles through 64 payloads that
// were not used to train the dictionary and reports ns per payload,
// bytes_in / bytes_out per payload and ratio = in / out.
//
// Candidates: zlib level 1 as the codec had it (8 KiB window, memLevel 6,
// one reused stream), libdeflate level 1 (zlib format, reused compressor),
// zstd level 1 (one reused context, content size and checksum in the frame,
// as store/payload_codec.cc writes it; and without the checksum), zstd
// level 1 with a dictionary trained with ZDICT_trainFromBuffer on 2,000
// other payloads of the same kind, and store::EncodePayload itself.
// Results: bench/CODEC.md. `--instructions CODEC OP KIND N` (below) runs
// one codec alone, for callgrind; `--captured FILE...` compresses real SDK
// captures with and without the trained dictionaries.
#include <benchmark/benchmark.h>
#include <libdeflate.h>
#include <zdict.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/payload_samples.h"
#include "store/payload_codec.h"

namespace crashctl {
namespace {

enum Kind { kError = 0, kTransaction = 1 };

std::string Sample(Kind kind, int n, uint64_t seed) {
  return kind == kError ? bench::SampleErrorEvent(n % 500, seed)
                        : bench::SampleTransaction(n % 20, seed);
}

// Measured payloads: seeds 1,000,000 onwards (training uses 1..2,000).
const std::vector<std::string>& Payloads(Kind kind) {
  static std::vector<std::string> cache[2];
  if (cache[kind].empty()) {
    for (int i = 0; i < 64; ++i) {
      cache[kind].push_back(Sample(kind, i * 7 + 3, 1000000 + i));
    }
  }
  return cache[kind];
}

struct Dictionary {
  std::string bytes;
  ZSTD_CDict* cdict = nullptr;
  ZSTD_DDict* ddict = nullptr;
};

const Dictionary& TrainedDictionary(Kind kind, size_t capacity) {
  static Dictionary cache[2][2];
  Dictionary& d = cache[kind][capacity > 16384];
  if (d.cdict) return d;
  std::string samples;
  std::vector<size_t> sizes;
  for (int i = 0; i < 2000; ++i) {
    const std::string s = Sample(kind, i, 1 + i);
    samples += s;
    sizes.push_back(s.size());
  }
  d.bytes.resize(capacity);
  const size_t n =
      ZDICT_trainFromBuffer(d.bytes.data(), d.bytes.size(), samples.data(),
                            sizes.data(), static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n)) {
    std::fprintf(stderr, "dictionary training failed: %s\n",
                 ZDICT_getErrorName(n));
    std::abort();
  }
  d.bytes.resize(n);
  d.cdict = ZSTD_createCDict(d.bytes.data(), d.bytes.size(), 1);
  d.ddict = ZSTD_createDDict(d.bytes.data(), d.bytes.size());
  return d;
}

// Runs `encode(in, &out)` over the payloads and reports the figures.
template <typename Encode>
void RunEncode(benchmark::State& state, Kind kind, Encode encode) {
  const std::vector<std::string>& payloads = Payloads(kind);
  std::string out;
  size_t in_bytes = 0;
  size_t out_bytes = 0;
  for (const std::string& p : payloads) {
    encode(p, &out);
    in_bytes += p.size();
    out_bytes += out.size();
  }
  size_t i = 0;
  for (auto _ : state) {
    encode(payloads[i++ % payloads.size()], &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes_in"] = static_cast<double>(in_bytes) / payloads.size();
  state.counters["bytes_out"] =
      static_cast<double>(out_bytes) / payloads.size();
  state.counters["ratio"] = static_cast<double>(in_bytes) / out_bytes;
}

// Encodes every payload once with `encode`, then measures `decode`.
template <typename Encode, typename Decode>
void RunDecode(benchmark::State& state, Kind kind, Encode encode,
               Decode decode) {
  const std::vector<std::string>& payloads = Payloads(kind);
  std::vector<std::string> encoded(payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) encode(payloads[i], &encoded[i]);
  std::string out;
  for (size_t i = 0; i < payloads.size(); ++i) {
    if (!decode(encoded[i], payloads[i].size(), &out) || out != payloads[i]) {
      state.SkipWithError("round trip failed");
      return;
    }
  }
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % payloads.size();
    decode(encoded[k], payloads[k].size(), &out);
    benchmark::DoNotOptimize(out.data());
  }
}

// ---- zlib level 1, the former codec's settings ----
void ZlibEncode(const std::string& in, std::string* out) {
  thread_local z_stream stream = [] {
    z_stream s{};
    deflateInit2(&s, 1, Z_DEFLATED, 13, 6, Z_DEFAULT_STRATEGY);
    return s;
  }();
  deflateReset(&stream);
  out->resize(deflateBound(&stream, in.size()));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  stream.avail_in = static_cast<uInt>(in.size());
  stream.next_out = reinterpret_cast<Bytef*>(out->data());
  stream.avail_out = static_cast<uInt>(out->size());
  deflate(&stream, Z_FINISH);
  out->resize(out->size() - stream.avail_out);
}
bool ZlibDecode(const std::string& in, size_t size, std::string* out) {
  out->resize(size);
  uLongf written = size;
  return uncompress(reinterpret_cast<Bytef*>(out->data()), &written,
                    reinterpret_cast<const Bytef*>(in.data()),
                    in.size()) == Z_OK &&
         written == size;
}

// ---- libdeflate level 1, zlib format ----
void LibdeflateEncode(const std::string& in, std::string* out) {
  thread_local libdeflate_compressor* c = libdeflate_alloc_compressor(1);
  out->resize(libdeflate_zlib_compress_bound(c, in.size()));
  out->resize(libdeflate_zlib_compress(c, in.data(), in.size(), out->data(),
                                       out->size()));
}
bool LibdeflateDecode(const std::string& in, size_t size, std::string* out) {
  thread_local libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  out->resize(size);
  size_t written = 0;
  return libdeflate_zlib_decompress(d, in.data(), in.size(), out->data(), size,
                                    &written) == LIBDEFLATE_SUCCESS &&
         written == size;
}

// ---- zstd level 1 ----
void ZstdEncode(const std::string& in, std::string* out, bool checksum,
                const ZSTD_CDict* cdict) {
  thread_local ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  if (cdict) ZSTD_CCtx_refCDict(cctx, cdict);
  out->resize(ZSTD_compressBound(in.size()));
  const size_t n =
      ZSTD_compress2(cctx, out->data(), out->size(), in.data(), in.size());
  out->resize(ZSTD_isError(n) ? 0 : n);
}
bool ZstdDecode(const std::string& in, size_t size, std::string* out,
                const ZSTD_DDict* ddict) {
  thread_local ZSTD_DCtx* dctx = ZSTD_createDCtx();
  out->resize(size);
  const size_t n =
      ddict
          ? ZSTD_decompress_usingDDict(dctx, out->data(), size, in.data(),
                                       in.size(), ddict)
          : ZSTD_decompressDCtx(dctx, out->data(), size, in.data(), in.size());
  return !ZSTD_isError(n) && n == size;
}

void BM_Encode_Zlib1(benchmark::State& state) {
  RunEncode(state, Kind(state.range(0)), ZlibEncode);
}
void BM_Encode_Libdeflate1(benchmark::State& state) {
  RunEncode(state, Kind(state.range(0)), LibdeflateEncode);
}
void BM_Encode_Zstd1(benchmark::State& state) {
  RunEncode(state, Kind(state.range(0)),
            [](const std::string& in, std::string* out) {
              ZstdEncode(in, out, true, nullptr);
            });
}
void BM_Encode_Zstd1NoChecksum(benchmark::State& state) {
  RunEncode(state, Kind(state.range(0)),
            [](const std::string& in, std::string* out) {
              ZstdEncode(in, out, false, nullptr);
            });
}
void BM_Encode_Zstd1Dict(benchmark::State& state) {
  const Dictionary& d =
      TrainedDictionary(Kind(state.range(0)), state.range(1) << 10);
  state.counters["dict_bytes"] = static_cast<double>(d.bytes.size());
  RunEncode(state, Kind(state.range(0)),
            [&](const std::string& in, std::string* out) {
              ZstdEncode(in, out, true, d.cdict);
            });
}
void BM_Encode_PayloadCodec(benchmark::State& state) {
  RunEncode(state, Kind(state.range(0)),
            [](const std::string& in, std::string* out) {
              store::EncodePayload(in, out);
            });
}

void BM_Decode_Zlib1(benchmark::State& state) {
  RunDecode(state, Kind(state.range(0)), ZlibEncode, ZlibDecode);
}
void BM_Decode_Libdeflate1(benchmark::State& state) {
  RunDecode(state, Kind(state.range(0)), LibdeflateEncode, LibdeflateDecode);
}
void BM_Decode_Zstd1(benchmark::State& state) {
  RunDecode(
      state, Kind(state.range(0)),
      [](const std::string& in, std::string* out) {
        ZstdEncode(in, out, true, nullptr);
      },
      [](const std::string& in, size_t size, std::string* out) {
        return ZstdDecode(in, size, out, nullptr);
      });
}
void BM_Decode_Zstd1Dict(benchmark::State& state) {
  const Dictionary& d =
      TrainedDictionary(Kind(state.range(0)), state.range(1) << 10);
  RunDecode(
      state, Kind(state.range(0)),
      [&](const std::string& in, std::string* out) {
        ZstdEncode(in, out, true, d.cdict);
      },
      [&](const std::string& in, size_t size, std::string* out) {
        return ZstdDecode(in, size, out, d.ddict);
      });
}
void BM_Decode_PayloadCodec(benchmark::State& state) {
  RunDecode(
      state, Kind(state.range(0)),
      [](const std::string& in, std::string* out) {
        store::EncodePayload(in, out);
      },
      [](const std::string& in, size_t, std::string* out) {
        return store::DecodePayload(in, out);
      });
}

// Argument 0: 0 = error event, 1 = transaction; argument 1 (dictionaries):
// the dictionary's capacity in KiB.
#define KINDS ArgName("txn")->Arg(kError)->Arg(kTransaction)
#define DICTS \
  ArgNames({"txn", "dict_kib"})->ArgsProduct({{kError, kTransaction}, {16, 64}})
BENCHMARK(BM_Encode_Zlib1)->KINDS;
BENCHMARK(BM_Encode_Libdeflate1)->KINDS;
BENCHMARK(BM_Encode_Zstd1)->KINDS;
BENCHMARK(BM_Encode_Zstd1NoChecksum)->KINDS;
BENCHMARK(BM_Encode_Zstd1Dict)->DICTS;
BENCHMARK(BM_Encode_PayloadCodec)->KINDS;
BENCHMARK(BM_Decode_Zlib1)->KINDS;
BENCHMARK(BM_Decode_Libdeflate1)->KINDS;
BENCHMARK(BM_Decode_Zstd1)->KINDS;
BENCHMARK(BM_Decode_Zstd1Dict)->DICTS;
BENCHMARK(BM_Decode_PayloadCodec)->KINDS;

// --instructions CODEC OP KIND N: runs OP (encode, decode) of CODEC on the
// payloads N times and nothing else, for callgrind: the difference between
// the instruction counts of N = 10000 and N = 0, over 10000, is the cost of
// one payload (bench/CODEC.md).
int CountMain(const std::string& codec, const std::string& op, Kind kind,
              long n) {
  std::function<void(const std::string&, std::string*)> encode;
  std::function<bool(const std::string&, size_t, std::string*)> decode;
  const ZSTD_CDict* cdict = nullptr;
  const ZSTD_DDict* ddict = nullptr;
  if (codec == "zstd1-dict16") {
    const Dictionary& d = TrainedDictionary(kind, 16 << 10);
    cdict = d.cdict;
    ddict = d.ddict;
  }
  if (codec == "zlib1") {
    encode = ZlibEncode;
    decode = ZlibDecode;
  } else if (codec == "libdeflate1") {
    encode = LibdeflateEncode;
    decode = LibdeflateDecode;
  } else if (codec == "zstd1" || codec == "zstd1-nochecksum" ||
             codec == "zstd1-dict16") {
    const bool checksum = codec != "zstd1-nochecksum";
    encode = [=](const std::string& in, std::string* out) {
      ZstdEncode(in, out, checksum, cdict);
    };
    decode = [=](const std::string& in, size_t size, std::string* out) {
      return ZstdDecode(in, size, out, ddict);
    };
  } else if (codec == "payload-codec") {
    encode = [](const std::string& in, std::string* out) {
      store::EncodePayload(in, out);
    };
    decode = [](const std::string& in, size_t, std::string* out) {
      return store::DecodePayload(in, out);
    };
  } else {
    return 2;
  }
  const std::vector<std::string>& payloads = Payloads(kind);
  std::vector<std::string> encoded(payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) encode(payloads[i], &encoded[i]);
  std::string out;
  for (long i = 0; i < n; ++i) {
    const size_t k = static_cast<size_t>(i) % payloads.size();
    if (op == "encode") {
      encode(payloads[k], &out);
    } else if (!decode(encoded[k], payloads[k].size(), &out)) {
      return 1;
    }
    benchmark::DoNotOptimize(out.data());
  }
  return 0;
}

// --captured FILE...: the bytes zstd level 1 makes of each payload of real
// SDK captures (envelopes: every item; other files: the whole file), plain
// and with the dictionaries trained on the synthetic samples, to see how
// far a dictionary trained on one SDK's shapes carries to others.
int CapturedMain(int argc, char** argv) {
  const Dictionary& events = TrainedDictionary(kError, 16 << 10);
  const Dictionary& transactions = TrainedDictionary(kTransaction, 16 << 10);
  std::printf(
      "| payload | bytes | zstd 1 | + event dictionary | + transaction "
      "dictionary |\n|---|---|---|---|---|\n");
  for (int i = 2; i < argc; ++i) {
    std::ifstream file(argv[i], std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(file)),
                              std::istreambuf_iterator<char>());
    std::vector<std::string> items;
    const std::string path = argv[i];
    if (path.size() > 9 && path.substr(path.size() - 9) == ".envelope") {
      std::istringstream lines(content);
      std::string header;
      std::string item_header;
      std::string body;
      std::getline(lines, header);
      while (std::getline(lines, item_header) && std::getline(lines, body)) {
        items.push_back(body);
      }
    } else {
      items.push_back(content);
    }
    for (const std::string& item : items) {
      if (item.size() < 300) continue;  // sessions, client reports
      std::string plain;
      std::string with_events;
      std::string with_transactions;
      ZstdEncode(item, &plain, true, nullptr);
      ZstdEncode(item, &with_events, true, events.cdict);
      ZstdEncode(item, &with_transactions, true, transactions.cdict);
      const std::string name = path.substr(path.find_last_of('/') + 1);
      std::printf("| %s | %zu | %zu (%.2f) | %zu (%.2f) | %zu (%.2f) |\n",
                  name.c_str(), item.size(), plain.size(),
                  double(item.size()) / plain.size(), with_events.size(),
                  double(item.size()) / with_events.size(),
                  with_transactions.size(),
                  double(item.size()) / with_transactions.size());
    }
  }
  return 0;
}

}  // namespace
}  // namespace crashctl

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "--captured") {
    return crashctl::CapturedMain(argc, argv);
  }
  if (argc == 6 && std::string(argv[1]) == "--instructions") {
    return crashctl::CountMain(argv[2], argv[3],
                               std::string(argv[4]) == "transaction"
                                   ? crashctl::kTransaction
                                   : crashctl::kError,
                               std::atol(argv[5]));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
