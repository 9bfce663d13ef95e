// featpipe cmvn-stats OUTDIR... -o FILE [--format auto|kaldi|kaldi-text|wenet]
// Global CMVN statistics over the features runs left, for norm.cmvn
// {stats: FILE}, Kaldi's apply-cmvn or WeNet's global_cmvn. A command, not a
// stage: a stage sees one input, the statistics need the whole corpus.
//
// Exit status: 0 written, every input of the runs in it; 1 written, but some
// inputs had failed in the runs (each named: their features are missing);
// 2 nothing written (no run folder, no frames, an output damaged, unreadable
// or not a [frame, dim] matrix, dimensions that differ, FILE not writable).
#include "atomic_output.hpp"
#include "cmvn_accumulator.hpp"
#include "commands.hpp"
#include "options.hpp"
#include "run_outputs.hpp"

#include <filesystem>
#include <iostream>
#include <set>

namespace fs = std::filesystem;

namespace featpipe::cli {

namespace {

struct Args {
  std::vector<std::string> outdirs;
  std::string output, format = "auto";
};

CmvnFormat format_of(const Args& a) {
  if (a.format == "kaldi") return CmvnFormat::kaldi;
  if (a.format == "kaldi-text") return CmvnFormat::kaldi_text;
  if (a.format == "wenet") return CmvnFormat::wenet;
  return fs::path(a.output).extension() == ".json" ? CmvnFormat::wenet : CmvnFormat::kaldi;
}

const char* format_name(CmvnFormat f) {
  switch (f) {
    case CmvnFormat::kaldi: return "Kaldi binary";
    case CmvnFormat::kaldi_text: return "Kaldi text";
    case CmvnFormat::wenet: return "WeNet JSON";
  }
  return "";
}

std::string axes_text(const std::vector<std::string>& axes) {
  std::string s;
  for (size_t k = 0; k < axes.size(); ++k) s += (k ? ", " : "") + axes[k];
  return s;
}

// Features of another rank, refused by name before reading them when the
// manifest tells their shape.
void check_rank(const RunOutput& out, const std::vector<int64_t>& shape) {
  if (shape.size() == 2) return;
  throw Error(printable_name(out.name()) + ": features of rank " + std::to_string(shape.size()) +
              (out.axes.size() == shape.size() ? " [" + axes_text(out.axes) + "]" : "") +
              ": CMVN statistics are over [frame, dim] matrices");
}

int run(const Args& a) {
  const CmvnFormat format = format_of(a);
  std::set<fs::path> seen;
  for (const std::string& d : a.outdirs) {
    std::error_code ec;
    if (!seen.insert(fs::weakly_canonical(d, ec)).second)
      throw Error(printable_name(d) + " given twice: its frames would count twice");
  }
  AtomicOutput file(a.output);
  std::vector<RunListing> runs;
  for (const std::string& d : a.outdirs) runs.push_back(list_run(d));

  size_t outputs = 0, failed = 0, not_taken = 0, torn = 0, unusable = 0;
  constexpr size_t kShown = 10;  // errors printed; the rest counted
  CmvnAccumulator acc;
  OutputReader reader;
  for (size_t k = 0; k < runs.size(); ++k) {
    const RunListing& r = runs[k];
    for (const std::string& line : r.torn)
      std::cerr << "warning: " << printable_name((fs::path(a.outdirs[k]) / line).string())
                << ": not a manifest entry (a run killed while writing it?): ignored\n";
    for (const FailedInput& f : r.failed)
      std::cerr << "error: " << printable_name(f.input) << " failed in the run (" << printable_name(f.error)
                << "): its features are not in the statistics\n";
    failed += r.failed.size();
    not_taken += r.not_taken;
    torn += r.torn.size();
    for (const RunOutput& out : r.outputs) {
      try {
        if (!out.shape.empty()) check_rank(out, out.shape);
        const Features f = reader.read(out);
        check_rank(out, f.shape);
        acc.add(f.data.data(), f.shape[0], f.shape[1], out.name());
        ++outputs;
      } catch (const Error& e) {
        if (unusable++ < kShown) std::cerr << "error: " << e.what() << "\n";
      }
    }
  }
  if (unusable) {
    if (unusable > kShown) std::cerr << "error: ... and " << unusable - kShown << " more\n";
    throw Error(count_text(unusable, "output") + " could not be used (a damaged output is redone by featpipe run --resume); " +
                printable_name(a.output) + " not written");
  }
  if (acc.frames() == 0)
    throw Error("no frames: " + (outputs ? "the " + count_text(outputs, "ok output") + " hold none"
                                         : std::string("the runs left no ok output")) +
                "; " + printable_name(a.output) + " not written");
  file.commit(cmvn_stats_bytes(acc, format));
  std::cerr << "cmvn-stats: " << count_text(outputs, "output") << ", " << count_text(static_cast<size_t>(acc.frames()), "frame")
            << " of dim " << acc.dim() << " -> " << printable_name(a.output) << " (" << format_name(format) << ")";
  if (failed) std::cerr << "; " << count_text(failed, "input") << " failed in the run (not counted)";
  if (not_taken) std::cerr << "; " << count_text(not_taken, "file") << " not taken by the run";
  if (torn) std::cerr << "; " << count_text(torn, "torn manifest line") << " ignored";
  std::cerr << "\n";
  return failed ? 1 : 0;
}

}  // namespace

Action add_cmvn_stats(CLI::App& app) {
  auto a = std::make_shared<Args>();
  CLI::App* c = app.add_subcommand(
      "cmvn-stats", "global CMVN statistics over the features runs left (Kaldi cmvn.ark or WeNet global_cmvn)");
  c->add_option("outdirs", a->outdirs, "output folders of featpipe run (every manifest*.jsonl; .npy or ark outputs)")
      ->required();
  c->add_option("-o,--output", a->output, "statistics file to write (replaced atomically)")->required();
  c->add_option("--format", a->format,
                "kaldi: compute-cmvn-stats' binary 2 x (dim+1) double matrix; kaldi-text: the same as text "
                "(--binary=false); wenet: global_cmvn JSON; auto (default): wenet when FILE ends in .json, else kaldi")
      ->check(CLI::IsMember({"auto", "kaldi", "kaldi-text", "wenet"}));
  return [a] { return run(*a); };
}

}  // namespace featpipe::cli
