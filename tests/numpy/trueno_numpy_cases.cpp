//===- trueno_numpy_cases.cpp - Runs differential cases in Trueno ---------===//
//
// The Trueno half of the NumPy differential test. Reads a case file written
// by test_numpy_differential.py, one case per line:
//
//   <id> <source> [| <op> ...]
//
// where <source> creates or loads a tensor and each <op> is a view, copy or
// write. The result of each case is saved to <outdir>/<id>.npy for the
// Python side to compare with NumPy's. An exception is saved as
// <outdir>/<id>.err with its type, so cases that must fail are checked too.
//
//===----------------------------------------------------------------------===//
#include <trueno/trueno.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace tn = trueno;

namespace {

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> parts;
  std::stringstream stream(s);
  std::string part;
  while (std::getline(stream, part, sep))
    parts.push_back(part);
  return parts;
}

tn::Shape parseShape(const std::string &s) {
  tn::Shape shape;
  if (s == "-")
    return shape; // rank 0
  for (const std::string &p : split(s, ','))
    shape.push_back(std::stoll(p));
  return shape;
}

tn::DType parseDType(const std::string &s) {
  for (int i = 0; i < tn::kNumDTypes; ++i)
    if (tn::dtypeName(static_cast<tn::DType>(i)) == s)
      return static_cast<tn::DType>(i);
  throw std::runtime_error("unknown dtype " + s);
}

tn::Scalar parseScalar(const std::string &s) {
  if (s == "True" || s == "False")
    return tn::Scalar(s == "True");
  if (s.find_first_of(".eEnaif") != std::string::npos)
    return tn::Scalar(std::stod(s));
  return tn::Scalar(static_cast<std::int64_t>(std::stoll(s)));
}

std::optional<std::int64_t> parseBound(const std::string &s) {
  if (s == "_")
    return std::nullopt;
  return std::stoll(s);
}

tn::Tensor makeSource(const std::vector<std::string> &w) {
  const std::string &kind = w.at(0);
  if (kind == "load")
    return tn::loadNpy(w.at(1));
  if (kind == "zeros")
    return tn::zeros(parseShape(w.at(2)), parseDType(w.at(1)));
  if (kind == "ones")
    return tn::ones(parseShape(w.at(2)), parseDType(w.at(1)));
  if (kind == "full")
    return tn::full(parseShape(w.at(2)), parseScalar(w.at(3)),
                    parseDType(w.at(1)));
  if (kind == "arange")
    return tn::arange(parseScalar(w.at(2)), parseScalar(w.at(3)),
                      parseScalar(w.at(4)), parseDType(w.at(1)));
  if (kind == "linspace")
    return tn::linspace(std::stod(w.at(2)), std::stod(w.at(3)),
                        std::stoll(w.at(4)), parseDType(w.at(1)));
  if (kind == "eye")
    return tn::eye(std::stoll(w.at(2)), std::stoll(w.at(3)),
                   parseDType(w.at(1)));
  throw std::runtime_error("unknown source " + kind);
}

/// Applies one op; `base` is the case's source, for ops that write through
/// a view and then look at the base.
tn::Tensor applyOp(const tn::Tensor &t, tn::Tensor &base,
                   const std::vector<std::string> &w) {
  const std::string &op = w.at(0);
  auto arg = [&](std::size_t i) { return std::stoll(w.at(i)); };
  if (op == "reshape")
    return t.reshape(parseShape(w.at(1)));
  if (op == "transpose")
    return t.transpose(arg(1), arg(2));
  if (op == "permute")
    return t.permute(parseShape(w.at(1)));
  if (op == "slice")
    return t.slice(arg(1), parseBound(w.at(2)), parseBound(w.at(3)), arg(4));
  if (op == "select")
    return t.select(arg(1), arg(2));
  if (op == "narrow")
    return t.narrow(arg(1), arg(2), arg(3));
  if (op == "squeeze")
    return w.size() > 1 ? t.squeeze(arg(1)) : t.squeeze();
  if (op == "unsqueeze")
    return t.unsqueeze(arg(1));
  if (op == "expand")
    return t.expand(parseShape(w.at(1)));
  if (op == "broadcastTo")
    return t.broadcastTo(parseShape(w.at(1)));
  if (op == "flatten")
    return t.flatten(arg(1), arg(2));
  if (op == "T")
    return t.T();
  if (op == "mT")
    return t.mT();
  if (op == "contiguous")
    return t.contiguous();
  if (op == "to")
    return t.to(parseDType(w.at(1)));
  if (op == "fillbase") { // view[...] = value; continue with the base
    tn::Tensor view = t;
    view.fill_(parseScalar(w.at(1)));
    return base;
  }
  throw std::runtime_error("unknown op " + op);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: trueno-numpy-cases CASES OUTDIR\n";
    return 2;
  }
  std::ifstream cases(argv[1]);
  std::string outDir = argv[2];
  std::string line;
  int count = 0;
  while (std::getline(cases, line)) {
    if (line.empty())
      continue;
    std::vector<std::string> stages = split(line, '|');
    std::istringstream head(stages[0]);
    std::string id;
    head >> id;
    std::vector<std::string> words;
    for (std::string word; head >> word;)
      words.push_back(word);
    try {
      tn::Tensor base = makeSource(words);
      tn::Tensor t = base;
      for (std::size_t i = 1; i < stages.size(); ++i) {
        std::istringstream stage(stages[i]);
        std::vector<std::string> opWords;
        for (std::string word; stage >> word;)
          opWords.push_back(word);
        t = applyOp(t, base, opWords);
      }
      tn::saveNpy(outDir + "/" + id + ".npy", t);
    } catch (const tn::Error &e) {
      std::ofstream err(outDir + "/" + id + ".err");
      err << (dynamic_cast<const tn::ShapeError *>(&e)   ? "ShapeError"
              : dynamic_cast<const tn::IndexError *>(&e) ? "IndexError"
              : dynamic_cast<const tn::ValueError *>(&e) ? "ValueError"
              : dynamic_cast<const tn::DTypeError *>(&e) ? "DTypeError"
              : dynamic_cast<const tn::IOError *>(&e)    ? "IOError"
                                                         : "Error")
          << "\n"
          << e.what() << "\n";
    }
    ++count;
  }
  std::cout << "ran " << count << " cases\n";
  return 0;
}
