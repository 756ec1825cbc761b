#include "core/table.h"

#include <algorithm>

#include "core/text.h"

namespace sy::core {
namespace {

// Cells hold ledger strings, which a damaged ledger, or rows another tool wrote, may fill with
// anything: a control character (an escape sequence's ESC, a CR that rewinds the line, a line
// break that splits the row) is printed as its escape.
std::vector<TableRow> PrintableRows(const std::vector<TableRow>& rows) {
  std::vector<TableRow> out;
  out.reserve(rows.size());
  for (const TableRow& cells : rows) {
    TableRow& printable = out.emplace_back();
    printable.reserve(cells.size());
    for (const std::string& cell : cells) printable.push_back(EscapeControlCharacters(cell));
  }
  return out;
}

std::string AlignedLine(const TableRow& cells, const std::vector<size_t>& widths,
                        size_t text_columns) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += "  ";
    const std::string pad(widths[i] - cells[i].size(), ' ');
    line += i < text_columns ? cells[i] + pad : pad + cells[i];
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\n";
}

std::string MarkdownCell(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::string out;
  for (char c : EscapeControlCharacters(text)) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string AlignedTable(const std::vector<TableRow>& given, TableStyle style) {
  const std::vector<TableRow> rows = PrintableRows(given);
  std::vector<size_t> widths;
  for (const TableRow& cells : rows) {
    if (widths.size() < cells.size()) widths.resize(cells.size(), 0);
    for (size_t i = 0; i < cells.size(); ++i) widths[i] = std::max(widths[i], cells[i].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (style.total_rule && r + 1 == rows.size() && !widths.empty()) {
      size_t rule = 2 * (widths.size() - 1);
      for (size_t w : widths) rule += w;
      out += std::string(rule, '-') + "\n";
    }
    out += AlignedLine(rows[r], widths, style.text_columns);
  }
  return out;
}

std::string MarkdownTable(const std::vector<TableRow>& rows, size_t text_columns) {
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    out += "|";
    for (const std::string& cell : rows[r]) out += " " + MarkdownCell(cell) + " |";
    out += "\n";
    if (r == 0) {
      out += "|";
      for (size_t i = 0; i < rows[0].size(); ++i) out += i < text_columns ? "---|" : "---:|";
      out += "\n";
    }
  }
  return out;
}

}  // namespace sy::core
